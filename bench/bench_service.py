"""Service benchmark over real HTTP against a live uvicorn (SQLite under a temp dir).

p50/p95 latency of POST /api/v1/policy/evaluate and POST /api/v1/copilot/analyze (one keep-alive
client, sequential requests, after a warm-up), and tickets opened per second (sequential and with
4 concurrent clients, each ticket a new conversation). Chat-turn latency is measured with the
dialogue (it needs the Rasa model).

    .venv/bin/python bench/bench_service.py --out bench/results/service.json
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]

FACTS = [
    {"county": "西吉县", "residence": "rural", "household_size": 4, "statuses": ["dibao"]},
    {"county": "兴庆区", "residence": "urban", "employment": "unemployed_migrant_worker",
     "months_without_income": 3, "unemployment_insurance": False},
    {"county": "原州区", "statuses": ["tekun"], "age": 82, "cannot_self_care": True},
    {"household_size": 2, "medical_out_of_pocket": 23000, "statuses": ["low_income_registered"]},
    {},
]
TEXTS = [
    "来电人住在西吉县，家里4口人，是农村低保户，已经三个月没有收入了",
    "我是外出打工的，失业了，没有失业保险，现在在兴庆区",
    "老人今年82岁，特困供养，生活不能自理，住在原州区",
    "家里有人住院，今年自己花了两万三，已经纳入低收入人口数据库",
    "我在海原县，家里断粮了，两天没吃饭",
]


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    k = (len(values) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def timed(client: httpx.Client, n: int, make_request) -> list[float]:
    out = []
    for i in range(n):
        t0 = time.perf_counter()
        r = make_request(client, i)
        out.append((time.perf_counter() - t0) * 1000)
        if r.status_code >= 300:
            raise SystemExit(f"unexpected {r.status_code}: {r.text[:300]}")
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "service.json")
    ap.add_argument("-n", type=int, default=300)
    args = ap.parse_args()

    load_before = os.getloadavg()[0]
    port = free_port()
    tmp = Path(tempfile.mkdtemp(prefix="bench-service-"))
    bot, admin_pw = secrets.token_urlsafe(24), secrets.token_urlsafe(12)
    env = {**os.environ, "HOTLINE_DATABASE_URL": f"sqlite:///{tmp / 'bench.db'}",
           "HOTLINE_AS_OF": "2022-07-01", "HOTLINE_BOT_TOKEN": bot,
           "HOTLINE_SECRET_KEY": secrets.token_urlsafe(48), "HOTLINE_ADMIN_PASSWORD": admin_pw,
           "HOTLINE_LOG_LEVEL": "WARNING", "HOTLINE_RASA_URL": f"http://127.0.0.1:{free_port()}",
           "HOTLINE_ACTION_SERVER_URL": f"http://127.0.0.1:{free_port()}"}
    server = subprocess.Popen([sys.executable, "-m", "uvicorn", "service.main:create_app", "--factory",
                               "--host", "127.0.0.1", "--port", str(port), "--no-access-log",
                               "--log-level", "warning"], env=env, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit("service did not come up")
            time.sleep(0.2)
        with httpx.Client(base_url=base, timeout=30, trust_env=False) as c:
            token = c.post("/api/v1/auth/token", data={"username": "admin", "password": admin_pw}).json()["access_token"]
            auth = {"Authorization": f"Bearer {token}"}

            def evaluate(cl, i):
                return cl.post("/api/v1/policy/evaluate", json=FACTS[i % len(FACTS)])

            def analyze(cl, i):
                return cl.post("/api/v1/copilot/analyze", headers=auth,
                               json={"text": TEXTS[i % len(TEXTS)], "facts": FACTS[(i + 1) % len(FACTS)]})

            timed(c, 30, evaluate)
            timed(c, 30, analyze)
            ev = timed(c, args.n, evaluate)
            an = timed(c, args.n, analyze)

            bot_h = {"Authorization": f"Bearer {bot}"}

            def ticket(cl, i, tag):
                return cl.post("/api/v1/tickets", headers={**bot_h, "Idempotency-Key": f"{tag}-{i}"},
                               json={"urgent_reason": "家里断粮了，两天没吃饭", "county": "西吉县",
                                     "facts": {"county": "西吉县", "urgent": True},
                                     "source": "rest", "conversation_id": f"{tag}-{i}"})

            n_tickets = max(100, args.n // 2)
            t0 = time.perf_counter()
            timed(c, n_tickets, lambda cl, i: ticket(cl, i, "seq"))
            seq_rate = n_tickets / (time.perf_counter() - t0)

        def worker(w: int, count: int):
            with httpx.Client(base_url=base, timeout=30, trust_env=False) as cl:
                timed(cl, count, lambda cl2, i: ticket(cl2, i, f"par{w}"))

        threads = [threading.Thread(target=worker, args=(w, n_tickets // 4)) for w in range(4)]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        par_rate = (n_tickets // 4 * 4) / (time.perf_counter() - t0)
    finally:
        server.terminate()
        server.wait(timeout=20)

    metrics = {
        "policy_evaluate_p50_ms": round(statistics.median(ev), 2),
        "policy_evaluate_p95_ms": round(percentile(ev, 0.95), 2),
        "copilot_analyze_p50_ms": round(statistics.median(an), 2),
        "copilot_analyze_p95_ms": round(percentile(an, 0.95), 2),
        "tickets_per_second_sequential": round(seq_rate, 1),
        "tickets_per_second_4_clients": round(par_rate, 1),
        "load_average_1min": round(os.getloadavg()[0], 2),
    }
    result = {"name": "service", "metrics": metrics,
              "notes": f"live uvicorn (1 worker) on SQLite, HTTP keep-alive, n={args.n} per endpoint "
                       f"after warm-up; targets p95 evaluate <= 50 ms, analyze <= 150 ms; tickets with "
                       f"history, paperwork and an outbox row each, outbox worker running; "
                       f"{os.cpu_count()} CPUs shared with other work; 1-min load average "
                       f"{load_before:.1f} before, {os.getloadavg()[0]:.1f} after (figures scale with it)"}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
