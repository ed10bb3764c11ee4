"""§4: the agents' copilot, the REST chat channel (no Rasa running: a fallback answer of the
documented shape) and the conversation view."""
from __future__ import annotations

import json
import uuid
from urllib.parse import quote

import pytest

from tests.contract.conftest import AS_OF
from tests.contract.vocabulary import check_evaluation, check_ticket, is_fact_name, known_names, names_field

ANALYZE = "/api/v1/copilot/analyze"
WEBHOOK = "/webhooks/rest/webhook"
URGENT = "我在西吉县，已经两天没吃饭了，身上一分钱都没有，回不了家。"


def test_analyze_answers_the_documented_shape(http, auth):
    r = http.post(ANALYZE, json={"text": "我家在西吉县农村，三口人，是低保户"}, headers=auth["agent1"])
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) >= {"facts", "evaluation", "ask_next", "urgent", "suggested_reply"}, sorted(body)
    facts = body["facts"]
    assert facts["county"] == "西吉县"
    assert facts["household_size"] == 3
    assert "dibao" in facts["statuses"]
    check_evaluation(body["evaluation"], as_of=AS_OF, facts=facts)
    assert isinstance(body["urgent"], bool) and body["urgent"] is False
    assert isinstance(body["suggested_reply"], str) and body["suggested_reply"]
    assert body["ask_next"], "the residence-less household still has questions"
    for item in body["ask_next"]:
        assert set(item) >= {"field", "question"}, item
        assert is_fact_name(item["field"]), item
        assert item["field"] not in known_names(facts), item
        assert isinstance(item["question"], str) and item["question"], item
    # the questions are the evaluation's ask_next, in its order
    fields = [i["field"] for i in body["ask_next"]]
    assert fields == body["evaluation"]["ask_next"][:len(fields)]


def test_body_facts_are_merged_under_the_text(http, auth):
    given = {"county": "原州区", "household_size": 4, "residence": "urban", "age": 70}
    r = http.post(ANALYZE, json={"text": "我现在在西吉县，家里就两口人", "facts": given}, headers=auth["agent1"])
    assert r.status_code == 200, r.text
    facts = r.json()["facts"]
    assert facts["county"] == "西吉县"      # the text wins
    assert facts["household_size"] == 2
    assert facts["residence"] == "urban"   # the body fills what the text does not say
    assert facts["age"] == 70


def test_body_facts_alias_comes_back_canonical(http, auth):
    r = http.post(ANALYZE, json={"text": "您好", "facts": {"county": "西吉"}}, headers=auth["agent1"])
    assert r.status_code == 200, r.text
    assert r.json()["facts"]["county"] == "西吉县"


def test_as_of_in_the_body_is_the_evaluation_day(http, auth):
    r = http.post(ANALYZE, json={"text": "我家是低保户，三口人", "as_of": "2024-01-01"}, headers=auth["agent1"])
    assert r.status_code == 200, r.text
    ev = r.json()["evaluation"]
    assert ev["as_of"] == "2024-01-01"
    assert {m["status"] for m in ev["measures"]} == {"not_in_force"}


def test_urgent_text_is_urgent(http, auth):
    body = http.post(ANALYZE, json={"text": URGENT}, headers=auth["agent1"]).json()
    assert body["urgent"] is True
    assert body["evaluation"]["urgent"] is True


@pytest.mark.parametrize("payload,field", [
    ({"text": 5}, "text"),
    ({"text": "你好", "facts": {"county": "朝阳区"}}, "county"),
    ({"text": "你好", "facts": {"household_size": -3}}, "household_size"),
    ({"text": "你好", "facts": {"statuses": ["dibao"], "not_statuses": ["dibao"]}}, "statuses"),
    ({"text": "你好", "as_of": "2022-02-30"}, "as_of"),
])
def test_analyze_bad_input_is_422_naming_the_field(http, auth, payload, field):
    r = http.post(ANALYZE, json=payload, headers=auth["agent1"])
    assert r.status_code == 422, (r.status_code, r.text)
    assert names_field(r, field), r.text


def test_analyze_needs_a_token(http):
    assert http.post(ANALYZE, json={"text": "你好"}).status_code == 401


# ---------------------------------------------------------------- REST channel
def test_webhook_is_open_and_answers_rasa_shape_without_rasa(http):
    sender = f"contract-{uuid.uuid4().hex[:8]}"
    r = http.post(WEBHOOK, json={"sender": sender, "message": "你好，我想问问低保"})
    assert r.status_code == 200, r.text
    messages = r.json()
    assert isinstance(messages, list) and messages
    for m in messages:
        assert set(m) >= {"recipient_id", "text"}, m
        assert m["recipient_id"] == sender
        assert isinstance(m["text"], str) and m["text"]


