"""The names shared/contract.md fixes, copied from the contract (not from the code), and a
checker for the Evaluation shape of §2."""
from __future__ import annotations

import re

FACT_FIELDS = {
    "as_of", "county", "residence", "household_size", "statuses", "not_statuses", "employment",
    "months_without_income", "unemployment_insurance", "can_return_to_work", "covid_confirmed",
    "quarantined_member", "medical_out_of_pocket", "severe_disability", "severe_illness",
    "cannot_self_care", "age", "reemployed", "rigid_expenses", "stranded", "urgent", "urgent_reason",
}
STATUS_CODES = {
    "dibao", "tekun", "dibao_marginal", "orphan_institutional", "orphan_scattered",
    "low_income_registered", "unstable_poverty_alleviated", "marginal_poverty_prone",
    "sudden_severe_difficulty", "vagrant", "elderly_allowance",
}
EMPLOYMENT = {"unemployed_migrant_worker", "unemployed_graduate", "failed_startup_graduate", "employed", "other"}
MEASURE_STATUSES = {"eligible", "not_eligible", "need_info", "info", "not_in_force"}
PER = {"person", "household", "case"}
FREQUENCY = {"once", "monthly", "yearly"}
TICKET_STATUSES = {"open", "acknowledged", "assisted", "closed"}
TICKET_SOURCES = {"wechat", "rest", "copilot", "agent"}
TICKET_FIELDS = {"id", "created_at", "county", "status", "urgent_reason", "facts", "source",
                 "conversation_id", "history"}
DOCUMENT = {"number": "宁政办规发〔2022〕7号", "valid_from": "2022-06-07", "valid_to": "2023-12-31"}
MEASURE_KEYS = {"id", "title", "status", "amounts", "reasons", "missing", "no_means_test", "apply_at", "citation"}
AMOUNT_KEYS = {"label", "value", "at_least", "per", "frequency", "total", "formula"}


def is_fact_name(name: str) -> bool:
    """`missing` and `ask_next` name Facts fields; an unknown status is `statuses.<code>`."""
    if name.startswith("statuses."):
        return name.split(".", 1)[1] in STATUS_CODES
    return name in FACT_FIELDS - {"as_of", "statuses", "not_statuses", "urgent_reason"}


def known_names(facts: dict) -> set[str]:
    """The names of `facts` that are known (never to be asked for)."""
    known = {k for k, v in facts.items() if v is not None and k not in ("statuses", "not_statuses")}
    for key in ("statuses", "not_statuses"):
        known |= {f"statuses.{c}" for c in facts.get(key) or []}
    return known


def check_evaluation(ev: dict, *, as_of: str, facts: dict | None = None) -> None:
    """Everything §2 says about an Evaluation, for any facts."""
    assert set(ev) >= {"as_of", "document", "measures", "ask_next", "urgent"}, sorted(ev)
    assert ev["as_of"] == as_of
    assert {k: ev["document"][k] for k in DOCUMENT} == DOCUMENT
    in_force = DOCUMENT["valid_from"] <= as_of <= DOCUMENT["valid_to"]
    assert ev["document"]["in_force"] is in_force
    assert isinstance(ev["urgent"], bool)
    measures = ev["measures"]
    assert [m["id"] for m in measures] == list(range(1, 21))
    known = known_names(facts or {})
    for m in measures:
        where = f"measure {m['id']}"
        assert set(m) >= MEASURE_KEYS, (where, sorted(m))
        assert isinstance(m["title"], str) and m["title"], where
        assert m["status"] in MEASURE_STATUSES, (where, m["status"])
        assert (m["status"] == "not_in_force") is (not in_force), (where, m["status"])
        assert isinstance(m["no_means_test"], bool), where
        assert isinstance(m["citation"], str) and m["citation"], where
        assert isinstance(m["apply_at"], str), where
        assert isinstance(m["reasons"], list) and all(isinstance(r, str) for r in m["reasons"]), where
        assert isinstance(m["missing"], list), where
        for name in m["missing"]:
            assert is_fact_name(name), (where, name)
            assert name not in known, (where, f"asks for a known fact: {name}")
        if m["status"] == "need_info":
            assert m["missing"], (where, "need_info names no missing fact")
        if m["status"] == "not_eligible":
            assert m["reasons"], (where, "not_eligible gives no reason")
        size = (facts or {}).get("household_size")
        for a in m["amounts"]:
            assert set(a) >= AMOUNT_KEYS, (where, sorted(a))
            assert isinstance(a["label"], str) and a["label"], where
            assert isinstance(a["value"], (int, float)) and not isinstance(a["value"], bool), (where, a)
            assert isinstance(a["at_least"], bool), (where, a)
            assert a["per"] in PER, (where, a)
            assert a["frequency"] in FREQUENCY, (where, a)
            assert isinstance(a["formula"], str), (where, a)
            # The project reads a per-person amount paid to the person concerned only (a tekun
            # member, an orphan, the unemployed worker) as covering one person: total = value.
            # The contract's sentence does not make that distinction (see the report).
            if a["per"] == "person" and size is not None:
                assert a["total"] in (a["value"] * size, a["value"]), (where, a, size)
            elif a["per"] == "person":
                assert a["total"] in (None, a["value"]), (where, a)
    if in_force:
        for m in measures[16:]:  # 17–20: duties of the authorities
            assert m["status"] == "info", (m["id"], m["status"])
    assert isinstance(ev["ask_next"], list)
    assert len(ev["ask_next"]) == len(set(ev["ask_next"])), ev["ask_next"]
    for name in ev["ask_next"]:
        assert is_fact_name(name), name
        assert name not in known, f"ask_next asks for a known fact: {name}"


def check_ticket(t: dict) -> None:
    """§4: the fields a Ticket has at least."""
    from datetime import datetime

    assert set(t) >= TICKET_FIELDS, sorted(t)
    assert isinstance(t["id"], (int, str)) and not isinstance(t["id"], bool)
    datetime.fromisoformat(t["created_at"].replace("Z", "+00:00"))
    assert t["status"] in TICKET_STATUSES
    assert t["source"] in TICKET_SOURCES
    assert isinstance(t["facts"], dict)
    assert isinstance(t["history"], list) and t["history"]


def names_field(response, field: str) -> bool:
    """A 422's body names the field somewhere (the contract fixes no error shape)."""
    text = response.text
    return re.search(rf"(?<![A-Za-z_]){re.escape(field)}(?![A-Za-z_])", text) is not None
