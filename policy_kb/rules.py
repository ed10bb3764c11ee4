"""The 20 measures, one rule each. A rule reads Facts (three-valued) and the day's Figures and
returns a Verdict; evaluation.py turns verdicts into the contract's Evaluation shape."""
from __future__ import annotations

from policy_kb.figures import Figure, Figures
from policy_kb.logic import Cond, all_of, any_of
from policy_kb.tables import fact_label
from policy_kb.predicates import (
    COVID_SUBSIDY_GROUPS, LOW_INCOME_MONITORED, NO_MEANS_TEST, Known, cannot_care_for_self, cannot_return_to_work, has_heavy_rigid_expenses,
    has_quarantined_member, has_severe_disability, has_severe_illness, holds, holds_any, is_covid_patient,
    is_elderly, is_in_emergency, is_in_low_income_monitoring, is_jobless_graduate, is_minor, is_on_dibao,
    is_outside_basic_support, is_outside_dibao, is_reemployed_above_line, is_stranded, is_tekun,
    is_unemployed_migrant_worker, lacks_unemployment_insurance, lost_work_to_epidemic, meets_medical_cost_line,
    meets_months_without_income, waives_means_test,
)


def reads(fields: tuple, statuses: tuple):
    """Declare what a rule reads (Facts fields and status codes), so evaluation can reuse its
    verdict for households that agree on exactly those. tests/policy check this against the
    uncached path on random households."""
    def mark(rule):
        rule.reads = (tuple(fields), tuple(statuses))
        return rule
    return mark


class Verdict:
    # `entries`: evaluation's frozen copies of this verdict, made once however many households share it
    __slots__ = ("status", "reasons", "missing", "amounts", "grants", "no_means_test", "entries")

    def __init__(self, status, reasons=(), missing=(), amounts=(), grants=(), no_means_test=False):
        self.status = status
        self.reasons = list(reasons)  # str, or Template quoting a fact (filled in by evaluation)
        self.missing = list(missing)
        self.amounts = list(amounts)
        self.grants = list(grants)
        self.no_means_test = no_means_test
        self.entries = None


def decide(cond: Cond, amounts=(), grants=(), amount_missing=(), no_means_test=False, pending=()) -> Verdict:
    """eligible / not_eligible / need_info from a condition; amounts and grants only when eligible.

    `pending` are reasons to show while the condition is still open (what is already met)."""
    if cond.value:
        missing = [m for m in amount_missing]
        return Verdict("eligible", cond.reasons, missing, amounts, grants, no_means_test)
    if cond.value is False:
        return Verdict("not_eligible", cond.reasons)
    still = "、".join(fact_label(m) for m in cond.missing)
    return Verdict("need_info", (*cond.reasons, *pending, f"尚需确认：{still}"), cond.missing)


def amount(fig: Figure, label: str, per: str, frequency: str, *, at_least=False, persons=None) -> dict:
    """An amount of the contract. `persons`: how many people a per-person amount covers
    (the household size for household-wide benefits, 1 for the person concerned)."""
    if per == "person":
        total = None if persons is None else _mul(fig.value, persons)
    else:
        total = fig.value
    return {"label": label, "value": fig.value, "at_least": at_least, "per": per, "frequency": frequency,
            "total": total, "formula": fig.formula, "parameters": list(fig.parameters)}


def _mul(value, n):
    product = value * n
    return round(product, 2) if isinstance(product, float) else product


def _household(k: Known):
    """(persons, missing) for an amount paid to every member of the household."""
    size = k.get("household_size")
    return size, (() if size is not None else ("household_size",))


# ---- 一、强化基本生活救助 -------------------------------------------------------------------

@reads(("household_size",), ("dibao", "tekun"))
def one_time_living_subsidy(k: Known, fig: Figures) -> Verdict:
    """1. 增发一次性生活补贴: 600 per person for dibao and tekun, paid 200 a month June–August 2022."""
    if fig.day > fig.subsidy_end:
        return Verdict("not_eligible", [
            f"一次性生活补贴已于{fig.subsidy_start.year}年{fig.subsidy_start.month}月至"
            f"{fig.subsidy_end.year}年{fig.subsidy_end.month}月按月发放完毕，发放期已过"])
    group = holds_any(k, ("dibao", "tekun"))
    if group.value is False:
        group = Cond(False, ("不属于城乡低保对象或特困供养人员",))
    persons, missing = _household(k) if k.status("dibao") else (1, ())
    return decide(group, [amount(fig.subsidy, "一次性生活补贴", "person", "once", persons=persons)],
                  amount_missing=missing)


