"""The NLU data: agreed intents and entities, enough variety, normalised values, and a held-out set
that training never sees. Runs without Rasa (service env) and with it."""
import sys
from collections import Counter
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from nlu_yaml import REPO, examples, normalise  # noqa: E402

from policy_kb.tables import cities, counties, status_labels, vocabulary  # noqa: E402

INTENTS = {"greet", "goodbye", "thanks", "affirm", "deny", "describe_situation", "ask_entitlement", "ask_measure",
           "ask_how_to_apply", "request_urgent_help", "request_human", "report_misconduct", "ask_policy_validity",
           "bot_challenge", "ask_capabilities", "out_of_scope"}
BOOLEANS = {"unemployment_insurance", "can_return_to_work", "covid_confirmed", "quarantined_member",
            "severe_disability", "severe_illness", "cannot_self_care", "reemployed", "rigid_expenses", "stranded",
            "urgent"}
INTEGERS = {"household_size", "months_without_income", "age", "medical_out_of_pocket"}
TRAIN = examples(REPO / "nlu_data" / "nlu")
HELDOUT = examples(REPO / "nlu_data" / "heldout")


def training_texts():
    """Every user text training may read: nlu_data/nlu and any NLU examples under bot/data."""
    texts = {normalise(ex["text"]) for ex in TRAIN}
    for directory in (REPO / "bot" / "data").rglob("*"):
        if directory.is_dir():
            texts |= {normalise(ex["text"]) for ex in examples(directory)}
    return texts


def test_heldout_never_in_training():
    seen = training_texts()
    leaked = [ex["text"] for ex in HELDOUT if normalise(ex["text"]) in seen]
    assert not leaked, f"held-out examples also in training data: {leaked}"


def test_no_duplicates_within_sets():
    for name, data in (("training", TRAIN), ("held-out", HELDOUT)):
        dup = [t for t, n in Counter(normalise(ex["text"]) for ex in data).items() if n > 1]
        assert not dup, f"duplicate {name} examples: {dup}"


def test_intents_and_sizes():
    counts = Counter(ex["intent"] for ex in TRAIN)
    assert set(counts) == INTENTS
    assert counts["describe_situation"] >= 40 and counts["ask_entitlement"] >= 40
    assert all(n >= 15 for n in counts.values()), counts
    assert set(ex["intent"] for ex in HELDOUT) == INTENTS
    assert len(HELDOUT) >= 150


@pytest.mark.parametrize("name,data", [("training", TRAIN), ("held-out", HELDOUT)])
def test_entity_values_are_normalised(name, data):
    county_names = {c.name for c in counties()}
    codes = set(status_labels())
    employment = set(vocabulary()["employment"])
    for ex in data:
        for ent in ex["entities"]:
            e, v = ent["entity"], ent["value"]
            where = f"{name}: {ex['text']!r} {e}={v!r}"
            assert ex["text"][ent["start"]:ent["end"]] == ent["text"]
            if e == "county":
                assert v in county_names, where
            elif e == "city":
                assert v in cities(), where
            elif e in ("status", "not_status"):
                assert v in codes, where
            elif e == "employment":
                assert v in employment, where
            elif e == "residence":
                assert v in ("urban", "rural"), where
            elif e in BOOLEANS:
                assert v in ("true", "false"), where
            elif e in INTEGERS:
                assert v.isdigit(), where
            elif e == "measure":
                assert v.isdigit() and 1 <= int(v) <= 20, where
            else:
                pytest.fail(f"unknown entity {where}")
