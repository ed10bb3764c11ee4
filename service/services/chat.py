"""A chat turn from any channel (REST, WeChat): forwarded to Rasa, always answered.

When Rasa (or the action server behind it) is down or answers nothing, the caller gets a safe
Chinese fallback pointing to the 12345 hotline, and an urgent message still opens a ticket here:
the service runs the fact extraction and the policy on the text itself.

When the database is down the turn is not recorded (logged, rolled back) but still answered: the
facts and the urgency come from the message itself, Rasa (which has its own tracker store) still
gets the turn, and an urgent case is held (service/services/held_tickets.py) and its ticket opened
once the database answers again, exactly once. Every log line of a turn carries its conversation
id (service/core/logging.py: conversation_context). Failures are logged as type, masked first line
and place (service.core.db.describe_error / error_fields), never log.exception's text: SQLAlchemy's
carries the statement's parameters (the caller's words and facts), which no mask can recognise.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from service.core.db import describe_error, error_fields
from service.core.errors import ApiError
from service.core.logging import conversation_context
from service.models.base import utcnow
from service.models.conversation import Conversation
from service.models.ticket import TicketEvent
from service.services import held_tickets, policy, tickets
from service.services.auth import Principal
from service.services.rasa import RasaClient, RasaUnavailable

log = logging.getLogger("service.chat")

FALLBACK_TEXT = ("抱歉，智能助手暂时无法回答您的问题。您可以直接拨打 12345 政务服务便民热线，"
                 "人工客服会为您解答社会救助政策。")
URGENT_FALLBACK_TEXT = ("我们已记录您的紧急情况（工单编号 {ticket_id}），已转给{where}民政部门，"
                        "工作人员会尽快与您联系。情况危急请立即拨打 12345 热线；遇到人身危险请拨打 110 或 120。")
URGENT_NO_TICKET_TEXT = ("您的情况很紧急。请立即拨打 12345 政务服务便民热线，说明您所在的县（市、区），"
                         "工作人员会马上为您联系当地民政部门；遇到人身危险请拨打 110 或 120。")
# The database is down: the case is held and its ticket opened as soon as it is back.
URGENT_HELD_TEXT = ("我们已记录您的紧急情况，会尽快转给{where}民政部门，工作人员会与您联系。"
                    "情况危急请立即拨打 12345 热线；遇到人身危险请拨打 110 或 120。")
HELD_NOTE = ("数据库暂时不可用期间收到的紧急求助（{when} 北京时间），数据库恢复后由系统补开；"
             "首次处理时限从补开时起算。")
BEIJING = timezone(timedelta(hours=8))  # no daylight saving in China

# The service's own ticket-opening identity when the bot cannot do it.
SERVICE_PRINCIPAL = Principal(username="service", role="agent")


@dataclass
class TurnResult:
    messages: list[dict]
    fallback: bool
    ticket_id: int | None = None


def _extract(message: str, as_of: date | None = None):
    try:
        found = policy.read_message({}, message, as_of=as_of)[1]
        found.message, found.as_of = message, as_of
        return found
    except Exception as exc:  # noqa: BLE001 - a bad extraction must not lose the turn
        # Type, masked first line and place, not log.exception: its text may quote the message.
        log.error("extraction failed", extra={"event": "chat.extraction_error", **error_fields(exc)})
        return None


def _said_urgent(extracted) -> bool:
    return bool(extracted and (extracted.urgent_reason or extracted.facts.get("urgent")))


def _apply(facts: dict, extracted, case_file: dict | None = None) -> tuple[dict, dict | None]:
    """(`facts` updated with what this message says, the case file after it)."""
    if extracted is not None:
        # the case file's reading of the message against what the conversation holds already
        facts, _, case_file = policy.read_message(facts, extracted.message, as_of=extracted.as_of,
                                                  case_file=case_file)
        if extracted.urgent_reason:
            facts["urgent"] = True
            facts["urgent_reason"] = extracted.urgent_reason
    return facts, case_file


def _rollback(session: Session) -> None:
    try:
        session.rollback()
    except SQLAlchemyError:  # the connection is gone already: nothing to undo
        pass


def record_turn(session: Session, *, sender: str, channel: str, message: str) -> tuple[dict, bool]:
    """Merge what this message says into the service's own record. Returns the facts so far and
    whether this very message reads as urgent."""
    extracted = _extract(message)
    return _record(session, sender=sender, channel=channel, extracted=extracted), _said_urgent(extracted)


def _record(session: Session, *, sender: str, channel: str, extracted) -> dict:
    for attempt in (1, 2):
        now = utcnow()
        # Take the row's write lock first (UPDATE), then read: turns of one sender that arrive
        # together are merged one after the other, none lost (SQLite and PostgreSQL alike).
        bumped = session.execute(update(Conversation).where(Conversation.sender == sender)
                                 .values(turns=Conversation.turns + 1, updated_at=now)).rowcount
        conv = session.get(Conversation, sender, populate_existing=True) if bumped else None
        facts, case_file = _apply(dict(conv.facts) if conv else {}, extracted,
                                  conv.case_file if conv else None)
        if conv is None:
            conv = Conversation(sender=sender, channel=channel, facts=facts, turns=1,
                                created_at=now, updated_at=now)
            session.add(conv)
        conv.facts = facts
        conv.case_file = case_file
        conv.county = facts.get("county") if isinstance(facts.get("county"), str) else conv.county
        try:
            session.commit()
            break
        except IntegrityError:
            # Two first turns of one sender at once: the other created the row; merge into it.
            session.rollback()
            if attempt == 2:
                raise
    return facts


def _urgent(facts: dict, default_as_of: date | None) -> bool:
    try:
        clean = policy.validate_facts(facts)
        return bool(policy.evaluate(clean, default_as_of=default_as_of).get("urgent"))
    except ApiError:
        return bool(facts.get("urgent"))


def _clean_facts(facts: dict) -> dict:
    try:
        return policy.validate_facts(facts)
    except ApiError:
        return {k: v for k, v in facts.items() if k in ("county", "urgent", "urgent_reason")}


def _county(facts: dict) -> str | None:
    """Where the ticket goes: where the emergency is happening (measure 9), else the home county."""
    for key in ("emergency_county", "county"):
        if isinstance(facts.get(key), str):
            return facts[key]
    return None


def _open_urgent_ticket(session: Session, *, sender: str, reason: str, facts: dict, channel: str,
                        sla_minutes: int):
    """(ticket, created): the same conversation + reason gives back the ticket already opened."""
    return tickets.create_ticket(
        session, actor=SERVICE_PRINCIPAL, urgent_reason=reason, facts=_clean_facts(facts),
        county=_county(facts), source=channel if channel in ("rest", "wechat") else "rest",
        conversation_id=sender, idempotency_key=None, sla_minutes=sla_minutes)


def open_held_ticket(session: Session, case: dict) -> int:
    """Opens the ticket of a case held while the database was down (held_tickets.Opener)."""
    sender = case["conversation_id"]
    facts = dict(case.get("facts") or {})
    conv = session.get(Conversation, sender)
    if conv is not None and conv.facts:
        # What the caller said before the outage (the county, often) completes the case.
        facts = policy.merge_facts(dict(conv.facts), facts)
    facts["urgent"] = True
    facts["urgent_reason"] = case["urgent_reason"]
    ticket, created = _open_urgent_ticket(session, sender=sender, reason=case["urgent_reason"],
                                          facts=facts, channel=case.get("channel") or "rest",
                                          sla_minutes=int(case["sla_minutes"]))
    if created:
        held_at = datetime.fromisoformat(case["held_at"])
        # A history line, not a note through update_ticket: that would count as the first action.
        session.add(TicketEvent(ticket_id=ticket.id, actor=SERVICE_PRINCIPAL.username, action="note",
                                at=utcnow(), detail={
                                    "text": HELD_NOTE.format(when=held_at.astimezone(BEIJING)
                                                             .strftime("%Y-%m-%d %H:%M")),
                                    "held_at": case["held_at"]}))
        session.commit()
    return ticket.id


def _open_held(session: Session) -> None:
    """Cases held during an outage get their tickets on the first turn that reaches the
    database again (the background retry may be slower). Cheap when nothing is held."""
    try:
        spool = held_tickets.spool_for(session.get_bind().engine)
        if spool.pending():
            spool.drain(session, open_held_ticket)
    except SQLAlchemyError as exc:
        _rollback(session)
        log.info("held tickets wait: %s", describe_error(exc), extra={"event": "chat.held_retry"})
    except Exception as exc:  # noqa: BLE001 - the caller's own turn goes on
        _rollback(session)
        log.error("held tickets: opening failed", extra={"event": "chat.held_retry_error",
                                                         **error_fields(exc)})


def _hold(session: Session, *, sender: str, reason: str, facts: dict, channel: str,
          sla_minutes: int) -> None:
    engine = session.get_bind().engine
    case = {"conversation_id": sender, "channel": channel, "urgent_reason": reason, "facts": facts,
            "sla_minutes": sla_minutes, "held_at": utcnow().isoformat()}
    name = held_tickets.case_name(sender, tickets.reason_hash(reason))
    where = held_tickets.spool_for(engine).hold(case, name)
    log.warning("urgent ticket held until the database is back", extra={
        "event": "chat.urgent_held", "channel": channel, "held_in": where})
    held_tickets.retry_in_background(engine, open_held_ticket)


def _urgent_reply(session: Session, *, sender: str, message: str, facts: dict, channel: str,
                  sla_minutes: int, db_up: bool) -> tuple[str, int | None]:
    """Opens the urgent ticket (or holds it while the database is down): the text for the
    caller and the ticket id (None when held or failed)."""
    reason = facts.get("urgent_reason") or message[:500]
    if db_up:
        try:
            ticket, _ = _open_urgent_ticket(session, sender=sender, reason=reason, facts=facts,
                                            channel=channel, sla_minutes=sla_minutes)
            return URGENT_FALLBACK_TEXT.format(ticket_id=ticket.id, where=ticket.county or "当地"), ticket.id
        except SQLAlchemyError as exc:
            _rollback(session)
            log.warning("database unavailable while opening an urgent ticket: %s", describe_error(exc),
                        extra={"event": "chat.db_unavailable", "channel": channel})
        except Exception as exc:  # noqa: BLE001 - still answer the caller with the hotline number
            _rollback(session)
            log.error("could not open urgent ticket", extra={"event": "chat.ticket_error",
                                                             "channel": channel, **error_fields(exc)})
            return URGENT_NO_TICKET_TEXT, None
    try:
        _hold(session, sender=sender, reason=reason, facts=facts, channel=channel,
              sla_minutes=sla_minutes)
    except Exception as exc:  # noqa: BLE001
        log.error("could not hold urgent ticket", extra={"event": "chat.ticket_error",
                                                         "channel": channel, **error_fields(exc)})
        return URGENT_NO_TICKET_TEXT, None
    return URGENT_HELD_TEXT.format(where=_county(facts) or "当地"), None


def handle_turn(session: Session, rasa: RasaClient, *, sender: str, message: str, channel: str,
                default_as_of: date | None, sla_minutes: int) -> TurnResult:
    """One chat turn for any channel: `channel` goes to Rasa as metadata {"channel": ...}."""
    with conversation_context(sender, channel):
        return _turn(session, rasa, sender=sender, message=message, channel=channel,
                     default_as_of=default_as_of, sla_minutes=sla_minutes)


def _turn(session: Session, rasa: RasaClient, *, sender: str, message: str, channel: str,
          default_as_of: date | None, sla_minutes: int) -> TurnResult:
    extracted = _extract(message, default_as_of)
    urgent_now = _said_urgent(extracted)
    try:
        facts = _record(session, sender=sender, channel=channel, extracted=extracted)
        db_up = True
    except SQLAlchemyError as exc:
        # The caller is still answered; the facts and the urgency come from this message alone.
        _rollback(session)
        log.warning("database unavailable, turn not recorded: %s", describe_error(exc),
                    extra={"event": "chat.db_unavailable", "channel": channel})
        facts, db_up = _apply({}, extracted)[0], False
    if db_up:
        _open_held(session)

    try:
        messages = rasa.send_message(sender, message, {"channel": channel})
        answered = [m for m in messages if isinstance(m, dict) and (
            m.get("text") or m.get("image") or m.get("buttons") or m.get("custom"))]
        reason = "rasa answered nothing"
    except RasaUnavailable as exc:
        answered, reason = [], str(exc)

    if answered:
        # Rasa answered, but the bot opens tickets through the action server and the service's
        # database: if either is down, an urgent message gets its ticket here (or held until the
        # database is back; same conversation + reason = same ticket later).
        if urgent_now and (not db_up or not rasa.action_server_health().get("up", False)):
            if db_up:
                log.warning("action server down on an urgent turn: opening the ticket here",
                            extra={"event": "chat.urgent_without_actions", "channel": channel})
            text, ticket_id = _urgent_reply(session, sender=sender, message=message, facts=facts,
                                            channel=channel, sla_minutes=sla_minutes, db_up=db_up)
            return TurnResult(answered + [{"recipient_id": sender, "text": text}], fallback=True,
                              ticket_id=ticket_id)
        return TurnResult(messages=answered, fallback=False)

    log.warning("chat fallback: %s", reason, extra={"event": "chat.fallback", "channel": channel})
    if not (urgent_now or _urgent(facts, default_as_of)):
        return TurnResult([{"recipient_id": sender, "text": FALLBACK_TEXT}], fallback=True)
    text, ticket_id = _urgent_reply(session, sender=sender, message=message, facts=facts,
                                    channel=channel, sla_minutes=sla_minutes, db_up=db_up)
    return TurnResult([{"recipient_id": sender, "text": text}], fallback=True, ticket_id=ticket_id)
