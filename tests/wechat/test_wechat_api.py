"""The real customer-service API client over real HTTP against a local stand-in for
api.weixin.qq.com (no network here): the access token fetched once, shared through the database,
refreshed when WeChat refuses it; UTF-8 bodies; permanent errors dead-lettered; the outbox claim
exclusive between workers; messages abandoned by a dead worker."""
from __future__ import annotations

import json
import socket
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest
from sqlalchemy import select

from service.models.base import utcnow
from service.models.wechat import WeChatAccessToken, WeChatDelivery, WeChatInbound
from service.services.wechat_api import FakeWeChatApi, HttpWeChatApi, WeChatApiError
from service.services.wechat_delivery import ABANDONED_TEXT, DeliveryWorker, enqueue_delivery

APP_ID, SECRET = "wxapp0001", "s3cret"


class StandIn:
    """A tiny api.weixin.qq.com: /cgi-bin/token and /cgi-bin/message/custom/send."""

    def __init__(self):
        self.tokens_issued = 0
        self.valid: set[str] = set()
        self.sent: list[dict] = []
        self.raw_bodies: list[bytes] = []
        self.next_errcode: list[int] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _json(self, data):
                body = json.dumps(data).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                u = urlparse(self.path)
                q = parse_qs(u.query)
                if u.path == "/cgi-bin/token":
                    if q.get("appid") != [APP_ID] or q.get("secret") != [SECRET]:
                        return self._json({"errcode": 40125, "errmsg": "invalid appsecret"})
                    outer.tokens_issued += 1
                    token = f"TOKEN-{outer.tokens_issued}"
                    outer.valid.add(token)
                    return self._json({"access_token": token, "expires_in": 7200})
                self._json({"errcode": 404})

            def do_POST(self):
                u = urlparse(self.path)
                q = parse_qs(u.query)
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                outer.raw_bodies.append(raw)
                if q.get("access_token", [None])[0] not in outer.valid:
                    return self._json({"errcode": 40001, "errmsg": "invalid credential"})
                if outer.next_errcode:
                    return self._json({"errcode": outer.next_errcode.pop(0), "errmsg": "told to fail"})
                outer.sent.append(json.loads(raw))
                self._json({"errcode": 0, "errmsg": "ok"})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def standin():
    s = StandIn()
    yield s
    s.close()


@pytest.fixture
def api(db, standin):
    client = HttpWeChatApi(APP_ID, SECRET, db=db, base_url=standin.url)
    yield client
    client.close()


def test_token_is_fetched_once_and_bodies_are_utf8(api, standin, db):
    api.send_text("oUser1", "您好，临时救助金已受理。")
    api.send_text("oUser1", "第二条")
    assert standin.tokens_issued == 1
    assert [m["text"]["content"] for m in standin.sent] == ["您好，临时救助金已受理。", "第二条"]
    assert standin.sent[0] == {"touser": "oUser1", "msgtype": "text", "text": {"content": "您好，临时救助金已受理。"}}
    # Chinese as UTF-8 bytes, not \\u escapes (WeChat would show the escapes to the caller).
    assert "临时救助金".encode() in standin.raw_bodies[0] and b"\\u" not in standin.raw_bodies[0]
    with db.sessionmaker() as s:
        row = s.get(WeChatAccessToken, APP_ID)
    assert row.token == "TOKEN-1" and row.expires_at > utcnow() + timedelta(minutes=100)


def test_workers_share_the_token_through_the_database(api, standin, db):
    api.send_text("oUser1", "a")
    other = HttpWeChatApi(APP_ID, SECRET, db=db, base_url=standin.url)  # another process
    try:
        other.send_text("oUser2", "b")
    finally:
        other.close()
    assert standin.tokens_issued == 1 and len(standin.sent) == 2


def test_a_refused_token_is_refreshed_and_the_message_resent(api, standin):
    api.send_text("oUser1", "a")
    standin.valid.clear()  # WeChat invalidated it (another fetch elsewhere, or expiry)
    api.send_text("oUser1", "b")
    assert standin.tokens_issued == 2
    assert [m["text"]["content"] for m in standin.sent] == ["a", "b"]


def test_an_expiring_token_is_refreshed_before_use(api, standin, db):
    api.send_text("oUser1", "a")
    with db.session() as s:
        s.get(WeChatAccessToken, APP_ID).expires_at = utcnow() + timedelta(seconds=60)
    api._expires = utcnow() + timedelta(seconds=60)
    api.send_text("oUser1", "b")
    assert standin.tokens_issued == 2


def test_errors_transient_and_permanent(api, standin):
    standin.next_errcode = [-1]
    with pytest.raises(WeChatApiError) as err:
        api.send_text("oUser1", "a")
    assert err.value.errcode == -1 and not err.value.permanent
    standin.next_errcode = [45015]  # more than 48 hours since the caller last wrote
    with pytest.raises(WeChatApiError) as err:
        api.send_text("oUser1", "a")
    assert err.value.permanent
    bad = HttpWeChatApi(APP_ID, "wrong", db=api.db, base_url=standin.url)
    bad._token = None
    with pytest.raises(WeChatApiError, match="40125"):
        bad.access_token(force=True)
    bad.close()


