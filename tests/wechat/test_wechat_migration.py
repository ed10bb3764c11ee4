"""Migration wechat_0002 on a database that holds rows of the old keys (msg:<MsgId>): the rows are
kept, rewritten to the sender-scoped key, and a retry of such a message by its own sender after the
upgrade still gets the stored reply — on SQLite and PostgreSQL."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, text

from tests.pg_support import PG_ROOT, ensure_postgres


def _config(url: str) -> Config:
    cfg = Config("service/alembic.ini")
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))  # (configparser interpolation)
    return cfg


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_url(request, tmp_path, monkeypatch):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'old.db'}"
        monkeypatch.setenv("HOTLINE_DATABASE_URL", url)
        yield url
        return
    error = ensure_postgres(PG_ROOT)
    if error:
        pytest.skip(f"!!! PostgreSQL at {PG_ROOT} NOT REACHABLE — WeChat migration test SKIPPED: {error}")
    schema = f"wxmig_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ROOT)
    with admin.begin() as c:
        c.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = f"{PG_ROOT}?options=-csearch_path%3D{schema}"
    monkeypatch.setenv("HOTLINE_DATABASE_URL", url)
    try:
        yield url
    finally:
        with admin.begin() as c:
            c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def test_old_rows_are_kept_and_rekeyed_by_sender(empty_url):
    cfg = _config(empty_url)
    command.upgrade(cfg, "wechat_0001")
    engine = create_engine(empty_url)
    now = datetime.now(timezone.utc)
    rows = [("msg:1001", "oA", "gh_acc", 1, "n1", "<xml><ToUserName><![CDATA[oA]]></ToUserName></xml>"),
            ("event:oB:1700000000:subscribe", "oB", "gh_acc", 2, "n2", None)]
    with engine.begin() as c:
        for key, openid, account, ts, nonce, reply in rows:
            c.execute(text("INSERT INTO wechat_inbound (dedupe_key, openid, account, msg_type, sig_timestamp, nonce, "
                           "state, claimed_at, reply_xml) VALUES (:k, :o, :a, 'text', :t, :n, 'done', :c, :r)"),
                      {"k": key, "o": openid, "a": account, "t": ts, "n": nonce, "c": now, "r": reply})
    engine.dispose()
    command.upgrade(cfg, "heads")
    engine = create_engine(empty_url)
    with engine.connect() as c:
        got = dict(c.execute(text("SELECT dedupe_key, reply_xml FROM wechat_inbound ORDER BY id")).all())
    engine.dispose()
    assert list(got) == ["msg:gh_acc:oA:1001", "event:gh_acc:oB:1700000000:subscribe"]
    assert got["msg:gh_acc:oA:1001"] == rows[0][5]  # the stored reply itself is untouched

    # the key the service computes now for A's retry is the rewritten one; B's colliding MsgId is another
    from service.channels.wechat_protocol import Inbound

    def inbound(openid, msg_id=None, event=None):
        return Inbound(openid=openid, account="gh_acc", msg_type="event" if event else "text",
                       create_time=1700000000, msg_id=msg_id, event=event)

    assert inbound("oA", "1001").dedupe_key in got
    assert inbound("oB", event="subscribe").dedupe_key in got
    assert inbound("oB", "1001").dedupe_key not in got


def test_after_the_upgrade_an_old_message_dedupes_for_its_own_sender_only(empty_url):
    """Over HTTP on the upgraded database: the stored reply of a message claimed before the upgrade
    (old key msg:<MsgId>) is what its own sender's retry gets, byte for byte and without asking the
    assistant again; another sender's message with that MsgId is answered as that sender's own."""
    from starlette.testclient import TestClient

    from service.channels.wechat_protocol import Inbound, render_text
    from tests.wechat.conftest import ACCOUNT, AS_OF, TOKEN, FakeAssistant, WeChatSide, make_app, text_xml

    cfg = _config(empty_url)
    command.upgrade(cfg, "wechat_0001")
    a, b, msg_id = "oOldSenderA0000000000000001", "oNewSenderB0000000000000002", "6000000000000001001"
    stored = render_text(Inbound(openid=a, account=ACCOUNT, msg_type="text", create_time=1, msg_id=msg_id),
                         "旧的答复：给A的")
    engine = create_engine(empty_url)
    with engine.begin() as c:
        c.execute(text("INSERT INTO wechat_inbound (dedupe_key, openid, account, msg_type, sig_timestamp, nonce, "
                       "state, claimed_at, answered_at, reply_xml) VALUES (:k, :o, :a, 'text', 1, 'n-old', "
                       "'answered', :c, :c, :r)"),
                  {"k": f"msg:{msg_id}", "o": a, "a": ACCOUNT, "c": datetime.now(timezone.utc), "r": stored})
    engine.dispose()
    command.upgrade(cfg, "heads")

    assistant = FakeAssistant()
    kwargs = dict(database_url=empty_url, as_of=AS_OF, secret_key="x" * 40, bot_token="bot-token",
                  outbox_enabled=False, run_migrations=False, admin_password=None, supervisor_state_file=None,
                  wechat_token=TOKEN, max_body_bytes=64 * 1024, wechat_max_body_bytes=16 * 1024)
    with TestClient(make_app(kwargs, assistant=assistant)) as client:
        side = WeChatSide(client)
        retry = side.push(text_xml(a, "A的问题", msg_id))
        other = side.push(text_xml(b, "B的问题", msg_id))
    assert retry.body == stored.encode("utf-8") and retry.fields["ToUserName"] == a
    assert other.fields["ToUserName"] == b and other.content == "助手答复：B的问题"
    assert [call["sender"] for call in assistant.calls] == [b]


def test_the_downgrade_restores_the_old_keys(empty_url):
    """Back to wechat_0001: the keys lose account and sender again; of two senders' rows with one
    MsgId only the first can stay under the old unique key."""
    cfg = _config(empty_url)
    command.upgrade(cfg, "heads")
    engine = create_engine(empty_url)
    now = datetime.now(timezone.utc)
    with engine.begin() as c:
        for key, openid, ts in (("msg:gh_acc:oA:1001", "oA", 1), ("msg:gh_acc:oB:1001", "oB", 2),
                                ("event:gh_acc:oC:1700000000:subscribe", "oC", 3)):
            c.execute(text("INSERT INTO wechat_inbound (dedupe_key, openid, account, msg_type, sig_timestamp, "
                           "nonce, state, claimed_at) VALUES (:k, :o, 'gh_acc', 'text', :t, 'n', 'answered', :c)"),
                      {"k": key, "o": openid, "t": ts, "c": now})
    engine.dispose()
    command.downgrade(cfg, "wechat_0001")
    engine = create_engine(empty_url)
    with engine.connect() as c:
        got = c.execute(text("SELECT dedupe_key, openid FROM wechat_inbound ORDER BY id")).all()
    engine.dispose()
    assert [tuple(r) for r in got] == [("msg:1001", "oA"), ("event:oC:1700000000:subscribe", "oC")]
