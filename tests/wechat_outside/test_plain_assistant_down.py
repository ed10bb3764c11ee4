"""Plain mode with the assistant unreachable (no Rasa listening, no API credentials): the URL
check, the passive reply to every kind of message and event, retries — WeChat's side only."""
from __future__ import annotations

import re
import secrets
import threading
import time

import pytest

from tests.wechat_outside.fixtures import platform
from tests.wechat_outside.wechat_client import (
    ACCOUNT,
    assert_answers,
    event_msg,
    image_msg,
    link_msg,
    location_event,
    location_msg,
    new_msg_id,
    new_openid,
    text_msg,
    voice_msg,
)


wechat = platform("plain_no_rasa", speaks="plain")


# ------------------------------------------------------------------ 接入指南
def test_url_check_echoes_echostr_byte_for_byte(wechat):
    for echostr in ("4375120948345356249", secrets.token_urlsafe(24)):
        r = wechat.url_check(echostr)
        assert r.status_code == 200 and r.content == echostr.encode()
    r = wechat.url_check("123", path="/wechat/")  # a URL registered with a slash: no redirect
    assert r.status_code == 200 and r.content == b"123"


def test_url_check_refuses_a_forged_or_incomplete_request(wechat):
    assert wechat.url_check("1", signature="0" * 40).status_code == 403
    for name in ("signature", "timestamp", "nonce"):
        r = wechat.url_check("777", drop=(name,))
        assert r.status_code == 403 and r.content != b"777"
    assert wechat.url_check("777", drop=("echostr",)).status_code == 400


# ------------------------------------------------------------------ text: the fallback
def test_text_gets_a_valid_passive_reply_although_the_assistant_is_unreachable(wechat):
    openid = new_openid()
    reply = wechat.push(text_msg(openid, "我在西吉县，想问低保"))
    content = assert_answers(reply, openid)
    assert "12345" in content  # the fallback points to the hotline


def test_passive_reply_bytes(wechat):
    openid = new_openid()
    reply = wechat.push(text_msg(openid, "你好"))
    raw = reply.body.decode("utf-8")
    assert raw.lstrip().startswith("<xml>") and raw.rstrip().endswith("</xml>")
    assert f"<ToUserName><![CDATA[{openid}]]></ToUserName>" in raw
    assert f"<FromUserName><![CDATA[{ACCOUNT}]]></FromUserName>" in raw
    assert "<MsgType><![CDATA[text]]></MsgType>" in raw
    assert "<Content><![CDATA[" in raw


# ------------------------------------------------------------------ other messages and events
def test_subscribe_is_welcomed_and_unsubscribe_gets_nothing(wechat):
    openid = new_openid()
    welcome = assert_answers(wechat.push(event_msg(openid, "subscribe", EventKey="")), openid)
    assert "12345" in welcome
    scanned = wechat.push(event_msg(new_openid(), "subscribe", EventKey="qrscene_123", Ticket="TICKET"))
    assert scanned.fields is not None  # subscribing by QR code is subscribing
    assert wechat.push(event_msg(openid, "unsubscribe", EventKey="")).silent


def test_menu_events(wechat):
    openid = new_openid()
    assert wechat.push(event_msg(openid, "VIEW", EventKey="http://example.com/", MenuId="1")).silent
    # A tap on a menu button is a person waiting: it is answered with how to ask.
    click = wechat.push(event_msg(openid, "CLICK", EventKey="MENU_HELP"))
    assert not click.silent
    assert "请直接用文字告诉我" in assert_answers(click, openid)


def test_location_report_is_not_answered(wechat):
    assert wechat.push(location_event(new_openid())).silent


def test_an_event_in_the_same_second_as_the_subscribe_is_not_taken_for_its_retry(wechat):
    # The account asks for the caller's location: WeChat reports it right on subscribing, often in
    # the same second. Told apart only by sender + CreateTime, the report would be "a retry of the
    # subscribe" and get the welcome a second time.
    openid, now = new_openid(), int(time.time())
    assert_answers(wechat.push(event_msg(openid, "subscribe", now, EventKey="")), openid)
    assert wechat.push(location_event(openid, now)).silent


@pytest.mark.parametrize("make", [image_msg, link_msg, location_msg, lambda o: voice_msg(o, None)],
                         ids=["image", "link", "location", "voice-unrecognised"])
def test_messages_without_text_are_asked_for_text(wechat, make):
    openid = new_openid()
    content = assert_answers(wechat.push(make(openid)), openid)
    assert "文字" in content


def test_voice_with_recognition_is_answered_like_text(wechat):
    openid = new_openid()
    as_voice = assert_answers(wechat.push(voice_msg(openid, "我想问一下低保怎么申请")), openid)
    as_text = assert_answers(wechat.push(text_msg(openid, "我想问一下低保怎么申请")), openid)
    assert as_voice == as_text  # the assistant's (fallback) answer, not "please write"


# ------------------------------------------------------------------ retries
def test_retries_of_one_msgid_get_the_same_bytes(wechat):
    openid = new_openid()
    xml = text_msg(openid, "家里三口人", new_msg_id())
    first = wechat.push(xml)
    assert_answers(first, openid)
    for _ in range(2):  # WeChat tries three times in all
        again = wechat.push(xml)
        assert again.status == 200 and again.body == first.body


def test_concurrent_retries_get_one_answer(wechat):
    openid = new_openid()
    xml = text_msg(openid, "我失业了", new_msg_id())
    out = [None] * 3

    def go(i):
        out[i] = wechat.push(xml)

    threads = [threading.Thread(target=go, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len({o.body for o in out}) == 1 and all(o.status == 200 for o in out)
    assert_answers(out[0], openid)


def test_a_retried_event_gets_the_same_reply(wechat):
    openid, now = new_openid(), int(time.time())
    xml = event_msg(openid, "subscribe", now, EventKey="")
    first = wechat.push(xml)
    assert wechat.push(xml).body == first.body


# ------------------------------------------------------------------ two senders, one MsgId
def test_an_urgent_message_carrying_another_senders_msg_id_is_that_senders_own(wechat):
    """MsgId is only promised unique per message, not across senders as our client can see it: B's
    urgent message with A's MsgId must be B's — B's own case recorded, B told B's own county and
    case number, never A's; each sender's retries still get their own first reply."""
    a, b, msg_id = new_openid(), new_openid(), new_msg_id()
    a_xml = text_msg(a, "我在西吉县，已经两天没吃饭了，身上一分钱都没有，回不了家", msg_id)
    b_xml = text_msg(b, "我在隆德县，家里断粮了，孩子饿得直哭", msg_id)
    to_a = wechat.push(a_xml)
    to_b = wechat.push(b_xml)
    for_a, for_b = assert_answers(to_a, a), assert_answers(to_b, b)
    assert "西吉县" in for_a and "隆德县" in for_b and "西吉县" not in for_b
    case_a, case_b = re.findall(r"工单编号\s*(\d+)", for_a), re.findall(r"工单编号\s*(\d+)", for_b)
    assert case_a and case_b and case_a != case_b, (for_a, for_b)
    for _ in range(2):  # WeChat's retries, each sender's own: the same bytes, no new case
        assert wechat.push(b_xml).body == to_b.body
        assert wechat.push(a_xml).body == to_a.body
