"""Safe mode (安全模式) and compatible mode (兼容模式) against a service holding the
EncodingAESKey and AppID: encrypted pushes, the encrypted reply envelope read strictly (fields,
MsgSignature, 32-byte PKCS#7, appid), what must be refused, and the slow path."""
from __future__ import annotations

import base64
import secrets
import struct
import time

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from tests.wechat_outside.fixtures import fresh, platform  # noqa: F401 - pytest finds `fresh` by name
from tests.wechat_outside.wechat_client import (
    ACCOUNT,
    APP_ID,
    TOKEN,
    Platform,
    aes_key,
    assert_answers,
    cdata,
    encrypt,
    event_msg,
    new_msg_id,
    new_openid,
    pkcs7_pad,
    sha1_sorted,
    text_msg,
    voice_msg,
    wait_for,
)


wechat = platform("safe")
pytestmark = pytest.mark.usefixtures("fresh")




def raw_push(wechat: Platform, openid: str, encrypted: str, *, msg_signature: str | None = None,
             encrypt_type: str | None = "aes", drop: tuple[str, ...] = ()):
    ts, nonce = str(int(time.time())), str(time.time_ns())
    q = {"signature": sha1_sorted(TOKEN, ts, nonce), "timestamp": ts, "nonce": nonce, "openid": openid,
         "encrypt_type": encrypt_type,
         "msg_signature": msg_signature or sha1_sorted(TOKEN, ts, nonce, encrypted)}
    for name in drop:
        q.pop(name)
    q = {k: v for k, v in q.items() if v is not None}
    body = f"<xml><ToUserName>{cdata(ACCOUNT)}</ToUserName><Encrypt>{cdata(encrypted)}</Encrypt></xml>"
    return wechat.post(q, body.encode())


def test_url_check_in_safe_mode_echoes_echostr_as_sent(wechat):
    # For Official Accounts the GET check is the same in every mode: signature over token,
    # timestamp, nonce, and echostr returned as is (no msg_signature, echostr not encrypted).
    r = wechat.url_check("5837461029384756102")
    assert r.status_code == 200 and r.content == b"5837461029384756102"
    assert wechat.url_check("1", signature="f" * 40).status_code == 403


def test_encrypted_text_gets_an_encrypted_signed_reply(wechat, upstream):
    openid = new_openid()
    reply = wechat.push(text_msg(openid, "我在原州区，没有收入了"))
    assert reply.encrypted  # and Platform.read checked envelope, signature, padding, appid
    assert assert_answers(reply, openid) == "答：我在原州区，没有收入了"
    assert upstream.calls_for(openid) == ["我在原州区，没有收入了"]


def test_encrypted_events_and_voice(wechat, upstream):
    openid = new_openid()
    welcome = wechat.push(event_msg(openid, "subscribe", EventKey=""))
    assert welcome.encrypted and "12345" in assert_answers(welcome, openid)
    voice = wechat.push(voice_msg(openid, "我是五保户"))
    assert voice.encrypted and assert_answers(voice, openid) == "答：我是五保户"
    assert wechat.push(event_msg(openid, "VIEW", EventKey="http://example.com/")).silent


def test_encrypted_retries_same_reply_one_processing(wechat, upstream):
    openid = new_openid()
    xml = text_msg(openid, "我是低保边缘户", new_msg_id())
    replies = [wechat.push(xml) for _ in range(3)]
    assert all(r.encrypted for r in replies)
    assert len({r.inner for r in replies}) == 1  # the same reply, re-encrypted for each request
    assert upstream.calls_for(openid) == ["我是低保边缘户"]


def test_compatible_mode_push_is_answered(wechat, upstream):
    openid = new_openid()
    compat = Platform("compat")
    try:
        reply = compat.push(text_msg(openid, "兼容模式"))  # either a plaintext or an encrypted reply
    finally:
        compat.close()
    assert assert_answers(reply, openid) == "答：兼容模式"


def test_a_long_compatible_mode_push_is_not_too_large(wechat, upstream):
    # Compatible mode sends every message twice (about three times the size, the docs warn): a
    # text as long as the service reads (HOTLINE_MAX_TEXT_CHARS, 2000 characters) still fits.
    openid = new_openid()
    words = ("我家在同心县，" * 300)[:2000]
    compat = Platform("compat")
    try:
        reply = compat.push(text_msg(openid, words))
    finally:
        compat.close()
    assert reply.status == 200, (reply.status, reply.body[:200])
    assert assert_answers(reply, openid).startswith("答：我家在同心县")


