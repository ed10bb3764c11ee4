"""The answer actions: amounts with totals, single measures, applying, validity, expiry, failures."""
import logging
from datetime import date

import policy_kb
import pytest

from actions import replies
from actions.answers import (ActionAnswerEntitlement, ActionAnswerMeasure, ActionHandoff,
                             ActionHowToApply, ActionPolicyValidity, ActionReportMisconduct)
from actions.facts_actions import ActionExtractFacts

from action_harness import EXPIRED_DAY, IN_FORCE_DAY, make_tracker, responses, run, slot_events

DIBAO_FAMILY = {"county": "西吉县", "residence": "rural", "statuses": ["dibao"], "household_size": 4}


def _evaluate(facts, day=IN_FORCE_DAY):
    return policy_kb.evaluate(facts, today=date.fromisoformat(day))


def test_answer_names_measures_amounts_total_and_where(in_force, domain, fake_tickets):
    messages, events = run(ActionAnswerEntitlement(), make_tracker("我能领多少钱", intent="ask_entitlement",
                                                                  slots={"facts": DIBAO_FAMILY}), domain)
    assert responses(messages)[0] == "utter_entitlement"
    msg = messages[0]
    ev = _evaluate(DIBAO_FAMILY)
    eligible = [m for m in ev["measures"] if m["status"] == "eligible"]
    assert eligible, "a rural dibao family of four is eligible for something"
    once = sum(a["total"] for m in eligible for a in m["amounts"] if a["frequency"] == "once")
    assert f"合计{replies.money(once)}元" in msg["totals"]
    for m in eligible:
        if m.get("apply_at"):
            assert f"第{m['id']}条" in msg["apply"]
    assert "西吉县" in msg["known"] and "4口人" in msg["known"]
    assert msg["number"] == ev["document"]["number"]
    assert fake_tickets.tickets == []  # nothing urgent, no ticket
    assert slot_events(events)["entitlement_answered"] is True  # asking again answers again


def test_follow_up_question_comes_last_and_is_remembered(in_force, domain):
    messages, events = run(ActionAnswerEntitlement(), make_tracker("", slots={"facts": DIBAO_FAMILY}), domain)
    ev = _evaluate(DIBAO_FAMILY)
    assert responses(messages)[-1] == "utter_entitlement_follow_up"
    assert messages[-1]["question"] == policy_kb.question_for(ev["ask_next"][0])
    assert slot_events(events)["last_asked_field"] == ev["ask_next"][0]
    assert messages[-1]["question"] not in messages[0]["summary"]


def test_details_on_request_use_explain(in_force, domain):
    messages, _ = run(ActionAnswerEntitlement(), make_tracker("详细说说", intent="ask_entitlement",
                                                             slots={"facts": DIBAO_FAMILY}), domain)
    assert responses(messages)[0] == "utter_entitlement_detail"
    assert messages[0]["explanation"] == policy_kb.explain(_evaluate(DIBAO_FAMILY))


def test_after_the_end_date_the_bot_says_the_measures_expired(expired, domain, fake_tickets):
    messages, _ = run(ActionAnswerEntitlement(), make_tracker("", slots={"facts": DIBAO_FAMILY}), domain)
    assert responses(messages) == ["utter_measures_expired"]
    doc = policy_kb.evaluate({}, today=date.fromisoformat(EXPIRED_DAY))["document"]
    assert messages[0]["valid_to"] == replies.cn_date(doc["valid_to"])
    assert messages[0]["valid_to"].endswith("年12月31日")
    assert "amounts" not in messages[0] and "totals" not in messages[0]


def test_after_expiry_the_caller_hears_it_in_full_once_then_briefly_with_what_was_noted(expired, domain, fake_tickets):
    messages, events = run(ActionAnswerEntitlement(), make_tracker("", slots={"facts": DIBAO_FAMILY}), domain)
    assert responses(messages) == ["utter_measures_expired"]
    assert slot_events(events)["expiry_told"] is True
    messages, events = run(ActionAnswerEntitlement(), make_tracker(
        "家里四口人", slots={"facts": DIBAO_FAMILY, "expiry_told": True}), domain)
    assert responses(messages) == ["utter_measures_expired_again"]
    assert "西吉县" in messages[0]["known"] and "4口人" in messages[0]["known"]
    assert messages[0]["office"] == "西吉县民政局" and messages[0]["valid_to"].endswith("年12月31日")
    messages, _ = run(ActionHowToApply(), make_tracker("去哪办", slots={"facts": DIBAO_FAMILY, "expiry_told": True}),
                      domain)
    assert responses(messages) == ["utter_measures_expired_again"]


