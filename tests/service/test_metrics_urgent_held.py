"""hotline_chat_replies_total counts the reply to an urgent case held while the database is down
(chat.URGENT_HELD_TEXT) as `urgent_fallback`, like the other urgent replies, not as `answer`."""
from __future__ import annotations

import shutil

import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from service.core.config import Settings
from service.core.db import migrate
from service.core.metrics import ReplyClassifier
from service.main import create_app
from service.services import held_tickets
from service.services.chat import (
    FALLBACK_TEXT,
    URGENT_FALLBACK_TEXT,
    URGENT_HELD_TEXT,
    URGENT_NO_TICKET_TEXT,
)
from service.services.rasa import FakeRasa
from tests.service.conftest import AS_OF, BOT_TOKEN, SECRET

URGENT = "我在西吉县，已经两天没吃饭了，身上一分钱都没有，回不了家"


@pytest.mark.parametrize("text", [
    URGENT_HELD_TEXT.format(where="西吉县"), URGENT_HELD_TEXT.format(where="当地"),
    URGENT_FALLBACK_TEXT.format(ticket_id=17, where="原州区"), URGENT_NO_TICKET_TEXT],
    ids=["held", "held-county-unknown", "opened", "no-ticket"])
def test_every_urgent_reply_is_urgent(text):
    assert ReplyClassifier().kind(text) == "urgent_fallback"


def test_other_replies_keep_their_kind():
    classifier = ReplyClassifier()
    assert classifier.kind(FALLBACK_TEXT) == "service_fallback"
    assert classifier.kind("收到：我们已记录您的情况") == "answer"


def _replies(client) -> dict[str, float]:
    out = {}
    for family in text_string_to_metric_families(client.get("/metrics").text):
        if family.name == "hotline_chat_replies":
            for sample in family.samples:
                if sample.name.endswith("_total"):
                    out[sample.labels["kind"]] = sample.value
    return out


def test_a_held_urgent_reply_is_counted_as_urgent_over_http(tmp_path, monkeypatch):
    """A real outage: the SQLite file goes away while the app runs."""
    monkeypatch.setenv(held_tickets.ENV_DIR, str(tmp_path / "held"))
    monkeypatch.setattr(held_tickets, "RETRY_SECONDS", (600.0,))
    path = tmp_path / "db" / "service.db"
    path.parent.mkdir()
    url = f"sqlite:///{path}"
    migrate(url)
    app = create_app(Settings(database_url=url, as_of=AS_OF, secret_key=SECRET, bot_token=BOT_TOKEN,
                              outbox_enabled=False, run_migrations=False, admin_password=None,
                              supervisor_state_file=None), rasa=FakeRasa(up=False))
    away = tmp_path / "away"
    with TestClient(app) as client:
        app.state.db.engine.dispose()
        shutil.move(str(path.parent), away)
        path.parent.mkdir()
        path.mkdir()  # a directory where the file was: SQLite can neither open nor create it
        r = client.post("/webhooks/rest/webhook", json={"sender": "m-held", "message": URGENT})
        assert r.json() == [{"recipient_id": "m-held", "text": URGENT_HELD_TEXT.format(where="西吉县")}]
        assert _replies(client) == {"urgent_fallback": 1.0}
