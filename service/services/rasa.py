"""Talking to the Rasa server (REST channel, tracker API) and the action server.

`RasaClient` is the interface; `HttpRasaClient` the real one (httpx, one pooled client);
`FakeRasa` the in-process fake for tests. Every failure is a `RasaUnavailable`.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import quote

import httpx


class RasaUnavailable(Exception):
    pass


class RasaClient(Protocol):
    def send_message(self, sender: str, message: str, metadata: dict) -> list[dict]: ...
    def tracker(self, sender: str) -> dict: ...
    def rasa_health(self) -> dict: ...
    def action_server_health(self) -> dict: ...
    def close(self) -> None: ...


class HttpRasaClient:
    def __init__(self, rasa_url: str, action_server_url: str, *, timeout: float = 15.0,
                 health_timeout: float = 1.0):
        self.rasa_url = rasa_url.rstrip("/")
        self.action_url = action_server_url.rstrip("/")
        self.timeout = timeout
        self.health_timeout = health_timeout
        self._client: httpx.Client | None = None
        self._lock = threading.Lock()

    @property
    def client(self) -> httpx.Client:
        if self._client is None:
            with self._lock:
                if self._client is None:
                    self._client = httpx.Client(timeout=self.timeout, trust_env=False,
                                                limits=httpx.Limits(max_connections=50))
        return self._client

    def send_message(self, sender: str, message: str, metadata: dict) -> list[dict]:
        try:
            r = self.client.post(f"{self.rasa_url}/webhooks/rest/webhook",
                                 json={"sender": sender, "message": message, "metadata": metadata})
            r.raise_for_status()
            data = r.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise RasaUnavailable(f"rasa: {type(exc).__name__}: {exc}") from exc
        if not isinstance(data, list):
            raise RasaUnavailable("rasa: unexpected answer shape")
        return data

    def tracker(self, sender: str) -> dict:
        try:
            r = self.client.get(f"{self.rasa_url}/conversations/{quote(sender, safe='')}/tracker",
                                params={"include_events": "NONE"})
            r.raise_for_status()
            return r.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise RasaUnavailable(f"rasa tracker: {type(exc).__name__}: {exc}") from exc

    def _health(self, url: str) -> dict:
        try:
            r = self.client.get(url, timeout=self.health_timeout)
            return {"up": r.status_code < 500, "status_code": r.status_code}
        except httpx.HTTPError as exc:
            return {"up": False, "error": f"{type(exc).__name__}: {exc}"[:200]}

    def rasa_health(self) -> dict:
        return self._health(f"{self.rasa_url}/")

    def action_server_health(self) -> dict:
        return self._health(f"{self.action_url}/health")

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


@dataclass
class FakeRasa:
    """In-process Rasa: canned replies per message (or a function), trackers per sender, and
    switches for 'down' and 'answers nothing'."""

    up: bool = True
    action_server_up: bool = True
    reply: object = None  # callable(sender, message, metadata) -> list[dict] | None
    slots: dict[str, dict] = field(default_factory=dict)  # sender -> slots
    calls: list[tuple[str, str, dict]] = field(default_factory=list)

    def send_message(self, sender: str, message: str, metadata: dict) -> list[dict]:
        self.calls.append((sender, message, metadata))
        if not self.up:
            raise RasaUnavailable("fake rasa is down")
        if callable(self.reply):
            return self.reply(sender, message, metadata) or []
        return [{"recipient_id": sender, "text": f"收到：{message}"}]

    def tracker(self, sender: str) -> dict:
        if not self.up:
            raise RasaUnavailable("fake rasa is down")
        return {"sender_id": sender, "slots": self.slots.get(sender, {}), "events": []}

    def rasa_health(self) -> dict:
        return {"up": self.up}

    def action_server_health(self) -> dict:
        return {"up": self.action_server_up}

    def close(self) -> None:
        pass
