"""evaluate(facts) -> the Evaluation of shared/contract.md §2.

ask_next ranks the unknown facts by the measures they would settle, weighted by what is at stake
(a benefit's status, an eligible benefit's amount, a service) and shared among the facts a measure
still waits for; ties are broken by the order of a call.

Speed (a county screens its whole register with this): each rule's verdict depends only on what the
rule reads (rules.reads), and the ages, costs and months only through their lines (predicates.BANDS),
so verdicts are shared by the households that agree on those, each with its frozen plan entry; a
household's `Plan` puts its 20 entries and its ask_next together. An evaluation then fills in its values
(Template reasons) and copies the plan into fresh dicts the caller may change. Screening reads the
plan itself through `decide()`."""
from __future__ import annotations

from datetime import date
from functools import lru_cache
from operator import itemgetter

from policy_kb.document import document, measures
from policy_kb.facts import parse_date, validate_facts
from policy_kb.figures import figures
from policy_kb.logic import Template
from policy_kb.predicates import BANDS, Known, is_in_emergency
from policy_kb.rules import RULES
from policy_kb.tables import vocabulary

# Ties in ask_next are broken by how early a question comes in a call: the emergency first,
# then what the most measures hinge on.
_PRIORITY_HEAD = ("urgent", "county", "statuses.dibao", "statuses.tekun", "residence", "household_size",
                  "employment", "months_without_income", "can_return_to_work", "unemployment_insurance",
                  "covid_confirmed", "quarantined_member", "medical_out_of_pocket")

MEMOIZE = True  # tests compare against the uncached path


@lru_cache(maxsize=None)
def _priority() -> dict[str, int]:
    vocab = vocabulary()
    order = list(_PRIORITY_HEAD)
    order += [f"statuses.{c}" for c in vocab["statuses"] if f"statuses.{c}" not in order]
    order += [f for f in vocab["fields"] if f not in order]
    return {name: i for i, name in enumerate(order)}


@lru_cache(maxsize=64)
def _static(county: str | None) -> tuple[dict, ...]:
    """What a measure's output says whatever the household: text, kind, where to apply."""
    office = f"{county}民政局" if county else "所在县（市、区）民政局"
    return tuple({"id": m["id"], "title": m["title"], "apply_at": m["apply_at"].replace("{office}", office),
                  "citation": m["text"], "kind": m["kind"], "bring": tuple(m["bring"] or ())}
                 for m in measures().values())


@lru_cache(maxsize=1)
def _document_block() -> tuple:
    doc = document()
    return (doc["number"], doc["title"], doc["issuer"], doc["valid_from"], doc["valid_to"])


@lru_cache(maxsize=512)
def _doc(day: date) -> dict:
    number, title, issuer, start, end = _document_block()
    return {"number": number, "title": title, "issuer": issuer, "valid_from": start.isoformat(),
            "valid_to": end.isoformat(), "in_force": start <= day <= end}


def evaluate(facts: dict, *, today: date | None = None) -> dict:
    """Which of the 20 measures apply to the household in `facts`, how much they pay, why, what is
    still unknown and where to apply. `facts["as_of"]` wins over `today` (default: date.today())."""
    return assemble(decide(facts, today=today))


class Decision:
    """What evaluate() decided before it is written out: the normalised facts, the day, the plan."""

    __slots__ = ("facts", "day", "county", "plan")

    def __init__(self, facts: dict, day: date, county: str | None, plan: "Plan"):
        self.facts, self.day, self.county, self.plan = facts, day, county, plan


def decide(facts: dict, *, today: date | None = None) -> Decision:
    """Validates `facts` (InvalidFacts naming the field) and decides every measure."""
    norm = validate_facts(facts)
    day = parse_date(norm["as_of"]) if "as_of" in norm else (today or date.today())
    county = norm.get("county")
    k = Known(norm)
    if not _doc(day)["in_force"]:
        plan = _not_in_force(day, _is_urgent(k))
    elif MEMOIZE:
        plan = _shared_plan(k, figures(day, county), county)
    else:
        fig = figures(day, county)
        plan = _plan(tuple(rule(k, fig) for rule in RULES), county is None, _is_urgent(k))
    return Decision(norm, day, county, plan)


# ---- deciding ---------------------------------------------------------------------------------

class Plan:
    """Everything decided about the measures of one household, made of its verdicts' frozen entries.
    `measures` holds one (status, reasons, missing, amounts, grants, no_means_test, templated) per
    measure, in document order; nothing in it is handed to a caller without a copy."""

    __slots__ = ("measures", "ask_next", "urgent")

    def __init__(self, measures: tuple, ask_next: tuple, urgent: bool):
        self.measures = measures
        self.ask_next = ask_next
        self.urgent = urgent


def _is_urgent(k: Known) -> bool:
    return is_in_emergency(k).value is True


@lru_cache(maxsize=512)
def _not_in_force(day: date, urgent: bool) -> Plan:
    doc = _doc(day)
    reason = f"{doc['number']}的有效期为{doc['valid_from']}至{doc['valid_to']}，{day.isoformat()}不在有效期内"
    entry = ("not_in_force", (reason,), (), (), (), False, False)
    return Plan(tuple(entry for _ in measures()), (), urgent)


