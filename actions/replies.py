"""Turn an Evaluation into the variables the domain's responses fill in.

Wording lives in bot/domain/responses_*.yml; this module only formats figures and lists that
come from the evaluation (every amount is policy_kb's, never a literal here).
"""
from __future__ import annotations

from datetime import date

_PER = {"person": "每人", "household": "每户", "case": "每次"}
_FREQ = {"once": "一次性", "monthly": "每月", "yearly": "每年"}
# Words that ask for the long explanation rather than the short summary (详细说说, 具体讲讲).
DETAIL_WORDS = ("详细", "具体", "为什么", "为啥", "解释", "展开", "细说", "明细")


def cn_date(value) -> str:
    d = value if isinstance(value, date) else date.fromisoformat(str(value))
    return f"{d.year}年{d.month}月{d.day}日"


def money(value) -> str:
    if value is None:
        return "?"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"{value:,}" if isinstance(value, int) else f"{value:,g}"


def amount_text(a: dict) -> str:
    floor = "不低于" if a.get("at_least") else ""
    per = _PER.get(a.get("per"), "")
    freq = _FREQ.get(a.get("frequency"), "")
    text = f"{a.get('label', '')}：{per}{freq}{floor}{money(a.get('value'))}元"
    # a payment to the person concerned alone totals its own value: no 全家合计 to say
    if a.get("per") == "person" and a.get("total") is not None and a["total"] != a.get("value"):
        text += f"（全家合计{floor}{money(a['total'])}元）"
    return text


def eligible(evaluation: dict) -> list[dict]:
    return [m for m in evaluation.get("measures", []) if m.get("status") == "eligible"]


def household_total(a: dict):
    """What one amount comes to for the household, or None when the size is still unknown."""
    if a.get("total") is not None:
        return a["total"]
    if a.get("per") in ("household", "case"):
        return a.get("value")
    return None


def totals(evaluation: dict) -> dict[str, dict]:
    """frequency -> {"sum", "at_least", "complete"} over the eligible measures' one-off amounts.

    Monthly and yearly figures are standards (低保 is paid as the gap to the standard), so adding
    them up would promise money nobody pays; only one-off payments are totalled.
    """
    out: dict[str, dict] = {}
    for m in eligible(evaluation):
        for a in m.get("amounts") or []:
            freq = a.get("frequency") or "once"
            if freq != "once":
                continue
            slot = out.setdefault(freq, {"sum": 0, "at_least": False, "complete": True})
            value = household_total(a)
            if value is None:
                slot["complete"] = False
                continue
            slot["sum"] += value
            slot["at_least"] = slot["at_least"] or bool(a.get("at_least"))
    return out


def totals_text(evaluation: dict) -> str:
    parts = []
    for freq, t in totals(evaluation).items():
        if not t["sum"]:
            continue
        floor = "不低于" if t["at_least"] else ""
        partial = "（家庭人口未知，按已知部分计）" if not t["complete"] else ""
        parts.append(f"一次性款项全家合计{floor}{money(t['sum'])}元{partial}")
    return "；".join(parts)


def pending_amounts_text(evaluation: dict) -> str:
    """Eligible measures whose amount still waits for a fact (第9条的金额还要看：家庭人口)."""
    import policy_kb

    parts = []
    for m in eligible(evaluation):
        waiting = [f for f in m.get("missing") or [] if f != "county"]  # the county routes, it does not price
        if waiting:
            labels = "、".join(policy_kb.tables.fact_label(f) for f in waiting)
            parts.append(f"第{m['id']}条的金额还要看：{labels}")
    return "；".join(parts)


def money_text(evaluation: dict) -> str:
    """The money line of an answer: the one-off totals, what a total still waits for, or that
    there is no one-off payment (never that, while an amount is only unknown)."""
    text = "；".join(t for t in (totals_text(evaluation), pending_amounts_text(evaluation)) if t)
    return text or "无一次性款项"


