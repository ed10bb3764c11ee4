"""Fault tests on the running topology (scripts/topology.py): kill the action server mid-conversation,
make the databases unavailable for a while, stall the notifier, kill a Rasa server (then both).
Callers always get an answer, urgent cases get exactly one ticket, nothing is lost or doubled.

Order matters (file order, one topology per session): the Rasa servers are killed last.
"""
from __future__ import annotations

import threading
import uuid
import time

import httpx
import pytest
from sqlalchemy import create_engine, text
from starlette.testclient import TestClient

from service.core.config import Settings
from service.core.db import migrate
from service.main import create_app
from service.services.chat import FALLBACK_TEXT
from service.services.outbox import FakeNotifier
from service.services.rasa import HttpRasaClient

RUN = uuid.uuid4().hex[:6]  # senders unique per run: the tracker store outlives a test

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]

URGENT = "我已经两天没吃饭了，身上一分钱都没有，回不了家"


def turn(topology, sender: str, message: str) -> list[str]:
    r = httpx.post(f"{topology.service_url}/webhooks/rest/webhook", json={"sender": sender, "message": message},
                   timeout=120, trust_env=False)
    assert r.status_code == 200, f"{message!r}: {r.status_code} {r.text[:300]}"
    texts = [m.get("text") for m in r.json() if m.get("text")]
    assert texts, f"{message!r}: no answer"
    return texts


def tickets_of(topology, sender: str) -> list[dict]:
    eng = create_engine(topology.service_db_url)
    with eng.connect() as c:
        rows = c.execute(text("SELECT id, created_by, urgent_reason, county FROM tickets "
                              "WHERE conversation_id = :s ORDER BY id"), {"s": sender}).mappings().all()
    eng.dispose()
    return [dict(r) for r in rows]


def wait_until(check, timeout: float = 30, every: float = 0.3) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(every)
    return check()


def backend_of(topology, sender: str) -> str:
    r = httpx.get(f"{topology.router_url}/conversations/{sender}/tracker", timeout=60, trust_env=False)
    return r.headers["x-rasa-backend"]


# ------------------------------------------------------------------ the action server dies
def test_action_server_killed_mid_conversation(topology):
    sender = f"fault-actions-1-{RUN}"
    turn(topology, sender, "你好")
    turn(topology, sender, "我是西吉县的低保户")
    topology.kill("actions")
    assert not topology.running("actions")
    try:
        assert turn(topology, sender, "家里四口人")  # some answer (the bot's or the service's fallback)
        texts = turn(topology, sender, URGENT)
        assert any("工单编号" in t for t in texts), texts  # the service opened it itself
        [ticket] = tickets_of(topology, sender)
        assert ticket["county"] == "西吉县"
    finally:
        topology.start_one("actions")
    # Back: the caller repeats the emergency; the bot's ticket is the same ticket.
    turn(topology, sender, URGENT)
    assert [t["id"] for t in tickets_of(topology, sender)] == [ticket["id"]]
    assert FALLBACK_TEXT not in turn(topology, sender, "我能领什么补贴")


# ------------------------------------------------------------------ the notifier stalls
class StallingNotifier(FakeNotifier):
    """Blocks every send until released (a hung SMS gateway or mail server)."""

    def __init__(self):
        super().__init__()
        self.release = threading.Event()
        self.calls = 0

    def send(self, notification):
        self.calls += 1
        self.release.wait(60)
        super().send(notification)


def test_a_stalled_notifier_delays_notices_but_not_callers_or_tickets(topology, fresh_pg_db):
    migrate(fresh_pg_db)
    notifier = StallingNotifier()
    settings = Settings(database_url=fresh_pg_db, as_of="2022-07-01", secret_key="k" * 40, bot_token="bt",
                        outbox_enabled=True, outbox_poll_seconds=0.1, outbox_lease_seconds=60,
                        run_migrations=False, admin_password=None, supervisor_state_file=None)
    rasa = HttpRasaClient(topology.router_url, topology.actions_url, timeout=120)
    with TestClient(create_app(settings, rasa=rasa, notifier=notifier)) as c:
        started = time.perf_counter()
        ids = []
        for i in range(5):
            r = c.post("/api/v1/tickets", headers={"Authorization": "Bearer bt"}, json={
                "urgent_reason": f"{URGENT}（第{i}位）", "county": "西吉县", "facts": {"county": "西吉县"},
                "conversation_id": f"fault-notify-{i}-{RUN}", "source": "rest"})
            assert r.status_code == 201
            ids.append(r.json()["id"])
        r = c.post("/webhooks/rest/webhook", json={"sender": f"fault-notify-chat-{RUN}", "message": "你好"})
        assert r.status_code == 200 and r.json()[0]["text"] != FALLBACK_TEXT
        assert time.perf_counter() - started < 60  # nobody waited for the notifier
        assert wait_until(lambda: notifier.calls >= 1, 10)  # the worker is stuck in the first send
        metrics = c.get("/metrics").text
        assert 'hotline_outbox_messages{state="pending"} 5.0' in metrics  # the backlog shows
        notifier.release.set()
        assert wait_until(lambda: len(notifier.delivered) == 5, 30)
        assert sorted(notifier.delivered) == sorted(f"ticket:{i}:created" for i in ids)
        assert len(notifier.received) == 5  # each sent once
        assert wait_until(lambda: 'hotline_outbox_messages{state="pending"} 0.0' in c.get("/metrics").text, 10)


