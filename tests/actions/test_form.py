"""The facts form: what it asks, when it stops, and facts from any turn (corrections too)."""
import policy_kb
import pytest
from datetime import date

from actions import replies, state
from actions.facts_actions import ASK_ACTIONS, ActionExtractFacts, ValidateFactsForm

from action_harness import IN_FORCE_DAY, make_tracker, responses, run, slot_events


def test_extract_merges_facts_and_reports_changes(in_force, domain):
    tracker = make_tracker("我是西吉县农村的低保户，一家四口")
    _, events = run(ActionExtractFacts(), tracker, domain)
    slots = slot_events(events)
    assert slots["facts"]["county"] == "西吉县"
    assert slots["facts"]["residence"] == "rural"
    assert slots["facts"]["household_size"] == 4
    assert "dibao" in slots["facts"]["statuses"]
    assert set(slots["facts_changed"]) >= {"county", "residence", "household_size", "statuses"}


def test_a_later_answer_corrects_an_earlier_one(in_force, domain):
    before = {"county": "原州区", "residence": "urban", "statuses": ["dibao"], "household_size": 3}
    tracker = make_tracker("不对，我是农村的", slots={"facts": before})
    _, events = run(ActionExtractFacts(), tracker, domain)
    slots = slot_events(events)
    assert slots["facts"]["residence"] == "rural"
    assert slots["facts"]["county"] == "原州区" and slots["facts"]["household_size"] == 3
    assert slots["facts_changed"] == ["residence"]


def test_a_bare_answer_fills_the_requested_field(in_force, domain):
    tracker = make_tracker("三个多月", slots={"facts": {"employment": "unemployed_migrant_worker"},
                                              "requested_slot": "ask_months_without_income"})
    _, events = run(ActionExtractFacts(), tracker, domain)
    assert slot_events(events)["facts"]["months_without_income"] == 3

    tracker = make_tracker("是的", intent="affirm", slots={"facts": {}, "requested_slot": "ask_status_dibao"})
    _, events = run(ActionExtractFacts(), tracker, domain)
    assert "dibao" in slot_events(events)["facts"]["statuses"]


def test_last_asked_field_is_used_once_outside_the_form(in_force, domain):
    tracker = make_tracker("不是", intent="deny", slots={"facts": {}, "last_asked_field": "statuses.dibao"})
    _, events = run(ActionExtractFacts(), tracker, domain)
    slots = slot_events(events)
    assert "dibao" in slots["facts"].get("not_statuses", [])
    assert slots["last_asked_field"] is None


def _first_slot(facts):
    ev = policy_kb.evaluate(facts, today=date.fromisoformat(IN_FORCE_DAY))
    return next(state.slot_for(f) for f in ev["ask_next"] if state.slot_for(f))


def test_form_asks_the_policys_first_question_on_activation(in_force, domain):
    facts = {"employment": "unemployed_migrant_worker"}
    tracker = make_tracker("我在外面打工失业了", slots={"facts": facts})
    _, events = run(ValidateFactsForm(), tracker, domain)
    assert slot_events(events)["requested_slot"] == _first_slot(facts)


def test_form_required_slots_follow_ask_next(in_force, domain):
    import asyncio
    from rasa_sdk.executor import CollectingDispatcher

    facts = {"county": "西吉县", "statuses": ["dibao"], "household_size": 4}
    tracker = make_tracker("", slots={"facts": facts})
    slots = asyncio.run(ValidateFactsForm().required_slots([], CollectingDispatcher(), tracker, domain))
    ev = policy_kb.evaluate(facts, today=date.fromisoformat(IN_FORCE_DAY))
    assert slots == [state.slot_for(f) for f in ev["ask_next"] if state.slot_for(f)]
    assert "ask_status_dibao" not in slots and "ask_county" not in slots


def test_answer_moves_to_the_next_question(in_force, domain):
    facts = {"employment": "unemployed_migrant_worker", "months_without_income": 3}
    tracker = make_tracker("三个月", slots={"facts": facts, "facts_changed": ["months_without_income"],
                                           "requested_slot": "ask_months_without_income"})
    _, events = run(ValidateFactsForm(), tracker, domain)
    slots = slot_events(events)
    assert slots["facts_changed"] == ["months_without_income"]  # tells the form something was filled
    assert slots["requested_slot"] == _first_slot(facts)
    assert slots["requested_slot"] != "ask_months_without_income"


