"""An outside team's WeChat client, written from the public Official Account documentation
(接入指南, 接收普通消息, 接收事件推送, 被动回复用户消息, 消息加解密说明, 客服消息), not from this
project's code, and run against the real service: uvicorn in a subprocess on 127.0.0.1:8108.

The test process plays every other party:
- WeChat's servers (`Platform`): signed GET URL checks and POST pushes, in plain, compatible and
  safe mode (AES-256-CBC, key = base64(EncodingAESKey + "="), IV = key[:16], PKCS#7 padding to
  32 bytes, plaintext = random16 + 4-byte network-order length + xml + appid; msg_signature =
  sha1 of the sorted token, timestamp, nonce, Encrypt). Replies are read strictly: the envelope's
  fields, its signature, the padding, the appid, the reply's fields and their CDATA.
- A stand-in Rasa and a stand-in WeChat API (`Upstream`, one small HTTP server on an ephemeral
  port): Rasa answers `答：<message>` (optionally late), the API hands out a token and records
  customer-service messages.

Service configurations (`service_env`: plain_no_rasa, plain, safe) are started on demand by
`ServiceRunner.ensure`; modules using the same one share the process, another one restarts it.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import secrets
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

ROOT = Path(__file__).resolve().parents[2]
HOST, PORT = "127.0.0.1", 8108
BASE = f"http://{HOST}:{PORT}"

TOKEN = "outside-team-token-7Qx"
ENCODING_AES_KEY = base64.b64encode(secrets.token_bytes(32)).decode().rstrip("=")  # 43 characters
APP_ID = "wxoutside0a1b2c3d4"
APP_SECRET = "outside-app-secret"
ACCOUNT = "gh_outside0a1b2c"  # ToUserName: the account's original id
ACCESS_TOKEN = "ACCESS_TOKEN_outside_1"


# ------------------------------------------------------------------ signatures and AES (the docs)
def sha1_sorted(*parts: str) -> str:
    """signature / msg_signature: sha1 of the parts sorted as strings and concatenated."""
    return hashlib.sha1("".join(sorted(parts)).encode("utf-8")).hexdigest()


def aes_key(encoding_aes_key: str = ENCODING_AES_KEY) -> bytes:
    key = base64.b64decode(encoding_aes_key + "=")
    assert len(key) == 32
    return key


def pkcs7_pad(data: bytes, block: int = 32) -> bytes:
    n = block - len(data) % block  # 1..32: a full block when already aligned
    return data + bytes([n]) * n


def pkcs7_unpad_strict(data: bytes, block: int = 32) -> bytes:
    assert len(data) % block == 0, f"ciphertext not a multiple of {block} bytes"
    n = data[-1]
    assert 1 <= n <= block, f"PKCS#7 pad byte {n} outside 1..{block}"
    assert data[-n:] == bytes([n]) * n, "PKCS#7 padding bytes differ"
    return data[:-n]


def encrypt(xml: str | bytes, *, app_id: str = APP_ID, key: bytes | None = None) -> str:
    key = key or aes_key()
    msg = xml.encode("utf-8") if isinstance(xml, str) else xml
    plain = secrets.token_bytes(16) + struct.pack("!I", len(msg)) + msg + app_id.encode("utf-8")
    enc = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(enc.update(pkcs7_pad(plain)) + enc.finalize()).decode("ascii")


def decrypt(encrypted: str, *, key: bytes | None = None) -> tuple[bytes, str]:
    """(the xml bytes, the appid at the end), checking padding and length strictly."""
    key = key or aes_key()
    raw = base64.b64decode(encrypted, validate=True)
    dec = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
    plain = pkcs7_unpad_strict(dec.update(raw) + dec.finalize())
    (length,) = struct.unpack("!I", plain[16:20])
    assert 20 + length <= len(plain), "length field beyond the payload"
    return plain[20:20 + length], plain[20 + length:].decode("utf-8")


# ------------------------------------------------------------------ messages as WeChat sends them
def cdata(value: str) -> str:
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def xml_of(fields: list[tuple[str, object]]) -> str:
    """Strings in CDATA, numbers bare, in the order given (the docs' layout)."""
    body = "".join(f"<{k}>{v}</{k}>" if isinstance(v, int) else f"<{k}>{cdata(str(v))}</{k}>"
                   for k, v in fields)
    return f"<xml>{body}</xml>"


def new_openid() -> str:
    return "o" + secrets.token_hex(13)  # 27 characters like WeChat's openids


def new_msg_id() -> int:
    return 7 * 10**18 + secrets.randbits(58)  # 64-bit


def head(openid: str, msg_type: str, create_time: int | None = None) -> list[tuple[str, object]]:
    return [("ToUserName", ACCOUNT), ("FromUserName", openid),
            ("CreateTime", int(time.time()) if create_time is None else create_time), ("MsgType", msg_type)]


def text_msg(openid: str, content: str, msg_id: int | None = None, create_time: int | None = None) -> str:
    return xml_of(head(openid, "text", create_time) + [("Content", content), ("MsgId", msg_id or new_msg_id())])


def voice_msg(openid: str, recognition: str | None, msg_id: int | None = None) -> str:
    extra = [("MediaId", "media_" + secrets.token_hex(8)), ("Format", "amr")]
    if recognition is not None:
        extra.append(("Recognition", recognition))
    return xml_of(head(openid, "voice") + extra + [("MsgId", msg_id or new_msg_id())])


def image_msg(openid: str) -> str:
    return xml_of(head(openid, "image") + [("PicUrl", "http://mmbiz.qpic.cn/x.jpg"),
                                           ("MediaId", "media_" + secrets.token_hex(8)), ("MsgId", new_msg_id())])


def link_msg(openid: str) -> str:
    return xml_of(head(openid, "link") + [("Title", "宁夏救助政策"), ("Description", "一篇文章"),
                                          ("Url", "http://example.com/a"), ("MsgId", new_msg_id())])


def location_msg(openid: str) -> str:
    return xml_of(head(openid, "location") + [("Location_X", "36.0"), ("Location_Y", "106.2"), ("Scale", 15),
                                              ("Label", "宁夏回族自治区固原市西吉县"), ("MsgId", new_msg_id())])


def event_msg(openid: str, event: str, create_time: int | None = None, **extra) -> str:
    return xml_of(head(openid, "event", create_time) + [("Event", event)] + list(extra.items()))


def location_event(openid: str, create_time: int | None = None) -> str:
    # Latitude/Longitude/Precision are numbers without CDATA in the docs' example.
    fields = head(openid, "event", create_time) + [("Event", "LOCATION")]
    return xml_of(fields).replace("</xml>", "<Latitude>36.0</Latitude><Longitude>106.2</Longitude>"
                                            "<Precision>65.000000</Precision></xml>")


# ------------------------------------------------------------------ reading replies strictly
@dataclass
class Reply:
    status: int
    body: bytes
    elapsed: float
    encrypted: bool = False
    inner: bytes | None = None  # the plaintext reply XML (decrypted in safe mode)
    fields: dict | None = None  # its fields; None for "success" / "" / an error

    @property
    def silent(self) -> bool:
        """The docs' two ways of saying nothing: `success` or an empty body."""
        return self.status == 200 and self.body in (b"success", b"")

    @property
    def content(self) -> str | None:
        return self.fields.get("Content") if self.fields else None


REPLY_STRING_FIELDS = ("ToUserName", "FromUserName", "MsgType", "Content")


def read_text_reply(raw: bytes) -> dict:
    """A passive text reply per 被动回复用户消息: <xml> with exactly ToUserName, FromUserName,
    CreateTime (an integer), MsgType text and Content, string fields in CDATA."""
    text = raw.decode("utf-8")  # must be UTF-8
    root = ET.fromstring(raw)
    assert root.tag == "xml", f"root <{root.tag}>"
    tags = [child.tag for child in root]
    assert sorted(tags) == sorted(["ToUserName", "FromUserName", "CreateTime", "MsgType", "Content"]), tags
    for child in root:
        assert len(child) == 0, f"<{child.tag}> has children"
    fields = {child.tag: child.text or "" for child in root}
    for name in REPLY_STRING_FIELDS:
        assert re.search(rf"<{name}><!\[CDATA\[", text), f"<{name}> not in CDATA"
    assert re.fullmatch(r"\d{10}", fields["CreateTime"]), fields["CreateTime"]
    assert fields["MsgType"] == "text"
    return fields


class Platform:
    """WeChat's servers, as far as the service sees them."""

    def __init__(self, mode: str = "plain", *, token: str = TOKEN, app_id: str = APP_ID):
        assert mode in ("plain", "compat", "safe")
        self.mode = mode
        self.token = token
        self.app_id = app_id
        self.http = httpx.Client(base_url=BASE, timeout=30, trust_env=False,
                                 headers={"User-Agent": "Mozilla/4.0", "Accept": "*/*"})

    def close(self) -> None:
        self.http.close()

    # --- 接入指南: GET ----------------------------------------------------------------------
    def url_check(self, echostr: str, *, timestamp: str | None = None, nonce: str | None = None,
                  signature: str | None = None, drop: tuple[str, ...] = (), path: str = "/wechat") -> httpx.Response:
        ts = timestamp or str(int(time.time()))
        nonce = nonce or str(secrets.randbelow(10**10))
        q = {"signature": signature or sha1_sorted(self.token, ts, nonce), "echostr": echostr,
             "timestamp": ts, "nonce": nonce}
        for name in drop:
            q.pop(name)
        return self.http.get(path, params=q)

    # --- pushes ----------------------------------------------------------------------------
    def query(self, openid: str | None, encrypted: str | None, *, timestamp: int | None = None,
              nonce: str | None = None) -> dict:
        ts = str(int(time.time()) if timestamp is None else timestamp)
        nonce = nonce or str(secrets.randbelow(10**10))
        q = {"signature": sha1_sorted(self.token, ts, nonce), "timestamp": ts, "nonce": nonce}
        if openid:
            q["openid"] = openid  # WeChat adds the sender's openid to every push URL
        if encrypted is not None:
            q["encrypt_type"] = "aes"
            q["msg_signature"] = sha1_sorted(self.token, ts, nonce, encrypted)
        return q

    def envelope(self, xml: str, *, app_id: str | None = None) -> tuple[bytes, str | None]:
        """(body, Encrypt or None) for this platform's mode."""
        if self.mode == "plain":
            return xml.encode("utf-8"), None
        encrypted = encrypt(xml, app_id=app_id or self.app_id)
        if self.mode == "safe":
            body = f"<xml><ToUserName>{cdata(ACCOUNT)}</ToUserName><Encrypt>{cdata(encrypted)}</Encrypt></xml>"
        else:  # compat: the plaintext fields and the ciphertext side by side
            body = xml.replace("</xml>", f"<Encrypt>{cdata(encrypted)}</Encrypt></xml>")
        return body.encode("utf-8"), encrypted

    def push(self, xml: str, *, timestamp: int | None = None, nonce: str | None = None,
             app_id: str | None = None) -> Reply:
        openid = re.search(r"<FromUserName><!\[CDATA\[(.*?)\]\]>", xml)
        body, encrypted = self.envelope(xml, app_id=app_id)
        q = self.query(openid.group(1) if openid else None, encrypted, timestamp=timestamp, nonce=nonce)
        reply = self.post(q, body)
        if reply.fields is not None and openid:
            # 被动回复: the reply goes back to whoever sent the push, never to anybody else
            assert reply.fields["ToUserName"] == openid.group(1), (reply.fields["ToUserName"], openid.group(1))
        return reply

    def post(self, params: dict, body: bytes, headers: dict | None = None) -> Reply:
        t0 = time.monotonic()
        r = self.http.post("/wechat", params=params, content=body,
                           headers=headers or {"Content-Type": "text/xml"})
        return self.read(r, time.monotonic() - t0)

    def read(self, r: httpx.Response, elapsed: float) -> Reply:
        reply = Reply(r.status_code, r.content, elapsed)
        if r.status_code != 200 or reply.silent:
            return reply
        root = ET.fromstring(r.content)
        if root.find("Encrypt") is not None:
            assert self.mode in ("safe", "compat"), "an encrypted reply to a plaintext push"
            self.check_envelope(r.content)
            reply.encrypted = True
            reply.inner, app_id = decrypt(root.findtext("Encrypt"))
            assert app_id == self.app_id, f"reply encrypted for appid {app_id!r}"
        else:
            assert self.mode in ("plain", "compat"), "a plaintext reply in safe mode"
            reply.inner = r.content
        reply.fields = read_text_reply(reply.inner)
        return reply

    def check_envelope(self, raw: bytes) -> None:
        """被动回复加密: <xml><Encrypt/><MsgSignature/><TimeStamp/><Nonce/></xml>, signed."""
        text = raw.decode("utf-8")
        root = ET.fromstring(raw)
        assert root.tag == "xml"
        assert sorted(c.tag for c in root) == ["Encrypt", "MsgSignature", "Nonce", "TimeStamp"]
        f = {c.tag: c.text or "" for c in root}
        for name in ("Encrypt", "MsgSignature", "Nonce"):
            assert re.search(rf"<{name}><!\[CDATA\[", text), f"<{name}> not in CDATA"
        assert re.fullmatch(r"\d{10}", f["TimeStamp"]), f["TimeStamp"]
        assert abs(int(f["TimeStamp"]) - time.time()) < 60
        assert f["Nonce"], "empty Nonce"
        assert f["MsgSignature"] == sha1_sorted(self.token, f["TimeStamp"], f["Nonce"], f["Encrypt"])


def assert_answers(reply: Reply, openid: str, *, within: float = 5.0) -> str:
    """A passive text reply to `openid` from our account, fresh, within WeChat's 5 s."""
    assert reply.status == 200, (reply.status, reply.body[:300])
    assert reply.fields is not None, f"expected a text reply, got {reply.body[:100]!r}"
    assert reply.fields["ToUserName"] == openid
    assert reply.fields["FromUserName"] == ACCOUNT
    assert abs(int(reply.fields["CreateTime"]) - time.time()) < 60
    assert reply.elapsed < within, reply.elapsed
    assert reply.content and reply.content.strip()
    return reply.content


# ------------------------------------------------------------------ Rasa and the WeChat API
@dataclass
class Upstream:
    """Stand-in Rasa (`/webhooks/rest/webhook`, health) and WeChat API (`/cgi-bin/token`,
    `/cgi-bin/message/custom/send`) on one ephemeral port."""

    rasa_delay: float = 0.0
    rasa_mode: str = "answer"  # or "reset": the connection dies without an answer
    rasa_calls: list = field(default_factory=list)
    token_requests: list = field(default_factory=list)
    sent: list = field(default_factory=list)  # custom/send bodies (dicts)
    other: list = field(default_factory=list)  # any other request (e.g. an XXE fetch)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        with self.lock:
            self.rasa_delay, self.rasa_mode = 0.0, "answer"
            # token_requests stay: the service keeps its token for the whole process.
            self.rasa_calls.clear(), self.sent.clear(), self.other.clear()

    def calls_for(self, openid: str) -> list[str]:
        with self.lock:
            return [c["message"] for c in self.rasa_calls if c["sender"] == openid]

    def sent_to(self, openid: str) -> list[dict]:
        with self.lock:
            return [b for b in self.sent if b.get("touser") == openid]

    def start(self) -> None:
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def _json(self, status: int, data) -> None:
                raw = json.dumps(data, ensure_ascii=False).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def _body(self) -> bytes:
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def do_GET(self):
                url = urlsplit(self.path)
                if url.path == "/cgi-bin/token":
                    with upstream.lock:
                        upstream.token_requests.append(parse_qs(url.query))
                    return self._json(200, {"access_token": ACCESS_TOKEN, "expires_in": 7200})
                if url.path in ("/", "/health"):
                    return self._json(200, {"status": "ok"})
                with upstream.lock:
                    upstream.other.append(("GET", self.path))
                self._json(404, {})

            def do_POST(self):
                url = urlsplit(self.path)
                body = self._body()
                if url.path == "/webhooks/rest/webhook":
                    data = json.loads(body)
                    with upstream.lock:
                        upstream.rasa_calls.append(data)
                        delay, mode = upstream.rasa_delay, upstream.rasa_mode
                    if mode == "reset":
                        self.close_connection = True
                        self.connection.shutdown(socket.SHUT_RDWR)
                        return
                    time.sleep(delay)
                    return self._json(200, [{"recipient_id": data["sender"], "text": f"答：{data['message']}"}])
                if url.path == "/cgi-bin/message/custom/send":
                    q = parse_qs(url.query)
                    if q.get("access_token") != [ACCESS_TOKEN]:
                        return self._json(200, {"errcode": 40001, "errmsg": "invalid credential"})
                    data = json.loads(body.decode("utf-8"))  # must be UTF-8 JSON
                    with upstream.lock:
                        upstream.sent.append(data)
                    return self._json(200, {"errcode": 0, "errmsg": "ok"})
                with upstream.lock:
                    upstream.other.append(("POST", self.path))
                self._json(404, {})

        self.server = ThreadingHTTPServer((HOST, 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://{HOST}:{self.port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def closed_port() -> int:
    """A port nothing listens on: an unreachable Rasa."""
    s = socket.socket()
    s.bind((HOST, 0))
    port = s.getsockname()[1]
    s.close()
    return port


# ------------------------------------------------------------------ the service process
def service_env(name: str, upstream: Upstream, workdir: Path) -> dict:
    dead = f"http://{HOST}:{closed_port()}"
    env = {
        "HOTLINE_DATABASE_URL": f"sqlite:///{workdir / (name + '.db')}",
        "HOTLINE_AS_OF": "2022-07-01",
        "HOTLINE_SECRET_KEY": "outside-" + "k" * 40,
        "HOTLINE_HELD_TICKETS_DIR": str(workdir / f"held-{name}"),
        "HOTLINE_OUTBOX_POLL_SECONDS": "0.2",
        "HOTLINE_OUTBOX_BACKOFF_SECONDS": "0.2",
        "HOTLINE_LOG_LEVEL": "INFO",
        "WECHAT_TOKEN": TOKEN,
    }
    if name == "plain_no_rasa":  # plain mode, the assistant unreachable, no API credentials
        env.update(HOTLINE_RASA_URL=dead, HOTLINE_ACTION_SERVER_URL=dead)
    elif name in ("plain", "safe"):  # stand-in Rasa and API
        env.update(HOTLINE_RASA_URL=upstream.url, HOTLINE_ACTION_SERVER_URL=upstream.url,
                   WECHAT_APP_ID=APP_ID, WECHAT_APP_SECRET=APP_SECRET, WECHAT_API_BASE_URL=upstream.url)
        if name == "safe":
            env["WECHAT_ENCODING_AES_KEY"] = ENCODING_AES_KEY
    else:
        raise KeyError(name)
    return env


class ServiceRunner:
    """One uvicorn process of the service on 127.0.0.1:8108 at a time."""

    def __init__(self, upstream: Upstream, workdir: Path):
        self.upstream = upstream
        self.workdir = workdir
        self.name: str | None = None
        self.proc: subprocess.Popen | None = None
        self.log_path: Path | None = None

    def ensure(self, name: str) -> "ServiceRunner":
        if self.name == name and self.proc is not None and self.proc.poll() is None:
            return self
        self.stop()
        with socket.socket() as s:
            if s.connect_ex((HOST, PORT)) == 0:
                raise RuntimeError(f"{HOST}:{PORT} is already in use: the outside tests need it")
        self.log_path = self.workdir / f"service-{name}.log"
        clean = {k: v for k, v in os.environ.items() if not k.startswith(("HOTLINE_", "WECHAT_"))}
        clean["PYTHONPATH"] = str(ROOT)
        with open(self.log_path, "ab") as log:
            # cwd outside the checkout: no .env, no var/ of the developer's.
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "uvicorn", "service.main:create_app", "--factory",
                 "--host", HOST, "--port", str(PORT), "--no-access-log"],
                cwd=self.workdir, env={**clean, **service_env(name, self.upstream, self.workdir)},
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.name = name
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the service exited:\n{self.log()[-3000:]}")
            try:
                httpx.get(f"{BASE}/healthz", timeout=3, trust_env=False)
                return self
            except httpx.HTTPError:
                time.sleep(0.2)
        raise RuntimeError(f"the service did not start:\n{self.log()[-3000:]}")

    def log(self) -> str:
        return self.log_path.read_text("utf-8", "replace") if self.log_path and self.log_path.exists() else ""

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self.proc, self.name = None, None


def wait_for(predicate, timeout: float = 15.0, step: float = 0.1):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    return predicate()
