"""The notification outbox on SQLite and PostgreSQL: same transaction as the ticket, retries
with backoff, dead letters, and restarts in the middle of a drain (at-least-once + dedupe key)."""
from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import select, text
from starlette.testclient import TestClient

from service.main import create_app
from service.models.base import utcnow
from service.models.outbox import OutboxMessage
from service.services.outbox import FakeNotifier, OutboxWorker
from tests.service.conftest import open_ticket, row_counts


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request):
    return request.getfixturevalue(f"{request.param}_url")


def messages(db):
    with db.sessionmaker() as s:
        return list(s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_notification_is_written_with_the_ticket_and_delivered(client, users, db, worker, notifier):
    tid = open_ticket(client, users["bot"]).json()["id"]
    [msg] = messages(db)
    assert msg.topic == "ticket.created" and msg.dedupe_key == f"ticket:{tid}:created"
    assert msg.state == "pending" and msg.payload["county"] == "西吉县"
    # Notifications leave the building: personal numbers masked in the payload.
    assert "642222199001011234" not in str(msg.payload) and "13812345678" not in str(msg.payload)
    assert worker.drain_once() == 1
    assert list(notifier.delivered) == [f"ticket:{tid}:created"]
    assert messages(db)[0].state == "sent" and messages(db)[0].sent_at is not None
    assert worker.drain_once() == 0  # nothing sent twice
    client.patch(f"/api/v1/tickets/{tid}", json={"status": "acknowledged"}, headers=users["xiji"])
    worker.drain_once()
    assert f"ticket:{tid}:status:acknowledged" in notifier.delivered


def test_a_rejected_change_writes_no_notification(client, users, db):
    tid = open_ticket(client, users["bot"]).json()["id"]
    before = row_counts(db)
    assert client.patch(f"/api/v1/tickets/{tid}", json={"status": "closed"},
                        headers=users["agent1"]).status_code == 422  # needs a note
    assert row_counts(db) == before


def test_failures_back_off_and_retry_then_go_dead(client, users, db, notifier):
    worker = OutboxWorker(db, notifier, max_attempts=3, backoff_seconds=10, lease_seconds=30)
    open_ticket(client, users["bot"])
    notifier.fail_next = 1
    t0 = utcnow()
    assert worker.drain_once(now=t0) == 0
    [msg] = messages(db)
    assert msg.state == "pending" and msg.attempts == 1 and "fake notifier" in msg.last_error
    assert msg.next_attempt_at >= t0 + timedelta(seconds=9)
    assert worker.drain_once(now=t0 + timedelta(seconds=5)) == 0  # not due yet
    assert len(notifier.received) == 1
    assert worker.drain_once(now=t0 + timedelta(seconds=11)) == 1
    assert messages(db)[0].state == "sent" and len(notifier.delivered) == 1

    open_ticket(client, users["bot"], conversation_id="other")
    notifier.fail_next = 99
    now = utcnow()
    for step in range(3):
        worker.drain_once(now=now + timedelta(hours=step))
    dead = messages(db)[1]
    assert dead.state == "dead" and dead.attempts == 3
    worker.drain_once(now=now + timedelta(days=1))
    assert messages(db)[1].attempts == 3  # a dead letter is not retried


class Crash(BaseException):
    """Stands for the process dying (not an Exception: the worker must not catch it)."""


class CrashAfterSend(FakeNotifier):
    def __init__(self, receiver: FakeNotifier):
        super().__init__()
        self.receiver = receiver

    def send(self, notification):
        self.receiver.send(notification)  # delivered…
        raise Crash()                     # …and the process dies before marking it sent


def test_crash_between_send_and_mark_does_not_deliver_twice(client, users, db, notifier):
    tid = open_ticket(client, users["bot"]).json()["id"]
    dying = OutboxWorker(db, CrashAfterSend(notifier), lease_seconds=30)
    t0 = utcnow()
    with pytest.raises(Crash):
        dying.drain_once(now=t0)
    [msg] = messages(db)
    assert msg.state == "pending" and msg.locked_by == dying.worker_id  # still leased
    restarted = OutboxWorker(db, notifier, lease_seconds=30)
    assert restarted.drain_once(now=t0 + timedelta(seconds=5)) == 0  # lease still held
    assert restarted.drain_once(now=t0 + timedelta(seconds=31)) == 1  # lease expired: resent
    assert messages(db)[0].state == "sent"
    assert len(notifier.received) == 2  # at least once…
    assert list(notifier.delivered) == [f"ticket:{tid}:created"]  # …delivered once by its key


def test_crash_after_claim_before_send_is_picked_up_after_restart(client, users, db, notifier):
    open_ticket(client, users["bot"])
    first = OutboxWorker(db, notifier, lease_seconds=30)
    t0 = utcnow()
    claimed = first._claim(t0)  # claimed, then the process died
    assert len(claimed) == 1 and notifier.received == []
    second = OutboxWorker(db, notifier, lease_seconds=30)
    assert second.drain_once(now=t0 + timedelta(seconds=31)) == 1
    assert len(notifier.delivered) == 1


def test_overdue_tickets_get_one_notice(client, users, db, worker, notifier):
    tid = open_ticket(client, users["bot"]).json()["id"]
    later = utcnow() + timedelta(minutes=31)
    worker.drain_once(now=later)
    worker.drain_once(now=later + timedelta(minutes=5))
    keys = [m.dedupe_key for m in messages(db)]
    assert keys.count(f"ticket:{tid}:overdue") == 1
    assert f"ticket:{tid}:overdue" in notifier.delivered
    # Acknowledged in time: no notice.
    t2 = open_ticket(client, users["bot"], conversation_id="c2").json()["id"]
    client.patch(f"/api/v1/tickets/{t2}", json={"status": "acknowledged"}, headers=users["xiji"])
    worker.drain_once(now=utcnow() + timedelta(hours=2))
    assert f"ticket:{t2}:overdue" not in notifier.delivered


def test_the_apps_worker_thread_drains_in_the_background(settings, db, fake_rasa, users):
    notifier = FakeNotifier()
    live = settings.model_copy(update={"outbox_enabled": True, "outbox_poll_seconds": 0.05})
    with TestClient(create_app(live, rasa=fake_rasa, notifier=notifier)) as c:
        tid = open_ticket(c, users["bot"]).json()["id"]
        deadline = time.monotonic() + 10
        while not notifier.delivered and time.monotonic() < deadline:
            time.sleep(0.05)
        assert f"ticket:{tid}:created" in notifier.delivered
        assert c.get("/healthz").json()["parts"]["outbox_worker"]["up"] is True
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT state FROM outbox")).scalar_one() == "sent"


def test_notifier_is_chosen_by_setting(settings):
    from service.main import make_notifier
    from service.services.outbox import LogNotifier

    assert isinstance(make_notifier(settings, LogNotifier), LogNotifier)
    s = settings.model_copy(update={"notifier": "tests.service.test_outbox:_factory"})
    assert isinstance(make_notifier(s, LogNotifier), FakeNotifier)
    with pytest.raises(ValueError, match="HOTLINE_NOTIFIER"):
        make_notifier(settings.model_copy(update={"notifier": "nonsense"}), LogNotifier)


def _factory(settings):
    return FakeNotifier()


def test_two_workers_never_lease_the_same_message(client, users, db, notifier):
    for i in range(5):
        open_ticket(client, users["bot"], conversation_id=f"two-{i}")
    a, b = OutboxWorker(db, notifier), OutboxWorker(db, notifier)
    now = utcnow()
    first, second = a._claim(now), b._claim(now)
    assert len(first) == 5 and second == []
    assert b._claim(now + timedelta(seconds=61)) != []  # after a's lease ran out
