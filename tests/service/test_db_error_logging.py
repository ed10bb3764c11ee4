"""A database error whose parameters hold a caller's phone number and words never reaches a log
line: not from the chat turn, the outbox and WeChat delivery workers, nor an unhandled error of a
route on a live uvicorn. Each is logged as type, masked first line and place
(service.core.db.error_fields) instead of log.exception's traceback.

The errors are real: a statement executed on SQLite with the caller's data as its parameters,
raised as is or (where a path handles SQLAlchemy errors on their own) as the context of another
exception, which a traceback prints in full ("During handling of the above exception...").
"""
from __future__ import annotations

import json
import logging
import socket
import threading
import time

import httpx
import pytest
import uvicorn
from sqlalchemy import create_engine, text
from sqlalchemy.exc import SQLAlchemyError

from service.core.config import Settings
from service.core.db import describe_error, error_fields
from service.core.logging import JsonFormatter
from tests.log_support import JsonLines, capture_json_logs
from service.main import create_app
from service.services import chat
from service.services.chat import URGENT_NO_TICKET_TEXT, handle_turn
from service.services.outbox import FakeNotifier, OutboxWorker
from service.services.rasa import FakeRasa
from service.services.wechat_delivery import DeliveryWorker, enqueue_delivery
from tests.service.conftest import AS_OF, BOT_TOKEN, SECRET

PHONE = "13812345678"
WORDS = "王小明家里断粮三天了孩子一直在哭"  # a name without a cue and free text: no mask finds them
URGENT = "我在西吉县，已经两天没吃饭了，身上一分钱都没有，回不了家"

_scratch = create_engine("sqlite://")


def fail() -> None:
    """Raises a real SQLAlchemy error; its text shows [SQL: ...] and [parameters: (phone, words)]."""
    with _scratch.connect() as c:
        c.execute(text("INSERT INTO callers (phone, words) VALUES (:phone, :words)"),
                  {"phone": PHONE, "words": WORDS})


def fail_within() -> None:
    """A non-database error raised while handling the database error (its __context__)."""
    try:
        fail()
    except SQLAlchemyError:
        raise RuntimeError("could not go on")  # noqa: B904 - the implicit context is the point


class Lines(JsonLines):
    """Every record, formatted by the service's own JSON formatter."""

    def assert_clean(self) -> None:
        everything = "\n".join(self.raw)
        assert PHONE not in everything
        for part in (WORDS, WORDS[:3], WORDS[3:]):
            assert part not in everything
        assert "[parameters:" not in everything and "[SQL:" not in everything
        assert not any("exc" in line for line in self.lines)  # no traceback text at all


@pytest.fixture
def log_lines():
    with capture_json_logs(Lines()) as handler:
        yield handler


# ---------------------------------------------------------------- why: the formatter's mask
def test_the_formatters_mask_alone_would_print_the_words():
    """mask_text finds the phone but not a bare name or a sentence; the formatter therefore also
    drops SQLAlchemy's statement and parameters from any line that still renders them."""
    from service.core.privacy import mask_text

    try:
        fail()
    except SQLAlchemyError as exc:
        record = logging.LogRecord("t", logging.ERROR, __file__, 1, "x", (), (type(exc), exc, exc.__traceback__))
        as_message = logging.LogRecord("t", logging.ERROR, __file__, 1, "failed: %s", (exc,), None)
        fields = error_fields(exc)
        described = describe_error(exc)
        assert WORDS in mask_text(str(exc)) and PHONE not in mask_text(str(exc))
    for line in (json.loads(JsonFormatter().format(record))["exc"],
                 json.loads(JsonFormatter().format(as_message))["msg"]):
        assert WORDS not in line and PHONE not in line and "[parameters:" not in line
        assert "no such table: callers" in line and "[SQL and parameters removed]" in line
    # The shared helper keeps the type, the driver's first line and the place, nothing more.
    assert described == "OperationalError: no such table: callers"
    assert fields["error"] == described
    assert fields["where"].startswith("default.py:")  # the driver call (no service frame here)


def test_fail_within_carries_the_database_error_as_its_context():
    with pytest.raises(RuntimeError) as info:
        fail_within()
    assert isinstance(info.value.__context__, SQLAlchemyError)


# ---------------------------------------------------------------- chat turns
@pytest.fixture
def session(db):
    with db.sessionmaker() as s:
        yield s


def turn(session, message: str, sender: str = "s-1"):
    return handle_turn(session, FakeRasa(up=False), sender=sender, message=message, channel="rest",
                       default_as_of=AS_OF, sla_minutes=30)


def test_chat_extraction_error(session, monkeypatch, log_lines):
    monkeypatch.setattr(chat.policy, "read_message", lambda *_a, **_k: fail())  # the case-file reading
    result = turn(session, f"{WORDS}，电话{PHONE}")
    log_lines.assert_clean()
    assert result.fallback  # the caller is still answered
    [line] = log_lines.events("chat.extraction_error")
    assert line["level"] == "ERROR" and line["error"] == "OperationalError: no such table: callers"
    assert "chat.py" in line["where"] and line["conversation_id"] == "s-1"