def test_other_intents_make_the_form_reject(in_force, domain):
    tracker = make_tracker("第五条是什么", intent="ask_measure",
                           slots={"facts": {"county": "西吉县"}, "facts_changed": [],
                                  "requested_slot": "ask_status_dibao"})
    _, events = run(ValidateFactsForm(), tracker, domain)
    # only requested_slot: Rasa's form rejects the message and the rules answer ask_measure;
    # when the form resumes after that answer, the same call asks its question again
    assert list(slot_events(events)) == ["requested_slot"]
    assert slot_events(events)["requested_slot"] == "ask_status_dibao"


def test_resuming_after_an_interruption_asks_the_policys_question(in_force, domain):
    facts = {"employment": "unemployed_migrant_worker"}
    tracker = make_tracker("第五条是什么", intent="ask_measure", latest_action="facts_form",
                           slots={"facts": facts, "facts_changed": [],
                                  "requested_slot": "ask_months_without_income"})
    _, events = run(ValidateFactsForm(), tracker, domain)
    assert slot_events(events) == {"requested_slot": _first_slot(facts)}


@pytest.mark.parametrize("intent", ["describe_situation", "deny", "nlu_fallback"])
def test_an_unparsed_answer_is_skipped_not_asked_again(in_force, domain, intent):
    # Rasa's validation tracker names the form itself as the latest action
    tracker = make_tracker("这个我也不清楚", intent=intent, latest_action="facts_form", slots={"facts": {}, "facts_changed": [],
                                                    "requested_slot": "ask_status_dibao"})
    _, events = run(ValidateFactsForm(), tracker, domain)
    slots = slot_events(events)
    assert slots["skipped_fields"] == ["statuses.dibao"]
    assert slots["requested_slot"] not in (None, "ask_status_dibao")


def test_the_form_stops_at_the_question_cap(in_force, domain, monkeypatch):
    monkeypatch.setenv("HOTLINE_BOT_MAX_QUESTIONS", "2")
    tracker = make_tracker("", slots={"facts": {}, "questions_asked": 2.0})
    _, events = run(ValidateFactsForm(), tracker, domain)
    assert slot_events(events)["requested_slot"] is None


def test_the_form_stops_when_nothing_would_change_the_answer(in_force, domain, monkeypatch):
    monkeypatch.setattr(policy_kb, "evaluate", _with_empty_ask_next(policy_kb.evaluate))
    tracker = make_tracker("", slots={"facts": {"statuses": ["tekun"]}})
    _, events = run(ValidateFactsForm(), tracker, domain)
    assert slot_events(events)["requested_slot"] is None


def _with_empty_ask_next(real):
    def evaluate(facts, **kw):
        ev = real(facts, **kw)
        ev["ask_next"] = []
        return ev
    return evaluate


def test_the_form_stops_at_once_for_an_emergency(in_force, domain):
    facts = {"urgent": True, "urgent_reason": "没饭吃了"}
    tracker = make_tracker("没饭吃了", slots={"facts": facts, "facts_changed": ["urgent"]})
    _, events = run(ValidateFactsForm(), tracker, domain)
    assert slot_events(events)["requested_slot"] is None


def test_the_form_asks_nothing_once_the_measures_expired(expired, domain):
    tracker = make_tracker("我家生活困难", slots={"facts": {}})
    _, events = run(ValidateFactsForm(), tracker, domain)
    assert slot_events(events)["requested_slot"] is None


def test_ask_action_uses_policy_kb_question_and_counts(in_force, domain):
    action = ASK_ACTIONS["ask_months_without_income"]()
    assert action.name() == "action_ask_ask_months_without_income"
    messages, events = run(action, make_tracker("", slots={"questions_asked": 1.0}), domain)
    assert responses(messages) == ["utter_ask_fact"]
    assert messages[0]["question"] == policy_kb.question_for("months_without_income")
    assert slot_events(events) == {"questions_asked": 2, "last_asked_field": "months_without_income",
                                   "ask_streak": ["months_without_income", 1]}

    messages, _ = run(ASK_ACTIONS["ask_status_dibao"](), make_tracker(""), domain)
    assert messages[0]["question"] == policy_kb.question_for("statuses.dibao")


