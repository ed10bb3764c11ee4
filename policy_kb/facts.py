"""Facts: validation and JSON Schema, both generated from data/facts.yaml (one source)."""
from __future__ import annotations

import math
import re
from datetime import date
from functools import lru_cache

from policy_kb.tables import resolve_city, resolve_county, vocabulary

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class InvalidFacts(ValueError):
    """Bad Facts. `field` names the culprit (e.g. "county", "statuses[1]")."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@lru_cache(maxsize=None)
def _spec():
    vocab = vocabulary()
    return vocab["fields"], frozenset(vocab["statuses"]), frozenset(vocab["fields"]["employment"]["values"])


def parse_date(raw, field: str = "as_of") -> date:
    if isinstance(raw, date):
        return raw
    if not isinstance(raw, str) or not _ISO_DATE.match(raw):
        raise InvalidFacts(field, f"日期格式应为 YYYY-MM-DD（expected a date YYYY-MM-DD, got {raw!r}）")
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise InvalidFacts(field, f"不是有效日期（not a valid date: {raw!r}）") from None


def _integer(field: str, raw, spec: dict) -> int:
    if isinstance(raw, bool) or not isinstance(raw, (int, float)):
        raise InvalidFacts(field, f"应为整数（expected an integer, got {type(raw).__name__} {raw!r}）")
    if isinstance(raw, float):
        if not math.isfinite(raw) or raw != int(raw):
            raise InvalidFacts(field, f"应为整数（expected an integer, got {raw!r}）")
        raw = int(raw)
    lo, hi = spec.get("minimum"), spec.get("maximum")
    if lo is not None and raw < lo:
        raise InvalidFacts(field, f"不能小于 {lo}（must be ≥ {lo}, got {raw}）")
    if hi is not None and raw > hi:
        raise InvalidFacts(field, f"不能大于 {hi}（must be ≤ {hi}, got {raw}）")
    return raw


def _number(field: str, raw, spec: dict) -> int | float:
    if isinstance(raw, bool) or not isinstance(raw, (int, float)):
        raise InvalidFacts(field, f"应为数字（expected a number, got {type(raw).__name__} {raw!r}）")
    if not math.isfinite(raw):
        raise InvalidFacts(field, f"应为有限数字（expected a finite number, got {raw!r}）")
    lo = spec.get("minimum")
    if lo is not None and raw < lo:
        raise InvalidFacts(field, f"不能为负数（must be ≥ {lo}, got {raw}）")
    return raw


def _codes(field: str, raw, known: frozenset) -> list[str]:
    if not isinstance(raw, (list, tuple)):
        raise InvalidFacts(field, f"应为身份代码列表（expected a list of status codes, got {type(raw).__name__}）")
    out: list[str] = []
    for i, code in enumerate(raw):
        if not isinstance(code, str) or code not in known:
            raise InvalidFacts(f"{field}[{i}]", f"未知的身份代码 {code!r}（unknown status code; known: {', '.join(sorted(known))}）")
        if code not in out:
            out.append(code)
    return out


def validate_facts(facts) -> dict:
    """Normalised Facts: unknown fields (None) dropped, county aliases made canonical.

    Raises InvalidFacts naming the field for anything the contract does not allow.
    """
    if not isinstance(facts, dict):
        raise InvalidFacts("facts", f"应为 JSON 对象（expected an object, got {type(facts).__name__}）")
    fields, status_codes, employment_codes = _spec()
    out: dict = {}
    for field, raw in facts.items():
        if raw is None:
            continue  # null means not known yet
        spec = fields.get(field)
        if spec is None:
            raise InvalidFacts(str(field), "未知字段（unknown field）")
        kind = spec["type"]
        if kind == "boolean":
            if not isinstance(raw, bool):
                raise InvalidFacts(field, f"应为 true 或 false（expected a boolean, got {raw!r}）")
            out[field] = raw
        elif kind == "integer":
            out[field] = _integer(field, raw, spec)
        elif kind == "number":
            out[field] = _number(field, raw, spec)
        elif kind == "codes":
            out[field] = _codes(field, raw, status_codes)
        elif kind == "enum":
            if raw not in spec["values"]:
                raise InvalidFacts(field, f"应为 {' / '.join(spec['values'])} 之一（got {raw!r}）")
            out[field] = raw
        elif kind == "date":
            out[field] = parse_date(raw, field).isoformat()
        elif kind == "county":
            county = resolve_county(raw) if isinstance(raw, str) else None
            if county is None:
                raise InvalidFacts(field, f"未知的县（市、区）{raw!r}，不是宁夏的县级行政区（unknown county）")
            out[field] = county.name
        elif kind == "city":
            city = resolve_city(raw) if isinstance(raw, str) else None
            if city is None:
                raise InvalidFacts(field, f"未知的地级市 {raw!r}，不是宁夏的地级市（unknown city）")
            out[field] = city
        elif kind == "string":
            if not isinstance(raw, str):
                raise InvalidFacts(field, f"应为文字（expected a string, got {type(raw).__name__}）")
            if len(raw) > spec.get("maxLength", 500):
                raise InvalidFacts(field, f"过长（longer than {spec.get('maxLength', 500)} characters）")
            out[field] = raw
        else:  # pragma: no cover - facts.yaml names a type this module does not know
            raise AssertionError(f"facts.yaml: unknown type {kind} for {field}")
    both = set(out.get("statuses", ())) & set(out.get("not_statuses", ()))
    if both:
        raise InvalidFacts("not_statuses", f"{', '.join(sorted(both))} 同时出现在 statuses 和 not_statuses 中（a code cannot be both held and not held）")
    if "county" in out and "city" in out and resolve_county(out["county"]).city != out["city"]:
        raise InvalidFacts("city", f"{out['county']} 不属于 {out['city']}（county and city disagree）")
    if "county" in out and "city" not in out:
        out["city"] = resolve_county(out["county"]).city
    return out


@lru_cache(maxsize=None)
def facts_schema() -> dict:
    """JSON Schema (draft 2020-12) of Facts, for the service's OpenAPI and validators."""
    from policy_kb.tables import counties, cities

    fields, status_codes, _ = _spec()
    names = sorted({c.name for c in counties()} | {a for c in counties() for a in c.aliases})
    props: dict = {}
    for field, spec in fields.items():
        kind = spec["type"]
        title = spec["label"]
        if kind == "boolean":
            p = {"type": "boolean"}
        elif kind == "integer":
            p = {"type": "integer", **{k: spec[k] for k in ("minimum", "maximum") if k in spec}}
        elif kind == "number":
            p = {"type": "number", "minimum": spec.get("minimum", 0)}
        elif kind == "codes":
            p = {"type": "array", "items": {"type": "string", "enum": sorted(status_codes)}, "uniqueItems": True}
        elif kind == "enum":
            p = {"type": "string", "enum": list(spec["values"])}
        elif kind == "date":
            p = {"type": "string", "format": "date"}
        elif kind == "county":
            p = {"type": "string", "enum": names, "description": "宁夏县级行政区全称（也接受常用简称）"}
        elif kind == "city":
            city_names = sorted(set(cities()) | {a for v in cities().values() for a in v})
            p = {"type": "string", "enum": city_names}
        else:
            p = {"type": "string", "maxLength": spec.get("maxLength", 500)}
        props[field] = {"anyOf": [p, {"type": "null"}], "title": title}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Facts",
        "description": "已知的家庭情况；缺失或 null 表示未知（unknown is not false and not zero）",
        "type": "object",
        "properties": props,
        "additionalProperties": False,
    }
