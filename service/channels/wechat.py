"""The WeChat Official Account server URL: `GET /wechat` (URL check) and `POST /wechat` (pushes).

Included by the plug-in loader (service/api/main.py: every module of `service.channels` with a
`router`); `setup(app)` starts the delivery worker (customer-service messages, abandoned and
old messages), `teardown(app)` stops it.

Order of checks for a push, cheapest and safest first: WECHAT_TOKEN set (else 503) → signature
(403) → timestamp window (403) → body size (413) → XML (400) → safe mode: msg_signature,
decryption, app id (403/400); compatible mode without the key: msg_signature (403) → message
fields (400). Only then is anything stored or any assistant called. Tests and the benchmark
swap the assistant and the API client through `app.state.wechat_chat` (handle_turn's signature)
and `app.state.wechat_api` before start-up.
"""
from __future__ import annotations

import logging
import threading
import time

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import PlainTextResponse, Response

from service.channels.wechat_protocol import (
    bad_request,
    check_msg_signature,
    check_signature,
    check_timestamp,
    decrypt,
    encrypt,
    forbidden,
    make_crypto,
    parse_xml,
    read_message,
    render_text,
)
from service.core.errors import ApiError
from service.core.logging import conversation_context
from service.services.wechat_api import HttpWeChatApi
from service.services.wechat_delivery import DeliveryWorker
from service.services.wechat_inbound import SUCCESS, WeChatChannel

log = logging.getLogger("service.wechat")

router = APIRouter(tags=["wechat"])
_build_lock = threading.Lock()


def _token(request: Request) -> str:
    token = request.app.state.settings.wechat_token
    if not token:
        raise ApiError(503, "微信公众号通道未配置：请设置 WECHAT_TOKEN / WeChat channel not configured: "
                       "set WECHAT_TOKEN", type_="wechat_not_configured")
    return token


def channel_for(app: FastAPI) -> WeChatChannel:
    channel = getattr(app.state, "wechat_channel", None)
    if channel is not None:
        return channel
    with _build_lock:
        channel = getattr(app.state, "wechat_channel", None)
        if channel is None:
            channel = _build(app)
            app.state.wechat_channel = channel
    return channel


def _build(app: FastAPI) -> WeChatChannel:
    from service.services.chat import handle_turn

    settings = app.state.settings
    api = getattr(app.state, "wechat_api", None)
    if api is None and settings.wechat_app_id and settings.wechat_app_secret:
        api = HttpWeChatApi(settings.wechat_app_id, settings.wechat_app_secret.get_secret_value(),
                            db=app.state.db, base_url=settings.wechat_api_base_url)
    app.state.wechat_api = api
    # Also without API credentials: it sweeps abandoned messages and forgets old ones.
    worker = DeliveryWorker(
        app.state.db, api, max_attempts=settings.outbox_max_attempts,
        backoff_seconds=settings.outbox_backoff_seconds, lease_seconds=settings.outbox_lease_seconds,
        poll_seconds=settings.outbox_poll_seconds)
    channel = WeChatChannel(db=app.state.db, rasa=app.state.rasa, settings=settings,
                            chat_fn=getattr(app.state, "wechat_chat", None) or handle_turn,
                            api=api, worker=worker, render=render_text)
    channel.crypto = (make_crypto(settings.wechat_token, settings.wechat_encoding_aes_key,
                                  settings.wechat_app_id) if settings.wechat_encrypted else None)
    return channel


def setup(app: FastAPI) -> None:
    settings = app.state.settings
    if not settings.wechat_token:
        log.info("WECHAT_TOKEN unset: /wechat answers 503", extra={"event": "wechat.disabled"})
        return
    channel = channel_for(app)  # a bad EncodingAESKey fails the start, not the first message
    if channel.api is None:
        log.warning("WECHAT_APP_ID/WECHAT_APP_SECRET unset: late answers wait for the caller's “详细”",
                    extra={"event": "wechat.no_api"})
    if channel.worker is not None and settings.outbox_enabled:
        channel.worker.start()
    log.info("wechat channel ready", extra={
        "event": "wechat.ready", "mode": "safe" if channel.crypto else "plain",
        "deadline_s": settings.wechat_reply_deadline_seconds})


