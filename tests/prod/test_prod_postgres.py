"""The service on real PostgreSQL as in production: migrations (the same schema as SQLite), and
two replicas (two uvicorn processes, two pools, two outbox workers) sharing one database —
tickets, idempotency, the outbox and chat conversations behave as with one process on SQLite.

The single-process ticket and outbox suites already run on PostgreSQL too (tests/service,
parametrised `sqlite`/`postgres`); these add what only several processes can show.
"""
from __future__ import annotations

import secrets
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import create_engine, inspect, text

from conftest import Replica, prepare_database  # tests/prod/conftest.py
from service.core.db import migrate

pytestmark = pytest.mark.postgres

URGENT = "我在西吉县，已经两天没吃饭了，身上一分钱都没有，回不了家"


def _schema(url: str) -> dict:
    eng = create_engine(url)
    insp = inspect(eng)
    out = {}
    for table in sorted(insp.get_table_names()):
        cols = {c["name"]: bool(c["nullable"]) for c in insp.get_columns(table)}
        # PostgreSQL also lists a unique constraint's own index: compare the constraints instead.
        idx = sorted(i["name"] for i in insp.get_indexes(table) if not i.get("duplicates_constraint"))
        uniques = sorted(tuple(u["column_names"]) for u in insp.get_unique_constraints(table))
        out[table] = {"columns": cols, "indexes": idx, "uniques": uniques}
    eng.dispose()
    return out


def test_migrations_give_postgres_the_same_schema_as_sqlite_and_rerun_as_no_op(fresh_pg_db, tmp_path):
    sqlite = f"sqlite:///{tmp_path / 'ref.db'}"
    migrate(sqlite)
    migrate(fresh_pg_db)
    pg, lite = _schema(fresh_pg_db), _schema(sqlite)
    assert {"tickets", "ticket_events", "outbox", "conversations", "users", "alembic_version"} <= set(pg)
    assert pg == lite
    eng = create_engine(fresh_pg_db)
    with eng.connect() as c:
        heads_before = sorted(r[0] for r in c.execute(text("SELECT version_num FROM alembic_version")))
    migrate(fresh_pg_db)  # a second replica's start, or a re-run of the job: nothing changes
    with eng.connect() as c:
        assert sorted(r[0] for r in c.execute(text("SELECT version_num FROM alembic_version"))) == heads_before
    eng.dispose()
    assert _schema(fresh_pg_db) == pg


@pytest.fixture
def replicas(fresh_pg_db, tmp_path):
    admin_pw = secrets.token_urlsafe(12)
    prepare_database(fresh_pg_db, admin_pw)
    env = {"HOTLINE_DATABASE_URL": fresh_pg_db, "HOTLINE_RUN_MIGRATIONS": "false",
           "HOTLINE_SECRET_KEY": secrets.token_urlsafe(48), "HOTLINE_BOT_TOKEN": "prod-bot-token",
           "HOTLINE_AS_OF": "2022-07-01", "HOTLINE_OUTBOX_POLL_SECONDS": "0.2",
           # No Rasa here: chat turns take the service's own fallback path.
           "HOTLINE_RASA_URL": "http://127.0.0.1:9", "HOTLINE_ACTION_SERVER_URL": "http://127.0.0.1:9"}
    started = []
    try:
        for name in ("replica-a", "replica-b"):
            started.append(Replica(name, env, tmp_path))
        yield started, admin_pw, fresh_pg_db
    finally:
        for r in started:
            r.stop()


def _count(url: str, sql: str) -> int:
    eng = create_engine(url)
    with eng.connect() as c:
        n = c.execute(text(sql)).scalar_one()
    eng.dispose()
    return n


def test_two_replicas_share_tickets_idempotency_and_deliver_each_notification_once(replicas):
    (a, b), admin_pw, url = replicas
    bot = {"Authorization": "Bearer prod-bot-token"}

    def post(i, **extra):
        base = (a, b)[i % 2].url
        headers = dict(bot, **extra.pop("headers", {}))
        return httpx.post(f"{base}/api/v1/tickets", headers=headers, timeout=30, trust_env=False, json={
            "urgent_reason": extra.get("reason", URGENT), "county": "西吉县", "facts": {"county": "西吉县"},
            "conversation_id": extra.get("conv", "race"), "source": "rest"})

    # The same urgent case from 24 concurrent calls spread over both replicas: one ticket.
    with ThreadPoolExecutor(12) as pool:
        ids = [r.json()["id"] for r in pool.map(post, range(24))]
    assert len(set(ids)) == 1
    # One Idempotency-Key on both replicas: one ticket, the second call marked as a replay.
    first = post(0, conv=None, reason="老人摔倒没人管", headers={"Idempotency-Key": "k-1"})
    again = post(1, conv=None, reason="老人摔倒没人管", headers={"Idempotency-Key": "k-1"})
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"] and again.headers["Idempotent-Replayed"] == "true"
    # 20 distinct cases over both replicas.
    with ThreadPoolExecutor(8) as pool:
        distinct = list(pool.map(lambda i: post(i, conv=f"c-{i}", reason=f"{URGENT}（第{i}位来电人）"), range(20)))
    assert all(r.status_code == 201 for r in distinct)
    assert _count(url, "SELECT count(*) FROM tickets") == 22

    # A login on replica A works on replica B (one shared secret, no session state).
    token = httpx.post(f"{a.url}/api/v1/auth/token", data={"username": "admin", "password": admin_pw},
                       trust_env=False).json()["access_token"]
    listed = httpx.get(f"{b.url}/api/v1/tickets", headers={"Authorization": f"Bearer {token}"},
                       trust_env=False).json()
    assert len(listed) == 22

    # Both replicas' outbox workers drain the shared outbox: every notification exactly once.
    deadline = time.monotonic() + 30
    while _count(url, "SELECT count(*) FROM outbox WHERE state <> 'sent'") and time.monotonic() < deadline:
        time.sleep(0.3)
    assert _count(url, "SELECT count(*) FROM outbox WHERE state <> 'sent'") == 0
    sent_keys = [line["dedupe_key"] for r in (a, b) for line in r.json_lines() if line.get("event") == "notify"]
    assert len(sent_keys) == _count(url, "SELECT count(*) FROM outbox") == 22
    assert len(set(sent_keys)) == len(sent_keys)


def test_chat_conversation_and_urgent_fallback_ticket_are_shared_by_replicas(replicas):
    (a, b), admin_pw, url = replicas
    chat = lambda r, msg: httpx.post(f"{r.url}/webhooks/rest/webhook", json={"sender": "wx-77", "message": msg},  # noqa: E731
                                     timeout=30, trust_env=False)
    first = chat(a, URGENT)
    assert first.status_code == 200 and "工单编号" in first.json()[0]["text"]
    again = chat(b, URGENT)  # the caller repeats themself through the other replica
    assert again.status_code == 200 and again.json()[0]["text"] == first.json()[0]["text"]
    assert _count(url, "SELECT count(*) FROM tickets") == 1
    other = chat(b, "我家四口人")
    assert other.status_code == 200 and other.json()[0]["text"]
    token = httpx.post(f"{b.url}/api/v1/auth/token", data={"username": "admin", "password": admin_pw},
                       trust_env=False).json()["access_token"]
    conv = httpx.get(f"{a.url}/api/v1/conversations/wx-77", headers={"Authorization": f"Bearer {token}"},
                     trust_env=False).json()
    assert conv["facts"]["county"] == "西吉县" and conv["facts"]["household_size"] == 4
    assert [t["conversation_id"] for t in conv["tickets"]] == ["wx-77"]
