"""Opening urgent tickets from the bot: the service's ticket API, or an in-process fake.

Contract (nlu-shared.md): POST {HOTLINE_SERVICE_URL}/api/v1/tickets with
`Authorization: Bearer {HOTLINE_BOT_TOKEN}` and `Idempotency-Key: <sender>:<sha1 of reason>`,
body {county, urgent_reason, facts, source, conversation_id} -> 201 Ticket JSON with "id".
HOTLINE_TICKETS=fake|http picks the implementation.
"""
from __future__ import annotations

import hashlib
import logging
import re
import threading
from typing import Protocol

from actions import settings

logger = logging.getLogger(__name__)

_PHONE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")
_ID_NUMBER = re.compile(r"(?<![0-9])(\d{6})\d{8}(\d{3}[0-9Xx])(?![0-9])")
_NAME_AFTER = re.compile(r"(我叫|名字是|姓名[:：]?)([\u4e00-\u9fff]{1,3})")


def mask(text: str | None) -> str:
    """Personal data out of log lines: phone and ID numbers, a self-introduced name."""
    if not text:
        return ""
    text = _ID_NUMBER.sub(r"\1********\2", text)
    text = _PHONE.sub(r"\1****\2", text)
    return _NAME_AFTER.sub(lambda m: m.group(1) + m.group(2)[0] + "*" * (len(m.group(2)) - 1), text)


def idempotency_key(conversation_id: str, reason: str) -> str:
    return f"{conversation_id}:{hashlib.sha1(reason.encode('utf-8')).hexdigest()}"


class TicketError(RuntimeError):
    """The ticket service could not be reached or refused the ticket."""


class TicketClient(Protocol):
    def open_ticket(self, *, conversation_id: str, urgent_reason: str, county: str | None,
                    facts: dict, source: str) -> dict:
        """Open (or find, for the same conversation and reason) an urgent ticket; returns it with "id"."""


class FakeTicketClient:
    """Same interface, kept in memory: one ticket per idempotency key."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.tickets: list[dict] = []
        self._by_key: dict[str, dict] = {}
        self.fail = False  # tests flip this to simulate an unreachable service

    def open_ticket(self, *, conversation_id, urgent_reason, county, facts, source) -> dict:
        if self.fail:
            raise TicketError("fake ticket service is down")
        key = idempotency_key(conversation_id, urgent_reason)
        with self._lock:
            if key in self._by_key:
                found = self._by_key[key]
                if found["county"] is None and county:  # as the service: a later report completes it
                    found["county"] = county
                return found
            ticket = {
                "id": f"FAKE-{len(self.tickets) + 1:05d}",
                "status": "open",
                "county": county,
                "urgent_reason": urgent_reason,
                "facts": dict(facts),
                "source": source,
                "conversation_id": conversation_id,
                "idempotency_key": key,
            }
            self.tickets.append(ticket)
            self._by_key[key] = ticket
            return ticket

    def reset(self) -> None:
        with self._lock:
            self.tickets.clear()
            self._by_key.clear()
            self.fail = False


class HttpTicketClient:
    """The service's ticket API (see the module docstring)."""

    def __init__(self, base_url: str, token: str, timeout: float = 5.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout

    def open_ticket(self, *, conversation_id, urgent_reason, county, facts, source) -> dict:
        import requests  # the action server's environment has it; imported on use

        headers = {"Idempotency-Key": idempotency_key(conversation_id, urgent_reason)}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        body = {"county": county, "urgent_reason": urgent_reason, "facts": facts,
                "source": source, "conversation_id": conversation_id}
        try:
            resp = requests.post(f"{self.base_url}/api/v1/tickets", json=body, headers=headers,
                                 timeout=self.timeout)
        except requests.RequestException as exc:
            raise TicketError(f"ticket service unreachable: {type(exc).__name__}") from exc
        if resp.status_code not in (200, 201):
            raise TicketError(f"ticket service answered {resp.status_code}: {mask(resp.text[:200])}")
        try:
            ticket = resp.json()
        except ValueError as exc:
            raise TicketError("ticket service answered with something that is not JSON") from exc
        if not isinstance(ticket, dict) or "id" not in ticket:
            raise TicketError("ticket service answer has no id")
        return ticket


_fake: FakeTicketClient | None = None
_fake_lock = threading.Lock()


def fake_client() -> FakeTicketClient:
    """The process-wide fake, so repeated turns of one conversation see the same tickets."""
    global _fake
    with _fake_lock:
        if _fake is None:
            _fake = FakeTicketClient()
        return _fake


def get_ticket_client() -> TicketClient:
    if settings.ticket_mode() == "fake":
        return fake_client()
    return HttpTicketClient(settings.service_url(), settings.bot_token())
