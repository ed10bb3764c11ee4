"""Delivery of answers that missed the passive-reply deadline: rows of `wechat_deliveries` sent
through the customer-service message API, in order, at least once, with backoff.

Each row is claimed by a conditional UPDATE (a lease), so several workers and processes never
send the same row at once, on SQLite and PostgreSQL alike. A transient failure backs off
exponentially; a permanent one (the caller unsubscribed, the 48-hour window closed) or
`max_attempts` failures make the row `dead` (logged as an error, kept for an operator).

The same worker also sweeps messages whose claiming worker died mid-answer (state `processing`
for longer than `abandon_after`): the caller is told to send the message again; and it forgets
what is no longer needed (personal data kept no longer than useful): claimed messages and held-back
answer parts after `RETENTION` (WeChat retries within seconds; the API's window to answer is 48
hours), sent deliveries after `SENT_RETENTION`. Dead deliveries stay for an operator.
"""
from __future__ import annotations

import logging
import threading
import uuid
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service.core.db import Database, describe_error, error_fields
from service.models.base import utcnow
from service.models.wechat import WeChatDelivery, WeChatInbound, WeChatMore
from service.services.wechat_api import WeChatApi, WeChatApiError
from service.services.wechat_text import split_text

log = logging.getLogger("service.wechat.delivery")

ABANDONED_TEXT = "抱歉，您刚才发送的消息没有处理完成，请再发送一次。"
RETENTION = timedelta(days=2)
SENT_RETENTION = timedelta(days=7)


def enqueue_delivery(session: Session, *, dedupe_key: str, openid: str, text: str,
                     now: datetime | None = None) -> WeChatDelivery:
    """Add the answer to the caller's transaction, cut into customer-service-sized parts."""
    now = now or utcnow()
    row = WeChatDelivery(dedupe_key=dedupe_key, openid=openid, parts=split_text(text),
                         parts_sent=0, state="pending", attempts=0, created_at=now,
                         next_attempt_at=now)
    session.add(row)
    return row


