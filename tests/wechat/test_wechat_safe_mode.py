"""Safe (encrypted) mode over HTTP with a test EncodingAESKey: WeChat's AES envelope written
independently of wechatpy in conftest, msg_signature on the way in and on the reply."""
from __future__ import annotations

import base64
import time

import pytest

from tests.wechat.conftest import (
    ACCOUNT,
    APP_ID,
    ENCODING_AES_KEY,
    TOKEN,
    WeChatSide,
    aes_encrypt,
    event_xml,
    new_msg_id,
    new_openid,
    sha1_sorted,
    snapshot,
    text_xml,
)


@pytest.fixture
def settings_kwargs(settings_kwargs):
    return dict(settings_kwargs, wechat_encoding_aes_key=ENCODING_AES_KEY, wechat_app_id=APP_ID)


@pytest.fixture
def wechat(client) -> WeChatSide:
    return WeChatSide(client, safe=True)


def test_encrypted_text_gets_an_encrypted_signed_reply(wechat, assistant):
    openid = new_openid()
    r = wechat.push(text_xml(openid, "我是低保户，能领什么补贴？", new_msg_id()))
    assert r.status == 200
    # WeChatSide.read() checked the reply's MsgSignature and decrypted it with our own AES code.
    assert b"<Encrypt>" in r.body and "低保户" not in r.body.decode()
    assert r.fields["ToUserName"] == openid and r.fields["FromUserName"] == ACCOUNT
    assert r.content == "助手答复：我是低保户，能领什么补贴？"
    assert assistant.calls[0]["sender"] == openid and assistant.calls[0]["channel"] == "wechat"


def test_encrypted_subscribe_gets_the_encrypted_welcome(wechat):
    r = wechat.push(event_xml(new_openid(), "subscribe", int(time.time())))
    assert "欢迎关注" in r.content


def test_encrypted_retries_get_the_same_reply(wechat, assistant):
    xml = text_xml(new_openid(), "你好", new_msg_id())
    replies = [wechat.push(xml) for _ in range(3)]
    # Each encryption uses a fresh random prefix, but what WeChat decrypts is byte-identical.
    assert len({r.plain for r in replies}) == 1 and len({r.body for r in replies}) == 3
    assert len(assistant.calls) == 1


@pytest.mark.parametrize("case", ["bad_msg_signature", "plaintext", "other_app", "garbage", "no_encrypt",
                                  "bad_signature"])
def test_safe_mode_refuses_what_it_cannot_trust(wechat, assistant, db, case):
    before = snapshot(db)
    xml = text_xml(new_openid(), "我家断粮了，急需救助", new_msg_id())
    if case == "bad_msg_signature":
        r = wechat.push(xml, msg_signature="f" * 40)
        assert r.status == 403 and "msg_signature" in r.body.decode()
    elif case == "plaintext":
        # With safe mode on, a plaintext body (covered by no signature) is refused.
        r = wechat.push(xml, encrypt=False)
        assert r.status == 403 and "plaintext" in r.body.decode()
    elif case == "other_app":
        r = wechat.push(xml, app_id="wx_some_other_app")
        assert r.status == 403 and "AppID" in r.body.decode()
    elif case in ("garbage", "no_encrypt"):
        ts, nonce = str(int(time.time())), "5551234"
        encrypted = base64.b64encode(b"this is not an AES block").decode() if case == "garbage" else ""
        body = f"<xml><ToUserName>{ACCOUNT}</ToUserName><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
        q = {"signature": sha1_sorted(TOKEN, ts, nonce), "timestamp": ts, "nonce": nonce, "encrypt_type": "aes",
             "msg_signature": sha1_sorted(TOKEN, ts, nonce, encrypted)}
        r = wechat.read(wechat.http.post("/wechat", params=q, content=body.encode()))
        assert r.status == 400 and "Encrypt" in r.body.decode()
    else:
        r = wechat.push(xml, signature="0" * 40)
        assert r.status == 403
    assert assistant.calls == [] and snapshot(db) == before


def test_the_encrypted_payload_is_bound_to_its_signature(wechat, assistant):
    """A genuine encrypted payload moved under another request's signature parameters fails."""
    ts, nonce = str(int(time.time())), "4242"
    encrypted = aes_encrypt(text_xml(new_openid(), "你好", new_msg_id()))
    other = aes_encrypt(text_xml(new_openid(), "我家断粮了", new_msg_id()))
    q = {"signature": sha1_sorted(TOKEN, ts, nonce), "timestamp": ts, "nonce": nonce, "encrypt_type": "aes",
         "msg_signature": sha1_sorted(TOKEN, ts, nonce, encrypted)}
    body = f"<xml><ToUserName>{ACCOUNT}</ToUserName><Encrypt><![CDATA[{other}]]></Encrypt></xml>"
    r = wechat.read(wechat.http.post("/wechat", params=q, content=body.encode()))
    assert r.status == 403 and assistant.calls == []


def test_url_check_in_safe_mode_still_echoes_plain_echostr(client):
    ts, nonce = str(int(time.time())), "77"
    r = client.get("/wechat", params={"signature": sha1_sorted(TOKEN, ts, nonce), "timestamp": ts,
                                      "nonce": nonce, "echostr": "e123"})
    assert r.status_code == 200 and r.text == "e123"


def test_encrypted_messages_of_two_senders_with_one_msg_id_are_answered_each_to_its_sender(wechat, assistant):
    a, b, msg_id = new_openid(), new_openid(), new_msg_id()
    ra = wechat.push(text_xml(a, "甲的问题", msg_id))
    rb = wechat.push(text_xml(b, "乙的问题", msg_id))
    assert ra.fields["ToUserName"] == a and ra.content == "助手答复：甲的问题"
    assert rb.fields["ToUserName"] == b and rb.content == "助手答复：乙的问题"
    assert len(assistant.calls) == 2
