"""Benchmark of the Rasa assistant on live servers: /model/parse and a whole chat turn.

Starts the real Rasa server (the trained model) and the action server (fake tickets) on free
ports, waits until both are ready, warms up, then times `--calls` requests of each kind one
after another (a caller waits for each answer) and writes median and p95 in milliseconds.
A chat turn is POST /webhooks/rest/webhook: NLU, fact extraction in the action server,
policy evaluation and the reply. Run by `make bench-bot`.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "bot"))

from live_rasa import LiveBot, model_path  # noqa: E402

# A mix of what callers say: situations (form turns), questions about measures, chit-chat.
MESSAGES = [
    "我是西吉县农村的低保户，一家四口",
    "我在银川打工，失业三个多月了，没有失业保险",
    "第五条是什么内容",
    "我能领多少钱",
    "去哪里申请",
    "这个政策还有效吗",
    "不对，我是城市的",
    "你是机器人吗",
    "今年住院自己掏了两万三",
    "没有",
]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def timed(fn, n: int) -> list[float]:
    out = []
    for i in range(n):
        t0 = time.perf_counter()
        fn(i)
        out.append((time.perf_counter() - t0) * 1000.0)
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=200)
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "bot.json"))
    args = ap.parse_args()

    t0 = time.perf_counter()
    with LiveBot(model_path(), as_of="2022-07-01", tickets="fake") as bot:
        startup_s = time.perf_counter() - t0
        for text in MESSAGES:  # warm up both servers
            bot.parse(text)
            bot.chat("warmup", text)
        parse_ms = timed(lambda i: bot.parse(MESSAGES[i % len(MESSAGES)]), args.calls)
        # a new conversation every 10 turns, so turns cover the form, answers and questions
        run = uuid.uuid4().hex[:6]
        replies = []
        chat_ms = timed(lambda i: replies.append(
            bot.chat(f"bench-{run}-{i // len(MESSAGES)}", MESSAGES[i % len(MESSAGES)])), args.calls)
    empty = sum(1 for r in replies if not r)
    result = {
        "name": "bot",
        "metrics": {
            "parse_median_ms": round(statistics.median(parse_ms), 1),
            "parse_p95_ms": round(pct(parse_ms, 0.95), 1),
            "chat_turn_median_ms": round(statistics.median(chat_ms), 1),
            "chat_turn_p95_ms": round(pct(chat_ms, 0.95), 1),
            "calls": args.calls,
            "empty_replies": empty,
            "startup_s": round(startup_s, 1),
        },
        "notes": (f"live rasa run + rasa run actions (fake tickets) on free ports, sequential calls, "
                  f"{len(MESSAGES)} message kinds; chat turn = REST webhook incl. extraction, "
                  f"policy evaluation and actions; shared 2-core machine"),
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0 if empty == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
