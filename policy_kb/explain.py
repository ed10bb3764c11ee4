"""Readable Chinese from an Evaluation: a full explanation for agents and auditors, and a short
reply the bot and the copilot can read out."""
from __future__ import annotations

from policy_kb.tables import question_for

_PER = {"person": "每人", "household": "每户", "case": "每次"}
_FREQ = {"once": "一次性", "monthly": "每月", "yearly": "每年"}


def _num(x) -> str:
    return f"{x:,.2f}".rstrip("0").rstrip(".") if isinstance(x, float) else f"{x:,}"


def format_amount(a: dict) -> str:
    lead = "不低于" if a["at_least"] else ""
    text = f"{a['label']}：{_FREQ[a['frequency']]}{_PER[a['per']]}{lead}{_num(a['value'])}元"
    if a["per"] == "person" and a.get("total") is not None and a["total"] != a["value"]:
        text += f"，全家合计{lead}{_num(a['total'])}元"
    return text + f"（{a['formula']}）"


def _not_in_force(ev: dict) -> str:
    doc = ev["document"]
    return (f"{doc['number']}《{doc['title']}》的有效期为{doc['valid_from']}至{doc['valid_to']}，"
            f"{ev['as_of']}已不在有效期内，这20条措施不再作为发放依据。"
            "如有困难，仍可向户籍所在乡镇（街道）申请低保、特困供养或临时救助，或拨打12345咨询。")


def explain(ev: dict) -> str:
    """What applies, how much, why, what to bring and where to apply; what is still unknown."""
    if not ev["document"]["in_force"]:
        return _not_in_force(ev)
    lines: list[str] = [f"按{ev['document']['number']}，截至{ev['as_of']}："]
    if ev["urgent"]:
        lines.append("【急难】需要立即救助：可“先行救助，后补齐说明”，县级民政部门将尽快联系；如有生命危险请立即拨打110或120。")
    eligible = [m for m in ev["measures"] if m["status"] == "eligible"]
    pending = [m for m in ev["measures"] if m["status"] == "need_info"]
    if eligible:
        lines.append("一、可以享受：")
        for m in eligible:
            lines.append(f"第{m['id']}条 {m['title']}")
            for a in m["amounts"]:
                lines.append(f"  · {format_amount(a)}")
            for g in m.get("grants", ()):
                lines.append(f"  · {g}")
            if m["reasons"]:
                lines.append(f"  理由：{'；'.join(m['reasons'])}")
            if m.get("no_means_test"):
                lines.append("  不再进行家庭经济状况核查，直接给予救助")
            if m.get("bring"):
                lines.append(f"  需准备：{'、'.join(m['bring'])}")
            lines.append(f"  办理：{m['apply_at']}")
    else:
        lines.append("一、根据目前了解的情况，还没有确定可以享受的措施。")
    if pending:
        lines.append("二、还需要确认的：")
        for m in pending:
            asks = "；".join(question_for(f) for f in m["missing"][:3])
            lines.append(f"第{m['id']}条 {m['title']}：{asks}")
    ruled_out = [m for m in ev["measures"] if m["status"] == "not_eligible"]
    if ruled_out:
        lines.append("三、不符合的：")
        for m in ruled_out:
            lines.append(f"第{m['id']}条 {m['title']}：{'；'.join(m['reasons'])}")
    return "\n".join(lines)


def summarize(ev: dict, limit: int = 300) -> str:
    """A short reply (≤ limit characters) naming eligible measures and amounts, then the next question."""
    if not ev["document"]["in_force"]:
        return _not_in_force(ev)[:limit]
    parts: list[str] = []
    if ev["urgent"]:
        parts.append("您的情况紧急，我们会先行救助、后补手续，县里民政部门会尽快联系您；有生命危险请拨打110或120。")
    money = [m for m in ev["measures"] if m["status"] == "eligible" and m["amounts"]]
    services = [m for m in ev["measures"] if m["status"] == "eligible" and not m["amounts"] and m["kind"] == "benefit"]
    if money or services:
        items = []
        for m in money:
            a = m["amounts"][0]
            lead = "不低于" if a["at_least"] else ""
            total = a.get("total")
            shown = total if (a["per"] == "person" and total is not None) else a["value"]
            unit = "" if a["per"] != "person" or total is None or total == a["value"] else "（全家）"
            # the amount's own label (城市特困供养标准) says more than the measure's title, and a
            # standard paid monthly or yearly must not read as a lump sum
            often = {"monthly": "每月", "yearly": "每年"}.get(a["frequency"], "")
            items.append(f"第{m['id']}条{a['label']}{often}{lead}{_num(shown)}元{unit}")
        items += [f"第{m['id']}条{m['title']}" for m in services]
        parts.append("您可能可以享受：" + "；".join(items) + "。")
    care = [m for m in ev["measures"] if m["status"] == "eligible" and m["kind"] == "service"]
    if care:  # visits, care, counselling: a person can ask for them, so they are named too
        lead = "还可以得到的服务：" if (money or services) else "您可以得到的服务："
        parts.append(lead + "；".join(f"第{m['id']}条{m['title']}" for m in care) + "。")
    elif not (money or services):
        parts.append("根据目前的情况，还不能确定您能享受哪项措施。")
    if ev["ask_next"]:
        parts.append(question_for(ev["ask_next"][0]))
    text = "".join(parts)
    return text if len(text) <= limit else text[: limit - 1] + "…"
