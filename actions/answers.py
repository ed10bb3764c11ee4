"""Answers: what the caller can get, one measure, how to apply, validity, urgent help, hand-off."""
from __future__ import annotations

import logging
import re
from typing import Any

from rasa_sdk.events import SlotSet

from actions import replies, settings, state, urgent
from actions.base import SafeAction
from actions.tickets import mask

logger = logging.getLogger(__name__)

MAX_MEASURES_PER_ANSWER = 3
URGENT_MEASURE = 9  # 先行救助，后补齐说明: the measure that says who helps in an emergency


def _expired(dispatcher, tracker, evaluation: dict, facts: dict) -> list[dict[str, Any]]:
    """The measures are out of force: said in full once per conversation, then briefly, with
    what we noted (a caller who goes on telling us their situation is not lectured again)."""
    doc = evaluation["document"]
    if tracker.get_slot("expiry_told"):
        dispatcher.utter_message(
            response="utter_measures_expired_again", known=replies.known_text(facts),
            valid_to=replies.cn_date(doc["valid_to"]), office=replies.office_for(facts))
        return []
    dispatcher.utter_message(
        response="utter_measures_expired", number=doc["number"], as_of=replies.cn_date(
            evaluation["as_of"]), valid_from=replies.cn_date(doc["valid_from"]),
        valid_to=replies.cn_date(doc["valid_to"]), office=replies.office_for(facts))
    return [SlotSet("expiry_told", True)]


def _about_then(dispatcher, evaluation: dict, facts: dict) -> None:
    """A question about a day when the measures were in force, asked after they expired
    (那年七月的时候能领多少): the answer is the rules of then, and the caller must hear that
    they cannot apply under them now, and where to turn if they were owed something."""
    import policy_kb

    if not facts.get("as_of") or policy_kb.in_force(settings.as_of()):
        return
    doc = evaluation["document"]
    dispatcher.utter_message(response="utter_answer_about_then", as_of=replies.cn_date(evaluation["as_of"]),
                             valid_to=replies.cn_date(doc["valid_to"]), office=replies.office_for(facts))


def _bring_for(mid: int) -> list[str]:
    import policy_kb

    return list(policy_kb.measure(mid).get("bring") or [])


def _follow_up(dispatcher, tracker, evaluation: dict, events: list) -> list[dict[str, Any]]:
    """Offer the one question that would most change the answer (unless we asked enough)."""
    import policy_kb

    if int(tracker.get_slot("questions_asked") or 0) >= settings.max_questions():
        return []
    skipped = set(tracker.get_slot("skipped_fields") or [])
    for field in urgent.county_first(tracker, evaluation.get("ask_next") or [], events):
        if state.slot_for(field) and field not in skipped:
            dispatcher.utter_message(response="utter_entitlement_follow_up",
                                     question=policy_kb.question_for(field))
            out = [SlotSet("last_asked_field", field)]
            from actions.facts_actions import asked_twice

            if field == asked_twice(tracker):  # asked twice in a row already: offered once more, then left
                out.append(SlotSet("skipped_fields", [*skipped, field]))
            return out
    return []


