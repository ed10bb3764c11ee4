"""Bare answers fill the field the bot just asked about — and only that one."""
import pytest

from extraction import extract

CASES = [
    ("三个月", "months_without_income", {"months_without_income": 3}),
    ("3", "months_without_income", {"months_without_income": 3}),
    ("半年多了", "months_without_income", {"months_without_income": 6}),
    ("5", "household_size", {"household_size": 5}),
    ("五口", "household_size", {"household_size": 5}),
    ("我们家四个人", "household_size", {"household_size": 4}),
    ("两万", "medical_out_of_pocket", {"medical_out_of_pocket": 20000}),
    ("1.5万", "medical_out_of_pocket", {"medical_out_of_pocket": 15000}),
    ("八十一", "age", {"age": 81}),
    ("是的", "statuses.dibao", {"statuses": ["dibao"]}),
    ("对着呢", "statuses.tekun", {"statuses": ["tekun"]}),
    ("不是的", "statuses.dibao_marginal", {"not_statuses": ["dibao_marginal"]}),
    ("没有", "statuses.low_income_registered", {"not_statuses": ["low_income_registered"]}),
    ("有", "unemployment_insurance", {"unemployment_insurance": True}),
    ("没交", "unemployment_insurance", {"unemployment_insurance": False}),
    ("能", "can_return_to_work", {"can_return_to_work": True}),
    ("不能", "can_return_to_work", {"can_return_to_work": False}),
    ("是", "covid_confirmed", {"covid_confirmed": True}),
    ("没有没有", "severe_illness", {"severe_illness": False}),
    ("嗯", "cannot_self_care", {"cannot_self_care": True}),
    ("大学毕业的", "employment", {"employment": "unemployed_graduate"}),
    ("在上班", "employment", {"employment": "employed"}),
    ("农村", "residence", {"residence": "rural"}),
    ("城", "residence", {"residence": "urban"}),
    ("海原", "county", {"county": "海原县"}),
]


@pytest.mark.parametrize("text,field,facts", CASES)
def test_bare_answer(text, field, facts):
    assert extract(text, expected_field=field).facts == facts


@pytest.mark.parametrize("text", ["三个月", "是的", "不是", "5", "两万"])
def test_without_expected_field_bare_answers_say_nothing(text):
    assert extract(text).facts == {}


def test_explicit_fact_wins_over_bare_reading():
    # The caller answered with another fact: the asked field stays unknown.
    assert extract("我们是低保户", expected_field="months_without_income").facts == {"statuses": ["dibao"]}
    assert extract("4口人", expected_field="months_without_income").facts == {"household_size": 4}


def test_unclear_answer_leaves_field_unknown():
    assert extract("这个我也说不清楚", expected_field="statuses.dibao").facts == {}
    assert extract("不知道", expected_field="unemployment_insurance").facts == {}


def test_bare_answer_entity_span():
    ext = extract("嗯，是的", expected_field="statuses.dibao")
    assert ext.entities == [{"entity": "status", "value": "dibao", "start": 2, "end": 4, "text": "是的"}]


def test_not_a_str_is_a_clear_error():
    with pytest.raises(TypeError, match="str"):
        extract(None)
