"""One small function per condition of the text, named for the question it answers.

Each returns a Cond (logic.py): True / False with the reason, or None with the Facts fields
that would decide it. Figures (lines, ages) come from Figures, never from literals.
"""
from __future__ import annotations

from functools import lru_cache

from policy_kb.figures import Figures
from policy_kb.logic import Cond, Template, any_of, known, negate
from policy_kb.tables import employment_labels, status_labels

# Status groups named in the text (codes of contract §1).
LOW_INCOME_MONITORED = ("dibao", "tekun", "dibao_marginal", "unstable_poverty_alleviated",
                        "marginal_poverty_prone", "sudden_severe_difficulty")  # measure 8
NO_MEANS_TEST = ("low_income_registered", "unstable_poverty_alleviated", "marginal_poverty_prone",
                 "sudden_severe_difficulty")  # measures 5 and 6: 不再进行家庭经济状况核查
COVID_SUBSIDY_GROUPS = ("dibao", "tekun", "orphan_institutional", "orphan_scattered", "vagrant",
                        "elderly_allowance")  # measure 7, first sentence
GRADUATE_CODES = ("unemployed_graduate", "failed_startup_graduate")  # measure 6
# Employment situations that presuppose the ability to work, which 特困人员 lack by definition.
ABLE_TO_WORK = ("unemployed_migrant_worker", "unemployed_graduate", "failed_startup_graduate", "employed")


# Facts the rules read only through a test against a line (or, for urgent_reason, whether the caller
# said anything): households on the same side of every line get the same verdicts, and the value
# itself reaches the reasons through a Template. A rule that reads one of these fields any other way
# must drop it from here (tests/policy compare the shared verdicts with fresh ones).
BANDS = {
    "age": lambda age, fig: (age >= fig.elderly_from, age < fig.adult_from),
    "months_without_income": lambda months, fig: months >= fig.months_without_income_line,
    "medical_out_of_pocket": lambda cost, fig: cost >= fig.medical_line,
    "urgent_reason": lambda reason, fig: bool(reason),
}


class Known:
    """Facts read three-valued: a status is held, not held, or unknown."""

    __slots__ = ("facts", "held", "not_held", "statuses")

    def __init__(self, facts: dict):
        self.facts = facts
        self.held = frozenset(facts.get("statuses", ()))
        self.not_held = frozenset(facts.get("not_statuses", ()))
        self.statuses = {code: self._status(code) for code in status_labels()}

    def status(self, code: str) -> bool | None:
        return self.statuses[code]

    def _status(self, code: str) -> bool | None:
        if code in self.held:
            return True
        if code in self.not_held:
            return False
        held = self.held
        if code == "dibao_marginal" and ("dibao" in held or "tekun" in held):
            return False  # 低保边缘家庭 are by definition not on dibao or tekun support
        if code in ("dibao", "tekun") and "dibao_marginal" in held:
            return False  # ... and the other way round
        if code == "tekun" and ("dibao" in held or self.facts.get("employment") in ABLE_TO_WORK):
            return False  # 特困 support is for those unable to work and not on dibao
        if code == "dibao" and "tekun" in held:
            return False
        return None

    def get(self, field: str):
        return self.facts.get(field)


@lru_cache(maxsize=None)
def _status_conds(code: str) -> tuple[Cond, Cond, Cond]:
    label = status_labels()[code]
    return Cond(True, (f"属于{label}",)), Cond(False, (f"不属于{label}",)), Cond(None, (), (f"statuses.{code}",))


def holds(k: Known, code: str) -> Cond:
    t, f, u = _status_conds(code)
    value = k.status(code)
    return u if value is None else (t if value else f)


def holds_any(k: Known, codes) -> Cond:
    return any_of(*(holds(k, c) for c in codes))


def is_on_dibao(k: Known) -> Cond:
    return holds(k, "dibao")


def is_outside_dibao(k: Known) -> Cond:
    return negate(is_on_dibao(k), "未纳入低保范围", "已纳入低保范围（本条面向未纳入低保的人员）")


def is_tekun(k: Known) -> Cond:
    return holds(k, "tekun")


_TEKUN_CANNOT_WORK = Cond(False, ("属于特困供养人员（无劳动能力），不是失业务工人员或待就业大学生",))


def is_unemployed_migrant_worker(k: Known) -> Cond:
    emp = k.get("employment")
    if emp is None:
        if k.status("tekun"):
            return _TEKUN_CANNOT_WORK  # 特困 support is for those unable to work: nobody asks a 五保户 about jobs
        return Cond(None, (), ("employment",))
    if emp == "unemployed_migrant_worker":
        return Cond(True, ("属于失业的农民工等外出务工人员",))
    return Cond(False, (f"就业情况为“{employment_labels()[emp]}”，不是失业的农民工等外出务工人员",))


def is_jobless_graduate(k: Known) -> Cond:
    emp = k.get("employment")
    if emp is None:
        if k.status("tekun"):
            return _TEKUN_CANNOT_WORK
        return Cond(None, (), ("employment",))
    if emp in GRADUATE_CODES:
        return Cond(True, (f"属于{employment_labels()[emp]}",))
    return Cond(False, (f"就业情况为“{employment_labels()[emp]}”，不是未就业或创业失败的大学生",))


def cannot_return_to_work(k: Known) -> Cond:
    v = k.get("can_return_to_work")
    return known(None if v is None else not v, "can_return_to_work",
                 "受疫情影响无法返岗复工", "能够返岗复工")


