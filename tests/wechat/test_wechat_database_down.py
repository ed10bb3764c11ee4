"""WeChat with the database down: every push is still answered by the chat path (the claim that
de-duplicates retries needs the database, so it is skipped), an urgent message is held exactly
like a REST one and gets one ticket once the database is back — however often WeChat retried it —
and no log line carries the caller's words, the openid or SQL parameters.

Real outages (the same as tests/service/test_chat_database_down.py): a SQLite file that is no
longer there, PostgreSQL behind a TCP gate that refuses new connections and cuts the open ones.
Real /wechat requests signed as WeChat signs them (conftest.WeChatSide), the real handle_turn.
"""
from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from starlette.testclient import TestClient

from service.core.db import Database
from service.services import held_tickets
from service.services.chat import FALLBACK_TEXT, URGENT_FALLBACK_TEXT, URGENT_HELD_TEXT
from service.services.rasa import FakeRasa
from service.services.wechat_api import FakeWeChatApi
from service.services.wechat_inbound import PENDING_TEXT
from service.services.wechat_text import MAX_TEXT_BYTES
from tests.log_support import capture_json_logs
from tests.outage_support import database_outage
from tests.service.test_chat_database_down import held_files, tickets_of
from tests.wechat.conftest import (
    ACCOUNT,
    FakeAssistant,
    WeChatSide,
    clean,
    make_app,
    new_msg_id,
    new_openid,
    text_xml,
)

URGENT = "我在西吉县，已经两天没吃饭了，身上一分钱都没有，回不了家"


def _clean(url: str) -> None:
    direct = Database(url)
    clean(direct)
    direct.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def outage(request, tmp_path):
    pg = request.getfixturevalue("postgres_url") if request.param == "postgres" else None
    with database_outage(request.param, tmp_path, filename="wechat.db", postgres_url=pg, clean=_clean) as o:
        yield o


@pytest.fixture
def spool_dir(tmp_path, monkeypatch) -> Path:
    d = tmp_path / "held"
    monkeypatch.setenv(held_tickets.ENV_DIR, str(d))
    # No background retry during the test: the next turn that reaches the database is under test.
    monkeypatch.setattr(held_tickets, "RETRY_SECONDS", (600.0,))
    return d


@pytest.fixture
def log_lines():
    with capture_json_logs() as handler:
        yield handler.lines


def start(outage, settings_kwargs, *, rasa, api=None, assistant=None, **overrides):
    app = make_app({**settings_kwargs, "database_url": outage.url, **overrides},
                   assistant=assistant, api=api, rasa=rasa)
    outage.engines.append(app.state.db.engine)
    return app


def database_down(url: str) -> bool:
    database = Database(url)
    try:
        with database.engine.connect() as c:
            c.execute(text("SELECT 1"))
        return False
    except Exception:  # noqa: BLE001
        return True
    finally:
        database.dispose()


def inbound_rows(url: str) -> int:
    database = Database(url)
    try:
        with database.engine.connect() as c:
            return c.execute(text("SELECT count(*) FROM wechat_inbound")).scalar_one()
    finally:
        database.dispose()


def assert_clean(lines: list[dict], *secrets: str) -> None:
    dumped = json.dumps(lines, ensure_ascii=False)
    for secret in secrets:
        assert secret not in dumped
    assert "[SQL" not in dumped and "[parameters" not in dumped


