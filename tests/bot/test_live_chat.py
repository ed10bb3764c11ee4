"""End to end: the trained model on a real Rasa server, the real action server (fake tickets),
a whole conversation through Rasa's REST channel, state checked through the tracker API."""
from __future__ import annotations

import re
import uuid
from datetime import date

import policy_kb
import pytest

from actions import replies
from live_rasa import LiveBot, model_path

pytestmark = [pytest.mark.rasa, pytest.mark.slow]

AS_OF = "2022-07-01"
EXPIRED = "2024-03-01"
ANSWER_MARK = "去哪里办"  # utter_entitlement
MAX_TURNS = 10


@pytest.fixture(scope="module")
def bot():
    live = LiveBot(model_path(), as_of=AS_OF, tickets="fake")
    live.start()
    yield live
    live.stop()


def _slot(bot, sender, name):
    return bot.tracker(sender)["slots"].get(name)


def _answer_until_done(bot, sender, replies_so_far):
    """Reply 没有 to each question until the bot answers (the form asks at most a few)."""
    turns = 0
    while not any(ANSWER_MARK in r for r in replies_so_far):
        turns += 1
        assert turns <= MAX_TURNS, f"no answer after {MAX_TURNS} turns: {replies_so_far}"
        assert replies_so_far, "the bot must reply to every message"
        replies_so_far = bot.chat(sender, "没有")
    return replies_so_far, turns


def test_facts_then_answer_with_amounts_then_correction(bot):
    sender = f"e2e-{uuid.uuid4().hex[:8]}"
    first = bot.chat(sender, "你好，我是西吉县农村的低保户，一家四口")
    answer, turns = _answer_until_done(bot, sender, first)
    text = "\n".join(answer)

    facts = _slot(bot, sender, "facts")
    assert facts["county"] == "西吉县" and facts["residence"] == "rural"
    assert facts["household_size"] == 4 and "dibao" in facts["statuses"]
    assert turns <= 6  # the cap on questions

    ev = policy_kb.evaluate(facts, today=date.fromisoformat(AS_OF))
    eligible = [m for m in ev["measures"] if m["status"] == "eligible"]
    assert eligible
    once = sum(a["total"] for m in eligible for a in m["amounts"] if a["frequency"] == "once")
    assert f"合计{replies.money(once)}元" in text
    for m in eligible:
        if m.get("apply_at"):
            assert f"第{m['id']}条" in text

    # a correction in a later turn changes the facts and the answer
    corrected, _ = _answer_until_done(bot, sender, bot.chat(sender, "不对，我们是城市的"))
    assert _slot(bot, sender, "facts")["residence"] == "urban"
    assert "城市" in "\n".join(corrected)

    # one measure on request, with its citation
    measure = "\n".join(bot.chat(sender, "第五条是什么内容"))
    assert "第5条" in measure and policy_kb.measure(5)["title"] in measure


def test_urgent_message_gets_a_ticket_number_once(bot):
    sender = f"e2e-{uuid.uuid4().hex[:8]}"
    first = "\n".join(bot.chat(sender, "救命，我们家已经两天没饭吃了，我在海原县"))
    m = re.search(r"工单号：(\S+?)。", first)
    assert m, first
    ticket = m.group(1)
    assert "110" in first and "120" in first
    tracker = bot.tracker(sender)
    assert tracker["slots"]["ticket_ids"] == [ticket]
    assert tracker["slots"]["facts"]["urgent"] is True

    again = "\n".join(bot.chat(sender, "救命，我们家已经两天没饭吃了，我在海原县"))
    assert ticket in again
    assert _slot(bot, sender, "ticket_ids") == [ticket]


def test_every_message_gets_a_reply(bot):
    sender = f"e2e-{uuid.uuid4().hex[:8]}"
    for text in ("你是机器人吗", "帮我查一下明天的天气", "转人工", "这个政策还有效吗", "asdfgh", "谢谢，再见"):
        assert bot.chat(sender, text), text


def test_after_the_end_date_the_bot_says_the_measures_expired(bot):
    bot.restart_actions(as_of=EXPIRED)
    try:
        sender = f"e2e-{uuid.uuid4().hex[:8]}"
        text = "\n".join(bot.chat(sender, "我是平罗县的低保户，两口人，能领什么补贴"))
        doc = policy_kb.evaluate({}, today=date.fromisoformat(EXPIRED))["document"]
        assert replies.cn_date(doc["valid_to"]) in text and "到期" in text
        assert "工单号" not in text and ANSWER_MARK not in text
        assert "低保" in text and "临时救助" in text
    finally:
        bot.restart_actions(as_of=AS_OF)
