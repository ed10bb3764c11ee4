#!/usr/bin/env python
"""Chat turns end to end (service → Rasa → action server), before and after the project's Rasa
start-up patch (bot/components/fast_validation.py), in one run on the same machine (issue 13).

For each mode a system of its own is started (ports 8021/5025/5075, fresh SQLite, day 2022-07-01):
sequential description turns (p50, p95), then 1, 8, 32 and 64 concurrent senders, each pausing 2 s
between turns as a person types: turns/s, p50/p95, and the count of 12345 fallbacks and errors.

    .venv/bin/python bench/bench_chat.py [--out bench/results/chat.json] [--sequential 30] [--turns 3]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
PORT, RASA_PORT, ACTIONS_PORT = 8021, 5025, 5075
FALLBACK = "智能助手暂时无法回答"
TURNS = ["我是西吉县农村的低保户，一家四口", "俺在银川工地上干活，疫情来了工地停了，三个多月没收入了",
         "没有交失业保险", "那我能领多少钱，去哪儿申请"]


def pct(values, q):
    values = sorted(values)
    return round(values[min(len(values) - 1, int(q * (len(values) - 1)))] * 1000, 1) if values else None


def start(mode_fast: bool, var: Path, model: str) -> subprocess.Popen:
    shutil.rmtree(var, ignore_errors=True)
    var.mkdir(parents=True)
    (var / "endpoints.yml").write_text(f'action_endpoint:\n  url: "http://127.0.0.1:{ACTIONS_PORT}/webhook"\n')
    rasa = str(ROOT / ".venv-rasa" / "bin" / "rasa")
    env = {**os.environ, "HOTLINE_SERVICE_PORT": str(PORT), "HOTLINE_RASA_URL": f"http://127.0.0.1:{RASA_PORT}",
           "HOTLINE_ACTION_SERVER_URL": f"http://127.0.0.1:{ACTIONS_PORT}", "HOTLINE_AS_OF": "2022-07-01",
           "HOTLINE_DATABASE_URL": f"sqlite:///{var / 'hotline.db'}", "HOTLINE_HELD_TICKETS_DIR": str(var / "held"),
           "HOTLINE_RASA_FAST": "1" if mode_fast else "0", "RASA_TELEMETRY_ENABLED": "false"}
    argv = [sys.executable, "-m", "service.supervisor",
            "--child", f"actions={rasa} run actions -p {ACTIONS_PORT} --actions actions",
            "--child", f"rasa={rasa} run --enable-api -i 127.0.0.1 -p {RASA_PORT} -m {model} --endpoints {var / 'endpoints.yml'}",
            "--child", f"service={sys.executable} -m uvicorn service.main:create_app --factory --host 127.0.0.1 "
                       f"--port {PORT} --no-access-log"]
    proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=open(var / "stack.log", "w"), stderr=subprocess.STDOUT)
    for _ in range(300):
        try:
            if httpx.get(f"http://127.0.0.1:{PORT}/healthz", timeout=2).json().get("status") == "ok":
                return proc
        except (httpx.HTTPError, ValueError):
            pass
        time.sleep(1)
    stop(proc)
    raise SystemExit("stack not healthy; see " + str(var / "stack.log"))


def stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(60)
    except subprocess.TimeoutExpired:
        proc.kill()


def turn(client: httpx.Client, sender: str, text: str) -> tuple[float, bool]:
    t0 = time.perf_counter()
    try:
        r = client.post("/webhooks/rest/webhook", json={"sender": sender, "message": text}, timeout=60)
        ok = r.status_code == 200 and r.json() and not any(FALLBACK in (m.get("text") or "") for m in r.json())
    except httpx.HTTPError:
        ok = False
    return time.perf_counter() - t0, ok


def sequential(n: int) -> dict:
    times, bad = [], 0
    with httpx.Client(base_url=f"http://127.0.0.1:{PORT}") as c:
        for i in range(n):
            dt, ok = turn(c, f"seq-{uuid.uuid4().hex[:8]}", TURNS[1])  # a description turn, fresh sender
            times.append(dt)
            bad += not ok
    return {"turns": n, "p50_ms": pct(times, .5), "p95_ms": pct(times, .95), "fallbacks": bad}


def concurrent(senders: int, turns: int, pause: float = 2.0) -> dict:
    times, bad, lock = [], [0], threading.Lock()

    def person():
        sender = f"c{senders}-{uuid.uuid4().hex[:8]}"
        with httpx.Client(base_url=f"http://127.0.0.1:{PORT}") as c:
            for i in range(turns):
                dt, ok = turn(c, sender, TURNS[i % len(TURNS)])
                with lock:
                    times.append(dt)
                    bad[0] += not ok
                if i + 1 < turns:
                    time.sleep(pause)

    t0 = time.perf_counter()
    threads = [threading.Thread(target=person) for _ in range(senders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(600)
    wall = time.perf_counter() - t0
    return {"senders": senders, "turns": len(times), "wall_s": round(wall, 1),
            "turns_per_s": round(len(times) / wall, 2), "p50_ms": pct(times, .5), "p95_ms": pct(times, .95),
            "fallbacks": bad[0]}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="bench/results/chat.json")
    ap.add_argument("--sequential", type=int, default=30)
    ap.add_argument("--turns", type=int, default=3)
    ap.add_argument("--senders", default="1,8,32,64")
    args = ap.parse_args(argv)
    model = os.environ.get("HOTLINE_RASA_MODEL") or str(
        ROOT / "bot" / "models" / (subprocess.check_output([sys.executable, "scripts/model_hash.py"], cwd=ROOT,
                                                           text=True).strip() + ".tar.gz"))
    results = {}
    for name, fast in (("before", False), ("after", True)):
        proc = start(fast, ROOT / "var" / "bench-chat", model)
        try:
            sequential(3)  # warm-up
            results[name] = {"sequential": sequential(args.sequential),
                             "concurrent": [concurrent(int(s), args.turns) for s in args.senders.split(",")]}
        finally:
            stop(proc)
        print(name, json.dumps(results[name], ensure_ascii=False), flush=True)
    seq_b, seq_a = results["before"]["sequential"], results["after"]["sequential"]
    metrics = {"sequential_p50_ms_before": seq_b["p50_ms"], "sequential_p50_ms_after": seq_a["p50_ms"],
               "sequential_p95_ms_before": seq_b["p95_ms"], "sequential_p95_ms_after": seq_a["p95_ms"]}
    for b, a in zip(results["before"]["concurrent"], results["after"]["concurrent"]):
        metrics[f"turns_per_s_{b['senders']}_before"] = b["turns_per_s"]
        metrics[f"turns_per_s_{a['senders']}_after"] = a["turns_per_s"]
        metrics[f"fallbacks_{a['senders']}_after"] = a["fallbacks"]
    out = {"name": "chat", "metrics": metrics, "detail": results,
           "notes": "one run, same machine: before = Rasa's own per-response schema check (HOTLINE_RASA_FAST=0), "
                    "after = the precompiled validator; concurrent senders pause 2 s between turns"}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, ensure_ascii=False, indent=1), encoding="utf-8")
    print(json.dumps(metrics, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
