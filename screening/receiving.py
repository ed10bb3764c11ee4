"""The list of households already receiving each measure: `household_id, measure` per line.

`measure` is a measure number (several may be given as `5;8`). Lines that cannot be read are
reported (line, field, reason) and skipped, like bad register rows.
"""
from __future__ import annotations

from screening.columns import ID_COLUMN, LIST_SEPARATOR
from screening.tabular import TabularError, open_register

MEASURE_COLUMN = "measure"


class ReceivingError(Exception):
    pass


def load_receiving(path, measure_ids) -> tuple[dict[str, frozenset], list[tuple]]:
    """household_id -> measures received, and the problems found as (line, field, reason)."""
    try:
        register = open_register(path)
    except TabularError as exc:
        raise ReceivingError(str(exc)) from None
    missing = [c for c in (ID_COLUMN, MEASURE_COLUMN) if c not in register.columns]
    if missing:
        raise ReceivingError(
            f"在领名单缺少列 the receiving list {path} lacks column(s): {', '.join(missing)} "
            f"(expected {ID_COLUMN},{MEASURE_COLUMN})")
    known = set(measure_ids)
    found: dict[str, set] = {}
    problems: list[tuple] = []
    start = 0
    for batch in register.batches([ID_COLUMN, MEASURE_COLUMN]):
        ids = batch.column(ID_COLUMN).to_pylist()
        measures = batch.column(MEASURE_COLUMN).to_pylist()
        for i, (hid, cell) in enumerate(zip(ids, measures)):
            hid = str(hid).strip() if hid is not None else ""
            if not hid and cell is None:
                continue  # blank line
            where = register.location(start + i)
            if not hid:
                problems.append((where, ID_COLUMN, "缺少户编号 household_id is empty"))
                continue
            parts = [cell] if isinstance(cell, int) else [p.strip() for p in LIST_SEPARATOR.split(str(cell or ""))]
            parts = [p for p in parts if p != ""]
            if not parts:
                problems.append((where, MEASURE_COLUMN, "缺少措施编号 measure is empty"))
                continue
            for part in parts:
                try:
                    mid = int(part)
                except (TypeError, ValueError):
                    mid = None
                if mid not in known:
                    problems.append((where, MEASURE_COLUMN,
                                     f"不是措施编号 not a measure number ({min(known)}–{max(known)}): {part!r}"))
                    continue
                found.setdefault(hid, set()).add(mid)
        start += batch.num_rows
    for line, reason in register.malformed:
        problems.append((line, None, reason))
    return {hid: frozenset(ms) for hid, ms in found.items()}, problems
