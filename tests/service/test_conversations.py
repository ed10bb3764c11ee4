"""GET /api/v1/conversations/{sender}: facts from Rasa's tracker (or the service's own record
when Rasa is down), the evaluation, the conversation's tickets; masking; county boundaries."""
from __future__ import annotations

import policy_kb

from service.core.privacy import mask_data
from tests.service.conftest import AS_OF, open_ticket

ID = "642222199001011234"


def test_facts_come_from_rasas_facts_slot(client, fake_rasa, users):
    fake_rasa.slots["w1"] = {"facts": {"county": "西吉县", "household_size": 3, "statuses": ["dibao"],
                                       "urgent_reason": f"没钱吃饭 身份证{ID}"}}
    tid = open_ticket(client, users["bot"], conversation_id="w1").json()["id"]
    r = client.get("/api/v1/conversations/w1", headers=users["agent1"])
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["facts_source"] == "rasa" and out["facts"]["household_size"] == 3
    assert ID not in r.text and "6422**********1234" in out["facts"]["urgent_reason"]  # masked view
    clean = policy_kb.validate_facts(fake_rasa.slots["w1"]["facts"])
    assert out["evaluation"] == mask_data(policy_kb.evaluate(clean, today=AS_OF))
    assert [t["id"] for t in out["tickets"]] == [tid]


def test_the_services_record_is_used_when_rasa_is_down(client, fake_rasa, users):
    client.post("/webhooks/rest/webhook", json={"sender": "w2", "message": "我在原州区，家里5口人"})
    fake_rasa.up = False
    out = client.get("/api/v1/conversations/w2", headers=users["admin"]).json()
    assert out["facts_source"] == "service"
    assert out["facts"]["county"] == "原州区" and out["facts"]["household_size"] == 5
    assert len(out["evaluation"]["measures"]) == 20 and out["tickets"] == []


def test_county_officers_see_only_conversations_with_their_countys_tickets(client, fake_rasa, users):
    fake_rasa.slots["w3"] = {"facts": {"county": "西吉县"}}
    fake_rasa.slots["w4"] = {"facts": {"county": "原州区"}}
    client.post("/webhooks/rest/webhook", json={"sender": "w5", "message": "我在西吉"})  # no ticket
    open_ticket(client, users["bot"], conversation_id="w3")
    open_ticket(client, users["bot"], conversation_id="w4", county="原州区")
    assert client.get("/api/v1/conversations/w3", headers=users["xiji"]).status_code == 200
    assert client.get("/api/v1/conversations/w4", headers=users["xiji"]).status_code == 404
    assert client.get("/api/v1/conversations/w5", headers=users["xiji"]).status_code == 404
    assert client.get("/api/v1/conversations/w4", headers=users["yuanzhou"]).status_code == 200
    assert client.get("/api/v1/conversations/w5", headers=users["agent1"]).status_code == 200


def test_unknown_conversation_and_access(client, fake_rasa, users):
    assert client.get("/api/v1/conversations/nobody", headers=users["admin"]).status_code == 404
    assert client.get("/api/v1/conversations/w1").status_code == 401
    assert client.get("/api/v1/conversations/w1", headers=users["bot"]).status_code == 403