def _assume(facts: dict, field: str, value: bool) -> dict | None:
    """`facts` with one unknown yes/no fact settled (a status held or not), or None."""
    out = dict(facts)
    if field.startswith("statuses."):
        code = field.split(".", 1)[1]
        key = "statuses" if value else "not_statuses"
        out[key] = list(out.get(key) or []) + [code]
        return out
    out[field] = value
    return out


def _condition_text(field: str, value: bool) -> str | None:
    import policy_kb

    if field.startswith("statuses."):
        label = policy_kb.status_labels().get(field.split(".", 1)[1])
        return None if not label else (f"属于{label}" if value else f"不属于{label}")
    return policy_kb.said_for(field, value)


# The benefit measures a case is plainly about, by the fact that points to each: when a figure rules one
# out (its reasons say which line was missed), the caller hears why, once.
_ABOUT = {5: lambda f: f.get("employment") == "unemployed_migrant_worker",
          6: lambda f: f.get("employment") in ("unemployed_graduate", "failed_startup_graduate"),
          8: lambda f: f.get("medical_out_of_pocket") is not None}


def near_misses(evaluation: dict, facts: dict, refused) -> tuple[str, list[int]]:
    """(Why the measures the case is about are ruled out, not told before; the ids told so far)."""
    refused = [int(r) for r in refused or [] if str(r).isdigit()]
    lines, ids = [], []
    for m in evaluation.get("measures", []):
        about = _ABOUT.get(m.get("id"))
        if m.get("status") != "not_eligible" or about is None or not about(facts) or m["id"] in refused:
            continue
        lines.append(f"第{m['id']}条{m.get('title', '')}：{'；'.join(m.get('reasons') or [])}")
        ids.append(m["id"])
    return "；".join(lines), refused + ids


def possible_lines(evaluation: dict, facts: dict, evaluate, limit: int = 3, only_field: str | None = None) -> str:
    """Money a caller would get if one more yes/no answer went their way (如果不属于城乡低保对象：
    第5条…). Only measures waiting for exactly one yes/no fact are tried, both ways,
    with the real rules (`evaluate`), so nothing is promised that policy_kb would not say."""
    import policy_kb

    vocab = policy_kb.tables.vocabulary()["fields"]
    lines = []
    for m in evaluation.get("measures", []):
        missing = m.get("missing") or []
        if m.get("status") != "need_info" or m.get("kind") != "benefit" or len(missing) != 1:
            continue
        field = missing[0]
        if only_field and field != only_field:
            continue
        if not field.startswith("statuses.") and vocab.get(field, {}).get("type") != "boolean":
            continue
        for value in (True, False):
            assumed = _assume(facts, field, value)
            try:
                then = status_for(evaluate(assumed), m["id"]) or {}
            except Exception:  # noqa: BLE001 - a combination the rules refuse is simply not offered
                continue
            condition = _condition_text(field, value)
            if then.get("status") == "eligible" and then.get("amounts") and condition:
                amounts = "；".join(amount_text(a) for a in then["amounts"])
                lines.append(f"· 如果{condition}：第{m['id']}条 {m.get('title', '')}——{amounts}")
                break
        if len(lines) >= limit:
            break
    return "\n".join(lines)


def by_residence_lines(evaluation: dict, facts: dict, evaluate) -> str:
    """Amounts of eligible measures that wait for 城市/农村, said for both (第7条：城市…；农村…),
    from the real rules, so a caller who has not said it still hears the figures."""
    if facts.get("residence"):
        return ""
    waiting = [m for m in eligible(evaluation) if "residence" in (m.get("missing") or [])]
    if not waiting:
        return ""
    then = {}
    for residence in ("urban", "rural"):
        try:
            then[residence] = evaluate({**facts, "residence": residence})
        except Exception:  # noqa: BLE001 - a combination the rules refuse is simply not said
            return ""
    lines = []
    for m in waiting:
        parts = []
        for residence, word in (("urban", "城市户"), ("rural", "农村户")):
            got = status_for(then[residence], m["id"]) or {}
            if got.get("status") == "eligible" and got.get("amounts"):
                parts.append(f"{word}——" + "；".join(amount_text(a) for a in got["amounts"]))
        if parts:
            lines.append(f"· 第{m['id']}条：" + "；".join(parts))
    return "\n".join(lines)


