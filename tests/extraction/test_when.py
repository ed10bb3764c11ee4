"""Facts.as_of from the time a caller asks about, only within the measures' validity."""
from datetime import date, timedelta

import pytest

from extraction import when
from policy_kb.document import document

DOC = document()


@pytest.mark.parametrize("text, day", [
    ("2022年7月的时候我家是低保户", "2022-07-01"),
    ("2023年3月5号断粮了", "2023-03-05"),
    ("二〇二二年九月", "2022-09-01"),
    ("22年12月份", "2022-12-01"),
    ("22年疫情那会儿在打工", DOC["valid_from"].isoformat()),  # a year: its first day in force
    ("2022年6月", DOC["valid_from"].isoformat()),  # the month the measures began: from that day
])
def test_a_time_within_the_measures_validity_is_the_day_asked_about(text, day):
    assert when.asked_about(text) == day


@pytest.mark.parametrize("text", [
    "我2019年就是低保户了",  # background before the measures
    "打工22年了",  # a duration
    "2024年1月开始没收入了",  # after they expired
    "2022年2月30日",  # no such day
    "家里四口人",
])
def test_background_durations_and_other_times_set_nothing(text):
    assert when.asked_about(text) is None


def test_the_first_and_last_day_in_force_and_the_days_around_them():
    first, last = DOC["valid_from"], DOC["valid_to"]

    def spoken(d: date) -> str:
        return f"{d.year}年{d.month}月{d.day}日"

    assert when.asked_about(spoken(first)) == first.isoformat()
    assert when.asked_about(spoken(last)) == last.isoformat()
    assert when.asked_about(spoken(first - timedelta(days=1))) is None
    assert when.asked_about(spoken(last + timedelta(days=1))) is None
