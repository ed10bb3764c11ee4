"""Derived facts: a case file (extraction.casefile) → Facts, one small function per derivation.

Like policy_kb's rules, each function answers one question about the whole conversation and says
in its docstring why. Only observations that count (affirmed, about the caller's or the subject's
household) are read; the latest observation of a kind wins unless a derivation says otherwise.
"""
from __future__ import annotations

from datetime import date

from extraction import since
from extraction.casefile import CaseFile, Observation

SCALARS = ("residence", "household_size", "employment", "months_without_income", "unemployment_insurance",
           "can_return_to_work", "covid_confirmed", "quarantined_member", "medical_out_of_pocket",
           "severe_disability", "severe_illness", "cannot_self_care", "age", "reemployed", "rigid_expenses",
           "stranded", "as_of")
# startup > graduate > migrant > employed > other: the more specific reading of a working situation stands
EMPLOYMENT_RANK = {"other": 0, "employed": 1, "unemployed_migrant_worker": 2, "unemployed_graduate": 3,
                   "failed_startup_graduate": 4}


def facts_of(case: CaseFile, as_of: date | None = None) -> dict:
    """Facts of the whole conversation on `as_of` (default today)."""
    day = as_of or date.today()
    facts = stated_facts(case)
    county, city = household_place(case)
    if county:
        facts["county"] = county
    elif city:
        facts["city"] = city
    where = emergency_county(case)
    if where and where != county:
        facts["emergency_county"] = where
    employment = derived_employment(case)
    if employment:
        facts["employment"] = employment
    back = can_return_to_work(case)
    if back is not None:
        facts["can_return_to_work"] = back
    months = months_without_income(case, day)
    if months is not None:
        facts["months_without_income"] = months
    urgent, reason = urgency(case)
    if urgent is not None:
        facts["urgent"] = urgent
        if urgent and reason:
            facts["urgent_reason"] = reason
    return facts


def _latest(case: CaseFile, kind: str) -> Observation | None:
    found = case.of_kind(kind)
    return found[-1] if found else None


def stated_facts(case: CaseFile) -> dict:
    """What the caller said outright, later words correcting earlier ones (statuses move between
    `statuses` and `not_statuses` when corrected)."""
    facts: dict = {}
    held: dict[str, bool] = {}
    for o in case.observations:
        if o.kind == "status" and o.whose != "third" and o.context in ("affirmed", "negated"):
            held.pop(o.value, None)
            held[o.value] = o.context == "affirmed"
        elif o.kind in SCALARS and o.counts:
            facts[o.kind] = o.value
    statuses = [code for code, yes in held.items() if yes]
    if "age" not in facts and any(c.startswith("orphan") for c in statuses):
        child = [o for o in case.of_kind("child_age")]
        if child:
            facts["age"] = child[-1].value  # an orphan's case is the child's
    not_statuses = [code for code, yes in held.items() if not yes]
    if statuses:
        facts["statuses"] = statuses
    if not_statuses:
        facts["not_statuses"] = not_statuses
    return facts


def _city_of(county: str) -> str | None:
    from policy_kb.tables import resolve_county

    found = resolve_county(county)
    return found.city if found else None


def household_place(case: CaseFile) -> tuple[str | None, str | None]:
    """Where the household lives (county, or only its city). A place said to be home (老家西吉, 我是海原的)
    is not displaced by places of other roles: the hospital (去银川住院), the caller's own town while the
    case is a relative's (我在银川), the work site (在银川工地上干活) or where an emergency happens. Without
    any home, the latest place of no particular role stands, then a work place, then the emergency's."""
    places = [o for o in case.of_kind("county", "city") if o.role not in ("hospital", "caller", "past")]
    homes = [o for o in places if o.role == "home"]
    for group in (homes, [o for o in places if o.role is None], [o for o in places if o.role == "work"],
                  [o for o in places if o.role == "location"]):
        if not group:
            continue
        county = city = None
        for o in group:
            if o.kind == "county":
                county, city = o.value, None
            elif county and _city_of(county) == o.value:
                continue  # 银川 after 兴庆区: the same place, less precisely
            else:
                county, city = None, o.value
        if homes and group is not homes and county is None:
            continue
        return county, city
    return None, None


def emergency_county(case: CaseFile) -> str | None:
    """Where an emergency is happening (measure 9: help is given where the person is): a county named
    as the caller's location (困在青铜峡火车站), when the case is urgent or the person stranded."""
    if not (any(o.value is True for o in case.of_kind("urgent", "stranded"))):
        return None
    located = [o for o in case.of_kind("county") if o.role == "location"]
    return located[-1].value if located else None


def _events(case: CaseFile, *kinds: str) -> list[Observation]:
    """Observations of things that happened (graduating, working away, opening a shop): said in the
    past tense they still hold (去年毕业, 之前在外地打工), unlike a state said of the past."""
    return [o for o in case.observations if o.kind in kinds and o.whose != "third"
            and o.context in ("affirmed", "historical")]