# ---------------------------------------------------------------- urgent: held, then one ticket
def test_an_urgent_message_is_held_during_the_outage_and_ticketed_once(outage, spool_dir, settings_kwargs,
                                                                      log_lines):
    rasa = FakeRasa(up=False)
    app = start(outage, settings_kwargs, rasa=rasa, api=FakeWeChatApi())  # the real handle_turn
    openid, msg_id = new_openid(), new_msg_id()
    urgent_xml = text_xml(openid, URGENT, msg_id)
    held_text = URGENT_HELD_TEXT.format(where="西吉县")
    with TestClient(app) as client:
        wechat = WeChatSide(client)
        outage.down()
        try:
            started = time.monotonic()
            r = wechat.push(urgent_xml)
            assert r.status == 200 and r.content == held_text  # was FALLBACK_TEXT: the claim failed
            assert r.fields["ToUserName"] == openid
            # WeChat retries the same message (new nonce) while the database is still down:
            # answered again, not de-duplicated, and still one held case.
            assert wechat.push(urgent_xml).content == held_text
            assert time.monotonic() - started < 4  # within WeChat's 5 s, retries included
            rasa.up = True  # a third attempt that Rasa answers: its answer, then the held notice
            assert wechat.push(urgent_xml).content == f"收到：{URGENT}\n\n{held_text}"
            assert [call[:2] for call in rasa.calls] == [(openid, URGENT)] * 3  # no de-duplication
            assert len(held_files(spool_dir)) == 1
            assert database_down(outage.url)
        finally:
            outage.up()
        rasa.up = False
        assert inbound_rows(outage.url) == 0  # nothing was claimed during the outage
        # Back: another caller's ordinary message reaches the database and opens the held ticket.
        other = new_openid()
        assert wechat.push(text_xml(other, "你好", new_msg_id())).content == FALLBACK_TEXT
        assert held_files(spool_dir) == []
        [t] = tickets_of(outage.url, openid)
        assert t.source == "wechat" and t.county == "西吉县" and t.created_by == "service"
        assert t.facts["urgent"] is True and t.status == "open"
        assert [e.action for e in t.events] == ["created", "note"]
        assert "数据库暂时不可用" in t.events[1].detail["text"]
        # One more retry of the same message, now claimed: the ticket already opened, not a second.
        r = wechat.push(urgent_xml)
        assert r.content == URGENT_FALLBACK_TEXT.format(ticket_id=t.id, where="西吉县")
        assert len(tickets_of(outage.url, openid)) == 1
        assert tickets_of(outage.url, other) == []
    ref = hashlib.sha1(openid.encode()).hexdigest()[:10]
    unclaimed = [line for line in log_lines
                 if line.get("event") == "wechat.db_unavailable" and line.get("step") == "claim"]
    assert len(unclaimed) == 3 and {line["openid_ref"] for line in unclaimed} == {ref}
    assert all(line["msg"].startswith("wechat: database unavailable, message answered unclaimed: "
                                      "OperationalError: ") for line in unclaimed)
    held = [line for line in log_lines if line.get("event") == "chat.urgent_held"]
    assert len(held) == 3 and {line["conversation_id"] for line in held} == {ref}
    opened = [line for line in log_lines if line.get("event") == "chat.held_ticket_opened"]
    assert len(opened) == 1 and opened[0]["conversation_id"] == ref
    assert not [line for line in log_lines if line.get("event") == "wechat.error"]
    assert_clean(log_lines, openid, URGENT, "两天没吃饭")


# ---------------------------------------------------------------- ordinary messages
def test_ordinary_messages_get_the_assistants_answer_during_the_outage(outage, spool_dir, settings_kwargs,
                                                                      log_lines):
    rasa = FakeRasa()
    app = start(outage, settings_kwargs, rasa=rasa, api=FakeWeChatApi())
    openid = new_openid()
    with TestClient(app) as client:
        wechat = WeChatSide(client)
        outage.down()
        try:
            r = wechat.push(text_xml(openid, "家里4口人，是低保户", new_msg_id()))
            assert r.content == "收到：家里4口人，是低保户"
            # "详细" cannot read the held-back rest of an answer: the assistant hears it instead.
            assert wechat.push(text_xml(openid, "详细", new_msg_id())).content == "收到：详细"
            rasa.up = False
            assert wechat.push(text_xml(openid, "我能领什么", new_msg_id())).content == FALLBACK_TEXT
        finally:
            outage.up()
    assert held_files(spool_dir) == []
    assert_clean(log_lines, openid, "低保户", "我能领什么")


def test_a_long_answer_during_the_outage_does_not_promise_a_rest_it_cannot_keep(outage, spool_dir,
                                                                                settings_kwargs, log_lines):
    long_answer = "。".join(f"第{i}条：请带上户口簿和身份证到乡镇民政办申请" for i in range(120))
    assert len(long_answer.encode()) > MAX_TEXT_BYTES
    app = start(outage, settings_kwargs, rasa=FakeRasa(), api=FakeWeChatApi(),
                assistant=FakeAssistant(reply=lambda message: long_answer))
    openid = new_openid()
    with TestClient(app) as client:
        wechat = WeChatSide(client)
        outage.down()
        try:
            r = wechat.push(text_xml(openid, "我能领什么", new_msg_id()))
        finally:
            outage.up()
    assert r.content and long_answer.startswith(r.content) and "详细" not in r.content
    assert len(r.content.encode()) <= MAX_TEXT_BYTES
    [dropped] = [line for line in log_lines if line.get("event") == "wechat.rest_dropped"]
    assert dropped["parts"] >= 1


def test_a_late_answer_goes_straight_to_the_api_while_the_database_is_down(outage, spool_dir,
                                                                         settings_kwargs, log_lines):
    api = FakeWeChatApi()
    assistant = FakeAssistant(delay=1.0)
    app = start(outage, settings_kwargs, rasa=FakeRasa(), api=api, assistant=assistant,
                wechat_reply_deadline_seconds=0.4)
    openid = new_openid()
    with TestClient(app) as client:
        wechat = WeChatSide(client)
        outage.down()
        try:
            r = wechat.push(text_xml(openid, "我在西吉县，家里有困难", new_msg_id()))
            assert r.plain == "success"  # the deadline passed: the answer follows
            deadline = time.monotonic() + 5
            while not api.to(openid) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert api.to(openid) == ["助手答复：我在西吉县，家里有困难"]
        finally:
            outage.up()
    sent = [line for line in log_lines if line.get("via") == "custom_send_unqueued"]
    assert len(sent) == 1
    assert_clean(log_lines, openid, "家里有困难")


