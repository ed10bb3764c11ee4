"""Prometheus metrics for the service (issue 7): `install_metrics(app)` adds them and `/metrics`.

- `hotline_http_requests_total{method,route,status}` and `hotline_http_request_duration_seconds`
  (histogram) — `route` is the route's template (`/api/v1/tickets/{ticket_id}`), never the raw
  path, so a sender or a ticket id cannot blow up the label space;
- `hotline_tickets{status}` and `hotline_outbox_messages{state}` (backlog = state "pending"),
  read from the database at scrape time (every replica reports the same shared numbers);
- `hotline_chat_replies_total{kind}`: every reply of the REST chat channel, by kind — `answer`,
  `nlu_fallback` (the bot's utter_default: the NLU did not understand), `action_error`
  (utter_action_error), `service_fallback` (Rasa down or silent: the service's own 12345 answer),
  `urgent_fallback` (the service opened an urgent ticket itself, held it while the database is
  down, or could not open it);
- `hotline_log_events_total{event}`: warning-or-worse structured log events (`chat.fallback`,
  `outbox.retry`, `outbox.dead`, …), counted from the JSON logs' `event` field.

Each app gets its own registry (tests build many apps in one process).
"""
from __future__ import annotations

import json
import logging
import threading
import time
import weakref
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Histogram, disable_created_metrics
from prometheus_client.core import GaugeMetricFamily

log = logging.getLogger("service.metrics")

# Chat turns wait on Rasa (hundreds of ms to seconds): buckets reach 30 s.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
CHAT_PATH = "/webhooks/rest/webhook"
BOT_DOMAIN = Path(__file__).resolve().parents[2] / "bot" / "domain"


def _bot_texts(response: str) -> set[str]:
    """The texts of one bot response (utter_default, …) from bot/domain/*.yml; empty if absent."""
    import yaml

    texts: set[str] = set()
    for path in sorted(BOT_DOMAIN.glob("*.yml")):
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError):
            continue
        for variant in (data.get("responses") or {}).get(response) or []:
            if isinstance(variant, dict) and variant.get("text"):
                texts.add(variant["text"])
    return texts


class ReplyClassifier:
    """Tells the fallback replies from real answers by their text (loaded once, on first use)."""

    def __init__(self) -> None:
        self._loaded = False
        self._lock = threading.Lock()

    def _load(self) -> None:
        from service.services import chat

        self.service = {chat.FALLBACK_TEXT}
        # The urgent texts carry a ticket id and a county: match on the fixed head.
        self.urgent_heads = tuple(t.split("{", 1)[0] for t in (
            chat.URGENT_FALLBACK_TEXT, chat.URGENT_HELD_TEXT, chat.URGENT_NO_TICKET_TEXT))
        self.nlu = _bot_texts("utter_default")
        self.action_error = _bot_texts("utter_action_error")
        self._loaded = True

    def kind(self, text: str | None) -> str:
        if not self._loaded:
            with self._lock:
                if not self._loaded:
                    self._load()
        if not text:
            return "answer"
        if text in self.service:
            return "service_fallback"
        if text.startswith(self.urgent_heads):
            return "urgent_fallback"
        if text in self.nlu:
            return "nlu_fallback"
        if text in self.action_error:
            return "action_error"
        return "answer"


class DatabaseCollector:
    """Tickets by status and outbox messages by state, counted in the shared database per scrape."""

    def __init__(self, app) -> None:
        self._app = weakref.ref(app)

    def collect(self):
        from sqlalchemy import text

        up = GaugeMetricFamily("hotline_database_up", "1 when the last scrape could read the database")
        tickets = GaugeMetricFamily("hotline_tickets", "Tickets by status", labels=["status"])
        outbox = GaugeMetricFamily("hotline_outbox_messages",
                                   "Outbox notifications by state (pending = backlog)", labels=["state"])
        app = self._app()
        ok = 0
        if app is not None:
            try:
                with app.state.db.engine.connect() as conn:
                    by_status = dict(conn.execute(text(
                        "SELECT status, count(*) FROM tickets GROUP BY status")).all())
                    by_state = dict(conn.execute(text(
                        "SELECT state, count(*) FROM outbox GROUP BY state")).all())
                seen: set[str] = set()
                for status in ("open", "acknowledged", "assisted", "closed", *sorted(by_status)):
                    if status not in seen:
                        seen.add(status)
                        tickets.add_metric([status], by_status.get(status, 0))
                seen = set()
                for state in ("pending", "sent", "dead", *sorted(by_state)):
                    if state not in seen:
                        seen.add(state)
                        outbox.add_metric([state], by_state.get(state, 0))
                ok = 1
            except Exception as exc:  # noqa: BLE001 - a scrape must not fail with the database
                log.warning("metrics: database unreadable: %s", type(exc).__name__,
                            extra={"event": "metrics.db_unreadable"})
        up.add_metric([], ok)
        yield up
        if ok:
            yield tickets
            yield outbox


