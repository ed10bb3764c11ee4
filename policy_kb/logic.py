"""Three-valued conditions: True, False or None (unknown), each with what decides it.

Unknown is never read as false: a condition that is None carries the Facts fields that would
settle it, and those become the measure's `missing` and feed `ask_next`.
Conds are immutable, so the common ones are built once and shared (evaluate is a hot path).
"""
from __future__ import annotations

from functools import lru_cache


class Template(str):
    """A reason that quotes a fact's own value (年龄、医疗费用、无收入月数、紧急情况): written with
    `{field}` placeholders and filled in when the evaluation is put together, so households that
    differ only in that value, on the same side of every line, share one verdict."""

    __slots__ = ()

    def render(self, facts: dict) -> str:
        return self.format_map(facts)


class Cond:
    __slots__ = ("value", "reasons", "missing")

    def __init__(self, value: bool | None, reasons: tuple = (), missing: tuple = ()):
        self.value = value
        self.reasons = reasons  # why it holds (True) or fails (False)
        self.missing = missing  # fields that decide it (None)


@lru_cache(maxsize=None)
def _fixed(field: str, if_true: str, if_false: str) -> tuple[Cond, Cond, Cond]:
    return Cond(True, (if_true,)), Cond(False, (if_false,)), Cond(None, (), (field,))


def known(value: bool | None, field: str, if_true: str, if_false: str) -> Cond:
    t, f, u = _fixed(field, if_true, if_false)
    return u if value is None else (t if value else f)


def all_of(*conds: Cond) -> Cond:
    reasons: list = []
    missing: list = []
    failed: list = []
    for c in conds:
        v = c.value
        if v is False:
            failed.extend(c.reasons)
        elif v is None:
            for m in c.missing:
                if m not in missing:
                    missing.append(m)
        else:
            reasons.extend(c.reasons)
    if failed:
        return Cond(False, tuple(failed))
    return Cond(None if missing else True, tuple(reasons), tuple(missing))


def any_of(*conds: Cond) -> Cond:
    held: list = []
    missing: list = []
    any_unknown = False
    for c in conds:
        v = c.value
        if v:
            held.extend(c.reasons)
        elif v is None:
            any_unknown = True
            for m in c.missing:
                if m not in missing:
                    missing.append(m)
    if held:
        return Cond(True, tuple(held))
    if any_unknown:
        return Cond(None, (), tuple(missing))
    return Cond(False, tuple(r for c in conds for r in c.reasons))


def negate(cond: Cond, if_true: str, if_false: str) -> Cond:
    if cond.value is None:
        return cond
    return Cond(not cond.value, (if_false if cond.value else if_true,))
