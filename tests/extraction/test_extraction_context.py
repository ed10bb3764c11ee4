"""What the context does beyond the labelled facts: no entities for words that state no caller fact
(the NLU reads entities), unsure bare answers to the bot, merging over a conversation, long notes."""
import time

import pytest

from extraction import extract, merge_facts


@pytest.mark.parametrize("text", ["我邻居是低保户", "以前是低保户", "好像是特困", "如果是低保户能领多少",
                                  "快要失业了", "是低保户还是特困户"])
def test_no_entity_for_words_that_state_no_caller_fact(text):
    result = extract(text)
    assert result.facts == {}
    assert [e for e in result.entities if e["entity"] in ("status", "not_status", "employment")] == []


@pytest.mark.parametrize("answer,field", [("好像是", "statuses.dibao"), ("应该是吧", "statuses.tekun"),
                                          ("可能吧", "unemployment_insurance"), ("记不清了", "can_return_to_work"),
                                          ("可能三个月", "months_without_income")])
def test_unsure_bare_answer_leaves_the_field_unknown(answer, field):
    assert extract(answer, expected_field=field).facts == {}


def test_sure_bare_answers_still_fill_the_field():
    assert extract("是的", expected_field="statuses.dibao").facts == {"statuses": ["dibao"]}
    assert extract("大概三个月吧", expected_field="months_without_income").facts == {"months_without_income": 3}


def test_conversation_past_status_does_not_erase_and_an_end_moves_it():
    facts = merge_facts({}, extract("我是低保户").facts)
    assert merge_facts(facts, extract("以前也是低保户").facts)["statuses"] == ["dibao"]  # nothing new: stays
    ended = merge_facts(facts, extract("原来吃低保，去年退了").facts)
    assert ended.get("statuses") is None and ended["not_statuses"] == ["dibao"]


def test_qa_entity_points_at_the_topic_words():
    text = "坐席：有没有残疾？来电人：没有"
    result = extract(text)
    assert result.facts == {"severe_disability": False}
    (ent,) = result.entities
    assert text[ent["start"]:ent["end"]] == "残疾" and ent["value"] == "false"


def test_long_unpunctuated_note_stays_linear():
    """Context is looked up near each fact: a 10 000-character note without punctuation stays fast."""
    text = "西吉县低保户一家四口三个月没收入我邻居是五保户以前是特困老汉瘫痪在床" * 300
    extract("预热")
    started = time.perf_counter()
    extract(text)
    assert time.perf_counter() - started < 1.0  # about 0.15 s here; looking back to the clause start took about 2 s
