"""Plain mode, pushes WeChat would never send: forged, stale, incomplete, oversized, malformed,
DTDs and entities (XXE), empty; and the compatible-mode push a plain-mode service may see while
the account is switched over. Refused requests reach no assistant; nothing is a 500."""
from __future__ import annotations

import time

import pytest

from tests.wechat_outside.fixtures import fresh, platform  # noqa: F401 - pytest finds `fresh` by name
from tests.wechat_outside.wechat_client import (
    TOKEN,
    Platform,
    assert_answers,
    cdata,
    encrypt,
    new_msg_id,
    new_openid,
    sha1_sorted,
    text_msg,
)


wechat = platform("plain")
pytestmark = pytest.mark.usefixtures("fresh")




def signed(ts: int | None = None, nonce: str = "4711") -> dict:
    ts = str(int(time.time()) if ts is None else ts)
    return {"signature": sha1_sorted(TOKEN, ts, nonce), "timestamp": ts, "nonce": nonce, "openid": "oX"}


def test_forged_signature_is_refused_and_nothing_is_asked(wechat, upstream):
    openid = new_openid()
    q = signed()
    q["signature"] = sha1_sorted("not-the-token", q["timestamp"], q["nonce"])
    r = wechat.post(q, text_msg(openid, "你好").encode())
    assert r.status == 403
    assert upstream.calls_for(openid) == []


@pytest.mark.parametrize("offset", [-400, 400], ids=["stale", "future"])
def test_a_timestamp_far_from_now_is_refused(wechat, upstream, offset):
    openid = new_openid()
    r = wechat.push(text_msg(openid, "你好"), timestamp=int(time.time()) + offset)
    assert r.status == 403 and upstream.calls_for(openid) == []


@pytest.mark.parametrize("missing", ["signature", "timestamp", "nonce"])
def test_missing_query_parameters_are_refused(wechat, upstream, missing):
    openid = new_openid()
    q = signed(nonce=str(time.time_ns()))
    q.pop(missing)
    r = wechat.post(q, text_msg(openid, "你好").encode())
    assert r.status == 403 and upstream.calls_for(openid) == []


def test_the_openid_query_parameter_is_not_needed_and_not_trusted(wechat, upstream):
    openid = new_openid()
    q = signed(nonce=str(time.time_ns()))
    q.pop("openid")
    assert_answers(wechat.post(q, text_msg(openid, "你好").encode()), openid)
    assert upstream.calls_for(openid) == ["你好"]


@pytest.mark.parametrize("body,status", [
    (b"", 400),
    (b"   \r\n", 400),
    (b"<xml><ToUserName>", 400),
    (b"not xml at all", 400),
    (b"<html><body>hi</body></html>", 400),
    (b"<xml>" + b"<a>1</a>" * 4000 + b"</xml>", 413),
], ids=["empty", "blank", "truncated", "text", "other-root", "oversized"])
def test_bodies_wechat_never_sends_are_clear_4xx(wechat, body, status):
    r = wechat.post(signed(nonce=str(time.time_ns())), body)
    assert r.status == status, (r.status, r.body[:200])


def test_a_message_missing_its_fields_is_400(wechat, upstream):
    openid = new_openid()
    xml = text_msg(openid, "你好").replace("<MsgType><![CDATA[text]]></MsgType>", "")
    assert wechat.post(signed(nonce=str(time.time_ns())), xml.encode()).status == 400
    assert upstream.calls_for(openid) == []


def xxe(openid: str, url: str, encoding: str = "UTF-8") -> str:
    return (f'<?xml version="1.0" encoding="{encoding}"?>'
            f'<!DOCTYPE xml [<!ENTITY ext SYSTEM "{url}/xxe"><!ENTITY big "x">]>'
            + text_msg(openid, "PLACEHOLDER").replace("<![CDATA[PLACEHOLDER]]>", "&ext;&big;"))


def test_doctype_and_entities_are_refused(wechat, upstream):
    openid = new_openid()
    r = wechat.post(signed(nonce=str(time.time_ns())), xxe(openid, upstream.url).encode("utf-8"))
    assert r.status == 400
    r = wechat.post(signed(nonce=str(time.time_ns())),
                    ('<!DOCTYPE xml SYSTEM "' + upstream.url + '/dtd">' + text_msg(openid, "你好")).encode())
    assert r.status == 400
    assert upstream.other == [] and upstream.calls_for(openid) == []  # nothing fetched, nothing asked


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_a_doctype_in_another_encoding_is_refused_too(wechat, upstream, encoding):
    openid = new_openid()
    doc = ('<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE xml SYSTEM "' + upstream.url + '/dtd">'
           + text_msg(openid, "你好"))
    r = wechat.post(signed(nonce=str(time.time_ns())), doc.encode(encoding))
    assert r.status == 400, (r.status, r.body[:200])
    assert upstream.other == [] and upstream.calls_for(openid) == []


def test_one_signed_url_carries_one_message(wechat, upstream):
    q = signed(nonce=str(time.time_ns()))
    a, b = new_openid(), new_openid()
    assert_answers(wechat.post(q, text_msg(a, "第一条").encode()), a)
    assert wechat.post(q, text_msg(b, "第二条").encode()).status == 403
    assert upstream.calls_for(b) == []


# ------------------------------------------------------------------ compatible mode, plain service
def test_a_compatible_mode_push_is_answered_from_its_plaintext(wechat, upstream):
    # 兼容模式: the push carries the plaintext fields and <Encrypt>; "公众号回复明文或密文均可".
    # A service without the EncodingAESKey can still read the plaintext (and check msg_signature,
    # which needs the token only) — switching the account to compatible mode first is the
    # documented way to move to safe mode.
    openid = new_openid()
    compat = Platform("compat")
    try:
        reply = compat.push(text_msg(openid, "兼容模式测试"))
    finally:
        compat.close()
    assert_answers(reply, openid)
    assert not reply.encrypted and upstream.calls_for(openid) == ["兼容模式测试"]


def test_a_compatible_push_with_a_forged_msg_signature_is_refused(wechat, upstream):
    openid = new_openid()
    xml = text_msg(openid, "你好")
    q = signed(nonce=str(time.time_ns()))
    q.update(encrypt_type="aes", msg_signature="0" * 40)
    body = xml.replace("</xml>", f"<Encrypt>{cdata(encrypt(xml))}</Encrypt></xml>").encode()
    assert wechat.post(q, body).status == 403
    assert upstream.calls_for(openid) == []


def test_a_safe_mode_push_cannot_be_read_without_the_key(wechat, upstream):
    openid = new_openid()
    safe = Platform("safe")
    try:
        reply = safe.push(text_msg(openid, "你好", new_msg_id()))
    finally:
        safe.close()
    assert reply.status == 400 and upstream.calls_for(openid) == []
