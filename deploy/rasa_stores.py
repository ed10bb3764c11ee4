"""Rasa's stores as the production pool needs them (deploy/rasa/endpoints.yml uses both).

PingingSQLTrackerStore — Rasa's SQL tracker store with `pool_pre_ping`.

Rasa 3.6's SQLTrackerStore builds its engine without a liveness check, so after PostgreSQL restarts
(or drops connections) the first turn of each pooled connection fails; Rasa's fail-safe wrapper then
keeps that turn in the server's memory only and it is missing from the shared store afterwards
(tests/prod/test_faults.py showed it). Pinging a connection at checkout reconnects instead.

Loaded by Rasa as `deploy.rasa_stores.PingingSQLTrackerStore` (the repository root on PYTHONPATH);
everything else — tables, login_db, pool sizes (SQL_POOL_SIZE, SQL_MAX_OVERFLOW) — is Rasa's own.

AtomicRedisLockStore — Rasa's Redis ticket lock with every read-modify-write in a transaction.
Rasa 3.6's RedisLockStore reads the lock, changes it in Python and writes it back. Two servers
taking a ticket for the same conversation at the same moment both read "no lock", both get
ticket 0 and both go ahead: the two messages are handled at once, each on a tracker without the
other's facts (tests/prod/test_cluster.py caught a caller's household size lost this way in one
run out of three). Here each change runs under WATCH/MULTI and is retried when the key moved, so
tickets are unique and served in order across every server of the pool.

A ticket's lifetime (TICKET_LOCK_LIFETIME, 60 s) also ran while it waited in the queue: under a
peak, a message queued behind a few slow turns of the same caller expired before its turn and
was lost. Here a waiting server renews its ticket at every poll, so the lifetime only bounds a
server that stopped answering (crashed while waiting or while serving), as it should.
"""
from __future__ import annotations

import asyncio
import json
import time

import sqlalchemy as sa
from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs


class PingingSQLTrackerStore(SQLTrackerStore):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        url = self.engine.url  # the working database (after login_db created it)
        self.engine.dispose()
        self.engine = sa.create_engine(url, pool_pre_ping=True, **create_engine_kwargs(url))
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)


_DELETE = object()  # a change that removes the lock


class AtomicRedisLockStore(RedisLockStore):
    """Loaded by Rasa as `deploy.rasa_stores.AtomicRedisLockStore` with the same keys as `redis`."""

    def __init__(self, endpoint_config=None, **kwargs) -> None:
        if endpoint_config is not None:  # loaded from endpoints.yml by module path
            kwargs = {**endpoint_config.kwargs, "host": endpoint_config.url or "localhost", **kwargs}
        super().__init__(**kwargs)
        self._lifetimes: dict[tuple[str, int], float] = {}  # tickets this server waits on

    def _change(self, conversation_id: str, change):
        """Apply `change(lock or None) -> (result, new lock | None | _DELETE)` atomically."""
        key = self.key_prefix + conversation_id

        def transaction(pipe):
            raw = pipe.get(key)
            lock = TicketLock.from_dict(json.loads(raw)) if raw else None
            result, new = change(lock)
            pipe.multi()
            if new is _DELETE:
                pipe.delete(key)
            elif new is not None:
                pipe.set(key, new.dumps())
            return result

        return self.red.transaction(transaction, key, value_from_callable=True)

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        def take(lock):
            lock = lock or self.create_lock(conversation_id)
            return lock.issue_ticket(lock_lifetime), lock

        try:
            ticket = self._change(conversation_id, take)
        except Exception as exc:  # noqa: BLE001 - Rasa expects LockError
            raise LockError(f"Error while acquiring lock. Error:\n{exc}") from exc
        self._lifetimes[(conversation_id, ticket)] = lock_lifetime
        return ticket

    async def _acquire_lock(self, conversation_id: str, ticket: int, wait_time_in_seconds: float) -> TicketLock:
        lifetime = self._lifetimes.pop((conversation_id, ticket), LOCK_LIFETIME)

        def renew(lock):
            mine = next((t for t in lock.tickets if t.number == ticket), None) if lock else None
            if mine is None or mine.has_expired():
                return None, None  # gone: the caller gets Rasa's LockError
            mine.expires = time.time() + lifetime  # alive and waiting (or now served): not expired
            lock.remove_expired_tickets()  # servers that stopped answering leave the queue
            return lock, lock

        while True:
            lock = self._change(conversation_id, renew)
            if lock is None:
                raise LockError(f"Could not acquire lock for conversation_id '{conversation_id}'.")
            if not lock.is_locked(ticket):
                return lock
            await asyncio.sleep(wait_time_in_seconds)

    def update_lock(self, conversation_id: str) -> None:
        def expire(lock):
            if lock is None:
                return None, None
            lock.remove_expired_tickets()
            return None, lock

        self._change(conversation_id, expire)

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        def finish(lock):
            if lock is None:
                return None, None
            lock.remove_ticket_for(ticket_number)
            return None, lock

        self._change(conversation_id, finish)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        # Finishing and deleting in one step: in two, another server's fresh ticket could be
        # deleted between them.
        def finish_and_drop(lock):
            if lock is None:
                return None, None
            lock.remove_ticket_for(ticket_number)
            return None, (lock if lock.is_someone_waiting() else _DELETE)

        self._change(conversation_id, finish_and_drop)
