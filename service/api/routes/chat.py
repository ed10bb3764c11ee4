from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from service.api.deps import RasaDep, SessionDep, SettingsDep
from service.core.errors import ApiError
from service.services.chat import handle_turn

router = APIRouter(prefix="/webhooks/rest", tags=["chat"])


class ChatIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sender: str = Field(..., min_length=1, max_length=128)
    message: str = Field(..., max_length=10000)
    metadata: dict[str, Any] | None = None


class ChatOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    recipient_id: str
    text: str | None = None


@router.get("/")
def channel_status() -> dict:
    return {"status": "ok"}  # as Rasa's REST channel answers


@router.post("/webhook", response_model=list[ChatOut], response_model_exclude_none=True)
def webhook(body: ChatIn, db: SessionDep, rasa: RasaDep, settings: SettingsDep) -> list[dict]:
    """Rasa's REST channel on the service's port; always answers (fallback: the 12345 hotline)."""
    if len(body.message) > settings.max_text_chars:
        raise ApiError(422, f"message 超过 {settings.max_text_chars} 字 / message longer than "
                       f"{settings.max_text_chars} characters", field="message")
    result = handle_turn(db, rasa, sender=body.sender, message=body.message, channel="rest",
                         default_as_of=settings.as_of, sla_minutes=settings.sla_first_action_minutes)
    return result.messages
