"""Chinese and mixed numerals as callers say and agents type them.

两万三 → 23000, 二万五千元 → 25000, 4.2万 → 42000, 1万9千9 → 19900, 三个多月 → 3, 仨 → 3.
A trailing digit after a unit is one unit lower (两万三 = 2.3万, 三千五 = 3500), as in speech.
Two neighbouring digits are a spoken range and count as the lower end (一万七八 → 17000, 两三万 → 20000,
七八千 → 7000), as months do (三四个月 → 3); a longer run is read digit by digit (三零五 → 305).
"""
from __future__ import annotations

import re

DIGITS = {
    "零": 0, "〇": 0, "○": 0, "一": 1, "壹": 1, "幺": 1, "二": 2, "贰": 2, "两": 2, "俩": 2,
    "三": 3, "叁": 3, "仨": 3, "四": 4, "肆": 4, "五": 5, "伍": 5, "六": 6, "陆": 6,
    "七": 7, "柒": 7, "八": 8, "捌": 8, "九": 9, "玖": 9,
}
SMALL_UNITS = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}
BIG_UNITS = {"万": 10_000, "萬": 10_000, "亿": 100_000_000}

_DIGIT_CHARS = "".join(DIGITS)
_UNIT_CHARS = "".join(SMALL_UNITS) + "".join(BIG_UNITS)
# One numeral: Arabic (with decimals, full-width digits folded beforehand) and/or Chinese digits and units.
NUMERAL = rf"(?:[0-9]+(?:\.[0-9]+)?|[{_DIGIT_CHARS}十拾])[0-9{_DIGIT_CHARS}{_UNIT_CHARS}.]*"
NUMERAL_RE = re.compile(NUMERAL)

_FULLWIDTH = str.maketrans("０１２３４５６７８９．", "0123456789.")


_TYPED_UNITS = re.compile(r"(?<=[0-9])[wWkK]")


def fold_width(text: str) -> str:
    """Full-width digits to ASCII, and typed 1.5w / 3k to 万 / 千; the length of the text is
    unchanged (spans stay valid)."""
    text = text.translate(_FULLWIDTH)
    return _TYPED_UNITS.sub(lambda m: "万" if m.group() in "wW" else "千", text)


# 七八 / 两三: the second digit is the next one up; not inside a longer run of digits.
_SPOKEN_RANGE = re.compile(rf"(?<![{_DIGIT_CHARS}0-9])([一二两三四五六七八])([二三四五六七八九])(?![{_DIGIT_CHARS}0-9])")
_RANGE_ORDER = "一二三四五六七八九"


def _lower_of_ranges(text: str) -> str:
    """一万七八 → 一万七, 两三万 → 两万: a spoken range counts its lower end."""
    def lower(m: re.Match) -> str:
        a, b = (_RANGE_ORDER.index(c.replace("两", "二")) for c in m.groups())
        return m.group(1) if b == a + 1 else m.group(0)
    return _SPOKEN_RANGE.sub(lower, text)


def has_spoken_range(text: str) -> bool:
    """四五 / 一万七八: the numeral names a range, not one figure."""
    return any(m.group(0) != _lower_of_ranges(m.group(0)) for m in _SPOKEN_RANGE.finditer(fold_width(text)))


def _parse_section(text: str) -> float | None:
    """A numeral below 万: 三千五 → 3500, 2千5 → 2500, 十五 → 15, 305 → 305, 1.5 → 1.5."""
    if not text:
        return 0
    if re.fullmatch(r"[0-9]+(?:\.[0-9]+)?", text):
        return float(text)
    if re.fullmatch(rf"[{_DIGIT_CHARS}]{{2,}}", text):
        # 三零五 → 305: digits read one by one
        return float("".join(str(DIGITS[c]) for c in text))
    total = 0.0
    current: float | None = None
    last_unit = None
    i = 0
    while i < len(text):
        ch = text[i]
        m = re.match(r"[0-9]+(?:\.[0-9]+)?", text[i:])
        if m:
            current = float(m.group())
            i += len(m.group())
            continue
        if ch in "零〇○":
            last_unit = 1  # 一千零五: what follows a zero is read as written
            current = None
        elif ch in DIGITS:
            current = DIGITS[ch]
        elif ch in SMALL_UNITS:
            unit = SMALL_UNITS[ch]
            total += (1 if current is None else current) * unit
            current = None
            last_unit = unit
        else:
            return None
        i += 1
    if current is not None:
        # 三千五: a trailing digit after a unit is one unit lower
        total += current * (last_unit // 10 if last_unit and last_unit >= 10 else 1)
    return total


def parse_number(text: str) -> float | None:
    """The value of one numeral, or None when it is not one (几, 多 are not numbers)."""
    text = _lower_of_ranges(fold_width(text).strip())
    if not text:
        return None
    for big_char, big in sorted(BIG_UNITS.items(), key=lambda kv: -kv[1]):
        if big_char in text:
            head, _, tail = text.partition(big_char)
            head_value = _parse_section(head) if head else 1
            if head_value is None:
                return None
            tail_value = parse_number(tail) if tail else 0
            if tail_value is None:
                return None
            # 两万三 / 1万9: a lone trailing digit is thousands; 1万9千9 → 19900
            if tail and re.fullmatch(rf"[0-9{_DIGIT_CHARS}]", tail):
                tail_value *= big // 10
            elif tail and re.fullmatch(rf"[0-9{_DIGIT_CHARS}]千[0-9{_DIGIT_CHARS}]", tail):
                pass
            return head_value * big + tail_value
    return _parse_section(text)


def as_int(value: float | None) -> int | float | None:
    if value is None:
        return None
    return int(value) if float(value).is_integer() else value
