"""The service's door to policy_kb and extraction: one place that maps their errors to 422."""
from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import Any

from service.core.errors import ApiError


def _invalid(exc: Exception, prefix: str = "") -> ApiError:
    field = getattr(exc, "field", None)
    if field and prefix:
        field = f"{prefix}.{field}" if not field.startswith("[") else prefix + field
    return ApiError(422, str(exc) if field is None or field in str(exc) else f"{field}: {exc}",
                    field=field, type_="invalid_facts")


@lru_cache(maxsize=1)
def facts_fields() -> frozenset[str]:
    import policy_kb

    return frozenset(policy_kb.facts_schema().get("properties", {}))


def validate_facts(facts: Any, *, prefix: str = "") -> dict:
    """Normalised Facts or ApiError(422) naming the field (unknown fields included)."""
    import policy_kb

    where = prefix or "facts"
    if not isinstance(facts, dict):
        raise ApiError(422, f"{where} 必须是 JSON 对象 / {where} must be a JSON object",
                       field=prefix or None, type_="invalid_facts")
    for key in facts:
        if key not in facts_fields():
            field = f"{prefix}.{key}" if prefix else key
            raise ApiError(422, f"不认识的字段 / unknown field '{field}'", field=field,
                           type_="invalid_facts")
    try:
        return policy_kb.validate_facts(facts)
    except policy_kb.InvalidFacts as exc:
        raise _invalid(exc, prefix) from None


def evaluate(facts: dict, *, default_as_of: date | None, prefix: str = "") -> dict:
    import policy_kb

    try:
        return policy_kb.evaluate(facts, today=default_as_of)
    except policy_kb.InvalidFacts as exc:
        raise _invalid(exc, prefix) from None


def ask_next_questions(fields: list[str]) -> list[dict]:
    import policy_kb

    out = []
    for field in fields:
        try:
            question = policy_kb.question_for(field)
        except (KeyError, ValueError):
            # Every name policy_kb asks for has a question (tests/policy checks it); the
            # contract's `question` is a string, so a name without one is still read out.
            question = f"请问：{field}？"
        out.append({"field": field, "question": question})
    return out


def summarize(evaluation: dict) -> str:
    import policy_kb

    return policy_kb.summarize(evaluation)


def extract(text: str, *, expected_field: str | None = None):
    import extraction

    return extraction.extract(text, expected_field=expected_field)


def read_message(facts: dict, text: str, *, as_of: date | None = None, expected_field: str | None = None,
                 case_file: dict | None = None):
    """(Facts after one more message, that message's extraction, the case file as a dict), read through
    the conversation's case file (extraction.casefile), or one that starts from `facts`: the bot, the
    copilot and the service's own record all derive Facts the same way. The extraction's urgency is the
    case's (救命钱 is none)."""
    from extraction.casefile import CaseFile

    day = as_of or date.today()
    case = CaseFile.from_dict(case_file) if case_file else CaseFile()
    if not case.turns and not case.observations:
        case = CaseFile.seeded(facts)
    found = case.add(text, as_of=day, expected_field=expected_field)
    return case.facts(day), found, case.to_dict()


def merge_facts(old: dict, new: dict) -> dict:
    import extraction

    return extraction.merge_facts(old, new)


def resolve_county(name: str | None) -> str | None:
    """Canonical county name, or ApiError(422) for a name outside Ningxia's 22 counties."""
    import policy_kb

    if name is None:
        return None
    county = policy_kb.resolve_county(name) if isinstance(name, str) else None
    if county is None:
        raise ApiError(422, f"未知的县（市、区）/ unknown county '{name}'", field="county",
                       type_="unknown_county")
    return county.name
