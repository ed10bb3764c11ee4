"""Accounts: created by `hotline user add` and, for `admin`, from HOTLINE_ADMIN_PASSWORD."""
from __future__ import annotations

import logging
import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.core.security import hash_password
from service.models.user import ROLES, User

log = logging.getLogger("service.users")
USERNAME = re.compile(r"^[\w.@-]{1,64}$")


class UserError(ValueError):
    pass


def check_new_user(username: str, role: str, county: str | None, password: str) -> str | None:
    """Validated canonical county (or None); raises UserError with a clear message."""
    import policy_kb

    if not USERNAME.match(username or ""):
        raise UserError(f"用户名无效 / invalid username {username!r}: 1-64 letters, digits, _ . @ -")
    if role not in ROLES:
        raise UserError(f"未知角色 / unknown role {role!r}: one of {', '.join(ROLES)}")
    if not password or len(password) < 8:
        raise UserError("密码至少 8 位 / password must have at least 8 characters")
    if role == "county":
        if not county:
            raise UserError("县级账号必须指定 --county / role county needs --county (e.g. 西吉县)")
        found = policy_kb.resolve_county(county)
        if found is None:
            names = "、".join(c.name for c in policy_kb.counties())
            raise UserError(f"未知的县（市、区）/ unknown county {county!r}; one of: {names}")
        return found.name
    if county:
        raise UserError(f"--county 只用于 county 角色 / --county is only for role county (role {role} sees every county)")
    return None


def add_user(session: Session, username: str, role: str, password: str,
             county: str | None = None) -> User:
    county = check_new_user(username, role, county, password)
    if session.scalar(select(User).where(User.username == username)) is not None:
        raise UserError(f"用户已存在 / user {username!r} already exists")
    user = User(username=username, role=role, county=county, password_hash=hash_password(password))
    session.add(user)
    session.commit()
    return user


def ensure_admin(session: Session, password: str | None) -> bool:
    """Create `admin` from HOTLINE_ADMIN_PASSWORD if it does not exist; True when created."""
    if not password:
        return False
    if session.scalar(select(User).where(User.username == "admin")) is not None:
        return False
    session.add(User(username="admin", role="admin", county=None, password_hash=hash_password(password)))
    session.commit()
    log.info("created account admin from HOTLINE_ADMIN_PASSWORD", extra={"event": "users.admin_created"})
    return True