def test_the_next_question_first_says_back_what_the_caller_just_told(in_force, domain, monkeypatch):
    facts = {"county": "原州区", "residence": "rural", "household_size": 5, "medical_out_of_pocket": 23000}
    text = "我是原州区农村的，老汉住院自己掏了两万三，没有失业保险"
    # the extraction action, as Rasa runs it for this message, fills facts_said
    _, events = run(ActionExtractFacts(), make_tracker(text, slots={"facts": {"household_size": 5}}), domain)
    said = slot_events(events)["facts_said"]
    tracker = make_tracker(text, slots={"facts": facts, "facts_said": said})
    messages, _ = run(ASK_ACTIONS["ask_status_dibao"](), tracker, domain)
    assert responses(messages) == ["utter_ask_fact_noted"]
    # only what this message said, yes/no answers in their own words
    assert messages[0]["noted"] == "原州区、农村、自付医疗费用23,000元、领不到失业保险金"
    assert messages[0]["question"] == policy_kb.question_for("statuses.dibao")
    # a message that told us nothing we say back gets the bare question
    tracker = make_tracker("嗯", slots={"facts": facts, "facts_said": {}})
    messages, _ = run(ASK_ACTIONS["ask_status_dibao"](), tracker, domain)
    assert responses(messages) == ["utter_ask_fact"]


def test_asking_again_after_an_answer_or_for_details_gets_the_answer_not_a_question(in_force, domain):
    facts = {"county": "沙坡头区", "employment": "unemployed_migrant_worker", "months_without_income": 3}
    assert state.slot_for(policy_kb.evaluate(facts, today=date.fromisoformat(IN_FORCE_DAY))["ask_next"][0])
    first = make_tracker("我能领多少钱", intent="ask_entitlement", slots={"facts": facts})
    _, events = run(ValidateFactsForm(), first, domain)
    assert slot_events(events)["requested_slot"] is not None  # first time: the form asks what matters
    for text, slots in (("能领多少", {"entitlement_answered": True}), ("详细说说", {})):
        tracker = make_tracker(text, intent="ask_entitlement", slots={"facts": facts, **slots})
        _, events = run(ValidateFactsForm(), tracker, domain)
        assert slot_events(events)["requested_slot"] is None, text


def test_validation_failure_ends_the_form_instead_of_crashing(in_force, domain, monkeypatch):
    def broken(*a, **k):
        raise RuntimeError("policy down")
    monkeypatch.setattr(policy_kb, "evaluate", broken)
    _, events = run(ValidateFactsForm(), make_tracker("", slots={"facts": {}}), domain)
    assert slot_events(events) == {"requested_slot": None}


def test_unsure_intent_with_facts_is_acknowledged_not_misunderstood(in_force, domain):
    from actions.facts_actions import ActionUnsure

    # NLU unsure, but the extractor just found facts in this message: go on with them
    tracker = make_tracker("你好，我是西吉县农村的低保户，一家四口", intent="nlu_fallback",
                           slots={"facts_changed": ["county", "residence"]})
    messages, _ = run(ActionUnsure(), tracker, domain)
    assert responses(messages) == ["utter_noted"]
    # nothing understood at all: ask the caller to say it differently
    tracker = make_tracker("嗯嗯那个啥", intent="nlu_fallback", slots={"facts_changed": []})
    messages, _ = run(ActionUnsure(), tracker, domain)
    assert responses(messages) == ["utter_default"]


def test_unsure_intent_naming_a_measure_is_answered_about_it(in_force, domain):
    import asyncio
    from rasa_sdk.executor import CollectingDispatcher

    from actions.answers import ActionAnswerEntitlement
    from actions.facts_actions import ActionUnsure

    facts = {"statuses": ["dibao_marginal"], "severe_disability": True}
    text = "我们家是低保边缘户，我哥是重残，能不能单独给他一个人办低保"
    slots = {"facts": facts, "facts_changed": ["statuses", "severe_disability"]}
    m3 = policy_kb.evaluate(facts, today=date.fromisoformat(IN_FORCE_DAY))["measures"][2]
    # outside the form the unsure action answers about measure 3 itself (the rules listen next)
    tracker = make_tracker(text, intent="nlu_fallback", entities=[{"entity": "measure", "value": "3"}], slots=slots)
    messages, _ = run(ActionUnsure(), tracker, domain)
    assert responses(messages)[0] == "utter_measure_eligible" and m3["status"] == "eligible"
    assert messages[0]["id"] == 3 and m3["grants"][0] in messages[0]["amounts"]  # 参照单人户纳入低保
    # inside the form it stays quiet: the form asks nothing and the entitlement answer gives measure 3
    tracker = make_tracker(text, intent="nlu_fallback", entities=[{"entity": "measure", "value": "3"}],
                           slots=slots, active_loop="facts_form")
    messages, _ = run(ActionUnsure(), tracker, domain)
    assert messages == []
    assert asyncio.run(ValidateFactsForm().required_slots([], CollectingDispatcher(), tracker, domain)) == []
    messages, _ = run(ActionAnswerEntitlement(), tracker, domain)
    assert responses(messages)[0] == "utter_measure_eligible" and messages[0]["id"] == 3
    # a statement naming no measure and asking nothing is only acknowledged
    tracker = make_tracker("我哥是重残", intent="nlu_fallback", slots={"facts": facts, "facts_changed": ["severe_disability"]})
    messages, _ = run(ActionUnsure(), tracker, domain)
    assert responses(messages) == ["utter_noted"]