@reads(("age", "residence", "household_size"), ("dibao", "tekun", "orphan_institutional", "orphan_scattered"))
def raised_standards(k: Known, fig: Figures) -> Verdict:
    """2. 全力办好民生实事: the raised dibao, tekun and orphan standards apply to those who hold them."""
    codes = ["dibao", "tekun"]
    if (k.get("age") is not None and k.get("age") < fig.adult_from) or k.status("orphan_institutional") \
            or k.status("orphan_scattered"):
        codes += ["orphan_institutional", "orphan_scattered"]
    group = holds_any(k, codes)
    if group.value is False:
        group = Cond(False, ("不属于低保对象、特困供养人员或孤儿，本条提高的保障标准不直接适用；可申请低保或临时救助",))
    amounts, missing = [], []
    residence = k.get("residence")
    if group.value:
        if k.status("dibao") or k.status("tekun"):
            if residence is None:
                missing.append("residence")
        persons, size_missing = _household(k)
        if k.status("dibao") and residence:
            fig_d = fig.urban_monthly if residence == "urban" else fig.rural_yearly
            label = "城市低保标准（按家庭人均收入与标准的差额补差发放）" if residence == "urban" else \
                "农村低保标准（按家庭人均收入与标准的差额补差发放）"
            amounts.append(amount(fig_d, label, "person", "monthly" if residence == "urban" else "yearly",
                                  persons=persons))
            missing.extend(size_missing)
        if k.status("tekun") and residence:
            fig_t = fig.tekun_urban if residence == "urban" else fig.tekun_rural
            amounts.append(amount(fig_t, f"{'城市' if residence == 'urban' else '农村'}特困供养标准", "person", "monthly",
                                  persons=1))
        if k.status("orphan_institutional"):
            amounts.append(amount(fig.orphan_institutional, "机构内养育孤儿津贴", "person", "monthly", persons=1))
        if k.status("orphan_scattered"):
            amounts.append(amount(fig.orphan_scattered, "社会散居孤儿津贴", "person", "monthly", persons=1))
    return decide(group, amounts, amount_missing=missing)


@reads(("reemployed", "severe_disability", "severe_illness", "rigid_expenses", "residence"), ("dibao", "dibao_marginal"))
def dibao_policies(k: Known, fig: Figures) -> Verdict:
    """3. 强化低保政策落实: gradual exit, 单人保 for the marginal with severe disability or illness, rigid expenses."""
    gradual_exit = all_of(is_on_dibao(k), is_reemployed_above_line(k))
    single_person = all_of(holds(k, "dibao_marginal"), any_of(has_severe_disability(k), has_severe_illness(k)))
    rigid = has_heavy_rigid_expenses(k)
    cond = any_of(gradual_exit, single_person, rigid)
    if cond.value is False:
        cond = Cond(False, ("不属于就业后的低保渐退、低保边缘家庭重残重病“单人保”或刚性支出扣减的情形",))
    amounts, grants, missing = [], [], []
    if gradual_exit.value:
        grants.append(f"可给予不少于{fig.exit_min_months}个月、不超过{fig.exit_max_months}个月的低保渐退期")
        grants.append("疫情防控期间暂停低保退出，待疫情防控结束后视实际情况按规定办理退出手续")
    if single_person.value:
        grants.append("经本人申请，参照“单人户”纳入低保")
        residence = k.get("residence")
        if residence is None:
            missing.append("residence")
        else:
            fig_d = fig.urban_monthly if residence == "urban" else fig.rural_yearly
            amounts.append(amount(fig_d, "“单人保”低保标准（按本人收入与标准的差额补差发放）", "person",
                                  "monthly" if residence == "urban" else "yearly", persons=1))
    if rigid.value:
        grants.append("核算家庭收入时扣减因病、因残、上学、就业、照料护理等刚性支出，符合条件的纳入相应保障")
    return decide(cond, amounts, grants, amount_missing=missing)


@reads((), ())
def price_linkage(k: Known, fig: Figures) -> Verdict:
    """4. 加强物价跟踪监测: a duty of the authorities (price subsidies when the mechanism starts)."""
    return Verdict("info", ["物价上涨达到启动条件时，民政部门按时足额发放价格临时补贴，无需个人申请"])