def test_the_signed_ciphertext_decides_not_the_plaintext_beside_it(wechat, upstream):
    # Compatible mode: msg_signature covers <Encrypt> only, so the plaintext fields next to it are
    # unauthenticated — the service must answer what the ciphertext says.
    openid, other = new_openid(), new_openid()
    real = text_msg(openid, "真的内容")
    fake = text_msg(other, "伪造内容")
    encrypted = encrypt(real)
    ts, nonce = str(int(time.time())), str(time.time_ns())
    q = {"signature": sha1_sorted(TOKEN, ts, nonce), "timestamp": ts, "nonce": nonce, "openid": other,
         "encrypt_type": "aes", "msg_signature": sha1_sorted(TOKEN, ts, nonce, encrypted)}
    body = fake.replace("</xml>", f"<Encrypt>{cdata(encrypted)}</Encrypt></xml>")
    compat = Platform("compat")
    try:
        reply = compat.post(q, body.encode())
    finally:
        compat.close()
    assert assert_answers(reply, openid) == "答：真的内容"
    assert upstream.calls_for(other) == []


def test_the_openid_query_parameter_does_not_choose_the_recipient(wechat, upstream):
    openid = new_openid()
    r = raw_push(wechat, "oSomebodyElse", encrypt(text_msg(openid, "你好")))
    assert assert_answers(r, openid) == "答：你好"


# ------------------------------------------------------------------ refused
def test_wrong_appid_inside_the_payload_is_refused(wechat, upstream):
    openid = new_openid()
    r = wechat.push(text_msg(openid, "你好"), app_id="wx0000000000000000")
    assert r.status == 403 and upstream.calls_for(openid) == []


def test_forged_or_missing_msg_signature_is_refused(wechat, upstream):
    openid = new_openid()
    encrypted = encrypt(text_msg(openid, "你好"))
    assert raw_push(wechat, openid, encrypted, msg_signature="0" * 40).status == 403
    assert raw_push(wechat, openid, encrypted, drop=("msg_signature",)).status == 403
    assert upstream.calls_for(openid) == []


def test_plaintext_in_safe_mode_is_refused(wechat, upstream):
    openid = new_openid()
    plain = Platform("plain")
    try:
        assert plain.push(text_msg(openid, "你好")).status == 403
    finally:
        plain.close()
    # encrypt_type missing although the body is encrypted: not how WeChat pushes in safe mode
    assert raw_push(wechat, openid, encrypt(text_msg(openid, "你好")), encrypt_type=None).status == 403
    assert upstream.calls_for(openid) == []


def envelope_raw(payload: bytes, key: bytes | None = None) -> str:
    key = key or aes_key()
    enc = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(enc.update(pkcs7_pad(payload)) + enc.finalize()).decode()


@pytest.mark.parametrize("make", [
    lambda o: "!!!not base64!!!",
    lambda o: base64.b64encode(b"x" * 40).decode(),  # not a whole AES block
    lambda o: encrypt(text_msg(o, "你好"), key=secrets.token_bytes(32)),  # another key
    lambda o: envelope_raw(secrets.token_bytes(16) + struct.pack("!I", 10**6) + b"<xml/>" + APP_ID.encode()),
    lambda o: envelope_raw(secrets.token_bytes(16) + struct.pack("!I", 4) + "中文".encode()[:4] + APP_ID.encode()),
], ids=["bad-base64", "partial-block", "other-key", "length-beyond", "broken-utf8"])
def test_broken_ciphertext_is_a_clear_4xx(wechat, upstream, make):
    openid = new_openid()
    r = raw_push(wechat, openid, make(openid))
    assert 400 <= r.status < 500, (r.status, r.body[:200])
    assert upstream.calls_for(openid) == []


def test_a_doctype_inside_the_ciphertext_is_refused(wechat, upstream):
    openid = new_openid()
    inner = (f'<!DOCTYPE xml [<!ENTITY ext SYSTEM "{upstream.url}/xxe">]>'
             + text_msg(openid, "X").replace("<![CDATA[X]]>", "&ext;"))
    r = raw_push(wechat, openid, encrypt(inner))
    assert r.status == 400
    inner16 = ('<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE xml SYSTEM "' + upstream.url + '/dtd">'
               + text_msg(openid, "你好")).encode("utf-16")
    r = raw_push(wechat, openid, encrypt(inner16))
    assert r.status == 400, (r.status, r.body[:200])
    assert upstream.other == [] and upstream.calls_for(openid) == []


# ------------------------------------------------------------------ the slow path
def test_slow_assistant_in_safe_mode(wechat, upstream):
    upstream.rasa_delay = 6.0
    openid = new_openid()
    first = wechat.push(text_msg(openid, "临时救助怎么申请", new_msg_id()))
    assert first.silent and first.elapsed < 5.0, (first.body[:80], first.elapsed)
    sent = wait_for(lambda: upstream.sent_to(openid), timeout=20)
    assert sent == [{"touser": openid, "msgtype": "text", "text": {"content": "答：临时救助怎么申请"}}]


def test_encrypted_messages_of_two_senders_with_one_msg_id_are_each_answered_to_their_sender(wechat, upstream):
    a, b, msg_id = new_openid(), new_openid(), new_msg_id()
    first = assert_answers(wechat.push(text_msg(a, "甲的问题", msg_id)), a)
    second = assert_answers(wechat.push(text_msg(b, "乙的问题", msg_id)), b)
    assert (first, second) == ("答：甲的问题", "答：乙的问题")
    assert upstream.calls_for(b) == ["乙的问题"]
