"""Helpers for the action tests: rasa_sdk Trackers built the way Rasa's reference assistants
build them (slots, latest_message, events), a dispatcher runner and event readers."""
from __future__ import annotations

import asyncio
from pathlib import Path

import yaml

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import tickets

ROOT = Path(__file__).resolve().parents[2]
IN_FORCE_DAY = "2022-07-01"
EXPIRED_DAY = "2024-03-01"


def load_domain() -> dict:
    merged: dict = {}
    for path in sorted((ROOT / "bot" / "domain").glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for key, value in data.items():
            if isinstance(value, dict):
                merged.setdefault(key, {}).update(value)
            elif isinstance(value, list):
                merged.setdefault(key, []).extend(value)
            else:
                merged[key] = value
    return merged


def make_tracker(text: str = "", *, intent: str = "describe_situation", slots: dict | None = None,
                 entities: list | None = None, sender: str = "test-sender",
                 latest_action: str = "action_listen", active_loop: str | None = None,
                 metadata: dict | None = None) -> Tracker:
    all_slots = {"facts": None, "requested_slot": None, "questions_asked": None,
                 "skipped_fields": None, "last_asked_field": None, "ticket_ids": None,
                 "urgent_tickets": None, "facts_changed": None}
    all_slots.update(slots or {})
    return Tracker(
        sender_id=sender,
        slots=all_slots,
        latest_message={"text": text, "intent": {"name": intent, "confidence": 0.99},
                        "entities": entities or [], "metadata": metadata or {"channel": "rest"}},
        # Rasa sends validation actions a tracker without its event list (EventVerbosity.NONE)
        events=None,
        paused=False,
        followup_action=None,
        active_loop={"name": active_loop} if active_loop else {},
        latest_action_name=latest_action,
    )


def run(action, tracker: Tracker, domain: dict):
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, domain))
    return dispatcher.messages, events


def slot_events(events) -> dict:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def responses(messages) -> list[str]:
    return [m.get("response") for m in messages]
