#!/usr/bin/env python
"""Chat turns end to end (service → Rasa → action server) in one run on the same machine (issue 13):

  before       the system as it was: one Rasa server, Rasa's own per-response schema check
               (HOTLINE_RASA_FAST=0)
  after_1      one Rasa server with the project's start-up patch (bot/components/fast_validation.py)
  after        what `make run` starts now: the patch, and one Rasa server per core as memory allows
               behind the sticky router (service/supervisor.py, HOTLINE_RASA_SERVERS)

Each mode is a system of its own started by service/supervisor.py's default children (service 8021,
Rasa 5025 (+5026… behind the router), actions 5075, fresh SQLite, day 2022-07-01): sequential
description turns (p50, p95), then 1, 8, 32 and 64 concurrent senders, each pausing 2 s between
turns as a person types: turns/s, p50/p95, and the count of 12345 fallbacks and errors.
`--profile` then samples the Rasa server(s) and the action server with py-spy under 32 senders
(after the timed runs, so the profiler does not touch the figures) and summarises where the CPU
went (bench/profile/README.md).

    .venv/bin/python bench/bench_chat.py [--out bench/results/chat.json] [--sequential 30] [--turns 3]
                                         [--modes before,after_1,after] [--profile]
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


MODES = {"before": {"HOTLINE_RASA_FAST": "0", "HOTLINE_RASA_SERVERS": "1"},
         "after_1": {"HOTLINE_RASA_FAST": "1", "HOTLINE_RASA_SERVERS": "1"},
         "after": {"HOTLINE_RASA_FAST": "1"}}  # HOTLINE_RASA_SERVERS: make run's own choice


def start(mode: str, var: Path, model: str) -> subprocess.Popen:
    shutil.rmtree(var, ignore_errors=True)
    var.mkdir(parents=True)
    (var / "endpoints.yml").write_text(f'action_endpoint:\n  url: "http://127.0.0.1:{ACTIONS_PORT}/webhook"\n')
    env = {k: v for k, v in os.environ.items() if k != "HOTLINE_RASA_SERVERS"}
    env.update({"HOTLINE_SERVICE_PORT": str(PORT), "HOTLINE_RASA_PORT": str(RASA_PORT),
                "HOTLINE_ACTIONS_PORT": str(ACTIONS_PORT), "HOTLINE_RASA_ENDPOINTS": str(var / "endpoints.yml"),
                "HOTLINE_RASA_MODEL": model, "HOTLINE_RASA_URL": f"http://127.0.0.1:{RASA_PORT}",
                "HOTLINE_ACTION_SERVER_URL": f"http://127.0.0.1:{ACTIONS_PORT}", "HOTLINE_AS_OF": "2022-07-01",
                "HOTLINE_DATABASE_URL": f"sqlite:///{var / 'hotline.db'}", "HOTLINE_HELD_TICKETS_DIR": str(var / "held"),
                "HOTLINE_SUPERVISOR_STATE": str(var / "supervisor.json"), "RASA_TELEMETRY_ENABLED": "false",
                **MODES[mode]})
    proc = subprocess.Popen([sys.executable, "-m", "service.supervisor"], cwd=ROOT, env=env,
                            stdout=open(var / "stack.log", "w"), stderr=subprocess.STDOUT)
    for _ in range(400):
        try:
            if httpx.get(f"http://127.0.0.1:{PORT}/healthz", timeout=2).json().get("status") == "ok":
                return proc
        except (httpx.HTTPError, ValueError):
            pass
        time.sleep(1)
    stop(proc)
    raise SystemExit("stack not healthy; see " + str(var / "stack.log"))


def children(var: Path) -> dict[str, int]:
    state = json.loads((var / "supervisor.json").read_text())
    return {name: c["pid"] for name, c in state["children"].items() if c.get("running")}


# What the profile is read for: the share of samples (inclusive) whose stack passes through each.
PROFILE_GROUPS = {
    "jsonschema (action-response validation)": ("jsonschema/",),
    "Rasa's graph runner (dask)": ("rasa/engine/runner/dask.py", "dask/"),
    "TED policy": ("ted_policy.py",),
    "DIET classifier": ("diet_classifier.py",),
    "tensorflow": ("tensorflow/",),
    "tracker (de)serialisation": ("rasa/shared/core/trackers.py", "rasa/shared/core/events.py"),
    "JSON encode/decode": ("json/encoder.py", "json/decoder.py", "ujson", "orjson"),
    "HTTP to the action server": ("rasa/utils/endpoints.py", "aiohttp/"),
    "policy_kb": ("policy_kb/",),
    "extraction": ("extraction/",),
}


# A leaf frame that is the event loop waiting for work (uvloop's poll is C code under these
# frames): counted as idle, so the shares below are of the CPU the process actually spent.
IDLE_LEAVES = {"serve (sanic/server/runners.py)", "Runner.run (asyncio/runners.py)",
               "run_forever (asyncio/base_events.py)", "select (selectors.py)"}


def summarise_profile(raw: Path, top: int = 12) -> dict:
    """py-spy's raw (collapsed) stacks → busy samples, the groups above and the top leaf frames,
    each as a share of the busy samples."""
    total = busy = 0
    groups, leaves = {g: 0 for g in PROFILE_GROUPS}, {}
    for line in raw.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        total += n
        leaf = stack.split(";")[-1]
        leaf = leaf.split(":")[0] + ")" if "(" in leaf else leaf  # drop the line number
        if leaf in IDLE_LEAVES:
            continue
        busy += n
        for group, needles in PROFILE_GROUPS.items():
            if any(needle in stack for needle in needles):
                groups[group] += n
        leaves[leaf] = leaves.get(leaf, 0) + n
    pct_of = lambda n: round(100 * n / busy, 1) if busy else 0.0  # noqa: E731
    return {"samples": total, "busy_pct": round(100 * busy / total, 1) if total else 0.0,
            "groups_pct_of_busy": {g: pct_of(n) for g, n in groups.items()},
            "top_self_pct_of_busy": [[f, pct_of(n)] for f, n in sorted(leaves.items(), key=lambda kv: -kv[1])[:top]]}


def profile(mode: str, var: Path, turns: int, seconds: int = 25) -> dict:
    spy = Path(sys.executable).with_name("py-spy")
    if not spy.exists():
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "py-spy"], check=True)
    out, spies = {}, []
    (ROOT / "bench" / "results").mkdir(parents=True, exist_ok=True)
    for name, pid in children(var).items():
        if name.startswith("rasa") or name == "actions":
            # the router is a Python process too, but it is not Rasa: its name is "rasa" only
            # when there are several servers; its stacks are told apart by the file below
            raw = ROOT / "bench" / "results" / f"profile-{mode}-{name}.txt"
            spies.append((name, raw, subprocess.Popen(
                [str(spy), "record", "--format", "raw", "--rate", "100", "--duration", str(seconds),
                 "--pid", str(pid), "--output", str(raw), "--nonblocking"],
                stdout=subprocess.DEVNULL, stderr=open(raw.with_suffix(".err"), "w"))))
    time.sleep(1)
    load = concurrent(32, turns)
    for name, raw, proc in spies:
        proc.wait(seconds + 30)
        if raw.exists():
            out[name] = summarise_profile(raw)
        else:  # say why instead of leaving the profile silently empty
            out[name] = {"error": raw.with_suffix(".err").read_text(errors="replace").strip()[-400:]}
    return {"load": load, "processes": out}


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
    ap.add_argument("--modes", default="before,after_1,after")
    ap.add_argument("--profile", action="store_true", help="py-spy under 32 senders, after the timed runs")
    args = ap.parse_args(argv)
    model = os.environ.get("HOTLINE_RASA_MODEL") or str(
        ROOT / "bot" / "models" / (subprocess.check_output([sys.executable, "scripts/model_hash.py"], cwd=ROOT,
                                                           text=True).strip() + ".tar.gz"))
    results, profiles = {}, {}
    modes = args.modes.split(",")
    for name in modes:
        var = ROOT / "var" / "bench-chat"
        proc = start(name, var, model)
        try:
            sequential(3)  # warm-up
            results[name] = {"rasa_servers": sum(1 for c in children(var) if c.startswith("rasa") and c != "rasa")
                             or 1,
                             "sequential": sequential(args.sequential),
                             "concurrent": [concurrent(int(s), args.turns) for s in args.senders.split(",")]}
            if args.profile:
                profiles[name] = profile(name, var, turns=8)
        finally:
            stop(proc)
        print(name, json.dumps(results[name], ensure_ascii=False), flush=True)
    if "before" not in results or "after" not in results:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps({"name": "chat", "detail": results, "profiles": profiles},
                                             ensure_ascii=False, indent=1), encoding="utf-8")
        return 0
    seq_b, seq_a = results["before"]["sequential"], results["after"]["sequential"]
    metrics = {"sequential_p50_ms_before": seq_b["p50_ms"], "sequential_p50_ms_after": seq_a["p50_ms"],
               "sequential_p95_ms_before": seq_b["p95_ms"], "sequential_p95_ms_after": seq_a["p95_ms"]}
    for b, a in zip(results["before"]["concurrent"], results["after"]["concurrent"]):
        metrics[f"turns_per_s_{b['senders']}_before"] = b["turns_per_s"]
        metrics[f"turns_per_s_{a['senders']}_after"] = a["turns_per_s"]
        metrics[f"fallbacks_{a['senders']}_after"] = a["fallbacks"]
    metrics["rasa_servers_after"] = results["after"]["rasa_servers"]
    out = {"name": "chat", "metrics": metrics, "detail": results, "profiles": profiles,
           "notes": "one run, same machine: before = one Rasa server with its own per-response schema check "
                    "(HOTLINE_RASA_FAST=0); after_1 = one server with the precompiled validator; after = make "
                    "run's shape (the validator, one Rasa server per core behind the sticky router); concurrent "
                    "senders pause 2 s between turns"}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, ensure_ascii=False, indent=1), encoding="utf-8")
    print(json.dumps(metrics, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