# ---- 二、强化临时救助帮扶 -------------------------------------------------------------------

@reads(("employment", "can_return_to_work", "months_without_income", "unemployment_insurance"), ("dibao", "tekun", *NO_MEANS_TEST))
def unemployed_worker_lump_sum(k: Known, fig: Figures) -> Verdict:
    """5. 强化失业生活困难人员救助帮扶."""
    return _jobless_lump_sum(k, _unemployed_worker_conditions(k, fig), fig.unemployed_lump_sum)


def _unemployed_worker_conditions(k: Known, fig: Figures) -> Cond:
    return all_of(is_unemployed_migrant_worker(k), is_outside_dibao(k), cannot_return_to_work(k),
                  meets_months_without_income(k, fig), lacks_unemployment_insurance(k))


@reads(("employment",), ("dibao", "tekun", *NO_MEANS_TEST))
def jobless_graduate_lump_sum(k: Known, fig: Figures) -> Verdict:
    """6. 强化未就业生活困难大学生救助帮扶."""
    return _jobless_lump_sum(k, all_of(is_jobless_graduate(k), is_outside_dibao(k)), fig.graduate_lump_sum)


def _jobless_lump_sum(k: Known, cond: Cond, fig_sum: Figure) -> Verdict:
    """Measures 5 and 6 pay the person concerned once, on their own application; the registered and
    the recognised are spared the means test."""
    waived = waives_means_test(k)
    verdict = decide(cond, [amount(fig_sum, "一次性临时救助金", "person", "once", persons=1)],
                     no_means_test=waived and cond.value is True)
    if cond.value:
        if waived:
            verdict.reasons.append("已纳入低收入人口数据库或属于乡村振兴部门认定的困难户，不再进行家庭经济状况核查，直接给予救助")
        else:
            verdict.reasons.append("经本人申请，并经家庭经济状况核查确认生活困难")
    return verdict


@reads(("covid_confirmed", "quarantined_member", "residence", "can_return_to_work", "employment",
        "months_without_income", "unemployment_insurance"), COVID_SUBSIDY_GROUPS)
def covid_hardship(k: Known, fig: Figures) -> Verdict:
    """7. 强化因疫生活困难群众救助帮扶: subsidy for confirmed patients in the named groups; 3× lump sum for
    dibao/tekun and families in temporary difficulty because a member was quarantined or hospitalised;
    temporary assistance for anyone else whose living the epidemic upset."""
    patient = is_covid_patient(k)
    quarantined = has_quarantined_member(k)
    subsidy = all_of(patient, holds_any(k, COVID_SUBSIDY_GROUPS))
    # a confirmed dibao or tekun patient is one whose family member (themselves) was 收治
    lump = any_of(quarantined, all_of(patient, holds_any(k, ("dibao", "tekun"))))
    cond = any_of(patient, quarantined, _other_epidemic_hardship(k, fig))
    if cond.value is False:
        cond = Cond(False, ("未确诊新冠肺炎，也没有因家庭成员被隔离收治导致生活困难",))
    amounts, grants, missing = [], [], []
    if subsidy.value:
        residence = k.get("residence")
        if residence is None:
            missing.append("residence")
        else:
            fig_c = fig.covid_subsidy_urban if residence == "urban" else fig.covid_subsidy_rural
            amounts.append(amount(fig_c, "确诊患者一次性生活补贴", "person", "once", at_least=True, persons=1))
    elif subsidy.value is None and patient.value:
        missing.extend(subsidy.missing)
    if lump.value:
        amounts.append(amount(fig.covid_lump_sum, "一次性临时救助金", "household", "once"))
    elif lump.value is None and cond.value:
        missing.extend(m for m in lump.missing if m not in missing)
    if cond.value and not amounts:
        grants.append("其他基本生活受疫情影响陷入困境的，及时通过临时救助给予帮扶")
    return decide(cond, amounts, grants, amount_missing=missing)


_COVERED_BY_MEASURE_5 = Cond(False, ("符合第5条，由第5条发放一次性临时救助金",))


def _other_epidemic_hardship(k: Known, fig: Figures) -> Cond:
    """7, last sentence: 其他基本生活受到疫情影响陷入困境、相关社会救助和保障制度暂时无法覆盖的家庭或个人."""
    if _unemployed_worker_conditions(k, fig).value:
        return _COVERED_BY_MEASURE_5
    return all_of(lost_work_to_epidemic(k), is_outside_basic_support(k))


