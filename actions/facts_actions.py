"""Facts from every user turn, and the form that asks only what changes the answer."""
from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import REQUESTED_SLOT, FormValidationAction

from actions import replies, settings, state, urgent
from actions.base import SafeAction
from actions.tickets import mask

logger = logging.getLogger(__name__)

# Intents by which a caller answers the form's question; any other intent interrupts the form
# (the form rejects, and a rule answers that intent instead).
ANSWER_INTENTS = {"describe_situation", "affirm", "deny", "nlu_fallback"}
# Intents after which an unparsed answer means "I don't know" (不知道 often lands in
# nlu_fallback): move on instead of asking the same question again.
SKIP_INTENTS = {"describe_situation", "affirm", "deny", "nlu_fallback"}


class ActionExtractFacts(Action):
    """Runs after every user message (the `facts` slot's custom mapping): the message goes into
    the conversation's case file (extraction.casefile) and Facts are derived from the whole file.

    The field the bot just asked about is passed as `expected_field`, so bare answers
    (三个月, 是的, 四口人) fill it; a later observation corrects an earlier one, and facts spread
    over several messages (在工地干活 … 工地停了 … 从4月起没收入) are combined by extraction.derive.
    """

    def name(self) -> str:
        return "action_extract_facts"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict) -> list[dict[str, Any]]:
        text = state.latest_text(tracker)
        events: list[dict[str, Any]] = []
        if tracker.get_slot("last_asked_field"):
            events.append(SlotSet("last_asked_field", None))  # an expected answer lasts one turn
        if not text:
            return events + [SlotSet("facts_changed", []), SlotSet("facts_said", {}),
                             SlotSet("urgent_in_message", False)]
        try:
            expected = state.field_for(tracker.get_slot(REQUESTED_SLOT)) or tracker.get_slot(
                "last_asked_field")
            old = state.current_facts(tracker)
            case = state.case_file(tracker)
            message_id = (tracker.latest_message or {}).get("message_id")
            found = case.add(text, as_of=settings.as_of(), expected_field=expected, message_id=message_id)
            new = case.facts(settings.as_of())
        except Exception as exc:  # noqa: BLE001 - a failed extraction must not stop the turn
            logger.error("fact extraction failed for %s: %s: %s", mask(tracker.sender_id),
                         type(exc).__name__, mask(str(exc)))
            return events + [SlotSet("facts_changed", []), SlotSet("facts_said", {}),
                             SlotSet("urgent_in_message", False)]
        changed = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
        said_urgent = bool(found.urgent_reason or found.facts.get("urgent"))
        # what this message let us know: its own words, and what they derive with the earlier turns
        # (工地停了 after 在银川工地干活 is a migrant worker out of work)
        said = {**found.facts, **{k: new[k] for k in changed if k not in found.facts and new.get(k) is not None}}
        # facts_said is what this message stated, changed or not: Rasa runs this action a second
        # time for the message that activates the form, when nothing changes any more.
        return events + [SlotSet("facts", new), SlotSet("case_file", case.to_dict()), SlotSet("facts_changed", changed),
                         SlotSet("facts_said", said), SlotSet("urgent_in_message", said_urgent)]


def plan(tracker: Tracker) -> list[str]:
    """The form's required slots now: the policy's ask_next, minus what cannot or need not be asked.

    Empty (the form ends and the bot answers) when nothing would change the answer, when the
    question cap is reached, when the measures are not in force, or when the caller is in an
    emergency that has not been ticketed yet (answering that comes before any question).
    """
    evaluation, facts = state.evaluate(state.current_facts(tracker))
    if urgent.pending(tracker, evaluation, facts):
        return []
    if not evaluation["document"].get("in_force", True):
        return []
    if int(tracker.get_slot("questions_asked") or 0) >= settings.max_questions():
        return []
    if answers_now(tracker, evaluation):
        return []
    skipped = set(tracker.get_slot("skipped_fields") or []) | set(filter(None, [asked_twice(tracker)]))
    slots = []
    for field in urgent.county_first(tracker, evaluation.get("ask_next") or []):
        slot = state.slot_for(field)
        if slot and field not in skipped and slot not in slots:
            slots.append(slot)
    return slots


def asked_twice(tracker: Tracker) -> str | None:
    """The field the form has just asked about twice in a row: it is not asked a third time; the
    answer says what is known and offers that question once more at its end (issue 12)."""
    streak = tracker.get_slot("ask_streak")
    if isinstance(streak, list) and len(streak) == 2 and isinstance(streak[1], int) and streak[1] >= 2:
        return streak[0]
    return None


def answers_now(tracker: Tracker, evaluation: dict) -> bool:
    """The caller asked something we can already answer: stop asking and answer; the follow-up
    offers the next question. That is a question asked again after an answer (详细说说, 能领多少),
    one asked while some money is already certain (散居孤儿…一个月能给多少), or one about a named
    measure (那个一次性生活补贴还能领吗). A question with nothing certain yet is gathered for."""
    text = state.latest_text(tracker)
    intent = state.latest_intent(tracker)
    asked = intent == "ask_entitlement" or (
        intent in ("describe_situation", "nlu_fallback") and replies.asks_question(text)) or (
        # 不要钱，就想问有没有人能上门做饭: a yes/no word opens a longer question
        intent in ("affirm", "deny") and len(text or "") > 8 and replies.asks_question(text))
    return asked and bool(
        tracker.get_slot("entitlement_answered") or replies.wants_detail(text)
        or any(m.get("amounts") for m in replies.eligible(evaluation))
        or state.entity_values(tracker, "measure") or _asks_about_a_measure(tracker))


def _asks_about_a_measure(tracker: Tracker) -> bool:
    from actions.answers import asked_measures

    return bool(asked_measures(tracker))


