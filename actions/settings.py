"""Settings the actions read from the environment (read on each call, never at import)."""
from __future__ import annotations

import os
from datetime import date

DEFAULT_MAX_QUESTIONS = 6


def as_of() -> date:
    """The day the question is about: HOTLINE_AS_OF (YYYY-MM-DD) or today."""
    raw = os.environ.get("HOTLINE_AS_OF", "").strip()
    if raw:
        return date.fromisoformat(raw)
    return date.today()


def max_questions() -> int:
    """How many questions the form may ask in one conversation before it answers anyway."""
    raw = os.environ.get("HOTLINE_BOT_MAX_QUESTIONS", "").strip()
    return int(raw) if raw else DEFAULT_MAX_QUESTIONS


def ticket_mode() -> str:
    """`http` (the service's ticket API) or `fake` (in-process, for tests)."""
    mode = os.environ.get("HOTLINE_TICKETS", "http").strip().lower() or "http"
    if mode not in ("http", "fake"):
        raise ValueError(f"HOTLINE_TICKETS must be 'fake' or 'http', not {mode!r}")
    return mode


def service_url() -> str:
    return os.environ.get("HOTLINE_SERVICE_URL", "http://127.0.0.1:8000").rstrip("/")


def bot_token() -> str:
    return os.environ.get("HOTLINE_BOT_TOKEN", "")
