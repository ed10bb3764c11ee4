"""`create_app()`: the FastAPI application (run with `uvicorn service.main:create_app --factory`)."""
from __future__ import annotations

import logging
import secrets
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from service.core.config import Settings, get_settings
from service.core.db import Database, migrate
from service.core.errors import install_error_handlers
from service.core.limits import BodySizeLimitMiddleware
from service.core.logging import RequestContextMiddleware, configure_logging
from service.core.security import LoginLimiter

log = logging.getLogger("service")


def _facts_openapi(schema: dict) -> None:
    """Put policy_kb.facts_schema() into the OpenAPI document as components/schemas/Facts."""
    import policy_kb

    facts = dict(policy_kb.facts_schema())
    defs = facts.pop("$defs", {}) or facts.pop("definitions", {})
    facts.pop("$schema", None)
    facts.pop("$id", None)

    def rewrite(node):
        if isinstance(node, dict):
            return {k: (f"#/components/schemas/Facts_{v.rsplit('/', 1)[-1]}"
                        if k == "$ref" and isinstance(v, str) and v.startswith(("#/$defs/", "#/definitions/"))
                        else rewrite(v)) for k, v in node.items()}
        if isinstance(node, list):
            return [rewrite(v) for v in node]
        return node

    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["Facts"] = rewrite(facts)
    for name, sub in defs.items():
        components[f"Facts_{name}"] = rewrite(sub)
    ref = {"$ref": "#/components/schemas/Facts"}
    paths = schema.get("paths", {})
    evaluate = paths.get("/api/v1/policy/evaluate", {}).get("post")
    if evaluate:
        evaluate["requestBody"] = {"required": True, "content": {"application/json": {"schema": ref}}}
    for path in ("/api/v1/copilot/analyze",):
        body = paths.get(path, {}).get("post", {}).get("requestBody", {})
        target = body.get("content", {}).get("application/json", {}).get("schema", {})
        name = target.get("$ref", "").rsplit("/", 1)[-1]
        if name in components:
            components[name].setdefault("properties", {})["facts"] = {"anyOf": [ref, {"type": "null"}]}
    if "TicketIn" in components:
        components["TicketIn"].setdefault("properties", {})["facts"] = ref


def make_notifier(settings: Settings, default):
    """HOTLINE_NOTIFIER: "log", or "package.module:factory" called with the settings."""
    if settings.notifier in ("", "log"):
        return default()
    import importlib

    module, _, attr = settings.notifier.partition(":")
    if not attr:
        raise ValueError(f"HOTLINE_NOTIFIER must be 'log' or 'module:factory', got {settings.notifier!r}")
    return getattr(importlib.import_module(module), attr)(settings)


def create_app(settings: Settings | None = None, *, rasa=None, notifier=None) -> FastAPI:
    """Build the app. `rasa` (a RasaClient) and `notifier` (a Notifier) default to the real
    HTTP client and the log notifier; tests pass fakes."""
    from service.api.main import api_router, plugin_modules, root_routers
    from service.services import held_tickets
    from service.services.outbox import LogNotifier, OutboxWorker
    from service.services.rasa import HttpRasaClient
    from service.services.tickets import enqueue_overdue
    from service.services.users import ensure_admin

    settings = settings or get_settings()
    configure_logging(settings.log_level)
    plugins = plugin_modules()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if settings.run_migrations:
            migrate(settings.database_url)
        with app.state.db.sessionmaker() as session:
            ensure_admin(session, settings.admin_password.get_secret_value() if settings.admin_password else None)
        for module in plugins:
            if hasattr(module, "setup"):
                module.setup(app)
        if app.state.outbox_worker is not None:
            app.state.outbox_worker.start()
        log.info("service started", extra={"event": "service.started",
                                           "database": app.state.db.engine.dialect.name})
        try:
            yield
        finally:
            for module in plugins:  # a plug-in's background threads stop with the app
                if hasattr(module, "teardown"):
                    module.teardown(app)
            if app.state.outbox_worker is not None:
                app.state.outbox_worker.stop()
            app.state.rasa.close()
            app.state.db.dispose()

    app = FastAPI(title="12345 社会救助热线助手", version="0.1.0", lifespan=lifespan,
                  description="宁政办规发〔2022〕7号 (the 20 measures): policy API, agents' copilot, "
                              "chat channels and urgent tickets for county offices.")
    app.state.settings = settings
    app.state.db = Database(settings.database_url)
    # Where this app holds urgent cases while its database is down: the app's settings, once.
    held_tickets.configure(app.state.db.engine, settings)
    app.state.rasa = rasa or HttpRasaClient(settings.rasa_url, settings.action_server_url,
                                            timeout=settings.rasa_timeout_seconds,
                                            health_timeout=settings.health_timeout_seconds)
    app.state.notifier = notifier or make_notifier(settings, LogNotifier)
    app.state.outbox_worker = OutboxWorker(
        app.state.db, app.state.notifier, max_attempts=settings.outbox_max_attempts,
        backoff_seconds=settings.outbox_backoff_seconds, lease_seconds=settings.outbox_lease_seconds,
        poll_seconds=settings.outbox_poll_seconds, hooks=[enqueue_overdue],
    ) if settings.outbox_enabled else None
    app.state.login_limiter = LoginLimiter(settings.login_max_failures, settings.login_window_seconds)
    if settings.secret_key is not None:
        app.state.secret_key = settings.secret_key.get_secret_value()
    else:
        app.state.secret_key = secrets.token_urlsafe(32)
        log.warning("HOTLINE_SECRET_KEY unset: tokens will not survive a restart",
                    extra={"event": "service.ephemeral_secret"})

    install_error_handlers(app)
    app.include_router(api_router)
    for router in root_routers:
        app.include_router(router)
    for module in plugins:
        app.include_router(module.router)

    def openapi():
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, description=app.description,
                                 routes=app.routes)
            _facts_openapi(schema)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi
    # Outermost first: request id around everything, then the body limit.
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestContextMiddleware)
    from service.core.metrics import install_metrics  # Prometheus /metrics (issue 7)
    install_metrics(app)
    return app
