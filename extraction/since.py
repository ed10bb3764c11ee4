"""A start date said instead of a count: 从4月10号起没活了 / 从去年十月 / 五月份开始没收入 / 过完年就没挣上钱.

`start_dates(text, as_of)` finds the dates that open a period (从…起, …开始, …以来, …到现在) and resolves
them against the day the question is about; `whole_months(start, as_of)` counts the complete months
between them (4月10号 to 7月1号 is 2). A month without a year is the latest such month not after
`as_of` (十月份 said in July 2022 is October 2021).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from extraction.numbers import DIGITS

_MONTHS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10,
           "十一": 11, "十二": 12, "正": 1, "腊": 12, "冬": 11}
_DAY_CN = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}


@dataclass(frozen=True)
class Start:
    day: date
    start: int  # span of the date words in the text
    end: int


@lru_cache(maxsize=1)
def _pattern() -> re.Pattern:
    cn = "〇零○一二三四五六七八九"
    year = rf"(?P<year>今年|去年|前年|(?P<y4>20[0-9]{{2}}|二[〇零○][{cn}]{{2}})年|(?<![0-9])(?P<y2>[12][0-9])年)?"
    month = r"(?P<month>1[0-2]|0?[1-9]|十[一二]?|[一二三四五六七八九正腊冬])月(?:份)?"
    day = r"(?:(?P<day>[0-3]?[0-9]|[一二三]?十[一二三四五六七八九]?|[一二三四五六七八九])(?:号|日))?"
    season = r"(?P<season>年初|年后|过完年|过了年|开年|春节后|春节以后|过年以后|过年后|正月以后|正月后)"
    opener = r"(?:从|自|自从|打|由)"
    closer = r"(?:起|开始|以来|以后|之后|后|到现在|到今天|至今|到如今|那会儿?起|就)"
    return re.compile(rf"(?:{opener}\s*)?(?:{year}{month}{day}(?:中旬|下旬|上旬|底|初|末)?|{season})"
                      rf"(?P<closer>\s*{closer})?")


def _year(m: re.Match, as_of: date) -> int | None:
    word = m.group("year")
    if not word:
        return None
    if word == "今年":
        return as_of.year
    if word == "去年":
        return as_of.year - 1
    if word == "前年":
        return as_of.year - 2
    if m.group("y2"):
        return 2000 + int(m.group("y2"))
    raw = m.group("y4")
    return int(raw) if raw[0].isdigit() else int("".join(str(DIGITS[c]) for c in raw))


def _day(raw: str | None) -> int:
    if not raw:
        return 1
    if raw.isdigit():
        return int(raw)
    if raw in _DAY_CN:
        return _DAY_CN[raw]
    tens, _, ones = raw.partition("十")
    return (_DAY_CN.get(tens, 1) if tens else 1) * 10 + (_DAY_CN.get(ones, 0) if ones else 0)


def start_dates(text: str, as_of: date) -> list[Start]:
    """Dates in `text` that open a period up to now, resolved against `as_of` (never after it)."""
    return _dates(text, as_of, opened_only=True)


def calendar_dates(text: str, as_of: date) -> list[Start]:
    """Every month or day named (去年十月, 5月份), opening a period or not, resolved the same way."""
    return _dates(text, as_of, opened_only=False)


def _dates(text: str, as_of: date, opened_only: bool) -> list[Start]:
    out: list[Start] = []
    for m in _pattern().finditer(text):
        opened = m.group(0)[0] in "从自打由" or m.group("closer")
        if opened_only and not opened:
            continue  # 6月毕业 / 去年6月: a month of the calendar, not the start of a period
        if m.group("season"):
            out.append(Start(date(as_of.year, 2, 1) if as_of.month > 2 else date(as_of.year - 1, 2, 1),
                             m.start(), m.end()))
            continue
        raw = m.group("month")
        month = int(raw) if raw.isdigit() else _MONTHS.get(raw)
        if not month:
            continue
        year = _year(m, as_of)
        try:
            day = date(year or as_of.year, month, min(_day(m.group("day")), 28 if month == 2 else 30))
        except ValueError:
            continue
        if year is None and day > as_of:
            day = day.replace(year=day.year - 1)  # 十月份 said in July: last October
        if day > as_of:
            continue
        out.append(Start(day, m.start(), m.end()))
    return out


def whole_months(start: date, as_of: date) -> int:
    """Complete months from `start` to `as_of` (4-10 → 7-01 is 2; 5-01 → 7-01 is 2)."""
    months = (as_of.year - start.year) * 12 + as_of.month - start.month
    if as_of.day < start.day:
        months -= 1
    return max(months, 0)
