"""Three-valued conditions: True, False or None (unknown), each with what decides it.

Unknown is never read as false: a condition that is None carries the Facts fields that would
settle it, and those become the measure's `missing` and feed `ask_next`.
"""
from __future__ import annotations


class Cond:
    __slots__ = ("value", "reasons", "missing")

    def __init__(self, value: bool | None, reasons: tuple = (), missing: tuple = ()):
        self.value = value
        self.reasons = reasons  # why it holds (True) or fails (False)
        self.missing = missing  # fields that decide it (None)


def known(value: bool | None, field: str, if_true: str, if_false: str) -> Cond:
    if value is None:
        return Cond(None, (), (field,))
    return Cond(value, (if_true if value else if_false,), ())


def all_of(*conds: Cond) -> Cond:
    failed = [c for c in conds if c.value is False]
    if failed:
        return Cond(False, tuple(r for c in failed for r in c.reasons))
    reasons = tuple(r for c in conds if c.value for r in c.reasons)
    missing = _merge(c.missing for c in conds if c.value is None)
    return Cond(None if missing else True, reasons, missing)


def any_of(*conds: Cond) -> Cond:
    held = [c for c in conds if c.value]
    if held:
        return Cond(True, tuple(r for c in held for r in c.reasons))
    unknown = [c for c in conds if c.value is None]
    if unknown:
        return Cond(None, (), _merge(c.missing for c in unknown))
    return Cond(False, tuple(r for c in conds for r in c.reasons))


def negate(cond: Cond, if_true: str, if_false: str) -> Cond:
    if cond.value is None:
        return Cond(None, (), cond.missing)
    return Cond(not cond.value, (if_false if cond.value else if_true,))


def _merge(groups) -> tuple:
    out: list = []
    for g in groups:
        for field in g:
            if field not in out:
                out.append(field)
    return tuple(out)
