#!/usr/bin/env python3
"""Print the sha256 of everything a trained Rasa model depends on (first 16 hex digits).

`make rasa-model` names the model bot/models/<hash>.tar.gz and keeps a copy in the cache, so an
unchanged hash never trains again. Standard library only: it runs before any venv exists.

    python3 scripts/model_hash.py [--full] [--list]
"""
from __future__ import annotations

import hashlib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# What training reads: config, domain, stories/rules, NLU examples and word lists, the custom
# NLU components and the extractor they call, the policy tables the lexicon is generated from
# (and the builder of build/nlu from them), and the Rasa requirements (another Rasa version
# trains another model).
INPUTS = (
    "bot/config.yml", "bot/domain", "bot/data", "nlu_data/nlu", "nlu_data/lexicon",
    "bot/components", "extraction", "policy_kb/data", "policy_kb/parameters", "policy_kb/tables.py",
    "scripts/build_nlu_assets.py", "requirements/rasa.txt",
)
SKIP_DIRS = {"__pycache__", ".pytest_cache", ".mypy_cache"}
SKIP_SUFFIXES = {".pyc", ".pyo"}


def files(root: Path = ROOT):
    for name in INPUTS:
        path = root / name
        if path.is_file():
            yield path
        elif path.is_dir():
            for p in sorted(path.rglob("*")):
                if p.is_file() and not (set(p.relative_to(root).parts) & SKIP_DIRS) \
                        and p.suffix not in SKIP_SUFFIXES:
                    yield p


def model_hash(root: Path = ROOT) -> str:
    digest = hashlib.sha256()
    for name in INPUTS:  # a missing input changes the hash too
        digest.update(f"input {name} {(root / name).exists()}\n".encode())
    for path in files(root):
        data = path.read_bytes()
        digest.update(f"{path.relative_to(root).as_posix()}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()


def main(argv: list[str]) -> int:
    if "--list" in argv:
        for path in files():
            print(path.relative_to(ROOT).as_posix())
        return 0
    full = model_hash()
    print(full if "--full" in argv else full[:16])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