def test_unreachable_api_is_a_transient_error(db):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    client = HttpWeChatApi(APP_ID, SECRET, db=db, base_url=f"http://127.0.0.1:{port}", timeout=2)
    with pytest.raises(WeChatApiError) as err:
        client.send_text("oUser1", "a")
    assert not err.value.permanent
    client.close()


def _enqueue(db, key="msg:1", openid="oUser1", text="答复"):
    with db.session() as s:
        enqueue_delivery(s, dedupe_key=key, openid=openid, text=text)


def _rows(db):
    with db.sessionmaker() as s:
        return list(s.scalars(select(WeChatDelivery).order_by(WeChatDelivery.id)))


def test_the_worker_sends_through_the_real_client(db, api, standin):
    _enqueue(db, text="您的临时救助申请已转给西吉县民政局。")
    worker = DeliveryWorker(db, api)
    assert worker.drain_once() == 1
    assert standin.sent[0]["text"]["content"] == "您的临时救助申请已转给西吉县民政局。"


def test_permanent_failure_is_dead_at_once_transient_ones_after_max_attempts(db):
    api = FakeWeChatApi(permanent_for={"oGone"}, fail_next=10)
    worker = DeliveryWorker(db, api, max_attempts=3, backoff_seconds=1)
    _enqueue(db, key="msg:gone", openid="oGone")
    _enqueue(db, key="msg:busy", openid="oBusy")
    now = utcnow()
    for i in range(3):
        worker.drain_once(now=now + timedelta(hours=i))
    gone, busy = _rows(db)
    assert gone.state == "dead" and gone.attempts == 1 and "unsubscribed" in gone.last_error
    assert busy.state == "dead" and busy.attempts == 3


def test_two_workers_never_send_one_row_twice(db):
    class SlowApi(FakeWeChatApi):
        def send_text(self, openid, content):
            import time

            time.sleep(0.05)
            super().send_text(openid, content)

    api = SlowApi()
    for i in range(10):
        _enqueue(db, key=f"msg:{i}", openid=f"oUser{i}", text=f"答复{i}")
    workers = [DeliveryWorker(db, api) for _ in range(3)]
    threads = [threading.Thread(target=w.drain_once) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(c for _, c in api.sent) == sorted(f"答复{i}" for i in range(10))
    assert all(r.state == "sent" for r in _rows(db))


def test_a_message_abandoned_by_a_dead_worker_gets_an_apology(db):
    with db.session() as s:
        s.add(WeChatInbound(dedupe_key="msg:77", openid="oUser7", account="gh_1", msg_type="text",
                            sig_timestamp=1, nonce="n", state="processing",
                            claimed_at=utcnow() - timedelta(minutes=10)))
        s.add(WeChatInbound(dedupe_key="msg:78", openid="oUser8", account="gh_1", msg_type="text",
                            sig_timestamp=2, nonce="n", state="processing", claimed_at=utcnow()))
    api = FakeWeChatApi()
    worker = DeliveryWorker(db, api, abandon_after_seconds=120)
    worker.drain_once()
    assert api.sent == [("oUser7", ABANDONED_TEXT)]  # the one still within its time is left alone
    with db.sessionmaker() as s:
        states = {r.dedupe_key: r.state for r in s.scalars(select(WeChatInbound))}
    assert states == {"msg:77": "abandoned", "msg:78": "processing"}
    worker.drain_once()
    assert len(api.sent) == 1


def test_without_api_an_abandoned_message_is_only_marked(db):
    with db.session() as s:
        s.add(WeChatInbound(dedupe_key="msg:79", openid="oUser9", account="gh_1", msg_type="text",
                            sig_timestamp=3, nonce="n", state="processing",
                            claimed_at=utcnow() - timedelta(minutes=10)))
    assert DeliveryWorker(db, None).drain_once() == 0
    with db.sessionmaker() as s:
        assert s.scalar(select(WeChatInbound.state)) == "abandoned"
    assert _rows(db) == []


def test_old_messages_and_answers_are_forgotten(db):
    from service.models.wechat import WeChatMore

    old, new = utcnow() - timedelta(days=3), utcnow()
    with db.session() as s:
        for i, (at, state) in enumerate([(old, "answered"), (new, "answered"), (old, "processing")]):
            s.add(WeChatInbound(dedupe_key=f"msg:{i}", openid="oU", account="gh_1", msg_type="text",
                                sig_timestamp=i, nonce="n", state=state, claimed_at=at))
        s.add(WeChatMore(openid="oOld", parts=["…"], updated_at=old))
        s.add(WeChatMore(openid="oNew", parts=["…"], updated_at=new))
        s.add(WeChatDelivery(dedupe_key="d-old", openid="oU", parts=["a"], state="sent",
                             sent_at=utcnow() - timedelta(days=8), next_attempt_at=old))
        s.add(WeChatDelivery(dedupe_key="d-dead", openid="oU", parts=["a"], state="dead",
                             next_attempt_at=utcnow() - timedelta(days=8)))
    worker = DeliveryWorker(db, FakeWeChatApi(), abandon_after_seconds=10**9)
    assert worker.forget_old(utcnow()) == 3
    with db.sessionmaker() as s:
        assert sorted(s.scalars(select(WeChatInbound.dedupe_key))) == ["msg:1", "msg:2"]
        assert list(s.scalars(select(WeChatMore.openid))) == ["oNew"]
        assert list(s.scalars(select(WeChatDelivery.dedupe_key))) == ["d-dead"]  # kept for an operator