@reads(("medical_out_of_pocket", "household_size"), LOW_INCOME_MONITORED)
def medical_hardship(k: Known, fig: Figures) -> Verdict:
    """8. 强化因病生活困难群众救助帮扶: out-of-pocket costs at or above the line → 支出型 assistance per person."""
    cond = all_of(is_in_low_income_monitoring(k), meets_medical_cost_line(k, fig))
    persons, missing = _household(k)
    return decide(cond, [amount(fig.medical_per_person, "支出型困难家庭救助（人均）", "person", "once",
                                at_least=True, persons=persons)], amount_missing=missing)


@reads(("urgent", "urgent_reason", "stranded", "household_size"), ("sudden_severe_difficulty",))
def emergency_assistance(k: Known, fig: Figures) -> Verdict:
    """9. 强化其他生活困难群众救助帮扶: help first, paperwork later; stranded people helped where they are."""
    emergency = is_in_emergency(k)
    stranded = is_stranded(k)
    severe = holds(k, "sudden_severe_difficulty")
    cond = any_of(emergency, stranded, Cond(True, severe.reasons) if severe.value else Cond(False))
    if cond.value is False:
        cond = Cond(False, ("没有需要立即救助的紧急情况，也不属于滞留、临时遇困人员",))
    amounts, grants, missing = [], [], []
    if emergency.value or stranded.value:
        size = k.get("household_size")
        if stranded.value or size == 1:
            # 得不到家庭支持的外来务工人员、滞留的临时遇困人员 are helped as individuals where they are,
            # whatever the size of the household they left behind
            amounts.append(amount(fig.temp_individual, "临时救助（个人对象）", "case", "once", at_least=True))
        elif size is None:
            missing.append("household_size")
        else:
            amounts.append(amount(fig.temp_urgent_household, "临时救助（急难型家庭）", "household", "once",
                                  at_least=True))
    if emergency.value:
        grants.append("先行救助，后补齐说明")
    if stranded.value:
        grants.append("取消户籍地、居住地申请限制，由急难发生地直接实施临时救助")
    if severe.value:
        grants.append("县级困难群众基本生活保障工作协调机制“一事一议”“一案一策”")
    return decide(cond, amounts, grants, amount_missing=missing)


# ---- 三、强化特殊照料服务 -------------------------------------------------------------------

@reads(("age", "severe_disability"), ("tekun", "dibao", "dibao_marginal"))
def home_visits(k: Known, fig: Figures) -> Verdict:
    """10. 加强走访探视: dispersed tekun; the elderly, minors and severely disabled of dibao and marginal families."""
    member = any_of(is_elderly(k, fig), is_minor(k, fig), has_severe_disability(k))
    cond = any_of(is_tekun(k), all_of(holds_any(k, ("dibao", "dibao_marginal")), member))
    if cond.value is False:
        cond = Cond(False, ("不属于特困人员，也不是低保或低保边缘家庭中的老年人、未成年人、重度残疾人",))
    return decide(cond, grants=["村（居）委会、社会工作者、社会救助协理员加大探访频次，了解生活状况、落实救助政策"])


@reads(("cannot_self_care",), ("tekun",))
def care_services(k: Known, fig: Figures) -> Verdict:
    """11. 加强照料服务: tekun — residential care for those who cannot care for themselves, care for the dispersed."""
    cond = is_tekun(k)
    if cond.value is False:
        cond = Cond(False, ("本条面向特困供养人员",))
    grants = ["分散供养的，照料服务人履行照料协议；因疫情无法照料的，及时指定其他人员照护"]
    if k.get("cannot_self_care"):
        grants.insert(0, "生活不能自理、有集中供养意愿的，可申请集中供养（应收尽收）")
    return decide(cond, grants=grants)


# ---- 四、强化救助工作时效 -------------------------------------------------------------------

@reads((), ())
def proactive_discovery(k: Known, fig: Figures) -> Verdict:
    """12. 完善主动发现快速响应机制 (a duty: the 12345 line itself is part of it)."""
    return Verdict("info", ["民政部门通过走访摸排、电话沟通主动发现困难群众；可通过12345热线求助，做到“求助有门、受助及时”"])


