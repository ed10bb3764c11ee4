"""The urgent path (measure 9, 先行救助，后补齐说明): open one ticket, tell the caller its number."""
from __future__ import annotations

import logging

from rasa_sdk.events import SlotSet

from actions import replies, state
from actions.tickets import get_ticket_client, idempotency_key, mask

logger = logging.getLogger(__name__)


def reason_for(tracker, facts: dict) -> str:
    """The caller's own words for the emergency (kept in Facts once extraction found them)."""
    return (facts.get("urgent_reason") or state.latest_text(tracker) or "来电人请求紧急救助").strip()


def already_ticketed(tracker, reason: str) -> str | None:
    tickets = tracker.get_slot("urgent_tickets") or {}
    return tickets.get(idempotency_key(tracker.sender_id, reason)) if isinstance(tickets, dict) else None


def pending(tracker, evaluation: dict, facts: dict) -> bool:
    """Urgent, and no ticket yet for this conversation and reason."""
    return bool(evaluation.get("urgent")) and not already_ticketed(tracker, reason_for(tracker, facts))


def open_ticket(dispatcher, tracker, facts: dict, reason: str) -> list:
    """Open (idempotently) the urgent ticket and tell the caller what happens next."""
    office = replies.office_for(facts, urgent=True)
    known = already_ticketed(tracker, reason)
    if known:
        dispatcher.utter_message(response="utter_urgent_already", ticket_id=known, office=office)
        return []
    try:
        ticket = get_ticket_client().open_ticket(
            conversation_id=tracker.sender_id, urgent_reason=reason, county=facts.get("emergency_county") or facts.get("county"),
            facts=facts, source=state.metadata_channel(tracker))
    except Exception as exc:  # noqa: BLE001 - the caller gets the hotline numbers regardless
        logger.error("urgent ticket not opened for conversation %s (reason %r): %s: %s",
                     mask(tracker.sender_id), mask(reason)[:80], type(exc).__name__, mask(str(exc)))
        dispatcher.utter_message(response="utter_urgent_no_ticket", office=office)
        return [SlotSet("ticket_failed", True)]
    ticket_id = str(ticket["id"])
    logger.info("urgent ticket %s opened for conversation %s", ticket_id, mask(tracker.sender_id))
    dispatcher.utter_message(response="utter_urgent_ticket", ticket_id=ticket_id, office=office)
    ids = list(tracker.get_slot("ticket_ids") or [])
    if ticket_id not in ids:
        ids.append(ticket_id)
    tickets = dict(tracker.get_slot("urgent_tickets") or {})
    tickets[idempotency_key(tracker.sender_id, reason)] = ticket_id
    events = [SlotSet("ticket_ids", ids), SlotSet("urgent_tickets", tickets), SlotSet("ticket_failed", False)]
    if not ticket.get("county"):
        waiting = list(tracker.get_slot("tickets_without_county") or [])
        events.append(SlotSet("tickets_without_county", [*waiting, reason]))
    return events


def complete_county(dispatcher, tracker) -> list:
    """Tickets opened before the caller said where they are go to that county's queue as soon as
    the county is known: the same case is reported again with it (the service fills in a county
    only where none was set) and the caller hears where it went."""
    waiting = tracker.get_slot("tickets_without_county") or []
    facts = state.current_facts(tracker)
    county = facts.get("county")
    if not waiting or not county:
        return []
    left = []
    for reason in waiting:
        try:
            ticket = get_ticket_client().open_ticket(
                conversation_id=tracker.sender_id, urgent_reason=reason, county=county, facts=facts,
                source=state.metadata_channel(tracker))
        except Exception as exc:  # noqa: BLE001 - try again on the next turn
            logger.error("county not added to the ticket of conversation %s: %s: %s",
                         mask(tracker.sender_id), type(exc).__name__, mask(str(exc)))
            left.append(reason)
            continue
        if ticket.get("county") == county:
            dispatcher.utter_message(response="utter_urgent_county_added", ticket_id=str(ticket["id"]),
                                     office=replies.office_for(facts, urgent=True))
    return [SlotSet("tickets_without_county", left)]


def county_first(tracker, fields: list[str], events: list | None = None) -> list[str]:
    """`fields` (ask_next) with the county first while an urgent ticket waits for it: the county
    office cannot help a caller it does not know is theirs. `events`: this run's events, which the
    tracker does not show yet."""
    waiting = tracker.get_slot("tickets_without_county") or any(
        e.get("event") == "slot" and e.get("name") == "tickets_without_county" and e.get("value")
        for e in events or [])
    if not waiting or (tracker.get_slot("facts") or {}).get("county"):
        return list(fields)
    return ["county"] + [f for f in fields if f != "county"]
