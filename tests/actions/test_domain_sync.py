"""The form's ask slots, the actions and the domain must agree with policy_kb's vocabulary."""
import re

import policy_kb
from policy_kb.tables import vocabulary

from actions import state
from actions.facts_actions import ASK_ACTIONS

from action_harness import ROOT


def test_ask_fields_are_the_fields_policy_kb_has_questions_for():
    with_question = {f for f, spec in vocabulary()["fields"].items() if spec.get("question")}
    assert set(state.ASK_FIELDS) == with_question
    assert set(state.STATUS_CODES) == set(policy_kb.status_labels())


def test_slot_names_round_trip_and_have_no_dots():
    for slot in state.ask_slots():
        assert "." not in slot
        assert state.slot_for(state.field_for(slot)) == slot
    assert state.slot_for("statuses.dibao") == "ask_status_dibao"
    assert state.field_for("ask_months_without_income") == "months_without_income"
    assert state.slot_for("statuses.nonsense") is None and state.slot_for("as_of") is None


def test_domain_declares_every_ask_slot_action_and_form_slot(domain):
    for slot in state.ask_slots():
        assert slot in domain["slots"]
        assert domain["slots"][slot]["influence_conversation"] is False
        assert f"action_ask_{slot}" in domain["actions"]
    assert domain["forms"]["facts_form"]["required_slots"] == state.ask_slots()
    assert set(ASK_ACTIONS) == set(state.ask_slots())
    assert domain["slots"]["facts"]["mappings"][0]["action"] == "action_extract_facts"


def test_every_response_an_action_names_exists(domain):
    named = set()
    for path in (ROOT / "actions").glob("*.py"):
        named |= set(re.findall(r'response="(utter_[a-z_]+)"', path.read_text(encoding="utf-8")))
    assert named, "actions speak through responses"
    assert named <= set(domain["responses"]), named - set(domain["responses"])


def test_actions_hold_no_policy_figures():
    # amounts, dates and thresholds come from policy_kb; the action code must not restate them
    forbidden = re.compile(r"(?<![\d.])(650|5520|1950|600|3000|2000|20000|2023|2022)(?![\d])")
    for path in (ROOT / "actions").glob("*.py"):
        assert not forbidden.search(path.read_text(encoding="utf-8")), path.name
