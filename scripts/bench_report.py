#!/usr/bin/env python
"""Collate every benchmark's bench/results/<name>.json into bench/results/report.json and print a
short table (`make bench` runs this after all BENCH_TARGETS).

Each input is {"name": str, "metrics": {metric: number}, "notes": str}. The report keeps them
all (with the file's time, so a stale result shows), plus `headline`: the figures issue 7 asks
for, picked by metric name — policy evaluations per second, parse and chat-turn latency, copilot
latency, WeChat reply latency, tickets per second, memory of each process. A file that is not
valid JSON of that shape is listed under `invalid` (the report is still written).

    .venv/bin/python scripts/bench_report.py [--dir bench/results] [--out bench/results/report.json]
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# (label, pattern on "<bench>.<metric>") — the first matches of each are the headline figures.
HEADLINE = [
    ("policy evaluations/s", r"^policy\..*(evaluations?|evals?)_per_second"),
    ("policy evaluate latency", r"policy_evaluate\w*_(p50|p95)_ms$"),
    ("parse latency", r"\.(nlu_)?parse\w*_(p50|p95|median)_ms$"),
    ("chat turn latency", r"\.(chat|turn|chat_turn)\w*_(p50|p95|p99|median)_ms$"),
    ("chat throughput", r"\.chat_turns_per_second$"),
    ("copilot latency", r"\.copilot\w*_(p50|p95|p99)_ms$"),
    ("WeChat reply latency", r"\.wechat\w*_(p50|p95|p99)_ms$|^wechat\..*_(p50|p95|p99)_ms$"),
    ("tickets/s", r"tickets_per_second"),
    ("screening households/s", r"^screening\.(households_per_second|cpu_us_per_household)$"),
    ("load checks", r"^load\.(all_checks_passed|messages_without_one_answer|duplicate_tickets|"
                    r"urgent_cases_with_exactly_one_ticket|chat_errors|copilot_errors)$"),
    ("memory (RSS MB)", r"(rss|memory)\w*(_mb)?"),
]


def load(directory: Path, out_name: str) -> tuple[dict, dict]:
    results, invalid = {}, {}
    for path in sorted(directory.glob("*.json")):
        if path.name == out_name:
            continue
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(data, dict) or not isinstance(data.get("metrics"), dict):
                raise ValueError("no 'metrics' object")
            name = str(data.get("name") or path.stem)
            metrics = {k: v for k, v in data["metrics"].items()
                       if isinstance(v, (int, float)) and not isinstance(v, bool)}
        except (OSError, ValueError) as exc:
            invalid[path.name] = f"{type(exc).__name__}: {exc}"[:300]
            continue
        results[name] = {"file": path.name, "metrics": metrics, "notes": str(data.get("notes", "")),
                         "written_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(path.stat().st_mtime))}
    return results, invalid


ROWS_PER_LABEL = {"memory (RSS MB)": 10, "load checks": 6}


def _rank(key: str) -> int:
    """p95 first, then p50, then the rest (p99 last): a short table shows the typical figures."""
    for i, part in enumerate(("p95", "p50", "median", "per_second")):
        if part in key:
            return i
    return 5 if "p99" in key else 4


def headline(results: dict) -> list[dict]:
    rows, used = [], set()
    for label, pattern in HEADLINE:
        rx = re.compile(pattern)
        found = [(f"{bench}.{metric}", value) for bench, data in results.items()
                 for metric, value in data["metrics"].items()
                 if f"{bench}.{metric}" not in used and rx.search(f"{bench}.{metric}")]
        found.sort(key=lambda kv: _rank(kv[0]))
        for key, value in found[:ROWS_PER_LABEL.get(label, 4)]:
            used.add(key)
            rows.append({"what": label, "metric": key, "value": value})
    return rows


def fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 1000 else f"{value:,.0f}"
    return f"{value:,}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dir", type=Path, default=ROOT / "bench" / "results")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)
    out = args.out or args.dir / "report.json"
    results, invalid = load(args.dir, out.name)
    rows = headline(results)
    report = {"generated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
              "benchmarks": sorted(results), "headline": rows, "results": results, "invalid": invalid}
    args.dir.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")

    if not results:
        print(f"no benchmark results in {args.dir}", file=sys.stderr)
    width = max([len(r["metric"]) for r in rows] + [20])
    print(f"{'what':<24} {'metric':<{width}} {'value':>14}")
    print("-" * (40 + width))
    for r in rows:
        print(f"{r['what']:<24} {r['metric']:<{width}} {fmt(r['value']):>14}")
    others = sum(len(d["metrics"]) for d in results.values()) - len(rows)
    print(f"\n{len(results)} benchmarks ({', '.join(sorted(results))}); {others} more figures in {out}")
    for name, why in invalid.items():
        print(f"!!! {name} not read: {why}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
