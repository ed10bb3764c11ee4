"""services/tickets.py without HTTP, each test in a transaction rolled back afterwards (SQLite
and PostgreSQL): creation, outbox rows in the same transaction, checks before changes, overdue
notices, visibility per role."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from service.core.errors import ApiError
from service.models.base import utcnow
from service.models.outbox import OutboxMessage
from service.models.ticket import Ticket, TicketEvent
from service.services.auth import Principal
from service.services.tickets import create_ticket, enqueue_overdue, update_ticket, visible_tickets

BOT = Principal("bot", "bot")
AGENT = Principal("agent1", "agent")
XIJI = Principal("xiji", "county", "西吉县")
YUANZHOU = Principal("yuanzhou", "county", "原州区")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request):
    return request.getfixturevalue(f"{request.param}_url")


def count(s, model):
    return s.scalar(select(func.count()).select_from(model))


def new(s, conversation="c1", reason="家里断粮了", county="西吉县", key=None, actor=BOT):
    return create_ticket(s, actor=actor, urgent_reason=reason, facts={"county": county} if county else {},
                         county=county, source="rest", conversation_id=conversation,
                         idempotency_key=key, sla_minutes=30)


@pytest.mark.parametrize("run", [1, 2])
def test_each_test_starts_empty(tx_session, run):
    # Run twice: the first run's rows were rolled back.
    assert count(tx_session, Ticket) == 0
    new(tx_session)
    assert count(tx_session, Ticket) == 1


def test_creation_writes_ticket_history_and_outbox_together(tx_session):
    t, created = new(tx_session)
    assert created and t.status == "open" and t.sla_due_at - t.created_at == timedelta(minutes=30)
    assert count(tx_session, TicketEvent) == 1 and count(tx_session, OutboxMessage) == 1
    again, created = new(tx_session, reason=" 家里断粮了 ")
    assert not created and again.id == t.id and count(tx_session, Ticket) == 1


def test_the_same_case_reported_again_with_its_county_goes_to_that_county_once(tx_session):
    t, _ = new(tx_session, conversation="c9", county=None)
    assert t.county is None and t.id not in [x.id for x in tx_session.scalars(visible_tickets(XIJI))]
    again, created = new(tx_session, conversation="c9", county="西吉县")
    assert not created and again.id == t.id and again.county == "西吉县" and again.facts["county"] == "西吉县"
    assert t.id in [x.id for x in tx_session.scalars(visible_tickets(XIJI))]  # now in 西吉县's queue
    events = [e for e in t.events if e.action == "county"]
    assert len(events) == 1 and events[0].detail["to"] == "西吉县"
    assert tx_session.scalar(select(func.count()).select_from(OutboxMessage)
                             .where(OutboxMessage.topic == "ticket.reassigned")) == 1
    # a county once set is never changed by a later report
    third, _ = new(tx_session, conversation="c9", county="原州区")
    assert third.county == "西吉县" and len([e for e in t.events if e.action == "county"]) == 1


def test_checks_come_before_any_change(tx_session):
    t, _ = new(tx_session)
    before = (count(tx_session, TicketEvent), count(tx_session, OutboxMessage), t.status)
    with pytest.raises(ApiError) as e:
        update_ticket(tx_session, t, actor=XIJI, status="acknowledged", paperwork={"nonsense": True})
    assert e.value.status_code == 422
    with pytest.raises(ApiError) as e:
        update_ticket(tx_session, t, actor=XIJI, status="assisted", note="先记一笔")
    assert e.value.status_code == 409 and "open → assisted" in e.value.detail
    tx_session.rollback()
    assert (count(tx_session, TicketEvent), count(tx_session, OutboxMessage), t.status) == before
    assert t.first_action_at is None


def test_a_note_is_a_first_action(tx_session):
    t, _ = new(tx_session)
    update_ticket(tx_session, t, actor=XIJI, note="已联系村委会送米面油")
    assert t.first_action_at is not None and t.status == "open"
    assert [e.action for e in t.events] == ["created", "note"]


def test_overdue_notice_once(tx_session):
    t, _ = new(tx_session)
    later = utcnow() + timedelta(minutes=45)
    assert enqueue_overdue(tx_session, later) == 1
    tx_session.commit()
    assert enqueue_overdue(tx_session, later) == 0
    keys = tx_session.scalars(select(OutboxMessage.dedupe_key)).all()
    assert f"ticket:{t.id}:overdue" in keys


def test_visibility_by_role(tx_session):
    a, _ = new(tx_session, conversation="a")
    b, _ = new(tx_session, conversation="b", county="原州区")
    c, _ = new(tx_session, conversation="c", county=None)
    ids = lambda p: set(tx_session.scalars(visible_tickets(p).with_only_columns(Ticket.id)))  # noqa: E731
    assert ids(AGENT) == {a.id, b.id, c.id}
    assert ids(XIJI) == {a.id} and ids(YUANZHOU) == {b.id}
    assert ids(BOT) == set()
    with pytest.raises(ApiError) as e:
        new(tx_session, conversation="d", county="原州区", actor=XIJI)
    assert e.value.status_code == 403