class Metrics:
    def __init__(self, app) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter("hotline_http_requests", "HTTP requests by route and status",
                                ["method", "route", "status"], registry=self.registry)
        self.latency = Histogram("hotline_http_request_duration_seconds", "HTTP request latency by route",
                                 ["method", "route"], buckets=LATENCY_BUCKETS, registry=self.registry)
        self.replies = Counter("hotline_chat_replies", "REST chat replies by kind (fallbacks included)",
                               ["kind"], registry=self.registry)
        self.events = Counter("hotline_log_events", "Warning-or-worse structured log events",
                              ["event"], registry=self.registry)
        self.registry.register(DatabaseCollector(app))
        self.classifier = ReplyClassifier()


class _EventCounter(logging.Handler):
    """One handler on the root logger; feeds `hotline_log_events_total` of every live app."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.targets: "weakref.WeakSet[Metrics]" = weakref.WeakSet()

    def emit(self, record: logging.LogRecord) -> None:
        event = getattr(record, "event", None)
        if not isinstance(event, str):
            return
        for metrics in list(self.targets):
            metrics.events.labels(event).inc()


_event_counter: _EventCounter | None = None
_event_lock = threading.Lock()


def _attach_event_counter(metrics: Metrics) -> None:
    global _event_counter
    with _event_lock:
        if _event_counter is None:
            _event_counter = _EventCounter()
            logging.getLogger().addHandler(_event_counter)
        _event_counter.targets.add(metrics)


def route_template(scope) -> str:
    """`/api/v1/tickets/{ticket_id}` for `/api/v1/tickets/17`: the path with each path parameter's
    segment put back as its name (works however routers are nested); `unmatched` for 404s."""
    if scope.get("route") is None:
        return "unmatched"
    params = {str(v): k for k, v in (scope.get("path_params") or {}).items()}
    segments = scope["path"].split("/")
    return "/".join("{%s}" % params[seg] if seg in params else seg for seg in segments)


class MetricsMiddleware:
    """Pure ASGI: counts and times every HTTP request under its route template; on the REST chat
    channel it also classifies the replies (the body is small JSON, buffered only there)."""

    def __init__(self, app, metrics: Metrics):
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = time.perf_counter()
        status = {"code": 500}
        is_chat = scope["path"] == CHAT_PATH and scope["method"] == "POST"
        body: list[bytes] = []

        async def send_wrapper(message):
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            elif is_chat and message["type"] == "http.response.body":
                body.append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            template = route_template(scope)
            self.metrics.requests.labels(scope["method"], template, str(status["code"])).inc()
            self.metrics.latency.labels(scope["method"], template).observe(time.perf_counter() - started)
            if is_chat and status["code"] == 200:
                self._count_replies(b"".join(body))

    def _count_replies(self, raw: bytes) -> None:
        try:
            replies = json.loads(raw)
        except ValueError:
            return
        for reply in replies if isinstance(replies, list) else []:
            if isinstance(reply, dict):
                self.metrics.replies.labels(self.metrics.classifier.kind(reply.get("text"))).inc()


def install_metrics(app) -> Metrics:
    """Called once by create_app(): the middleware (outermost) and the /metrics route."""
    from service.api.routes.metrics import router

    disable_created_metrics()  # the *_created series only double the scrape
    metrics = Metrics(app)
    app.state.metrics = metrics
    _attach_event_counter(metrics)
    app.include_router(router)
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    return metrics
