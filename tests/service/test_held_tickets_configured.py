"""create_app hands its Settings.held_tickets_dir to held_tickets once: a Settings given in code
decides where an urgent case is held during an outage (not the environment), and a chat turn
finds the spool without building Settings() again."""
from __future__ import annotations

import shutil

from starlette.testclient import TestClient

from service.core.config import Settings
from service.core.db import migrate
from service.main import create_app
from service.services import held_tickets
from service.services.chat import URGENT_HELD_TEXT
from service.services.rasa import FakeRasa
from tests.service.conftest import AS_OF, BOT_TOKEN, SECRET

URGENT = "我在西吉县，已经两天没吃饭了，身上一分钱都没有，回不了家"


def settings_for(url: str, **kwargs) -> Settings:
    return Settings(database_url=url, as_of=AS_OF, secret_key=SECRET, bot_token=BOT_TOKEN,
                    outbox_enabled=False, run_migrations=False, admin_password=None,
                    supervisor_state_file=None, **kwargs)


def test_a_settings_given_in_code_decides_where_cases_are_held(tmp_path, monkeypatch):
    monkeypatch.setenv(held_tickets.ENV_DIR, str(tmp_path / "from-env"))
    monkeypatch.setattr(held_tickets, "RETRY_SECONDS", (600.0,))  # the next turn is not under test
    path = tmp_path / "db" / "service.db"
    path.parent.mkdir()
    url = f"sqlite:///{path}"
    migrate(url)
    app = create_app(settings_for(url, held_tickets_dir=tmp_path / "from-code"),
                     rasa=FakeRasa(up=False))
    expected = tmp_path / "from-code" / held_tickets.database_key(url)

    # Once configured, a turn's lookup builds no Settings (it used to, ~0.7 ms per turn).
    def no_settings(*_a, **_k):
        raise AssertionError("Settings() built on a chat turn")

    monkeypatch.setattr(held_tickets, "Settings", no_settings)
    assert held_tickets.spool_for(app.state.db.engine).directory == expected

    with TestClient(app) as client:
        # A real outage: the SQLite file is gone and cannot be created again.
        app.state.db.engine.dispose()
        shutil.move(str(path.parent), tmp_path / "away")
        path.parent.mkdir()
        path.mkdir()
        r = client.post("/webhooks/rest/webhook", json={"sender": "c-1", "message": URGENT})
    assert r.json() == [{"recipient_id": "c-1", "text": URGENT_HELD_TEXT.format(where="西吉县")}]
    assert [p.parent for p in (tmp_path / "from-code").glob("*/*.json")] == [expected]
    assert not (tmp_path / "from-env").exists()


def test_without_the_setting_in_code_the_environment_still_decides(tmp_path, monkeypatch):
    monkeypatch.setenv(held_tickets.ENV_DIR, str(tmp_path / "from-env"))
    url = f"sqlite:///{tmp_path / 'e.db'}"
    migrate(url)
    app = create_app(settings_for(url), rasa=FakeRasa())
    assert held_tickets.spool_for(app.state.db.engine).directory == (
        tmp_path / "from-env" / held_tickets.database_key(url))
    # An engine no app configured (a script, a test) reads the environment as before.
    from service.core.db import Database

    other = Database(url)
    monkeypatch.setenv(held_tickets.ENV_DIR, str(tmp_path / "later"))
    assert held_tickets.spool_for(other.engine).directory == (
        tmp_path / "later" / held_tickets.database_key(url))
    other.dispose()
    app.state.db.dispose()
