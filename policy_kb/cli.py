"""`hotline policy evaluate FILE.json [--as-of DATE] [--explain]` and `hotline policy params`."""
from __future__ import annotations

import argparse
import json
import sys


def register(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True)
    ev = sub.add_parser("evaluate", help="evaluate a Facts JSON file ('-' for stdin)")
    ev.add_argument("file")
    ev.add_argument("--as-of", help="the day the question is about (YYYY-MM-DD); overrides the file's as_of")
    ev.add_argument("--explain", action="store_true", help="print a readable Chinese explanation instead of JSON")
    sub.add_parser("params", help="list every parameter with its dated values and reference")


def run(args: argparse.Namespace) -> int:
    import policy_kb

    if args.action == "params":
        for p in policy_kb.parameters().values():
            print(json.dumps(p.as_dict(), ensure_ascii=False))
        return 0
    try:
        raw = sys.stdin.read() if args.file == "-" else open(args.file, encoding="utf-8").read()
    except OSError as e:
        print(f"hotline policy: cannot read {args.file}: {e.strerror}", file=sys.stderr)
        return 2
    try:
        facts = json.loads(raw)
    except json.JSONDecodeError as e:
        print(f"hotline policy: {args.file} is not valid JSON: {e}", file=sys.stderr)
        return 2
    if args.as_of and isinstance(facts, dict):
        facts = {**facts, "as_of": args.as_of}
    try:
        evaluation = policy_kb.evaluate(facts)
    except policy_kb.InvalidFacts as e:
        print(f"hotline policy: invalid facts: {e}", file=sys.stderr)
        return 2
    if args.explain:
        print(policy_kb.explain(evaluation))
    else:
        print(json.dumps(evaluation, ensure_ascii=False, indent=2))
    return 0
