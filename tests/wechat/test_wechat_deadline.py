"""The five-second rule: a slow assistant (the fake, behind handle_turn's signature, with a delay)
forces the async path — "success" at the deadline, then the answer from the customer-service
outbox through the fake API client, retried after a failure; without API credentials the
answer waits for the caller's “详细”."""
from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from service.models.base import utcnow
from service.models.wechat import WeChatDelivery, WeChatInbound
from service.services.wechat_inbound import PENDING_TEXT
from tests.wechat.conftest import ACCOUNT, WeChatSide, make_app, new_msg_id, new_openid, text_xml

# Long enough that a fast answer is passive even on a busy test machine.
DEADLINE = 1.5


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request):
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture
def settings_kwargs(settings_kwargs):
    return dict(settings_kwargs, wechat_reply_deadline_seconds=DEADLINE)


def wait_for(predicate, timeout=10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def deliveries(db) -> list[WeChatDelivery]:
    with db.sessionmaker() as s:
        return list(s.scalars(select(WeChatDelivery).order_by(WeChatDelivery.id)))


def inbound(db, key) -> WeChatInbound:
    with db.sessionmaker() as s:
        return s.scalar(select(WeChatInbound).where(WeChatInbound.dedupe_key == key))


def test_slow_assistant_success_now_answer_later_with_a_retry(client, wechat, assistant, wechat_api, db):
    assistant.delay = DEADLINE + 1.5
    openid, msg_id = new_openid(), new_msg_id()
    t0 = time.monotonic()
    r = wechat.push(text_xml(openid, "我在固原，失业三个月了", msg_id))
    took = time.monotonic() - t0
    assert r.status == 200 and r.plain == "success"
    assert DEADLINE <= took < DEADLINE + 1.2  # answered at the deadline, not after the assistant
    # WeChat would not retry a "success", but if it did: the same "success", nothing redone.
    assert wechat.push(text_xml(openid, "我在固原，失业三个月了", msg_id)).plain == "success"

    [row] = wait_for(lambda: deliveries(db))  # the assistant finished: its answer is in the outbox
    stored = inbound(db, f"msg:{ACCOUNT}:{openid}:{msg_id}")
    assert stored.state == "deferred" and stored.reply_xml == "success"
    assert wechat.push(text_xml(openid, "我在固原，失业三个月了", msg_id)).plain == "success"
    assert row.openid == openid and row.dedupe_key == f"msg:{ACCOUNT}:{openid}:{msg_id}" and row.state == "pending"
    worker = client.app.state.wechat_channel.worker
    wechat_api.fail_next = 1  # WeChat's API hiccups once
    assert worker.drain_once() == 0
    [row] = deliveries(db)
    assert row.state == "pending" and row.attempts == 1 and "busy" in row.last_error
    assert wechat_api.sent == []
    assert worker.drain_once() == 0  # backing off: not due yet
    assert worker.drain_once(now=utcnow() + timedelta(minutes=5)) == 1
    assert wechat_api.to(openid) == ["助手答复：我在固原，失业三个月了"]
    [row] = deliveries(db)
    assert row.state == "sent" and row.attempts == 2 and row.sent_at is not None
    assert worker.drain_once(now=utcnow() + timedelta(minutes=10)) == 0  # sent once
    assert len(assistant.calls) == 1


def test_the_background_worker_delivers_by_itself(settings_kwargs, db, assistant, wechat_api):
    kwargs = dict(settings_kwargs, outbox_enabled=True, outbox_poll_seconds=0.2, outbox_backoff_seconds=0.2)
    assistant.delay = DEADLINE + 0.5
    wechat_api.fail_next = 1
    openid = new_openid()
    with TestClient(make_app(kwargs, assistant=assistant, api=wechat_api)) as c:
        assert WeChatSide(c).push(text_xml(openid, "低保标准是多少", new_msg_id())).plain == "success"
        wait_for(lambda: wechat_api.to(openid), timeout=15)
    assert wechat_api.to(openid) == ["助手答复：低保标准是多少"] and wechat_api.attempts == 2


def test_a_retry_during_the_slow_answer_gets_success_and_nothing_is_done_twice(client, wechat, assistant, db):
    from tests.wechat.test_wechat_once import push_together

    assistant.delay = DEADLINE + 1.0
    xml = text_xml(new_openid(), "你好", new_msg_id())
    first, retry = push_together(client, [xml, xml], stagger=0.2)
    assert first.plain == retry.plain == "success"
    wait_for(lambda: deliveries(db))
    assert len(deliveries(db)) == 1 and len(assistant.calls) == 1


def test_a_fast_answer_is_passive_and_nothing_goes_to_the_outbox(wechat, assistant, db, wechat_api):
    assistant.delay = 0.05
    r = wechat.push(text_xml(new_openid(), "你好", new_msg_id()))
    assert r.content == "助手答复：你好"
    time.sleep(0.2)
    assert deliveries(db) == [] and wechat_api.sent == []


def test_without_api_credentials_the_late_answer_waits_for_xiangxi(settings_kwargs, db, assistant):
    assistant.delay = DEADLINE + 0.5
    openid = new_openid()
    with TestClient(make_app(settings_kwargs, assistant=assistant, api=None)) as c:
        wx = WeChatSide(c)
        key = new_msg_id()
        r = wx.push(text_xml(openid, "我能领什么", key))
        assert r.content == PENDING_TEXT and "详细" in r.content
        wait_for(lambda: inbound(db, f"msg:{ACCOUNT}:{openid}:{key}").state == "deferred")  # the assistant finished
        assistant.delay = 0
        r = wx.push(text_xml(openid, "详细", new_msg_id()))
        assert r.content == "助手答复：我能领什么"
    assert len(assistant.calls) == 1  # "详细" was answered from the stored answer
    assert deliveries(db) == []
