from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from service.api.deps import SettingsDep, StaffDep
from service.core.errors import ApiError
from service.services import policy

router = APIRouter(prefix="/copilot", tags=["copilot"])


class AnalyzeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field("", description="the agent's notes or the caller's words")
    facts: dict[str, Any] | None = Field(None, description="Facts known already (merged under the text)")
    as_of: date | None = None


class Question(BaseModel):
    field: str
    question: str


class AnalyzeOut(BaseModel):
    facts: dict[str, Any]
    evaluation: dict[str, Any]
    ask_next: list[Question]
    urgent: bool
    suggested_reply: str


@router.post("/analyze", response_model=AnalyzeOut)
def analyze(body: AnalyzeIn, settings: SettingsDep, me: StaffDep) -> dict:
    if len(body.text) > settings.max_text_chars:
        raise ApiError(422, f"text 超过 {settings.max_text_chars} 字 / text longer than "
                       f"{settings.max_text_chars} characters", field="text")
    given = policy.validate_facts(body.facts or {}, prefix="facts")
    # The note is read into a case file that starts from the given facts (what the text says wins),
    # so facts spread over the note's sentences are combined as in a chat.
    day = body.as_of or settings.as_of
    facts = policy.read_message(given, body.text, as_of=day)[0] if body.text.strip() else dict(given)
    if body.as_of is not None:
        facts["as_of"] = body.as_of.isoformat()
    facts = policy.validate_facts(facts, prefix="facts")
    evaluation = policy.evaluate(facts, default_as_of=settings.as_of)
    return {
        "facts": facts,
        "evaluation": evaluation,
        "ask_next": policy.ask_next_questions(evaluation.get("ask_next", [])),
        "urgent": bool(evaluation.get("urgent")),
        "suggested_reply": policy.summarize(evaluation),
    }