def test_a_question_riding_on_a_description_is_answered_when_money_is_certain(in_force, domain):
    import asyncio
    from rasa_sdk.executor import CollectingDispatcher

    facts = {"county": "彭阳县", "residence": "rural", "statuses": ["dibao"], "covid_confirmed": True}
    asked = make_tracker("家里地里的活也没人干，有没有啥补助", intent="describe_situation", slots={"facts": facts})
    assert asyncio.run(ValidateFactsForm().required_slots([], CollectingDispatcher(), asked, domain)) == []
    told = make_tracker("家里地里的活也没人干", intent="describe_situation", slots={"facts": facts})
    assert asyncio.run(ValidateFactsForm().required_slots([], CollectingDispatcher(), told, domain))


def test_an_urgent_ticket_without_a_county_makes_the_county_the_first_question(in_force, domain):
    import asyncio
    from rasa_sdk.executor import CollectingDispatcher

    from actions.urgent import idempotency_key

    facts = {"urgent": True, "urgent_reason": "一天没吃饭了", "household_size": 2}
    opened = {"urgent_tickets": {idempotency_key("test-sender", "一天没吃饭了"): "7"}}
    waiting = make_tracker("", slots={"facts": facts, "tickets_without_county": ["一天没吃饭了"], **opened})
    slots = asyncio.run(ValidateFactsForm().required_slots([], CollectingDispatcher(), waiting, domain))
    assert slots[0] == "ask_county"
    # without a waiting ticket the policy's own order stands
    calm = make_tracker("", slots={"facts": facts, **opened})
    slots = asyncio.run(ValidateFactsForm().required_slots([], CollectingDispatcher(), calm, domain))
    ev = policy_kb.evaluate(facts, today=date.fromisoformat(IN_FORCE_DAY))
    assert slots == [state.slot_for(f) for f in ev["ask_next"] if state.slot_for(f)]


def test_asking_how_much_while_money_is_already_certain_is_answered_at_once(in_force, domain):
    import asyncio
    from rasa_sdk.executor import CollectingDispatcher

    orphan = {"statuses": ["orphan_scattered"]}
    asked = make_tracker("我是散居孤儿，一个月能给多少钱", intent="ask_entitlement", slots={"facts": orphan})
    assert asyncio.run(ValidateFactsForm().required_slots([], CollectingDispatcher(), asked, domain)) == []
    # nothing certain yet: the form still gathers first
    worker = {"employment": "unemployed_migrant_worker"}
    asked = make_tracker("我失业了，能领多少", intent="ask_entitlement", slots={"facts": worker})
    assert asyncio.run(ValidateFactsForm().required_slots([], CollectingDispatcher(), asked, domain))


def test_money_that_just_became_certain_is_said_once_while_the_form_goes_on(in_force, domain):
    # a 低保边缘 family of four with 25,000 of own medical costs: measure 8 is certain now
    facts = {"county": "同心县", "household_size": 4, "statuses": ["dibao_marginal"], "medical_out_of_pocket": 25000}
    ev = policy_kb.evaluate(facts, today=date.fromisoformat(IN_FORCE_DAY))
    m8 = ev["measures"][7]
    assert m8["status"] == "eligible"
    tracker = make_tracker("俺们是低保边缘户，同心县的，一家四口", slots={"facts": facts, "facts_said": {"county": "同心县"}})
    messages, events = run(ASK_ACTIONS["ask_residence"](), tracker, domain)
    assert responses(messages) == ["utter_ask_fact_news_noted"]
    assert "第8条" in messages[0]["news"] and replies.money(m8["amounts"][0]["total"]) in messages[0]["news"]
    told = slot_events(events)["measures_told"]
    assert [t.split("=")[0] for t in told] == ["8"]
    # the next question does not repeat it
    tracker = make_tracker("农村的", slots={"facts": facts, "facts_said": {}, "measures_told": told})
    messages, events = run(ASK_ACTIONS["ask_residence"](), tracker, domain)
    assert responses(messages) == ["utter_ask_fact"] and "measures_told" not in slot_events(events)
    # a correction that changes the total makes it news again, with the new total
    fewer = {**facts, "household_size": 3}
    m8_now = policy_kb.evaluate(fewer, today=date.fromisoformat(IN_FORCE_DAY))["measures"][7]
    tracker = make_tracker("说错了，是三口人", slots={"facts": fewer, "facts_said": {"household_size": 3},
                                                  "measures_told": told})
    messages, events = run(ASK_ACTIONS["ask_residence"](), tracker, domain)
    assert "第8条" in messages[0]["news"] and replies.money(m8_now["amounts"][0]["total"]) in messages[0]["news"]
    assert replies.money(m8["amounts"][0]["total"]) not in messages[0]["news"]
    # and a conversation that holds the older bare ids is not told again
    tracker = make_tracker("农村的", slots={"facts": facts, "facts_said": {}, "measures_told": [8]})
    messages, events = run(ASK_ACTIONS["ask_residence"](), tracker, domain)
    assert responses(messages) == ["utter_ask_fact"]


