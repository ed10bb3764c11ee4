"""The case file and the derived facts: whole conversations, not single messages."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml

from extraction import since
from extraction.casefile import CaseFile, context_of
from extraction.derive import facts_of

CASES = yaml.safe_load((Path(__file__).with_name("casefile_cases.yaml")).read_text(encoding="utf-8"))
AS_OF = date(2022, 7, 1)


def _read(turns, as_of=AS_OF) -> CaseFile:
    case = CaseFile()
    for text in turns:
        case.add(text, as_of=as_of)
    return case


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_conversation(case):
    day = date.fromisoformat(str(case["as_of"])) if case.get("as_of") else AS_OF
    facts = _read(case["turns"], day).facts(day)
    for key, value in (case.get("facts") or {}).items():
        if isinstance(value, list):
            assert sorted(facts.get(key) or []) == sorted(value), (key, facts)
        else:
            assert facts.get(key) == value, (key, facts)
    for key in case.get("absent") or []:
        assert key not in facts, (key, facts)


def test_a_case_file_survives_its_slot_round_trip():
    case = _read(["我大伯在银川工地上干活", "工地停了", "从4月10号起没收入"])
    again = CaseFile.from_dict(case.to_dict())
    assert again.subject == "大伯" and again.turns == 3
    assert again.facts(AS_OF) == case.facts(AS_OF)
    assert again.facts(AS_OF)["months_without_income"] == 2


def test_the_same_message_read_twice_is_observed_once():
    case = CaseFile()
    case.add("我们家四口人", as_of=AS_OF, message_id="m1")
    before = len(case.observations)
    found = case.add("我们家四口人", as_of=AS_OF, message_id="m1")
    assert len(case.observations) == before and case.turns == 1
    assert found.facts["household_size"] == 4


def test_seeded_facts_are_the_start_and_later_words_correct_them():
    case = CaseFile.seeded({"county": "西吉县", "household_size": 3, "statuses": ["dibao"]})
    case.add("其实我们是五口人", as_of=AS_OF)
    facts = case.facts(AS_OF)
    assert facts["household_size"] == 5 and facts["county"] == "西吉县" and facts["statuses"] == ["dibao"]


def test_an_unknown_or_old_slot_value_starts_an_empty_case():
    assert CaseFile.from_dict({"version": 0, "observations": [1]}).observations == []
    assert CaseFile.from_dict(None).turns == 0


@pytest.mark.parametrize("text,words,expected", [
    ("不是工地停了", "工地停了", "negated"),
    ("要是工地停了咋办", "工地停了", "hypothetical"),
    ("以前在工地干活，后来回家了", "在工地干活", "historical"),
    ("好像工地停了", "工地停了", "uncertain"),
    ("工地停了", "工地停了", "affirmed"),
])
def test_context_of(text, words, expected):
    start = text.index(words)
    assert context_of(text, start, start + len(words)) == expected


@pytest.mark.parametrize("start,as_of,months", [
    (date(2022, 4, 10), date(2022, 7, 9), 2),
    (date(2022, 4, 10), date(2022, 7, 10), 3),
    (date(2021, 10, 1), date(2022, 7, 1), 9),
    (date(2022, 7, 1), date(2022, 7, 1), 0),
])
def test_whole_months(start, as_of, months):
    assert since.whole_months(start, as_of) == months


def test_a_start_date_is_never_after_the_day_asked_about():
    found = since.start_dates("从十月份开始没收入", date(2022, 7, 1))
    assert [s.day for s in found] == [date(2021, 10, 1)]
    assert since.start_dates("去年6月毕业", date(2022, 7, 1)) == []  # a calendar month opens no period


def test_facts_of_an_empty_case_are_empty():
    assert facts_of(CaseFile(), AS_OF) == {}
