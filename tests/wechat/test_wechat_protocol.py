"""The WeChat push protocol over HTTP in plain mode: the server-URL check, signatures, the
timestamp window, passive text replies, events and media, bad bodies — byte for byte as WeChat
sends them, and nothing stored or asked when a request is refused."""
from __future__ import annotations

import time
import xml.etree.ElementTree as ET

import policy_kb
import pytest
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st
from starlette.testclient import TestClient

from service.services.wechat_inbound import ASK_FOR_TEXT, ASK_FOR_TEXT_LOCATION
from tests.wechat.conftest import (
    ACCOUNT,
    TOKEN,
    WeChatSide,
    aes_encrypt,
    counts,
    event_xml,
    make_app,
    media_xml,
    new_msg_id,
    new_openid,
    sha1_sorted,
    snapshot,
    text_xml,
)


# ---------------------------------------------------------------- GET: the server-URL check
def test_url_check_echoes_echostr_only_with_the_right_signature(client):
    ts, nonce, echo = str(int(time.time())), "1405412341", "8347927349823749823"
    good = {"signature": sha1_sorted(TOKEN, ts, nonce), "timestamp": ts, "nonce": nonce, "echostr": echo}
    r = client.get("/wechat", params=good)
    assert r.status_code == 200 and r.text == echo
    bad = dict(good, signature=sha1_sorted("another-token", ts, nonce))
    r = client.get("/wechat", params=bad)
    assert r.status_code == 403 and echo not in r.text and "signature" in r.json()["detail"]
    r = client.get("/wechat", params={k: v for k, v in good.items() if k != "nonce"})
    assert r.status_code == 403 and "nonce" in r.json()["detail"]


def test_without_wechat_token_the_channel_says_it_is_not_configured(settings_kwargs, db, assistant):
    with TestClient(make_app(dict(settings_kwargs, wechat_token=None), assistant=assistant)) as c:
        for r in (c.get("/wechat", params={"echostr": "x"}),
                  c.post("/wechat", content=text_xml("oA", "你好", 1).encode())):
            assert r.status_code == 503
            assert "WECHAT_TOKEN" in r.json()["detail"]
    assert assistant.calls == []


# ---------------------------------------------------------------- POST: a text message
def test_text_message_gets_a_passive_text_reply_from_the_assistant(wechat, assistant, db):
    openid, msg_id = new_openid(), new_msg_id()
    r = wechat.push(text_xml(openid, "我在西吉县，家里四口人", msg_id))
    assert r.status == 200
    f = r.fields
    # To the caller, from our account, a text message with the assistant's words.
    assert f["ToUserName"] == openid and f["FromUserName"] == ACCOUNT and f["MsgType"] == "text"
    assert f["Content"] == "助手答复：我在西吉县，家里四口人"
    assert abs(int(f["CreateTime"]) - time.time()) < 60
    assert assistant.calls == [{"sender": openid, "message": "我在西吉县，家里四口人", "channel": "wechat",
                                "default_as_of": assistant.calls[0]["default_as_of"]}]
    assert counts(db)["wechat_inbound"] == 1


def test_reply_text_that_would_break_cdata_is_escaped(wechat, assistant):
    assistant.reply = lambda m: "a]]><b>x</b>&c"
    r = wechat.push(text_xml(new_openid(), "hi", new_msg_id()))
    assert r.content == "a]]><b>x</b>&c"


# ---------------------------------------------------------------- forged and stale requests
@pytest.mark.parametrize("case", ["wrong_token", "tampered_signature", "missing_signature", "stale",
                                  "future", "not_a_number", "non_ascii_signature"])
