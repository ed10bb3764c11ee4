"""The REST chat channel: proxied to Rasa with channel metadata, a safe fallback when Rasa is
down or silent, urgent messages still opening a ticket; the real HTTP Rasa client against a
local stand-in server and a closed port."""
from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from service.services.chat import FALLBACK_TEXT
from service.services.rasa import HttpRasaClient, RasaUnavailable
from tests.service.conftest import BOTH, row_counts, snapshot

URGENT = "我在西吉县，已经两天没吃饭了，身上一分钱都没有，回不了家"


def chat(client, sender, message):
    return client.post("/webhooks/rest/webhook", json={"sender": sender, "message": message})


def test_turns_are_forwarded_to_rasa_with_channel_metadata(client, fake_rasa):
    fake_rasa.reply = lambda s, m, md: [{"recipient_id": s, "text": "您好，请问您住在哪个县？"},
                                        {"recipient_id": s, "buttons": [{"title": "西吉县", "payload": "西吉县"}]}]
    r = chat(client, "u1", "你好")
    assert r.status_code == 200
    assert r.json()[0] == {"recipient_id": "u1", "text": "您好，请问您住在哪个县？"}
    assert r.json()[1]["buttons"][0]["title"] == "西吉县"
    assert fake_rasa.calls == [("u1", "你好", {"channel": "rest"})]


@pytest.mark.parametrize("mode", ["down", "silent"])
def test_fallback_when_rasa_is_down_or_silent(client, fake_rasa, db, mode):
    if mode == "down":
        fake_rasa.up = False
    else:
        fake_rasa.reply = lambda *a: []
    r = chat(client, "u2", "我想问问低保")
    assert r.status_code == 200
    assert r.json() == [{"recipient_id": "u2", "text": FALLBACK_TEXT}]
    assert "12345" in r.json()[0]["text"]
    assert row_counts(db)["tickets"] == 0


def test_urgent_message_opens_a_ticket_when_rasa_is_down(client, fake_rasa, db, users):
    fake_rasa.up = False
    r = chat(client, "u3", URGENT)
    assert r.status_code == 200
    text = r.json()[0]["text"]
    assert "12345" in text and "工单" in text and "西吉县" in text
    tickets = client.get("/api/v1/tickets", headers=users["xiji"]).json()
    assert len(tickets) == 1
    t = tickets[0]
    assert t["conversation_id"] == "u3" and t["source"] == "rest" and t["county"] == "西吉县"
    assert str(t["id"]) in text
    # The caller repeats the same words: still one ticket.
    chat(client, "u3", URGENT)
    assert row_counts(db)["tickets"] == 1


def test_urgent_without_county_still_gets_a_ticket_for_agents(client, fake_rasa, users):
    fake_rasa.up = False
    r = chat(client, "u4", "家里断粮了，孩子饿得直哭")
    assert "12345" in r.json()[0]["text"]
    [t] = client.get("/api/v1/tickets", headers=users["agent1"]).json()
    assert t["county"] is None and t["conversation_id"] == "u4"
    assert client.get("/api/v1/tickets", headers=users["xiji"]).json() == []


def test_facts_accumulate_across_turns_in_the_services_record(client, fake_rasa, users):
    fake_rasa.up = False
    chat(client, "u5", "我住在西吉")
    chat(client, "u5", "家里4口人，是低保户")
    conv = client.get("/api/v1/conversations/u5", headers=users["agent1"]).json()
    assert conv["facts_source"] == "service"
    assert conv["facts"]["county"] == "西吉县" and conv["facts"]["household_size"] == 4


def test_the_services_record_reads_turns_through_the_case_file(client, fake_rasa, users):
    fake_rasa.up = False
    chat(client, "u6", "俺在银川一个工地上干活")
    chat(client, "u6", "工地停了，俺是海原县的")
    facts = client.get("/api/v1/conversations/u6", headers=users["agent1"]).json()["facts"]
    assert facts["employment"] == "unemployed_migrant_worker" and facts["county"] == "海原县"
    # a supposed emergency opens nothing
    chat(client, "u6", "万一哪天没吃的了咋办")
    assert client.get("/api/v1/tickets", headers=users["agent1"]).json() == []


def test_an_urgent_ticket_goes_where_the_emergency_is(client, fake_rasa, users):
    fake_rasa.up = False
    r = chat(client, "u7", "我是西吉的，现在困在青铜峡火车站，钱被偷了回不了家")
    [t] = client.get("/api/v1/tickets", headers=users["agent1"]).json()
    assert t["county"] == "青铜峡市" and "青铜峡市" in r.json()[0]["text"]


