from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body

from service.api.deps import SettingsDep
from service.services import policy

router = APIRouter(prefix="/policy", tags=["policy"])


@router.post("/evaluate", summary="Evaluate Facts against the 20 measures (contract §2)")
def evaluate(settings: SettingsDep, facts: dict[str, Any] = Body(...)) -> dict:
    """Facts (contract §1) → Evaluation (contract §2). Bad input → 422 naming the field.
    The request schema is policy_kb.facts_schema() (see components/schemas/Facts)."""
    clean = policy.validate_facts(facts)
    return policy.evaluate(clean, default_as_of=settings.as_of)
