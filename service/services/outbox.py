"""Transactional outbox: notifications are rows written with the change they report, and a
worker delivers them at least once.

Delivery: the worker leases a batch (locked_until), sends each through a `Notifier`, then marks
it sent. A crash before the mark leaves the lease to expire and the message is sent again with
the same `dedupe_key`; receivers drop repeats by that key (the fake does, a real channel passes
it on as its idempotency key). Failures back off exponentially; after `max_attempts` a message
is `dead` and logged as an error.
"""
from __future__ import annotations

import logging
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service.core.db import Database, describe_error, error_fields
from service.core.privacy import mask_data
from service.models.base import utcnow
from service.models.outbox import OutboxMessage

log = logging.getLogger("service.outbox")


@dataclass(frozen=True)
class Notification:
    dedupe_key: str
    topic: str
    payload: dict


class Notifier(Protocol):
    """Delivers one notification; raises on failure (the worker retries). Must treat a repeated
    `dedupe_key` as already delivered."""

    def send(self, notification: Notification) -> None: ...


class LogNotifier:
    """Default: writes the notification to the structured log (masked)."""

    def send(self, notification: Notification) -> None:
        log.info("notification %s", notification.topic,
                 extra={"event": "notify", "topic": notification.topic,
                        "dedupe_key": notification.dedupe_key,
                        "payload": mask_data(notification.payload)})


@dataclass
class FakeNotifier:
    """In-process receiver for tests: records every call, delivers each dedupe_key once, and can
    be told to fail the next N sends."""

    fail_next: int = 0
    received: list[Notification] = field(default_factory=list)
    delivered: dict[str, Notification] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def send(self, notification: Notification) -> None:
        with self._lock:
            self.received.append(notification)
            if self.fail_next > 0:
                self.fail_next -= 1
                raise ConnectionError("fake notifier told to fail")
            self.delivered.setdefault(notification.dedupe_key, notification)


def enqueue(session: Session, *, topic: str, payload: dict, dedupe_key: str) -> OutboxMessage:
    """Add a notification to the caller's transaction (committed or rolled back with it)."""
    msg = OutboxMessage(topic=topic, payload=payload, dedupe_key=dedupe_key)
    session.add(msg)
    return msg


class OutboxWorker:
    def __init__(self, db: Database, notifier: Notifier, *, max_attempts: int = 8,
                 backoff_seconds: float = 2.0, lease_seconds: float = 60.0, batch: int = 50,
                 poll_seconds: float = 2.0, hooks: list | None = None):
        self.db = db
        self.notifier = notifier
        self.max_attempts = max_attempts
        self.backoff = backoff_seconds
        self.lease = timedelta(seconds=lease_seconds)
        self.batch = batch
        self.poll_seconds = poll_seconds
        # Called with (session, now) before each drain, inside one transaction: e.g. the ticket
        # SLA check that enqueues overdue notices.
        self.hooks = list(hooks or [])
        self.worker_id = f"w-{uuid.uuid4().hex[:10]}"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- one pass ---------------------------------------------------------------------------
    def _claim(self, now: datetime) -> list[OutboxMessage]:
        """Lease due messages. The lease is a compare-and-set per row, so two workers (two
        service processes) never hold the same message at once, on SQLite as on PostgreSQL."""
        free = (OutboxMessage.state == "pending") & (OutboxMessage.next_attempt_at <= now) & (
            OutboxMessage.locked_until.is_(None) | (OutboxMessage.locked_until < now))
        with self.db.session() as s:
            q = select(OutboxMessage.id).where(free).order_by(OutboxMessage.id).limit(self.batch)
            if s.bind.dialect.name == "postgresql":
                q = q.with_for_update(skip_locked=True)
            ids = list(s.scalars(q))
            if not ids:
                return []
            s.execute(update(OutboxMessage).where(OutboxMessage.id.in_(ids), free)
                      .values(locked_until=now + self.lease, locked_by=self.worker_id))
            return list(s.scalars(select(OutboxMessage).where(
                OutboxMessage.id.in_(ids), OutboxMessage.locked_by == self.worker_id)
                .order_by(OutboxMessage.id)))

    def _backoff(self, attempts: int) -> timedelta:
        return timedelta(seconds=min(self.backoff * (2 ** (attempts - 1)), 600))

    def drain_once(self, now: datetime | None = None) -> int:
        """Deliver what is due; returns how many were sent in this pass."""
        now = now or utcnow()
        if self.hooks:
            for hook in self.hooks:
                try:
                    with self.db.session() as s:
                        hook(s, now)
                except IntegrityError:
                    pass  # another worker enqueued the same dedupe_key first
        sent = 0
        for msg in self._claim(now):
            note = Notification(msg.dedupe_key, msg.topic, msg.payload)
            try:
                self.notifier.send(note)
            except Exception as exc:  # noqa: BLE001 - any failure of the channel is retried
                attempts = msg.attempts + 1
                dead = attempts >= self.max_attempts
                with self.db.session() as s:
                    s.execute(update(OutboxMessage)
                              .where(OutboxMessage.id == msg.id, OutboxMessage.locked_by == self.worker_id)
                              .values(attempts=attempts, last_error=describe_error(exc)[:500],
                                      locked_until=None, locked_by=None,
                                      state="dead" if dead else "pending",
                                      next_attempt_at=now + self._backoff(attempts)))
                (log.error if dead else log.warning)(
                    "notification %s failed (attempt %d)", msg.dedupe_key, attempts,
                    extra={"event": "outbox.dead" if dead else "outbox.retry", "dedupe_key": msg.dedupe_key})
                continue
            with self.db.session() as s:
                s.execute(update(OutboxMessage)
                          .where(OutboxMessage.id == msg.id)
                          .values(state="sent", sent_at=utcnow(), attempts=msg.attempts + 1,
                                  locked_until=None, locked_by=None))
            sent += 1
        return sent

    # --- background thread -------------------------------------------------------------------
    def run_forever(self) -> None:
        while not self._stop.is_set():
            try:
                self.drain_once()
            except Exception as exc:  # noqa: BLE001 - the worker must outlive a bad pass (DB restart…)
                # Not log.exception: SQLAlchemy's text carries the parameters (a ticket's payload).
                log.error("outbox pass failed", extra={"event": "outbox.error", **error_fields(exc)})
            self._stop.wait(self.poll_seconds)

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self.run_forever, name="outbox-worker", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None


def pending_count(session: Session) -> int:
    from sqlalchemy import func

    return session.scalar(select(func.count()).select_from(OutboxMessage)
                          .where(OutboxMessage.state == "pending")) or 0


__all__ = ["Notification", "Notifier", "LogNotifier", "FakeNotifier", "enqueue", "OutboxWorker",
           "pending_count"]