def lost_work_to_epidemic(k: Known) -> Cond:
    """Measure 7's last sentence needs living upset by the epidemic; of the facts, only 受疫情影响无法返岗复工
    shows that. It is a fallback nobody is asked about, so an unknown answer shows nothing."""
    if k.get("can_return_to_work") is False:
        return _LOST_WORK
    return _NO_LOST_WORK


_LOST_WORK = Cond(True, ("受疫情影响无法返岗复工，基本生活受到疫情影响",))
_NO_LOST_WORK = Cond(False, ("没有说明基本生活受到疫情影响",))


def is_outside_basic_support(k: Known) -> Cond:
    """Neither dibao nor tekun support: 相关社会救助和保障制度暂时无法覆盖."""
    return negate(holds_any(k, ("dibao", "tekun")), "未纳入低保、特困供养", "已纳入低保或特困供养，基本生活已有保障")


def meets_months_without_income(k: Known, fig: Figures) -> Cond:
    months = k.get("months_without_income")
    line = fig.months_without_income_line
    if months is None:
        return Cond(None, (), ("months_without_income",))
    if months >= line:
        return Cond(True, (Template(f"已连续{{months_without_income}}个月无收入来源（达到连续{line}个月）"),))
    return Cond(False, (Template(f"连续无收入{{months_without_income}}个月，不足{line}个月"),))


def lacks_unemployment_insurance(k: Known) -> Cond:
    v = k.get("unemployment_insurance")
    return known(None if v is None else not v, "unemployment_insurance",
                 "失业保险政策无法覆盖", "能领取失业保险（失业保险政策可以覆盖）")


def waives_means_test(k: Known) -> bool:
    """Measures 5 and 6: those already registered or recognised are helped without a means test."""
    return any(c in k.held for c in NO_MEANS_TEST)


def is_covid_patient(k: Known) -> Cond:
    return known(k.get("covid_confirmed"), "covid_confirmed", "已确诊为新冠肺炎患者", "未确诊新冠肺炎")


def has_quarantined_member(k: Known) -> Cond:
    return known(k.get("quarantined_member"), "quarantined_member",
                 "因家庭成员被隔离收治导致基本生活暂时困难", "没有因家庭成员被隔离收治导致生活困难")


def meets_medical_cost_line(k: Known, fig: Figures) -> Cond:
    cost = k.get("medical_out_of_pocket")
    line = fig.medical_line
    if cost is None:
        return Cond(None, (), ("medical_out_of_pocket",))
    if cost >= line:
        return Cond(True, (Template(f"政策范围内个人自负医疗费用 {{medical_out_of_pocket:g}} 元，达到 {line} 元及以上"),))
    return Cond(False, (Template(f"政策范围内个人自负医疗费用 {{medical_out_of_pocket:g}} 元，未达到 {line} 元"),))


def is_in_low_income_monitoring(k: Known) -> Cond:
    c = holds_any(k, LOW_INCOME_MONITORED)
    if c.value is False:
        return Cond(False, ("不属于低保、特困、低保边缘、脱贫不稳定、边缘易致贫或突发严重困难家庭",))
    return c


_AGE_IS_ELDERLY, _AGE_NOT_ELDERLY = Template("{age}岁，属于老年人"), Template("{age}岁，不属于老年人")
_AGE_IS_MINOR, _AGE_NOT_MINOR = Template("{age}岁，属于未成年人"), Template("{age}岁，不属于未成年人")


def is_elderly(k: Known, fig: Figures) -> Cond:
    age = k.get("age")
    return known(None if age is None else age >= fig.elderly_from, "age",
                 _AGE_IS_ELDERLY, _AGE_NOT_ELDERLY)


def is_minor(k: Known, fig: Figures) -> Cond:
    age = k.get("age")
    return known(None if age is None else age < fig.adult_from, "age",
                 _AGE_IS_MINOR, _AGE_NOT_MINOR)


def has_severe_disability(k: Known) -> Cond:
    return known(k.get("severe_disability"), "severe_disability", "有重度残疾", "没有重度残疾")


def has_severe_illness(k: Known) -> Cond:
    return known(k.get("severe_illness"), "severe_illness", "患有重病", "没有重病")


def cannot_care_for_self(k: Known) -> Cond:
    return known(k.get("cannot_self_care"), "cannot_self_care", "生活不能自理", "生活能够自理")


def is_reemployed_above_line(k: Known) -> Cond:
    return known(k.get("reemployed"), "reemployed", "低保家庭成员实现就业且家庭人均收入超过当地低保标准",
                 "没有因就业使家庭人均收入超过低保标准")


def has_heavy_rigid_expenses(k: Known) -> Cond:
    return known(k.get("rigid_expenses"), "rigid_expenses", "因病、因残、上学、就业、照料护理等刚性支出负担过重",
                 "没有过重的刚性支出")


_URGENT, _URGENT_SAID = "遇紧急情况需立即救助", Template("遇紧急情况需立即救助：{urgent_reason}")


def is_in_emergency(k: Known) -> Cond:
    """The `urgent` fact, or the caller's own words for an emergency when not denied."""
    urgent = k.get("urgent")
    if urgent is None and k.get("urgent_reason"):
        urgent = True
    said = _URGENT_SAID if k.get("urgent_reason") else _URGENT
    return known(urgent, "urgent", said, "没有需要立即救助的紧急情况")


def is_stranded(k: Known) -> Cond:
    return known(k.get("stranded"), "stranded", "属于暂时找不到工作又得不到家庭支持的外来务工人员或因交通管控滞留的临时遇困人员",
                 "不属于滞留或临时遇困人员")
