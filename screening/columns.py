"""Register columns -> Facts values.

The column names are the Facts fields of shared/contract.md §1 (plus `household_id`); their
types come from policy_kb's Facts vocabulary (data/facts.yaml), so a field added there is read
here without a change. An empty cell is "unknown" and the field is left out of the Facts —
never false or zero. Cells may be text (CSV) or typed values (Parquet): both are accepted.
Only the *type* is checked here; ranges, codes, counties and dates are policy_kb's to judge.
"""
from __future__ import annotations

import datetime as dt
import math
import re
from functools import lru_cache

from policy_kb.tables import vocabulary

ID_COLUMN = "household_id"
# The register lists codes as `dibao;tekun`; a full-width semicolon is a common typing slip.
LIST_SEPARATOR = re.compile(r"[;；]")
_TRUE = {"true", "t", "yes", "y", "1", "是", "有", "真"}
_FALSE = {"false", "f", "no", "n", "0", "否", "无", "没有", "假"}
_UNKNOWN = object()  # a cell that holds only blanks


class CellError(ValueError):
    """A cell whose text cannot be read as its field's type."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


@lru_cache(maxsize=None)
def fact_types() -> dict[str, str]:
    """Facts field -> type name (boolean, integer, number, codes, date, enum, county, ...)."""
    return {name: spec.get("type", "string") for name, spec in vocabulary()["fields"].items()}


def _show(value) -> str:
    text = str(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _boolean(value):
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    text = str(value).strip().lower()
    if not text:
        return _UNKNOWN
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"不是是/否值 not a boolean (true/false, 是/否): {_show(value)!r}")


def _integer(value):
    if isinstance(value, bool):
        raise ValueError(f"不是整数 not an integer: {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if value.is_integer():
            return int(value)
        raise ValueError(f"不是整数 not an integer: {value!r}")
    text = str(value).strip()
    if not text:
        return _UNKNOWN
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        raise ValueError(f"不是整数 not an integer: {_show(value)!r}") from None
    if number.is_integer():  # "3.0" from spreadsheet exports
        return int(number)
    raise ValueError(f"不是整数 not an integer: {_show(value)!r}")


def _number(value):
    if isinstance(value, bool):
        raise ValueError(f"不是数字 not a number: {value!r}")
    if isinstance(value, (int, float)):
        number = value
    else:
        text = str(value).strip()
        if not text:
            return _UNKNOWN
        try:
            number = int(text)
        except ValueError:
            try:
                number = float(text)
            except ValueError:
                raise ValueError(f"不是数字 not a number: {_show(value)!r}") from None
    if isinstance(number, float) and not math.isfinite(number):
        raise ValueError(f"不是有限的数字 not a finite number: {_show(value)!r}")
    return number


def _codes(value):
    if isinstance(value, (list, tuple)):
        items = [str(v).strip() for v in value if v is not None]
    else:
        items = [part.strip() for part in LIST_SEPARATOR.split(str(value))]
    items = [item for item in items if item]
    return items if items else _UNKNOWN


def _date(value):
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value).strip()
    return text if text else _UNKNOWN


def _text(value):
    text = str(value).strip()
    return text if text else _UNKNOWN


_CONVERTERS = {
    "boolean": _boolean,
    "integer": _integer,
    "number": _number,
    "codes": _codes,
    "date": _date,
}


def converter(type_name: str):
    return _CONVERTERS.get(type_name, _text)


# Fast paths for whole columns of the common cells; anything else goes cell by cell through
# the converters above, so the result is the same either way.
_BOOL_CELLS = {"true": True, "false": False, "TRUE": True, "FALSE": False, "True": True, "False": False,
               "1": True, "0": False, "是": True, "否": False, True: True, False: False}
_SLOW = object()
_INF = (float("inf"), float("-inf"))


def _fast_integer(v):
    return int(v) if v.isdigit() else _SLOW


def _fast_number(v):
    if v.isdigit():
        return int(v)
    try:
        x = float(v)
    except ValueError:
        return _SLOW
    return x if x == x and x not in _INF and "_" not in v else _SLOW


class RowReader:
    """Turns the columns of one batch (as Python lists) into Facts dicts.

    Columns are converted whole (fast for the usual cells) and then zipped into one dict per
    row; an unreadable cell makes that row a CellError naming its first bad field.
    """

    def __init__(self, column_names: list[str]):
        types = fact_types()
        self.fields = [(name, types[name]) for name in column_names if name in types]
        self.ignored = [name for name in column_names if name not in types and name != ID_COLUMN]

    def _column(self, name: str, kind: str, values: list, errors: dict) -> list:
        if kind == "boolean":
            get = _BOOL_CELLS.get
            out = [get(v, _SLOW) if v is not None else None for v in values]
        elif kind == "integer":
            out = [(_fast_integer(v) if type(v) is str else v if type(v) is int else _SLOW)
                   if v is not None else None for v in values]
        elif kind == "number":
            out = [(_fast_number(v) if type(v) is str else v if type(v) is int else _SLOW)
                   if v is not None else None for v in values]
        elif kind in ("county", "city", "enum", "string"):
            out = [(v.strip() or None if type(v) is str else _SLOW) if v is not None else None for v in values]
        else:
            out = [_SLOW if v is not None else None for v in values]
        convert = converter(kind)
        for i, v in enumerate(out):
            if v is _SLOW:
                try:
                    v = convert(values[i])
                except ValueError as exc:
                    if i not in errors:
                        errors[i] = CellError(name, str(exc))
                    v = None
                out[i] = None if v is _UNKNOWN else v
        return out

    def convert(self, columns: dict[str, list], rows: int) -> tuple[list, dict]:
        """Facts dicts for `rows` rows (None where a row has a bad cell) and {row: CellError}."""
        errors: dict = {}
        names, cols = [], []
        for name, kind in self.fields:
            values = columns[name]
            cols.append(self._column(name, kind, values, errors))
            names.append(name)
        if not cols:
            return [{} for _ in range(rows)], errors
        facts = [{n: v for n, v in zip(names, vals) if v is not None} for vals in zip(*cols)]
        for i in errors:
            facts[i] = None
        return facts, errors

    def facts(self, columns: dict[str, list], i: int) -> dict:
        """The Facts of row `i` alone; raises CellError naming the field of an unreadable cell."""
        one = {name: [columns[name][i]] for name, _ in self.fields}
        facts, errors = self.convert(one, 1)
        if errors:
            raise errors[0]
        return facts[0]


def to_cell(name: str, value):
    """A Facts value as register text (the inverse of the converters), for writing registers."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ";".join(value)
    return str(value)