@pytest.mark.parametrize("headers", [{}, {"Content-Type": "application/x-www-form-urlencoded"},
                                     {"Content-Type": "text/plain; charset=utf-8"}])
def test_webhook_reads_json_whatever_the_content_type_as_rasa_does(http, headers):
    # Rasa's REST channel parses the body as JSON without looking at Content-Type: a client
    # written against Rasa (curl -d without -H, a bare POST) must work here too.
    body = json.dumps({"sender": "ctype", "message": "你好"}, ensure_ascii=False).encode()
    r = http.post(WEBHOOK, content=body, headers=headers)
    assert r.status_code == 200, (headers, r.status_code, r.text)
    assert r.json() and r.json()[0]["recipient_id"] == "ctype"


def test_webhook_malformed_json_is_still_422(http):
    r = http.post(WEBHOOK, content=b"sender=x&message=hi", headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 422, (r.status_code, r.text)


@pytest.mark.parametrize("payload", [{"sender": "x"}, {"message": "你好"}, {"sender": 1, "message": "你好"}])
def test_webhook_bad_body_is_422(http, payload):
    r = http.post(WEBHOOK, json=payload)
    assert r.status_code == 422, (r.status_code, r.text)


def test_urgent_chat_opens_a_ticket_seen_in_the_conversation(http, auth):
    sender = f"contract-{uuid.uuid4().hex[:8]}"
    r = http.post(WEBHOOK, json={"sender": sender, "message": URGENT})
    assert r.status_code == 200, r.text
    assert all(m["recipient_id"] == sender and m["text"] for m in r.json())

    view = http.get(f"/api/v1/conversations/{sender}", headers=auth["agent1"])
    assert view.status_code == 200, view.text
    body = view.json()
    assert set(body) >= {"facts", "evaluation", "tickets"}, sorted(body)
    assert body["facts"]["county"] == "西吉县"
    check_evaluation(body["evaluation"], as_of=AS_OF, facts=body["facts"])
    assert body["evaluation"]["urgent"] is True
    assert len(body["tickets"]) == 1
    ticket = body["tickets"][0]
    check_ticket(ticket)
    assert ticket["source"] == "rest"
    assert ticket["conversation_id"] == sender
    assert ticket["county"] == "西吉县"
    assert ticket["status"] == "open"

    # the county's officer sees it; another county's does not; no token: 401
    assert http.get(f"/api/v1/conversations/{sender}", headers=auth["xiji"]).status_code == 200
    assert http.get(f"/api/v1/conversations/{sender}", headers=auth["yuanzhou"]).status_code in (403, 404)
    assert http.get(f"/api/v1/conversations/{sender}").status_code == 401
    assert http.get(f"/api/v1/conversations/{sender}", headers=auth["admin"]).status_code == 200


def test_conversation_facts_accumulate_over_turns(http, auth):
    sender = f"contract-{uuid.uuid4().hex[:8]}"
    http.post(WEBHOOK, json={"sender": sender, "message": "我在固原市原州区"})
    http.post(WEBHOOK, json={"sender": sender, "message": "家里四口人，是低保户"})
    body = http.get(f"/api/v1/conversations/{sender}", headers=auth["agent1"]).json()
    assert body["facts"]["county"] == "原州区"
    assert body["facts"]["household_size"] == 4
    assert "dibao" in body["facts"]["statuses"]
    assert body["tickets"] == []


@pytest.mark.parametrize("sender", ["张三", "o6_bmjrPTlm6_2sgVt7hMZOPfL2M", "user@example.com", "a b+c"])
def test_any_sender_id_round_trips(http, auth, sender):
    # Rasa takes any string as a sender id; the conversation view must find it again.
    r = http.post(WEBHOOK, json={"sender": sender, "message": "我在西吉县"})
    assert r.status_code == 200, r.text
    assert r.json()[0]["recipient_id"] == sender
    view = http.get(f"/api/v1/conversations/{quote(sender, safe='')}", headers=auth["agent1"])
    assert view.status_code == 200, (sender, view.status_code, view.text)
    assert view.json()["facts"]["county"] == "西吉县"


def test_empty_message_still_gets_an_answer(http):
    r = http.post(WEBHOOK, json={"sender": "empty-msg", "message": ""})
    assert r.status_code in (200, 422), r.text
    if r.status_code == 200:
        assert all(m["recipient_id"] == "empty-msg" for m in r.json())


def test_unknown_conversation_is_404(http, auth):
    assert http.get("/api/v1/conversations/nobody-ever-wrote", headers=auth["agent1"]).status_code == 404
