"""The urgent path: one ticket per conversation and reason, a number for the caller, and a
useful answer even when the ticket service is down."""
import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from actions import tickets
from actions.answers import ActionAnswerEntitlement, ActionUrgentHelp
from actions.facts_actions import ActionExtractFacts

from action_harness import make_tracker, responses, run, slot_events


def _apply(slots: dict, events) -> dict:
    slots = dict(slots)
    slots.update(slot_events(events))
    return slots


def test_urgent_request_opens_a_ticket_and_tells_its_number(in_force, domain, fake_tickets):
    tracker = make_tracker("救命，我们家两天没饭吃了", intent="request_urgent_help",
                           slots={"facts": {"county": "西吉县"}}, metadata={"channel": "wechat"})
    messages, events = run(ActionUrgentHelp(), tracker, domain)
    assert len(fake_tickets.tickets) == 1
    ticket = fake_tickets.tickets[0]
    assert responses(messages) == ["utter_urgent_ticket"]
    assert messages[0]["ticket_id"] == ticket["id"] and messages[0]["office"] == "西吉县民政局"
    assert ticket["county"] == "西吉县" and ticket["source"] == "wechat"
    assert ticket["conversation_id"] == "test-sender" and ticket["facts"]["urgent"] is True
    assert slot_events(events)["ticket_ids"] == [ticket["id"]]
    text = domain["responses"]["utter_urgent_ticket"][0]["text"]
    assert "110" in text and "120" in text and "先行救助，后补齐说明" in text


def test_repeated_urgent_messages_record_exactly_one_ticket(in_force, domain, fake_tickets):
    slots = {"facts": {}}
    text = "我没饭吃了，急需救助"
    for _ in range(3):
        # the extraction turn, then the urgent action, as Rasa runs them
        _, ev1 = run(ActionExtractFacts(), make_tracker(text, intent="request_urgent_help", slots=slots), domain)
        slots = _apply(slots, ev1)
        messages, ev2 = run(ActionUrgentHelp(), make_tracker(text, intent="request_urgent_help", slots=slots), domain)
        slots = _apply(slots, ev2)
    assert len(fake_tickets.tickets) == 1
    assert responses(messages) == ["utter_urgent_already"]
    assert messages[0]["ticket_id"] == fake_tickets.tickets[0]["id"]
    assert slots["ticket_ids"] == [fake_tickets.tickets[0]["id"]]


def test_a_ticket_opened_before_the_county_was_known_goes_to_the_county_once_it_is(in_force, domain, fake_tickets):
    from actions.facts_actions import ASK_ACTIONS

    text = "身上没钱了，已经一天没吃东西了"
    slots = {"facts": {}}
    _, events = run(ActionExtractFacts(), make_tracker(text, slots=slots), domain)
    slots = _apply(slots, events)
    messages, events = run(ActionUrgentHelp(), make_tracker(text, intent="request_urgent_help", slots=slots), domain)
    slots = _apply(slots, events)
    ticket = fake_tickets.tickets[0]
    assert ticket["county"] is None and slots["tickets_without_county"] == [slots["facts"]["urgent_reason"]]
    # the caller then says where they are; whatever the bot says next starts with where the case went
    _, events = run(ActionExtractFacts(), make_tracker("我是海原县的", slots=slots), domain)
    slots = _apply(slots, events)
    messages, events = run(ASK_ACTIONS["ask_household_size"](), make_tracker("我是海原县的", slots=slots), domain)
    assert responses(messages)[0] == "utter_urgent_county_added"
    assert messages[0]["ticket_id"] == ticket["id"] and messages[0]["office"] == "海原县民政局"
    assert len(fake_tickets.tickets) == 1 and ticket["county"] == "海原县"
    slots = _apply(slots, events)
    assert slots["tickets_without_county"] == []
    messages, _ = run(ASK_ACTIONS["ask_household_size"](), make_tracker("嗯", slots=slots), domain)
    assert "utter_urgent_county_added" not in responses(messages)  # said once


def test_the_idempotency_key_protects_even_without_the_slot(in_force, domain, fake_tickets):
    for _ in range(2):
        run(ActionUrgentHelp(), make_tracker("着火了", intent="request_urgent_help"), domain)
    assert len(fake_tickets.tickets) == 1
    run(ActionUrgentHelp(), make_tracker("着火了", intent="request_urgent_help", sender="other"), domain)
    assert len(fake_tickets.tickets) == 2