def teardown(app: FastAPI) -> None:
    channel = getattr(app.state, "wechat_channel", None)
    if channel is None:
        return
    channel.close()  # answers still running finish first and land in the outbox
    if channel.worker is not None:
        channel.worker.stop()
    if channel.api is not None:
        channel.api.close()
    app.state.wechat_channel = None


# The server URL may be registered with a trailing slash: WeChat follows no redirect.
@router.get("/wechat/", response_class=PlainTextResponse, include_in_schema=False)
@router.get("/wechat", response_class=PlainTextResponse,
            summary="WeChat server-URL check: echo echostr when the signature is right")
def verify_url(request: Request, signature: str | None = Query(None), timestamp: str | None = Query(None),
               nonce: str | None = Query(None), echostr: str | None = Query(None)) -> PlainTextResponse:
    check_signature(_token(request), signature, timestamp, nonce)
    if not echostr:
        raise bad_request("缺少 echostr / missing echostr", "echostr")
    return PlainTextResponse(echostr)


@router.post("/wechat/", response_class=Response, include_in_schema=False)
@router.post("/wechat", summary="WeChat message push: a passive reply within the deadline",
             response_class=Response)
async def receive(request: Request) -> Response:
    started = time.monotonic()
    settings = request.app.state.settings
    q = request.query_params
    try:
        check_signature(_token(request), q.get("signature"), q.get("timestamp"), q.get("nonce"))
        sig_timestamp = check_timestamp(q["timestamp"], settings.wechat_timestamp_window_seconds)
    except ApiError as exc:
        log.warning("wechat push refused: %s", exc.type, extra={"event": "wechat.refused", "reason": exc.type})
        raise
    nonce = q["nonce"]
    if len(nonce) > 64:
        raise bad_request("nonce 过长 / nonce longer than 64 characters", "nonce")
    body = await request.body()
    if len(body) > settings.wechat_max_body_bytes:
        raise ApiError(413, f"消息过大，上限 {settings.wechat_max_body_bytes} 字节 / WeChat message larger "
                       f"than {settings.wechat_max_body_bytes} bytes", type_="body_too_large")
    envelope = parse_xml(body)
    channel = channel_for(request.app)
    if channel.crypto is not None:
        if q.get("encrypt_type", "").lower() != "aes":
            raise forbidden("安全模式下只接受加密消息 / safe mode: plaintext messages are refused "
                            "(encrypt_type=aes expected)", "plaintext_refused")
        try:
            fields = parse_xml(decrypt(channel.crypto, envelope, q.get("msg_signature"), q["timestamp"], nonce))
        except ApiError as exc:
            log.warning("wechat push refused: %s", exc.type, extra={"event": "wechat.refused", "reason": exc.type})
            raise
    else:
        if q.get("encrypt_type", "raw").lower() not in ("raw", ""):
            if "FromUserName" not in envelope:  # safe mode: nothing readable without the key
                raise bad_request("收到加密消息，但未配置 WECHAT_ENCODING_AES_KEY 与 WECHAT_APP_ID / encrypted "
                                  "message but safe mode is not configured", "encrypt_type")
            # Compatible mode (兼容模式, the documented step towards safe mode): the plaintext
            # fields travel beside <Encrypt> and a plaintext reply is accepted. msg_signature
            # needs the token only, so it is checked all the same.
            try:
                check_msg_signature(_token(request), q.get("msg_signature"), q["timestamp"], nonce,
                                    envelope.get("Encrypt"))
            except ApiError as exc:
                log.warning("wechat push refused: %s", exc.type,
                            extra={"event": "wechat.refused", "reason": exc.type})
                raise
        fields = envelope
    msg = read_message(fields)
    # The request's own lines (deadline, retry, errors) carry the conversation id too: the
    # openid's short hash, as handle_turn logs it (the answering thread sets its own).
    with conversation_context(msg.openid, "wechat"):
        reply = await channel.handle(msg, sig_timestamp=sig_timestamp, nonce=nonce, started=started)
    if reply == SUCCESS:
        return PlainTextResponse(SUCCESS)
    if channel.crypto is not None:
        reply = encrypt(channel.crypto, reply, nonce)
    return Response(reply, media_type="application/xml")
