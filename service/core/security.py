"""Passwords (argon2id), access tokens (JWT, HS256) and the failed-login limiter."""
from __future__ import annotations

import hmac
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

JWT_ALGORITHM = "HS256"


@lru_cache(maxsize=1)
def _hasher() -> PasswordHasher:
    return PasswordHasher()  # argon2id with the library's current recommended parameters


def hash_password(password: str) -> str:
    return _hasher().hash(password)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _hasher().hash(secrets.token_urlsafe(16))


def verify_password(password: str, password_hash: str | None) -> bool:
    """Constant-ish time: an unknown user costs the same as a wrong password."""
    try:
        return _hasher().verify(password_hash or _dummy_hash(), password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def create_access_token(*, username: str, role: str, county: str | None, secret: str,
                        minutes: int) -> str:
    now = datetime.now(timezone.utc)
    claims = {"sub": username, "role": role, "county": county, "iat": now,
              "exp": now + timedelta(minutes=minutes), "jti": secrets.token_hex(8)}
    return jwt.encode(claims, secret, algorithm=JWT_ALGORITHM)


def decode_access_token(token: str, secret: str) -> dict:
    """Claims of a valid token; raises jwt.PyJWTError otherwise."""
    return jwt.decode(token, secret, algorithms=[JWT_ALGORITHM], options={"require": ["sub", "exp"]})


def tokens_equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


@dataclass
class _Failures:
    count: int
    first_at: float


class LoginLimiter:
    """Failed logins per (username, client address): after `max_failures` within `window`
    seconds further attempts get 429 until the window has passed. In memory: one service process."""

    def __init__(self, max_failures: int, window_seconds: int, clock=time.monotonic):
        self.max_failures = max_failures
        self.window = window_seconds
        self.clock = clock
        self._lock = threading.Lock()
        self._failures: dict[tuple[str, str], _Failures] = {}

    def retry_after(self, username: str, client: str) -> int:
        """Seconds to wait before trying again (0: allowed now)."""
        with self._lock:
            f = self._failures.get((username, client))
            if f is None:
                return 0
            left = f.first_at + self.window - self.clock()
            if left <= 0:
                del self._failures[(username, client)]
                return 0
            return int(left) + 1 if f.count >= self.max_failures else 0

    def failed(self, username: str, client: str) -> None:
        with self._lock:
            now = self.clock()
            f = self._failures.get((username, client))
            if f is None or f.first_at + self.window <= now:
                self._failures[(username, client)] = _Failures(1, now)
            else:
                f.count += 1
            if len(self._failures) > 10_000:  # bound memory under a spray of usernames
                cutoff = now - self.window
                self._failures = {k: v for k, v in self._failures.items() if v.first_at > cutoff}

    def succeeded(self, username: str, client: str) -> None:
        with self._lock:
            self._failures.pop((username, client), None)
