"""Each message once, on SQLite and PostgreSQL: WeChat's retries of one MsgId (events: sender +
CreateTime) get the same reply and are processed once — sequential, overlapping, and after a
restart of the service; an urgent message retried three times opens exactly one ticket."""
from __future__ import annotations

import hashlib
import threading
import time

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from service.models.conversation import Conversation
from service.models.ticket import Ticket
from service.services.rasa import FakeRasa
from tests.log_support import capture_json_logs
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
    # These tests are about each message once, not the deadline: a busy CI host must not push
    # the answer onto the deferred path (the deadline has tests of its own).
    kwargs = dict(settings_kwargs, wechat_reply_deadline_seconds=30.0)
    app = make_app(kwargs, assistant=None, api=wechat_api, rasa=rasa)
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


def test_two_quick_messages_of_one_new_caller_are_both_answered_in_order(real_chat_app, db):
    """The real chat path: without one turn at a time per caller, the two first turns would race
    to create the conversation record."""
    app, rasa = real_chat_app
    rasa.up = True
    openid = new_openid()
    first = text_xml(openid, "我在西吉县", new_msg_id())
    second = text_xml(openid, "家里4口人", new_msg_id())
    with TestClient(app) as c:
        a, b = push_together(c, [first, second], stagger=0.0)
    assert a.content == "收到：我在西吉县" and b.content == "收到：家里4口人"
    with db.sessionmaker() as s:
        conv = s.get(Conversation, openid)
    assert conv.turns == 2 and conv.facts["county"] == "西吉县" and conv.facts["household_size"] == 4


def test_one_turn_at_a_time_per_caller(settings_kwargs, db, wechat_api):
    """Two quick messages of one caller reach the assistant one after the other (a slow first
    turn is not overtaken); another caller is not held up."""
    spans: dict[str, tuple[float, float]] = {}

    def slow_first(session, rasa, *, sender, message, channel, default_as_of, sla_minutes):
        start = time.monotonic()
        time.sleep(0.5 if message == "第一句" else 0.05)
        spans[message] = (start, time.monotonic())
        return FakeAssistant()(session, rasa, sender=sender, message=message, channel=channel,
                               default_as_of=default_as_of, sla_minutes=sla_minutes)

    caller, other = new_openid(), new_openid()
    with TestClient(make_app(settings_kwargs, assistant=slow_first, api=wechat_api)) as c:
        push_together(c, [text_xml(caller, "第一句", new_msg_id()), text_xml(caller, "第二句", new_msg_id()),
                          text_xml(other, "别人的", new_msg_id())], stagger=0.1)
    assert spans["第二句"][0] >= spans["第一句"][1]  # waited for the first turn
    assert spans["别人的"][0] < spans["第一句"][1]  # another caller ran alongside


def test_turns_keep_arrival_order_and_never_stall_for_good():
    from service.services.wechat_inbound import _Turn, _Turns

    line = _Turns()
    t0, t1, t2 = _Turn(line), _Turn(line), _Turn(line)
    assert t0.wait(0.01) and not t1.wait(0.01)
    t1.done()  # a retry or an event finished early: it does not let t2 overtake t0
    assert not t2.wait(0.01)
    t0.done()
    assert t2.wait(0.01)
    t0.done()  # twice is harmless
    t3 = _Turn(line)
    assert not t3.wait(0.05)  # t2 never finishes: t3 gives up waiting after its patience


def test_another_senders_message_with_the_same_msg_id_gets_its_own_answer(wechat, assistant, db):
    """Issue 14: a MsgId is unique per sender only as far as we rely on it; B's colliding message is
    B's, processed anew, and A's stored reply never reaches B."""
    a, b, msg_id = new_openid(), new_openid(), new_msg_id()
    first = wechat.push(text_xml(a, "我是A", msg_id))
    second = wechat.push(text_xml(b, "我是B", msg_id))
    assert first.content == "助手答复：我是A" and first.fields["ToUserName"] == a
    assert second.content == "助手答复：我是B" and second.fields["ToUserName"] == b
    assert len(assistant.calls) == 2 and counts(db)["wechat_inbound"] == 2
    # and A's own retry is still A's stored reply, processed once
    again = wechat.push(text_xml(a, "我是A", msg_id))
    assert again.body == first.body and len(assistant.calls) == 2


def test_the_same_msg_id_on_another_official_account_is_another_message(wechat, assistant, db):
    openid, msg_id = new_openid(), new_msg_id()
    one = wechat.push(text_xml(openid, "第一个号", msg_id))
    other = wechat.push(text_xml(openid, "第二个号", msg_id, account="gh_otheraccount1"))
    assert (one.content, other.content) == ("助手答复：第一个号", "助手答复：第二个号")
    assert other.fields["FromUserName"] == "gh_otheraccount1"