def _plan(verdicts: tuple, county_unknown: bool, urgent: bool) -> Plan:
    counts: dict[str, float] = {}
    out = []
    for mid, v in enumerate(verdicts, start=1):
        entry, weighted = _entry(v, mid, county_unknown and mid == 9)
        for field, weight in weighted:
            counts[field] = counts.get(field, 0) + weight
        out.append(entry)
    prio = _priority()
    ask_next = tuple(sorted(counts, key=lambda f: (-counts[f], prio.get(f, len(prio)))))
    return Plan(tuple(out), ask_next, urgent)


def _entry(v, mid: int, needs_county: bool) -> tuple[tuple, tuple]:
    """(the plan's frozen entry for verdict `v` of measure `mid`, what each missing fact weighs)."""
    if v.entries is None:
        v.entries = {}
    made = v.entries.get(needs_county)
    if made is None:
        missing = tuple(v.missing)
        if needs_county and v.status == "eligible":
            missing = (*missing, "county")  # an emergency is handled where it happens: the ticket needs the county
        # a fact that alone settles a measure is worth more than one of several still open
        weight = _weight(measures()[mid]["kind"], v.status) / len(missing) if missing else 0
        reasons = tuple(dict.fromkeys(v.reasons))  # a status named by two conditions is said once
        templated = any(r.__class__ is Template for r in reasons)
        entry = (v.status, reasons, missing, tuple(v.amounts), tuple(v.grants), v.no_means_test, templated)
        made = v.entries[needs_county] = (entry, tuple((f, weight) for f in missing))
    return made


def _weight(kind: str, status: str) -> int:
    """How much settling a fact of this measure is worth asking for: a benefit's status or the
    amount of an eligible benefit count three times as much as a service."""
    if status == "eligible":
        return 3
    return 3 if kind == "benefit" else 1


# ---- sharing decisions ------------------------------------------------------------------------

# Verdicts by (rule, figures, what the rule reads); bounded.
_VERDICTS: dict = {}
_CACHE_MAX = 200_000
_STATUS = "statuses."


@lru_cache(maxsize=None)
def _readers() -> tuple:
    """Per rule, a getter of what it reads from a household's view (None: it reads nothing)."""
    out = []
    for rule in RULES:
        fields, codes = rule.reads
        keys = (*fields, *(_STATUS + c for c in codes))
        out.append(itemgetter(*keys) if keys else None)
    return tuple(out)


@lru_cache(maxsize=None)
def _blank_view() -> dict:
    vocab = vocabulary()
    return {**dict.fromkeys(vocab["fields"]), **dict.fromkeys(_STATUS + c for c in vocab["statuses"])}


def _view(k: Known, fig) -> dict:
    """The household as the rules read it: every field (None when unknown), banded fields as the
    side of their lines, and each status three-valued under `statuses.<code>`."""
    view = dict(_blank_view())
    view.update(k.facts)
    for field, band in BANDS.items():
        value = view[field]
        if value is not None:
            view[field] = band(value, fig)
    for code, held in k.statuses.items():
        view[_STATUS + code] = held
    return view


def _shared_plan(k: Known, fig, county: str | None) -> Plan:
    view = _view(k, fig)
    memo = _VERDICTS
    verdicts = []
    for rule, read in zip(RULES, _readers()):
        key = (rule, fig, read(view)) if read is not None else (rule, fig)
        v = memo.get(key)
        if v is None:
            v = memo[key] = rule(k, fig)
        verdicts.append(v)
    if len(memo) >= _CACHE_MAX:
        memo.clear()
    # Plans themselves are not kept: on a register nearly every household's mix of verdicts is
    # its own, and putting one together from the verdicts' frozen entries is cheap.
    return _plan(verdicts, county is None, _is_urgent(k))


# ---- the Evaluation ---------------------------------------------------------------------------

def assemble(decision: Decision) -> dict:
    """The contract's Evaluation: fresh lists and dicts throughout (the plan is shared), reasons
    that quote a fact filled in with this household's value."""
    plan, norm, day = decision.plan, decision.facts, decision.day
    out = []
    for m, (status, reasons, missing, amounts, grants, no_means_test, templated) in zip(
            _static(decision.county), plan.measures):
        out.append({
            "id": m["id"], "title": m["title"], "status": status,
            "amounts": [dict(a) for a in amounts],
            "reasons": [r.render(norm) if r.__class__ is Template else r for r in reasons] if templated else list(reasons),
            "missing": list(missing), "no_means_test": no_means_test, "apply_at": m["apply_at"],
            "citation": m["citation"], "kind": m["kind"], "grants": list(grants), "bring": list(m["bring"]),
        })
    return {"as_of": day.isoformat(), "document": dict(_doc(day)), "measures": out,
            "ask_next": list(plan.ask_next), "urgent": plan.urgent, "facts": norm}