class DeliveryWorker:
    def __init__(self, db: Database, api: WeChatApi | None, *, max_attempts: int = 8,
                 backoff_seconds: float = 2.0, lease_seconds: float = 60.0,
                 poll_seconds: float = 2.0, abandon_after_seconds: float = 120.0, batch: int = 20):
        self.db = db
        self.api = api
        self.max_attempts = max_attempts
        self.backoff = backoff_seconds
        self.lease = timedelta(seconds=lease_seconds)
        self.poll_seconds = poll_seconds
        self.abandon_after = timedelta(seconds=abandon_after_seconds)
        self.batch = batch
        self.worker_id = f"wx-{uuid.uuid4().hex[:10]}"
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._next_forget = datetime.min.replace(tzinfo=timezone.utc)

    # --- one pass ---------------------------------------------------------------------------
    def _claim(self, now: datetime) -> list[int]:
        with self.db.session() as s:
            ids = list(s.scalars(
                select(WeChatDelivery.id)
                .where(WeChatDelivery.state == "pending", WeChatDelivery.next_attempt_at <= now,
                       or_(WeChatDelivery.locked_until.is_(None), WeChatDelivery.locked_until < now))
                .order_by(WeChatDelivery.id).limit(self.batch)))
        won = []
        for row_id in ids:
            # The lease is taken row by row with a conditional UPDATE: exactly one worker wins.
            with self.db.session() as s:
                res = s.execute(
                    update(WeChatDelivery)
                    .where(WeChatDelivery.id == row_id, WeChatDelivery.state == "pending",
                           or_(WeChatDelivery.locked_until.is_(None), WeChatDelivery.locked_until < now))
                    .values(locked_until=now + self.lease, locked_by=self.worker_id))
                if res.rowcount == 1:
                    won.append(row_id)
        return won

    def _backoff(self, attempts: int) -> timedelta:
        return timedelta(seconds=min(self.backoff * (2 ** (attempts - 1)), 600))

    def _deliver(self, row_id: int, now: datetime) -> bool:
        with self.db.sessionmaker() as s:
            row = s.get(WeChatDelivery, row_id)
            openid, parts, done, attempts = row.openid, list(row.parts), row.parts_sent, row.attempts
        try:
            while done < len(parts):
                self.api.send_text(openid, parts[done])
                done += 1
                with self.db.session() as s:  # progress survives a crash between parts
                    s.execute(update(WeChatDelivery).where(WeChatDelivery.id == row_id)
                              .values(parts_sent=done))
        except Exception as exc:  # noqa: BLE001 - any failure of the API is retried or dead-lettered
            attempts += 1
            permanent = isinstance(exc, WeChatApiError) and exc.permanent
            dead = permanent or attempts >= self.max_attempts
            with self.db.session() as s:
                s.execute(update(WeChatDelivery)
                          .where(WeChatDelivery.id == row_id, WeChatDelivery.locked_by == self.worker_id)
                          .values(attempts=attempts, last_error=describe_error(exc)[:500],
                                  locked_until=None, locked_by=None, state="dead" if dead else "pending",
                                  next_attempt_at=now + self._backoff(attempts)))
            (log.error if dead else log.warning)(
                "wechat delivery %s failed (attempt %d)%s", row_id, attempts,
                " permanently" if permanent else "",
                extra={"event": "wechat.delivery_dead" if dead else "wechat.delivery_retry",
                       "delivery_id": row_id, "error": describe_error(exc)})
            return False
        with self.db.session() as s:
            s.execute(update(WeChatDelivery).where(WeChatDelivery.id == row_id)
                      .values(state="sent", sent_at=utcnow(), attempts=attempts + 1,
                              locked_until=None, locked_by=None))
        log.info("wechat answer delivered", extra={"event": "wechat.delivered", "delivery_id": row_id,
                                                    "parts": len(parts)})
        return True

    def sweep_abandoned(self, now: datetime) -> int:
        """Messages whose worker died while answering: tell the caller to send them again."""
        with self.db.session() as s:
            stale = list(s.scalars(select(WeChatInbound).where(
                WeChatInbound.state == "processing",
                WeChatInbound.claimed_at < now - self.abandon_after).limit(50)))
        count = 0
        for msg in stale:
            try:
                with self.db.session() as s:
                    res = s.execute(update(WeChatInbound)
                                    .where(WeChatInbound.id == msg.id, WeChatInbound.state == "processing")
                                    .values(state="abandoned", reply_xml="success", answered_at=now))
                    if res.rowcount == 1 and self.api is not None:
                        enqueue_delivery(s, dedupe_key=f"abandoned:{msg.dedupe_key}", openid=msg.openid,
                                         text=ABANDONED_TEXT, now=now)
                        count += 1
            except IntegrityError:
                pass
        if count:
            log.warning("%d wechat messages abandoned by a dead worker", count,
                        extra={"event": "wechat.abandoned", "count": count})
        return count

    def forget_old(self, now: datetime) -> int:
        with self.db.session() as s:
            n = s.execute(delete(WeChatInbound).where(WeChatInbound.claimed_at < now - RETENTION,
                                                      WeChatInbound.state != "processing")).rowcount
            n += s.execute(delete(WeChatMore).where(WeChatMore.updated_at < now - RETENTION)).rowcount
            n += s.execute(delete(WeChatDelivery).where(WeChatDelivery.state == "sent",
                                                        WeChatDelivery.sent_at < now - SENT_RETENTION)).rowcount
        return n

    def drain_once(self, now: datetime | None = None) -> int:
        """Deliver what is due; returns how many rows were completely sent in this pass."""
        now = now or utcnow()
        self.sweep_abandoned(now)
        if now >= self._next_forget:
            self.forget_old(now)
            self._next_forget = now + timedelta(minutes=10)
        if self.api is None:
            return 0
        return sum(self._deliver(row_id, now) for row_id in self._claim(now))

    # --- background thread -------------------------------------------------------------------
    def wake(self) -> None:
        """Something was just enqueued: deliver now rather than at the next poll."""
        self._wake.set()

    def run_forever(self) -> None:
        while not self._stop.is_set():
            try:
                self.drain_once()
            except Exception as exc:  # noqa: BLE001 - outlive a bad pass (database restart…)
                # Not log.exception: SQLAlchemy's text carries the parameters (openids, answers).
                log.error("wechat delivery pass failed", extra={"event": "wechat.delivery_error",
                                                                **error_fields(exc)})
            self._wake.wait(self.poll_seconds)
            self._wake.clear()

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self.run_forever, name="wechat-delivery", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
