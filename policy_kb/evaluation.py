"""evaluate(facts) -> the Evaluation of shared/contract.md §2.

ask_next ranks the unknown facts by the measures they would settle, weighted by what is at stake
(a benefit's status, an eligible benefit's amount, a service) and shared among the facts a measure
still waits for; ties are broken by the order of a call."""
from __future__ import annotations

from datetime import date
from functools import lru_cache

from policy_kb.document import document, measures
from policy_kb.facts import parse_date, validate_facts
from policy_kb.figures import figures
from policy_kb.predicates import Known, is_in_emergency
from policy_kb.rules import RULES
from policy_kb.tables import vocabulary

# Ties in ask_next are broken by how early a question comes in a call: the emergency first,
# then what the most measures hinge on.
_PRIORITY_HEAD = ("urgent", "county", "statuses.dibao", "statuses.tekun", "residence", "household_size",
                  "employment", "months_without_income", "can_return_to_work", "unemployment_insurance",
                  "covid_confirmed", "quarantined_member", "medical_out_of_pocket")


@lru_cache(maxsize=None)
def _priority() -> dict[str, int]:
    vocab = vocabulary()
    order = list(_PRIORITY_HEAD)
    order += [f"statuses.{c}" for c in vocab["statuses"] if f"statuses.{c}" not in order]
    order += [f for f in vocab["fields"] if f not in order]
    return {name: i for i, name in enumerate(order)}


@lru_cache(maxsize=64)
def _apply_at(county: str | None) -> dict[int, str]:
    office = f"{county}民政局" if county else "所在县（市、区）民政局"
    return {mid: m["apply_at"].replace("{office}", office) for mid, m in measures().items()}


@lru_cache(maxsize=1)
def _document_block() -> tuple:
    doc = document()
    return (doc["number"], doc["title"], doc["issuer"], doc["valid_from"], doc["valid_to"])


def _doc(day: date) -> dict:
    number, title, issuer, start, end = _document_block()
    return {"number": number, "title": title, "issuer": issuer, "valid_from": start.isoformat(),
            "valid_to": end.isoformat(), "in_force": start <= day <= end}


def evaluate(facts: dict, *, today: date | None = None) -> dict:
    """Which of the 20 measures apply to the household in `facts`, how much they pay, why, what is
    still unknown and where to apply. `facts["as_of"]` wins over `today` (default: date.today())."""
    norm = validate_facts(facts)
    day = parse_date(norm["as_of"]) if "as_of" in norm else (today or date.today())
    k = Known(norm)
    doc = _doc(day)
    texts = measures()
    apply_at = _apply_at(norm.get("county"))
    urgent = is_in_emergency(k).value is True
    out_measures = []
    if not doc["in_force"]:
        reason = (f"{doc['number']}的有效期为{doc['valid_from']}至{doc['valid_to']}，"
                  f"{day.isoformat()}不在有效期内")
        for mid, m in texts.items():
            out_measures.append(_measure(m, "not_in_force", [reason], [], [], [], False, apply_at[mid]))
        return {"as_of": day.isoformat(), "document": doc, "measures": out_measures, "ask_next": [],
                "urgent": urgent, "facts": norm}
    fig = figures(day, norm.get("county"))
    counts: dict[str, float] = {}
    for mid, rule in enumerate(RULES, start=1):
        v = _verdict(rule, k, fig)
        missing = v.missing
        if mid == 9 and v.status == "eligible" and "county" not in norm:
            missing = [*missing, "county"]  # an emergency is handled where it happens: the ticket needs the county
        if missing:
            # a fact that alone settles a measure is worth more than one of several still open
            weight = _weight(texts[mid]["kind"], v.status) / len(missing)
            for field in missing:
                counts[field] = counts.get(field, 0) + weight
        out_measures.append(_measure(texts[mid], v.status, v.reasons, missing, v.amounts, v.grants,
                                     v.no_means_test, apply_at[mid]))
    prio = _priority()
    ask_next = sorted(counts, key=lambda f: (-counts[f], prio.get(f, len(prio))))
    return {"as_of": day.isoformat(), "document": doc, "measures": out_measures, "ask_next": ask_next,
            "urgent": urgent, "facts": norm}


# Verdicts by (rule, figures, what the rule reads): households that agree on those get the same
# verdict, so a register of a million households costs a few thousand rule runs. Bounded.
_VERDICTS: dict = {}
_VERDICTS_MAX = 200_000
MEMOIZE = True  # tests compare against the uncached path


def _verdict(rule, k: Known, fig):
    if not MEMOIZE:
        return rule(k, fig)
    fields, codes = rule.reads
    get, status = k.facts.get, k.statuses
    key = (rule, fig, tuple([get(f) for f in fields]), tuple([status[c] for c in codes]))
    v = _VERDICTS.get(key)
    if v is None:
        if len(_VERDICTS) >= _VERDICTS_MAX:
            _VERDICTS.clear()
        v = _VERDICTS[key] = rule(k, fig)
    return v


def _weight(kind: str, status: str) -> int:
    """How much settling a fact of this measure is worth asking for: a benefit's status or the
    amount of an eligible benefit count three times as much as a service."""
    if status == "eligible":
        return 3
    return 3 if kind == "benefit" else 1


def _measure(m: dict, status, reasons, missing, amounts, grants, no_means_test, apply_at) -> dict:
    # fresh lists and amount dicts: verdicts are shared between evaluations, callers may mutate theirs
    return {"id": m["id"], "title": m["title"], "status": status,
            "amounts": [dict(a) for a in amounts] if amounts else [],
            "reasons": list(reasons), "missing": list(missing), "no_means_test": no_means_test,
            "apply_at": apply_at, "citation": m["text"], "kind": m["kind"], "grants": list(grants),
            "bring": list(m["bring"]) if m["bring"] else []}
