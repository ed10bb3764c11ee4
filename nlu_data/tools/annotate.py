#!/usr/bin/env python
"""Annotate (or check) the entities of NLU training examples exactly as the FactsEntityExtractor
emits them: extraction.extract() spans widened to whole jieba tokens of build/nlu/spacy_zh.

    .venv-rasa/bin/python nlu_data/tools/annotate.py nlu_data/nlu/*.yml          # rewrite in place
    .venv-rasa/bin/python nlu_data/tools/annotate.py --check nlu_data/nlu/*.yml  # exit 1 if stale

Only for training data: the held-out set in nlu_data/heldout/ is annotated by hand, so the gate
measures the extractor against people's reading, not against itself.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from types import SimpleNamespace

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

ANNOTATION = re.compile(r"\[([^\]]+)\](?:\{[^}]*\}|\([^)]*\))")
EXAMPLE = re.compile(r"^(\s*- )(.*)$")
BLOCK = re.compile(r"^- (intent|regex|lookup|synonym):")


def plain(text: str) -> str:
    return ANNOTATION.sub(lambda m: m.group(1), text)


def annotate(text: str, nlp) -> str:
    import extraction
    from bot.components.facts_extractor import FactsEntityExtractor

    tokens = [SimpleNamespace(start=t.idx, end=t.idx + len(t.text)) for t in nlp.make_doc(text) if t.text.strip()]
    entities = FactsEntityExtractor._aligned(extraction.extract(text).entities, tokens, text)
    out, pos = [], 0
    for ent in entities:
        out.append(text[pos:ent["start"]])
        span = text[ent["start"]:ent["end"]]
        if ent["value"] == span:
            out.append(f"[{span}]({ent['entity']})")
        else:
            out.append(f"[{span}]" + json.dumps({"entity": ent["entity"], "value": ent["value"]}, ensure_ascii=False))
        pos = ent["end"]
    out.append(text[pos:])
    return "".join(out)


def process(path: Path, nlp) -> tuple[str, str]:
    original = path.read_text(encoding="utf-8")
    lines, block = [], None
    for line in original.splitlines():
        m = BLOCK.match(line)
        if m:
            block = m.group(1)
        e = EXAMPLE.match(line)
        if block == "intent" and e and not line.lstrip().startswith("- intent:"):
            line = e.group(1) + annotate(plain(e.group(2)), nlp)
        lines.append(line)
    return original, "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--spacy-model", default=str(REPO / "build" / "nlu" / "spacy_zh"))
    ap.add_argument("files", nargs="+", type=Path)
    args = ap.parse_args(argv)
    import spacy

    import bot.components.spacy_zh  # noqa: F401  the jieba user-dictionary callback

    nlp = spacy.load(args.spacy_model)
    stale = []
    for path in args.files:
        before, after = process(path, nlp)
        if before != after:
            stale.append(str(path))
            if not args.check:
                path.write_text(after, encoding="utf-8")
    if args.check and stale:
        print("entity annotations differ from the extractor in: " + ", ".join(stale)
              + " (run nlu_data/tools/annotate.py on them)", file=sys.stderr)
        return 1
    print(("stale: " if args.check else "rewritten: ") + (", ".join(stale) or "none"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
