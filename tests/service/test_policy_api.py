"""POST /api/v1/policy/evaluate and the copilot over real HTTP: the contract's shapes, 422s that
name the field, OpenAPI carrying policy_kb's Facts schema."""
from __future__ import annotations

import policy_kb
import pytest

from tests.service.conftest import AS_OF


def test_evaluate_returns_the_contract_shape(client):
    facts = {"county": "西吉", "residence": "rural", "household_size": 4, "statuses": ["dibao"]}
    r = client.post("/api/v1/policy/evaluate", json=facts)
    assert r.status_code == 200, r.text
    ev = r.json()
    assert set(ev) >= {"as_of", "document", "measures", "ask_next", "urgent"}
    assert [m["id"] for m in ev["measures"]] == list(range(1, 21))
    assert ev["as_of"] == AS_OF.isoformat()  # HOTLINE_AS_OF is the service's default day
    # Same answer as the library: the service adds nothing of its own.
    assert ev == policy_kb.evaluate(policy_kb.validate_facts(facts), today=AS_OF)
    assert client.post("/api/v1/policy/evaluate", json={}).status_code == 200  # nothing known is fine


def test_as_of_in_the_facts_wins(client):
    ev = client.post("/api/v1/policy/evaluate", json={"as_of": "2024-03-01"}).json()
    assert ev["as_of"] == "2024-03-01" and ev["document"]["in_force"] is False
    assert {m["status"] for m in ev["measures"]} == {"not_in_force"}


@pytest.mark.parametrize("facts,field", [
    ({"county": "北京市"}, "county"),
    ({"household_size": 0}, "household_size"),
    ({"household_size": "four"}, "household_size"),
    ({"statuses": ["dibao", "millionaire"]}, "statuses[1]"),
    ({"statuses": ["dibao"], "not_statuses": ["dibao"]}, "not_statuses"),
    ({"medical_out_of_pocket": -5}, "medical_out_of_pocket"),
    ({"as_of": "2022-13-45"}, "as_of"),
    ({"urgent": "yes"}, "urgent"),
    ({"favourite_colour": "red"}, "favourite_colour"),
])
def test_bad_facts_are_422_naming_the_field(client, facts, field):
    r = client.post("/api/v1/policy/evaluate", json=facts)
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["field"] == field and field in body["detail"]
    assert body["errors"][0]["field"] == field


@pytest.mark.parametrize("content,needle", [
    (b'{"county": ', "JSON"),
    (b"[1, 2, 3]", "object"),
    (b'"just a string"', "object"),
    (b"", "JSON"),
])
def test_malformed_bodies_are_named(client, content, needle):
    r = client.post("/api/v1/policy/evaluate", content=content, headers={"Content-Type": "application/json"})
    assert r.status_code == 422
    assert needle.lower() in r.json()["detail"].lower()


def test_huge_bodies_are_413(client):
    big = {"urgent_reason": "饿" * 20000}
    r = client.post("/api/v1/policy/evaluate", json=big)
    assert r.status_code == 413 and "16384" in r.json()["detail"]


def test_openapi_documents_facts_from_policy_kb(client):
    doc = client.get("/openapi.json").json()
    facts = doc["components"]["schemas"]["Facts"]
    assert set(policy_kb.facts_schema()["properties"]) == set(facts["properties"])
    body = doc["paths"]["/api/v1/policy/evaluate"]["post"]["requestBody"]["content"]["application/json"]
    assert body["schema"] == {"$ref": "#/components/schemas/Facts"}
    for path in ("/api/v1/copilot/analyze", "/webhooks/rest/webhook", "/api/v1/conversations/{sender}",
                 "/api/v1/auth/token", "/api/v1/tickets", "/api/v1/tickets/{ticket_id}", "/healthz"):
        assert path in doc["paths"], path
    assert client.get("/docs").status_code == 200


