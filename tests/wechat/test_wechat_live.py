"""The channel on a live uvicorn over real sockets: a push written byte for byte as WeChat's
servers send it, overlapping retries on separate connections, and the deadline path with the
background worker delivering through the fake API after a failure."""
from __future__ import annotations

import socket
import threading
import time
from urllib.parse import urlencode

import pytest
import uvicorn

from tests.wechat.conftest import (
    ACCOUNT,
    TOKEN,
    FakeAssistant,
    make_app,
    new_msg_id,
    new_openid,
    sha1_sorted,
    text_xml,
)


class LiveServer:
    def __init__(self, app):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        self.port = s.getsockname()[1]
        s.close()
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port,
                                                    log_level="warning", access_log=False))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        end = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > end:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.05)

    def stop(self):
        self.server.should_exit = True
        self.thread.join(30)


@pytest.fixture
def live(settings_kwargs, db, wechat_api):
    assistant = FakeAssistant()
    kwargs = dict(settings_kwargs, outbox_enabled=True, outbox_poll_seconds=0.2,
                  outbox_backoff_seconds=0.2, wechat_reply_deadline_seconds=2.0)
    server = LiveServer(make_app(kwargs, assistant=assistant, api=wechat_api))
    yield server, assistant
    server.stop()


def raw_push(port: int, xml: str, *, timestamp: int | None = None, nonce: str | None = None) -> tuple[float, bytes, bytes]:
    """One HTTP/1.1 request written byte for byte; returns (seconds, head, body)."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    nonce = nonce or str(int(time.time() * 1e6) % 10**10)
    query = urlencode({"signature": sha1_sorted(TOKEN, ts, nonce), "timestamp": ts, "nonce": nonce,
                       "openid": "oIgnored"})
    body = xml.encode("utf-8")
    request = (f"POST /wechat?{query} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUser-Agent: Mozilla/4.0\r\n"
               f"Accept: */*\r\nContent-Type: text/xml\r\nContent-Length: {len(body)}\r\n"
               "Connection: close\r\n\r\n").encode() + body
    t0 = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(request)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return time.monotonic() - t0, head, rest


def test_a_push_byte_for_byte_gets_a_well_formed_reply(live):
    server, assistant = live
    openid = new_openid()
    _, head, body = raw_push(server.port, text_xml(openid, "我在西吉县", new_msg_id()))
    assert head.startswith(b"HTTP/1.1 200")
    assert b"content-type: application/xml" in head.lower()
    text = body.decode("utf-8")
    assert text.startswith("<xml>") and f"<ToUserName><![CDATA[{openid}]]></ToUserName>" in text
    assert f"<FromUserName><![CDATA[{ACCOUNT}]]></FromUserName>" in text
    assert "<MsgType><![CDATA[text]]></MsgType>" in text
    assert "<Content><![CDATA[助手答复：我在西吉县]]></Content>" in text


def test_overlapping_retries_on_separate_connections(live, wechat_api):
    server, assistant = live
    assistant.delay = 0.5
    openid = new_openid()
    xml = text_xml(openid, "你好", new_msg_id())
    out: list = [None] * 3

    def go(i):
        out[i] = raw_push(server.port, xml, nonce=f"{i}{int(time.time() * 1e6) % 10**9}")

    threads = [threading.Thread(target=go, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
        time.sleep(0.1)
    for t in threads:
        t.join(30)
    bodies = {o[2] for o in out}
    assert len(bodies) == 1 and len(assistant.calls) == 1  # the same reply, processed once
    body = bodies.pop()
    if body == b"success":  # the machine was too busy for the deadline: the answer came later, once
        end = time.monotonic() + 15
        while not wechat_api.to(openid) and time.monotonic() < end:
            time.sleep(0.1)
        assert wechat_api.to(openid) == ["助手答复：你好"]
    else:
        assert "助手答复：你好".encode() in body


def test_slow_answer_success_at_the_deadline_then_delivered_by_the_worker(live, wechat_api):
    server, assistant = live
    assistant.delay = 4.0
    wechat_api.fail_next = 1
    openid = new_openid()
    took, head, body = raw_push(server.port, text_xml(openid, "失业补助多少钱", new_msg_id()))
    assert head.startswith(b"HTTP/1.1 200") and body == b"success"
    assert 2.0 <= took < 3.5  # at the deadline, long before the assistant's 4 s
    end = time.monotonic() + 15
    while not wechat_api.to(openid) and time.monotonic() < end:
        time.sleep(0.1)
    assert wechat_api.to(openid) == ["助手答复：失业补助多少钱"]
    assert wechat_api.attempts == 2  # one failure, one retry
