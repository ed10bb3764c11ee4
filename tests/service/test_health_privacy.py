"""/healthz naming the part that is down; masking in the helper, the logs and request ids."""
from __future__ import annotations

import json
import logging
import time

from starlette.testclient import TestClient

from service.core.logging import JsonFormatter
from service.core.privacy import contains_personal, mask_data, mask_text
from service.main import create_app


def test_healthz_reports_each_part(client, fake_rasa):
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json()["status"] == "ok" and r.json()["down"] == []
    assert r.json()["parts"]["database"]["up"] is True
    fake_rasa.up = False
    fake_rasa.action_server_up = False
    r = client.get("/healthz")
    assert r.status_code == 200  # the service and its database are up
    assert r.json()["status"] == "degraded" and set(r.json()["down"]) == {"rasa", "action_server"}


def test_healthz_reports_a_dead_child_from_the_supervisor(settings, fake_rasa, tmp_path):
    state = tmp_path / "supervisor.json"
    state.write_text(json.dumps({"updated": time.time(), "children": {
        "actions": {"running": False, "exit_code": 1, "restarts": 2},
        "rasa": {"running": True}, "service": {"running": True}}}))
    s = settings.model_copy(update={"supervisor_state_file": state})
    with TestClient(create_app(s, rasa=fake_rasa)) as c:
        body = c.get("/healthz").json()
    assert "action_server" in body["down"] and body["parts"]["action_server"]["process"] == "exited (1)"


def test_healthz_is_503_when_the_database_is_down(settings, fake_rasa):
    s = settings.model_copy(update={"database_url": "postgresql+psycopg://nobody@127.0.0.1:1/none"})
    c = TestClient(create_app(s, rasa=fake_rasa))  # no lifespan: migrations would fail first
    r = c.get("/healthz")
    assert r.status_code == 503 and "database" in r.json()["down"]


def test_masking_helper():
    text = "身份证 64222219900101123X，手机 13812345678，座机 0954-1234567，金额 23000 元"
    masked = mask_text(text)
    assert "64222219900101123X" not in masked and "6422**********123X" in masked
    assert "13812345678" not in masked and "138****5678" in masked
    assert "0954-1234567" in masked and "23000" in masked  # not personal: untouched
    assert mask_text("+86 138-1234-5678") == "+86 138-****-5678"
    assert mask_text("１３８１２３４５６７８") == "１３８****５６７８"
    assert mask_text("订单 123456789012345678901") == "订单 123456789012345678901"  # longer digit run
    assert mask_data({"a": ["13912345678", 3], "b": None}) == {"a": ["139****5678", 3], "b": None}
    assert contains_personal(text) and not contains_personal(masked)


def test_logs_are_json_with_request_ids_and_masked(client, fake_rasa, caplog):
    fake_rasa.up = False
    records = []

    class Grab(logging.Handler):
        def emit(self, record):
            records.append(JsonFormatter().format(record))

    handler = Grab()
    logging.getLogger().addHandler(handler)
    try:
        r = client.post("/webhooks/rest/webhook", json={
            "sender": "p1", "message": "我的电话13812345678，身份证642222199001011234，家里断粮了"},
            headers={"X-Request-ID": "req-abc"})
        logging.getLogger("service.test").info("caller said 13812345678", extra={"note": "id 642222199001011234"})
    finally:
        logging.getLogger().removeHandler(handler)
    assert r.headers["x-request-id"] == "req-abc"
    lines = [json.loads(x) for x in records]
    assert any(x.get("request_id") == "req-abc" and x.get("event") == "http.request" for x in lines)
    joined = "\n".join(records)
    assert "13812345678" not in joined and "642222199001011234" not in joined
    assert "138****5678" in joined


def test_nothing_personal_in_urls(app):
    # Paths carry only ids and opaque conversation ids; filters are status/county/flags.
    from fastapi.routing import APIRoute

    def walk(routes):
        for r in routes:
            if isinstance(r, APIRoute):
                yield r
            for sub in getattr(r, "routes", []) or []:
                yield from walk([sub])

    params = {p.name for r in app.routes if isinstance(r, APIRoute) for p in r.dependant.query_params}
    assert params <= {"status", "county", "overdue", "conversation_id", "limit", "offset"}


def test_a_fresh_database_is_migrated_at_start(settings, fake_rasa, tmp_path):
    from pydantic import SecretStr
    from sqlalchemy import create_engine, inspect

    url = f"sqlite:///{tmp_path / 'fresh' / 'h.db'}"
    s = settings.model_copy(update={"database_url": url, "run_migrations": True,
                                    "admin_password": SecretStr("first-admin-pw")})
    with TestClient(create_app(s, rasa=fake_rasa)) as c:
        assert c.get("/healthz").json()["parts"]["database"]["up"] is True
        assert c.post("/api/v1/auth/token", data={"username": "admin", "password": "first-admin-pw"}).status_code == 200
    tables = set(inspect(create_engine(url)).get_table_names())
    assert {"tickets", "ticket_events", "outbox", "users", "conversations", "alembic_version"} <= tables


def test_names_after_a_cue_are_masked():
    assert mask_text("我叫王小明，住西吉") == "我叫王**，住西吉"
    assert mask_text("姓名：李娟") == "姓名：李*"
    assert mask_text("我是低保户，家里4口人") == "我是低保户，家里4口人"
