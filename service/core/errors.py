"""One error shape for every failure: {"detail": str, "field": str|None, "errors": [...]}.

`detail` is a readable sentence (Chinese and English) that names the field; `errors` lists every
problem found as {field, message, type}. FastAPI's own validation errors, policy_kb.InvalidFacts,
malformed JSON and HTTP errors are all mapped to it.

An exception no handler takes is a 500 in the same shape, logged as type, masked first line and
place (service.core.db.error_fields), never as a traceback: SQLAlchemy's text carries the
statement's parameters (a caller's words and facts), which no mask can recognise. It is answered
by UnhandledErrorMiddleware rather than Starlette's last-resort handler, which re-raises to the
server, and uvicorn then logs that whole text.
"""
from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from service.core.db import error_fields

log = logging.getLogger("service.errors")


class ApiError(Exception):
    """Raise from a route or a service function to answer with this status and message."""

    def __init__(self, status_code: int, detail: str, *, field: str | None = None,
                 type_: str = "error", headers: dict | None = None):
        super().__init__(detail)
        self.status_code = status_code
        self.detail = detail
        self.field = field
        self.type = type_
        self.headers = headers


def error_body(detail: str, *, field: str | None = None, errors: list | None = None,
               type_: str = "error") -> dict:
    if errors is None:
        errors = [{"field": field, "message": detail, "type": type_}]
    return {"detail": detail, "field": field, "errors": errors}


def _loc_to_field(loc) -> str | None:
    # ("body", "facts", "statuses", 1) -> "facts.statuses[1]"; drop the "body"/"query" prefix.
    parts = list(loc)
    if parts and parts[0] in ("body", "query", "path", "header", "cookie", "form"):
        parts = parts[1:]
    out = ""
    for p in parts:
        if isinstance(p, int):
            out += f"[{p}]"
        else:
            out += ("." if out else "") + str(p)
    return out or None


def validation_errors(exc: RequestValidationError) -> list[dict]:
    errors = []
    for e in exc.errors():
        etype = e.get("type", "value_error")
        field = _loc_to_field(e.get("loc", ()))
        msg = e.get("msg", "invalid")
        if etype == "json_invalid":
            ctx = e.get("ctx") or {}
            msg = f"请求体不是合法的 JSON / malformed JSON: {ctx.get('error', msg)}"
            field = None
        elif etype == "extra_forbidden":
            msg = f"不认识的字段 / unknown field '{field}'"
        elif etype == "missing" and field is None:
            msg = "缺少请求体 / missing request body (a JSON object)"
        elif etype == "missing":
            msg = f"缺少必填字段 / missing field '{field}'"
        elif etype in ("dict_type", "model_attributes_type"):
            what = f"'{field}'" if field else "request body"
            msg = f"{field or '请求体'} 必须是 JSON 对象 / {what} must be a JSON object"
        else:
            msg = f"字段 '{field}' 无效 / invalid field '{field}': {msg}" if field else msg
        errors.append({"field": field, "message": msg, "type": etype})
    return errors


INTERNAL_DETAIL = "服务内部错误，请稍后再试 / internal error"


def _log_unhandled(exc: BaseException, path: str) -> None:
    log.error("unhandled error", extra={"event": "http.error", "path": path, **error_fields(exc)})


class UnhandledErrorMiddleware:
    """Pure ASGI, inside every other middleware: an exception a route lets through becomes the
    500 here and goes no further (not to the server's own log)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = False

        async def watch(message):
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception as exc:  # noqa: BLE001 - answered and logged here, on purpose
            _log_unhandled(exc, scope.get("path", ""))
            if not started:  # else the server closes the half-sent response
                await JSONResponse(error_body(INTERNAL_DETAIL, type_="internal"),
                                   status_code=500)(scope, receive, send)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError):
        return JSONResponse(error_body(exc.detail, field=exc.field, type_=exc.type),
                            status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError):
        errors = validation_errors(exc)
        detail = "; ".join(e["message"] for e in errors) or "invalid request"
        first = errors[0]["field"] if errors else None
        return JSONResponse(error_body(detail, field=first, errors=errors), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException):
        if exc.status_code == 400 and isinstance(exc.__cause__, (ValueError, RecursionError)):
            # FastAPI answers 400 when json.loads fails other than by JSONDecodeError (bytes that
            # are not UTF-8, nesting too deep); the contract says bad input is 422, as for any
            # other malformed JSON.
            detail = f"请求体不是合法的 JSON / malformed JSON: {type(exc.__cause__).__name__}"
            return JSONResponse(error_body(detail, type_="json_invalid"), status_code=422)
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        return JSONResponse(error_body(detail, type_=f"http_{exc.status_code}"),
                            status_code=exc.status_code, headers=getattr(exc, "headers", None))

    # Added before create_app's other middleware, so it sits inside them: they see the 500.
    app.add_middleware(UnhandledErrorMiddleware)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        # Only an error of the outer middleware gets here (Starlette re-raises it to the server).
        _log_unhandled(exc, request.url.path)
        return JSONResponse(error_body(INTERNAL_DETAIL, type_="internal"), status_code=500)