class ActionAnswerEntitlement(SafeAction):
    """Evaluates the facts so far and answers: measures, amounts with totals, where to apply."""

    def name(self) -> str:
        return "action_answer_entitlement"

    async def act(self, dispatcher, tracker, domain):
        import policy_kb

        evaluation, facts = state.evaluate(state.current_facts(tracker))
        events: list[dict[str, Any]] = []
        if urgent.pending(tracker, evaluation, facts) or (
                evaluation.get("urgent") and tracker.get_slot("urgent_in_message")):
            # a new emergency opens its ticket; a repeated one hears its ticket number again
            events += urgent.open_ticket(dispatcher, tracker, facts, urgent.reason_for(tracker, facts))
        try:
            if not evaluation["document"].get("in_force", True):
                return events + _expired(dispatcher, tracker, evaluation, facts)
            _about_then(dispatcher, evaluation, facts)
            known = replies.known_text(facts)
            named = named_measures(tracker)
            text = state.latest_text(tracker)
            # the same question asked again, nothing new said (not a bare 没有 that ends the form)
            again = (tracker.get_slot("entitlement_answered") and not tracker.get_slot("facts_changed")
                     and state.latest_intent(tracker) in ("ask_entitlement", "describe_situation", "nlu_fallback")
                     and replies.asks_question(text))
            if not named and (again or replies.asks_when(state.latest_text(tracker))):
                # 啥时候发 / 啥时候能到账, or the same question again with nothing new: the text of the
                # measures that pay says when and how, rather than the same summary once more
                named = [m["id"] for m in replies.eligible(evaluation) if m.get("kind") == "benefit"][:3]
                if again and named:
                    answer_measures(dispatcher, tracker, named)
                    events += _follow_up(dispatcher, tracker, evaluation, events)
                    return events
                named = []
            if named:  # 那个一次性生活补贴还能领吗: the measure asked about is the answer
                # (with any other measure the rest of the question is about: 上门做个饭…开导开导)
                answer_measures(dispatcher, tracker, asked_measures(tracker) or named)
            elif replies.wants_detail(state.latest_text(tracker)):
                dispatcher.utter_message(response="utter_entitlement_detail",
                                         explanation=policy_kb.explain(evaluation), known=known)
            else:
                # summarize() may end with the next question; we ask it last, after the answer
                summary, _question = replies.split_question(policy_kb.summarize(evaluation))
                if replies.eligible(evaluation):
                    dispatcher.utter_message(
                        response="utter_entitlement", known=known,
                        number=evaluation["document"]["number"], summary=summary,
                        totals=replies.money_text(evaluation),
                        apply=replies.apply_lines(evaluation, _bring_for) or replies.office_for(facts))
                else:
                    dispatcher.utter_message(response="utter_entitlement_none", known=known,
                                             summary=summary, office=replies.office_for(facts))
                by_residence = replies.by_residence_lines(evaluation, facts, lambda f: state.evaluate(f)[0])
                if by_residence:
                    dispatcher.utter_message(response="utter_entitlement_by_residence", lines=by_residence)
                possible = replies.possible_lines(evaluation, facts, lambda f: state.evaluate(f)[0])
                if possible:
                    dispatcher.utter_message(response="utter_entitlement_possible", lines=possible)
                missed, refused = replies.near_misses(evaluation, facts, tracker.get_slot("measures_refused"))
                if missed:
                    dispatcher.utter_message(response="utter_near_miss", lines=missed)
                    events.append(SlotSet("measures_refused", refused))
                if replies.asks_when(state.latest_text(tracker)):
                    texts = replies.citation_lines(evaluation)
                    if texts:
                        dispatcher.utter_message(response="utter_measure_texts", lines=texts)
                about = asked_measures(tracker)
                if about:  # 要不要查家里收入 / 是不是必须连续3个月: the measure itself answers that part
                    answer_measures(dispatcher, tracker, about)
            events += _follow_up(dispatcher, tracker, evaluation, events)
            if not named:  # one measure answered is not the whole answer yet
                events.append(SlotSet("entitlement_answered", True))
                events.append(SlotSet("measures_told", replies.news(evaluation, tracker.get_slot("measures_told"))[1]))
        except Exception as exc:  # noqa: BLE001 - keep the ticket events, still answer
            logger.error("entitlement answer failed for %s: %s: %s", mask(tracker.sender_id),
                         type(exc).__name__, mask(str(exc)))
            dispatcher.utter_message(response="utter_action_error")
        return events


class ActionAnswerMeasure(SafeAction):
    """One measure on request: title, what it gives this caller, the citation."""

    def name(self) -> str:
        return "action_answer_measure"

    async def act(self, dispatcher, tracker, domain):
        import extraction
        import policy_kb

        ids = asked_measures(tracker)
        if not ids and state.latest_text(tracker):
            ids = [int(m) for m in extraction.extract(state.latest_text(tracker)).measures or []]
        ids = [i for i in dict.fromkeys(ids) if 1 <= i <= 20][:MAX_MEASURES_PER_ANSWER]
        if not ids:
            titles = "\n".join(f"{i}. {policy_kb.measure(i)['title']}" for i in range(1, 21))
            dispatcher.utter_message(response="utter_measure_which", titles=titles)
            return []
        answer_measures(dispatcher, tracker, ids)
        return []


