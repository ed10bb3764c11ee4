"""Corrections: later facts override earlier ones, statuses move between the two lists, unknown never erases."""
from extraction import extract, merge_facts


def turns(*messages, expected=None):
    facts = {}
    for i, text in enumerate(messages):
        facts = merge_facts(facts, extract(text, expected_field=(expected or {}).get(i)).facts)
    return facts


def test_correction_of_residence():
    assert turns("我是城里的", "不对，我是农村的")["residence"] == "rural"


def test_status_moves_to_not_statuses_and_back():
    facts = turns("我是低保户", "刚才说错了，不是低保户")
    assert facts["not_statuses"] == ["dibao"] and "statuses" not in facts
    facts = merge_facts(facts, extract("是低保户，去年评上的").facts)
    assert facts["statuses"] == ["dibao"] and "not_statuses" not in facts


def test_not_dibao_but_marginal():
    facts = turns("不是低保户但是低保边缘户")
    assert facts == {"not_statuses": ["dibao"], "statuses": ["dibao_marginal"]}


def test_later_number_wins_and_earlier_facts_stay():
    facts = turns("西吉县，一家四口，三个月没收入", "不对，是五口人")
    assert facts == {"county": "西吉县", "household_size": 5, "months_without_income": 3}


def test_unknown_does_not_erase():
    old = {"county": "西吉县", "statuses": ["dibao"], "age": 70}
    assert merge_facts(old, {"age": None, "statuses": []}) == old
    assert merge_facts(old, {}) == old
    assert old == {"county": "西吉县", "statuses": ["dibao"], "age": 70}  # inputs untouched


def test_county_then_other_city_drops_stale_county():
    facts = merge_facts({"county": "西吉县"}, {"city": "银川市"})
    assert facts == {"city": "银川市"}
    facts = merge_facts({"county": "西吉县"}, {"city": "固原市"})
    assert facts == {"county": "西吉县"}
    assert merge_facts({"city": "固原市"}, {"county": "海原县"}) == {"county": "海原县"}


def test_county_correction_in_one_message():
    assert turns("不是西吉，是海原的")["county"] == "海原县"
    assert turns("我在西吉", "说错了，是隆德")["county"] == "隆德县"


def test_bare_answers_in_a_conversation():
    facts = turns("我家是农村的", "三个月", "不是", "4口人",
                  expected={1: "months_without_income", 2: "statuses.dibao", 3: "household_size"})
    assert facts == {"residence": "rural", "months_without_income": 3, "not_statuses": ["dibao"], "household_size": 4}


def test_urgent_reason_kept_and_cleared():
    facts = turns("家里断粮了")
    assert facts["urgent"] is True and facts["urgent_reason"] == "家里断粮了"
    facts = merge_facts(facts, {"urgent": False})
    assert facts["urgent"] is False and "urgent_reason" not in facts


def test_a_corrected_count_of_months_replaces_the_earlier_one():
    # the correction names no income again: the months are still what it corrects
    assert turns("连着四个月没收入", "哦不对，记错了，是俩月")["months_without_income"] == 2
    assert turns("三个多月莫活干了", "说错了，两个来月")["months_without_income"] == 2
    # the bot asked for the months: a bare 俩月 answers it
    assert turns("没收入", "俩月", expected={1: "months_without_income"})["months_without_income"] == 2
    # a calendar month in the correction is no count: the earlier figure stays
    assert turns("连着四个月没收入", "不对，是从三月份开始的")["months_without_income"] == 4
