"""The database goes away mid-conversation: callers are still answered (Rasa's answer or the
12345 fallback), urgent cases are held and get exactly one ticket once the database is back —
on the next turn, from the background retry, after a restart of the service — and every chat
log line names its conversation (masked).

Outages are real: PostgreSQL behind a TCP gate that refuses connections and cuts the open ones,
a SQLite file that is no longer there, PostgreSQL on a closed port.
"""
from __future__ import annotations

import hashlib
import json
import logging
import socket
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from starlette.testclient import TestClient

from service.core.config import Settings
from service.core.db import Database, migrate
from service.core.logging import conversation_id_var
from service.main import create_app
from service.models.ticket import Ticket
from service.services import held_tickets
from service.services.chat import (
    FALLBACK_TEXT,
    URGENT_HELD_TEXT,
    handle_turn,
)
from service.services.rasa import FakeRasa
from tests.log_support import capture_json_logs
from tests.outage_support import database_outage
from tests.service.conftest import AS_OF, BOT_TOKEN, SECRET, TABLES

URGENT = "我在西吉县，已经两天没吃饭了，身上一分钱都没有，回不了家"
WHO = {"Authorization": f"Bearer {BOT_TOKEN}"}


def _empty(url: str) -> None:
    database = Database(url)
    with database.engine.begin() as c:
        for table in TABLES:
            c.execute(text(f"DELETE FROM {table}"))
    database.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def outage(request, tmp_path):
    """(url, down(), up()) for a database the test can take away and give back."""
    pg = request.getfixturevalue("postgres_url") if request.param == "postgres" else None
    with database_outage(request.param, tmp_path, postgres_url=pg, clean=_empty) as o:
        yield o


@pytest.fixture
def spool_dir(tmp_path, monkeypatch) -> Path:
    d = tmp_path / "held"
    monkeypatch.setenv(held_tickets.ENV_DIR, str(d))
    # Slow background retries unless a test wants them: the next turn is under test.
    monkeypatch.setattr(held_tickets, "RETRY_SECONDS", (600.0,))
    return d


def held_files(spool_dir: Path) -> list[Path]:
    return sorted(spool_dir.glob("*/*.json"))


def make_app(url: str, rasa: FakeRasa):
    settings = Settings(database_url=url, as_of=AS_OF, secret_key=SECRET, bot_token=BOT_TOKEN,
                        outbox_enabled=False, run_migrations=False, admin_password=None,
                        supervisor_state_file=None)
    return create_app(settings, rasa=rasa)


def chat(client, sender, message):
    return client.post("/webhooks/rest/webhook", json={"sender": sender, "message": message})


def tickets_of(url: str, sender: str) -> list[Ticket]:
    database = Database(url)
    with database.sessionmaker() as s:
        rows = s.query(Ticket).filter(Ticket.conversation_id == sender).order_by(Ticket.id).all()
        for t in rows:
            _ = list(t.events)
    database.dispose()
    return rows


@pytest.fixture
def log_lines():
    with capture_json_logs() as handler:
        yield handler.lines


# ---------------------------------------------------------------- answered while it is down
def test_a_turn_is_answered_by_rasa_and_the_fallback_while_the_database_is_down(outage, spool_dir,
                                                                                log_lines):
    rasa = FakeRasa()
    app = make_app(outage.url, rasa)
    outage.engines.append(app.state.db.engine)
    with TestClient(app) as client:
        assert chat(client, "d1", "我住在西吉").status_code == 200
        outage.down()
        try:
            started = time.monotonic()
            r = chat(client, "d1", "家里4口人，是低保户")
            assert r.status_code == 200
            assert r.json() == [{"recipient_id": "d1", "text": "收到：家里4口人，是低保户"}]
            assert rasa.calls[-1] == ("d1", "家里4口人，是低保户", {"channel": "rest"})  # Rasa still heard it
            rasa.up = False
            r = chat(client, "d1", "我能领什么")
            assert r.status_code == 200 and r.json() == [{"recipient_id": "d1", "text": FALLBACK_TEXT}]
            assert time.monotonic() - started < 10  # the outage adds no long hang
        finally:
            outage.up()
        assert held_files(spool_dir) == []  # nothing urgent: nothing held
    down = [line for line in log_lines if line.get("event") == "chat.db_unavailable"]
    assert len(down) == 2 and all(line["conversation_id"] == "d1" for line in down)
    assert all("[SQL" not in line["msg"] and "西吉" not in line["msg"] for line in down)


