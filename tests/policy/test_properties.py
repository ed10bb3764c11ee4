"""Any valid Facts yields all 20 measures, one of the five statuses, sane non-negative amounts.

Runs in both environments: with hypothesis (the service's) households are drawn and shrunk by it;
the Rasa environment carries no hypothesis, so there the same tests run on seeded random households
drawn the same way (random_households.py)."""
import json

import pytest

import policy_kb
from policy_kb.tables import counties, status_labels

try:
    from hypothesis import given, settings, strategies as st
except ImportError:  # the Rasa environment (Python 3.10) has no hypothesis
    st = None

import random_households  # noqa: E402  (beside this file; pytest puts its folder on the path)

CODES = sorted(status_labels())
COUNTY_NAMES = [c.name for c in counties()] + [a for c in counties() for a in c.aliases]


def facts():
    maybe = lambda s: st.none() | s  # noqa: E731

    @st.composite
    def draw_facts(draw):
        held = draw(st.lists(st.sampled_from(CODES), unique=True, max_size=4))
        not_held = draw(st.lists(st.sampled_from([c for c in CODES if c not in held]), unique=True, max_size=4))
        out = {
            "as_of": draw(st.dates().map(lambda d: d.isoformat()).filter(lambda s: len(s) == 10)
                          | st.sampled_from(random_households.EDGE_DAYS)),
            "county": draw(maybe(st.sampled_from(COUNTY_NAMES))),
            "residence": draw(maybe(st.sampled_from(["urban", "rural"]))),
            "household_size": draw(maybe(st.integers(1, 12))),
            "statuses": held,
            "not_statuses": not_held,
            "employment": draw(maybe(st.sampled_from(random_households.EMPLOYMENT))),
            "months_without_income": draw(maybe(st.integers(0, 60))),
            "medical_out_of_pocket": draw(maybe(st.floats(0, 1e7, allow_nan=False) | st.integers(0, 10**7))),
            "age": draw(maybe(st.integers(0, 120))),
            "urgent_reason": draw(maybe(st.text(max_size=20))),
        }
        for b in random_households.BOOLEANS:
            out[b] = draw(maybe(st.booleans()))
        return out
    return draw_facts()


def for_households(n: int, *choices):
    """Run the test on `n` households (and one of each `choices` list per example)."""
    def wrap(fn):
        if st is not None:
            return settings(max_examples=n, deadline=None)(given(facts(), *(st.sampled_from(c) for c in choices))(fn))
        return random_households.parametrize(fn, n, CODES, COUNTY_NAMES, choices)
    return wrap


@for_households(400)
def test_any_valid_facts_yield_twenty_well_formed_measures(f):
    ev = policy_kb.evaluate(f)
    json.dumps(ev)
    assert [m["id"] for m in ev["measures"]] == list(range(1, 21))
    statuses = {m["status"] for m in ev["measures"]}
    assert statuses <= {"eligible", "not_eligible", "need_info", "info", "not_in_force"}
    if not ev["document"]["in_force"]:
        assert statuses == {"not_in_force"} and ev["ask_next"] == []
    for m in ev["measures"]:
        for a in m["amounts"]:
            assert a["value"] > 0 and a["per"] in ("person", "household", "case")
            assert a["frequency"] in ("once", "monthly", "yearly") and isinstance(a["at_least"], bool)
            assert a["total"] is None or a["total"] >= a["value"]
        if m["status"] != "eligible":
            assert m["amounts"] == []
        if m["status"] == "need_info":
            assert m["missing"], m
        for field in m["missing"]:
            assert field in ev["ask_next"]
    assert policy_kb.evaluate(f) == ev  # deterministic


@for_households(200)
def test_learning_a_fact_never_turns_a_known_answer_into_unknown(f):
    """Adding the first missing fact settles or keeps decisions; it never reopens a decided one."""
    ev = policy_kb.evaluate(f)
    if not ev["ask_next"] or not ev["ask_next"][0] in ("urgent", "covid_confirmed", "stranded", "quarantined_member"):
        return
    g = dict(f, **{ev["ask_next"][0]: False})
    ev2 = policy_kb.evaluate(g)
    for before, after in zip(ev["measures"], ev2["measures"]):
        if before["status"] in ("eligible", "not_eligible"):
            assert after["status"] != "need_info", (before, after)


@for_households(400)
def test_memoized_verdicts_equal_the_uncached_rules(f):
    """Each rule declares what it reads; a missed field would make two households share a verdict."""
    from policy_kb import evaluation
    cached = policy_kb.evaluate(f)
    evaluation.MEMOIZE = False
    try:
        fresh = policy_kb.evaluate(f)
    finally:
        evaluation.MEMOIZE = True
    assert cached == fresh


def test_callers_may_mutate_their_evaluation_without_touching_others():
    f = {"as_of": "2022-07-01", "statuses": ["dibao"], "residence": "urban", "household_size": 2}
    first = policy_kb.evaluate(f)
    first["measures"][0]["amounts"][0]["value"] = -1
    first["measures"][0]["reasons"].append("x")
    second = policy_kb.evaluate(f)
    assert second["measures"][0]["amounts"][0]["value"] == 600 and "x" not in second["measures"][0]["reasons"]


# Values on the same side of every line (ages 60 and 18, 3 months, 20000 yuan) share one decided
# plan; only the value quoted in the reasons differs. Pairs drawn close to the lines on purpose.
_SAME_SIDE = [(field, pair) for field, pairs in {
    "age": [(17, 3), (18, 59), (59, 18), (60, 95), (95, 60)],
    "months_without_income": [(3, 12), (2, 0), (0, 2), (12, 3)],
    "medical_out_of_pocket": [(20000, 48000.5), (19999, 0), (0.5, 19999.99), (48000, 20000)],
    "urgent_reason": [("没饭吃了", "房子塌了"), ("孩子病了{急}", "断粮")],
}.items() for pair in pairs]


@for_households(300, _SAME_SIDE)
def test_households_on_the_same_side_of_every_line_share_decisions_but_quote_their_own_values(f, same_side):
    from policy_kb import evaluation
    field, (first, second) = same_side
    policy_kb.evaluate(dict(f, **{field: first}))  # the plan is now shared
    shared = policy_kb.evaluate(dict(f, **{field: second}))
    evaluation.MEMOIZE = False
    try:
        fresh = policy_kb.evaluate(dict(f, **{field: second}))
    finally:
        evaluation.MEMOIZE = True
    assert shared == fresh


_FIELDS = set(policy_kb.facts_schema()["properties"]) - {"statuses", "not_statuses", "as_of"}


@for_households(300)
def test_missing_and_ask_next_name_facts_fields_or_statuses_codes(f):
    """Contract §2: an unknown status is asked as `statuses.<code>`; every other name is a Facts field,
    never one the household already gave."""
    ev = policy_kb.evaluate(f)
    given_fields = {k for k, v in f.items() if v is not None}
    decided = set(f["statuses"]) | set(f["not_statuses"])
    for name in ev["ask_next"] + [n for m in ev["measures"] for n in m["missing"]]:
        if name.startswith("statuses."):
            code = name.split(".", 1)[1]
            assert code in CODES and code not in decided, name
        else:
            assert name in _FIELDS and name not in given_fields, name