def test_a_late_answer_is_queued_when_the_database_is_back_in_time(outage, spool_dir, settings_kwargs):
    api = FakeWeChatApi()

    def reply(message):
        outage.up()  # the database returns while the assistant is still working
        return f"助手答复：{message}"

    assistant = FakeAssistant(delay=0.8, reply=reply)
    app = start(outage, settings_kwargs, rasa=FakeRasa(), api=api, assistant=assistant,
                wechat_reply_deadline_seconds=0.3)
    openid, msg_id = new_openid(), new_msg_id()
    with TestClient(app) as client:
        wechat = WeChatSide(client)
        outage.down()
        assert wechat.push(text_xml(openid, "我在西吉县", msg_id)).plain == "success"
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            database = Database(outage.url)
            try:
                with database.engine.connect() as c:
                    rows = c.execute(text("SELECT dedupe_key, openid, parts FROM wechat_deliveries")).all()
            except OperationalError:
                rows = []
            finally:
                database.dispose()
            if rows:
                break
            time.sleep(0.05)
    [(key, to, parts)] = rows
    parts = json.loads(parts) if isinstance(parts, str) else parts
    assert key == f"msg:{ACCOUNT}:{openid}:{msg_id}" and to == openid and parts == ["助手答复：我在西吉县"]
    assert api.to(openid) == []  # the outbox worker sends it (not started in this test), not twice


def test_without_api_credentials_a_late_answer_is_reported_lost(outage, spool_dir, settings_kwargs,
                                                               log_lines):
    app = start(outage, settings_kwargs, rasa=FakeRasa(), api=None, assistant=FakeAssistant(delay=0.8),
                wechat_reply_deadline_seconds=0.3)
    openid = new_openid()
    with TestClient(app) as client:
        wechat = WeChatSide(client)
        outage.down()
        try:
            assert wechat.push(text_xml(openid, "你好", new_msg_id())).content == PENDING_TEXT
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and not any(
                    line.get("event") == "wechat.answer_lost" for line in log_lines):
                time.sleep(0.05)
        finally:
            outage.up()
    [lost] = [line for line in log_lines if line.get("event") == "wechat.answer_lost"]
    assert lost["level"] == "ERROR" and lost["reason"] == "no API credentials"


# ---------------------------------------------------------------- failures are logged without data
def test_a_database_failure_after_the_claim_is_logged_without_sql_or_words(outage, spool_dir,
                                                                         settings_kwargs, log_lines):
    """The database goes while the assistant works: storing the answer fails, the caller gets the
    12345 fallback, and wechat.error says what failed and where, not the UPDATE's parameters."""
    words = "我的电话是13812345678，家里断粮了"

    def reply(message):
        outage.down()
        return f"助手答复：{message}"

    app = start(outage, settings_kwargs, rasa=FakeRasa(), api=FakeWeChatApi(),
                assistant=FakeAssistant(reply=reply))
    openid = new_openid()
    with TestClient(app) as client:
        wechat = WeChatSide(client)
        try:
            assert wechat.push(text_xml(openid, words, new_msg_id())).content == FALLBACK_TEXT
        finally:
            outage.up()
        time.sleep(0.2)  # the task's done-callback logs too
    [error] = [line for line in log_lines if line.get("event") == "wechat.error"]
    assert error["level"] == "ERROR" and error["error"].startswith("OperationalError: ")
    assert "wechat_inbound.py" in error["where"] and "exc_info" not in error
    assert all("Traceback" not in json.dumps(line, ensure_ascii=False) for line in log_lines)
    assert_clean(log_lines, openid, words, "13812345678", "断粮")


def test_a_chat_function_failure_is_logged_masked(settings_kwargs, db, log_lines):
    """wechat.chat_error: an exception from the chat path with SQL parameters in its text."""
    def failing(session, rasa, **kwargs):
        raise OperationalError("UPDATE conversations SET facts=%(facts)s WHERE sender=%(sender)s",
                               {"facts": '{"urgent_reason": "家里断粮了"}', "sender": kwargs["sender"]},
                               Exception("server closed the connection unexpectedly (13812345678)\n"
                                         "DETAIL: more about it"))

    app = make_app({**settings_kwargs}, assistant=failing, api=FakeWeChatApi(), rasa=FakeRasa())
    openid = new_openid()
    with TestClient(app) as client:
        assert WeChatSide(client).push(text_xml(openid, "你好", new_msg_id())).content == FALLBACK_TEXT
    [error] = [line for line in log_lines if line.get("event") == "wechat.chat_error"]
    assert error["error"] == ("OperationalError: server closed the connection unexpectedly "
                              "(138****5678)")
    assert "test_wechat_database_down.py" in error["where"]
    assert_clean(log_lines, openid, "断粮", "13812345678", "DETAIL")