def test_closed_database_port_does_not_hang_a_turn(spool_dir):
    """The engine points at a port nobody listens on: refused at once, answered at once."""
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    database = Database(f"postgresql+psycopg://postgres@127.0.0.1:{port}/test")
    rasa = FakeRasa(up=False)
    started = time.monotonic()
    with database.sessionmaker() as session:
        result = handle_turn(session, rasa, sender="closed-1", message=URGENT, channel="rest",
                             default_as_of=AS_OF, sla_minutes=30)
    assert time.monotonic() - started < 5
    assert [m["text"] for m in result.messages] == [URGENT_HELD_TEXT.format(where="西吉县")]
    assert result.fallback and result.ticket_id is None
    [held] = held_files(spool_dir)
    case = json.loads(held.read_text(encoding="utf-8"))
    # The facts come from the message itself: the county, the urgency, the caller's words.
    assert case["facts"]["county"] == "西吉县" and case["facts"]["urgent"] is True
    assert case["conversation_id"] == "closed-1" and case["channel"] == "rest"
    assert oct(held.stat().st_mode & 0o777) == "0o600"
    database.dispose()


# ---------------------------------------------------------------- urgent: held, then exactly one
def test_an_urgent_case_is_held_and_opened_once_on_the_next_turn(outage, spool_dir, log_lines):
    rasa = FakeRasa(up=False)
    app = make_app(outage.url, rasa)
    outage.engines.append(app.state.db.engine)
    with TestClient(app) as client:
        outage.down()
        try:
            r = chat(client, "h1", URGENT)
            assert r.status_code == 200
            [reply] = r.json()
            assert reply["text"] == URGENT_HELD_TEXT.format(where="西吉县")
            assert "已记录" in reply["text"] and all(n in reply["text"] for n in ("12345", "110", "120"))
            # Said again during the outage, and once more with Rasa answering: still one case.
            chat(client, "h1", URGENT)
            rasa.up = True
            r = chat(client, "h1", URGENT)
            assert [m["text"] for m in r.json()] == [f"收到：{URGENT}", URGENT_HELD_TEXT.format(where="西吉县")]
            assert len(held_files(spool_dir)) == 1
            assert tickets_of_down(outage)  # the database really is unreachable
        finally:
            outage.up()
        # The database is back: somebody else's ordinary turn opens the held ticket.
        assert chat(client, "h2", "你好").status_code == 200
        assert held_files(spool_dir) == []
        [t] = tickets_of(outage.url, "h1")
        assert t.county == "西吉县" and t.source == "rest" and t.created_by == "service"
        assert t.facts["urgent"] is True and t.status == "open"
        assert [e.action for e in t.events] == ["created", "note"]
        assert "数据库暂时不可用" in t.events[1].detail["text"] and t.events[1].detail["held_at"]
        assert t.first_action_at is None  # the note is no first action: the SLA clock runs
        # The caller repeats it (Rasa down), then the bot opens "its" ticket: the same one.
        rasa.up = False
        r = chat(client, "h1", URGENT)
        assert f"工单编号 {t.id}" in r.json()[0]["text"]
        key = "h1:" + hashlib.sha1(t.urgent_reason.encode()).hexdigest()
        r = client.post("/api/v1/tickets", headers={**WHO, "Idempotency-Key": key}, json={
            "county": "西吉县", "urgent_reason": t.urgent_reason, "facts": {"county": "西吉县"},
            "source": "rest", "conversation_id": "h1"})
        assert r.status_code == 201 and r.json()["id"] == t.id
        assert len(tickets_of(outage.url, "h1")) == 1
    held = [line for line in log_lines if line.get("event") == "chat.urgent_held"]
    opened = [line for line in log_lines if line.get("event") == "chat.held_ticket_opened"]
    assert len(held) == 3 and {line["conversation_id"] for line in held} == {"h1"}
    assert len(opened) == 1 and opened[0]["conversation_id"] == "h1" and opened[0]["ticket_id"] == t.id


