"""A held case whose ticket cannot be opened (not for the database) is logged by type, masked
first line and place — never the exception's full text, which may carry the case itself."""
from __future__ import annotations

import json

from sqlalchemy.orm import Session

from service.core.db import Database, error_fields, migrate
from service.services import held_tickets
from tests.log_support import capture_json_logs


def test_a_failing_opener_is_logged_without_the_case(tmp_path):
    url = f"sqlite:///{tmp_path / 'l.db'}"
    migrate(url)
    database = Database(url)
    spool = held_tickets.HeldTickets(tmp_path / "spool")
    case = {"conversation_id": "13812345678", "channel": "rest", "urgent_reason": "家里断粮了",
            "facts": {"urgent": True}, "sla_minutes": 30, "held_at": "2022-07-01T00:00:00+00:00"}
    spool.hold(case, "c1")

    def opener(session: Session, held: dict) -> int:
        raise ValueError(f"cannot open for {held['conversation_id']}: {held['urgent_reason']}\n"
                         f"facts={held['facts']}")

    try:
        with capture_json_logs(logger="service.chat") as handler, database.sessionmaker() as s:
            assert spool.drain(s, opener) == []
    finally:
        database.dispose()
    assert spool.pending() == 1  # still held
    [line] = handler.events("chat.held_ticket_error")
    assert line["error"] == "ValueError: cannot open for 138****5678: 家里断粮了"
    assert line["where"].startswith("test_held_tickets_logging.py:") and "held_tickets.py" in line["where"]
    assert "exc" not in line and "facts=" not in json.dumps(handler.lines, ensure_ascii=False)


def test_error_fields_name_the_service_frames_and_the_innermost_one():
    def inner():
        json.loads("{not json")

    try:
        inner()
    except ValueError as exc:
        fields = error_fields(exc)
    assert fields["error"].startswith("JSONDecodeError: Expecting property name")
    assert fields["where"].split(" < ")[0].startswith("decoder.py:")  # where it was raised