class ValidateFactsForm(FormValidationAction):
    """Thin: the required slots are the policy's ask_next; facts themselves come from
    action_extract_facts, which already ran for this message."""

    def name(self) -> str:
        return "validate_facts_form"

    async def required_slots(self, domain_slots: list[str], dispatcher: CollectingDispatcher,
                             tracker: Tracker, domain: dict) -> list[str]:
        return plan(tracker)

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict) -> list[dict[str, Any]]:
        try:
            events: list[dict[str, Any]] = []
            requested = tracker.get_slot(REQUESTED_SLOT)
            intent = state.latest_intent(tracker)
            changed = tracker.get_slot("facts_changed") or []
            logger.debug("validate_facts_form: requested=%s intent=%s changed=%s",
                         requested, intent, changed)
            # Rasa's validation tracker shows neither the previous action nor (always) the
            # events, so the latest intent tells an answer from an interruption. Returning only
            # `requested_slot` makes the form reject a fresh message (the rules answer it) and
            # ask its question again when it resumes after that answer.
            if requested and intent in ANSWER_INTENTS and (changed or intent in SKIP_INTENTS):
                if changed:
                    events.append(SlotSet("facts_changed", changed))
                else:  # an answer we could not read: do not ask it again
                    field = state.field_for(requested)
                    skipped = list(tracker.get_slot("skipped_fields") or [])
                    if field and field not in skipped:
                        skipped.append(field)
                    events.append(SlotSet("skipped_fields", skipped))
                # Rasa may send the tracker without its event list, so not tracker.add_slots()
                tracker.slots.update({e["name"]: e["value"] for e in events})
            slots = plan(tracker)
            events.append(SlotSet(REQUESTED_SLOT, slots[0] if slots else None))
            return events
        except Exception as exc:  # noqa: BLE001 - end the form; the answer action follows
            logger.error("form validation failed for %s: %s: %s", mask(tracker.sender_id),
                         type(exc).__name__, mask(str(exc)))
            return [SlotSet(REQUESTED_SLOT, None)]


class AskFact(SafeAction):
    """Asks the question for one fact, in policy_kb's words; one class per slot (below)."""

    slot = ""

    async def act(self, dispatcher, tracker, domain):
        import policy_kb

        field = state.field_for(self.slot)
        question = policy_kb.question_for(field)
        # Say back what the caller just told us before the next question: they hear that it was
        # understood (or can correct it), and a question asked again does not sound like an echo.
        noted = replies.noted_text(tracker.get_slot("facts_said"))
        evaluation, _ = state.evaluate(state.current_facts(tracker))
        fresh, told = replies.news(evaluation, tracker.get_slot("measures_told"))
        if fresh:  # money just became certain: say so now, then go on asking
            dispatcher.utter_message(response="utter_ask_fact_news_noted" if noted else "utter_ask_fact_news",
                                     noted=noted, news=fresh, question=question)
        elif noted:
            dispatcher.utter_message(response="utter_ask_fact_noted", noted=noted, question=question)
        else:
            dispatcher.utter_message(response="utter_ask_fact", question=question)
        # what hangs on this very question (如果不属于城乡低保对象：第5条…1,950元), and a measure the case
        # is about that a figure rules out (不足3个月): said with the question, so the caller hears it now
        facts = state.current_facts(tracker)
        stake = replies.possible_lines(evaluation, facts, lambda f: state.evaluate(f)[0], only_field=field)
        if stake:
            dispatcher.utter_message(response="utter_ask_fact_stake", lines=stake)
        missed, refused = replies.near_misses(evaluation, facts, tracker.get_slot("measures_refused"))
        if missed:
            dispatcher.utter_message(response="utter_near_miss", lines=missed)
        asked = int(tracker.get_slot("questions_asked") or 0) + 1
        streak = tracker.get_slot("ask_streak")
        again = isinstance(streak, list) and len(streak) == 2 and streak[0] == field
        events = [SlotSet("questions_asked", asked), SlotSet("last_asked_field", field),
                  SlotSet("ask_streak", [field, (int(streak[1]) + 1) if again else 1])]
        return events + ([SlotSet("measures_told", told)] if fresh else []) + (
            [SlotSet("measures_refused", refused)] if missed else [])


def _ask_class(slot: str) -> type:
    return type("Ask_" + slot, (AskFact,), {
        "slot": slot, "__module__": __name__, "name": lambda self: f"action_ask_{self.slot}"})


# One registered action per ask slot (rasa_sdk registers subclasses by their name()).
ASK_ACTIONS = {slot: _ask_class(slot) for slot in state.ask_slots()}


class ActionUnsure(SafeAction):
    """NLU was unsure of the intent. A message naming a measure is answered about it; one that
    still told us facts (你好，我是西吉县农村的低保户，一家四口 mixes a greeting with a situation)
    is acknowledged and the form goes on; only a message we understood nothing of gets
    "没太听明白"."""

    def name(self) -> str:
        return "action_unsure"

    async def act(self, dispatcher, tracker, domain):
        from actions.answers import answer_measures, asked_measures

        named = asked_measures(tracker)
        if answers_now(tracker, state.evaluate(state.current_facts(tracker))[0]):
            if tracker.active_loop_name == "facts_form":
                return []  # the form runs next, ends, and action_answer_entitlement answers
            # outside the form the rules listen after this action: answer here
            from actions.answers import ActionAnswerEntitlement

            return await ActionAnswerEntitlement().act(dispatcher, tracker, domain)
        if named:  # a message naming a measure asks about it
            answer_measures(dispatcher, tracker, named)
        elif tracker.get_slot("facts_changed") or tracker.get_slot("urgent_in_message"):
            dispatcher.utter_message(response="utter_noted")
        else:
            dispatcher.utter_message(response="utter_default")
        return []