def tickets_of_down(outage) -> bool:
    database = Database(outage.url)
    try:
        with database.engine.connect() as c:
            c.execute(text("SELECT count(*) FROM tickets"))
        return False
    except Exception:  # noqa: BLE001
        return True
    finally:
        database.dispose()


def test_the_background_retry_opens_a_held_case_without_another_turn(outage, spool_dir, monkeypatch):
    monkeypatch.setattr(held_tickets, "RETRY_SECONDS", (0.2,))
    rasa = FakeRasa(up=False)
    app = make_app(outage.url, rasa)
    outage.engines.append(app.state.db.engine)
    with TestClient(app) as client:
        outage.down()
        try:
            assert chat(client, "bg1", URGENT).status_code == 200
            time.sleep(1.0)  # a few retries fail meanwhile; the thread keeps trying
            assert len(held_files(spool_dir)) == 1
        finally:
            outage.up()
        deadline = time.monotonic() + 15
        while held_files(spool_dir) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert held_files(spool_dir) == []
        [t] = tickets_of(outage.url, "bg1")
        assert t.county == "西吉县"
        spool = held_tickets.spool_for(app.state.db.engine)
        deadline = time.monotonic() + 5
        while spool.directory in held_tickets._retriers and time.monotonic() < deadline:
            time.sleep(0.1)
        assert spool.directory not in held_tickets._retriers  # it ends when nothing is held


def test_what_was_said_before_the_outage_completes_the_held_ticket(outage, spool_dir):
    rasa = FakeRasa(up=False)
    app = make_app(outage.url, rasa)
    outage.engines.append(app.state.db.engine)
    with TestClient(app) as client:
        chat(client, "b1", "我住在原州区，家里三口人")
        outage.down()
        try:
            r = chat(client, "b1", "家里断粮了，孩子饿得直哭")
            assert r.json()[0]["text"] == URGENT_HELD_TEXT.format(where="当地")
        finally:
            outage.up()
        chat(client, "b1", "还在吗")
    [t] = tickets_of(outage.url, "b1")
    assert t.county == "原州区" and t.facts["household_size"] == 3 and t.facts["urgent"] is True


def test_held_cases_survive_a_restart_and_a_crash_after_opening(tmp_path, spool_dir):
    """A fresh process finds the files; a file left behind after its ticket was opened (a crash
    before the removal) opens nothing new."""
    url = f"sqlite:///{tmp_path / 'r.db'}"
    migrate(url)
    database = Database(url)
    spool = held_tickets.spool_for(database.engine)
    from service.services.chat import open_held_ticket
    from service.services.tickets import reason_hash

    case = {"conversation_id": "r1", "channel": "wechat", "urgent_reason": "家里断粮了",
            "facts": {"county": "西吉县", "urgent": True, "urgent_reason": "家里断粮了"},
            "sla_minutes": 30, "held_at": "2022-07-01T03:04:05+00:00"}
    name = held_tickets.case_name("r1", reason_hash("家里断粮了"))
    assert spool.hold(case, name) == "file"
    [path] = held_files(spool_dir)
    saved = path.read_bytes()
    # "Restart": a new spool object over the same directory (the process's registry forgotten).
    restarted = held_tickets.HeldTickets(spool.directory)
    with database.sessionmaker() as s:
        [first] = restarted.drain(s, open_held_ticket)
    assert held_files(spool_dir) == []
    path.write_bytes(saved)  # the crash: the file outlived its opening
    with database.sessionmaker() as s:
        assert restarted.drain(s, open_held_ticket) == [first]
    [t] = tickets_of(url, "r1")
    assert t.id == first and t.source == "wechat" and t.county == "西吉县"
    assert [e.action for e in t.events] == ["created", "note"]  # one note, from the first opening
    assert "2022-07-01 11:04" in t.events[1].detail["text"]  # Beijing time
    database.dispose()


