"""WeChat text limits: a passive text reply's Content, and a customer-service text message, hold at
most 2048 bytes of UTF-8. Long answers are cut at paragraph or sentence ends into parts that fit.
"""
from __future__ import annotations

import re

MAX_TEXT_BYTES = 2048
MORE_KEYWORDS = ("详细", "详情", "更多", "全文", "继续")
MORE_HINT = "\n\n（内容较长，回复“详细”查看完整说明）"

# Break after these, best first: a blank line, a line end, a sentence end, a clause end.
_BREAKS = ("\n\n", "\n", "。", "！", "？", "；", "!", "?", ";", "，", ",", "、", " ")
# Characters XML 1.0 forbids (a reply containing one would be rejected by WeChat).
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def utf8_len(text: str) -> int:
    return len(text.encode("utf-8"))


def clean_text(text: str) -> str:
    return _XML_INVALID.sub("", text).strip()


def _fit(text: str, budget: int) -> int:
    """The longest prefix length (in characters) of `text` that fits in `budget` bytes."""
    size = 0
    for i, ch in enumerate(text):
        size += utf8_len(ch)
        if size > budget:
            return i
    return len(text)


def _cut(text: str, budget: int) -> int:
    """Where to cut `text` so the head fits `budget` bytes, preferring a natural break in the
    second half of what fits (never an empty head)."""
    n = _fit(text, budget)
    if n >= len(text):
        return n
    head = text[:n]
    for mark in _BREAKS:
        at = head.rfind(mark)
        if at >= n // 2:
            return at + len(mark)
    return max(n, 1)


def split_text(text: str, limit: int = MAX_TEXT_BYTES, *, hint: str = "") -> list[str]:
    """Parts of `text`, each at most `limit` bytes; every part but the last leaves room for
    `hint` (which the caller appends when it holds the rest back)."""
    text = clean_text(text)
    if utf8_len(text) <= limit:
        return [text] if text else []
    budget = limit - utf8_len(hint)
    if budget < 16:
        raise ValueError("hint leaves no room for text")
    parts = []
    while text:
        if utf8_len(text) <= limit and not parts:
            parts.append(text)
            break
        if utf8_len(text) <= budget or (parts and utf8_len(text) <= limit):
            # The last part needs no hint.
            parts.append(text)
            break
        at = _cut(text, budget)
        parts.append(text[:at].rstrip())
        text = text[at:].lstrip()
    return [p for p in parts if p]


def is_more_request(text: str) -> bool:
    """"详细" and its near forms (with punctuation or 查看…), not any sentence containing them."""
    t = re.sub(r"[\s。.!！?？“”\"'‘’]", "", text)
    for word in MORE_KEYWORDS:
        if t in (word, f"查看{word}", f"看{word}", f"{word}说明", f"查看{word}说明", f"查看完整说明",
                 "完整说明"):
            return True
    return False
