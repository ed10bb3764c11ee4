"""WeChat's text limits (2048 bytes of UTF-8 per passive reply and per customer-service message):
long answers are cut at natural breaks, the rest handed out on “详细” or sent as follow-up
messages; and personal data never reaches the logs unmasked."""
from __future__ import annotations

import logging
import re

from hypothesis import given, settings, strategies as st

from service.core.logging import JsonFormatter
from service.services.wechat_text import (
    MAX_TEXT_BYTES,
    MORE_HINT,
    is_more_request,
    split_text,
    utf8_len,
)
from tests.wechat.conftest import new_msg_id, new_openid, text_xml
from tests.wechat.test_wechat_deadline import DEADLINE, deliveries, wait_for

PARAGRAPH = ("根据宁政办规发〔2022〕7号，对符合条件的困难群众，按规定及时发放临时救助金；"
             "申请人可向户籍所在地或经常居住地的乡镇（街道）提出申请，并提供身份证明、家庭经济状况说明等材料。")
LONG = "\n\n".join(f"第{i}条说明：{PARAGRAPH}" for i in range(1, 31))  # ~ 8 KB


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


# ---------------------------------------------------------------- splitting
@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("政策救助金。，；！？\n 12aZ😀")), min_size=0, max_size=3000),
       st.integers(min_value=64, max_value=2048))
def test_split_parts_fit_and_lose_nothing(text, limit):
    parts = split_text(text, limit, hint=MORE_HINT if limit > 200 else "")
    assert all(utf8_len(p) <= limit for p in parts)
    assert squash("".join(parts)) == squash(text)


def test_split_prefers_paragraph_and_sentence_ends():
    parts = split_text(LONG, MAX_TEXT_BYTES, hint=MORE_HINT)
    assert len(parts) >= 4
    for p in parts[:-1]:
        assert utf8_len(p + MORE_HINT) <= MAX_TEXT_BYTES
        assert p.endswith(("。", "；")), p[-10:]


def test_more_requests_are_recognised_but_not_inside_sentences():
    for yes in ("详细", "详细。", " 详细 ", "“详细”", "查看详细", "更多", "全文", "查看完整说明"):
        assert is_more_request(yes), yes
    for no in ("我想详细了解低保", "详细说说临时救助", "不详细", "你好"):
        assert not is_more_request(no), no


# ---------------------------------------------------------------- over HTTP
def test_long_answer_passive_part_then_the_rest_on_xiangxi(wechat, assistant):
    assistant.reply = lambda m: LONG if m == "我能领什么" else f"助手答复：{m}"
    openid = new_openid()
    r = wechat.push(text_xml(openid, "我能领什么", new_msg_id()))
    got = [r.content]
    while got[-1].endswith(MORE_HINT.strip()):
        assert utf8_len(got[-1]) <= MAX_TEXT_BYTES
        got.append(wechat.push(text_xml(openid, "详细", new_msg_id())).content)
    assert len(got) >= 4 and utf8_len(got[-1]) <= MAX_TEXT_BYTES
    assert squash("".join(g.replace(MORE_HINT.strip(), "") for g in got)) == squash(LONG)
    assert len(assistant.calls) == 1  # the parts came from the store, not the assistant
    # Nothing held back any more: "详细" is an ordinary message again.
    assert wechat.push(text_xml(openid, "详细", new_msg_id())).content == "助手答复：详细"


def test_a_new_question_replaces_the_held_back_rest(wechat, assistant):
    assistant.reply = lambda m: LONG if m == "长" else "短答复"
    openid = new_openid()
    assert wechat.push(text_xml(openid, "长", new_msg_id())).content.endswith(MORE_HINT.strip())
    assert wechat.push(text_xml(openid, "别的问题", new_msg_id())).content == "短答复"
    assert wechat.push(text_xml(openid, "详细", new_msg_id())).content == "短答复"
    assert len(assistant.calls) == 3