def test_urgent_facts_open_the_ticket_before_the_answer(in_force, domain, fake_tickets):
    text = "我是西吉县的低保户，一家四口，家里已经没饭吃了"
    _, ev = run(ActionExtractFacts(), make_tracker(text), domain)
    slots = _apply({}, ev)
    assert slots["facts"].get("urgent") is True
    messages, events = run(ActionAnswerEntitlement(), make_tracker(text, slots=slots), domain)
    assert responses(messages)[0] == "utter_urgent_ticket"
    assert "utter_entitlement" in responses(messages)
    assert len(fake_tickets.tickets) == 1
    slots = _apply(slots, events)
    # asking again later does not open a second ticket
    _, ev = run(ActionExtractFacts(), make_tracker("我能领什么", intent="ask_entitlement", slots=slots), domain)
    slots = _apply(slots, ev)
    messages, _ = run(ActionAnswerEntitlement(), make_tracker("我能领什么", intent="ask_entitlement",
                                                             slots=slots), domain)
    assert "utter_urgent_ticket" not in responses(messages)
    assert "utter_urgent_already" not in responses(messages)
    # saying it again hears the same number, still one ticket
    _, ev = run(ActionExtractFacts(), make_tracker(text, slots=slots), domain)
    slots = _apply(slots, ev)
    messages, _ = run(ActionAnswerEntitlement(), make_tracker(text, slots=slots), domain)
    assert responses(messages)[0] == "utter_urgent_already"
    assert len(fake_tickets.tickets) == 1


def test_service_down_still_gives_the_numbers_and_logs_masked(in_force, domain, fake_tickets, caplog):
    fake_tickets.fail = True
    with caplog.at_level(logging.ERROR):
        messages, events = run(ActionUrgentHelp(), make_tracker(
            "我叫张三丰，电话13912345678，没地方住了", intent="request_urgent_help"), domain)
    assert responses(messages) == ["utter_urgent_no_ticket"]
    assert slot_events(events)["ticket_failed"] is True
    assert "urgent ticket not opened" in caplog.text
    assert "13912345678" not in caplog.text and "张三丰" not in caplog.text
    text = domain["responses"]["utter_urgent_no_ticket"][0]["text"]
    assert "12345" in text and "110" in text and "120" in text


def test_mask_hides_phone_and_id_numbers():
    masked = tickets.mask("身份证640422199001011234，手机13812345678，我叫李四")
    assert "640422199001011234" not in masked and "13812345678" not in masked
    assert "640422********1234" in masked and "138****5678" in masked and "李四" not in masked


class _Recorder(BaseHTTPRequestHandler):
    seen: list = []

    def do_POST(self):  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).seen.append({"path": self.path, "headers": dict(self.headers), "body": body})
        out = json.dumps({"id": 42, "status": "open"}).encode()
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *args):
        pass


@pytest.fixture
def ticket_server():
    _Recorder.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", _Recorder.seen
    server.shutdown()
    server.server_close()


def test_http_client_speaks_the_agreed_ticket_api(ticket_server, monkeypatch, in_force, domain):
    url, seen = ticket_server
    monkeypatch.setenv("HOTLINE_TICKETS", "http")
    monkeypatch.setenv("HOTLINE_SERVICE_URL", url)
    monkeypatch.setenv("HOTLINE_BOT_TOKEN", "bot-secret")
    messages, events = run(ActionUrgentHelp(), make_tracker("没地方住了", intent="request_urgent_help",
                                                           slots={"facts": {"county": "海原县"}}), domain)
    assert responses(messages) == ["utter_urgent_ticket"] and messages[0]["ticket_id"] == "42"
    (req,) = seen
    assert req["path"] == "/api/v1/tickets"
    assert req["headers"]["Authorization"] == "Bearer bot-secret"
    assert req["headers"]["Idempotency-Key"] == tickets.idempotency_key("test-sender", "没地方住了")
    assert req["body"] == {"county": "海原县", "urgent_reason": "没地方住了",
                           "facts": {"county": "海原县", "urgent": True, "urgent_reason": "没地方住了"},
                           "source": "rest", "conversation_id": "test-sender"}


def test_http_client_unreachable_raises_ticket_error():
    client = tickets.HttpTicketClient("http://127.0.0.1:9", "", timeout=1)
    with pytest.raises(tickets.TicketError):
        client.open_ticket(conversation_id="c", urgent_reason="r", county=None, facts={}, source="rest")