def news(evaluation: dict, told) -> tuple[str, list[int]]:
    """One-off money that became certain and the caller has not heard yet (第8条…全家合计…), and
    the measures told so far including these. A caller who never asks 能领多少 still hears it
    while the form goes on asking; standards paid monthly or yearly are not news."""
    # told entries are "id=once-total" (older conversations hold a bare id: told, total unknown); a
    # measure whose total changed since (四口人 … 说错了，三口人) is news again
    heard: dict[int, str | None] = {}
    for t in told or []:
        mid, _, total = str(t).partition("=")
        if mid.isdigit():
            heard[int(mid)] = total or None
    once = {m["id"]: _once_total(m) for m in eligible(evaluation)
            if any(a.get("frequency") == "once" for a in m.get("amounts") or [])}
    fresh = [m for m in eligible(evaluation) if m["id"] in once and (
        m["id"] not in heard or (heard[m["id"]] is not None and heard[m["id"]] != once[m["id"]]))]
    text = "；".join(f"第{m['id']}条 " + "；".join(amount_text(a) for a in m["amounts"] if a.get("frequency") == "once")
                    for m in fresh)
    for m in fresh:
        heard[m["id"]] = once[m["id"]]
    return text, [f"{mid}={total}" if total is not None else str(mid) for mid, total in heard.items()]


def _once_total(measure: dict) -> str:
    return str(sum(float(a.get("total") if a.get("total") is not None else a.get("value") or 0)
                   for a in measure.get("amounts") or [] if a.get("frequency") == "once"))


def measures_lines(evaluation: dict) -> str:
    lines = []
    for m in eligible(evaluation):
        amounts = "；".join(amount_text(a) for a in m.get("amounts") or [])
        lines.append(f"· 第{m['id']}条 {m.get('title', '')}" + (f"——{amounts}" if amounts else ""))
    return "\n".join(lines)


def apply_lines(evaluation: dict, bring_for=None, *, with_amounts: bool = False) -> str:
    """Where to apply for each eligible measure (and, asked on its own, what it pays)."""
    lines = []
    for m in eligible(evaluation):
        if not m.get("apply_at"):
            continue
        pays = "；".join(amount_text(a) for a in m.get("amounts") or []) if with_amounts else ""
        line = f"· 第{m['id']}条" + (f"（{pays}）" if pays else "") + f"：{m['apply_at']}"
        bring = bring_for(m["id"]) if bring_for else []
        if bring:
            line += f"；带上：{'、'.join(bring)}"
        lines.append(line)
    return "\n".join(lines)


def split_question(summary: str) -> tuple[str, str | None]:
    """("answer", "trailing question?") when the text ends with a question sentence."""
    summary = (summary or "").strip()
    # 您家是城市户还是农村户？（按城市还是农村低保标准）: a question may end with a gloss
    glossed = summary.endswith("）") and "？（" in summary[summary.rfind("。") + 1:]
    if not summary.endswith(("？", "?")) and not glossed:
        return summary, None
    cut = max(summary.rfind("。", 0, len(summary) - 1), summary.rfind("；", 0, len(summary) - 1))
    if cut < 0:
        return summary, None
    return summary[:cut + 1], summary[cut + 1:].strip()


# A caller's message that asks something (NLU may still call it describe_situation when a
# question rides on a description: 家里的活没人干，有没有啥补助).
_QUESTION_WORDS = ("多少", "几个", "几月", "几年", "几块", "啥", "什么", "咋", "怎么", "哪里", "哪儿",
                   "哪个", "能不能", "可不可以", "有没有", "是不是", "行不行", "会不会", "能否",
                   "给不给", "发不发", "领不领", "涨了没", "还能", "多久", "谁", "咋办", "管不管",
                   "询问", "咨询", "是否", "能否", "有无", "如何", "想问", "问问", "咋样", "怎样", "找谁", "为啥")
