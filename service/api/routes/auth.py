from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel

from service.api.deps import SessionDep, SettingsDep
from service.core.errors import ApiError
from service.core.security import create_access_token, verify_password
from service.models.user import User

router = APIRouter(prefix="/auth", tags=["auth"])


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"
    role: str
    county: str | None = None


@router.post("/token", response_model=Token)
def login(request: Request, form: Annotated[OAuth2PasswordRequestForm, Depends()],
          db: SessionDep, settings: SettingsDep) -> Token:
    limiter = request.app.state.login_limiter
    client = request.client.host if request.client else "-"
    username = form.username.strip()
    wait = limiter.retry_after(username, client)
    if wait:
        raise ApiError(429, f"登录失败次数过多，请 {wait} 秒后再试 / too many failed logins, retry in {wait} s",
                       type_="rate_limited", headers={"Retry-After": str(wait)})
    user = db.query(User).filter(User.username == username).one_or_none()
    ok = verify_password(form.password, user.password_hash if user else None)
    if not ok or user is None or not user.is_active:
        limiter.failed(username, client)
        raise ApiError(401, "用户名或密码错误 / wrong username or password", type_="unauthorized",
                       headers={"WWW-Authenticate": "Bearer"})
    limiter.succeeded(username, client)
    token = create_access_token(username=user.username, role=user.role, county=user.county,
                                secret=request.app.state.secret_key,
                                minutes=settings.access_token_minutes)
    return Token(access_token=token, role=user.role, county=user.county)
