"""The tables the rules and the language side share: counties, Facts fields, status codes.

Loaded lazily from `data/*.yaml` and cached, so importing policy_kb does no work.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import yaml


def load_data(name: str):
    with resources.files("policy_kb").joinpath("data", name).open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


@dataclass(frozen=True)
class County:
    name: str
    city: str
    kind: str
    aliases: tuple[str, ...]
    standards: dict  # parameter path -> {date: value}; empty: the region's standard applies


@lru_cache(maxsize=None)
def counties() -> tuple[County, ...]:
    data = load_data("counties.yaml")
    return tuple(
        County(c["name"], c["city"], c["kind"], tuple(c.get("aliases", ())), c.get("standards") or {})
        for c in data["counties"]
    )


@lru_cache(maxsize=None)
def cities() -> dict[str, tuple[str, ...]]:
    """City (地级市) canonical name -> aliases."""
    return {name: tuple(v.get("aliases", ())) for name, v in load_data("counties.yaml")["cities"].items()}


@lru_cache(maxsize=None)
def county_index() -> dict[str, County]:
    """Canonical name and every alias -> County."""
    index: dict[str, County] = {}
    for county in counties():
        index[county.name] = county
        for alias in county.aliases:
            index[alias] = county
    return index


def resolve_county(name: str) -> County | None:
    """The county a caller means by `name` (canonical or alias), or None outside Ningxia."""
    return county_index().get(name.strip()) if isinstance(name, str) else None


def resolve_city(name: str) -> str | None:
    name = name.strip()
    for city, aliases in cities().items():
        if name == city or name in aliases:
            return city
    return None


@lru_cache(maxsize=None)
def vocabulary() -> dict:
    return load_data("facts.yaml")


@lru_cache(maxsize=None)
def status_labels() -> dict[str, str]:
    return {code: v["label"] for code, v in vocabulary()["statuses"].items()}


@lru_cache(maxsize=None)
def employment_labels() -> dict[str, str]:
    return dict(vocabulary()["employment"])


def question_for(field: str) -> str:
    """The Chinese question an agent reads out for an unknown fact (`statuses.dibao` too)."""
    vocab = vocabulary()
    if field.startswith("statuses."):
        return vocab["statuses"][field.split(".", 1)[1]]["question"]
    return vocab["fields"][field].get("question") or f"请提供：{vocab['fields'][field]['label']}"


def said_for(field: str, value) -> str | None:
    """How the bot says back a yes/no answer (有重度残疾 / 没有重度残疾); None for other fields."""
    said = vocabulary()["fields"].get(field, {}).get("said")
    return said[0 if value else 1] if said and isinstance(value, bool) else None


def fact_label(field: str) -> str:
    """Chinese name of a Facts field or `statuses.<code>` (是否属于低保对象)."""
    vocab = vocabulary()
    if field.startswith("statuses."):
        return f"是否属于{vocab['statuses'][field.split('.', 1)[1]]['label']}"
    return vocab["fields"][field]["label"]
