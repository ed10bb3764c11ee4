"""PostgreSQL for the test suites: reach the machine's server, start it if it is stopped.

Used by the service and WeChat suites' `postgres_url` fixtures; the caller skips loudly with
the returned reason when PostgreSQL cannot be had.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from contextlib import contextmanager

from sqlalchemy import create_engine, text

PG_ROOT = os.environ.get("HOTLINE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def pg_error(url: str = PG_ROOT) -> str | None:
    """None when PostgreSQL answers at `url`, else the first line of the error."""
    try:
        eng = create_engine(url, connect_args={"connect_timeout": 3})
        with eng.connect() as c:
            c.execute(text("SELECT 1"))
        eng.dispose()
        return None
    except Exception as exc:  # noqa: BLE001
        return f"{type(exc).__name__}: {exc}".splitlines()[0]


def ensure_postgres(url: str = PG_ROOT) -> str | None:
    """Like pg_error, but first tries to start a stopped Debian cluster."""
    error = pg_error(url)
    if error and shutil.which("pg_ctlcluster") and os.path.isdir("/etc/postgresql"):
        for version in sorted(os.listdir("/etc/postgresql")):
            subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"],
                           capture_output=True, timeout=60)
        error = pg_error(url)
    return error


@contextmanager
def migrated_schema(prefix: str, what: str):
    """A fresh schema on the machine's PostgreSQL with the service's migrations applied; yields its
    URL and drops it afterwards. Skips loudly (naming `what`) when PostgreSQL cannot be had."""
    import pytest

    from service.core.db import migrate

    error = ensure_postgres(PG_ROOT)
    if error:
        pytest.skip(f"!!! PostgreSQL at {PG_ROOT} NOT REACHABLE — {what} SKIPPED: {error}")
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ROOT)
    with admin.begin() as c:
        c.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = f"{PG_ROOT}?options=-csearch_path%3D{schema}"
    try:
        migrate(url)
        yield url
    finally:
        with admin.begin() as c:
            c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
