"""Structured JSON logs with a request id, personal data masked in every line.

`configure_logging()` is called by create_app() (idempotent). Every record gets the current
request id (from the X-Request-ID header or a fresh one) and, inside a chat turn, the
conversation id (`conversation_context()`: the sender masked, a WeChat openid as the short hash
the WeChat channel logs); the formatter masks ID and mobile numbers in the message and in every
extra field.
"""
from __future__ import annotations

import contextvars
import hashlib
import json
import re
import logging
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from service.core.privacy import mask_data, mask_text

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
# The chat conversation a line belongs to, already in its loggable form (conversation_ref).
conversation_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("conversation_id",
                                                                                  default=None)


def conversation_ref(sender: str, channel: str | None = None) -> str:
    """How a conversation is named in logs. A WeChat openid identifies a person and no pattern
    can mask it: the same short hash as the WeChat channel's `openid_ref`. Other senders are
    masked like any text (a phone number as sender shows 138****5678)."""
    if channel == "wechat":
        return hashlib.sha1(sender.encode()).hexdigest()[:10]
    return mask_text(sender) or ""


@contextmanager
def conversation_context(sender: str, channel: str | None = None) -> Iterator[str]:
    """Every log line inside carries `conversation_id`."""
    ref = conversation_ref(sender, channel)
    token = conversation_id_var.set(ref)
    try:
        yield ref
    finally:
        conversation_id_var.reset(token)


_STD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "taskName",
                                                                  "color_message"}


# SQLAlchemy's error text carries the statement and its parameters (a caller's words, facts):
# a backstop for any log line that still renders one (service code logs db.error_fields instead).
_SQL_DETAIL = re.compile(r"\[SQL: .*?(?=\(Background on this error at: |\Z)", re.S)


def strip_sql(text: str) -> str:
    return _SQL_DETAIL.sub("[SQL and parameters removed] ", text) if "[SQL: " in text else text


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "msg": mask_text(strip_sql(record.getMessage())),
        }
        rid = getattr(record, "request_id", None) or request_id_var.get()
        if rid:
            out["request_id"] = rid
        cid = getattr(record, "conversation_id", None) or conversation_id_var.get()
        if cid:
            out["conversation_id"] = mask_text(str(cid))
        for key, value in record.__dict__.items():
            if key not in _STD and key not in out and not key.startswith("_"):
                out[key] = mask_data(value) if isinstance(value, (str, dict, list)) else value
        if record.exc_info:
            out["exc"] = mask_text(strip_sql(self.formatException(record.exc_info)))
        return json.dumps(out, ensure_ascii=False, default=str)


_configured = False


def configure_logging(level: str = "INFO") -> None:
    global _configured
    root = logging.getLogger()
    if not _configured:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        handler.set_name("hotline-json")
        root.addHandler(handler)
        # uvicorn's own access log would print raw paths without our request id: ours replaces it.
        logging.getLogger("uvicorn.access").disabled = True
        for noisy in ("httpx", "alembic"):  # one line per Rasa call / per migration step
            logging.getLogger(noisy).setLevel(logging.WARNING)
        # uvicorn set up its own plain-text handlers before calling create_app: route its lines
        # through ours, so every line is JSON and masked.
        for name in ("uvicorn", "uvicorn.error"):
            logging.getLogger(name).handlers = []
            logging.getLogger(name).propagate = True
        _configured = True
    root.setLevel(level.upper())


access_log = logging.getLogger("service.access")


class RequestContextMiddleware:
    """Pure ASGI: request id in a contextvar and the X-Request-ID header; one access log line."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        incoming = None
        for name, value in scope.get("headers", ()):
            if name == b"x-request-id":
                incoming = value.decode("latin-1")[:64]
        rid = incoming if incoming and incoming.isprintable() else uuid.uuid4().hex[:16]
        token = request_id_var.set(rid)
        started = time.perf_counter()
        status = {"code": 500}

        async def send_with_id(message):
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + [(b"x-request-id", rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            access_log.info(
                "%s %s %s", scope["method"], scope["path"], status["code"],
                extra={"event": "http.request", "method": scope["method"], "path": scope["path"],
                       "status": status["code"],
                       "duration_ms": round((time.perf_counter() - started) * 1000, 2)})
            request_id_var.reset(token)
