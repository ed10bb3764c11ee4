#!/usr/bin/env python
"""Build the generated NLU artefacts under build/nlu/ (git-ignored) from policy_kb's tables and the
extraction lexicon, so no county or policy term is typed twice:

  build/nlu/jieba_userdict.txt   jieba user dictionary: 22 counties + aliases, 5 cities, policy terms
  build/nlu/spacy_zh/            spaCy blank `zh` pipeline: jieba segmenter (+ the user dictionary via
                                 the bot.components.spacy_zh callback) and an entity_ruler whose
                                 patterns are the same tables (label = entity, id = normalised value)

Runs in the Rasa environment (spaCy + jieba). `make nlu-assets` calls it when its inputs change.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # bot.components is a plain directory of the repository


def ruler_patterns() -> list[dict]:
    from extraction import lexicon
    from policy_kb.tables import cities, counties

    patterns = []
    for county in counties():
        for name in (county.name, *county.aliases):
            patterns.append({"label": "county", "pattern": name, "id": county.name})
    for city, aliases in cities().items():
        for name in (city, *aliases):
            patterns.append({"label": "city", "pattern": name, "id": city})
    for spec in lexicon.TERM_RULES:
        if spec["entity"] in ("status", "residence", "measure"):
            for term in spec["terms"]:
                if len(term) >= 2:
                    patterns.append({"label": spec["entity"], "pattern": term, "id": str(spec["value"])})
    return patterns


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(REPO / "build" / "nlu"))
    args = ap.parse_args(argv)
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)

    from extraction import userdict_terms

    terms = userdict_terms()
    userdict = out / "jieba_userdict.txt"
    # A high frequency makes jieba keep each term whole; the tag is the term's kind (ns: place).
    userdict.write_text("".join(f"{term} 200000 {tag}\n" for term, tag in terms), encoding="utf-8")

    import spacy

    from bot.components.spacy_zh import CALLBACK

    config = {"nlp": {"tokenizer": {"segmenter": "jieba"},
                      "after_creation": {"@callbacks": CALLBACK, "path": str(userdict)}}}
    nlp = spacy.blank("zh", config=config)
    ruler = nlp.add_pipe("entity_ruler", config={"overwrite_ents": True})
    patterns = ruler_patterns()
    ruler.add_patterns(patterns)
    nlp.meta["name"] = "hotline_zh"
    nlp.meta["description"] = "blank zh + jieba (policy user dictionary) + entity_ruler from policy_kb tables"
    target = out / "spacy_zh"
    nlp.to_disk(target)

    # Smoke check: the saved pipeline loads, and a county alias is one token and one entity.
    doc = spacy.load(target)("我是西吉县的低保户，住在彭阳")
    tokens = [t.text for t in doc]
    assert "西吉县" in tokens and "低保户" in tokens, tokens
    assert any(e.label_ == "county" and e.ent_id_ == "彭阳县" for e in doc.ents), doc.ents
    digest = hashlib.sha256(userdict.read_bytes() + json.dumps(patterns, ensure_ascii=False).encode()).hexdigest()
    (out / "manifest.json").write_text(json.dumps({
        "userdict_terms": len(terms), "ruler_patterns": len(patterns), "sha256": digest[:16],
        "spacy_model": str(target)}, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"nlu assets: {len(terms)} jieba terms, {len(patterns)} ruler patterns -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
