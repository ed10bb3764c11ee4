"""A base for every custom action: whatever goes wrong, the caller still gets an answer."""
from __future__ import annotations

import logging
from abc import ABCMeta, abstractmethod
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.tickets import mask

logger = logging.getLogger(__name__)

FALLBACK_RESPONSE = "utter_action_error"


class SafeAction(Action, metaclass=ABCMeta):
    """Runs `act`; an exception is logged (masked) and answered with the 12345 fallback."""

    @abstractmethod
    def name(self) -> str:
        """The action's name in the domain."""

    @abstractmethod
    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict) -> list[dict[str, Any]]:
        """The action's work; may raise."""

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        try:
            from actions import urgent

            # whatever the bot says next, an urgent ticket still without a county gets it first
            events += urgent.complete_county(dispatcher, tracker)
            return events + await self.act(dispatcher, tracker, domain)
        except Exception as exc:  # noqa: BLE001 - the caller must always get a reply
            logger.error("action %s failed for conversation %s: %s: %s", self.name(),
                         mask(tracker.sender_id), type(exc).__name__, mask(str(exc)),
                         exc_info=logger.isEnabledFor(logging.DEBUG))
            # keep what was already said (an urgent ticket number matters), add the fallback
            dispatcher.utter_message(response=FALLBACK_RESPONSE)
            return events