# ------------------------------------------------------------------ the databases go away
def _databases_online(topology, topo_mod, online: bool) -> None:
    topo_mod.set_database_online(topology.service_db, online)
    topo_mod.set_database_online(topology.rasa_db, online)


def test_callers_get_an_answer_while_the_database_is_down(topology, topo_mod):
    _databases_online(topology, topo_mod, False)
    try:
        r = httpx.post(f"{topology.service_url}/webhooks/rest/webhook", timeout=120, trust_env=False,
                       json={"sender": f"fault-db-down-{RUN}", "message": "我在西吉县，" + URGENT})
        assert r.status_code == 200 and r.json()[0]["text"]
    finally:
        _databases_online(topology, topo_mod, True)


def test_everything_recovers_after_a_database_outage_without_restarts(topology, topo_mod):
    sender = f"fault-db-1-{RUN}"
    turn(topology, sender, "我是原州区的")
    _databases_online(topology, topo_mod, False)
    try:
        health = httpx.get(f"{topology.service_url}/healthz", timeout=30, trust_env=False)
        assert health.status_code == 503 and "database" in health.json()["down"]
        time.sleep(3)  # a few outbox passes fail meanwhile; the worker must survive them
    finally:
        _databases_online(topology, topo_mod, True)
    assert wait_until(lambda: httpx.get(f"{topology.service_url}/healthz", timeout=30,
                                        trust_env=False).status_code == 200, 30)
    # The same processes carry on: the conversation, the bot's ticket, its notification.
    turn(topology, sender, "我是原州区的，家里三口人")
    turn(topology, sender, URGENT)
    [ticket] = tickets_of(topology, sender)
    assert ticket["county"] == "原州区"
    eng = create_engine(topology.service_db_url)
    with eng.connect() as c:
        assert wait_until(lambda: c.execute(text("SELECT state FROM outbox WHERE dedupe_key = :k"),
                                            {"k": f"ticket:{ticket['id']}:created"}).scalar() == "sent", 30)
        facts = c.execute(text("SELECT facts FROM conversations WHERE sender = :s"), {"s": sender}).scalar_one()
    eng.dispose()
    assert facts["county"] == "原州区" and facts["household_size"] == 3
    for i in range(2):  # both Rasa servers write to the tracker store again
        r = httpx.get(f"{topology.rasa_url(i)}/conversations/{sender}/tracker", timeout=60, trust_env=False)
        assert r.json()["slots"]["facts"]["household_size"] == 3


# ------------------------------------------------------------------ a Rasa server dies (last)
def test_a_killed_rasa_server_hands_its_senders_to_the_other_then_both_down_falls_back(topology):
    first = topology.rasa_url(0)
    sender = next(s for s in (f"fault-rasa-{i}-{RUN}" for i in range(50)) if backend_of(topology, s) == first)
    turn(topology, sender, "我是西吉县的低保户，家里五口人")
    turn(topology, sender, "谢谢")
    topology.kill("rasa1")
    texts = turn(topology, sender, "我能领什么补贴")
    assert FALLBACK_TEXT not in texts  # the other server answered, from the shared tracker store
    assert backend_of(topology, sender) == topology.rasa_url(1)
    facts = httpx.get(f"{topology.rasa_url(1)}/conversations/{sender}/tracker", timeout=60,
                      trust_env=False).json()["slots"]["facts"]
    assert facts["county"] == "西吉县" and facts["household_size"] == 5
    # Both gone: the service answers with its own fallback and opens the urgent ticket itself.
    topology.kill("rasa2")
    assert turn(topology, sender, "还有别的吗") == [FALLBACK_TEXT]
    texts = turn(topology, sender, URGENT)
    assert any("工单编号" in t for t in texts)
    assert len(tickets_of(topology, sender)) == 1
    turn(topology, sender, URGENT)  # repeated: still one
    assert len(tickets_of(topology, sender)) == 1
