"""Any valid Facts yields all 20 measures, one of the five statuses, sane non-negative amounts."""
import json

from hypothesis import given, settings, strategies as st

import policy_kb
from policy_kb.tables import counties, status_labels

CODES = sorted(status_labels())
maybe = lambda s: st.none() | s  # noqa: E731


@st.composite
def facts(draw):
    held = draw(st.lists(st.sampled_from(CODES), unique=True, max_size=4))
    not_held = draw(st.lists(st.sampled_from([c for c in CODES if c not in held]), unique=True, max_size=4))
    out = {
        "as_of": draw(st.dates().map(lambda d: d.isoformat()).filter(lambda s: len(s) == 10)
                      | st.sampled_from(["2022-06-06", "2022-06-07", "2022-08-31", "2022-09-01", "2023-12-31", "2024-01-01"])),
        "county": draw(maybe(st.sampled_from([c.name for c in counties()] + [a for c in counties() for a in c.aliases]))),
        "residence": draw(maybe(st.sampled_from(["urban", "rural"]))),
        "household_size": draw(maybe(st.integers(1, 12))),
        "statuses": held,
        "not_statuses": not_held,
        "employment": draw(maybe(st.sampled_from(["unemployed_migrant_worker", "unemployed_graduate",
                                                  "failed_startup_graduate", "employed", "other"]))),
        "months_without_income": draw(maybe(st.integers(0, 60))),
        "medical_out_of_pocket": draw(maybe(st.floats(0, 1e7, allow_nan=False) | st.integers(0, 10**7))),
        "age": draw(maybe(st.integers(0, 120))),
        "urgent_reason": draw(maybe(st.text(max_size=20))),
    }
    for b in ("unemployment_insurance", "can_return_to_work", "covid_confirmed", "quarantined_member",
              "severe_disability", "severe_illness", "cannot_self_care", "reemployed", "rigid_expenses",
              "stranded", "urgent"):
        out[b] = draw(maybe(st.booleans()))
    return out


@settings(max_examples=400, deadline=None)
@given(facts())
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


@settings(max_examples=200, deadline=None)
@given(facts())
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


@settings(max_examples=400, deadline=None)
@given(facts())
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
_SAME_SIDE = {
    "age": st.sampled_from([(17, 3), (18, 59), (59, 18), (60, 95), (95, 60)]),
    "months_without_income": st.sampled_from([(3, 12), (2, 0), (0, 2), (12, 3)]),
    "medical_out_of_pocket": st.sampled_from([(20000, 48000.5), (19999, 0), (0.5, 19999.99), (48000, 20000)]),
    "urgent_reason": st.sampled_from([("没饭吃了", "房子塌了"), ("孩子病了{急}", "断粮")]),
}


@settings(max_examples=300, deadline=None)
@given(facts(), st.sampled_from(sorted(_SAME_SIDE)), st.data())
def test_households_on_the_same_side_of_every_line_share_decisions_but_quote_their_own_values(f, field, data):
    from policy_kb import evaluation
    first, second = data.draw(_SAME_SIDE[field])
    policy_kb.evaluate(dict(f, **{field: first}))  # the plan is now shared
    shared = policy_kb.evaluate(dict(f, **{field: second}))
    evaluation.MEMOIZE = False
    try:
        fresh = policy_kb.evaluate(dict(f, **{field: second}))
    finally:
        evaluation.MEMOIZE = True
    assert shared == fresh
