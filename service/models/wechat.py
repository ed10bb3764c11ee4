"""The WeChat channel's tables: each pushed message once, the customer-service outbox, the rest of
long answers kept for "详细", and the shared access token.

Created by the migration `wechat_0001` (service/migrations/versions/wechat_0001_channel.py); the
retry keys scoped to account and sender, 400 characters long, by `wechat_0002`.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base, utcnow

# processing: claimed, the assistant is working; answered: reply_xml is the passive reply;
# deferred: the deadline passed, the answer goes out by the customer-service API (or "详细");
# abandoned: the worker that claimed it died, the caller was told to send it again.
INBOUND_STATES = ("processing", "answered", "deferred", "abandoned")
DELIVERY_STATES = ("pending", "sent", "dead")


class WeChatInbound(Base):
    """One pushed message or event. The unique `dedupe_key` (msg:<ToUserName>:<FromUserName>:<MsgId>, or
    event:<ToUserName>:<FromUserName>:<CreateTime>:<Event>) is claimed by INSERT before any work: WeChat's
    retries of the same message by the same sender, on any worker, find the row and get the stored reply."""

    __tablename__ = "wechat_inbound"
    __table_args__ = (
        # A signed (timestamp, nonce) pair carries one message only: in plain mode the signature
        # does not cover the body, so a captured URL must not be replayed with another body.
        UniqueConstraint("sig_timestamp", "nonce"),
        Index("ix_wechat_inbound_state_claimed", "state", "claimed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(400), unique=True)
    openid: Mapped[str] = mapped_column(String(128))
    account: Mapped[str] = mapped_column(String(128))  # ToUserName: our account's original id
    msg_type: Mapped[str] = mapped_column(String(32))
    sig_timestamp: Mapped[int] = mapped_column(BigInteger)
    nonce: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), default="processing")
    # The plaintext passive reply (XML, or "success"): retries get exactly these bytes.
    reply_xml: Mapped[str | None] = mapped_column(Text)
    claimed_at: Mapped[datetime] = mapped_column(default=utcnow)
    answered_at: Mapped[datetime | None]


class WeChatDelivery(Base):
    """Outbox of customer-service messages (answers that missed the passive-reply deadline).
    `parts` go out in order; `parts_sent` moves after each, so a retry resends nothing twice
    except the one part in flight when a worker died."""

    __tablename__ = "wechat_deliveries"
    __table_args__ = (Index("ix_wechat_deliveries_due", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(400), unique=True)
    openid: Mapped[str] = mapped_column(String(128))
    parts: Mapped[list] = mapped_column(default=list)
    parts_sent: Mapped[int] = mapped_column(default=0)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    locked_until: Mapped[datetime | None]
    locked_by: Mapped[str | None] = mapped_column(String(64))
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)


class WeChatMore(Base):
    """The rest of a long answer, per caller, handed out one part per "详细"."""

    __tablename__ = "wechat_more"

    openid: Mapped[str] = mapped_column(String(128), primary_key=True)
    parts: Mapped[list] = mapped_column(default=list)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class WeChatAccessToken(Base):
    """The API access token, shared by every worker (each fetch invalidates the last one after
    a grace period, so workers must not each keep their own)."""

    __tablename__ = "wechat_access_tokens"

    app_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    token: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
