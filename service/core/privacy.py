"""Masking of personal data (ID numbers, mobile numbers, names after a cue such as 我叫) — the
one helper used everywhere.

Logs, ticket lists and conversation views show masked text; only a ticket's detail, to those
allowed to see that ticket, shows it in full.
"""
from __future__ import annotations

import re
from typing import Any

# Full-width digits are common in Chinese input methods: treat them as digits too.
_D = "0-9０-９"
# 18-digit resident ID (last character may be X), not part of a longer digit run.
ID_NUMBER = re.compile(rf"(?<![{_D}])[{_D}]{{17}}[{_D}Xx×Ｘｘ](?![{_D}A-Za-z])")
# Mainland mobile numbers 1[3-9]xxxxxxxxx, optionally +86 and 3-4-4 separators.
MOBILE = re.compile(
    rf"(?<![{_D}])(?:(?:\+|＋)?(?:86|８６)[\s-]?)?[1１][3-9３-９][{_D}][\s-]?[{_D}]{{4}}[\s-]?[{_D}]{{4}}(?![{_D}])"
)


# A name the caller states ("我叫王小明", "姓名：李娟"): the 2-3 characters after the cue.
# A heuristic: names said without a cue are not found.
NAME_CUE = re.compile(r"(我叫|我名叫|名叫|名字叫|名字是|姓名[是为:：\s]*|联系人[是:：\s]*)([\u4e00-\u9fa5]{2,3})")


def _mask_name(m: re.Match) -> str:
    name = m.group(2)
    return m.group(1) + name[0] + "*" * (len(name) - 1)


def _mask_id(m: re.Match) -> str:
    s = m.group(0)
    return s[:4] + "*" * (len(s) - 8) + s[-4:]


def _mask_mobile(m: re.Match) -> str:
    chars = list(m.group(0))
    digits = [i for i, c in enumerate(chars) if c.isdigit()]
    # The number is the last 11 digits (a +86 prefix comes before): keep 3 + 4, hide the middle 4.
    for i in digits[-11:][3:7]:
        chars[i] = "*"
    return "".join(chars)


def mask_text(text: str | None) -> str | None:
    """`text` with every ID number and mobile number masked (None stays None)."""
    if not text:
        return text
    # IDs first: an ID number contains digit runs that could look like a mobile number.
    return NAME_CUE.sub(_mask_name, MOBILE.sub(_mask_mobile, ID_NUMBER.sub(_mask_id, text)))


def contains_personal(text: str | None) -> bool:
    return bool(text) and bool(ID_NUMBER.search(text) or MOBILE.search(text) or NAME_CUE.search(text))


def mask_data(value: Any) -> Any:
    """Mask every string inside a JSON-like value (dicts, lists); other values unchanged."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {k: mask_data(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [mask_data(v) for v in value]
    return value
