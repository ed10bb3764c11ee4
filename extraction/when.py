"""The time a caller asks about: 2022年7月的时候 / 22年疫情那会儿 / 2023年3月5号 → Facts.as_of.

Callers ring long after the 20 measures expired to ask what they could have had then (当时没领到).
A date counts only when it falls within the document's validity (policy_kb's document.yaml), so
background such as 我2019年就是低保户了 or 打工22年了 sets nothing, and the answer is the one the
rules gave on that day. A month without a day means its first day (or the first day in force).
"""
from __future__ import annotations

import re
from datetime import date
from functools import lru_cache

from extraction.numbers import DIGITS

_MONTH_WORDS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10,
                "十一": 11, "十二": 12}
# A two-digit year (22年) is a year only when a month or a time word follows: 干了22年 is a duration.
_TIME_WORDS = r"(?:的时候|那时|那会|那阵|期间|疫情|那年|年初|年中|年底|下半年|上半年)"


_ASKED_AFTER = re.compile(r"(?:份)?(?:以后|之后|后)?(?:的时候|那时|那会|时|还能|还可以|还有|还给|能不能|可不可以|还发|还管|再|是否|能否|可否|还)")


# 2024年3月1日孩子若还没就业，是否仍可申请: the question a few words on, in the same sentence
_ASKED_LATER = re.compile(r"^[^。！!？?；;]*?(?:是否|能否|可否|仍可|仍能|仍然|还能|还可以|还给|还发|还管|能不能|可不可以)")


@lru_cache(maxsize=1)
def _patterns() -> tuple[re.Pattern, re.Pattern, re.Pattern]:
    cn = "〇零○一二三四五六七八九"
    year = re.compile(rf"(?P<y4>20[0-9]{{2}}|二[〇零○][{cn}]{{2}})年|(?<![0-9])(?P<y2>[1-9][0-9])年")
    month_day = re.compile(r"(?P<month>1[0-2]|0?[1-9]|十[一二]?|[一二三四五六七八九])月份?(?:(?P<day>[0-3]?[0-9])[日号])?")
    return year, month_day, re.compile(_TIME_WORDS)


@lru_cache(maxsize=1)
def _window() -> tuple[date, date]:
    from policy_kb.document import document

    doc = document()
    return doc["valid_from"], doc["valid_to"]


def _year(m: re.Match) -> int | None:
    if m.group("y2"):
        return 2000 + int(m.group("y2"))
    raw = m.group("y4")
    return int(raw) if raw[0].isdigit() else int("".join(str(DIGITS[c]) for c in raw))


def _month(raw: str | None) -> int | None:
    if raw is None:
        return None
    if raw.isdigit():
        return int(raw)
    return _MONTH_WORDS.get(raw) or DIGITS.get(raw)


def asked_about(text: str) -> str | None:
    """The ISO day the message asks about, or None (no date, or one outside the measures' validity)."""
    start, end = _window()
    year_rx, month_day_rx, time_rx = _patterns()
    for m in year_rx.finditer(text):
        md = month_day_rx.match(text, m.end())
        if m.group("y2") and not md and not time_rx.match(text, m.end()):
            continue  # 干了22年: a duration, not a year
        year = _year(m)
        month = _month(md.group("month")) if md else None
        day_given = md.group("day") if md else None
        if year is None:
            continue
        if not start.year <= year <= end.year:
            # 到2024年3月的时候还能领吗: a day outside the validity, asked about, gets the answer that
            # nothing is in force then; a year as background (我2019年就是低保户了) sets nothing.
            after = md.end() if md else m.end()
            if 2000 <= year <= 2099 and (_ASKED_AFTER.match(text, after) or _ASKED_LATER.search(text[after:after + 18])):
                try:
                    return date(year, month or 1, int(day_given or 1)).isoformat()
                except ValueError:
                    continue
            continue
        try:
            day = date(year, month or 1, int(day_given or 1))
        except ValueError:
            continue
        if not day_given:
            # a year or a month means its days in force: the first of them
            if date(year, month or 12, 28) < start or day > end:
                continue
            day = max(day, start)
        if start <= day <= end:
            return day.isoformat()
    return None