def test_forged_or_stale_pushes_are_refused_before_anything(wechat, assistant, db, case):
    before = snapshot(db)
    now = int(time.time())
    xml = text_xml(new_openid(), "我家断粮了，急需救助", new_msg_id())
    if case == "wrong_token":
        r = WeChatSide(wechat.http, token="guessed-token").push(xml)
    elif case == "tampered_signature":
        r = wechat.push(xml, signature="0" * 40)
    elif case == "non_ascii_signature":
        r = wechat.push(xml, signature="签名" * 20)
    elif case == "missing_signature":
        r = wechat.http.post("/wechat", params={"timestamp": str(now), "nonce": "1"}, content=xml.encode())
        r = wechat.read(r)
    elif case == "stale":  # a captured request replayed six minutes later
        r = wechat.push(xml, timestamp=now - 360)
    elif case == "future":
        r = wechat.push(xml, timestamp=now + 360)
    else:
        ts, nonce = "yesterday", "12345"
        r = wechat.read(wechat.http.post("/wechat", content=xml.encode(), params={
            "signature": sha1_sorted(TOKEN, ts, nonce), "timestamp": ts, "nonce": nonce}))
    assert r.status == 403
    assert assistant.calls == []
    assert snapshot(db) == before  # no claim, no ticket, nothing


def test_a_signed_url_cannot_carry_a_second_message(wechat, assistant, db):
    """Plain mode signs only (token, timestamp, nonce): a captured URL replayed within the window
    with another body is refused, so it cannot reach the bot."""
    now, nonce = int(time.time()), "998877"
    first = wechat.push(text_xml(new_openid(), "你好", new_msg_id()), timestamp=now, nonce=nonce)
    assert first.status == 200
    forged = wechat.push(text_xml(new_openid(), "我家断粮了，急需救助", new_msg_id()), timestamp=now, nonce=nonce)
    assert forged.status == 403
    assert len(assistant.calls) == 1


# ---------------------------------------------------------------- bodies
@pytest.mark.parametrize("body, words", [
    (b"", "empty"),
    (b"<xml><ToUserName>gh_1</ToUserName><FromUserName>oA", "malformed"),
    (b"not xml at all", "malformed"),
    (b"<root><MsgType>text</MsgType></root>", "<xml>"),
    (b'<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY a "aaaa">]><xml><Content>&a;</Content></xml>', "DOCTYPE"),
    ("<xml><ToUserName>gh_1</ToUserName><MsgType>text</MsgType><CreateTime>1</CreateTime><MsgId>1</MsgId></xml>"
     .encode(), "FromUserName"),
    (text_xml("oA", "x", 1).replace("<MsgId>1</MsgId>", "").encode(), "MsgId"),
    (text_xml("oA", "x", 1).replace("<CreateTime>", "<CreateTime>soon").encode(), "CreateTime"),
    (text_xml("o<b>", "x", 1).encode(), "FromUserName"),
    (text_xml("oA", "x", 1).encode("gbk", errors="ignore")[:-4] + "的".encode("gbk"), "malformed"),
])
def test_malformed_xml_is_a_clear_400_and_changes_nothing(wechat, assistant, db, body, words):
    before = snapshot(db)
    r = wechat.push(body)
    assert r.status == 400, r.body
    import json

    detail = json.loads(r.body)["detail"]
    assert words.lower() in detail.lower() or words in detail
    assert assistant.calls == [] and snapshot(db) == before


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be"])
def test_a_dtd_in_utf16_is_refused_too(wechat, assistant, db, codec):
    """With or without a byte-order mark, no byte pattern sees the DOCTYPE: the parser does."""
    before = snapshot(db)
    body = ('<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE xml SYSTEM "http://127.0.0.1:9/x.dtd">'
            + text_xml(new_openid(), "你好", new_msg_id())).encode(codec)
    r = wechat.push(body)
    assert r.status == 400 and "DOCTYPE" in r.body.decode()
    assert assistant.calls == [] and snapshot(db) == before


def test_oversized_bodies_are_413_and_change_nothing(wechat, assistant, db):
    before = snapshot(db)
    # Over the channel's own limit (16 KB here), under the service-wide one (64 KB).
    r = wechat.push(text_xml(new_openid(), "很长" * 5000, new_msg_id()))
    assert r.status == 413 and "16384" in r.body.decode()
    # Over the service-wide limit: refused before any route runs.
    r = wechat.push(text_xml(new_openid(), "很长" * 20000, new_msg_id()))
    assert r.status == 413
    assert assistant.calls == [] and snapshot(db) == before


