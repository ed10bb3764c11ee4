"""The login cookie, the CSRF token and the caller of a page.

The token issued by POST /api/v1/auth/token lives in an HttpOnly, SameSite=Strict cookie, so page
scripts never see it. Same-origin scripts and forms prove themselves with a CSRF token derived
from the login token (HMAC with the service's secret): SameSite already stops cross-site sends,
the CSRF token also stops a same-site page that is not ours.
"""
from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache
from pathlib import Path

from fastapi import Request
from sqlalchemy.orm import Session

from service.core.errors import ApiError
from service.services.auth import Principal

COOKIE = "hotline_session"
CSRF_HEADER = "X-CSRF-Token"
ROOT = Path(__file__).resolve().parent.parent
TEMPLATES_DIR = ROOT / "templates"
STATIC_DIR = ROOT / "static"

# What each page needs, on top of a valid login (the JSON API's roles, contract §4).
COPILOT_ROLES = ("admin", "agent")
QUEUE_ROLES = ("admin", "agent", "county")


@lru_cache(maxsize=1)
def templates():
    """Jinja2 environment, built on first use (no work at import time)."""
    from fastapi.templating import Jinja2Templates

    t = Jinja2Templates(directory=str(TEMPLATES_DIR))
    t.env.globals["static_version"] = static_version()
    return t


@lru_cache(maxsize=1)
def static_version() -> str:
    """A short hash of the static files: cache-busting query string for long-cached assets."""
    h = hashlib.sha1()
    for path in sorted(STATIC_DIR.glob("*")):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:10]


def session_token(request: Request) -> str | None:
    return request.cookies.get(COOKIE) or None


def csrf_token(request: Request, token: str) -> str:
    key = request.app.state.secret_key.encode()
    return hmac.new(key, b"csrf:" + token.encode(), hashlib.sha256).hexdigest()


def check_csrf(request: Request, given: str | None) -> None:
    token = session_token(request)
    if not token or not given or not hmac.compare_digest(given, csrf_token(request, token)):
        raise ApiError(403, "页面已过期，请刷新后重试 / missing or wrong CSRF token", type_="csrf")


def principal(request: Request, db: Session) -> Principal | None:
    """The logged-in staff member, or None (no cookie, expired token, disabled account, bot).

    Uses the API's own get_principal/require_staff, so a page accepts exactly the tokens the
    API accepts."""
    from service.api.deps import get_principal, require_staff

    token = session_token(request)
    if not token:
        return None
    try:
        return require_staff(get_principal(request, db, request.app.state.settings, token))
    except ApiError:
        return None
