"""Tickets over real HTTP on SQLite and PostgreSQL: creation, idempotency, statuses, history,
paperwork, SLA, county boundaries, masking, bad input leaving the database unchanged."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import text

from service.models.ticket import TicketEvent
from tests.service.conftest import URGENT_TEXT, open_ticket, row_counts, snapshot


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request):
    return request.getfixturevalue(f"{request.param}_url")


def test_bot_opens_a_ticket_with_paperwork_sla_and_history(client, users, db):
    r = open_ticket(client, users["bot"], key="conv-1:abc")
    assert r.status_code == 201, r.text
    t = r.json()
    assert t["status"] == "open" and t["county"] == "西吉县" and t["source"] == "rest"
    assert t["conversation_id"] == "conv-1" and t["created_by"] == "bot"
    assert t["overdue"] is False and t["first_action_at"] is None and t["sla_due_at"] > t["created_at"]
    assert [i["code"] for i in t["paperwork"]][:3] == ["id_proof", "written_application", "household_finances"]
    assert any("身份证明" in label for label in t["paperwork_outstanding"])
    assert t["history"][0]["action"] == "created" and t["history"][0]["actor"] == "bot"
    # The bot gets the masked view; the county's own officer sees the ID number in full.
    assert "642222199001011234" not in r.text and "13812345678" not in r.text
    detail = client.get(f"/api/v1/tickets/{t['id']}", headers=users["xiji"]).json()
    assert "642222199001011234" in detail["urgent_reason"] and "13812345678" in detail["urgent_reason"]
    assert row_counts(db)["outbox"] == 1  # the notification was written with the ticket


def test_urgent_reason_may_come_in_the_facts(client, users):
    r = client.post("/api/v1/tickets", headers=users["agent1"], json={
        "facts": {"county": "隆德", "urgent": True, "urgent_reason": "老人独居，煤没了"}})
    assert r.status_code == 201 and r.json()["urgent_reason"] == "老人独居，煤没了"
    assert r.json()["county"] == "隆德县" and r.json()["source"] == "agent"


def test_same_conversation_and_reason_is_the_same_ticket(client, users, db):
    first = open_ticket(client, users["bot"]).json()
    again = open_ticket(client, users["bot"], reason="  " + URGENT_TEXT + " ")  # whitespace differs
    assert again.status_code == 201 and again.json()["id"] == first["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    other = open_ticket(client, users["bot"], reason="家里老人摔倒了，没人照顾")
    assert other.json()["id"] != first["id"]
    assert row_counts(db)["tickets"] == 2 and row_counts(db)["outbox"] == 2


def test_idempotency_key_is_honoured_and_conflicts_are_named(client, users, db):
    a = open_ticket(client, users["agent1"], conversation_id=None, key="k-1")
    b = open_ticket(client, users["agent1"], conversation_id=None, key="k-1")
    assert a.status_code == b.status_code == 201 and a.json()["id"] == b.json()["id"]
    before = snapshot(db)
    c = open_ticket(client, users["agent1"], conversation_id=None, key="k-1", reason="另一件事")
    assert c.status_code == 409 and "Idempotency-Key" in c.json()["detail"]
    assert snapshot(db) == before


def test_concurrent_identical_requests_open_one_ticket(client, users, db):
    results = []

    def go():
        results.append(open_ticket(client, users["bot"], conversation_id="race").json()["id"])

    threads = [threading.Thread(target=go) for _ in range(6)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len(set(results)) == 1 and len(results) == 6
    assert row_counts(db)["tickets"] == 1


def test_status_moves_forward_and_illegal_moves_are_409(client, users, db):
    tid = open_ticket(client, users["bot"]).json()["id"]
    h = users["xiji"]
    r = client.patch(f"/api/v1/tickets/{tid}", json={"status": "assisted"}, headers=h)
    assert r.status_code == 409 and "open → assisted" in r.json()["detail"]
    r = client.patch(f"/api/v1/tickets/{tid}", json={"status": "acknowledged", "note": "已电话联系"}, headers=h)
    assert r.status_code == 200 and r.json()["status"] == "acknowledged"
    assert r.json()["first_action_at"] is not None
    assert client.patch(f"/api/v1/tickets/{tid}", json={"status": "assisted"}, headers=h).json()["status"] == "assisted"
    r = client.patch(f"/api/v1/tickets/{tid}", json={"status": "open"}, headers=h)
    assert r.status_code == 409 and "assisted → open" in r.json()["detail"]
    r = client.patch(f"/api/v1/tickets/{tid}", json={"status": "closed"}, headers=users["agent1"])
    assert r.json()["status"] == "closed" and r.json()["closed_at"]
    r = client.patch(f"/api/v1/tickets/{tid}", json={"status": "acknowledged"}, headers=h)
    assert r.status_code == 409 and "closed → acknowledged" in r.json()["detail"]
    history = client.get(f"/api/v1/tickets/{tid}", headers=h).json()["history"]
    assert [(e["action"], e["actor"]) for e in history] == [
        ("created", "bot"), ("status", "xiji"), ("note", "xiji"), ("status", "xiji"), ("status", "agent1")]
    assert history[1]["detail"] == {"from": "open", "to": "acknowledged"}


def test_closing_without_help_needs_a_note(client, users):
    tid = open_ticket(client, users["bot"]).json()["id"]
    r = client.patch(f"/api/v1/tickets/{tid}", json={"status": "closed"}, headers=users["agent1"])
    assert r.status_code == 422 and r.json()["field"] == "note"
    r = client.patch(f"/api/v1/tickets/{tid}", json={"status": "closed", "note": "重复来电，已合并"},
                     headers=users["agent1"])
    assert r.status_code == 200 and r.json()["status"] == "closed"


def test_paperwork_items_are_ticked(client, users, db):
    tid = open_ticket(client, users["bot"]).json()["id"]
    r = client.patch(f"/api/v1/tickets/{tid}", json={"paperwork": {"id_proof": True, "written_application": True}},
                     headers=users["xiji"])
    assert r.status_code == 200
    items = {i["code"]: i for i in r.json()["paperwork"]}
    assert items["id_proof"]["done"] and items["id_proof"]["done_by"] == "xiji"
    assert not items["household_finances"]["done"]
    assert not any("身份证明" in x for x in r.json()["paperwork_outstanding"])
    assert r.json()["history"][-1] == {**r.json()["history"][-1], "action": "paperwork",
                                       "detail": {"id_proof": True, "written_application": True}}
    before = snapshot(db)
    r = client.patch(f"/api/v1/tickets/{tid}", json={"paperwork": {"passport": True}}, headers=users["xiji"])
    assert r.status_code == 422 and r.json()["field"] == "paperwork.passport"
    assert snapshot(db) == before


def test_sla_overdue_is_flagged_and_filterable(client, users, db):
    late = open_ticket(client, users["bot"], conversation_id="late").json()["id"]
    fresh = open_ticket(client, users["bot"], conversation_id="fresh").json()["id"]
    with db.engine.begin() as c:  # an hour ago, well past the 30-minute first-action deadline
        c.execute(text("UPDATE tickets SET created_at = :t, sla_due_at = :d WHERE id = :i"),
                  {"t": _ago(db, 90), "d": _ago(db, 60), "i": late})
    listed = {t["id"]: t for t in client.get("/api/v1/tickets", headers=users["agent1"]).json()}
    assert listed[late]["overdue"] is True and listed[fresh]["overdue"] is False
    only = client.get("/api/v1/tickets", params={"overdue": "true"}, headers=users["agent1"]).json()
    assert [t["id"] for t in only] == [late]
    # Acting late keeps the ticket flagged: the deadline was missed.
    client.patch(f"/api/v1/tickets/{late}", json={"status": "acknowledged"}, headers=users["xiji"])
    assert client.get(f"/api/v1/tickets/{late}", headers=users["xiji"]).json()["overdue"] is True


def _ago(db, minutes):
    from service.models.base import utcnow

    t = utcnow() - timedelta(minutes=minutes)
    return t.replace(tzinfo=None) if db.engine.dialect.name == "sqlite" else t


def test_county_officer_sees_only_their_county(client, users, db):
    xi = open_ticket(client, users["bot"], conversation_id="c-xiji").json()["id"]
    yz = open_ticket(client, users["bot"], conversation_id="c-yz", county="原州区").json()["id"]
    assert [t["id"] for t in client.get("/api/v1/tickets", headers=users["xiji"]).json()] == [xi]
    assert {t["id"] for t in client.get("/api/v1/tickets", headers=users["admin"]).json()} == {xi, yz}
    assert {t["id"] for t in client.get("/api/v1/tickets", headers=users["agent1"]).json()} == {xi, yz}
    # Another county's ticket does not exist for this officer: 404, and it cannot be changed.
    before = snapshot(db)
    assert client.get(f"/api/v1/tickets/{yz}", headers=users["xiji"]).status_code == 404
    assert client.patch(f"/api/v1/tickets/{yz}", json={"status": "acknowledged"},
                        headers=users["xiji"]).status_code == 404
    assert client.get(f"/api/v1/tickets/{yz}", headers=users["xiji"]).json()["detail"] == \
        client.get("/api/v1/tickets/999999", headers=users["xiji"]).json()["detail"].replace("999999", str(yz))
    assert snapshot(db) == before
    # Filtering by another county shows nothing, not an error that confirms anything.
    assert client.get("/api/v1/tickets", params={"county": "原州"}, headers=users["xiji"]).json() == []
    assert [t["id"] for t in client.get("/api/v1/tickets", params={"county": "原州"},
                                        headers=users["admin"]).json()] == [yz]
    # Officers cannot open tickets for another county nor reassign.
    r = open_ticket(client, users["xiji"], county="原州区", conversation_id="x")
    assert r.status_code == 403
    r = client.patch(f"/api/v1/tickets/{xi}", json={"county": "原州区"}, headers=users["xiji"])
    assert r.status_code == 403 and snapshot(db) == before
    r = client.patch(f"/api/v1/tickets/{xi}", json={"county": "原州"}, headers=users["agent1"])
    assert r.status_code == 200 and r.json()["county"] == "原州区"
    assert client.get(f"/api/v1/tickets/{xi}", headers=users["xiji"]).status_code == 404


def test_lists_are_masked_details_are_not(client, users):
    tid = open_ticket(client, users["bot"]).json()["id"]
    client.patch(f"/api/v1/tickets/{tid}", json={"note": "回拨 13912345678 无人接"}, headers=users["xiji"])
    listing = client.get("/api/v1/tickets", headers=users["admin"])
    assert "642222199001011234" not in listing.text and "13812345678" not in listing.text
    assert "138****5678" in listing.text
    detail = client.get(f"/api/v1/tickets/{tid}", headers=users["admin"])
    assert "13912345678" in detail.text and "642222199001011234" in detail.text


def test_roles_and_tokens(client, users, db):
    assert client.get("/api/v1/tickets").status_code == 401
    assert client.post("/api/v1/tickets", json={"urgent_reason": "x"}).status_code == 401
    assert client.get("/api/v1/tickets", headers={"Authorization": "Bearer nonsense"}).status_code == 401
    tid = open_ticket(client, users["bot"]).json()["id"]
    # The bot token may open tickets, nothing else.
    assert client.get("/api/v1/tickets", headers=users["bot"]).status_code == 403
    assert client.get(f"/api/v1/tickets/{tid}", headers=users["bot"]).status_code == 403
    assert client.patch(f"/api/v1/tickets/{tid}", json={"note": "x"}, headers=users["bot"]).status_code == 403
    assert client.post("/api/v1/copilot/analyze", json={"text": "x"}, headers=users["bot"]).status_code == 403


@pytest.mark.parametrize("body,field", [
    ({"urgent_reason": "没饭吃", "county": "北京市"}, "county"),
    ({"urgent_reason": "没饭吃", "facts": {"county": "火星"}}, "facts.county"),
    ({"urgent_reason": "没饭吃", "facts": {"household_size": "四"}}, "facts.household_size"),
    ({"urgent_reason": "没饭吃", "facts": {"statuses": ["rich"]}}, "facts.statuses[0]"),
    ({"urgent_reason": "没饭吃", "facts": {"shoe_size": 42}}, "facts.shoe_size"),
    ({"urgent_reason": 12}, "urgent_reason"),
    ({"urgent_reason": ""}, "urgent_reason"),
    ({"urgent_reason": "   "}, "urgent_reason"),
    ({"county": "西吉县"}, "urgent_reason"),
    ({"urgent_reason": "没饭吃", "priority": "high"}, "priority"),
    ({"urgent_reason": "没饭吃", "source": "fax"}, "source"),
    ({"urgent_reason": "没饭吃", "facts": [1, 2]}, "facts"),
])
def test_bad_ticket_input_is_named_and_changes_nothing(client, users, db, body, field):
    open_ticket(client, users["bot"])  # something stored already
    before = snapshot(db)
    r = client.post("/api/v1/tickets", json=body, headers=users["agent1"])
    assert r.status_code == 422, r.text
    assert r.json()["field"] == field and field in r.json()["detail"]
    assert snapshot(db) == before


def test_malformed_json_huge_bodies_and_bad_patches_change_nothing(client, users, db):
    tid = open_ticket(client, users["bot"]).json()["id"]
    before = snapshot(db)
    h = {**users["agent1"], "Content-Type": "application/json"}
    r = client.post("/api/v1/tickets", content=b'{"urgent_reason": "x",', headers=h)
    assert r.status_code == 422 and "JSON" in r.json()["detail"]
    r = client.post("/api/v1/tickets", content=b'{"urgent_reason": "' + b"x" * 40000 + b'"}', headers=h)
    assert r.status_code == 413 and "16384" in r.json()["detail"]
    r = client.patch(f"/api/v1/tickets/{tid}", json={"status": "done"}, headers=h)
    assert r.status_code == 422 and r.json()["field"] == "status"
    r = client.patch(f"/api/v1/tickets/{tid}", json={"colour": "red"}, headers=h)
    assert r.status_code == 422 and r.json()["field"] == "colour"
    r = client.patch(f"/api/v1/tickets/{tid}", json={}, headers=h)
    assert r.status_code == 422
    r = client.patch(f"/api/v1/tickets/{tid}", json={"county": "纽约"}, headers=h)
    assert r.status_code == 422 and r.json()["field"] == "county"
    r = client.get("/api/v1/tickets", params={"status": "lost"}, headers=h)
    assert r.status_code == 422 and r.json()["field"] == "status"
    r = client.get("/api/v1/tickets", params={"county": "上海"}, headers=h)
    assert r.status_code == 422 and r.json()["field"] == "county"
    assert client.get("/api/v1/tickets/abc", headers=h).status_code == 422
    assert snapshot(db) == before


def test_history_is_append_only(client, users, db):
    tid = open_ticket(client, users["bot"]).json()["id"]
    with db.sessionmaker() as s:
        ev = s.query(TicketEvent).filter_by(ticket_id=tid).first()
        ev.actor = "someone else"
        with pytest.raises(RuntimeError, match="append-only"):
            s.commit()
        s.rollback()
        with pytest.raises(RuntimeError, match="append-only"):
            s.delete(s.query(TicketEvent).filter_by(ticket_id=tid).first())
            s.commit()


def test_a_replay_never_reveals_another_countys_ticket(client, users, db):
    open_ticket(client, users["bot"], county="原州区", conversation_id="yz-1", key="yz-key")
    r = open_ticket(client, users["xiji"], county="西吉县", conversation_id="other", key="yz-key")
    assert r.status_code == 409 and "原州" not in r.text
    r = open_ticket(client, users["xiji"], county="原州区", conversation_id="yz-1")
    assert r.status_code == 409 and "原州" not in r.text and row_counts(db)["tickets"] == 1