_QUESTION_ENDS = ("吗", "嘛", "呢", "没", "不", "么")


def asks_question(text: str) -> bool:
    from extraction.core import fold_dialect

    text = fold_dialect((text or "").strip())  # 有莫有 / 莫得 are Ningxia's 有没有 / 没得
    if not text:
        return False
    if "？" in text or "?" in text:
        return True
    return text.rstrip("。.！!～~ ").endswith(_QUESTION_ENDS) or any(w in text for w in _QUESTION_WORDS)


_WHEN_WORDS = ("啥时候", "什么时候", "几时", "哪天", "到账", "发放时间", "多会儿", "啥时", "几号", "多久能")


def asks_when(text: str) -> bool:
    """啥时候发 / 啥时候能到账: when money comes, which the measures' own text says."""
    return any(w in (text or "") for w in _WHEN_WORDS)


def citation_lines(evaluation: dict, limit: int = 3) -> str:
    """The text of the eligible measures that pay (when, how often, through whom)."""
    lines = [f"· {m['citation']}" for m in eligible(evaluation)
             if m.get("kind") == "benefit" and m.get("citation")][:limit]
    return "\n".join(lines)


# Words by which a caller asks for a person on the line, not for help from a person the measures send.
_HUMAN_WORDS = ("人工", "客服", "接线员", "真人", "转接", "话务员", "工作人员接", "打电话给我", "给我回电话", "回个电话")


def asks_for_operator(text: str) -> bool:
    """转人工 / 我要跟客服说: a person at the hotline; 有没有人能跟我说说话 (counselling, measure 16) is not."""
    return any(w in (text or "") for w in _HUMAN_WORDS)


def wants_detail(text: str) -> bool:
    return any(w in (text or "") for w in DETAIL_WORDS)


def known_text(facts: dict) -> str:
    """A short recap of what the caller told us, so they can correct it."""
    import policy_kb

    parts = []
    if facts.get("as_of"):
        parts.append(f"{cn_date(facts['as_of'])}那时")  # a question about then, not today
    if facts.get("county"):
        parts.append(facts["county"])
    elif facts.get("city"):
        parts.append(facts["city"])
    if facts.get("residence"):
        parts.append({"urban": "城市", "rural": "农村"}.get(facts["residence"], facts["residence"]))
    if facts.get("household_size"):
        parts.append(f"{facts['household_size']}口人")
    labels = policy_kb.status_labels()
    parts += [labels.get(c, c) for c in facts.get("statuses") or []]
    parts += [f"不是{labels.get(c, c)}" for c in facts.get("not_statuses") or []]
    if facts.get("employment"):
        parts.append(policy_kb.employment_labels().get(facts["employment"], facts["employment"]))
    if facts.get("months_without_income") is not None:
        parts.append(f"{facts['months_without_income']}个月没有收入")
    if facts.get("age") is not None:
        parts.append(f"{facts['age']}岁")
    if facts.get("medical_out_of_pocket") is not None:
        parts.append(f"自付医疗费用{money(facts['medical_out_of_pocket'])}元")
    return "、".join(parts) if parts else UNKNOWN_YET


UNKNOWN_YET = "还不清楚"


def noted_text(said: dict | None) -> str:
    """What the caller's latest message stated (its extracted facts), said back in the recap's
    words and the yes/no answers' own ("" when it stated nothing we say back)."""
    import policy_kb

    said = said if isinstance(said, dict) else {}
    parts = [] if known_text(said) == UNKNOWN_YET else [known_text(said)]
    parts += [t for t in (policy_kb.said_for(k, v) for k, v in said.items()) if t]
    return "、".join(parts)


def office_for(facts: dict, urgent: bool = False) -> str:
    """The civil-affairs office to name; for an emergency, the one where it is happening (measure 9)."""
    county = (facts.get("emergency_county") if urgent else None) or facts.get("county")
    return f"{county}民政局" if county else "您所在县（市、区）民政局"


def status_for(evaluation: dict, mid: int) -> dict | None:
    return next((m for m in evaluation.get("measures", []) if m.get("id") == mid), None)
