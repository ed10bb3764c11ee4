from __future__ import annotations

import logging

from fastapi import APIRouter, Path
from sqlalchemy.orm import selectinload

from service.api.deps import RasaDep, SessionDep, SettingsDep, StaffDep
from service.core.errors import ApiError
from service.core.privacy import mask_data
from service.models.conversation import Conversation
from service.models.ticket import Ticket
from service.services import policy
from service.services.rasa import RasaUnavailable
from service.services.tickets import ticket_view, visible_tickets

router = APIRouter(prefix="/conversations", tags=["conversations"])
log = logging.getLogger("service.conversations")


@router.get("/{sender}")
def get_conversation(db: SessionDep, rasa: RasaDep, settings: SettingsDep, me: StaffDep,
                     sender: str = Path(..., min_length=1, max_length=128)) -> dict:
    """Facts (Rasa's `facts` slot, or the service's own record when Rasa is down), their
    evaluation and the conversation's tickets. Masked view. A county officer sees only
    conversations with a ticket of their county (others: 404)."""
    tickets = db.scalars(visible_tickets(me).where(Ticket.conversation_id == sender)
                         .order_by(Ticket.id).options(selectinload(Ticket.events))).all()
    own = db.get(Conversation, sender)
    if not me.sees_everything and not tickets:
        raise ApiError(404, "会话不存在 / conversation not found", field="sender", type_="not_found")

    facts, source = None, None
    try:
        slots = rasa.tracker(sender).get("slots") or {}
        if isinstance(slots.get("facts"), dict) and slots["facts"]:
            facts, source = slots["facts"], "rasa"
    except RasaUnavailable as exc:
        log.warning("tracker unavailable: %s", exc, extra={"event": "conversation.rasa_down"})
    if facts is None and own is not None:
        facts, source = dict(own.facts), "service"
    if facts is None and not tickets:
        raise ApiError(404, "会话不存在 / conversation not found", field="sender", type_="not_found")
    facts = facts or {}

    try:
        clean = policy.validate_facts(facts)
    except ApiError as exc:  # stored facts from an older vocabulary: say so, evaluate the rest
        log.warning("stored facts invalid: %s", exc.detail, extra={"event": "conversation.bad_facts"})
        clean = {}
    evaluation = policy.evaluate(clean, default_as_of=settings.as_of)
    return {
        "sender": sender,
        "facts": mask_data(facts),
        "facts_source": source,
        "evaluation": mask_data(evaluation),  # reasons may quote the caller's words
        "tickets": [ticket_view(t, full=False) for t in tickets],
    }
