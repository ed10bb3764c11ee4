"""§1–§2 over §4's POST /api/v1/policy/evaluate: open, Facts in, Evaluation out, 422 naming the
field for bad Facts."""
from __future__ import annotations

import json

import pytest

from tests.contract.conftest import AS_OF
from tests.contract.vocabulary import STATUS_CODES, check_evaluation, names_field

PATH = "/api/v1/policy/evaluate"


def evaluate(http, facts, **kw):
    return http.post(PATH, json=facts, **kw)


def test_empty_facts_is_open_and_has_the_whole_shape(http):
    r = evaluate(http, {})
    assert r.status_code == 200, r.text
    ev = r.json()
    check_evaluation(ev, as_of=AS_OF)  # HOTLINE_AS_OF is the default as_of
    assert ev["ask_next"], "nothing is known: something must be asked"
    assert ev["urgent"] is False


HOUSEHOLDS = [
    {"county": "西吉县", "residence": "rural", "household_size": 3, "statuses": ["dibao"],
     "medical_out_of_pocket": 23000},
    {"county": "兴庆区", "residence": "urban", "household_size": 1, "employment": "unemployed_migrant_worker",
     "months_without_income": 4, "unemployment_insurance": False, "can_return_to_work": False},
    {"county": "灵武市", "statuses": ["tekun"], "not_statuses": ["dibao"], "age": 82, "cannot_self_care": True},
    {"statuses": ["low_income_registered"], "household_size": 5, "covid_confirmed": True},
    {"residence": "urban", "statuses": ["dibao"], "quarantined_member": True},  # per-person, size unknown
    {"county": "原州区", "household_size": 2, "employment": "unemployed_graduate", "months_without_income": 7},
    {"urgent": True, "urgent_reason": "两天没吃饭了", "stranded": True, "household_size": 1},
]


@pytest.mark.parametrize("facts", HOUSEHOLDS)
def test_evaluation_shape_for_households(http, facts):
    r = evaluate(http, facts)
    assert r.status_code == 200, r.text
    check_evaluation(r.json(), as_of=AS_OF, facts=facts)


def test_per_person_amounts_total_by_household_size(http):
    facts = {"county": "西吉县", "residence": "rural", "household_size": 3, "statuses": ["dibao"]}
    ev = evaluate(http, facts).json()
    per_person = [a for m in ev["measures"] if m["status"] == "eligible" for a in m["amounts"] if a["per"] == "person"]
    assert per_person, "a dibao household of three is paid something per person"
    assert all(a["total"] == a["value"] * 3 for a in per_person), per_person


def test_unknown_status_is_named_statuses_code(http):
    # 我是低收入库里的: said nothing about dibao, which stays unknown.
    ev = evaluate(http, {"statuses": ["low_income_registered"]}).json()
    named = {n for m in ev["measures"] for n in m["missing"]} | set(ev["ask_next"])
    assert "statuses.dibao" in named, sorted(named)
    assert not any(n.startswith("not_statuses") for n in named)
    ev = evaluate(http, {"statuses": ["low_income_registered"], "not_statuses": ["dibao"]}).json()
    named = {n for m in ev["measures"] for n in m["missing"]} | set(ev["ask_next"])
    assert "statuses.dibao" not in named


def test_null_means_unknown_not_false(http):
    nulls = {"county": None, "household_size": None, "statuses": None, "not_statuses": None,
             "medical_out_of_pocket": None, "urgent": None, "as_of": None, "age": None}
    r = evaluate(http, nulls)
    assert r.status_code == 200, r.text
    assert r.json() == evaluate(http, {}).json()


def test_urgent_fact_makes_the_evaluation_urgent(http):
    assert evaluate(http, {"urgent": True}).json()["urgent"] is True
    assert evaluate(http, {"urgent": False}).json()["urgent"] is False


@pytest.mark.parametrize("as_of,in_force", [("2022-06-06", False), ("2022-06-07", True),
                                            ("2023-12-31", True), ("2024-01-01", False)])
def test_validity_is_inclusive(http, as_of, in_force):
    facts = {"as_of": as_of, "statuses": ["dibao"], "household_size": 2}
    ev = evaluate(http, facts).json()
    check_evaluation(ev, as_of=as_of, facts=facts)
    assert ev["document"]["in_force"] is in_force
    if not in_force:
        assert {m["status"] for m in ev["measures"]} == {"not_in_force"}


