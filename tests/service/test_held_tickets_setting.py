"""HOTLINE_HELD_TICKETS_DIR is a field of the one Settings object (held_tickets_dir) and decides
where urgent cases are held while the database is down."""
from __future__ import annotations

from pathlib import Path

from service.core.config import Settings
from service.core.db import Database, migrate
from service.services import held_tickets


def test_the_setting_reads_the_same_environment_name(tmp_path, monkeypatch):
    monkeypatch.setenv("HOTLINE_HELD_TICKETS_DIR", str(tmp_path / "spool"))
    assert Settings().held_tickets_dir == tmp_path / "spool"
    assert held_tickets.spool_root() == tmp_path / "spool"
    monkeypatch.setenv("HOTLINE_HELD_TICKETS_DIR", "")  # set but empty: the default
    assert Settings().held_tickets_dir is None
    monkeypatch.chdir(tmp_path)
    assert held_tickets.spool_root() == tmp_path / "var" / "held-tickets"


def test_explicit_settings_win_and_the_spool_is_written_there(tmp_path, monkeypatch):
    monkeypatch.delenv("HOTLINE_HELD_TICKETS_DIR", raising=False)
    settings = Settings(held_tickets_dir=tmp_path / "explicit")
    assert held_tickets.spool_root(settings) == tmp_path / "explicit"
    # The env-driven spool of an engine lands under the configured root, one directory per database.
    monkeypatch.setenv("HOTLINE_HELD_TICKETS_DIR", str(tmp_path / "env-root"))
    url = f"sqlite:///{tmp_path / 'h.db'}"
    migrate(url)
    database = Database(url)
    spool = held_tickets.spool_for(database.engine)
    assert spool.directory == tmp_path / "env-root" / held_tickets.database_key(url)
    assert spool.hold({"conversation_id": "s1", "urgent_reason": "x"}, "s1") == "file"
    assert [p.name for p in Path(spool.directory).iterdir()] == ["s1.json"]
    database.dispose()
