"""Questions about a measure in a caller's own words find that measure in the measures' own text."""
import pytest

from extraction.measure_match import MIN_SCORE, asked_about, scores


@pytest.mark.parametrize("question, measure", [
    ("没活干的打工人是不是要满三个月没收入才能领", 5),
    ("我娃毕业一年了还没找上工作，能不能申请那个临时救助", 6),
    ("能不能给我哥单另办一个低保，他一个人的那种", 3),
    ("照顾老人的人病了，能不能换个人来照顾", 11),
    ("社区会不会隔段时间来家里看望一下老人", 10),
    ("最近物价涨得厉害，有没有补贴", 4),
    ("她老是想不开，有没有人能来开导一下", 16),
])
def test_a_question_in_own_words_finds_its_measure(question, measure):
    assert asked_about(question)[0] == measure


@pytest.mark.parametrize("question", ["我能领多少钱", "你好", "转人工", "我家是低保户吗？", "好的谢谢"])
def test_a_question_with_no_measure_s_words_names_none(question):
    assert asked_about(question) == []
    assert scores(question)[0][1] < MIN_SCORE