@reads((), ())
def information_sharing(k: Known, fig: Figures) -> Verdict:
    """13. 健全信息共享监测预警机制 (a duty)."""
    return Verdict("info", ["民政部门与相关部门比对数据、动态监测低收入人口，符合条件的及时纳入保障"])


@reads((), ())
def simpler_procedures(k: Known, fig: Figures) -> Verdict:
    """14. 优化社会救助经办工作流程 (a duty that makes applying easier)."""
    return Verdict("info", ["可通过“民政云”、社会救助APP、微信公众号申请和查询；能在政务服务平台查到的证明材料不再要求提供"])


# ---- 五、强化救助服务水平 -------------------------------------------------------------------

@reads(("urgent", "urgent_reason", "cannot_self_care", "severe_illness", "severe_disability"), ("elderly_allowance",))
def tailored_services(k: Known, fig: Figures) -> Verdict:
    """15. 按需实施分类化差异化救助: necessities, medical and meal help, home services, disinfection."""
    needs = (
        (is_in_emergency(k), "生活必需品短缺的，给予帮助和补充"),
        (cannot_care_for_self(k), "生活不能自理的，综合采取助医、助餐、上门服务等措施"),
        (has_severe_illness(k), "患严重疾病的，综合采取助医、助餐、上门服务等措施"),
        (has_severe_disability(k), "重度残疾等自身防控能力弱的，安排专人消毒清洁、帮助做好个人防护"),
        (holds(k, "elderly_allowance"), "高龄老年人，安排专人消毒清洁、帮助做好个人防护"),
    )
    cond = any_of(*(c for c, _ in needs))
    if cond.value is False:
        cond = Cond(False, ("没有生活必需品短缺、生活不能自理、重病、重度残疾或高龄等情形",))
    grants = list(dict.fromkeys(g for c, g in needs if c.value))
    return decide(cond, grants=grants)


@reads(("age", "severe_disability"), ("dibao", "tekun", "dibao_marginal", "low_income_registered"))
def community_support(k: Known, fig: Figures) -> Verdict:
    """16. 综合运用社会力量: counselling, visits and care for dibao, tekun, poor elderly and disabled people."""
    poor_elderly = all_of(is_elderly(k, fig), holds_any(k, ("dibao", "tekun", "dibao_marginal", "low_income_registered")))
    cond = any_of(holds_any(k, ("dibao", "tekun")), has_severe_disability(k), poor_elderly)
    if cond.value is False:
        cond = Cond(False, ("不属于低保、特困、贫困老年人或残疾人",))
    grants = ["可通过政府购买服务获得心理疏导和必要的探视、照料服务"]
    if k.get("severe_disability"):
        grants.append("家庭困难的重度残疾人可获得宁夏慈善总会慰问")
    return decide(cond, grants=grants)


# ---- 六、强化组织保障力度 -------------------------------------------------------------------

@reads((), ())
def department_coordination(k: Known, fig: Figures) -> Verdict:
    """17. 加强部门协同配合 (a duty)."""
    return Verdict("info", ["民政部门与人社、住建、乡村振兴、医保、残联等部门比对核实信息，精准认定救助对象"])


@reads((), ())
def oversight(k: Known, fig: Figures) -> Verdict:
    """18. 加强政策落实督导 (a duty)."""
    return Verdict("info", ["民政部门公开社会救助事项、开展政策宣传，接受群众监督"])


@reads((), ())
def funds_supervision(k: Known, fig: Figures) -> Verdict:
    """19. 加强资金使用监管 (a duty; misconduct can be reported)."""
    return Verdict("info", ["救助资金不得挤占、挪用、截留；发现虚报冒领、“关系保”“人情保”、吃拿卡要等问题可以举报"])


@reads((), ())
def error_tolerance(k: Known, fig: Figures) -> Verdict:
    """20. 建立容错纠错机制 (a duty towards front-line staff)."""
    return Verdict("info", ["对秉持公心、履职尽责但因客观原因出现失误且及时纠正的经办人员，依法依规免予问责"])


# In the order of the document: RULES[0] is measure 1.
RULES = (
    one_time_living_subsidy, raised_standards, dibao_policies, price_linkage,
    unemployed_worker_lump_sum, jobless_graduate_lump_sum, covid_hardship, medical_hardship,
    emergency_assistance, home_visits, care_services, proactive_discovery,
    information_sharing, simpler_procedures, tailored_services, community_support,
    department_coordination, oversight, funds_supervision, error_tolerance,
)
