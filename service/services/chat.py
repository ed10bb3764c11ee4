"""A chat turn from any channel (REST now, WeChat later): forwarded to Rasa, always answered.

When Rasa (or the action server behind it) is down or answers nothing, the caller gets a safe
Chinese fallback pointing to the 12345 hotline, and an urgent message still opens a ticket here:
the service runs the fact extraction and the policy on the text itself.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service.core.errors import ApiError
from service.models.conversation import Conversation
from service.models.base import utcnow
from service.services import policy, tickets
from service.services.auth import Principal
from service.services.rasa import RasaClient, RasaUnavailable

log = logging.getLogger("service.chat")

FALLBACK_TEXT = ("抱歉，智能助手暂时无法回答您的问题。您可以直接拨打 12345 政务服务便民热线，"
                 "人工客服会为您解答社会救助政策。")
URGENT_FALLBACK_TEXT = ("我们已记录您的紧急情况（工单编号 {ticket_id}），已转给{where}民政部门，"
                        "工作人员会尽快与您联系。情况危急请立即拨打 12345 热线；遇到人身危险请拨打 110 或 120。")
URGENT_NO_TICKET_TEXT = ("您的情况很紧急。请立即拨打 12345 政务服务便民热线，说明您所在的县（市、区），"
                         "工作人员会马上为您联系当地民政部门；遇到人身危险请拨打 110 或 120。")

# The service's own ticket-opening identity when the bot cannot do it.
SERVICE_PRINCIPAL = Principal(username="service", role="agent")


@dataclass
class TurnResult:
    messages: list[dict]
    fallback: bool
    ticket_id: int | None = None


def record_turn(session: Session, *, sender: str, channel: str, message: str) -> tuple[dict, bool]:
    """Merge what this message says into the service's own record. Returns the facts so far and
    whether this very message reads as urgent."""
    try:
        extracted = policy.extract(message)
    except Exception:  # noqa: BLE001 - a bad extraction must not lose the turn
        log.exception("extraction failed", extra={"event": "chat.extraction_error"})
        extracted = None
    urgent_now = bool(extracted and (extracted.urgent_reason or extracted.facts.get("urgent")))
    for attempt in (1, 2):
        now = utcnow()
        # Take the row's write lock first (UPDATE), then read: turns of one sender that arrive
        # together are merged one after the other, none lost (SQLite and PostgreSQL alike).
        bumped = session.execute(update(Conversation).where(Conversation.sender == sender)
                                 .values(turns=Conversation.turns + 1, updated_at=now)).rowcount
        conv = session.get(Conversation, sender, populate_existing=True) if bumped else None
        facts = dict(conv.facts) if conv else {}
        if extracted is not None:
            facts = policy.merge_facts(facts, extracted.facts)
            if extracted.urgent_reason:
                facts["urgent"] = True
                facts["urgent_reason"] = extracted.urgent_reason
        if conv is None:
            conv = Conversation(sender=sender, channel=channel, facts=facts, turns=1,
                                created_at=now, updated_at=now)
            session.add(conv)
        conv.facts = facts
        conv.county = facts.get("county") if isinstance(facts.get("county"), str) else conv.county
        try:
            session.commit()
            break
        except IntegrityError:
            # Two first turns of one sender at once: the other created the row; merge into it.
            session.rollback()
            if attempt == 2:
                raise
    return facts, urgent_now


def _urgent(facts: dict, default_as_of: date | None) -> bool:
    try:
        clean = policy.validate_facts(facts)
        return bool(policy.evaluate(clean, default_as_of=default_as_of).get("urgent"))
    except ApiError:
        return bool(facts.get("urgent"))


def _open_urgent_ticket(session: Session, *, sender: str, message: str, facts: dict, channel: str,
                        sla_minutes: int):
    county = facts.get("county") if isinstance(facts.get("county"), str) else None
    try:
        clean = policy.validate_facts(facts)
    except ApiError:
        clean = {k: v for k, v in facts.items() if k in ("county", "urgent", "urgent_reason")}
    ticket, _ = tickets.create_ticket(
        session, actor=SERVICE_PRINCIPAL, urgent_reason=facts.get("urgent_reason") or message[:500],
        facts=clean, county=county, source=channel if channel in ("rest", "wechat") else "rest",
        conversation_id=sender, idempotency_key=None, sla_minutes=sla_minutes)
    return ticket


def handle_turn(session: Session, rasa: RasaClient, *, sender: str, message: str, channel: str,
                default_as_of: date | None, sla_minutes: int) -> TurnResult:
    """One chat turn for any channel: `channel` goes to Rasa as metadata {"channel": ...}."""
    facts, urgent_now = record_turn(session, sender=sender, channel=channel, message=message)
    try:
        messages = rasa.send_message(sender, message, {"channel": channel})
        answered = [m for m in messages if isinstance(m, dict) and (
            m.get("text") or m.get("image") or m.get("buttons") or m.get("custom"))]
        reason = "rasa answered nothing"
    except RasaUnavailable as exc:
        answered, reason = [], str(exc)

    if answered:
        # Rasa answered, but the bot opens tickets through the action server: if that is down,
        # an urgent message gets its ticket here (same conversation + reason = same ticket later).
        if urgent_now and not rasa.action_server_health().get("up", False):
            log.warning("action server down on an urgent turn: opening the ticket here",
                        extra={"event": "chat.urgent_without_actions", "channel": channel})
            try:
                ticket = _open_urgent_ticket(session, sender=sender, message=message, facts=facts,
                                             channel=channel, sla_minutes=sla_minutes)
            except Exception:  # noqa: BLE001
                session.rollback()
                log.exception("could not open urgent ticket", extra={"event": "chat.ticket_error"})
                return TurnResult(answered + [{"recipient_id": sender, "text": URGENT_NO_TICKET_TEXT}], True)
            county = ticket.county or "当地"
            return TurnResult(answered + [{"recipient_id": sender, "text": URGENT_FALLBACK_TEXT.format(
                ticket_id=ticket.id, where=county)}], fallback=True, ticket_id=ticket.id)
        return TurnResult(messages=answered, fallback=False)

    log.warning("chat fallback: %s", reason, extra={"event": "chat.fallback", "channel": channel})
    if not (urgent_now or _urgent(facts, default_as_of)):
        return TurnResult([{"recipient_id": sender, "text": FALLBACK_TEXT}], fallback=True)
    try:
        ticket = _open_urgent_ticket(session, sender=sender, message=message, facts=facts,
                                     channel=channel, sla_minutes=sla_minutes)
    except Exception:  # noqa: BLE001 - still answer the caller with the hotline number
        session.rollback()
        log.exception("could not open urgent ticket", extra={"event": "chat.ticket_error"})
        return TurnResult([{"recipient_id": sender, "text": URGENT_NO_TICKET_TEXT}], fallback=True)
    text = URGENT_FALLBACK_TEXT.format(ticket_id=ticket.id, where=ticket.county or "当地")
    return TurnResult([{"recipient_id": sender, "text": text}], fallback=True, ticket_id=ticket.id)
