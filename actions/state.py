"""Conversation state the actions share: the Facts slot, the form's ask slots, evaluation.

Slot names carry no dots, so a status question `statuses.dibao` is the slot `ask_status_dibao`
and a scalar field `months_without_income` is `ask_months_without_income`.
"""
from __future__ import annotations

import logging
from typing import Any

from actions import settings

logger = logging.getLogger(__name__)

# Facts fields the bot can ask about (those with a question in policy_kb/data/facts.yaml) and the
# status codes of contract §1. tests/actions/test_domain_sync.py checks both against policy_kb and
# against bot/domain, so the three cannot drift apart.
ASK_FIELDS = (
    "county", "residence", "household_size", "employment", "months_without_income",
    "unemployment_insurance", "can_return_to_work", "covid_confirmed", "quarantined_member",
    "medical_out_of_pocket", "severe_disability", "severe_illness", "cannot_self_care", "age",
    "reemployed", "rigid_expenses", "stranded", "urgent",
)
STATUS_CODES = (
    "dibao", "tekun", "dibao_marginal", "orphan_institutional", "orphan_scattered",
    "low_income_registered", "unstable_poverty_alleviated", "marginal_poverty_prone",
    "sudden_severe_difficulty", "vagrant", "elderly_allowance",
)
STATUS_PREFIX = "statuses."


def slot_for(field: str) -> str | None:
    """The form slot that asks about `field`, or None when the bot has no question for it."""
    if field.startswith(STATUS_PREFIX):
        code = field[len(STATUS_PREFIX):]
        return f"ask_status_{code}" if code in STATUS_CODES else None
    return f"ask_{field}" if field in ASK_FIELDS else None


def field_for(slot: str | None) -> str | None:
    if not slot:
        return None
    if slot.startswith("ask_status_"):
        code = slot[len("ask_status_"):]
        return STATUS_PREFIX + code if code in STATUS_CODES else None
    if slot.startswith("ask_"):
        field = slot[len("ask_"):]
        return field if field in ASK_FIELDS else None
    return None


def ask_slots() -> list[str]:
    return [f"ask_{f}" for f in ASK_FIELDS] + [f"ask_status_{c}" for c in STATUS_CODES]


def current_facts(tracker) -> dict:
    facts = tracker.get_slot("facts")
    return dict(facts) if isinstance(facts, dict) else {}


def case_file(tracker):
    """The conversation's case file (slot `case_file`); a conversation that has Facts but no case
    file yet (started before it existed) starts one from those Facts."""
    from extraction.casefile import CaseFile

    case = CaseFile.from_dict(tracker.get_slot("case_file"))
    if not case.observations and not case.turns:
        case = CaseFile.seeded(current_facts(tracker))
    return case


def evaluate(facts: dict) -> tuple[dict, dict]:
    """Evaluate `facts` on the configured day; a fact policy_kb rejects is dropped, not fatal.

    Returns (evaluation, the facts actually used). A caller's words may produce a value the
    rules refuse (a county outside Ningxia); the bot then treats it as unknown and asks again.
    """
    import policy_kb

    facts = {k: v for k, v in facts.items() if v is not None}
    day = settings.as_of()
    for _ in range(len(facts) + 1):
        try:
            return policy_kb.evaluate(facts, today=day), facts
        except policy_kb.InvalidFacts as exc:
            field = str(getattr(exc, "field", "") or "")
            top = field.split("[", 1)[0].split(".", 1)[0]
            if top not in facts:
                raise
            logger.warning("dropping a fact policy_kb rejected: %s", field)
            facts = {k: v for k, v in facts.items() if k != top}
    raise RuntimeError("could not evaluate the facts")


def metadata_channel(tracker) -> str:
    meta = (tracker.latest_message or {}).get("metadata") or {}
    channel = meta.get("channel") if isinstance(meta, dict) else None
    return channel if channel in ("rest", "wechat") else "rest"


def latest_text(tracker) -> str:
    text = (tracker.latest_message or {}).get("text") or ""
    # "/intent{...}" messages (buttons, tests) carry no words to extract from
    return "" if text.startswith("/") else text


def latest_intent(tracker) -> str | None:
    intent = (tracker.latest_message or {}).get("intent") or {}
    return intent.get("name")


def entity_values(tracker, entity: str) -> list[Any]:
    return [e.get("value") for e in (tracker.latest_message or {}).get("entities") or []
            if e.get("entity") == entity]