def test_a_question_about_a_day_in_force_asked_after_expiry_is_answered_for_then_with_a_warning(
        expired, domain, fake_tickets):
    text = "2022年7月的时候我家是低保户，农村的，西吉县，四口人，那时候能领多少钱"
    _, events = run(ActionExtractFacts(), make_tracker(text, slots={"facts": {}}), domain)
    facts = slot_events(events)["facts"]
    assert facts["as_of"] == "2022-07-01"
    messages, _ = run(ActionAnswerEntitlement(), make_tracker(text, intent="ask_entitlement",
                                                             slots={"facts": facts}), domain)
    assert responses(messages)[:2] == ["utter_answer_about_then", "utter_entitlement"]
    assert messages[0]["as_of"] == "2022年7月1日" and messages[0]["office"] == "西吉县民政局"
    then = _evaluate(facts, day=EXPIRED_DAY)  # facts' own as_of wins over the day of the call
    assert then["document"]["in_force"] and messages[1]["number"] == then["document"]["number"]
    assert "2022年7月1日那时" in messages[1]["known"]


def test_no_warning_when_the_day_asked_about_is_in_force_today(in_force, domain, fake_tickets):
    facts = {**DIBAO_FAMILY, "as_of": "2022-07-01"}
    messages, _ = run(ActionAnswerEntitlement(), make_tracker("能领多少", intent="ask_entitlement",
                                                             slots={"facts": facts}), domain)
    assert responses(messages)[0] == "utter_entitlement"


def test_an_amount_still_unknown_is_not_called_no_payment(in_force, domain, fake_tickets):
    facts = {"urgent": True, "urgent_reason": "一天没吃东西了", "county": "海原县"}  # household size unknown
    messages, _ = run(ActionAnswerEntitlement(), make_tracker("能领多少", intent="ask_entitlement",
                                                             slots={"facts": facts}), domain)
    answer = [m for m in messages if m.get("response") == "utter_entitlement"][0]
    assert "无一次性款项" not in answer["totals"]
    assert "第9条的金额还要看：" + policy_kb.tables.fact_label("household_size") in answer["totals"]
    facts["household_size"] = 1
    messages, _ = run(ActionAnswerEntitlement(), make_tracker("能领多少", intent="ask_entitlement",
                                                             slots={"facts": facts}), domain)
    answer = [m for m in messages if m.get("response") == "utter_entitlement"][0]
    assert "还要看" not in answer["totals"] and "合计" in answer["totals"]


def test_no_eligible_measure_points_to_regular_channels(in_force, domain):
    facts = {"county": "兴庆区", "not_statuses": ["dibao", "tekun"], "employment": "employed"}
    messages, _ = run(ActionAnswerEntitlement(), make_tracker("", slots={"facts": facts}), domain)
    ev = _evaluate(facts)
    expected = "utter_entitlement" if replies.eligible(ev) else "utter_entitlement_none"
    assert responses(messages)[0] == expected
    if expected == "utter_entitlement_none":
        assert messages[0]["office"] == "兴庆区民政局"


def test_a_failing_policy_answers_with_the_hotline(in_force, domain, monkeypatch, caplog):
    def broken(*a, **k):
        raise RuntimeError("rules broke for 13912345678")
    monkeypatch.setattr(policy_kb, "evaluate", broken)
    with caplog.at_level(logging.ERROR):
        messages, events = run(ActionAnswerEntitlement(), make_tracker("", slots={"facts": DIBAO_FAMILY}), domain)
    assert responses(messages) == ["utter_action_error"]
    assert events == []
    assert "13912345678" not in caplog.text and "139****5678" in caplog.text
    assert "12345" in domain["responses"]["utter_action_error"][0]["text"]


def test_a_failing_extractor_keeps_the_old_facts(in_force, domain, monkeypatch):
    import extraction

    def broken(*a, **k):
        raise ValueError("boom")
    monkeypatch.setattr(extraction, "extract", broken)
    _, events = run(ActionExtractFacts(), make_tracker("我是低保户", slots={"facts": DIBAO_FAMILY}), domain)
    assert "facts" not in slot_events(events) and slot_events(events)["facts_changed"] == []