def test_chat_ticket_error(session, monkeypatch, log_lines):
    monkeypatch.setattr(chat.tickets, "create_ticket", lambda *a, **k: fail_within())
    result = turn(session, URGENT)
    log_lines.assert_clean()
    assert result.messages[0]["text"] == URGENT_NO_TICKET_TEXT
    [line] = log_lines.events("chat.ticket_error")
    assert line["error"] == "RuntimeError: could not go on" and "chat.py" in line["where"]


def test_chat_held_retry_and_hold_errors(session, monkeypatch, log_lines):
    # Opening the ticket fails on the database (the case is to be held) and so does finding the
    # spool, first for the cases already held, then to hold this one.
    monkeypatch.setattr(chat.tickets, "create_ticket", lambda *a, **k: fail())
    monkeypatch.setattr(chat.held_tickets, "spool_for", lambda _engine: fail_within())
    result = turn(session, URGENT)
    log_lines.assert_clean()
    assert result.messages[0]["text"] == URGENT_NO_TICKET_TEXT
    [retry] = log_lines.events("chat.held_retry_error")
    [down] = log_lines.events("chat.db_unavailable")
    [hold] = log_lines.events("chat.ticket_error")
    assert retry["error"] == hold["error"] == "RuntimeError: could not go on"
    assert "_open_held" in retry["where"] and "_hold" in hold["where"]
    assert down["msg"].endswith("OperationalError: no such table: callers")


# ---------------------------------------------------------------- background workers
def first_line_of_running(worker, log_lines: Lines, event: str, seconds: float = 10.0) -> dict:
    """Runs `worker` in its thread until it logs `event`; the first such line (all lines clean)."""
    worker.start()
    try:
        end = time.monotonic() + seconds
        while not log_lines.events(event):
            if time.monotonic() > end:
                raise AssertionError(f"no {event} line")
            time.sleep(0.02)
    finally:
        worker.stop()
    log_lines.assert_clean()
    return log_lines.events(event)[0]


def test_outbox_pass_error(db, log_lines):
    # A hook runs inside the worker's pass, in its transaction: a database error there ends the pass.
    worker = OutboxWorker(db, FakeNotifier(), poll_seconds=0.05,
                          hooks=[lambda session, now: session.execute(
                              text("INSERT INTO callers (phone, words) VALUES (:phone, :words)"),
                              {"phone": PHONE, "words": WORDS})])
    line = first_line_of_running(worker, log_lines, "outbox.error")
    assert line["error"] == "OperationalError: no such table: callers"
    assert "outbox.py:" in line["where"] and line["where"].endswith(" run_forever")


class FailingApi:
    def send_text(self, openid: str, content: str) -> None:
        fail()

    def close(self) -> None:
        pass


def test_wechat_delivery_errors(db, log_lines):
    worker = DeliveryWorker(db, FailingApi(), poll_seconds=0.05, max_attempts=5)
    with db.session() as s:
        enqueue_delivery(s, dedupe_key="d-1", openid="oCaller", text=f"{WORDS}，电话{PHONE}")
    worker.drain_once()  # the API's failure is retried; its line shows the shared description
    log_lines.assert_clean()
    [retry] = log_lines.events("wechat.delivery_retry")
    assert retry["error"] == "OperationalError: no such table: callers"

    worker.sweep_abandoned = lambda now: fail()  # a database error in the pass itself
    line = first_line_of_running(worker, log_lines, "wechat.delivery_error")
    assert line["error"] == "OperationalError: no such table: callers"
    assert "wechat_delivery.py:" in line["where"] and line["where"].endswith(" run_forever")


# ---------------------------------------------------------------- an unhandled error on a live server
def test_unhandled_route_error_on_uvicorn(database_url, db, monkeypatch, log_lines):
    settings = Settings(database_url=database_url, as_of=AS_OF, secret_key=SECRET, bot_token=BOT_TOKEN,
                        outbox_enabled=False, run_migrations=False, admin_password=None,
                        supervisor_state_file=None)
    app = create_app(settings, rasa=FakeRasa())

    @app.get("/boom/{who}")
    def boom(who: str):
        fail()

    # Whatever an earlier uvicorn set up, its lines reach the root logger here.
    for name in ("uvicorn", "uvicorn.error"):
        monkeypatch.setattr(logging.getLogger(name), "propagate", True)
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None,
                                           access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        end = time.monotonic() + 20
        while not server.started:
            assert time.monotonic() < end, "uvicorn did not start"
            time.sleep(0.05)
        r = httpx.get(f"http://127.0.0.1:{port}/boom/{PHONE}", timeout=10)
        ok = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10)  # the server goes on
    finally:
        server.should_exit = True
        thread.join(30)
    log_lines.assert_clean()
    assert r.status_code == 500 and r.json()["errors"][0]["type"] == "internal"
    assert ok.status_code in (200, 503)
    [line] = log_lines.events("http.error")
    assert line["error"] == "OperationalError: no such table: callers"
    assert line["where"].startswith("default.py:") and "errors.py:" in line["where"]
    assert line["path"] == "/boom/138****5678"
    [access] = [x for x in log_lines.events("http.request") if x["path"].startswith("/boom/")]
    assert access["status"] == 500  # the middleware outside saw the 500 answered
    assert not any("Exception in ASGI application" in x["msg"] for x in log_lines.lines)