def named_measures(tracker) -> list[int]:
    """The measures the latest message names (第五条, 那个一次性生活补贴), as NLU found them."""
    ids: list[int] = []
    for value in state.entity_values(tracker, "measure"):
        try:
            ids.append(int(value))
        except (TypeError, ValueError):
            continue
    return [i for i in dict.fromkeys(ids) if 1 <= i <= 20][:MAX_MEASURES_PER_ANSWER]


def asked_measures(tracker) -> list[int]:
    """The measures the latest message names, or, for a question naming none, those its words are
    about (村里能不能定期来人看看孩子 → measure 10), read from the measures' own text."""
    named = named_measures(tracker)
    text = state.latest_text(tracker)
    if not text or not replies.asks_question(text) or replies.asks_for_operator(text):
        return named
    from extraction import measure_match

    # 价格临时补贴…另问村里能不能定期来人看看孩子: the named measure, and the one the rest is about
    return list(dict.fromkeys(named + measure_match.asked_about(text)))[:MAX_MEASURES_PER_ANSWER]


def answer_measures(dispatcher, tracker, ids: list[int]) -> None:
    """Each named measure: what it gives this caller on the day asked about, with its text."""
    import policy_kb

    evaluation, facts = state.evaluate(state.current_facts(tracker))
    in_force = evaluation["document"].get("in_force", True)
    for mid in ids:
        m = replies.status_for(evaluation, mid) or {}
        text = policy_kb.measure(mid)
        common = {"id": mid, "title": text["title"], "citation": m.get("citation") or text["text"],
                  "apply_at": m.get("apply_at") or replies.office_for(facts)}
        status = m.get("status")
        if not in_force or status == "not_in_force":
            doc = evaluation["document"]
            dispatcher.utter_message(response="utter_measure_not_in_force", **common,
                                     valid_to=replies.cn_date(doc["valid_to"]))
        elif status == "eligible":
            amounts = "；".join([replies.amount_text(a) for a in m.get("amounts") or []]
                               + list(m.get("grants") or []))  # 单人保, the gradual exit: no sum
            dispatcher.utter_message(response="utter_measure_eligible", **common,
                                     amounts=amounts or "按规定享受相应服务")
        elif status == "not_eligible":
            dispatcher.utter_message(response="utter_measure_not_eligible", **common,
                                     reasons="；".join(m.get("reasons") or []) or "条件不符")
        elif status == "need_info":
            questions = "；".join(policy_kb.question_for(f) for f in (m.get("missing") or [])[:3])
            dispatcher.utter_message(response="utter_measure_need_info", **common,
                                     questions=questions or "您家的具体情况")
        else:
            dispatcher.utter_message(response="utter_measure_info", **common)
    if in_force and replies.asks_question(state.latest_text(tracker)) and not any(
            (replies.status_for(evaluation, mid) or {}).get("status") == "eligible" for mid in ids):
        # 这个能申请那个临时救助不: the measure asked about is not this caller's, but money that is
        # (measure 5's 一次性临时救助金) is said with it, rather than left for a question they did not know to ask
        others = [m for m in replies.eligible(evaluation) if m["id"] not in ids
                  and any(a.get("frequency") == "once" for a in m.get("amounts") or [])]
        if others:
            lines = "；".join(f"第{m['id']}条 " + "；".join(replies.amount_text(a) for a in m["amounts"]
                                                         if a.get("frequency") == "once") for m in others)
            dispatcher.utter_message(response="utter_measure_also", lines=lines)


class ActionHowToApply(SafeAction):
    def name(self) -> str:
        return "action_how_to_apply"

    async def act(self, dispatcher, tracker, domain):
        evaluation, facts = state.evaluate(state.current_facts(tracker))
        office = replies.office_for(facts)
        if not evaluation["document"].get("in_force", True):
            return _expired(dispatcher, tracker, evaluation, facts)
        # 能领多少，去哪儿申请: where to apply comes with what each measure pays
        lines = replies.apply_lines(evaluation, _bring_for, with_amounts=True)
        if lines:
            dispatcher.utter_message(response="utter_how_to_apply", lines=lines, office=office)
        else:
            dispatcher.utter_message(response="utter_how_to_apply_general", office=office)
        return []