@pytest.mark.parametrize("mid", [1, 5, 19])
def test_single_measure_by_entity(in_force, domain, mid):
    tracker = make_tracker(f"第{mid}条", intent="ask_measure", slots={"facts": DIBAO_FAMILY},
                           entities=[{"entity": "measure", "value": str(mid)}])
    messages, _ = run(ActionAnswerMeasure(), tracker, domain)
    assert len(messages) == 1
    msg = messages[0]
    m = next(x for x in _evaluate(DIBAO_FAMILY)["measures"] if x["id"] == mid)
    assert msg["id"] == mid and msg["title"] == policy_kb.measure(mid)["title"]
    assert msg["response"] == {"eligible": "utter_measure_eligible", "not_eligible": "utter_measure_not_eligible",
                               "need_info": "utter_measure_need_info", "info": "utter_measure_info"}[m["status"]]
    assert msg["citation"] == (m.get("citation") or policy_kb.measure(mid)["text"])


def test_single_measure_eligible_shows_the_callers_amount(in_force, domain):
    tracker = make_tracker("一次性生活补贴是怎么回事", intent="ask_measure", slots={"facts": DIBAO_FAMILY})
    messages, _ = run(ActionAnswerMeasure(), tracker, domain)
    assert messages[0]["id"] == 1 and messages[0]["response"] == "utter_measure_eligible"
    total = _evaluate(DIBAO_FAMILY)["measures"][0]["amounts"][0]["total"]
    assert f"{replies.money(total)}元" in messages[0]["amounts"]


def test_measure_question_without_a_measure_lists_all_twenty(in_force, domain):
    messages, _ = run(ActionAnswerMeasure(), make_tracker("有哪些措施", intent="ask_measure"), domain)
    assert responses(messages) == ["utter_measure_which"]
    assert messages[0]["titles"].count("\n") == 19


def test_single_measure_after_expiry(expired, domain):
    tracker = make_tracker("第五条", intent="ask_measure", entities=[{"entity": "measure", "value": "5"}])
    messages, _ = run(ActionAnswerMeasure(), tracker, domain)
    assert responses(messages) == ["utter_measure_not_in_force"]


def test_how_to_apply_lists_places_and_papers(in_force, domain):
    messages, _ = run(ActionHowToApply(), make_tracker("去哪里办", intent="ask_how_to_apply",
                                                      slots={"facts": DIBAO_FAMILY}), domain)
    assert responses(messages) == ["utter_how_to_apply"]
    assert "第2条" in messages[0]["lines"] and "身份证或户口簿" in messages[0]["lines"]
    # 能领多少，去哪儿申请: each place comes with what the measure pays
    m1 = replies.status_for(_evaluate(DIBAO_FAMILY), 1)
    assert f"第1条（{replies.amount_text(m1['amounts'][0])}）" in messages[0]["lines"]

    messages, _ = run(ActionHowToApply(), make_tracker("怎么申请", intent="ask_how_to_apply"), domain)
    assert responses(messages) == ["utter_how_to_apply_general"]


@pytest.mark.parametrize("day,response", [(IN_FORCE_DAY, "utter_validity_in_force"),
                                          (EXPIRED_DAY, "utter_validity_expired"),
                                          ("2022-05-01", "utter_validity_not_yet")])
def test_policy_validity_comes_from_the_document(domain, monkeypatch, day, response):
    monkeypatch.setenv("HOTLINE_AS_OF", day)
    messages, _ = run(ActionPolicyValidity(), make_tracker("政策还有效吗", intent="ask_policy_validity"), domain)
    assert responses(messages) == [response]
    doc = policy_kb.evaluate({}, today=date.fromisoformat(day))["document"]
    assert messages[0]["valid_from"] == replies.cn_date(doc["valid_from"])
    assert messages[0]["valid_to"] == replies.cn_date(doc["valid_to"])


def test_misconduct_cites_measure_19(in_force, domain):
    messages, _ = run(ActionReportMisconduct(), make_tracker("村干部截留低保金", intent="report_misconduct"), domain)
    assert responses(messages) == ["utter_report_misconduct"]
    assert messages[0]["id"] == 19 and messages[0]["title"] == policy_kb.measure(19)["title"]


def test_handoff_marks_the_conversation(in_force, domain):
    messages, events = run(ActionHandoff(), make_tracker("转人工", intent="request_human",
                                                        slots={"facts": DIBAO_FAMILY}), domain)
    assert responses(messages) == ["utter_handoff"]
    assert slot_events(events) == {"handoff_requested": True}
    assert "西吉县" in messages[0]["known"]
    # with nothing known yet there is no summary to promise
    messages, events = run(ActionHandoff(), make_tracker("转人工", intent="request_human", slots={"facts": {}}),
                           domain)
    assert responses(messages) == ["utter_handoff_new"] and slot_events(events) == {"handoff_requested": True}



