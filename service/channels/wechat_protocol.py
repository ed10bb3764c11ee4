"""The WeChat Official Account push protocol, on top of wechatpy: signature and timestamp checks,
safe-mode crypto (WeChatCrypto: AES-256-CBC with the EncodingAESKey, msg_signature), strict XML
parsing, and passive text replies.

Everything here is pure (no database, no app): the router in `wechat.py` calls it in order.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import time
from dataclasses import dataclass
from xml.parsers import expat

import xmltodict
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.replies import TextReply
from wechatpy.utils import WeChatSigner

from service.core.errors import ApiError
from service.services.wechat_text import MAX_TEXT_BYTES, clean_text, split_text

# WeChat never sends a DTD; refusing one up front rules out entity tricks (billion laughs, XXE).
# The byte pattern sees ASCII-compatible encodings only; the parser itself refuses the rest
# (a UTF-16 document, with or without a byte-order mark).
_DTD = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.I)


class _DtdRefused(Exception):
    pass


def _refuse_dtd(*_args) -> None:
    raise _DtdRefused()


class _NoDtdExpat:
    """xml.parsers.expat for xmltodict, whose parsers refuse any DOCTYPE or entity declaration."""

    ExpatError = expat.ExpatError

    @staticmethod
    def ParserCreate(*args, **kwargs):  # noqa: N802 - expat's name
        parser = expat.ParserCreate(*args, **kwargs)
        parser.StartDoctypeDeclHandler = _refuse_dtd
        parser.EntityDeclHandler = _refuse_dtd
        return parser


_OPENID = re.compile(r"^[A-Za-z0-9_\-]{1,128}$")
_ACCOUNT = re.compile(r"^[A-Za-z0-9_\-@.]{1,128}$")  # our original id, gh_…


def forbidden(detail: str, type_: str = "bad_signature") -> ApiError:
    return ApiError(403, detail, type_=type_)


def bad_request(detail: str, field: str | None = None, type_: str = "bad_message") -> ApiError:
    return ApiError(400, detail, field=field, type_=type_)


# ------------------------------------------------------------------ request authenticity
def check_signature(token: str, signature: str | None, timestamp: str | None, nonce: str | None) -> None:
    """sha1 of the sorted token, timestamp and nonce must equal `signature` (else 403)."""
    if not signature or not timestamp or not nonce:
        missing = [n for n, v in (("signature", signature), ("timestamp", timestamp), ("nonce", nonce)) if not v]
        raise forbidden(f"缺少签名参数 / missing signature parameter(s): {', '.join(missing)}")
    signer = WeChatSigner()
    signer.add_data(token, timestamp, nonce)
    # Constant-time: the answer's timing must not tell how much of a guess was right.
    if not hmac.compare_digest(signer.signature.encode(), signature.strip().lower().encode("utf-8")):
        raise forbidden("签名错误 / invalid signature")


def check_msg_signature(token: str, msg_signature: str | None, timestamp: str, nonce: str,
                        encrypted: object) -> None:
    """msg_signature = sha1 of the sorted token, timestamp, nonce and <Encrypt> (else 403)."""
    if not msg_signature or not isinstance(encrypted, str) or not encrypted:
        raise forbidden("兼容模式需要 msg_signature 与 <Encrypt> / compatible mode: msg_signature or "
                        "<Encrypt> missing")
    signer = WeChatSigner()
    signer.add_data(token, timestamp, nonce, encrypted)
    if not hmac.compare_digest(signer.signature.encode(), msg_signature.strip().lower().encode("utf-8")):
        raise forbidden("msg_signature 错误 / invalid msg_signature")


def check_timestamp(timestamp: str, window_seconds: int, now: float | None = None) -> int:
    """The signed timestamp must lie within `window_seconds` of now (a replayed request is stale)."""
    try:
        ts = int(timestamp)
    except ValueError:
        raise forbidden("timestamp 不是整数 / timestamp is not an integer", "stale_request") from None
    now = time.time() if now is None else now
    if abs(now - ts) > window_seconds:
        raise forbidden(f"请求已过期 / request timestamp outside the {window_seconds} s window",
                        "stale_request")
    return ts


def make_crypto(token: str, encoding_aes_key: str, app_id: str) -> WeChatCrypto:
    if len(encoding_aes_key) != 43:
        raise ValueError("WECHAT_ENCODING_AES_KEY must be 43 characters (WeChat's EncodingAESKey)")
    return WeChatCrypto(token, encoding_aes_key, app_id)


def decrypt(crypto: WeChatCrypto, envelope: dict, msg_signature: str | None, timestamp: str,
            nonce: str) -> str:
    """The inner XML of a safe-mode push; 403 when msg_signature or the app id does not match."""
    if not msg_signature:
        raise forbidden("安全模式需要 msg_signature / safe mode: msg_signature missing")
    encrypted = envelope.get("Encrypt")
    if not isinstance(encrypted, str) or not encrypted:
        raise bad_request("安全模式下消息必须加密 / safe mode: the message has no <Encrypt>", "Encrypt")
    try:
        return crypto.decrypt_message({"Encrypt": encrypted}, msg_signature, timestamp, nonce)
    except InvalidSignatureException:
        raise forbidden("msg_signature 错误 / invalid msg_signature") from None
    except InvalidAppIdException:
        raise forbidden("AppID 不符 / message encrypted for another AppID", "wrong_app_id") from None
    except Exception:  # noqa: BLE001 - bad base64, padding, length: a broken envelope
        raise bad_request("无法解密 / the <Encrypt> payload cannot be decrypted", "Encrypt") from None


def encrypt(crypto: WeChatCrypto, reply_xml: str, nonce: str) -> str:
    return crypto.encrypt_message(reply_xml, nonce, str(int(time.time())))


# ------------------------------------------------------------------ the message
def parse_xml(body: bytes | str) -> dict:
    """The <xml> element as a flat dict of strings (nested elements as dicts); 400 otherwise."""
    raw = body.encode("utf-8") if isinstance(body, str) else body
    if not raw.strip():
        raise bad_request("请求体为空 / empty body: a WeChat XML message is expected")
    dtd = bad_request("不接受 DTD / XML with a DOCTYPE or ENTITY declaration is refused")
    if _DTD.search(raw):
        raise dtd
    try:
        doc = xmltodict.parse(raw, disable_entities=True, expat=_NoDtdExpat)
    except _DtdRefused:
        raise dtd from None
    except Exception as exc:  # noqa: BLE001 - expat errors, bad encodings
        raise bad_request(f"XML 格式错误 / malformed XML: {str(exc)[:120]}") from None
    if not isinstance(doc, dict) or list(doc) != ["xml"] or not isinstance(doc["xml"], dict):
        raise bad_request("根元素必须是 <xml> / the root element must be <xml> with children")
    return doc["xml"]


@dataclass(frozen=True)
class Inbound:
    """One pushed message or event, as much of it as the channel reads."""

    openid: str  # FromUserName
    account: str  # ToUserName
    msg_type: str  # text, voice, image, …, event
    create_time: int
    msg_id: str | None
    event: str | None = None  # subscribe, unsubscribe, CLICK … (lower case)
    content: str | None = None  # text; or a voice message's Recognition
    raw: dict | None = None

    @property
    def dedupe_key(self) -> str:
        # WeChat's rule for finding retries: MsgId for messages, FromUserName + CreateTime for
        # events, and the event too: a retry repeats it, while two events of one second (subscribe,
        # then the LOCATION report the account asked for) are two pushes, each answered. Both are
        # scoped to our account and the sender: a MsgId that another sender's message (or another
        # Official Account's) happens to carry is a new message, never a retry of this one, so one
        # caller's stored reply can never reach another. ≤ 400 characters (account and openid ≤ 128
        # each, MsgId ≤ 64, CreateTime ≤ 20).
        if self.msg_id:
            return f"msg:{self.account}:{self.openid}:{self.msg_id}"
        kind = (self.event or self.msg_type)[:40]
        return f"event:{self.account}:{self.openid}:{self.create_time}:{kind}"

    @property
    def openid_ref(self) -> str:
        """A stable short reference to the caller for logs (not the openid itself)."""
        return hashlib.sha1(self.openid.encode()).hexdigest()[:10]


def _str(fields: dict, name: str, *, required: bool = True, max_len: int = 10000) -> str | None:
    value = fields.get(name)
    if value is None:
        if required:
            raise bad_request(f"缺少 <{name}> / missing <{name}>", name)
        return None
    if not isinstance(value, str):
        raise bad_request(f"<{name}> 必须是文本 / <{name}> must be text", name)
    if len(value) > max_len:
        raise bad_request(f"<{name}> 过长 / <{name}> too long", name)
    return value


def read_message(fields: dict) -> Inbound:
    openid = _str(fields, "FromUserName", max_len=128)
    if not _OPENID.match(openid):
        raise bad_request("FromUserName 格式错误 / FromUserName is not an openid", "FromUserName")
    account = _str(fields, "ToUserName", max_len=128)
    if not _ACCOUNT.match(account):
        raise bad_request("ToUserName 格式错误 / ToUserName is not an account id", "ToUserName")
    msg_type = _str(fields, "MsgType", max_len=32).strip().lower()
    try:
        create_time = int(_str(fields, "CreateTime", max_len=20))
    except ValueError:
        raise bad_request("CreateTime 必须是整数 / CreateTime must be an integer", "CreateTime") from None
    msg_id = _str(fields, "MsgId", required=False, max_len=64)
    if msg_id is not None and not msg_id.strip().isdigit():
        raise bad_request("MsgId 必须是数字 / MsgId must be a number", "MsgId")
    event = None
    content = None
    if msg_type == "event":
        event = (_str(fields, "Event", max_len=64) or "").strip().lower()
        msg_id = None  # events are told apart by sender and time
    elif msg_type == "text":
        content = _str(fields, "Content", required=False) or ""
        if msg_id is None:
            raise bad_request("文本消息缺少 <MsgId> / text message without <MsgId>", "MsgId")
    elif msg_type == "voice":
        content = _str(fields, "Recognition", required=False)  # speech-to-text, when enabled
    return Inbound(openid=openid, account=account, msg_type=msg_type, create_time=create_time,
                   msg_id=msg_id.strip() if msg_id else None, event=event, content=content, raw=fields)


# ------------------------------------------------------------------ replies
def render_text(msg: Inbound, content: str, *, now: int | None = None) -> str:
    """A passive text reply (XML, plaintext): to the caller, from our account, ≤ 2048 bytes."""
    text = clean_text(content)
    parts = split_text(text, MAX_TEXT_BYTES)
    text = parts[0] if parts else ""
    # "]]>" would end the CDATA section early: split it across two sections.
    text = text.replace("]]>", "]]]]><![CDATA[>")
    reply = TextReply(source=msg.account, target=msg.openid, content=text,
                      time=int(time.time()) if now is None else now)
    return reply.render()
