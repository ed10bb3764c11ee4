"""Plain mode with a stand-in Rasa and a stand-in WeChat API: what reaches the assistant, what
comes back, each message processed once, and the slow path (`success` within WeChat's 5 s, the
answer later through 客服消息 custom/send)."""
from __future__ import annotations

import threading
import time

import pytest

from tests.wechat_outside.fixtures import fresh, platform  # noqa: F401 - pytest finds `fresh` by name
from tests.wechat_outside.wechat_client import (
    APP_ID,
    APP_SECRET,
    assert_answers,
    event_msg,
    image_msg,
    new_msg_id,
    new_openid,
    text_msg,
    voice_msg,
    wait_for,
)


wechat = platform("plain")
pytestmark = pytest.mark.usefixtures("fresh")




def test_text_reaches_the_assistant_as_the_caller_and_its_answer_is_the_reply(wechat, upstream):
    openid = new_openid()
    content = assert_answers(wechat.push(text_msg(openid, "我在西吉县，家里四口人")), openid)
    assert content == "答：我在西吉县，家里四口人"
    call = upstream.rasa_calls[-1]
    assert call["sender"] == openid and call["message"] == "我在西吉县，家里四口人"


def test_voice_recognition_reaches_the_assistant_like_text(wechat, upstream):
    openid = new_openid()
    content = assert_answers(wechat.push(voice_msg(openid, "低保一个月多少钱")), openid)
    assert content == "答：低保一个月多少钱" and upstream.calls_for(openid) == ["低保一个月多少钱"]


def test_media_and_events_do_not_reach_the_assistant(wechat, upstream):
    openid = new_openid()
    wechat.push(image_msg(openid))
    wechat.push(voice_msg(openid, None))
    wechat.push(event_msg(openid, "subscribe", EventKey=""))
    assert upstream.calls_for(openid) == []


def test_three_tries_of_one_msgid_one_assistant_call_same_bytes(wechat, upstream):
    openid = new_openid()
    xml = text_msg(openid, "我是低保户", new_msg_id())
    replies = [wechat.push(xml) for _ in range(3)]
    assert_answers(replies[0], openid)
    assert len({r.body for r in replies}) == 1
    assert upstream.calls_for(openid) == ["我是低保户"]


def test_overlapping_tries_while_the_assistant_works_are_processed_once(wechat, upstream):
    upstream.rasa_delay = 1.0
    openid = new_openid()
    xml = text_msg(openid, "我失业三个月了", new_msg_id())
    out = [None] * 3

    def go(i):
        out[i] = wechat.push(xml)

    threads = []
    for i in range(3):
        threads.append(threading.Thread(target=go, args=(i,)))
        threads[-1].start()
        time.sleep(0.2)
    for t in threads:
        t.join(30)
    assert upstream.calls_for(openid) == ["我失业三个月了"]
    assert len({o.body for o in out}) == 1
    assert assert_answers(out[0], openid) == "答：我失业三个月了"


def test_two_messages_with_distinct_msgids_are_both_answered(wechat, upstream):
    openid = new_openid()
    now = int(time.time())
    a = assert_answers(wechat.push(text_msg(openid, "第一句", create_time=now)), openid)
    b = assert_answers(wechat.push(text_msg(openid, "第二句", create_time=now)), openid)
    assert (a, b) == ("答：第一句", "答：第二句")


@pytest.mark.parametrize("words", ["a]]>b <c> & \"d\"", "谢谢😀/::)", "第一行\n第二行"],
                         ids=["cdata-end-and-markup", "emoji", "newline"])
def test_awkward_characters_survive_the_round_trip(wechat, upstream, words):
    openid = new_openid()
    assert assert_answers(wechat.push(text_msg(openid, words)), openid) == "答：" + words
    assert upstream.calls_for(openid) == [words]


def test_a_broken_assistant_still_gives_a_valid_reply(wechat, upstream):
    upstream.rasa_mode = "reset"
    openid = new_openid()
    assert "12345" in assert_answers(wechat.push(text_msg(openid, "你好")), openid)


def test_a_long_answer_fits_a_passive_reply(wechat, upstream):
    openid = new_openid()
    words = "我家在海原县，老伴瘫痪在床，儿子在外打工失业了，" * 30
    content = assert_answers(wechat.push(text_msg(openid, words)), openid)
    assert len(content.encode("utf-8")) <= 2048  # the text reply's limit
    assert content.startswith("答：我家在海原县")


# ------------------------------------------------------------------ the slow path
def test_a_slow_assistant_gets_success_in_time_and_the_answer_by_custom_send(wechat, upstream):
    upstream.rasa_delay = 6.0  # longer than WeChat waits
    openid = new_openid()
    xml = text_msg(openid, "失业补助能领多少", new_msg_id())
    first = wechat.push(xml)
    assert first.silent and first.elapsed < 5.0, (first.body[:80], first.elapsed)
    retry = wechat.push(xml)  # WeChat would not retry after `success`; a retry anyway changes nothing
    assert retry.silent and retry.elapsed < 5.0
    sent = wait_for(lambda: upstream.sent_to(openid), timeout=20)
    assert sent == [{"touser": openid, "msgtype": "text", "text": {"content": "答：失业补助能领多少"}}]
    assert upstream.calls_for(openid) == ["失业补助能领多少"]
    # The access token came from appid + secret (custom/send refuses any other token).
    assert upstream.token_requests and all(
        t == {"grant_type": ["client_credential"], "appid": [APP_ID], "secret": [APP_SECRET]}
        for t in upstream.token_requests)
    time.sleep(1.0)
    assert len(upstream.sent_to(openid)) == 1  # sent once


def test_two_senders_whose_messages_carry_one_msg_id_each_get_their_own_answer(wechat, upstream):
    """MsgId is unique only as WeChat promises; a colliding id from another sender is that sender's
    own message: processed, answered to them, and the first sender's reply never reaches them."""
    a, b, msg_id = new_openid(), new_openid(), new_msg_id()
    first = assert_answers(wechat.push(text_msg(a, "甲：我在西吉县", msg_id)), a)
    second = assert_answers(wechat.push(text_msg(b, "乙：我在隆德县", msg_id)), b)
    assert first == "答：甲：我在西吉县" and second == "答：乙：我在隆德县"
    assert upstream.calls_for(a) == ["甲：我在西吉县"] and upstream.calls_for(b) == ["乙：我在隆德县"]
    # a's retry is still answered once, from a's stored reply
    assert assert_answers(wechat.push(text_msg(a, "甲：我在西吉县", msg_id)), a) == first
    assert upstream.calls_for(a) == ["甲：我在西吉县"]
