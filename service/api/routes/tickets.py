from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Header, Query, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import selectinload

from service.api.deps import PrincipalDep, SessionDep, SettingsDep, StaffDep
from service.core.errors import ApiError
from service.models.base import utcnow
from service.models.ticket import Ticket
from service.services import policy, tickets

router = APIRouter(prefix="/tickets", tags=["tickets"])

Status = Literal["open", "acknowledged", "assisted", "closed"]
Source = Literal["wechat", "rest", "copilot", "agent"]


class TicketIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    urgent_reason: str | None = Field(None, min_length=1, max_length=500,
                                      description="the caller's words; default: facts.urgent_reason")
    county: str | None = Field(None, description="canonical name or alias; default: facts.county")
    facts: dict[str, Any] = Field(default_factory=dict)
    source: Source | None = Field(None, description="default: rest for the bot, agent otherwise")
    conversation_id: str | None = Field(None, min_length=1, max_length=128)


class TicketPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: Status | None = None
    note: str | None = Field(None, min_length=1, max_length=2000)
    paperwork: dict[str, bool] | None = Field(None, description="item code → done")
    county: str | None = Field(None, description="reassign (admin and agent only)")


@router.get("")
def list_tickets(db: SessionDep, me: StaffDep, status: Status | None = None,
                 county: str | None = None, overdue: bool | None = None,
                 conversation_id: str | None = Query(None, max_length=128),
                 limit: int = Query(100, ge=1, le=500), offset: int = Query(0, ge=0)) -> list[dict]:
    """Tickets the caller may see (a county officer: their county only), newest first, masked."""
    q = tickets.visible_tickets(me)
    if status:
        q = q.where(Ticket.status == status)
    if county is not None:
        q = q.where(Ticket.county == policy.resolve_county(county))
    if conversation_id:
        q = q.where(Ticket.conversation_id == conversation_id)
    now = utcnow()
    if overdue is not None:
        late = (Ticket.first_action_at.is_(None) & (Ticket.status == "open") & (Ticket.sla_due_at < now)) | (
            Ticket.first_action_at.is_not(None) & (Ticket.first_action_at > Ticket.sla_due_at))
        q = q.where(late if overdue else ~late)
    rows = db.scalars(q.order_by(Ticket.id.desc()).limit(limit).offset(offset)
                      .options(selectinload(Ticket.events))).all()
    return [tickets.ticket_view(t, full=False, now=now) for t in rows]


@router.post("", status_code=201)
def create_ticket(body: TicketIn, response: Response, db: SessionDep, settings: SettingsDep,
                  me: PrincipalDep,
                  idempotency_key: str | None = Header(None, alias="Idempotency-Key", max_length=200)) -> dict:
    """Open an urgent ticket (bot, copilot or agent). The same conversation_id + urgent_reason,
    or a repeated Idempotency-Key, returns the ticket already opened (header Idempotent-Replayed)."""
    facts = policy.validate_facts(body.facts, prefix="facts")
    reason = (body.urgent_reason or facts.get("urgent_reason") or "").strip()
    if not reason:
        raise ApiError(422, "缺少必填字段 / missing field 'urgent_reason' (or facts.urgent_reason)",
                       field="urgent_reason", type_="missing")
    county = policy.resolve_county(body.county) if body.county is not None else facts.get("county")
    source = body.source or ("rest" if me.role == "bot" else "agent")
    ticket, created = tickets.create_ticket(
        db, actor=me, urgent_reason=reason, facts=facts,
        county=county, source=source, conversation_id=body.conversation_id,
        idempotency_key=idempotency_key or None, sla_minutes=settings.sla_first_action_minutes)
    if not created:
        response.headers["Idempotent-Replayed"] = "true"
    # The bot (and anyone who cannot see this county) gets the masked view.
    full = me.can_see_county(ticket.county)
    db.refresh(ticket, ["events"])
    return tickets.ticket_view(ticket, full=full)


@router.get("/{ticket_id}")
def read_ticket(ticket_id: int, db: SessionDep, me: StaffDep) -> dict:
    """Full detail (ID and phone numbers unmasked) for those allowed to see this ticket."""
    return tickets.ticket_view(tickets.get_visible_ticket(db, me, ticket_id), full=True)


@router.patch("/{ticket_id}")
def patch_ticket(ticket_id: int, body: TicketPatch, db: SessionDep, me: StaffDep) -> dict:
    """Change status (open → acknowledged → assisted → closed; illegal moves → 409), add a note,
    tick paperwork items, reassign county (admin/agent)."""
    ticket = tickets.get_visible_ticket(db, me, ticket_id)
    county_given = "county" in body.model_fields_set
    county = policy.resolve_county(body.county) if county_given and body.county is not None else None
    if not (body.status or body.note or body.paperwork or county_given):
        raise ApiError(422, "没有要修改的内容 / nothing to change: give status, note, paperwork or county",
                       type_="empty_patch")
    tickets.update_ticket(db, ticket, actor=me, status=body.status, note=body.note,
                          paperwork=body.paperwork, county=county, county_given=county_given)
    db.refresh(ticket, ["events"])
    return tickets.ticket_view(ticket, full=True)