def test_encrypted_push_without_safe_mode_is_refused(wechat, assistant):
    r = wechat.push(text_xml(new_openid(), "你好", new_msg_id()), encrypt=True)
    assert r.status == 400 and "WECHAT_ENCODING_AES_KEY" in r.body.decode()
    assert assistant.calls == []


def compat_push(client, xml: str, *, msg_signature: str | None = None):
    """兼容模式: the plaintext fields and <Encrypt> side by side, encrypt_type=aes, msg_signature."""
    encrypted = aes_encrypt(xml)
    ts, nonce = str(int(time.time())), str(time.time_ns())
    q = {"signature": sha1_sorted(TOKEN, ts, nonce), "timestamp": ts, "nonce": nonce, "openid": "oX",
         "encrypt_type": "aes", "msg_signature": msg_signature or sha1_sorted(TOKEN, ts, nonce, encrypted)}
    body = xml.replace("</xml>", f"<Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>")
    return client.post("/wechat", params=q, content=body.encode())


def test_compatible_mode_push_without_the_key_is_answered_in_plaintext(client, wechat, assistant):
    """Switching the account to compatible mode before the service has the key must not break
    the channel: the docs accept a plaintext reply to it, and msg_signature needs only the token."""
    openid = new_openid()
    r = compat_push(client, text_xml(openid, "兼容模式", new_msg_id()))
    assert r.status_code == 200
    fields = {c.tag: c.text for c in ET.fromstring(r.content)}
    assert fields["Content"] == "助手答复：兼容模式" and fields["ToUserName"] == openid
    forged = compat_push(client, text_xml(new_openid(), "伪造", new_msg_id()), msg_signature="0" * 40)
    assert forged.status_code == 403
    assert [c["message"] for c in assistant.calls] == ["兼容模式"]


# ---------------------------------------------------------------- events and media
def test_subscribe_gets_a_chinese_welcome_once(wechat, assistant, db):
    openid, t = new_openid(), int(time.time())
    replies = [wechat.push(event_xml(openid, "subscribe", t)) for _ in range(3)]
    welcome = replies[0].content
    doc = policy_kb.document()
    assert doc["number"] in welcome and "西吉县" in welcome and "12345" in welcome
    assert str(len(policy_kb.measures())) in welcome
    # Retries of the event (same sender + CreateTime) get the very same bytes, processed once.
    assert len({r.body for r in replies}) == 1
    assert counts(db)["wechat_inbound"] == 1 and assistant.calls == []
    # Subscribing through a QR code with a scene is a subscribe too.
    assert wechat.push(event_xml(new_openid(), "subscribe", t, key="qrscene_12")).content == welcome


def test_unsubscribe_and_menu_views_get_success(wechat, assistant):
    openid, t = new_openid(), int(time.time())
    for event in ("unsubscribe", "VIEW", "LOCATION", "TEMPLATESENDJOBFINISH"):
        r = wechat.push(event_xml(openid, event, t))
        t += 1
        assert r.status == 200 and r.plain == "success", event
    assert assistant.calls == []


def test_two_events_of_one_second_are_two_pushes(wechat, db):
    """Subscribing, the caller's LOCATION report (or a quick unsubscribe) often shares the
    subscribe's CreateTime: it is another push, not a retry of the subscribe, so it does not get
    the welcome again. A retry of either still gets its own stored reply."""
    openid, t = new_openid(), int(time.time())
    welcome = wechat.push(event_xml(openid, "subscribe", t))
    assert "欢迎" in welcome.content
    for event in ("LOCATION", "unsubscribe", "LOCATION"):
        assert wechat.push(event_xml(openid, event, t)).plain == "success", event
    assert wechat.push(event_xml(openid, "subscribe", t)).body == welcome.body
    assert counts(db)["wechat_inbound"] == 3