def test_two_drainers_at_once_open_one_ticket(tmp_path, spool_dir):
    url = f"sqlite:///{tmp_path / 'two.db'}"
    migrate(url)
    database = Database(url)
    from service.services.chat import open_held_ticket
    from service.services.tickets import reason_hash

    spool = held_tickets.spool_for(database.engine)
    for i in range(5):
        reason = f"没有地方住了（{i}）"
        spool.hold({"conversation_id": f"two-{i}", "channel": "rest", "urgent_reason": reason,
                    "facts": {"urgent": True}, "sla_minutes": 30, "held_at": "2022-07-01T00:00:00+00:00"},
                   held_tickets.case_name(f"two-{i}", reason_hash(reason)))
    results: list = []

    def drain():
        with database.sessionmaker() as s:
            results.append(held_tickets.HeldTickets(spool.directory).drain(s, open_held_ticket))

    threads = [threading.Thread(target=drain) for _ in range(3)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    with database.engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM tickets")).scalar_one() == 5
        assert c.execute(text("SELECT count(*) FROM ticket_events WHERE action = 'note'")).scalar_one() == 5
    assert held_files(spool_dir) == []
    database.dispose()


def test_an_unwritable_spool_holds_the_case_in_memory(outage, tmp_path, monkeypatch, log_lines):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("x")
    monkeypatch.setenv(held_tickets.ENV_DIR, str(blocker / "held"))
    monkeypatch.setattr(held_tickets, "RETRY_SECONDS", (600.0,))
    rasa = FakeRasa(up=False)
    app = make_app(outage.url, rasa)
    outage.engines.append(app.state.db.engine)
    with TestClient(app) as client:
        outage.down()
        try:
            r = chat(client, "m1", URGENT)
            assert r.json()[0]["text"] == URGENT_HELD_TEXT.format(where="西吉县")
        finally:
            outage.up()
        chat(client, "m2", "你好")
    assert [t.county for t in tickets_of(outage.url, "m1")] == ["西吉县"]
    assert any(line.get("event") == "chat.urgent_held_in_memory" for line in log_lines)


# ---------------------------------------------------------------- WeChat: the same path
def test_wechat_turns_take_the_same_path_and_log_the_openid_hash(outage, spool_dir, log_lines):
    openid = "oAbCdEfGhIjKlMnOpQrStUvWxYz0"
    database = Database(outage.url)
    outage.engines.append(database.engine)
    rasa = FakeRasa(up=False)
    outage.down()
    try:
        with database.sessionmaker() as session:
            result = handle_turn(session, rasa, sender=openid, message=URGENT, channel="wechat",
                                 default_as_of=AS_OF, sla_minutes=30)
        assert result.messages[0]["text"] == URGENT_HELD_TEXT.format(where="西吉县")
    finally:
        outage.up()
    with database.sessionmaker() as session:
        handle_turn(session, rasa, sender="another", message="你好", channel="wechat",
                    default_as_of=AS_OF, sla_minutes=30)
    [t] = tickets_of(outage.url, openid)
    assert t.source == "wechat" and t.county == "西吉县"
    ref = hashlib.sha1(openid.encode()).hexdigest()[:10]
    mine = [line for line in log_lines if line.get("conversation_id") == ref]
    assert {"chat.db_unavailable", "chat.urgent_held", "chat.fallback"} <= {line.get("event") for line in mine}
    assert openid not in json.dumps(log_lines, ensure_ascii=False)
    database.dispose()


# ---------------------------------------------------------------- the conversation id in logs
def test_chat_log_lines_carry_the_masked_conversation_id(tmp_path, spool_dir, log_lines):
    url = f"sqlite:///{tmp_path / 'logs.db'}"
    migrate(url)
    database = Database(url)
    rasa = FakeRasa(up=False)
    with database.sessionmaker() as session:
        handle_turn(session, rasa, sender="13812345678", message="你好", channel="rest",
                    default_as_of=AS_OF, sla_minutes=30)
    logging.getLogger("service.elsewhere").warning("outside a turn")
    [fallback] = [line for line in log_lines if line.get("event") == "chat.fallback"]
    assert fallback["conversation_id"] == "138****5678"
    assert "13812345678" not in json.dumps(log_lines)
    [outside] = [line for line in log_lines if line["msg"] == "outside a turn"]
    assert "conversation_id" not in outside and conversation_id_var.get() is None
    database.dispose()
