"""Load test of the production shape (issue 7), loopback only, bounded in count and time.

    .venv/bin/python bench/bench_load.py --out bench/results/load.json      (make bench-load)

Starts scripts/topology.py (PostgreSQL, Redis, action server, two Rasa servers behind the sticky
router, the service) unless --service-url points at a running one, then:
  1. chat: N senders (100) at once, each a 10-turn conversation through the service's
     POST /webhooks/rest/webhook, one turn after the other; every 10th sender reports an
     emergency once (county and words vary);
  2. copilot: M agents (50) at once, each K calls (10) to POST /api/v1/copilot/analyze.
Reports throughput, p50/p95/p99 latency and errors per phase, and checks, from the database and
Rasa's tracker store: every message got exactly one answer (one 200 with ≥ 1 reply; the
service counted each turn once; Rasa's tracker holds each user message once) and every urgent
case exactly one ticket (no other sender any). Fallback replies come from the service's
/metrics. Peak memory (RSS) of every process is sampled during the run.
"""
from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import re
import sys
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _topology():
    spec = importlib.util.spec_from_file_location("hotline_topology", ROOT / "scripts" / "topology.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["hotline_topology"] = module
    spec.loader.exec_module(module)
    return module


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    k = (len(values) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def counties() -> list[str]:
    import policy_kb

    return [c.name for c in policy_kb.counties()]


def conversation(i: int, county: str, urgent: bool) -> list[str]:
    """Ten turns of a caller; an urgent caller says once that they are in danger."""
    size = 2 + i % 5
    turns = [
        "你好",
        f"我是{county}的，农村户口",
        f"家里{size}口人",
        "是低保户" if i % 3 else "不是低保户，是低保边缘家庭",
        "我能领什么补贴",
        "一次性生活补贴是多少钱",
        "怎么申请，要带什么材料",
        "这个政策现在还有效吗",
        "谢谢你",
        "再见",
    ]
    if urgent:
        turns[3] = f"我在{county}，已经两天没吃饭了，身上一分钱都没有，回不了家"
    return turns


COPILOT_TEXTS = [
    "来电人住在{c}，家里4口人，是农村低保户，已经三个月没有收入了",
    "我是外出打工的，失业了，没有失业保险，现在在{c}",
    "老人今年82岁，特困供养，生活不能自理，住在{c}",
    "家里有人住院，今年自己花了两万三，已经纳入低收入人口数据库，{c}",
    "大学毕业一年了还没找到工作，户口在{c}",
]


class RssSampler(threading.Thread):
    def __init__(self, topo, every: float = 1.0):
        super().__init__(daemon=True)
        self.topo, self.every = topo, every
        self.peak: dict[str, float] = {}
        self.stop_event = threading.Event()

    def run(self) -> None:
        while not self.stop_event.is_set():
            for name, mb in self.topo.rss().items():
                self.peak[name] = max(self.peak.get(name, 0.0), mb)
            self.stop_event.wait(self.every)


async def chat_phase(base: str, senders: int, turns_per: int, timeout: float, deadline: float, tag: str):
    names = counties()
    lat: list[float] = []
    errors: list[str] = []
    answered: dict[str, int] = {}
    urgent_senders: list[str] = []
    # Idle connections are dropped before uvicorn's 5 s keep-alive ends, or a request may meet a
    # connection the server is closing (ReadError: the turn never reached the service).
    limits = httpx.Limits(max_connections=senders, max_keepalive_connections=senders, keepalive_expiry=2.0)
    async with httpx.AsyncClient(base_url=base, timeout=timeout, limits=limits, trust_env=False) as client:
        async def one(i: int) -> None:
            sender = f"load-{tag}-{i:03d}"
            urgent = i % 10 == 3
            if urgent:
                urgent_senders.append(sender)
            answered[sender] = 0
            for text in conversation(i, names[i % len(names)], urgent)[:turns_per]:
                if time.monotonic() > deadline:
                    errors.append(f"{sender}: time budget exhausted")
                    return
                t0 = time.perf_counter()
                try:
                    r = await client.post("/webhooks/rest/webhook", json={"sender": sender, "message": text})
                except httpx.HTTPError as exc:
                    errors.append(f"{sender}: {type(exc).__name__}")
                    continue
                lat.append((time.perf_counter() - t0) * 1000)
                body = r.json() if r.headers.get("content-type", "").startswith("application/json") else None
                if r.status_code != 200 or not isinstance(body, list) or not any(m.get("text") for m in body):
                    errors.append(f"{sender}: {r.status_code} {str(body)[:120]}")
                    continue
                answered[sender] += 1

        t0 = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(senders)))
        wall = time.perf_counter() - t0
    return {"latencies": lat, "errors": errors, "answered": answered, "urgent": urgent_senders, "wall": wall}