# --- copilot -------------------------------------------------------------------------------
def test_copilot_needs_a_token(client):
    assert client.post("/api/v1/copilot/analyze", json={"text": "西吉"}).status_code == 401


def test_copilot_merges_the_text_over_given_facts(client, users):
    r = client.post("/api/v1/copilot/analyze", headers=users["agent1"], json={
        "text": "来电人说住在西吉县，家里4口人，是低保户",
        "facts": {"county": "原州区", "residence": "rural", "household_size": 2}})
    assert r.status_code == 200, r.text
    out = r.json()
    # What the text says wins; what only the body knew stays.
    assert out["facts"]["county"] == "西吉县" and out["facts"]["household_size"] == 4
    assert out["facts"]["residence"] == "rural" and "dibao" in out["facts"]["statuses"]
    assert [m["id"] for m in out["evaluation"]["measures"]] == list(range(1, 21))
    assert out["evaluation"] == policy_kb.evaluate(out["facts"], today=AS_OF)
    assert [q["field"] for q in out["ask_next"]] == out["evaluation"]["ask_next"]
    assert all(q["question"] == policy_kb.question_for(q["field"]) for q in out["ask_next"])
    assert out["suggested_reply"] == policy_kb.summarize(out["evaluation"])
    assert 0 < len(out["suggested_reply"]) <= 300 and out["urgent"] is False


def test_copilot_combines_the_sentences_of_a_note(client, users):
    out = client.post("/api/v1/copilot/analyze", headers=users["agent1"], json={
        "text": "来电人在银川工地干活。工地停了。从4月10号起没收入。海原县人，非低保", "as_of": "2022-07-01"}).json()
    facts = out["facts"]
    assert facts["employment"] == "unemployed_migrant_worker" and facts["months_without_income"] == 2
    assert facts["county"] == "海原县" and "dibao" in facts["not_statuses"]
    m5 = next(m for m in out["evaluation"]["measures"] if m["id"] == 5)
    assert m5["status"] == "not_eligible"  # two whole months since 4月10号: not yet the 3 months measure 5 asks


def test_copilot_reads_a_relatives_case(client, users):
    out = client.post("/api/v1/copilot/analyze", headers=users["agent1"], json={
        "text": "我大伯是西吉县的低保户，一家三口。我在银川上班"}).json()
    assert out["facts"]["county"] == "西吉县" and out["facts"]["household_size"] == 3
    assert "dibao" in out["facts"]["statuses"]


def test_copilot_flags_urgency_and_honours_as_of(client, users):
    out = client.post("/api/v1/copilot/analyze", headers=users["xiji"],
                      json={"text": "家里断粮了，两天没吃饭", "as_of": "2022-08-01"}).json()
    assert out["urgent"] is True and out["facts"]["urgent"] is True
    assert out["facts"]["as_of"] == "2022-08-01" and out["evaluation"]["as_of"] == "2022-08-01"


@pytest.mark.parametrize("body,field", [
    ({"text": "x", "facts": {"county": "火星"}}, "facts.county"),
    ({"text": "x", "facts": {"statuses": ["nope"]}}, "facts.statuses[0]"),
    ({"text": 5}, "text"),
    ({"text": "x", "as_of": "yesterday"}, "as_of"),
    ({"text": "x", "mood": "sad"}, "mood"),
    ({"text": "字" * 2001}, "text"),
])
def test_copilot_bad_input(client, users, body, field):
    r = client.post("/api/v1/copilot/analyze", headers=users["agent1"], json=body)
    assert r.status_code == 422, r.text
    assert r.json()["field"] == field


def test_chunked_bodies_cannot_slip_past_the_limit(client):
    def chunks():
        for _ in range(40):
            yield b" " * 1024  # 40 KiB of whitespace, no Content-Length
        yield b"{}"

    r = client.post("/api/v1/policy/evaluate", content=chunks(), headers={"Content-Type": "application/json"})
    assert r.status_code == 413
