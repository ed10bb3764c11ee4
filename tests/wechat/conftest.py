"""Fixtures for the WeChat channel: a real database (SQLite file; PostgreSQL where a module asks),
the real app over HTTP, a fake assistant with handle_turn's signature, the fake API client, and
`WeChatSide` — WeChat's half of the protocol written from the public documentation, independent
of wechatpy (its own sha1 signatures, its own AES-256-CBC envelope), so the channel is checked
against the protocol and not against the library it is built on.
"""
from __future__ import annotations

import base64
import hashlib
import secrets
import struct
import threading
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import date

import pytest
from pg_support import migrated_schema
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from sqlalchemy import text
from starlette.testclient import TestClient

from service.core.config import Settings
from service.core.db import Database, migrate
from service.main import create_app
from service.services.chat import TurnResult
from service.services.rasa import FakeRasa
from service.services.wechat_api import FakeWeChatApi

AS_OF = date(2022, 7, 1)
TOKEN = "hotline-wechat-test-token"
# A test EncodingAESKey: 43 characters of base64 for a 32-byte AES key.
AES_KEY_BYTES = bytes(range(32))
ENCODING_AES_KEY = base64.b64encode(AES_KEY_BYTES).decode().rstrip("=")
APP_ID = "wx0123456789abcdef"
ACCOUNT = "gh_0123456789ab"
TABLES = ("wechat_inbound", "wechat_deliveries", "wechat_more", "wechat_access_tokens",
          "ticket_events", "tickets", "outbox", "conversations")

assert len(ENCODING_AES_KEY) == 43


# ---------------------------------------------------------------- databases
@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('wechat-db') / 'wechat.db'}"
    migrate(url)
    return url


@pytest.fixture(scope="session")
def postgres_url():
    with migrated_schema("wechat_test", "WeChat PostgreSQL tests") as url:
        yield url


@pytest.fixture
def database_url(sqlite_url) -> str:
    return sqlite_url


def clean(database: Database) -> None:
    with database.engine.begin() as c:
        for table in TABLES:
            c.execute(text(f"DELETE FROM {table}"))


@pytest.fixture
def db(database_url):
    database = Database(database_url)
    clean(database)
    yield database
    clean(database)
    database.dispose()


def counts(database: Database) -> dict[str, int]:
    with database.engine.connect() as c:
        return {t: c.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in TABLES}


def snapshot(database: Database) -> dict[str, list]:
    with database.engine.connect() as c:
        return {t: [tuple(r) for r in c.execute(text(f"SELECT * FROM {t} ORDER BY 1"))] for t in TABLES}


# ---------------------------------------------------------------- the assistant
@dataclass
class FakeAssistant:
    """Stands in for service.services.chat.handle_turn (same signature): answers `reply(message)`
    after `delay` seconds and records each call."""

    delay: float = 0.0
    reply: object = None  # callable(message) -> str, or None for an echo
    calls: list[dict] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, session, rasa, *, sender, message, channel, default_as_of, sla_minutes) -> TurnResult:
        with self._lock:
            self.calls.append({"sender": sender, "message": message, "channel": channel,
                               "default_as_of": default_as_of})
        if self.delay:
            time.sleep(self.delay)
        text_ = self.reply(message) if callable(self.reply) else f"助手答复：{message}"
        return TurnResult(messages=[{"recipient_id": sender, "text": text_}], fallback=False)


@pytest.fixture
def assistant() -> FakeAssistant:
    return FakeAssistant()


@pytest.fixture
def wechat_api() -> FakeWeChatApi:
    return FakeWeChatApi()


@pytest.fixture
def fake_rasa() -> FakeRasa:
    return FakeRasa()


# ---------------------------------------------------------------- the app
@pytest.fixture
def settings_kwargs(database_url) -> dict:
    """What a test module may override (e.g. safe mode, a shorter deadline)."""
    return dict(database_url=database_url, as_of=AS_OF, secret_key="x" * 40, bot_token="bot-token",
                outbox_enabled=False, run_migrations=False, admin_password=None,
                supervisor_state_file=None, wechat_token=TOKEN, max_body_bytes=64 * 1024,
                wechat_max_body_bytes=16 * 1024)


def make_app(kwargs: dict, *, assistant=None, api=None, rasa=None):
    app = create_app(Settings(**kwargs), rasa=rasa or FakeRasa())
    if assistant is not None:
        app.state.wechat_chat = assistant
    app.state.wechat_api = api
    return app


@pytest.fixture
def app(settings_kwargs, db, assistant, wechat_api, fake_rasa):
    return make_app(settings_kwargs, assistant=assistant, api=wechat_api, rasa=fake_rasa)


@pytest.fixture
def client(app):
    with TestClient(app) as c:
        yield c


# ---------------------------------------------------------------- WeChat's side of the protocol
def sha1_sorted(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode("utf-8")).hexdigest()


def aes_encrypt(plain_xml: str, key: bytes = AES_KEY_BYTES, app_id: str = APP_ID) -> str:
    """WeChat's envelope: base64(AES-256-CBC(random16 + len(msg) network order + msg + appid)),
    IV = key[:16], PKCS#7 padding to 32-byte blocks."""
    msg = plain_xml.encode("utf-8")
    raw = secrets.token_bytes(16) + struct.pack(">I", len(msg)) + msg + app_id.encode()
    pad = 32 - len(raw) % 32
    raw += bytes([pad]) * pad
    enc = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(enc.update(raw) + enc.finalize()).decode()