@pytest.mark.parametrize("msg_type, extra, expected", [
    ("voice", "<MediaId><![CDATA[m1]]></MediaId><Format><![CDATA[amr]]></Format>", ASK_FOR_TEXT),
    ("image", "<PicUrl><![CDATA[http://x/y.jpg]]></PicUrl><MediaId><![CDATA[m2]]></MediaId>", ASK_FOR_TEXT),
    ("video", "<MediaId><![CDATA[m3]]></MediaId><ThumbMediaId><![CDATA[t]]></ThumbMediaId>", ASK_FOR_TEXT),
    ("location", "<Location_X>36.0</Location_X><Location_Y>105.7</Location_Y><Scale>15</Scale>"
                 "<Label><![CDATA[西吉县]]></Label>", ASK_FOR_TEXT_LOCATION),
])
def test_media_messages_are_asked_for_text(wechat, assistant, msg_type, extra, expected):
    r = wechat.push(media_xml(new_openid(), msg_type, new_msg_id(), extra))
    assert r.content == expected and "文字" in expected
    assert assistant.calls == []


def test_voice_with_speech_recognition_goes_to_the_assistant(wechat, assistant):
    openid = new_openid()
    extra = "<MediaId><![CDATA[m1]]></MediaId><Format><![CDATA[amr]]></Format><Recognition><![CDATA[我在海原县]]></Recognition>"
    r = wechat.push(media_xml(openid, "voice", new_msg_id(), extra))
    assert r.content == "助手答复：我在海原县"
    assert assistant.calls[0]["sender"] == openid


def test_blank_text_is_answered_without_the_assistant(wechat, assistant):
    r = wechat.push(text_xml(new_openid(), "   ", new_msg_id()))
    assert "请用文字" in r.content and assistant.calls == []


def test_reply_xml_is_well_formed_utf8(wechat, assistant):
    assistant.reply = lambda m: "您可以申请临时救助。\n请携带身份证明。"
    r = wechat.push(text_xml(new_openid(), "怎么申请", new_msg_id()))
    root = ET.fromstring(r.body)
    assert root.tag == "xml" and root.find("Content").text == "您可以申请临时救助。\n请携带身份证明。"
    assert r.body.decode("utf-8")


def test_the_url_with_a_trailing_slash_works_without_a_redirect(wechat, assistant):
    ts, nonce = str(int(time.time())), "31337"
    sig = sha1_sorted(TOKEN, ts, nonce)
    r = wechat.http.get("/wechat/", params={"signature": sig, "timestamp": ts, "nonce": nonce, "echostr": "e1"},
                        follow_redirects=False)
    assert r.status_code == 200 and r.text == "e1"
    r = wechat.http.post("/wechat/", params={"signature": sig, "timestamp": ts, "nonce": nonce},
                         content=text_xml(new_openid(), "你好", new_msg_id()).encode(), follow_redirects=False)
    assert r.status_code == 200 and "助手答复：你好" in r.text


# ---------------------------------------------------------------- nothing crashes the channel

_FIELDS = st.sampled_from(["ToUserName", "FromUserName", "CreateTime", "MsgType", "Content", "MsgId",
                           "Event", "Recognition", "Encrypt", "xml", "Foo"])
_VALUES = st.one_of(st.text(max_size=40), st.sampled_from(["text", "event", "voice", "subscribe", "gh_1",
                                                           "oAbc", "123", "-1", "99999999999999999999999"]))


@st.composite
def bodies(draw):
    pairs = draw(st.lists(st.tuples(_FIELDS, _VALUES), max_size=8))
    inner = "".join(f"<{k}><![CDATA[{v.replace(']]>', '')}]]></{k}>" for k, v in pairs)
    return draw(st.sampled_from([f"<xml>{inner}</xml>", inner, f"<xml>{inner}", "<xml/>"]))


@hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=bodies())
def test_any_signed_body_gets_a_clear_answer_never_a_500(wechat, body):
    r = wechat.push(body)
    assert r.status in (200, 400, 403), (r.status, r.body[:200])
