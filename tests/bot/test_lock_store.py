"""deploy/rasa_stores.AtomicRedisLockStore on the real Redis: one conversation is served by one
server at a time, in ticket order, however many servers ask at once.

Each "server" is a separate process with its own lock store (as two Rasa servers are); they
all take the lock for the same conversation many times and note when they held it. Held
intervals must never overlap.
"""
from __future__ import annotations

import asyncio
import importlib.util
import multiprocessing
import sys
import time
import uuid
from pathlib import Path

import pytest

pytestmark = [pytest.mark.rasa, pytest.mark.redis]

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def redis_up():
    topology = sys.modules.get("hotline_topology")
    if topology is None:
        spec = importlib.util.spec_from_file_location("hotline_topology", ROOT / "scripts" / "topology.py")
        topology = sys.modules["hotline_topology"] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(topology)
    try:
        topology.ensure_redis()  # the machine's Redis, or started from Debian's package
    except topology.Unavailable as exc:
        pytest.skip(f"!!! Redis UNAVAILABLE — the Redis lock store test is SKIPPED: {exc}")
    return topology


def _store(prefix: str):
    from rasa.utils.endpoints import EndpointConfig

    from deploy.rasa_stores import AtomicRedisLockStore

    # The way Rasa builds it from deploy/rasa/endpoints.yml.
    return AtomicRedisLockStore(endpoint_config=EndpointConfig(
        url="127.0.0.1", type="deploy.rasa_stores.AtomicRedisLockStore", port=6379, db=0, key_prefix=prefix))


def _server(prefix: str, conversation: str, rounds: int, start_at: float, out) -> None:
    store = _store(prefix)

    async def run():
        held = []
        for _ in range(rounds):
            async with store.lock(conversation, wait_time_in_seconds=0.005):
                began = time.monotonic()
                await asyncio.sleep(0.003)  # a short turn
                held.append((began, time.monotonic()))
        return held

    time.sleep(max(0.0, start_at - time.time()))  # all servers ask at the same moment
    out.put(asyncio.run(run()))


def test_servers_asking_at_once_hold_one_conversation_one_at_a_time(redis_up):
    prefix = "locktest" + uuid.uuid4().hex[:8]
    conversation = "caller-1"
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    start_at = time.time() + 3.0  # after every process has imported Rasa
    servers = [ctx.Process(target=_server, args=(prefix, conversation, 25, start_at, out)) for _ in range(3)]
    for p in servers:
        p.start()
    held = [interval for _ in servers for interval in out.get(timeout=120)]
    for p in servers:
        p.join(timeout=30)
        assert p.exitcode == 0
    assert len(held) == 75
    held.sort()
    overlaps = [(a, b) for a, b in zip(held, held[1:]) if b[0] < a[1]]
    assert not overlaps, f"{len(overlaps)} turns of one conversation ran at the same time"
    # and the lock is gone once nobody waits
    assert _store(prefix).get_lock(conversation) is None


def test_a_ticket_left_by_a_crashed_server_expires_and_the_next_one_is_served(redis_up):
    prefix = "locktest" + uuid.uuid4().hex[:8]
    store = _store(prefix)
    store.issue_ticket("caller-2", lock_lifetime=0.2)  # taken, never returned

    async def next_turn():
        async with store.lock("caller-2", wait_time_in_seconds=0.05) as lock:
            return lock.conversation_id

    began = time.monotonic()
    assert asyncio.run(next_turn()) == "caller-2"
    assert time.monotonic() - began < 5


def test_a_message_waiting_longer_than_the_ticket_lifetime_is_still_served_in_turn(redis_up):
    """Under a peak, a caller's messages queue behind each other for longer than the lifetime:
    the waiting servers renew their tickets, so every message is served, one at a time, in order
    (Rasa's own store lets the waiting tickets expire and those messages are lost)."""
    prefix = "locktest" + uuid.uuid4().hex[:8]
    store = _store(prefix)
    held: list[tuple[int, float, float]] = []

    async def turn(i: int) -> None:
        await asyncio.sleep(0.05 * i)  # arrive in this order
        async with store.lock("caller-3", lock_lifetime=1.0, wait_time_in_seconds=0.05):
            began = time.monotonic()
            await asyncio.sleep(0.6)  # 4 turns: the last one waits ~1.8 s, longer than the lifetime
            held.append((i, began, time.monotonic()))

    async def main():
        await asyncio.gather(*(turn(i) for i in range(4)))

    asyncio.run(main())
    assert [i for i, *_ in held] == [0, 1, 2, 3]
    for (_, _, end), (_, start, _) in zip(held, held[1:]):
        assert start >= end  # never two at once
    assert store.get_lock("caller-3") is None