def _turn_of(found: list[Observation]) -> int:
    return max((o.turn for o in found), default=-1)


def is_unemployed_migrant_worker(case: CaseFile) -> int | None:
    """Works away or for wages (在银川工地上干活, 出去打工) and the work stopped or the money did
    (工地停了, 没活了, 从4月起没收入), in any order over the conversation: measure 5's 失业农民工.
    Returns the turn of the latest evidence, or None."""
    away = _events(case, "works_away")
    lost = _events(case, "work_stopped", "no_income", "income_since")
    if not away or not lost:
        return None
    return max(_turn_of(away), _turn_of(lost))


def is_failed_startup_graduate(case: CaseFile) -> int | None:
    """A graduate whose own business failed (毕业后开了个奶茶店…赔光了 / 店关了): measure 6's 创业失败大学生."""
    grads = _events(case, "graduate")
    business = _events(case, "own_business")
    failed = _events(case, "business_failed") or [o for o in _events(case, "work_stopped") if business]
    if not grads or not business or not failed:
        return None
    return max(_turn_of(grads), _turn_of(business), _turn_of(failed))


def is_unemployed_graduate(case: CaseFile) -> int | None:
    """A graduate without work (毕业了…到现在没找到工作 / 一直在家): measure 6's 未就业大学生."""
    grads = _events(case, "graduate")
    idle = _events(case, "no_job", "work_stopped", "no_income")
    if not grads or not idle:
        return None
    return max(_turn_of(grads), _turn_of(idle))


def derived_employment(case: CaseFile) -> str | None:
    """The working situation over the whole conversation. A derived unemployment reading replaces a
    stated less specific one; a job said after the evidence (现在又上班了) stands."""
    stated = _latest(case, "employment")
    working = _latest(case, "works_now")
    for code, evidence in (("failed_startup_graduate", is_failed_startup_graduate),
                           ("unemployed_graduate", is_unemployed_graduate),
                           ("unemployed_migrant_worker", is_unemployed_migrant_worker)):
        turn = evidence(case)
        if turn is None:
            continue
        if working is not None and working.turn >= turn:
            return "employed"  # 今年刚毕业…现在在超市上班: working now
        if stated is None:
            return code
        if stated.value in ("employed", "other") and stated.turn > turn:
            return stated.value
        return code if EMPLOYMENT_RANK[code] > EMPLOYMENT_RANK.get(stated.value, 0) else stated.value
    if stated is None and working is not None and _events(case, "graduate"):
        return "employed"
    return stated.value if stated else None


def can_return_to_work(case: CaseFile) -> bool | None:
    """Whether the caller can go back to work (measure 5's 无法返岗复工): as said, or, when the work
    stopped and the caller says it has still not come back (到现在也没开, 老板说不开了), no. A job
    held now (现在又上班了) says yes only when said after."""
    stated = _latest(case, "can_return_to_work")
    stopped = _events(case, "work_stopped")
    # (老板说不开了: the boss's words about the work are the caller's fact)
    still = [o for o in case.observations if o.kind == "still_stopped" and o.context == "affirmed"]
    working = _latest(case, "works_now")
    latest_still = still[-1] if still and stopped else None
    if stated is not None and (latest_still is None or stated.turn >= latest_still.turn):
        return stated.value
    if latest_still is not None and (working is None or working.turn < latest_still.turn):
        return False
    return stated.value if stated else None


def months_without_income(case: CaseFile, as_of: date) -> int | None:
    """Months with no income: a count said (三个月) or a start date (从4月10号起) counted in whole months
    up to `as_of`; whichever was said last."""
    count = _latest(case, "months_without_income")
    start = _latest(case, "income_since")
    if start is not None and (count is None or start.turn > count.turn):
        return since.whole_months(date.fromisoformat(start.value), as_of)
    if count is not None:
        return count.value
    # 宾馆去年十月就关了 … 从那以后一直没收入: the work's last day starts the months without income
    stopped = _latest(case, "stopped_on")
    if stopped is not None and case.of_kind("no_income"):
        return since.whole_months(date.fromisoformat(stopped.value), as_of)
    return None


def urgency(case: CaseFile) -> tuple[bool | None, str | None]:
    """An emergency now (affirmed: not supposed, not over, not a figure of speech such as 救命钱), and
    the caller's words for it; a later 不急 / 不是急事 answers the urgency question with no."""
    # a neighbour's emergency is one too: the caller rings for the person in danger (measure 9, 12)
    said = [o for o in case.observations if o.kind == "urgent" and (o.value is False or o.context == "affirmed")]
    if not said:
        return None, None
    last = said[-1]
    if last.value is not True:
        return False, None
    reasons = [o.value for o in case.observations if o.kind == "urgent_reason" and o.turn == last.turn]
    return True, (reasons[-1] if reasons else last.text or None)
