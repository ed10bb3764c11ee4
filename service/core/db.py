"""Engine, sessions and migrations.

`Database` is created by `create_app()` (and the CLI, the supervisor, tests) from a URL; nothing
connects at import time. Alembic migrations under service/migrations are the only way the schema
changes; `migrate()` runs them to every head (other areas may add their own branch).

A PostgreSQL connection attempt gives up after CONNECT_TIMEOUT_SECONDS (libpq's `connect_timeout`;
a `connect_timeout` in HOTLINE_DATABASE_URL's query wins): without it an unreachable host holds a
chat turn for psycopg's default of 130 s, and a turn is supposed to be answered, database or not.
"""
from __future__ import annotations

import logging
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from service.core.privacy import mask_text

log = logging.getLogger("service.db")

# Whole seconds (libpq rounds down and treats less than 2 as 2). A healthy local or same-network
# PostgreSQL connects in milliseconds; 3 s leaves room for a slow start without a long hang.
CONNECT_TIMEOUT_SECONDS = 3


def make_engine(url: str, **kwargs) -> Engine:
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        if u.database and u.database != ":memory:":
            Path(u.database).parent.mkdir(parents=True, exist_ok=True)
        # Threads of the server share the pool; wait for a writer instead of failing at once.
        connect_args = {"check_same_thread": False, "timeout": 30}
        engine = create_engine(url, connect_args=connect_args, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            if u.database and u.database != ":memory:":
                cur.execute("PRAGMA journal_mode=WAL")  # readers do not block the writer
                cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    if u.get_backend_name() == "postgresql" and "connect_timeout" not in u.query:
        connect_args = {**kwargs.pop("connect_args", {})}
        connect_args.setdefault("connect_timeout", CONNECT_TIMEOUT_SECONDS)
        kwargs["connect_args"] = connect_args
    return create_engine(url, pool_pre_ping=True, **kwargs)


def describe_error(exc: BaseException) -> str:
    """An exception as a log may show it: its type and the driver's first line, masked.
    SQLAlchemy's own text adds the statement and its parameters (a caller's words, facts, openid),
    and a driver's later lines (DETAIL: Key (...)=(...)) repeat values: neither belongs in a log."""
    cause = getattr(exc, "orig", None) or exc
    first = (str(cause).strip().splitlines() or [""])[0][:200]
    return f"{type(exc).__name__}: {mask_text(first)}"


_SERVICE_DIR = str(Path(__file__).resolve().parents[1])


def error_fields(exc: BaseException) -> dict:
    """Log fields for an exception in place of log.exception(), whose traceback text carries the
    full message (SQL parameters included): `error` (describe_error) and `where` it was raised —
    a traceback's places, not its text: the innermost frames of the service's own code, then the
    innermost frame of all (in a library, often)."""
    frames = traceback.extract_tb(exc.__traceback__)
    own = [f for f in frames if f.filename.startswith(_SERVICE_DIR)][-3:]
    if frames and (not own or own[-1] is not frames[-1]):
        own.append(frames[-1])
    return {"error": describe_error(exc),
            "where": " < ".join(f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in reversed(own))}


class Database:
    def __init__(self, url: str, **engine_kwargs):
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on error (for scripts and workers)."""
        with self.sessionmaker() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def ping(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def dispose(self) -> None:
        self.engine.dispose()


def alembic_config(url: str):
    from alembic.config import Config

    ini = resources.files("service").joinpath("alembic.ini")
    cfg = Config(str(ini))
    cfg.set_main_option("script_location", str(resources.files("service").joinpath("migrations")))
    # '%' must be escaped for ConfigParser interpolation.
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def migrate(url: str, engine: Engine | None = None) -> None:
    """Bring the schema at `url` to every head revision."""
    from alembic import command

    cfg = alembic_config(url)
    if engine is not None:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "heads")
    else:
        command.upgrade(cfg, "heads")
    log.info("database migrated", extra={"event": "db.migrated"})
