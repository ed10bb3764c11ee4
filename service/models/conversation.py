from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base, utcnow


class Conversation(Base):
    """The service's own record of a chat conversation (facts it extracted), used when Rasa is down."""

    __tablename__ = "conversations"

    sender: Mapped[str] = mapped_column(String(128), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    facts: Mapped[dict] = mapped_column(default=dict)
    # extraction.casefile.CaseFile.to_dict(): the observations Facts are derived from (NULL: rows from
    # before the case file, which start from their Facts)
    case_file: Mapped[dict | None] = mapped_column(default=None)
    county: Mapped[str | None] = mapped_column(String(32))
    turns: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
