"""The figures in force on one day in one county, derived once from the dated parameters.

Rules read figures from here; none of them holds an amount. Derivations (1.3 × the monthly
standard, 3 × the urban monthly standard …) are computed here exactly, with a readable formula
and the parameters they come from, so every amount in an evaluation can be traced.
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from policy_kb.parameters import divide, has_own_standards, parameter, times

MONTHS_PER_YEAR = 12  # a unit conversion, not a policy figure: 每人每年 → 每人每月


@dataclass(frozen=True)
class Figure:
    value: int | float
    formula: str
    parameters: tuple[str, ...]


def _fmt(x) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


class Figures:
    """Every figure of the document on `day` in `county`: a county that set its own standards
    (counties.yaml), or None for the region's, which every other county shares."""

    def __init__(self, day: date, county: str | None):
        def p(path):
            v = parameter(path, county).at(day)
            if v is None:
                raise LookupError(f"parameter {path} has no value on {day}")
            return v

        self.day = day
        self.county = county
        place = "自治区" if county is None else county
        u = p("dibao.urban_monthly")
        ry = p("dibao.rural_yearly")
        rm = divide(ry, MONTHS_PER_YEAR)
        self.urban_monthly = Figure(u, f"{place}城市低保标准 {_fmt(u)} 元/人/月", ("dibao.urban_monthly",))
        self.rural_yearly = Figure(ry, f"{place}农村低保标准 {_fmt(ry)} 元/人/年（约 {_fmt(rm)} 元/人/月）", ("dibao.rural_yearly",))
        self.rural_monthly = Figure(rm, f"农村低保年标准 {_fmt(ry)} 元 ÷ 12 个月", ("dibao.rural_yearly",))

        def mult(path, base: Figure, base_name: str) -> Figure:
            m = p(path)
            return Figure(times(m, base.value), f"{_fmt(m)} × {base_name} {_fmt(base.value)} 元", (path, *base.parameters))

        self.tekun_urban = mult("tekun.multiplier", self.urban_monthly, "城市低保月标准")
        self.tekun_rural = mult("tekun.multiplier", self.rural_monthly, "农村低保月标准")
        oi, os_ = p("orphan.institutional_monthly"), p("orphan.scattered_monthly")
        self.orphan_institutional = Figure(oi, f"机构内养育孤儿津贴 {_fmt(oi)} 元/人/月", ("orphan.institutional_monthly",))
        self.orphan_scattered = Figure(os_, f"社会散居孤儿津贴 {_fmt(os_)} 元/人/月", ("orphan.scattered_monthly",))
        self.temp_individual = mult("temporary_assistance.individual_multiplier", self.urban_monthly, "城市低保月标准")
        self.temp_urgent_household = mult("temporary_assistance.urgent_household_multiplier", self.urban_monthly, "城市低保月标准")
        self.temp_expenditure_household = mult(
            "temporary_assistance.expenditure_household_multiplier", self.urban_monthly, "城市低保月标准")

        total, monthly, months = p("one_time_subsidy.total"), p("one_time_subsidy.monthly"), p("one_time_subsidy.months")
        first = p("one_time_subsidy.first_month")
        y, m = (int(x) for x in str(first).split("-"))
        end_y, end_m = y + (m - 1 + months - 1) // 12, (m - 1 + months - 1) % 12 + 1
        self.subsidy_start = date(y, m, 1)
        self.subsidy_end = date(end_y, end_m, calendar.monthrange(end_y, end_m)[1])
        self.subsidy = Figure(
            total,
            f"每人每月 {_fmt(monthly)} 元 × {months} 个月（{y}年{m}月至{end_y}年{end_m}月）",
            ("one_time_subsidy.total", "one_time_subsidy.monthly", "one_time_subsidy.months", "one_time_subsidy.first_month"),
        )
        self.subsidy_monthly = monthly
        self.subsidy_months = months

        self.exit_min_months = p("gradual_exit.min_months")
        self.exit_max_months = p("gradual_exit.max_months")
        self.months_without_income_line = p("unemployed.min_months_without_income")
        self.unemployed_lump_sum = mult("unemployed.lump_sum_multiplier", self.urban_monthly, "城市低保月标准")
        self.graduate_lump_sum = mult("graduate.lump_sum_multiplier", self.urban_monthly, "城市低保月标准")
        cu, cr = p("covid.subsidy_urban"), p("covid.subsidy_rural")
        self.covid_subsidy_urban = Figure(cu, f"城市不低于 {_fmt(cu)} 元", ("covid.subsidy_urban",))
        self.covid_subsidy_rural = Figure(cr, f"农村不低于 {_fmt(cr)} 元", ("covid.subsidy_rural",))
        self.covid_lump_sum = mult("covid.lump_sum_multiplier", self.urban_monthly, "城市低保月标准")
        self.medical_line = p("medical.out_of_pocket_line")
        self.medical_per_person = mult("medical.assistance_multiplier", self.urban_monthly, "城市低保月标准")
        self.elderly_from = p("age.elderly_from")
        self.adult_from = p("age.adult_from")


def figures(day: date, county: str | None) -> Figures:
    """The figures `county` applies on `day`. Counties on the region's standards share one object,
    so verdicts that depend on the figures are shared between them too."""
    return _figures(day, county if county and has_own_standards(county) else None)


@lru_cache(maxsize=4096)
def _figures(day: date, county: str | None) -> Figures:
    return Figures(day, county)