def test_a_question_about_what_a_measure_sends_is_answered_not_handed_to_an_operator(in_force, domain):
    # 有莫有人能跟我说说话 (Ningxia's 有没有) asks about measure 16's counselling, even when the NLU
    # heard a request for a person: answer from the measure, and offer the operator once.
    ask = make_tracker("有莫有人能跟我说说话开导开导", intent="request_human", slots={"facts": DIBAO_FAMILY},
                       entities=[{"entity": "measure", "value": "16"}])
    messages, events = run(ActionHandoff(), ask, domain)
    said = responses(messages)
    assert said[-1] == "utter_handoff_offer" and "utter_handoff" not in said
    assert any(m.get("id") == 16 for m in messages)
    assert "handoff_requested" not in slot_events(events)
    # asking for the hotline's own person still hands over, measure named or not
    messages, events = run(ActionHandoff(), make_tracker(
        "能不能转人工问问心理疏导的事？", intent="request_human", slots={"facts": DIBAO_FAMILY},
        entities=[{"entity": "measure", "value": "16"}]), domain)
    assert responses(messages) == ["utter_handoff"] and slot_events(events) == {"handoff_requested": True}

def test_money_that_waits_for_one_yes_or_no_is_offered_with_its_condition(in_force, domain):
    worker = {"county": "青铜峡市", "employment": "unemployed_migrant_worker", "months_without_income": 6,
              "unemployment_insurance": False, "can_return_to_work": False}
    messages, _ = run(ActionAnswerEntitlement(), make_tracker("那我能领多少", intent="ask_entitlement",
                                                             slots={"facts": worker}), domain)
    assert "utter_entitlement_possible" in responses(messages)
    lines = next(m for m in messages if m.get("response") == "utter_entitlement_possible")["lines"]
    # measure 5 waits only for "not on dibao": its amount is said, from the rules, with that condition
    assumed = _evaluate({**worker, "not_statuses": ["dibao"]})
    m5 = replies.status_for(assumed, 5)
    assert m5["status"] == "eligible"
    assert f"如果不属于{policy_kb.status_labels()['dibao']}：第5条" in lines
    assert replies.money(m5["amounts"][0]["value"]) in lines
    # a caller whose money is all settled hears no conditions
    messages, _ = run(ActionAnswerEntitlement(), make_tracker("", slots={"facts": {
        **worker, "not_statuses": ["dibao", "tekun"], "statuses": []}}), domain)
    assert "utter_entitlement_possible" not in responses(messages)


def test_asking_what_one_named_measure_gives_answers_that_measure_for_the_day_asked(in_force, domain):
    # 2022年10月的时候还能领那个600块的补贴吗: the subsidy's months were over by then
    facts = {"as_of": "2022-10-01"}
    tracker = make_tracker("2022年10月的时候还能领那个600块的补贴吗", intent="ask_entitlement",
                           slots={"facts": facts}, entities=[{"entity": "measure", "value": "1"}])
    messages, events = run(ActionAnswerEntitlement(), tracker, domain)
    assert responses(messages)[0] == "utter_measure_not_eligible"
    m1 = replies.status_for(_evaluate(facts), 1)
    assert messages[0]["id"] == 1 and messages[0]["reasons"] == "；".join(m1["reasons"])
    assert "entitlement_answered" not in slot_events(events)


def test_amounts_that_wait_for_urban_or_rural_are_said_for_both(in_force, domain):
    vagrant = {"county": "兴庆区", "statuses": ["vagrant"], "covid_confirmed": True}
    messages, _ = run(ActionAnswerEntitlement(), make_tracker("这人能给啥救助", intent="ask_entitlement",
                                                             slots={"facts": vagrant}), domain)
    lines = next(m for m in messages if m.get("response") == "utter_entitlement_by_residence")["lines"]
    for residence, word in (("urban", "城市户"), ("rural", "农村户")):
        m7 = replies.status_for(_evaluate({**vagrant, "residence": residence}), 7)
        assert f"{word}——" in lines and replies.money(m7["amounts"][0]["value"]) in lines


@pytest.mark.parametrize("facts", [{"statuses": ["tekun"]}, {"statuses": ["dibao"], "household_size": 2}])
def test_the_policys_next_question_is_asked_once_at_the_end_not_inside_the_answer(in_force, domain, facts):
    # the residence question ends with a gloss （按城市还是农村低保标准）; it must still be split off
    messages, _ = run(ActionAnswerEntitlement(), make_tracker("我能领啥", intent="ask_entitlement",
                                                             slots={"facts": facts}), domain)
    question = policy_kb.question_for(_evaluate(facts)["ask_next"][0])
    assert question not in messages[0]["summary"]
    assert messages[-1]["question"] == question


