"""The WeChat Official Account API, as far as the channel needs it: send a customer-service text
message (`POST /cgi-bin/message/custom/send`) with an access token from app id + secret.

`WeChatApi` is the interface; `HttpWeChatApi` the real client (httpx; the token cached in memory
and in the database, shared by every worker, refreshed before it expires and when WeChat says
it is invalid); `FakeWeChatApi` the in-process fake for tests.
"""
from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

import httpx

from service.core.db import Database
from service.models.base import utcnow
from service.models.wechat import WeChatAccessToken

log = logging.getLogger("service.wechat.api")

# The token is refreshed this long before WeChat says it expires.
TOKEN_MARGIN = timedelta(seconds=300)
# errcodes meaning "this access token is no good": fetch a new one and try once more.
TOKEN_ERRORS = {40001, 40014, 42001}
# errcodes no retry can fix: bad openid, the caller unsubscribed, outside the 48-hour window to
# answer, API not granted to this account.
PERMANENT_ERRORS = {40003, 43004, 45015, 45047, 48001, 40013, 40125, 40164}


class WeChatApiError(Exception):
    def __init__(self, message: str, *, errcode: int | None = None, permanent: bool = False):
        super().__init__(message)
        self.errcode = errcode
        self.permanent = permanent


class WeChatApi(Protocol):
    def send_text(self, openid: str, content: str) -> None:
        """Send one customer-service text message; raise WeChatApiError on failure."""
        ...

    def close(self) -> None: ...


@dataclass
class FakeWeChatApi:
    """In-process stand-in: records what would have reached each caller; `fail_next` failures
    first (transient), or `permanent_for` openids that always fail like an unsubscribed caller."""

    fail_next: int = 0
    permanent_for: set[str] = field(default_factory=set)
    sent: list[tuple[str, str]] = field(default_factory=list)
    attempts: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def send_text(self, openid: str, content: str) -> None:
        with self._lock:
            self.attempts += 1
            if openid in self.permanent_for:
                raise WeChatApiError("fake: user unsubscribed", errcode=43004, permanent=True)
            if self.fail_next > 0:
                self.fail_next -= 1
                raise WeChatApiError("fake: system busy", errcode=-1)
            self.sent.append((openid, content))

    def to(self, openid: str) -> list[str]:
        with self._lock:
            return [c for o, c in self.sent if o == openid]

    def close(self) -> None:
        pass


class HttpWeChatApi:
    def __init__(self, app_id: str, app_secret: str, *, db: Database,
                 base_url: str = "https://api.weixin.qq.com", timeout: float = 10.0):
        self.app_id = app_id
        self._secret = app_secret
        self.db = db
        self.base_url = base_url.rstrip("/")
        self._client = httpx.Client(timeout=timeout, trust_env=False)
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires: datetime | None = None

    # --- the access token -------------------------------------------------------------------
    def _fresh(self, expires: datetime | None) -> bool:
        return expires is not None and utcnow() < expires - TOKEN_MARGIN

    def access_token(self, *, force: bool = False, stale: str | None = None) -> str:
        """A valid token: memory, then the database (another worker's), then WeChat. `stale` is
        a token WeChat just refused: anything else found in the database is newer and good."""
        with self._lock:
            if not force and self._token and self._fresh(self._expires):
                return self._token
            with self.db.session() as s:
                row = s.get(WeChatAccessToken, self.app_id)
                if row is not None and self._fresh(row.expires_at) and row.token != stale and (
                        not force or stale is not None):
                    self._token, self._expires = row.token, row.expires_at
                    return row.token
            token, expires = self._fetch()
            with self.db.session() as s:
                row = s.get(WeChatAccessToken, self.app_id)
                if row is None:
                    s.add(WeChatAccessToken(app_id=self.app_id, token=token, expires_at=expires,
                                            updated_at=utcnow()))
                else:
                    row.token, row.expires_at, row.updated_at = token, expires, utcnow()
            self._token, self._expires = token, expires
            return token

    def _fetch(self) -> tuple[str, datetime]:
        try:
            r = self._client.get(f"{self.base_url}/cgi-bin/token", params={
                "grant_type": "client_credential", "appid": self.app_id, "secret": self._secret})
            data = r.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise WeChatApiError(f"token: {type(exc).__name__}: {exc}") from exc
        if "access_token" not in data:
            code = data.get("errcode")
            # A wrong secret or an IP not on the whitelist: retrying later may help once fixed.
            raise WeChatApiError(f"token: errcode {code}: {data.get('errmsg')}", errcode=code)
        log.info("wechat access token refreshed", extra={"event": "wechat.token_refreshed"})
        return data["access_token"], utcnow() + timedelta(seconds=int(data.get("expires_in", 7200)))

    # --- sending -----------------------------------------------------------------------------
    def _post(self, path: str, body: dict, token: str) -> dict:
        # ensure_ascii=False: WeChat shows \\uXXXX escapes literally instead of the characters.
        raw = json.dumps(body, ensure_ascii=False).encode("utf-8")
        try:
            r = self._client.post(f"{self.base_url}{path}", params={"access_token": token}, content=raw,
                                  headers={"Content-Type": "application/json; charset=utf-8"})
            r.raise_for_status()
            return r.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise WeChatApiError(f"{path}: {type(exc).__name__}: {exc}") from exc

    def send_text(self, openid: str, content: str) -> None:
        body = {"touser": openid, "msgtype": "text", "text": {"content": content}}
        token = self.access_token()
        data = self._post("/cgi-bin/message/custom/send", body, token)
        if data.get("errcode") in TOKEN_ERRORS:
            token = self.access_token(force=True, stale=token)
            data = self._post("/cgi-bin/message/custom/send", body, token)
        code = data.get("errcode", 0)
        if code != 0:
            raise WeChatApiError(f"custom/send: errcode {code}: {data.get('errmsg')}", errcode=code,
                                 permanent=code in PERMANENT_ERRORS)

    def close(self) -> None:
        self._client.close()
