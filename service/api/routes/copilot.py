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
    extracted = policy.extract(body.text) if body.text.strip() else None
    facts = policy.merge_facts(given, extracted.facts) if extracted else dict(given)
    if extracted and extracted.urgent_reason and not facts.get("urgent_reason"):
        facts["urgent_reason"] = extracted.urgent_reason
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
