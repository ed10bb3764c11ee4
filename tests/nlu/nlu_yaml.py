"""Reading Rasa NLU YAML (training and held-out) without Rasa: examples, intents, entity annotations."""
from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
ANNOTATION = re.compile(r"\[([^\]]+)\](\{[^}]*\}|\(([^)]*)\))")


def parse_example(example: str) -> tuple[str, list[dict]]:
    """Plain text and entities {entity, value, start, end} of one annotated example."""
    text, entities, pos = [], [], 0
    for m in ANNOTATION.finditer(example):
        text.append(example[pos:m.start()])
        start = sum(len(t) for t in text)
        span = m.group(1)
        if m.group(3) is not None:
            entity, value = m.group(3), span
        else:
            spec = json.loads(m.group(2))
            entity, value = spec["entity"], str(spec.get("value", span))
        text.append(span)
        entities.append({"entity": entity, "value": value, "start": start, "end": start + len(span), "text": span})
        pos = m.end()
    text.append(example[pos:])
    return "".join(text), entities


def examples(directory: Path) -> list[dict]:
    out = []
    for path in sorted(directory.glob("*.yml")):
        for block in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu", []):
            if "intent" not in block:
                continue
            for line in block["examples"].splitlines():
                line = line.strip()
                if line.startswith("- "):
                    text, entities = parse_example(line[2:])
                    out.append({"intent": block["intent"], "text": text, "entities": entities, "file": path.name})
    return out


def normalise(text: str) -> str:
    """For the leak check: the same sentence up to punctuation, spaces and width."""
    return re.sub(r"[\s，,。.！!？?~～…、：:；;]", "", text).lower()
