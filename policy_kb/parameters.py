"""Dated parameters: every figure of the policy, once, with the sentence it comes from.

A parameter's value holds from its date until the next dated value. A county may override a
parameter in counties.yaml (`standards`); otherwise the region's value applies.
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from importlib import resources

import yaml

from policy_kb.tables import resolve_county


@dataclass(frozen=True)
class Parameter:
    path: str
    description: str
    unit: str
    reference: dict
    dates: tuple[date, ...]
    values: tuple

    def at(self, day: date):
        """The value in force on `day`, or None before the first dated value."""
        i = bisect.bisect_right(self.dates, day)
        return self.values[i - 1] if i else None

    def as_dict(self) -> dict:
        return {
            "path": self.path,
            "description": self.description,
            "unit": self.unit,
            "reference": self.reference,
            "values": {d.isoformat(): v for d, v in zip(self.dates, self.values)},
        }


def _parse_values(path: str, raw: dict) -> tuple[tuple[date, ...], tuple]:
    items = sorted((d if isinstance(d, date) else date.fromisoformat(str(d)), v) for d, v in raw.items())
    if not items:
        raise ValueError(f"parameter {path} has no dated value")
    return tuple(d for d, _ in items), tuple(v for _, v in items)


@lru_cache(maxsize=None)
def parameters() -> dict[str, Parameter]:
    """Every parameter of the package, by dotted path."""
    out: dict[str, Parameter] = {}
    folder = resources.files("policy_kb").joinpath("parameters")
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".yaml"):
            continue
        with entry.open(encoding="utf-8") as fh:
            data = yaml.safe_load(fh) or {}
        for path, leaf in data.items():
            if path in out:
                raise ValueError(f"parameter {path} defined twice")
            dates, values = _parse_values(path, leaf["values"])
            out[path] = Parameter(path, leaf["description"], leaf["unit"], leaf["reference"], dates, values)
    return out


@lru_cache(maxsize=None)
def _county_overrides(county: str) -> dict[str, Parameter]:
    found = resolve_county(county)
    if not found or not found.standards:
        return {}
    region = parameters()
    out = {}
    for path, raw in found.standards.items():
        base = region[path]
        dates, values = _parse_values(path, raw)
        ref = dict(base.reference, county=found.name)
        out[path] = Parameter(path, f"{found.name}{base.description}", base.unit, ref, dates, values)
    return out


def has_own_standards(county: str) -> bool:
    return bool(_county_overrides(county))


def parameter(path: str, county: str | None = None) -> Parameter:
    """The parameter in force for `county` (its own standard if it set one, else the region's)."""
    if county:
        own = _county_overrides(county).get(path)
        if own is not None:
            return own
    return parameters()[path]


def value(path: str, day: date, county: str | None = None):
    return parameter(path, county).at(day)


def times(multiplier, base) -> int | float:
    """multiplier × base, exact in decimal (no binary-float tails in derived amounts)."""
    product = Decimal(str(multiplier)) * Decimal(str(base))
    return as_number(product)


def divide(a, b) -> int | float:
    return as_number(Decimal(str(a)) / Decimal(str(b)))


def as_number(d: Decimal) -> int | float:
    d = d.quantize(Decimal("0.01"))
    return int(d) if d == d.to_integral_value() else float(d)
