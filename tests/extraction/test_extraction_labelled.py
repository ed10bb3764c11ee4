"""Every labelled sentence gives exactly its expected facts; overall field accuracy is reported."""
import json
import os
from pathlib import Path

import pytest
import yaml

from extraction import extract

LABELLED = Path(__file__).with_name("labelled.yaml")
CASES = yaml.safe_load(LABELLED.read_text(encoding="utf-8"))


def test_enough_labelled_sentences():
    assert len(CASES) >= 200
    assert len({(c["text"], c.get("expected_field")) for c in CASES}) == len(CASES), "duplicate labelled sentence"


@pytest.mark.parametrize("case", CASES, ids=[f"{i:03d}-{c['text'][:12]}" for i, c in enumerate(CASES)])
def test_sentence(case):
    result = extract(case["text"], expected_field=case.get("expected_field"))
    assert result.facts == case["facts"]
    if "measures" in case:
        assert result.measures == case["measures"]
    for ent in result.entities:  # entities point at the caller's own words
        assert case["text"][ent["start"]:ent["end"]] == ent["text"]
        assert isinstance(ent["value"], str)


def field_accuracy(cases):
    """Share of (sentence, field) pairs — expected or produced — that come out exactly right."""
    right = total = 0
    for case in cases:
        got = extract(case["text"], expected_field=case.get("expected_field")).facts
        for key in set(got) | set(case["facts"]):
            total += 1
            want, have = case["facts"].get(key), got.get(key)
            if isinstance(want, list) and isinstance(have, list):
                right += sorted(want) == sorted(have)
            else:
                right += want == have
    return right, total


def test_field_accuracy_report(capsys):
    right, total = field_accuracy(CASES)
    accuracy = right / total
    report = {"sentences": len(CASES), "fields": total, "fields_right": right, "field_accuracy": round(accuracy, 4)}
    out = os.environ.get("EXTRACTION_REPORT")
    if out:
        with open(out, "w", encoding="utf-8") as fh:
            json.dump(report, fh)
    with capsys.disabled():
        print(f"\nextraction field accuracy: {right}/{total} = {accuracy:.4f} on {len(CASES)} sentences")
    assert accuracy >= 0.98
