"""Which measure a question is about, when the caller names none: the measures' own text as an index.

Why: callers ask about a measure in their own words (村里能不能定期来人看看孩子 is measure 10's 探视;
是不是必须连续3个月没收入 is measure 5's condition; 能不能另外派个人照顾他 is measure 11's 指定其他人员予以照护).
A list of phrases per measure only knows the phrasings someone wrote down; the measure's text knows
every word it uses. Character bigrams and trigrams of the question are weighted by how few measures
use them (IDF over the 20 texts), after the caller's words are mapped to the document's
(`lexicon.MEASURE_WORDS`: 开导 → 心理疏导). Deterministic, stdlib only; built once, on first use.
"""
from __future__ import annotations

import math
import re
from functools import lru_cache

# A question must share this much distinctive text with a measure to be about it: 我能领多少钱 shares
# none, 要不要查家里收入 with measure 6's graduates does. A second measure is named too when it is close.
MIN_SCORE = 6.0
SECOND_RATIO = 0.6
# Characters that say nothing about which measure: a gram made only of them is left out.
_FILLER = set("的了是吗呢吧啊呀么我你他她们家里这那有没不能可以会要就都也还在和跟给对个人说问听咋啥么怎样")
_NON_HAN = re.compile(r"[^\u4e00-\u9fff0-9]+")


def _grams(text: str) -> set[str]:
    out: set[str] = set()
    for run in _NON_HAN.split(text):
        for n in (2, 3):
            for i in range(len(run) - n + 1):
                g = run[i:i + n]
                if all(c in _FILLER for c in g):
                    continue
                out.add(g)
    return out


@lru_cache(maxsize=1)
def _index() -> tuple[dict[int, set[str]], dict[str, float]]:
    import policy_kb

    docs = {}
    for mid in range(1, 21):
        m = policy_kb.measure(mid)
        docs[mid] = _grams(m["title"] + m["text"])
    df: dict[str, int] = {}
    for grams in docs.values():
        for g in grams:
            df[g] = df.get(g, 0) + 1
    n = len(docs)
    return docs, {g: math.log(n / k) for g, k in df.items()}


def _expanded(text: str) -> str:
    from extraction import lexicon
    from extraction.core import fold_dialect

    text = fold_dialect(text)
    return text + " " + " ".join(doc for said, doc in lexicon.MEASURE_WORDS if said in text)


def scores(text: str) -> list[tuple[int, float]]:
    """(measure id, score) best first."""
    docs, idf = _index()
    grams = _grams(_expanded(text or ""))
    ranked = [(mid, sum(idf[g] for g in grams if g in dg)) for mid, dg in docs.items()]
    return sorted(ranked, key=lambda x: (-x[1], x[0]))


# A message may ask two things (有没有价格临时补贴？另问村里能不能定期来人看看孩子): each part its own measure.
_PARTS = re.compile(r"[。！!？?；;\n]|另问|另外|还有|再问|再一个")


def asked_about(text: str, limit: int = 3) -> list[int]:
    """The measures a question is about, in the order asked; [] when none stands out."""
    found: list[int] = []
    for part in _PARTS.split(text or ""):
        ranked = scores(part)
        if not ranked or ranked[0][1] < MIN_SCORE:
            continue
        top = ranked[0][1]
        found += [mid for mid, s in ranked[:2] if s >= MIN_SCORE and s >= SECOND_RATIO * top]
    return list(dict.fromkeys(found))[:limit]
