"""Seeded random households for the property tests where hypothesis is not installed (the Rasa
environment): drawn like test_properties.facts() draws them, edges of every range included."""
from __future__ import annotations

import inspect
import random
from datetime import date, timedelta

import pytest

EDGE_DAYS = ["2022-06-06", "2022-06-07", "2022-08-31", "2022-09-01", "2023-12-31", "2024-01-01"]
EMPLOYMENT = ["unemployed_migrant_worker", "unemployed_graduate", "failed_startup_graduate", "employed", "other"]
BOOLEANS = ("unemployment_insurance", "can_return_to_work", "covid_confirmed", "quarantined_member",
            "severe_disability", "severe_illness", "cannot_self_care", "reemployed", "rigid_expenses",
            "stranded", "urgent")
_FIRST, _LAST = date(1000, 1, 1), date(9999, 12, 31)


def _maybe(rng: random.Random, draw):
    return None if rng.random() < 0.3 else draw()


def _day(rng: random.Random) -> str:
    pick = rng.random()
    if pick < 0.4:
        return rng.choice(EDGE_DAYS)
    if pick < 0.8:  # mostly inside the document's life, where the rules decide
        return (date(2022, 6, 7) + timedelta(days=rng.randrange(573))).isoformat()
    return (_FIRST + timedelta(days=rng.randrange((_LAST - _FIRST).days + 1))).isoformat()


def _number(rng: random.Random, top: int, edges: tuple):
    pick = rng.random()
    if pick < 0.3:
        return rng.choice(edges)
    return rng.randint(0, top) if pick < 0.65 else rng.uniform(0, top)


def household(rng: random.Random, codes: list, county_names: list) -> dict:
    held = rng.sample(codes, rng.randint(0, 4))
    rest = [c for c in codes if c not in held]
    out = {
        "as_of": _day(rng),
        "county": _maybe(rng, lambda: rng.choice(county_names)),
        "residence": _maybe(rng, lambda: rng.choice(["urban", "rural"])),
        "household_size": _maybe(rng, lambda: rng.randint(1, 12)),
        "statuses": held,
        "not_statuses": rng.sample(rest, rng.randint(0, min(4, len(rest)))),
        "employment": _maybe(rng, lambda: rng.choice(EMPLOYMENT)),
        "months_without_income": _maybe(rng, lambda: rng.choice([0, 2, 3, 4, rng.randint(0, 60)])),
        "medical_out_of_pocket": _maybe(rng, lambda: _number(rng, 10**7, (0, 19999.99, 20000, 20000.0))),
        "age": _maybe(rng, lambda: rng.choice([0, 17, 18, 59, 60, rng.randint(0, 120)])),
        "urgent_reason": _maybe(rng, lambda: rng.choice(["", "没饭吃了", "{急}", "x" * 20])),
    }
    for b in BOOLEANS:
        out[b] = _maybe(rng, lambda: rng.random() < 0.5)
    return out


def parametrize(fn, n: int, codes: list, county_names: list, choices: tuple):
    """`fn` parametrized over `n` households (seeded by its name), plus one item of each `choices`."""
    rng = random.Random(fn.__name__)
    names = list(inspect.signature(fn).parameters)[: 1 + len(choices)]
    rows = [(household(rng, codes, county_names), *(rng.choice(c) for c in choices)) for _ in range(n)]
    if len(names) == 1:
        rows = [r[0] for r in rows]
    return pytest.mark.parametrize(",".join(names), rows)(fn)
