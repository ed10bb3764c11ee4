"""Golden cases written from the policy text (cases/*.yaml), one test per case, named as a sentence.

Runs in both environments (service and Rasa): imports only pytest, PyYAML and policy_kb.
Keys a case may give: facts; measures {id: {status, amounts (same length, each a subset),
amounts_include, missing, missing_includes, missing_excludes, grants_include, no_means_test,
apply_at_includes}}; all_status; none_status; document; urgent; ask_next; ask_next_first;
ask_next_includes; ask_next_excludes; facts_out; apply_at_includes (some measure's apply_at).
"""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
import yaml

import policy_kb

CASES_DIR = Path(__file__).parent / "cases"


def _jsonable(value):
    """YAML reads 2022-06-07 as a date; callers send JSON strings."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


def _load():
    for path in sorted(CASES_DIR.glob("*.yaml")):
        for case in yaml.safe_load(path.read_text(encoding="utf-8")):
            yield pytest.param(_jsonable(case), id=f"{path.stem}: {case['name']}")


def _subset(expected: dict, actual: dict) -> bool:
    return all(actual.get(k) == v for k, v in expected.items())


@pytest.mark.parametrize("case", list(_load()))
def test_golden_case(case):
    ev = policy_kb.evaluate(case["facts"])
    json.dumps(ev, ensure_ascii=False)  # the evaluation is plain JSON
    by_id = {m["id"]: m for m in ev["measures"]}
    assert [m["id"] for m in ev["measures"]] == list(range(1, 21))
    for mid, exp in (case.get("measures") or {}).items():
        m = by_id[int(mid)]
        where = f"measure {mid}: {json.dumps(m, ensure_ascii=False)[:600]}"
        if "status" in exp:
            assert m["status"] == exp["status"], where
        if "amounts" in exp:
            assert len(m["amounts"]) == len(exp["amounts"]), where
            for e, a in zip(exp["amounts"], m["amounts"]):
                assert _subset(e, a), f"{e} not in {a}"
        for e in exp.get("amounts_include", []):
            assert any(_subset(e, a) for a in m["amounts"]), where
        if "missing" in exp:
            assert m["missing"] == exp["missing"], where
        for f in exp.get("missing_includes", []):
            assert f in m["missing"], where
        for f in exp.get("missing_excludes", []):
            assert f not in m["missing"], where
        for g in exp.get("grants_include", []):
            assert g in m["grants"], where
        if "no_means_test" in exp:
            assert m["no_means_test"] is exp["no_means_test"], where
        if "apply_at_includes" in exp:
            assert exp["apply_at_includes"] in m["apply_at"], where
    if "all_status" in case:
        assert {m["status"] for m in ev["measures"]} == {case["all_status"]}
    for status in case.get("none_status", []):
        assert all(m["status"] != status for m in ev["measures"]), status
    for k, v in (case.get("document") or {}).items():
        assert ev["document"][k] == v
    if "urgent" in case:
        assert ev["urgent"] is case["urgent"]
    if "ask_next" in case:
        assert ev["ask_next"] == case["ask_next"]
    if "ask_next_first" in case:
        assert ev["ask_next"][:1] == [case["ask_next_first"]], ev["ask_next"]
    for f in case.get("ask_next_includes", []):
        assert f in ev["ask_next"]
    for f in case.get("ask_next_excludes", []):
        assert f not in ev["ask_next"], ev["ask_next"]
    for k, v in (case.get("facts_out") or {}).items():
        assert ev["facts"][k] == v
    if "apply_at_includes" in case:
        assert any(case["apply_at_includes"] in m["apply_at"] for m in ev["measures"])