# Words about the document's own term: a validity question whatever else it names.
_VALIDITY_WORDS = re.compile(r"有效|到期|过期|截止|期限|失效|作废|啥时候结束|什么时候结束|到什么时候|到啥时候|多久|几时|"
                             r"还算数|还执行|还管用|还适用|20[0-9]{2}年|明年|后年")


class ActionPolicyValidity(SafeAction):
    def name(self) -> str:
        return "action_policy_validity"

    async def act(self, dispatcher, tracker, domain):
        import policy_kb

        text = state.latest_text(tracker)
        about = asked_measures(tracker)
        if about and not _VALIDITY_WORDS.search(text or ""):
            # 现在还能过，就是怕…到那时候找谁: 还能 without a word of the document's term is a question
            # about a measure, not about how long the document runs
            answer_measures(dispatcher, tracker, about)
            return []
        evaluation = policy_kb.evaluate({}, today=settings.as_of())
        doc = evaluation["document"]
        values = {"number": doc["number"], "as_of": replies.cn_date(evaluation["as_of"]),
                  "valid_from": replies.cn_date(doc["valid_from"]),
                  "valid_to": replies.cn_date(doc["valid_to"])}
        if doc.get("in_force"):
            dispatcher.utter_message(response="utter_validity_in_force", **values)
        elif str(evaluation["as_of"]) < str(doc["valid_from"]):
            dispatcher.utter_message(response="utter_validity_not_yet", **values)
        else:
            dispatcher.utter_message(response="utter_validity_expired", **values,
                                     office=replies.office_for(state.current_facts(tracker)))
        return []


class ActionUrgentHelp(SafeAction):
    """request_urgent_help: a ticket at once, whatever else we know."""

    def name(self) -> str:
        return "action_urgent_help"

    async def act(self, dispatcher, tracker, domain):
        case = state.case_file(tracker)
        now = [o for o in case.observations if o.kind == "urgent" and o.turn == case.turns]
        if now and not any(o.value is True and o.context == "affirmed" for o in now):
            # 万一以后断粮了找谁 / 去年失火，早修好了 / 不急: the words of an emergency, none now. The
            # question is who helps when one comes: measure 9 says, and no county officer is called out.
            answer_measures(dispatcher, tracker, asked_measures(tracker) or [URGENT_MEASURE])
            return []
        reason = urgent.reason_for(tracker, state.current_facts(tracker))
        case.note("urgent", True, reason)  # the caller asked for urgent help: the case keeps it
        facts = case.facts(settings.as_of())
        facts.setdefault("urgent_reason", reason)
        return [SlotSet("facts", facts), SlotSet("case_file", case.to_dict())] + urgent.open_ticket(
            dispatcher, tracker, facts, reason)


class ActionHandoff(SafeAction):
    def name(self) -> str:
        return "action_handoff"

    async def act(self, dispatcher, tracker, domain):
        named = asked_measures(tracker)
        text = state.latest_text(tracker)
        if named and replies.asks_question(text) and not replies.asks_for_operator(text):
            # 有没有人能跟我说说话、开导开导 asks what measure 16 sends, not for the hotline's operator:
            # answer from the measure, and the operator stays one word away
            answer_measures(dispatcher, tracker, named)
            dispatcher.utter_message(response="utter_handoff_offer")
            return []
        known = replies.known_text(state.current_facts(tracker))
        if known == replies.UNKNOWN_YET:  # nothing to hand over: do not promise a summary
            dispatcher.utter_message(response="utter_handoff_new")
        else:
            dispatcher.utter_message(response="utter_handoff", known=known)
        return [SlotSet("handoff_requested", True)]


class ActionReportMisconduct(SafeAction):
    """Measure 19: where to report 截留、冒领、吃拿卡要、关系保."""

    def name(self) -> str:
        return "action_report_misconduct"

    async def act(self, dispatcher, tracker, domain):
        import policy_kb

        m = policy_kb.measure(19)
        dispatcher.utter_message(response="utter_report_misconduct", id=m["id"], title=m["title"],
                                 office=replies.office_for(state.current_facts(tracker)))
        return []
