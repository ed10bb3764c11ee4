"""Urgent tickets: creation (idempotent), status changes, notes, the paperwork checklist, SLA.

Every change appends a TicketEvent and, where someone must hear about it, an outbox message in
the same transaction.
"""
from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import Select, and_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from service.core.errors import ApiError
from service.core.privacy import mask_data, mask_text
from service.models.base import utcnow
from service.models.outbox import OutboxMessage
from service.models.ticket import STATUSES, Ticket, TicketEvent
from service.services.auth import Principal
from service.services.outbox import enqueue

# Allowed moves. Closing straight from open/acknowledged (false alarm, duplicate, help came
# from elsewhere) needs a note saying why.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "open": ("acknowledged", "closed"),
    "acknowledged": ("assisted", "closed"),
    "assisted": ("closed",),
    "closed": (),
}

# Measure 9, 先行救助，后补齐说明: help first, then collect what the file needs.
PAPERWORK = (
    ("id_proof", "身份证明（身份证或户口簿）"),
    ("written_application", "书面救助申请"),
    ("household_finances", "家庭经济状况说明（收入、财产情况及核对授权）"),
    ("assistance_record", "先行救助情况说明（救助时间、方式、金额，由经办人补写）"),
)


def reason_hash(reason: str) -> str:
    return hashlib.sha1(" ".join(reason.split()).encode("utf-8")).hexdigest()


def new_paperwork() -> list[dict]:
    return [{"code": code, "label": label, "done": False, "done_at": None, "done_by": None}
            for code, label in PAPERWORK]


def _event(ticket: Ticket, actor: str, action: str, detail: dict, at: datetime) -> TicketEvent:
    ev = TicketEvent(actor=actor, action=action, detail=detail, at=at)
    ticket.events.append(ev)
    return ev


def _notify(session: Session, ticket: Ticket, topic: str, key: str) -> None:
    # Notifications leave the building: only masked text in them; officers read the detail.
    enqueue(session, topic=topic, dedupe_key=key, payload={
        "ticket_id": ticket.id, "county": ticket.county, "status": ticket.status,
        "urgent_reason": mask_text(ticket.urgent_reason),
        "sla_due_at": ticket.sla_due_at.isoformat(), "source": ticket.source})


def _idempotency_conflict() -> ApiError:
    return ApiError(409, "Idempotency-Key 已用于另一个请求 / Idempotency-Key already used for a "
                    "different request", field="Idempotency-Key", type_="idempotency_conflict")


def _find_existing(session: Session, *, idempotency_key: str | None, conversation_id: str | None,
                   rhash: str) -> Ticket | None:
    if idempotency_key:
        t = session.scalar(select(Ticket).where(Ticket.idempotency_key == idempotency_key))
        if t is not None:
            if t.reason_hash != rhash or t.conversation_id != conversation_id:
                raise _idempotency_conflict()
            return t
    if conversation_id:
        return session.scalar(select(Ticket).where(Ticket.conversation_id == conversation_id,
                                                   Ticket.reason_hash == rhash))
    return None


