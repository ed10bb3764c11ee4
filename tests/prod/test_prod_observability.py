"""Observability (issue 7): Prometheus /metrics on real PostgreSQL, and the service's JSON logs
(request ids, personal data masked) from a real uvicorn process."""
from __future__ import annotations

import re
import secrets
import time

import httpx
import pytest
from starlette.testclient import TestClient

from conftest import Replica, prepare_database  # tests/prod/conftest.py
from service.core.config import Settings
from service.core.db import Database, migrate
from service.main import create_app
from service.services.outbox import FakeNotifier, OutboxWorker
from service.services.rasa import FakeRasa

pytestmark = pytest.mark.postgres

ID_NUMBER, PHONE = "642222199001011234", "13812345678"
URGENT = f"我在西吉县，已经两天没吃饭了，身上一分钱都没有，回不了家。身份证{ID_NUMBER}，电话{PHONE}"


def sample(text: str, name: str, **labels) -> float | None:
    """The value of one sample in Prometheus text format (None when absent)."""
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        m = re.match(r'^([a-zA-Z_:][\w:]*)(\{(?:[^"}]|"[^"]*")*\})? (\S+)$', line)
        if not m or m.group(1) != name:
            continue
        got = dict(re.findall(r'(\w+)="([^"]*)"', m.group(2) or ""))
        if all(got.get(k) == v for k, v in labels.items()):
            return float(m.group(3))
    return None


def test_metrics_count_requests_latency_tickets_outbox_and_fallbacks(fresh_pg_db):
    migrate(fresh_pg_db)
    default_text = __import__("service.core.metrics", fromlist=["_bot_texts"])._bot_texts("utter_default")
    assert default_text, "bot/domain has no utter_default response to recognise"
    nlu_fallback = sorted(default_text)[0]
    rasa = FakeRasa(reply=lambda s, m, md: [{"recipient_id": s, "text": nlu_fallback if m == "啊吧啊吧" else "好的"}])
    notifier = FakeNotifier()
    settings = Settings(database_url=fresh_pg_db, as_of="2022-07-01", secret_key="k" * 40, bot_token="bt",
                        outbox_enabled=False, run_migrations=False, admin_password=None,
                        supervisor_state_file=None)
    app = create_app(settings, rasa=rasa, notifier=notifier)
    bot = {"Authorization": "Bearer bt"}
    with TestClient(app) as c:
        for i in range(3):
            r = c.post("/api/v1/tickets", headers=bot, json={
                "urgent_reason": f"{URGENT}（{i}）", "county": "西吉县", "facts": {"county": "西吉县"},
                "conversation_id": f"m-{i}", "source": "rest"})
            assert r.status_code == 201
        assert c.get("/api/v1/tickets/1").status_code == 401
        c.post("/webhooks/rest/webhook", json={"sender": "m-chat", "message": "你好"})
        c.post("/webhooks/rest/webhook", json={"sender": "m-chat", "message": "啊吧啊吧"})
        rasa.up = False
        c.post("/webhooks/rest/webhook", json={"sender": "m-chat", "message": "我能领什么"})
        text = c.get("/metrics").text
        assert sample(text, "hotline_http_requests_total", method="POST", route="/api/v1/tickets", status="201") == 3
        assert sample(text, "hotline_http_requests_total", route="/api/v1/tickets/{ticket_id}", status="401") == 1
        assert sample(text, "hotline_http_request_duration_seconds_count", route="/webhooks/rest/webhook") == 3
        assert sample(text, "hotline_http_request_duration_seconds_bucket", route="/api/v1/tickets", le="+Inf") == 3
        assert sample(text, "hotline_tickets", status="open") == 3
        assert sample(text, "hotline_outbox_messages", state="pending") == 3
        assert sample(text, "hotline_chat_replies_total", kind="answer") == 1
        assert sample(text, "hotline_chat_replies_total", kind="nlu_fallback") == 1
        assert sample(text, "hotline_chat_replies_total", kind="service_fallback") == 1
        assert sample(text, "hotline_log_events_total", event="chat.fallback") == 1
        assert sample(text, "hotline_database_up") == 1
        # The backlog drains: the gauge follows the database, not the process.
        OutboxWorker(Database(fresh_pg_db), notifier).drain_once()
        text = c.get("/metrics").text
        assert sample(text, "hotline_outbox_messages", state="pending") == 0
        assert sample(text, "hotline_outbox_messages", state="sent") == 3
        assert ID_NUMBER not in text and "m-chat" not in text  # no personal data, no sender labels


def test_json_logs_carry_request_ids_and_mask_personal_data(fresh_pg_db, tmp_path):
    prepare_database(fresh_pg_db, secrets.token_urlsafe(8))
    replica = Replica("logs", {"HOTLINE_DATABASE_URL": fresh_pg_db, "HOTLINE_RUN_MIGRATIONS": "false",
                               "HOTLINE_SECRET_KEY": "s" * 48, "HOTLINE_BOT_TOKEN": "bt",
                               "HOTLINE_OUTBOX_POLL_SECONDS": "0.2",
                               "HOTLINE_RASA_URL": "http://127.0.0.1:9",
                               "HOTLINE_ACTION_SERVER_URL": "http://127.0.0.1:9"}, tmp_path)
    try:
        r = httpx.post(f"{replica.url}/webhooks/rest/webhook", headers={"X-Request-ID": "trace-prod-1"},
                       json={"sender": "wx-logs", "message": URGENT}, trust_env=False, timeout=30)
        assert r.status_code == 200 and r.headers["x-request-id"] == "trace-prod-1"
        assert "工单编号" in r.json()[0]["text"]
        deadline = time.monotonic() + 10
        while not any(l.get("event") == "notify" for l in replica.json_lines()) and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        replica.stop()
    raw = replica.log()
    lines = replica.json_lines()
    assert lines and all(line.get("ts") and line.get("level") for line in lines)
    assert ID_NUMBER not in raw and PHONE not in raw  # masked everywhere, notifications included
    mine = [line for line in lines if line.get("request_id") == "trace-prod-1"]
    assert {"chat.fallback", "http.request"} <= {line.get("event") for line in mine}
    assert any(line.get("event") == "notify" for line in lines)


def test_chat_log_lines_carry_the_conversation_id(fresh_pg_db, tmp_path):
    prepare_database(fresh_pg_db, secrets.token_urlsafe(8))
    replica = Replica("logs-conv", {"HOTLINE_DATABASE_URL": fresh_pg_db, "HOTLINE_RUN_MIGRATIONS": "false",
                                    "HOTLINE_SECRET_KEY": "s" * 48, "HOTLINE_RASA_URL": "http://127.0.0.1:9",
                                    "HOTLINE_ACTION_SERVER_URL": "http://127.0.0.1:9"}, tmp_path)
    try:
        httpx.post(f"{replica.url}/webhooks/rest/webhook", json={"sender": "wx-conv-9", "message": "你好"},
                   trust_env=False, timeout=30)
    finally:
        replica.stop()
    fallback = [line for line in replica.json_lines() if line.get("event") == "chat.fallback"]
    assert fallback and all(line.get("conversation_id") == "wx-conv-9" for line in fallback)
