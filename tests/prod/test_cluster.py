"""Two Rasa servers sharing a SQL tracker store (PostgreSQL) and a Redis lock store, behind the
sticky router, with the service and the action server in front (scripts/topology.py).

Runs first among the topology tests (file order): tests/prod/test_faults.py kills parts after it.
"""
from __future__ import annotations

import threading
import uuid

import httpx
import pytest
from sqlalchemy import create_engine, text

RUN = uuid.uuid4().hex[:6]  # senders unique per run: the tracker store outlives a test

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]


def rasa_turn(url: str, sender: str, message: str) -> list[str]:
    r = httpx.post(f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": message,
                                                         "metadata": {"channel": "rest"}},
                   timeout=120, trust_env=False)
    r.raise_for_status()
    return [m.get("text", "") for m in r.json()]


def tracker(url: str, sender: str) -> dict:
    r = httpx.get(f"{url}/conversations/{sender}/tracker", timeout=60, trust_env=False)
    r.raise_for_status()
    return r.json()


def user_texts(tr: dict) -> list[str]:
    return [e.get("text") for e in tr["events"] if e["event"] == "user"]


def service_turn(topology, sender: str, message: str) -> httpx.Response:
    return httpx.post(f"{topology.service_url}/webhooks/rest/webhook", json={"sender": sender, "message": message},
                      timeout=120, trust_env=False)


def admin_headers(topology) -> dict:
    token = httpx.post(f"{topology.service_url}/api/v1/auth/token", trust_env=False,
                       data={"username": "admin", "password": topology.admin_password}).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


def test_a_conversation_started_on_server_a_continues_on_server_b_with_its_slots(topology, topo_mod):
    a, b = topology.rasa_url(0), topology.rasa_url(1)
    sender = f"cluster-ab-1-{RUN}"
    assert rasa_turn(a, sender, "你好")
    assert rasa_turn(a, sender, "我是西吉县的低保户，家里四口人")
    facts_a = tracker(a, sender)["slots"]["facts"]
    assert facts_a["county"] == "西吉县" and facts_a["household_size"] == 4 and "dibao" in facts_a["statuses"]
    # Server B has never seen this sender: it reads the conversation from PostgreSQL.
    assert tracker(b, sender)["slots"]["facts"] == facts_a
    reply = rasa_turn(b, sender, "我能领什么补贴")
    assert reply and any(t for t in reply)
    after = tracker(a, sender)  # and A sees what B added
    assert user_texts(after) == ["你好", "我是西吉县的低保户，家里四口人", "我能领什么补贴"]
    assert after["slots"]["facts"]["county"] == "西吉县" and after["slots"]["facts"]["household_size"] == 4
    eng = create_engine(topology.rasa_db_url)
    with eng.connect() as c:
        n = c.execute(text("SELECT count(*) FROM events WHERE sender_id = :s AND type_name = 'user'"),
                      {"s": sender}).scalar_one()
    eng.dispose()
    assert n == 3  # stored once each, whichever server handled it


def test_the_router_keeps_each_sender_on_one_server_and_uses_both(topology):
    seen: dict[str, set] = {}
    for i in range(12):
        sender = f"cluster-sticky-{i}-{RUN}"
        for message in ("你好", "谢谢"):
            r = httpx.post(f"{topology.router_url}/webhooks/rest/webhook", timeout=120, trust_env=False,
                           json={"sender": sender, "message": message})
            assert r.status_code == 200 and r.json()
            seen.setdefault(sender, set()).add(r.headers["x-rasa-backend"])
        r = httpx.get(f"{topology.router_url}/conversations/{sender}/tracker", timeout=60, trust_env=False)
        seen[sender].add(r.headers["x-rasa-backend"])
    assert all(len(servers) == 1 for servers in seen.values()), seen
    assert set().union(*seen.values()) == {topology.rasa_url(0), topology.rasa_url(1)}


def test_simultaneous_messages_of_one_sender_on_both_servers_are_handled_one_at_a_time(topology):
    """The Redis lock store serialises a conversation across servers: both messages are stored,
    each followed by its own bot turn (never interleaved), none lost."""
    sender = f"cluster-lock-1-{RUN}"
    rasa_turn(topology.rasa_url(0), sender, "你好")
    replies: dict[int, list] = {}

    def go(i: int, message: str) -> None:
        replies[i] = rasa_turn(topology.rasa_url(i), sender, message)

    threads = [threading.Thread(target=go, args=(0, "我是西吉县的")), threading.Thread(target=go, args=(1, "我家四口人"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert set(replies) == {0, 1}  # both answered with 200 (the bot may say nothing to one)
    events = tracker(topology.rasa_url(0), sender)["events"]
    users = [i for i, e in enumerate(events) if e["event"] == "user"]
    assert len(users) == 3
    # Each message starts a turn only after the previous turn ended with action_listen: the two
    # servers never worked on this conversation at the same time.
    for u in users[1:]:
        last_action = [e for e in events[:u] if e["event"] == "action"][-1]
        assert last_action["name"] == "action_listen", events[:u + 1]
    facts = tracker(topology.rasa_url(1), sender)["slots"]["facts"]
    assert facts["county"] == "西吉县" and facts["household_size"] == 4


def test_the_whole_chain_answers_and_the_bot_opens_one_urgent_ticket(topology):
    sender = f"cluster-chain-1-{RUN}"
    for message in ("你好", "我是海原县的"):
        r = service_turn(topology, sender, message)
        assert r.status_code == 200 and r.json() and r.json()[0]["text"]
    urgent = "我已经两天没吃饭了，身上一分钱都没有，回不了家"
    r = service_turn(topology, sender, urgent)
    assert r.status_code == 200 and r.json()[0]["text"]
    r2 = service_turn(topology, sender, urgent)  # the caller says it again
    assert r2.status_code == 200 and r2.json()[0]["text"]
    h = admin_headers(topology)
    mine = [t for t in httpx.get(f"{topology.service_url}/api/v1/tickets", headers=h, trust_env=False).json()
            if t["conversation_id"] == sender]
    assert len(mine) == 1 and mine[0]["county"] == "海原县"
    assert mine[0]["created_by"] == "bot"  # opened by the action server through the service's API
    conv = httpx.get(f"{topology.service_url}/api/v1/conversations/{sender}", headers=h, trust_env=False).json()
    assert conv["facts"]["county"] == "海原县" and [t["id"] for t in conv["tickets"]] == [mine[0]["id"]]
    metrics = httpx.get(f"{topology.service_url}/metrics", trust_env=False).text
    assert 'hotline_tickets{status="open"}' in metrics