def create_ticket(session: Session, *, actor: Principal, urgent_reason: str, facts: dict,
                  county: str | None, source: str, conversation_id: str | None,
                  idempotency_key: str | None, sla_minutes: int) -> tuple[Ticket, bool]:
    """(ticket, created). The same conversation + reason, or the same Idempotency-Key, gives
    back the ticket already opened. Commits."""
    rhash = reason_hash(urgent_reason)
    existing = _find_existing(session, idempotency_key=idempotency_key,
                              conversation_id=conversation_id, rhash=rhash)
    if existing is not None:
        if actor.role == "county" and not actor.can_see_county(existing.county):
            raise _idempotency_conflict()  # say nothing about another county's ticket
        if existing.county is None and county is not None and actor.role != "county":
            _complete_county(session, existing, county, facts, actor)
        return existing, False
    if actor.role == "county" and county != actor.county:
        # A county officer opens tickets for their own county only.
        raise ApiError(403, "县级账号只能为本县开单 / county officers open tickets for their own county",
                       field="county", type_="forbidden_county")
    now = utcnow()
    ticket = Ticket(created_at=now, updated_at=now, county=county, status="open",
                    urgent_reason=urgent_reason, reason_hash=rhash, facts=facts, source=source,
                    conversation_id=conversation_id, idempotency_key=idempotency_key,
                    created_by=actor.username, sla_due_at=now + timedelta(minutes=sla_minutes),
                    paperwork=new_paperwork())
    session.add(ticket)
    _event(ticket, actor.username, "created", {"status": "open", "source": source, "county": county}, now)
    try:
        session.flush()  # the id, for the notification
        _notify(session, ticket, "ticket.created", f"ticket:{ticket.id}:created")
        session.commit()
    except IntegrityError:
        # Lost a race with an identical request: the other one's ticket is the answer.
        session.rollback()
        existing = _find_existing(session, idempotency_key=idempotency_key,
                                  conversation_id=conversation_id, rhash=rhash)
        if existing is None:
            raise
        return existing, False
    return ticket, True


def _complete_county(session: Session, ticket: Ticket, county: str, facts: dict, actor: Principal) -> None:
    """The same case reported again, now with the county the first report lacked (an urgent
    caller says where they are after the ticket was opened): the ticket goes to that county's
    queue and the county is told. A county already set is never changed this way."""
    now = utcnow()
    _event(ticket, actor.username, "county", {"from": None, "to": county, "why": "来电人补充所在县（市、区）"}, now)
    ticket.county = county
    ticket.facts = {**facts, **(ticket.facts or {}), "county": county}
    ticket.updated_at = now
    _notify(session, ticket, "ticket.reassigned", f"ticket:{ticket.id}:county:{county}:completed")
    session.commit()


def visible_tickets(principal: Principal) -> Select:
    q = select(Ticket)
    if not principal.sees_everything:
        q = q.where(Ticket.county == principal.county) if principal.role == "county" else q.where(False)
    return q


def get_visible_ticket(session: Session, principal: Principal, ticket_id: int) -> Ticket:
    """The ticket, or 404 — also for another county's ticket (a 403 would confirm it exists)."""
    t = session.scalar(visible_tickets(principal).where(Ticket.id == ticket_id)
                       .options(selectinload(Ticket.events)))
    if t is None:
        raise ApiError(404, f"工单不存在 / ticket {ticket_id} not found", field="id", type_="not_found")
    return t


def is_overdue(ticket: Ticket, now: datetime) -> bool:
    if ticket.first_action_at is not None:
        return ticket.first_action_at > ticket.sla_due_at
    return ticket.status == "open" and now > ticket.sla_due_at