@pytest.mark.parametrize("body,field", [
    ({"message": "hi"}, "sender"),
    ({"sender": "", "message": "hi"}, "sender"),
    ({"sender": "u", "message": 3}, "message"),
    ({"sender": "u", "message": "hi", "extra": 1}, "extra"),
    ({"sender": "u", "message": "字" * 2001}, "message"),
])
def test_bad_chat_input(client, db, body, field):
    before = snapshot(db)
    r = client.post("/webhooks/rest/webhook", json=body)
    assert r.status_code == 422 and r.json()["field"] == field
    assert snapshot(db) == before


# --- the real HTTP client ------------------------------------------------------------------
class _Rasa(BaseHTTPRequestHandler):
    seen: list = []

    def log_message(self, *a):
        pass

    def _json(self, code, data):
        body = json.dumps(data).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        data = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        _Rasa.seen.append((self.path, data))
        if data["message"] == "boom":
            return self._json(500, {"error": "x"})
        self._json(200, [{"recipient_id": data["sender"], "text": "好的"}])

    def do_GET(self):
        if self.path.startswith("/conversations/"):
            return self._json(200, {"slots": {"facts": {"county": "隆德县"}}})
        self._json(200, {"status": "ok"})


@pytest.fixture
def rasa_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Rasa)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Rasa.seen = []
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_http_client_speaks_rasas_rest_channel(rasa_server):
    c = HttpRasaClient(rasa_server, rasa_server, timeout=2)
    assert c.send_message("s/1", "你好", {"channel": "rest"}) == [{"recipient_id": "s/1", "text": "好的"}]
    path, body = _Rasa.seen[0]
    assert path == "/webhooks/rest/webhook" and body == {"sender": "s/1", "message": "你好",
                                                         "metadata": {"channel": "rest"}}
    assert c.tracker("s/1")["slots"]["facts"] == {"county": "隆德县"}
    assert c.rasa_health()["up"] and c.action_server_health()["up"]
    with pytest.raises(RasaUnavailable):
        c.send_message("s", "boom", {})
    dead = HttpRasaClient(f"http://127.0.0.1:{_closed_port()}", f"http://127.0.0.1:{_closed_port()}",
                          timeout=1, health_timeout=0.5)
    with pytest.raises(RasaUnavailable):
        dead.send_message("s", "hi", {})
    assert dead.rasa_health()["up"] is False and "Connect" in dead.rasa_health()["error"]


def test_urgent_turn_with_the_action_server_down_still_opens_a_ticket(client, fake_rasa, users, db):
    fake_rasa.action_server_up = False
    fake_rasa.reply = lambda s, m, md: [{"recipient_id": s, "text": "抱歉，我没听明白。"}]
    r = chat(client, "u6", URGENT)
    texts = [m["text"] for m in r.json()]
    assert texts[0] == "抱歉，我没听明白。" and "工单" in texts[1] and "12345" in texts[1]
    assert row_counts(db)["tickets"] == 1
    # With the action server up the bot opens tickets itself: the service does not.
    fake_rasa.action_server_up = True
    chat(client, "u7", URGENT)
    assert row_counts(db)["tickets"] == 1


def test_the_bots_later_ticket_for_the_same_reason_is_the_same_ticket(client, fake_rasa, users, db):
    import hashlib

    fake_rasa.up = False
    chat(client, "u8", URGENT)
    [t] = client.get("/api/v1/tickets", headers=users["agent1"]).json()
    # The action server, back up, opens "its" ticket as nlu-shared.md says: same reason text
    # (the one extractor), conversation_id = sender → the same ticket.
    reason = t["urgent_reason"]
    key = "u8:" + hashlib.sha1(reason.encode()).hexdigest()
    r = client.post("/api/v1/tickets", headers={**users["bot"], "Idempotency-Key": key}, json={
        "county": "西吉县", "urgent_reason": reason, "facts": {"county": "西吉县", "urgent": True},
        "source": "rest", "conversation_id": "u8"})
    assert r.status_code == 201 and r.json()["id"] == t["id"]
    assert row_counts(db)["tickets"] == 1


@pytest.mark.parametrize("database_url", BOTH, indirect=True)
def test_simultaneous_first_turns_of_one_sender(client, fake_rasa, db):
    import threading

    fake_rasa.up = False
    codes = []

    def go(msg):
        codes.append(chat(client, "same", msg).status_code)

    threads = [threading.Thread(target=go, args=(m,)) for m in ("我住在西吉", "家里4口人", "是低保户", "农村的")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert codes == [200] * 4
    with db.sessionmaker() as s:
        from service.models.conversation import Conversation

        conv = s.get(Conversation, "same")
    assert conv.turns == 4  # no turn lost…
    assert conv.facts["county"] == "西吉县" and conv.facts["household_size"] == 4  # …nor its facts
    assert conv.facts["residence"] == "rural" and "dibao" in conv.facts["statuses"]