async def copilot_phase(base: str, token: str, users: int, calls: int, timeout: float, deadline: float):
    names = counties()
    lat: list[float] = []
    errors: list[str] = []
    limits = httpx.Limits(max_connections=users, max_keepalive_connections=users, keepalive_expiry=2.0)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base, timeout=timeout, limits=limits, headers=headers,
                                 trust_env=False) as client:
        async def one(u: int) -> None:
            for k in range(calls):
                if time.monotonic() > deadline:
                    errors.append(f"agent {u}: time budget exhausted")
                    return
                text = COPILOT_TEXTS[(u + k) % len(COPILOT_TEXTS)].format(c=names[(u * 7 + k) % len(names)])
                t0 = time.perf_counter()
                try:
                    r = await client.post("/api/v1/copilot/analyze", json={"text": text, "as_of": "2022-07-01"})
                except httpx.HTTPError as exc:
                    errors.append(f"agent {u}: {type(exc).__name__}")
                    continue
                lat.append((time.perf_counter() - t0) * 1000)
                if r.status_code != 200 or "evaluation" not in r.json():
                    errors.append(f"agent {u}: {r.status_code} {r.text[:120]}")

        t0 = time.perf_counter()
        await asyncio.gather(*(one(u) for u in range(users)))
        wall = time.perf_counter() - t0
    return {"latencies": lat, "errors": errors, "wall": wall}


def scrape(base: str) -> dict[str, float]:
    text = httpx.get(f"{base}/metrics", timeout=10, trust_env=False).text
    out = {}
    for line in text.splitlines():
        m = re.match(r'^hotline_chat_replies_total\{kind="([^"]+)"\} ([0-9.e+]+)$', line)
        if m:
            out[m.group(1)] = float(m.group(2))
    return out


