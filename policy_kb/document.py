"""The document: its metadata and the text of each of the 20 measures, read from the text file."""
from __future__ import annotations

import re
from datetime import date
from functools import lru_cache
from importlib import resources

from policy_kb.tables import load_data

# A measure starts a line with its number, a full stop and its title ending in 。
_MEASURE_START = re.compile(r"^\s*(\d{1,2})\.([^。\n]+)。", re.M)
# The closing sentence and the chapter headings (一、…) are not part of a measure.
_TRAILER = re.compile(r"\n\s*(?:[一二三四五六七八九十]+、[^\n]*|上述政策措施[^\n]*)\s*$")


@lru_cache(maxsize=None)
def document() -> dict:
    meta = load_data("document.yaml")
    meta = dict(meta)
    for key in ("issued", "valid_from", "valid_to"):
        if not isinstance(meta[key], date):
            meta[key] = date.fromisoformat(str(meta[key]))
    return meta


@lru_cache(maxsize=None)
def document_text() -> str:
    name = document()["text_file"]
    return resources.files("policy_kb").joinpath("data", name).read_text(encoding="utf-8")


@lru_cache(maxsize=None)
def measures() -> dict[int, dict]:
    """id -> {id, title, text, kind, apply_at, bring}; text is the measure's full paragraph."""
    text = document_text()
    starts = list(_MEASURE_START.finditer(text))
    meta = load_data("measures.yaml")
    out: dict[int, dict] = {}
    for i, m in enumerate(starts):
        end = starts[i + 1].start() if i + 1 < len(starts) else len(text)
        body = text[m.start():end].strip()
        # drop a following chapter heading or the closing sentence
        while True:
            trimmed = _TRAILER.sub("", body).strip()
            if trimmed == body:
                break
            body = trimmed
        mid = int(m.group(1))
        out[mid] = {"id": mid, "title": m.group(2).strip(), "text": body, **meta[mid]}
    if sorted(out) != list(range(1, 21)):
        raise ValueError(f"expected measures 1..20 in the document text, found {sorted(out)}")
    return out


def measure(mid: int) -> dict:
    return measures()[int(mid)]


def in_force(day: date) -> bool:
    doc = document()
    return doc["valid_from"] <= day <= doc["valid_to"]