def test_county_alias_is_accepted(http):
    full = evaluate(http, {"county": "西吉县", "residence": "rural", "household_size": 2, "statuses": ["dibao"]})
    alias = evaluate(http, {"county": "西吉", "residence": "rural", "household_size": 2, "statuses": ["dibao"]})
    assert alias.status_code == 200, alias.text
    assert alias.json() == full.json()


BAD_FACTS = [
    ({"county": "朝阳区"}, "county"),
    ({"county": 42}, "county"),
    ({"statuses": ["dibao", "millionaire"]}, "statuses"),
    ({"not_statuses": ["nobody"]}, "not_statuses"),
    ({"statuses": "dibao"}, "statuses"),
    ({"employment": "astronaut"}, "employment"),
    ({"residence": "suburban"}, "residence"),
    ({"medical_out_of_pocket": -1}, "medical_out_of_pocket"),
    ({"medical_out_of_pocket": "lots"}, "medical_out_of_pocket"),
    ({"months_without_income": -2}, "months_without_income"),
    ({"months_without_income": 1.5}, "months_without_income"),
    ({"age": -1}, "age"),
    ({"household_size": 0}, "household_size"),
    ({"household_size": "three"}, "household_size"),
    ({"household_size": 2.5}, "household_size"),
    ({"household_size": True}, "household_size"),
    ({"as_of": "2022-13-01"}, "as_of"),
    ({"as_of": "2022/07/01"}, "as_of"),
    ({"as_of": "yesterday"}, "as_of"),
    ({"as_of": 20220701}, "as_of"),
    ({"urgent": "yes"}, "urgent"),
    ({"covid_confirmed": "是"}, "covid_confirmed"),
    ({"urgent_reason": 5}, "urgent_reason"),
]


@pytest.mark.parametrize("facts,field", BAD_FACTS, ids=[f"{f}:{json.dumps(v, ensure_ascii=False)}" for v, f in BAD_FACTS])
def test_bad_facts_are_422_naming_the_field(http, facts, field):
    r = evaluate(http, facts)
    assert r.status_code == 422, (r.status_code, r.text)
    assert names_field(r, field), r.text


@pytest.mark.parametrize("code", sorted(STATUS_CODES))
def test_code_in_both_statuses_and_not_statuses_is_422(http, code):
    r = evaluate(http, {"statuses": [code], "not_statuses": [code]})
    assert r.status_code == 422, r.text
    assert names_field(r, "statuses") or names_field(r, "not_statuses"), r.text
    assert code in r.text


@pytest.mark.parametrize("body", [b'{"county": "\xe8\xa5\xbf\xe5\x90\x89",', b"not json", b"", b"[1, 2]",
                                  b'"just a string"', b"null"])
def test_malformed_or_non_object_json_is_422(http, body):
    r = http.post(PATH, content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 422, (body, r.status_code, r.text)
    assert r.headers["content-type"].startswith("application/json")


@pytest.mark.parametrize("body", ['{"county": "西吉县"}'.encode("gbk"), b'{"x": ' + b"[" * 10_000 + b"]" * 10_000 + b"}"],
                         ids=["not-utf8", "nested-too-deep"])
def test_unparsable_json_is_422_like_any_malformed_json(http, body):
    r = http.post(PATH, content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 422, (r.status_code, r.text)
    assert r.headers["content-type"].startswith("application/json")


def test_huge_body_is_refused_without_a_crash(http):
    facts = {"urgent_reason": "急" * 2_000_000}
    r = evaluate(http, facts)
    assert r.status_code in (413, 422), r.status_code
    assert r.headers["content-type"].startswith("application/json")
    assert http.get("/healthz").status_code == 200  # and it still serves


@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8",
                                          "application/json;charset=UTF-8"])
def test_json_content_type_variants(http, content_type):
    body = json.dumps({"county": "西吉", "statuses": ["dibao"]}, ensure_ascii=False).encode()
    r = http.post(PATH, content=body, headers={"Content-Type": content_type})
    assert r.status_code == 200, (content_type, r.text)
    check_evaluation(r.json(), as_of=AS_OF, facts={"county": "西吉县", "statuses": ["dibao"]})


def test_non_json_content_type_is_refused_not_crashed(http):
    r = http.post(PATH, content=b"county=xiji", headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code in (415, 422), (r.status_code, r.text)