def test_the_same_question_is_asked_at_most_twice_in_a_row(in_force, domain):
    action = ASK_ACTIONS["ask_months_without_income"]()
    _, events = run(action, make_tracker("", slots={"ask_streak": ["months_without_income", 1]}), domain)
    assert slot_events(events)["ask_streak"] == ["months_without_income", 2]
    _, events = run(action, make_tracker("", slots={"ask_streak": ["county", 2]}), domain)
    assert slot_events(events)["ask_streak"] == ["months_without_income", 1]  # another question: a new streak

    facts = {"employment": "unemployed_migrant_worker"}
    first = _first_slot(facts)
    field = state.field_for(first)
    tired = make_tracker("嗯", slots={"facts": facts, "ask_streak": [field, 2], "requested_slot": first},
                         intent="affirm")
    _, events = run(ValidateFactsForm(), tired, domain)
    assert slot_events(events)["requested_slot"] != first  # not a third time in a row


def _chat(domain, turns):
    """Each message through the extraction action, the slots carried from one turn to the next."""
    slots: dict = {}
    for i, text in enumerate(turns):
        _, events = run(ActionExtractFacts(), make_tracker(text, slots=dict(slots)), domain)
        slots.update(slot_events(events))
    return slots


def test_facts_spread_over_three_messages_are_combined_in_the_case_file(in_force, domain):
    slots = _chat(domain, ["俺在银川一个工地上干活", "疫情来了工地停了", "从5月10号起就一分钱没挣上，俺是海原县的"])
    facts = slots["facts"]
    assert facts["employment"] == "unemployed_migrant_worker"
    assert facts["county"] == "海原县"
    day = date.fromisoformat(IN_FORCE_DAY)
    expected = (day.year - 2022) * 12 + day.month - 5 - (1 if day.day < 10 else 0)
    assert facts["months_without_income"] == expected
    assert slots["case_file"]["turns"] == 3


def test_a_relatives_county_is_not_replaced_by_the_callers_town(in_force, domain):
    facts = _chat(domain, ["我大伯是西吉县农村的低保户", "我在银川上班，帮他问问"])["facts"]
    assert facts["county"] == "西吉县" and "dibao" in facts["statuses"]


def test_a_question_says_the_money_that_hangs_on_it(in_force, domain):
    facts = {"county": "海原县", "employment": "unemployed_migrant_worker", "months_without_income": 4,
             "can_return_to_work": False, "unemployment_insurance": False}
    messages, _ = run(ASK_ACTIONS["ask_status_dibao"](), make_tracker("", slots={"facts": facts}), domain)
    names = responses(messages)
    assert "utter_ask_fact_stake" in names
    stake = next(m for m in messages if m["response"] == "utter_ask_fact_stake")["lines"]
    assert "第5条" in stake and "如果" in stake


def test_a_measure_the_case_is_about_that_a_figure_rules_out_is_explained_once(in_force, domain):
    facts = {"county": "海原县", "employment": "unemployed_migrant_worker", "months_without_income": 2,
             "can_return_to_work": False, "not_statuses": ["dibao"]}
    messages, events = run(ASK_ACTIONS["ask_unemployment_insurance"](), make_tracker("", slots={"facts": facts}), domain)
    miss = [m for m in messages if m["response"] == "utter_near_miss"]
    assert miss and "第5条" in miss[0]["lines"] and "3" in miss[0]["lines"]
    told = slot_events(events)["measures_refused"]
    messages, _ = run(ASK_ACTIONS["ask_unemployment_insurance"](),
                      make_tracker("", slots={"facts": facts, "measures_refused": told}), domain)
    assert "utter_near_miss" not in responses(messages)
