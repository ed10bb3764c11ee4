"""Urgent tickets held while the database is down, opened once it is back — exactly once.

A caller in an emergency must not be lost because PostgreSQL (or the SQLite file) is unavailable:
`hold()` keeps the case, `drain()` opens its ticket when the database answers again (on the next
chat turn that reaches the database, and from a background retry that needs no further turn).

Why a file spool, not an in-process list: operators restart services during an outage (and
Docker's restart policy does it for them); a list in memory would lose the very cases the outage
produced. One JSON file per case under `var/held-tickets/<database>/` (the root is the setting
`held_tickets_dir`, HOTLINE_HELD_TICKETS_DIR: a volume in deploy/; create_app hands it over once
through configure()), written atomically (temp file, fsync, link). The sub-directory is named by
a hash of the database URL (password hidden): a spool is only ever drained into the database it
was meant for. A file is named by conversation + reason, so the same emergency said twice during
the outage is held once.

Exactly once: tickets.create_ticket gives back the ticket already opened for the same conversation
and reason (a unique key in the database), so a crash between opening the ticket and removing the
file, a replica sharing the directory, or the bot opening the same case later, still leave one
ticket; an exclusive flock keeps two drainers off the same file at the same time. When the
directory cannot be written (a read-only image), the case is held in this process's memory only,
and the log says so loudly (`chat.urgent_held_in_memory`).

The files hold what the ticket will hold (the caller's words, facts): they sit beside the SQLite
database under var/, directory 0700 and files 0600.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import threading
import time
import uuid
import weakref
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from service.core.config import Settings
from service.core.db import error_fields
from service.core.logging import conversation_context

log = logging.getLogger("service.chat")

ENV_DIR = "HOTLINE_HELD_TICKETS_DIR"  # Settings.held_tickets_dir
# Background retry: soon at first (an outage is often a restart), then every half minute.
RETRY_SECONDS = (1.0, 2.0, 5.0, 10.0, 30.0)

Opener = Callable[[Session, dict], int]  # opens the ticket of one held case, returns its id


def spool_root(settings: Settings | None = None) -> Path:
    """Settings.held_tickets_dir; unset, relative to where the service runs, like the default
    SQLite database (var/hotline.db). Without `settings`, read afresh from the environment: only
    for an engine that no app configured (scripts, tests); create_app hands its own once."""
    settings = settings or Settings()
    return settings.held_tickets_dir or Path.cwd() / "var" / "held-tickets"


def database_key(url) -> str:
    rendered = make_url(str(url)).render_as_string(hide_password=True)
    return hashlib.sha1(rendered.encode("utf-8")).hexdigest()[:12]


def case_name(conversation_id: str, reason_hash: str) -> str:
    return hashlib.sha1(f"{conversation_id}\n{reason_hash}".encode("utf-8")).hexdigest()[:24]


class HeldTickets:
    """The held cases of one database."""

    def __init__(self, directory: Path):
        self.directory = directory
        self._memory: dict[str, dict] = {}  # only when the directory cannot be written
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ holding
    def hold(self, case: dict, name: str) -> str:
        """Keep one case. Returns where: "file" or "memory"."""
        try:
            self._write(case, name)
            return "file"
        except OSError as exc:
            with self._lock:
                self._memory.setdefault(name, case)
            log.error("held ticket kept in memory only (lost if this process stops): %s %s",
                      type(exc).__name__, self.directory,
                      extra={"event": "chat.urgent_held_in_memory"})
            return "memory"

    def _write(self, case: dict, name: str) -> None:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        target = self.directory / f"{name}.json"
        if target.exists():
            return  # the same case is already held
        tmp = self.directory / f".{name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(case, fh, ensure_ascii=False)
                fh.flush()
                os.fsync(fh.fileno())
            try:
                os.link(tmp, target)  # appears whole or not at all; never replaces a held case
            except FileExistsError:
                pass
        finally:
            tmp.unlink(missing_ok=True)
        try:  # the new name itself must survive a crash
            dir_fd = os.open(self.directory, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        except OSError:
            pass

    # ------------------------------------------------------------------ opening
    def pending(self) -> int:
        with self._lock:
            in_memory = len(self._memory)
        try:
            return in_memory + sum(1 for _ in self.directory.glob("*.json"))
        except OSError:
            return in_memory

    def drain(self, session: Session, opener: Opener) -> list[int]:
        """Open every held case's ticket. Stops at the first database error (still down) and
        leaves that case and the rest held. Returns the ticket ids opened (or found)."""
        opened: list[int] = []
        with self._lock:
            names = list(self._memory)
        for name in names:
            with self._lock:
                case = self._memory.get(name)
            if case is None:
                continue
            ticket_id = self._open(session, opener, case)
            if ticket_id is not None:
                opened.append(ticket_id)
                with self._lock:
                    self._memory.pop(name, None)
        try:
            paths = sorted(self.directory.glob("*.json"))
        except OSError:
            paths = []
        for path in paths:
            try:
                fh = open(path, "rb")
            except FileNotFoundError:
                continue  # another drainer finished it
            with fh:
                try:
                    fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue  # another drainer is on it now
                if os.fstat(fh.fileno()).st_nlink == 0:
                    continue  # opened and removed while we waited
                try:
                    case = json.loads(fh.read().decode("utf-8"))
                except (ValueError, UnicodeDecodeError):
                    bad = path.with_suffix(".bad")
                    os.replace(path, bad)
                    log.error("unreadable held ticket set aside: %s", bad.name,
                              extra={"event": "chat.held_ticket_unreadable"})
                    continue
                ticket_id = self._open(session, opener, case)
                if ticket_id is not None:
                    opened.append(ticket_id)
                    path.unlink(missing_ok=True)
        return opened

    @staticmethod
    def _open(session: Session, opener: Opener, case: dict) -> int | None:
        """The ticket id; None when this case cannot be opened for another reason than the
        database (it stays held, is logged, and does not block the cases after it)."""
        with conversation_context(case.get("conversation_id") or "", case.get("channel")):
            try:
                ticket_id = opener(session, case)
            except SQLAlchemyError:
                session.rollback()
                raise
            except Exception as exc:  # noqa: BLE001
                session.rollback()
                log.error("held urgent ticket could not be opened", extra={
                    "event": "chat.held_ticket_error", "held_since": case.get("held_at"),
                    **error_fields(exc)})  # not log.exception: its text may carry the case
                return None
            log.warning("held urgent ticket opened: ticket %s", ticket_id, extra={
                "event": "chat.held_ticket_opened", "ticket_id": ticket_id,
                "held_since": case.get("held_at")})
            return ticket_id


_spools: dict[Path, HeldTickets] = {}
_retriers: dict[Path, threading.Thread] = {}
_registry_lock = threading.Lock()
# The spool of each engine an app configured; weak, so a disposed app's engine is not kept alive.
_configured: weakref.WeakKeyDictionary[Engine, HeldTickets] = weakref.WeakKeyDictionary()


def _spool_at(directory: Path) -> HeldTickets:
    with _registry_lock:
        spool = _spools.get(directory)
        if spool is None:
            spool = _spools[directory] = HeldTickets(directory)
        return spool


def configure(engine: Engine, settings: Settings) -> HeldTickets:
    """Called once by create_app: the cases of `engine` are held under the app's own
    settings.held_tickets_dir. A chat turn then finds its spool by the engine alone, without
    building Settings() (~0.7 ms) on every turn, and a Settings given in code is obeyed."""
    spool = _spool_at(spool_root(settings) / database_key(engine.url))
    with _registry_lock:
        _configured[engine] = spool
    return spool


def spool_for(engine: Engine) -> HeldTickets:
    spool = _configured.get(engine)
    if spool is not None:
        return spool
    return _spool_at(spool_root() / database_key(engine.url))


def retry_in_background(engine: Engine, opener: Opener) -> None:
    """One daemon thread per spool that opens the held tickets as soon as the database answers,
    without waiting for another caller; it ends when nothing is held any more."""
    spool = spool_for(engine)
    with _registry_lock:
        running = _retriers.get(spool.directory)
        if running is not None and running.is_alive():
            return
        thread = threading.Thread(target=_retry_loop, args=(spool, engine, opener), daemon=True,
                                  name="held-tickets")
        _retriers[spool.directory] = thread
        thread.start()


def _retry_loop(spool: HeldTickets, engine: Engine, opener: Opener) -> None:
    attempt = 0
    while True:
        time.sleep(RETRY_SECONDS[min(attempt, len(RETRY_SECONDS) - 1)])
        attempt += 1
        try:
            with Session(bind=engine, expire_on_commit=False) as session:
                spool.drain(session, opener)
        except SQLAlchemyError as exc:
            log.info("held tickets wait: database still unavailable (%s)", type(exc).__name__,
                     extra={"event": "chat.held_retry", "attempt": attempt})
        except Exception as exc:  # noqa: BLE001 - the thread must outlive a bad case; it logs and retries
            log.error("held tickets: retry failed", extra={"event": "chat.held_retry_error",
                                                           **error_fields(exc)})
        with _registry_lock:
            if spool.pending() == 0:
                _retriers.pop(spool.directory, None)
                return
