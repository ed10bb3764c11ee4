#!/usr/bin/env python
"""The NLU gate (run by `make test-nlu` in the Rasa environment).

1. Trains an NLU model only when its inputs changed: the model is cached under
   $HOTLINE_CACHE/nlu/<content hash>.tar.gz (default ~/.cache/hotline-12345), the hash covering
   bot/config.yml, nlu_data/nlu, bot/components, extraction, policy_kb/data and the Rasa version.
2. Runs `rasa test nlu --nlu nlu_data/heldout` on it (the held-out set training never sees).
3. Reads Rasa's intent_report.json and FactsEntityExtractor_report.json (weighted avg F1), plus the
   entity *value* F1 (Rasa scores labels per token, not values) and /model/parse-like latency.
4. Writes bench/results/nlu.json and fails below intent F1 0.90 or entity F1 0.90.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from nlu_yaml import examples  # noqa: E402

INPUTS = ["bot/config.yml", "nlu_data/nlu", "bot/components", "extraction", "policy_kb/data",
          "scripts/build_nlu_assets.py"]
THRESHOLD = 0.90


def content_hash() -> str:
    import rasa

    h = hashlib.sha256(f"rasa {rasa.__version__}\n".encode())
    for item in INPUTS:
        path = REPO / item
        files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        for f in files:
            if "__pycache__" in f.parts or f.suffix == ".pyc":
                continue
            h.update(str(f.relative_to(REPO)).encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()[:20]


def cache_dir() -> Path:
    return Path(os.environ.get("HOTLINE_CACHE") or Path.home() / ".cache" / "hotline-12345") / "nlu"


def rasa_bin() -> str:
    return str(Path(sys.executable).with_name("rasa"))


def ensure_model(key: str) -> tuple[Path, float | None]:
    model = cache_dir() / f"{key}.tar.gz"
    if model.exists():
        print(f"nlu gate: inputs unchanged, using cached model {model}")
        return model, None
    model.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=model.parent) as tmp:
        started = time.monotonic()
        subprocess.run([rasa_bin(), "train", "nlu", "--config", "bot/config.yml", "--nlu", "nlu_data/nlu",
                        "--out", tmp, "--fixed-model-name", key], cwd=REPO, check=True)
        seconds = time.monotonic() - started
        built = Path(tmp) / f"{key}.tar.gz"
        shutil.move(str(built), str(model))  # whole file appears at once: no half-written cache entry
    print(f"nlu gate: trained {model} in {seconds:.0f}s")
    return model, seconds


def weighted_f1(report_path: Path) -> float:
    report = json.loads(report_path.read_text(encoding="utf-8"))
    return float(report["weighted avg"]["f1-score"])


def value_f1() -> float:
    """Entity (label, value) pairs per held-out example: the extractor against the hand annotation."""
    import extraction

    tp = fp = fn = 0
    for ex in examples(REPO / "nlu_data" / "heldout"):
        gold = {(e["entity"], e["value"]) for e in ex["entities"]}
        pred = {(e["entity"], e["value"]) for e in extraction.extract(ex["text"]).entities}
        tp, fp, fn = tp + len(gold & pred), fp + len(pred - gold), fn + len(gold - pred)
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def parse_latency(model: Path) -> dict:
    """Median and p95 of parsing a held-out message with the loaded model (in process)."""
    import asyncio

    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    texts = [ex["text"] for ex in examples(REPO / "nlu_data" / "heldout")]
    times = []
    for text in texts:
        started = time.perf_counter()
        asyncio.run(agent.parse_message(text))
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return {"parse_median_ms": round(statistics.median(times), 2),
            "parse_p95_ms": round(times[int(0.95 * (len(times) - 1))], 2)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(REPO / "bench" / "results" / "nlu.json"))
    ap.add_argument("--report-dir", default=str(REPO / "build" / "nlu-report"))
    args = ap.parse_args(argv)
    key = content_hash()
    model, train_seconds = ensure_model(key)
    report_dir = Path(args.report_dir)
    shutil.rmtree(report_dir, ignore_errors=True)
    subprocess.run([rasa_bin(), "test", "nlu", "--model", str(model), "--nlu", "nlu_data/heldout",
                    "--out", str(report_dir), "--no-plot"], cwd=REPO, check=True)
    intent_f1 = weighted_f1(report_dir / "intent_report.json")
    entity_f1 = weighted_f1(report_dir / "FactsEntityExtractor_report.json")
    metrics = {"intent_f1": round(intent_f1, 4), "entity_f1": round(entity_f1, 4),
               "entity_value_f1": round(value_f1(), 4),
               "heldout_examples": len(examples(REPO / "nlu_data" / "heldout")),
               "training_examples": len(examples(REPO / "nlu_data" / "nlu"))}
    if train_seconds is not None:
        metrics["train_seconds"] = round(train_seconds, 1)
    metrics.update(parse_latency(model))
    result = {"name": "nlu", "metrics": metrics,
              "notes": f"held-out NLU gate (threshold {THRESHOLD}); model {model.name}; Rasa weighted-avg F1 "
                       "from intent_report.json and FactsEntityExtractor_report.json (token labels); "
                       "entity_value_f1 compares (entity, value) pairs with the hand annotation"}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    print("nlu gate:", json.dumps(metrics, ensure_ascii=False))
    failed = [f"{name} {metrics[name]:.3f} < {THRESHOLD}" for name in ("intent_f1", "entity_f1")
              if metrics[name] < THRESHOLD]
    if failed:
        print("NLU GATE FAILED: " + "; ".join(failed) + f" (see {report_dir})", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
