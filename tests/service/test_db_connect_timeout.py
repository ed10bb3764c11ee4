"""An unreachable PostgreSQL costs a few seconds, not psycopg's default of 130 s
(service/core/db.py: CONNECT_TIMEOUT_SECONDS, libpq's connect_timeout).

Two kinds of unreachable: a server that takes the TCP connection and then never says a word (what
a hung host or a half-open firewall looks like; on any machine it would hang for the full default),
and 10.255.255.1, the classic unroutable address (blackholed on most networks; where something
answers it at once the test still holds, it just proves less).
"""
from __future__ import annotations

import socket
import time

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import OperationalError

from service.core.db import CONNECT_TIMEOUT_SECONDS, Database, describe_error, make_engine


@pytest.fixture
def silent_server():
    """Accepts TCP connections (the kernel's backlog) and never answers the startup packet."""
    server = socket.create_server(("127.0.0.1", 0), backlog=16)
    yield server.getsockname()[1]
    server.close()


def _connect_seconds(url: str) -> tuple[float, OperationalError]:
    database = Database(url)
    started = time.monotonic()
    try:
        with pytest.raises(OperationalError) as caught:
            with database.engine.connect() as c:
                c.execute(text("SELECT 1"))
        return time.monotonic() - started, caught.value
    finally:
        database.dispose()


def test_a_server_that_never_answers_fails_after_the_connect_timeout(silent_server):
    elapsed, error = _connect_seconds(f"postgresql+psycopg://postgres@127.0.0.1:{silent_server}/test")
    # It is the timeout that ended it (not a refusal), and it ended it in a few seconds.
    assert CONNECT_TIMEOUT_SECONDS - 0.5 <= elapsed < CONNECT_TIMEOUT_SECONDS + 3, elapsed
    assert "timeout" in describe_error(error).lower()


def test_a_blackholed_address_fails_within_a_few_seconds():
    elapsed, _ = _connect_seconds("postgresql+psycopg://postgres@10.255.255.1:5432/test")
    assert elapsed < CONNECT_TIMEOUT_SECONDS + 3, elapsed


def test_a_connect_timeout_in_the_url_wins(silent_server):
    engine = make_engine(f"postgresql+psycopg://postgres@127.0.0.1:{silent_server}/test?connect_timeout=2")
    started = time.monotonic()
    with pytest.raises(OperationalError):
        engine.connect()
    assert 1.5 <= time.monotonic() - started < 2 + 3
    engine.dispose()


def test_explicit_connect_args_are_kept_beside_the_timeout():
    engine = make_engine("postgresql+psycopg://postgres@127.0.0.1:1/test",
                         connect_args={"application_name": "hotline-test"})
    seen: dict = {}

    @event.listens_for(engine, "do_connect")
    def _capture(dialect, conn_rec, cargs, cparams):
        seen.update(cparams)  # then the real connect: refused, port 1 is closed

    with pytest.raises(OperationalError):
        engine.connect()
    engine.dispose()
    assert seen["application_name"] == "hotline-test"
    assert seen["connect_timeout"] == CONNECT_TIMEOUT_SECONDS


def test_describe_error_keeps_the_statement_and_parameters_out():
    exc = OperationalError("INSERT INTO conversations (sender, facts) VALUES (%(s)s, %(f)s)",
                           {"s": "oSECRETopenid", "f": '{"urgent_reason": "家里断粮了"}'},
                           Exception("connection to 13812345678 failed\nDETAIL: Key (sender)=(oSECRETopenid)"))
    assert "oSECRETopenid" in str(exc) and "断粮" in str(exc)  # what SQLAlchemy's own text shows
    said = describe_error(exc)
    assert said == "OperationalError: connection to 138****5678 failed"
