"""Each message once, on SQLite and PostgreSQL: WeChat's retries of one MsgId (events: sender +
CreateTime) get the same reply and are processed once — sequential, overlapping, and after a
restart of the service; an urgent message retried three times opens exactly one ticket."""
from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from service.models.conversation import Conversation
from service.models.ticket import Ticket
from service.services.rasa import FakeRasa
from tests.wechat.conftest import (
    FakeAssistant,
    WeChatSide,
    counts,
    event_xml,
    make_app,
    new_msg_id,
    new_openid,
    text_xml,
)

URGENT = "我在西吉县，已经两天没吃饭了，身上一分钱都没有，回不了家"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request):
    return request.getfixturevalue(f"{request.param}_url")


def push_together(client, xmls: list[str], stagger: float = 0.0) -> list:
    """Send pushes from parallel threads (as WeChat's retries can overlap a slow first attempt)."""
    out: list = [None] * len(xmls)

    def one(i):
        out[i] = WeChatSide(client).push(xmls[i])

    threads = []
    for i in range(len(xmls)):
        t = threading.Thread(target=one, args=(i,))
        t.start()
        threads.append(t)
        time.sleep(stagger)
    for t in threads:
        t.join(30)
    return out


def test_three_retries_one_processing_identical_replies(wechat, assistant, db):
    openid, msg_id = new_openid(), new_msg_id()
    xml = text_xml(openid, "能领多少钱", msg_id)
    replies = [wechat.push(xml) for _ in range(3)]  # new timestamp and nonce each time, as WeChat does
    assert all(r.status == 200 for r in replies)
    assert replies[0].content == "助手答复：能领多少钱"
    assert len({r.body for r in replies}) == 1  # byte for byte
    assert len(assistant.calls) == 1 and counts(db)["wechat_inbound"] == 1


def test_a_retry_overlapping_a_slow_first_attempt_waits_for_its_reply(wechat, assistant, db):
    assistant.delay = 1.0
    xml = text_xml(new_openid(), "你好", new_msg_id())
    first, retry = push_together(wechat.http, [xml, xml], stagger=0.3)
    assert first.content == retry.content == "助手答复：你好"
    assert first.body == retry.body
    assert len(assistant.calls) == 1


def test_distinct_messages_of_one_caller_are_each_answered(wechat, assistant):
    openid, t = new_openid(), int(time.time())
    a = wechat.push(text_xml(openid, "第一句", new_msg_id(), create_time=t))
    b = wechat.push(text_xml(openid, "第二句", new_msg_id(), create_time=t))
    assert (a.content, b.content) == ("助手答复：第一句", "助手答复：第二句")
    assert len(assistant.calls) == 2


def test_events_are_told_apart_by_sender_and_create_time(wechat, db):
    a, b, t = new_openid(), new_openid(), int(time.time())
    for xml in (event_xml(a, "subscribe", t), event_xml(a, "subscribe", t), event_xml(b, "subscribe", t),
                event_xml(a, "subscribe", t + 1)):
        assert "欢迎" in wechat.push(xml).content
    assert counts(db)["wechat_inbound"] == 3


def test_retry_after_a_restart_is_not_processed_again(settings_kwargs, db, wechat_api):
    openid, msg_id = new_openid(), new_msg_id()
    xml = text_xml(openid, "我在隆德县", msg_id)
    first_assistant, second_assistant = FakeAssistant(), FakeAssistant()
    with TestClient(make_app(settings_kwargs, assistant=first_assistant, api=wechat_api)) as c:
        before = WeChatSide(c).push(xml)
    # A new process (another worker, or the service restarted) gets WeChat's retry.
    with TestClient(make_app(settings_kwargs, assistant=second_assistant, api=wechat_api)) as c:
        after = WeChatSide(c).push(xml)
    assert before.body == after.body
    assert len(first_assistant.calls) == 1 and second_assistant.calls == []


def test_two_workers_racing_on_one_message_process_it_once(settings_kwargs, db, wechat_api):
    """Two app instances (as two uvicorn workers) get the same push at the same moment."""
    shared = FakeAssistant(delay=0.5)
    xml = text_xml(new_openid(), "你好", new_msg_id())
    with TestClient(make_app(settings_kwargs, assistant=shared, api=wechat_api)) as c1, \
            TestClient(make_app(settings_kwargs, assistant=shared, api=wechat_api)) as c2:
        out = [None, None]

        def go(i, c):
            out[i] = WeChatSide(c).push(xml)

        threads = [threading.Thread(target=go, args=(i, c)) for i, c in enumerate((c1, c2))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    assert out[0].plain == out[1].plain and "助手答复：你好" in out[0].plain
    assert len(shared.calls) == 1


@pytest.fixture
def real_chat_app(settings_kwargs, db, wechat_api):
    """The service's own chat path (handle_turn), with Rasa down: the service itself opens the
    urgent ticket, as it does for the REST channel."""
    rasa = FakeRasa(up=False)
    app = make_app(settings_kwargs, assistant=None, api=wechat_api, rasa=rasa)
    return app, rasa


@pytest.mark.parametrize("overlapping", [False, True])
def test_urgent_message_retried_three_times_opens_exactly_one_ticket(real_chat_app, db, overlapping):
    app, rasa = real_chat_app
    openid = new_openid()
    xml = text_xml(openid, URGENT, new_msg_id())
    with TestClient(app) as c:
        if overlapping:
            replies = push_together(c, [xml, xml, xml], stagger=0.01)
        else:
            replies = [WeChatSide(c).push(xml) for _ in range(3)]
    assert all(r.status == 200 for r in replies)
    assert len({r.plain for r in replies}) == 1
    with db.sessionmaker() as s:
        tickets = list(s.scalars(select(Ticket)))
        conv = s.get(Conversation, openid)
    assert len(tickets) == 1
    t = tickets[0]
    assert t.source == "wechat" and t.conversation_id == openid and t.county == "西吉县"
    assert f"{t.id}" in replies[0].content and "12345" in replies[0].content
    # One chat turn reached the assistant chain, once.
    assert len(rasa.calls) == 1 and rasa.calls[0] == (openid, URGENT, {"channel": "wechat"})
    assert conv.turns == 1 and conv.channel == "wechat"