def update_ticket(session: Session, ticket: Ticket, *, actor: Principal, status: str | None = None,
                  note: str | None = None, paperwork: dict[str, bool] | None = None,
                  county: str | None = None, county_given: bool = False) -> Ticket:
    """Apply a PATCH; everything is checked before anything changes. Commits."""
    now = utcnow()
    if status is not None and status != ticket.status:
        if status not in STATUSES:
            raise ApiError(422, f"未知状态 / unknown status '{status}'", field="status")
        if status not in TRANSITIONS[ticket.status]:
            allowed = ", ".join(TRANSITIONS[ticket.status]) or "none"
            raise ApiError(409, f"不允许的状态变更 / illegal transition {ticket.status} → {status} "
                           f"(allowed from {ticket.status}: {allowed})", field="status",
                           type_="illegal_transition")
        if status == "closed" and ticket.status in ("open", "acknowledged") and not note:
            raise ApiError(422, f"未救助即关闭需要说明原因 / closing from {ticket.status} needs a note "
                           "saying why", field="note", type_="note_required")
    codes = {item["code"] for item in ticket.paperwork}
    for code in (paperwork or {}):
        if code not in codes:
            raise ApiError(422, f"不认识的补齐材料项 / unknown paperwork item '{code}' "
                           f"(known: {', '.join(sorted(codes))})", field=f"paperwork.{code}")
    if county_given:
        if actor.role == "county":
            raise ApiError(403, "县级账号不能转派工单 / county officers cannot reassign tickets",
                           field="county", type_="forbidden")

    acted = False
    if status is not None and status != ticket.status:
        old = ticket.status
        ticket.status = status
        if status == "closed":
            ticket.closed_at = now
        _event(ticket, actor.username, "status", {"from": old, "to": status}, now)
        _notify(session, ticket, "ticket.status_changed", f"ticket:{ticket.id}:status:{status}")
        acted = True
    if note:
        _event(ticket, actor.username, "note", {"text": note}, now)
        acted = True
    if paperwork:
        items = [dict(i) for i in ticket.paperwork]
        changed = {}
        for item in items:
            if item["code"] in paperwork and bool(paperwork[item["code"]]) != item["done"]:
                done = bool(paperwork[item["code"]])
                item.update(done=done, done_at=now.isoformat() if done else None,
                            done_by=actor.username if done else None)
                changed[item["code"]] = done
        if changed:
            ticket.paperwork = items  # a new list, so the JSON column is seen as changed
            _event(ticket, actor.username, "paperwork", changed, now)
    if county_given and county != ticket.county:
        _event(ticket, actor.username, "county", {"from": ticket.county, "to": county}, now)
        ticket.county = county
        _notify(session, ticket, "ticket.reassigned", f"ticket:{ticket.id}:county:{county}:{now.timestamp()}")
    if acted and ticket.first_action_at is None:
        ticket.first_action_at = now
    ticket.updated_at = now
    session.commit()
    return ticket


def enqueue_overdue(session: Session, now: datetime) -> int:
    """Outbox hook: one `ticket.overdue` notice per open ticket past its first-action deadline."""
    key = "ticket:" + Ticket.id.cast(OutboxMessage.dedupe_key.type) + ":overdue"
    rows = session.scalars(
        select(Ticket).outerjoin(OutboxMessage, OutboxMessage.dedupe_key == key)
        .where(and_(Ticket.status == "open", Ticket.first_action_at.is_(None),
                    Ticket.sla_due_at < now, OutboxMessage.id.is_(None)))
        .limit(200)).all()
    for t in rows:
        _notify(session, t, "ticket.overdue", f"ticket:{t.id}:overdue")
    return len(rows)


def ticket_view(ticket: Ticket, *, full: bool, now: datetime | None = None,
                with_history: bool = True) -> dict:
    """The Ticket JSON. `full=False` masks ID and mobile numbers (lists, other viewers)."""
    now = now or utcnow()
    clean = (lambda v: v) if full else mask_data
    out = {
        "id": ticket.id,
        "created_at": ticket.created_at.isoformat(),
        "updated_at": ticket.updated_at.isoformat(),
        "county": ticket.county,
        "status": ticket.status,
        "urgent_reason": clean(ticket.urgent_reason),
        "facts": clean(ticket.facts),
        "source": ticket.source,
        "conversation_id": ticket.conversation_id,
        "created_by": ticket.created_by,
        "sla_due_at": ticket.sla_due_at.isoformat(),
        "first_action_at": ticket.first_action_at.isoformat() if ticket.first_action_at else None,
        "closed_at": ticket.closed_at.isoformat() if ticket.closed_at else None,
        "overdue": is_overdue(ticket, now),
        "paperwork": ticket.paperwork,
        "paperwork_outstanding": [i["label"] for i in ticket.paperwork if not i["done"]],
        "masked": not full,
    }
    if with_history:
        out["history"] = [
            {"at": e.at.isoformat(), "actor": e.actor, "action": e.action, "detail": clean(e.detail)}
            for e in ticket.events]
    return out
