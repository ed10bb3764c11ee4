from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.models.base import Base, utcnow

STATUSES = ("open", "acknowledged", "assisted", "closed")
SOURCES = ("wechat", "rest", "copilot", "agent")


class Ticket(Base):
    """An urgent case (measure 9: 先行救助，后补齐说明) for a county's civil-affairs office."""

    __tablename__ = "tickets"
    __table_args__ = (
        # Same conversation + same reason = same ticket (NULL conversation ids never collide).
        UniqueConstraint("conversation_id", "reason_hash"),
        Index("ix_tickets_county_status", "county", "status"),
        # The queue pages' order, counts and stats (migration web_0001).
        Index("ix_tickets_queue", "status", "created_at", "sla_due_at", "first_action_at"),
        Index("ix_tickets_county_queue", "county", "status", "created_at", "sla_due_at", "first_action_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    county: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="open")
    urgent_reason: Mapped[str] = mapped_column(Text)
    reason_hash: Mapped[str] = mapped_column(String(40))
    facts: Mapped[dict] = mapped_column(default=dict)
    source: Mapped[str] = mapped_column(String(16))
    conversation_id: Mapped[str | None] = mapped_column(String(128), index=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    created_by: Mapped[str] = mapped_column(String(64))
    sla_due_at: Mapped[datetime]
    first_action_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    # Measure 9's "paperwork later": [{code, label, done, done_at, done_by}]
    paperwork: Mapped[list] = mapped_column(default=list)

    events: Mapped[list[TicketEvent]] = relationship(
        back_populates="ticket", order_by="TicketEvent.id", cascade="save-update, merge",
        passive_deletes="all")


class TicketEvent(Base):
    """Append-only history of a ticket: who did what, when."""

    __tablename__ = "ticket_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    detail: Mapped[dict] = mapped_column(default=dict)

    ticket: Mapped[Ticket] = relationship(back_populates="events")


@event.listens_for(TicketEvent, "before_update")
@event.listens_for(TicketEvent, "before_delete")
def _history_is_append_only(_mapper, _conn, target):
    raise RuntimeError(f"ticket history is append-only (event {target.id})")