def test_a_standard_paid_monthly_reads_as_monthly_in_the_summary():
    ev = _evaluate({"statuses": ["tekun"], "residence": "urban", "household_size": 1})
    m2 = replies.status_for(ev, 2)["amounts"][0]
    assert f"{m2['label']}每月{replies.money(m2['value'])}元" in policy_kb.summarize(ev)


def test_a_when_question_hears_the_measures_own_text(in_force, domain):
    from actions.answers import ActionAnswerEntitlement

    facts = {"county": "兴庆区", "residence": "urban", "household_size": 4, "statuses": ["dibao"]}
    messages, _ = run(ActionAnswerEntitlement(), make_tracker("那个600的补贴啥时候发么", intent="ask_entitlement",
                                                              slots={"facts": facts}), domain)
    texts = [m for m in messages if m["response"] == "utter_measure_texts"]
    assert texts and "每人每月发放" in texts[0]["lines"]


def test_the_same_question_again_with_nothing_new_is_not_the_same_summary(in_force, domain):
    from actions.answers import ActionAnswerEntitlement

    facts = {"county": "泾源县", "statuses": ["dibao"]}
    tracker = make_tracker("那到底能不能领", intent="ask_entitlement",
                           slots={"facts": facts, "entitlement_answered": True, "facts_changed": []})
    messages, _ = run(ActionAnswerEntitlement(), tracker, domain)
    assert "utter_entitlement" not in responses(messages)
    assert any(r.startswith("utter_measure_") for r in responses(messages))


def test_money_the_caller_can_get_is_said_with_a_measure_asked_about_that_is_not_theirs(in_force, domain):
    # 能申请那个临时救助不 names measure 9; this worker's money is measure 5's, said beside it
    worker = {"county": "青铜峡市", "residence": "urban", "employment": "unemployed_migrant_worker",
              "months_without_income": 5, "unemployment_insurance": False, "can_return_to_work": False,
              "not_statuses": ["dibao"]}
    m5 = replies.status_for(_evaluate(worker), 5)
    assert m5["status"] == "eligible"
    messages, _ = run(ActionAnswerMeasure(), make_tracker("这个能申请那个临时救助不", intent="ask_measure",
                                                         slots={"facts": worker},
                                                         entities=[{"entity": "measure", "value": "9"}]), domain)
    # (said as measure 5's own answer when the question's words find it, or as the line beside measure 9)
    told = " ".join(str(m.get("amounts") or "") + str(m.get("lines") or "") for m in messages
                    if m.get("id") == 5 or m.get("response") == "utter_measure_also")
    assert replies.money(m5["amounts"][0]["value"]) in told
    # a measure the words do not find, asked about by number: the line beside it says measure 5's money
    messages, _ = run(ActionAnswerMeasure(), make_tracker("第十九条是啥意思？", intent="ask_measure", slots={"facts": worker},
                                                         entities=[{"entity": "measure", "value": "19"}]), domain)
    assert responses(messages)[-1] == "utter_measure_also" and "第5条" in messages[-1]["lines"]
    assert replies.money(m5["amounts"][0]["value"]) in messages[-1]["lines"]
    # asked about a measure that is theirs, nothing is added
    messages, _ = run(ActionAnswerMeasure(), make_tracker("第五条我能领吗", intent="ask_measure", slots={"facts": worker},
                                                         entities=[{"entity": "measure", "value": "5"}]), domain)
    assert "utter_measure_also" not in responses(messages)


def test_a_question_about_a_measure_taken_for_a_validity_question_is_answered_from_the_measure(in_force, domain):
    # 还能 without a word of the document's term: who helps when nobody looks after an old man (measure 12)
    text = "眼下还能凑合，就怕往后病了没人管，到时候该找谁"
    messages, _ = run(ActionPolicyValidity(), make_tracker(text, intent="ask_policy_validity"), domain)
    assert not any(r.startswith("utter_validity") for r in responses(messages))
    assert any(m.get("id") == 12 for m in messages)
    # a question about the term itself stays one
    messages, _ = run(ActionPolicyValidity(), make_tracker("走访探视这条政策到啥时候截止？", intent="ask_policy_validity"),
                      domain)
    assert responses(messages) == ["utter_validity_in_force"]
