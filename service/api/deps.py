"""Typed dependencies for routes: settings, DB session, Rasa client, the caller (Principal).

    from service.api.deps import SessionDep, SettingsDep, StaffDep

    @router.get("/things")
    def list_things(db: SessionDep, settings: SettingsDep, me: StaffDep): ...
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

import jwt
from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session

from service.core.config import Settings
from service.core.db import Database
from service.core.errors import ApiError
from service.core.security import decode_access_token, tokens_equal
from service.models.user import User
from service.services.auth import Principal
from service.services.rasa import RasaClient

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_database(request: Request) -> Database:
    return request.app.state.db


def get_db(request: Request) -> Iterator[Session]:
    """One session per request; routes commit what they change (rolled back otherwise)."""
    with request.app.state.db.sessionmaker() as session:
        yield session


def get_rasa(request: Request) -> RasaClient:
    return request.app.state.rasa


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_db)]
DatabaseDep = Annotated[Database, Depends(get_database)]
RasaDep = Annotated[RasaClient, Depends(get_rasa)]


def _unauthorized(detail: str) -> ApiError:
    return ApiError(401, detail, type_="unauthorized", headers={"WWW-Authenticate": "Bearer"})


def get_principal(request: Request, db: SessionDep, settings: SettingsDep,
                  token: Annotated[str | None, Depends(oauth2_scheme)]) -> Principal:
    if not token:
        raise _unauthorized("需要登录 / not authenticated: send Authorization: Bearer <token>")
    bot = settings.bot_token.get_secret_value() if settings.bot_token else None
    if bot and tokens_equal(token, bot):
        return Principal(username="bot", role="bot")
    try:
        claims = decode_access_token(token, request.app.state.secret_key)
    except jwt.PyJWTError:
        raise _unauthorized("令牌无效或已过期 / invalid or expired token") from None
    # Look the account up each time: a removed or disabled account loses access at once.
    user = db.query(User).filter(User.username == claims["sub"]).one_or_none()
    if user is None or not user.is_active:
        raise _unauthorized("账号不存在或已停用 / account not found or disabled")
    return Principal(username=user.username, role=user.role, county=user.county)


def require_staff(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
    """admin, agent or county officer (not the bot token)."""
    if principal.role not in ("admin", "agent", "county"):
        raise ApiError(403, "此令牌只能开工单 / this token may only open tickets", type_="forbidden")
    return principal


def require_admin(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
    if principal.role != "admin":
        raise ApiError(403, "需要管理员 / admin only", type_="forbidden")
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]
StaffDep = Annotated[Principal, Depends(require_staff)]
AdminDep = Annotated[Principal, Depends(require_admin)]
