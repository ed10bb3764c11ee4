from __future__ import annotations

from typing import Any, Callable

from fastapi import APIRouter, Request
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field

from service.api.deps import RasaDep, SessionDep, SettingsDep
from service.core.errors import ApiError
from service.services.chat import handle_turn


class _JsonWhateverContentType(APIRoute):
    """Rasa's REST channel (Sanic's request.json) reads the body as JSON whatever Content-Type
    says, so clients written against Rasa may send none, or curl's default form type. FastAPI
    parses only JSON types (and, since 0.1xx, not a missing one): relabel the body as JSON."""

    def get_route_handler(self) -> Callable:
        handler = super().get_route_handler()

        async def route(request: Request):
            if request.method == "POST" and "json" not in request.headers.get("content-type", "").lower():
                headers = [(k, v) for k, v in request.scope["headers"] if k != b"content-type"]
                request = Request({**request.scope, "headers": [*headers, (b"content-type", b"application/json")]},
                                  request.receive)
            return await handler(request)

        return route


router = APIRouter(prefix="/webhooks/rest", tags=["chat"], route_class=_JsonWhateverContentType)


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
