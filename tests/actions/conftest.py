"""Fixtures for the custom-action tests (they run in .venv-rasa: make test-bot)."""
from __future__ import annotations

import pytest

pytest.importorskip("rasa_sdk", reason="the action tests run in .venv-rasa (make test-bot)")

from action_harness import EXPIRED_DAY, IN_FORCE_DAY, load_domain  # noqa: E402
from actions import tickets  # noqa: E402


@pytest.fixture(scope="session")
def domain() -> dict:
    return load_domain()


@pytest.fixture
def in_force(monkeypatch):
    monkeypatch.setenv("HOTLINE_AS_OF", IN_FORCE_DAY)


@pytest.fixture
def expired(monkeypatch):
    monkeypatch.setenv("HOTLINE_AS_OF", EXPIRED_DAY)


@pytest.fixture
def fake_tickets(monkeypatch):
    monkeypatch.setenv("HOTLINE_TICKETS", "fake")
    client = tickets.fake_client()
    client.reset()
    yield client
    client.reset()