def check_counts(service_db: str, rasa_db: str | None, answered: dict, urgent: list[str], turns: int) -> dict:
    from sqlalchemy import create_engine, text

    eng = create_engine(service_db)
    with eng.connect() as c:
        turns_by = dict(c.execute(text("SELECT sender, turns FROM conversations WHERE sender LIKE 'load-%'")).all())
        tickets_by = dict(c.execute(text(
            "SELECT conversation_id, count(*) FROM tickets WHERE conversation_id LIKE 'load-%' "
            "GROUP BY conversation_id")).all())
    eng.dispose()
    rasa_user_events: dict[str, int] = {}
    if rasa_db:
        eng = create_engine(rasa_db)
        with eng.connect() as c:
            rasa_user_events = dict(c.execute(text(
                "SELECT sender_id, count(*) FROM events WHERE type_name = 'user' AND sender_id LIKE 'load-%' "
                "GROUP BY sender_id")).all())
        eng.dispose()
    senders = list(answered)
    return {
        "messages_without_one_answer": sum(turns - answered[s] for s in senders),
        "service_turn_count_mismatches": sum(1 for s in senders if turns_by.get(s) != turns),
        "rasa_user_event_mismatches": (sum(1 for s in senders if rasa_user_events.get(s) != turns)
                                       if rasa_db else None),
        "urgent_cases": len(urgent),
        "urgent_cases_with_exactly_one_ticket": sum(1 for s in urgent if tickets_by.get(s) == 1),
        "tickets_for_non_urgent_senders": sum(n for s, n in tickets_by.items() if s not in urgent),
        "duplicate_tickets": sum(n - 1 for n in tickets_by.values() if n > 1),
    }


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "load.json")
    ap.add_argument("--senders", type=int, default=100)
    ap.add_argument("--turns", type=int, default=10)
    ap.add_argument("--copilot-users", type=int, default=50)
    ap.add_argument("--copilot-calls", type=int, default=10)
    ap.add_argument("--max-seconds", type=float, default=900, help="budget for both phases together")
    ap.add_argument("--timeout", type=float, default=120, help="per request")
    ap.add_argument("--drain-seconds", type=float, default=300,
                    help="at most this long for Rasa to finish turns the service already answered")
    args = ap.parse_args()
    if not 1 <= args.turns <= 10:
        raise SystemExit("--turns must be 1..10")

    topo_mod = _topology()
    topo = topo_mod.Topology(rasa_ports=(topo_mod.free_port(), topo_mod.free_port()), as_of="2022-07-01",
                             name="bench")
    t_start = time.perf_counter()
    topo.start()
    startup = time.perf_counter() - t_start
    sampler = RssSampler(topo)
    sampler.start()
    try:
        deadline = time.monotonic() + args.max_seconds
        tag = time.strftime("%H%M%S")
        chat = asyncio.run(chat_phase(topo.service_url, args.senders, args.turns, args.timeout, deadline, tag))
        token = httpx.post(f"{topo.service_url}/api/v1/auth/token", trust_env=False,
                           data={"username": "admin", "password": topo.admin_password}).json()["access_token"]
        copilot = asyncio.run(copilot_phase(topo.service_url, token, args.copilot_users, args.copilot_calls,
                                            args.timeout, deadline))
        # Callers who got the service's fallback (Rasa slower than HOTLINE_RASA_TIMEOUT) are done,
        # but their turns are still queued in Rasa: let it finish before counting what it stored.
        drain_started = time.perf_counter()
        while time.perf_counter() - drain_started < args.drain_seconds:
            if httpx.get(f"{topo.router_url}/_router/status", trust_env=False).json().get("inflight", 0) == 0:
                break
            time.sleep(1.0)
        drain = time.perf_counter() - drain_started
        replies = scrape(topo.service_url)
        checks = check_counts(topo.service_db_url, topo.rasa_db_url, chat["answered"],
                              chat["urgent"], args.turns)
        router = httpx.get(f"{topo.router_url}/_router/status", trust_env=False).json()
    finally:
        sampler.stop_event.set()
        sampler.join(5)
        rss_now = topo.rss()
        topo.stop()

    n_chat = len(chat["latencies"])
    n_cop = len(copilot["latencies"])
    metrics = {
        "chat_senders": args.senders, "chat_turns_per_sender": args.turns,
        "chat_messages": args.senders * args.turns,
        "chat_turns_per_second": round(n_chat / chat["wall"], 2),
        "chat_p50_ms": round(percentile(chat["latencies"], 0.50), 1),
        "chat_p95_ms": round(percentile(chat["latencies"], 0.95), 1),
        "chat_p99_ms": round(percentile(chat["latencies"], 0.99), 1),
        "chat_errors": len(chat["errors"]),
        "chat_wall_seconds": round(chat["wall"], 1),
        "copilot_users": args.copilot_users, "copilot_calls": args.copilot_users * args.copilot_calls,
        "copilot_requests_per_second": round(n_cop / copilot["wall"], 2),
        "copilot_p50_ms": round(percentile(copilot["latencies"], 0.50), 1),
        "copilot_p95_ms": round(percentile(copilot["latencies"], 0.95), 1),
        "copilot_p99_ms": round(percentile(copilot["latencies"], 0.99), 1),
        "copilot_errors": len(copilot["errors"]),
        **{k: v for k, v in checks.items() if v is not None},
        **{f"replies_{k}": int(v) for k, v in replies.items()},
        "rasa_backlog_drain_seconds": round(drain, 1),
        "topology_startup_seconds": round(startup, 1),
        **{f"rss_peak_mb_{k}": v for k, v in sampler.peak.items()},
    }
    ok = (metrics["chat_errors"] == 0 and metrics["copilot_errors"] == 0
          and checks["messages_without_one_answer"] == 0 and checks["service_turn_count_mismatches"] == 0
          and not checks.get("rasa_user_event_mismatches")
          and checks["urgent_cases_with_exactly_one_ticket"] == checks["urgent_cases"]
          and checks["tickets_for_non_urgent_senders"] == 0 and checks["duplicate_tickets"] == 0)
    metrics["all_checks_passed"] = int(ok)
    result = {
        "name": "load",
        "metrics": metrics,
        "notes": (f"loopback, 2 CPUs shared with other work; topology: service (1 uvicorn worker, PostgreSQL), "
                  f"sticky router, 2 Rasa servers (SQL tracker store on PostgreSQL, Redis lock store), action "
                  f"server with real HTTP tickets; {args.senders} concurrent chat senders x {args.turns} turns, "
                  f"then {args.copilot_users} concurrent copilot agents x {args.copilot_calls} calls; "
                  f"router served {router.get('served')}; first errors: "
                  f"{(chat['errors'] + copilot['errors'])[:5]}; RSS at end {rss_now}"),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