def aes_decrypt(encrypted: str, key: bytes = AES_KEY_BYTES) -> tuple[str, str]:
    dec = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
    raw = dec.update(base64.b64decode(encrypted)) + dec.finalize()
    raw = raw[:-raw[-1]]
    (length,) = struct.unpack(">I", raw[16:20])
    return raw[20:20 + length].decode("utf-8"), raw[20 + length:].decode()


def text_xml(openid: str, content: str, msg_id: int | str, create_time: int | None = None,
             account: str = ACCOUNT) -> str:
    return (f"<xml><ToUserName><![CDATA[{account}]]></ToUserName>"
            f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
            f"<CreateTime>{create_time or int(time.time())}</CreateTime>"
            f"<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{content}]]></Content>"
            f"<MsgId>{msg_id}</MsgId></xml>")


def event_xml(openid: str, event: str, create_time: int, account: str = ACCOUNT, key: str = "") -> str:
    return (f"<xml><ToUserName><![CDATA[{account}]]></ToUserName>"
            f"<FromUserName><![CDATA[{openid}]]></FromUserName><CreateTime>{create_time}</CreateTime>"
            f"<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[{event}]]></Event>"
            f"<EventKey><![CDATA[{key}]]></EventKey></xml>")


def media_xml(openid: str, msg_type: str, msg_id: int, extra: str = "", account: str = ACCOUNT) -> str:
    return (f"<xml><ToUserName><![CDATA[{account}]]></ToUserName>"
            f"<FromUserName><![CDATA[{openid}]]></FromUserName><CreateTime>{int(time.time())}</CreateTime>"
            f"<MsgType><![CDATA[{msg_type}]]></MsgType>{extra}<MsgId>{msg_id}</MsgId></xml>")


@dataclass
class Reply:
    status: int
    body: bytes
    plain: str | None  # the plaintext reply (decrypted in safe mode), or None for an error
    fields: dict | None  # the reply's XML fields, None for "success"

    @property
    def content(self) -> str | None:
        return self.fields.get("Content") if self.fields else None


def sender_of(xml: str | bytes) -> str | None:
    """The push's FromUserName, when the XML is well-formed and has exactly one."""
    try:
        found = [e.text for e in ET.fromstring(xml).iter("FromUserName")]
    except ET.ParseError:
        return None
    return found[0] if len(found) == 1 else None


class WeChatSide:
    """Signs and (in safe mode) encrypts pushes as WeChat does, and reads the replies back,
    checking the reply's msg_signature."""

    def __init__(self, http, *, token: str = TOKEN, safe: bool = False):
        self.http = http
        self.token = token
        self.safe = safe

    def query(self, *, timestamp: int | None = None, nonce: str | None = None, signature: str | None = None,
              encrypted: str | None = None, msg_signature: str | None = None) -> dict:
        ts = str(int(time.time()) if timestamp is None else timestamp)
        nonce = nonce or str(secrets.randbelow(10**10))
        q = {"signature": signature or sha1_sorted(self.token, ts, nonce), "timestamp": ts, "nonce": nonce,
             "openid": "o-ignored-by-the-channel"}
        if encrypted is not None:
            q["encrypt_type"] = "aes"
            q["msg_signature"] = msg_signature or sha1_sorted(self.token, ts, nonce, encrypted)
        return q

    def push(self, xml: str | bytes, *, timestamp: int | None = None, nonce: str | None = None,
             signature: str | None = None, msg_signature: str | None = None, encrypt: bool | None = None,
             app_id: str = APP_ID) -> Reply:
        encrypt = self.safe if encrypt is None else encrypt
        if encrypt:
            encrypted = aes_encrypt(xml if isinstance(xml, str) else xml.decode(), app_id=app_id)
            body = (f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>"
                    f"<Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>").encode()
            q = self.query(timestamp=timestamp, nonce=nonce, signature=signature, encrypted=encrypted,
                           msg_signature=msg_signature)
        else:
            body = xml.encode("utf-8") if isinstance(xml, str) else xml
            q = self.query(timestamp=timestamp, nonce=nonce, signature=signature)
        r = self.http.post("/wechat", params=q, content=body, headers={"Content-Type": "text/xml"})
        reply = self.read(r)
        sender = sender_of(xml)
        if reply.fields is not None and sender is not None:
            # A passive reply goes to whoever sent the push (issue 14: never to another caller).
            assert reply.fields.get("ToUserName") == sender, (reply.fields.get("ToUserName"), sender)
        return reply

    def read(self, r) -> Reply:
        if r.status_code != 200:
            return Reply(r.status_code, r.content, None, None)
        plain = r.content.decode("utf-8")
        if plain == "success":
            return Reply(200, r.content, plain, None)
        outer = {child.tag: child.text for child in ET.fromstring(plain)}
        if "Encrypt" in outer:
            assert self.safe, "an encrypted reply to a plaintext push"
            # The reply's own signature, checked as WeChat does.
            assert outer["MsgSignature"] == sha1_sorted(self.token, outer["TimeStamp"], outer["Nonce"],
                                                        outer["Encrypt"])
            plain, app_id = aes_decrypt(outer["Encrypt"])
            assert app_id == APP_ID
        else:
            assert not self.safe, "a plaintext reply in safe mode"
        fields = {child.tag: child.text for child in ET.fromstring(plain)}
        return Reply(200, r.content, plain, fields)


@pytest.fixture
def wechat(client) -> WeChatSide:
    return WeChatSide(client)


def new_msg_id() -> int:
    """A 64-bit MsgId like WeChat's (random: the conftest may be imported twice)."""
    return 6 * 10**18 + secrets.randbits(58)


def new_openid() -> str:
    return "o" + secrets.token_urlsafe(20).replace("-", "A").replace("_", "B")[:27]