def test_an_urgent_message_colliding_with_another_senders_msg_id_opens_its_own_ticket(real_chat_app, db):
    app, _ = real_chat_app
    a, b, msg_id = new_openid(), new_openid(), new_msg_id()
    with TestClient(app) as c:
        side = WeChatSide(c)
        ra = side.push(text_xml(a, URGENT, msg_id))
        rb = side.push(text_xml(b, "我在隆德县，家里断粮了，孩子饿得直哭", msg_id))
        rb_again = side.push(text_xml(b, "我在隆德县，家里断粮了，孩子饿得直哭", msg_id))
    assert ra.fields["ToUserName"] == a and rb.fields["ToUserName"] == b and rb_again.body == rb.body
    with db.sessionmaker() as s:
        tickets = s.scalars(select(Ticket).order_by(Ticket.id)).all()
    assert [t.conversation_id for t in tickets] == [a, b]
    assert [t.county for t in tickets] == ["西吉县", "隆德县"]
    assert f"工单编号 {tickets[0].id}" in ra.content and f"工单编号 {tickets[0].id}）" not in rb.content
    assert f"工单编号 {tickets[1].id}" in rb.content and "西吉县" not in rb.content


def test_a_stored_reply_addressed_to_someone_else_is_never_returned(wechat, assistant, db):
    from service.models.wechat import WeChatInbound

    openid, msg_id = new_openid(), new_msg_id()
    wechat.push(text_xml(openid, "你好", msg_id))
    with db.sessionmaker() as s:  # a row damaged by hand (or by a bug): its reply is another caller's
        row = s.scalar(select(WeChatInbound))
        row.reply_xml = row.reply_xml.replace(openid, "oSomebodyElse")
        s.commit()
    with capture_json_logs(logger="service.wechat") as logs:
        again = wechat.push(text_xml(openid, "你好", msg_id))
    assert again.plain == "success" and len(assistant.calls) == 1
    assert [line["openid_ref"] for line in logs.events("wechat.foreign_reply")] == [hashlib.sha1(openid.encode()).hexdigest()[:10]]
    assert "oSomebodyElse" not in "".join(logs.raw)


def test_a_retry_of_a_silent_reply_is_not_mistaken_for_a_foreign_one(wechat, db):
    """A stored "success" (unsubscribe, or a late answer) carries no ToUserName: it is the retry's
    reply, not another caller's, and logs no error."""
    xml = event_xml(new_openid(), "unsubscribe", int(time.time()))
    assert wechat.push(xml).plain == "success"
    with capture_json_logs(logger="service.wechat") as logs:
        assert wechat.push(xml).plain == "success"
    assert logs.events("wechat.retry") and not logs.events("wechat.foreign_reply")


def test_a_passive_reply_is_never_addressed_to_anybody_but_its_sender(wechat):
    """WeChatSide.push checks every passive reply's ToUserName against the push's FromUserName; this
    is the check's own test, so a broken check cannot pass unnoticed."""
    from tests.wechat.conftest import Reply, sender_of

    assert sender_of(text_xml("oSender1", "你好", 1)) == "oSender1"
    side = WeChatSide(wechat.http)
    side.read = lambda r: Reply(200, b"", "", {"ToUserName": "oSomebodyElse", "Content": "x"})
    with pytest.raises(AssertionError):
        side.push(text_xml(new_openid(), "你好", new_msg_id()))


def test_a_key_matching_another_senders_row_is_answered_anew_not_from_that_row(wechat, assistant, db):
    """Defence in depth: should a row under this message's key ever belong to another sender (a bug,
    a hand edit), its reply is not sent; the message is answered as its own sender's, unstored."""
    from service.channels.wechat_protocol import Inbound, render_text
    from service.models.base import utcnow
    from service.models.wechat import WeChatInbound
    from tests.wechat.conftest import ACCOUNT

    a, b, msg_id = new_openid(), new_openid(), str(new_msg_id())
    b_key = Inbound(openid=b, account=ACCOUNT, msg_type="text", create_time=1, msg_id=msg_id).dedupe_key
    a_reply = render_text(Inbound(openid=a, account=ACCOUNT, msg_type="text", create_time=1, msg_id=msg_id),
                          "给A的答复")
    with db.sessionmaker() as s:
        s.add(WeChatInbound(dedupe_key=b_key, openid=a, account=ACCOUNT, msg_type="text", sig_timestamp=1,
                            nonce="n-foreign", state="answered", reply_xml=a_reply, claimed_at=utcnow()))
        s.commit()
    with capture_json_logs(logger="service.wechat") as logs:
        r = wechat.push(text_xml(b, "B的问题", msg_id))
    assert r.fields["ToUserName"] == b and r.content == "助手答复：B的问题" and "给A的答复" not in r.plain
    assert [call["sender"] for call in assistant.calls] == [b]
    assert len(logs.events("wechat.foreign_row")) == 1