def test_xiangxi_retried_hands_out_one_part_once(wechat, assistant):
    assistant.reply = lambda m: LONG
    openid = new_openid()
    wechat.push(text_xml(openid, "我能领什么", new_msg_id()))
    more = text_xml(openid, "详细", new_msg_id())
    a, b, c = (wechat.push(more) for _ in range(3))
    assert a.body == b.body == c.body
    nxt = wechat.push(text_xml(openid, "详细", new_msg_id()))
    assert nxt.content != a.content  # the next part, not the one the retries repeated


def test_a_late_long_answer_goes_out_as_ordered_customer_service_messages(
        settings_kwargs, db, assistant, wechat_api):
    from starlette.testclient import TestClient

    from tests.wechat.conftest import WeChatSide, make_app

    assistant.reply = lambda m: LONG
    assistant.delay = DEADLINE + 0.4
    openid = new_openid()
    with TestClient(make_app(dict(settings_kwargs, wechat_reply_deadline_seconds=DEADLINE),
                             assistant=assistant, api=wechat_api)) as c:
        assert WeChatSide(c).push(text_xml(openid, "我能领什么", new_msg_id())).plain == "success"
        wait_for(lambda: deliveries(db))
        wechat_api.fail_next = 0
        worker = c.app.state.wechat_channel.worker
        assert worker.drain_once() == 1
    sent = wechat_api.to(openid)
    assert len(sent) >= 4 and all(utf8_len(p) <= MAX_TEXT_BYTES for p in sent)
    assert squash("".join(sent)) == squash(LONG)  # in order, nothing lost
    assert not any("详细" in p for p in sent)


def test_a_failure_halfway_resumes_at_the_part_not_sent(settings_kwargs, db, assistant):
    from datetime import timedelta

    from starlette.testclient import TestClient

    from service.models.base import utcnow
    from service.services.wechat_api import FakeWeChatApi, WeChatApiError
    from tests.wechat.conftest import WeChatSide, make_app

    class FlakyApi(FakeWeChatApi):
        def send_text(self, openid, content):
            if len(self.sent) == 2 and self.fail_next == 0 and not getattr(self, "failed", False):
                self.failed = True
                raise WeChatApiError("network down after two parts")
            super().send_text(openid, content)

    api = FlakyApi()
    assistant.reply = lambda m: LONG
    assistant.delay = DEADLINE + 0.3
    openid = new_openid()
    with TestClient(make_app(dict(settings_kwargs, wechat_reply_deadline_seconds=DEADLINE),
                             assistant=assistant, api=api)) as c:
        WeChatSide(c).push(text_xml(openid, "我能领什么", new_msg_id()))
        wait_for(lambda: deliveries(db))
        worker = c.app.state.wechat_channel.worker
        assert worker.drain_once() == 0
        [row] = deliveries(db)
        assert row.parts_sent == 2 and row.state == "pending"
        assert worker.drain_once(now=utcnow() + timedelta(minutes=5)) == 1
    sent = api.to(openid)
    assert len(sent) == len(row.parts)  # no part twice
    assert squash("".join(sent)) == squash(LONG)


# ---------------------------------------------------------------- personal data in logs
def test_personal_numbers_never_reach_the_logs(wechat, assistant, caplog):
    text = "我叫张三，身份证642222199001011234，电话13812345678，在西吉县"
    caplog.set_level(logging.DEBUG)
    openid = new_openid()
    r = wechat.push(text_xml(openid, text, new_msg_id()))
    assert r.status == 200
    lines = [JsonFormatter().format(rec) for rec in caplog.records]
    joined = "\n".join(lines)
    assert any('"wechat.answered"' in line for line in lines)
    assert "642222199001011234" not in joined and "13812345678" not in joined
    assert "张三" not in joined  # names cannot be masked by pattern: the words are not logged at all
    # The caller is referred to by a hash, not by the openid.
    assert openid not in joined
