"""Every kind of bad input raises InvalidFacts naming the field, and leaves the input untouched."""
import copy

import pytest

import policy_kb

BAD = [
    ({"county": "朝阳区"}, "county"),
    ({"county": "兰州"}, "county"),
    ({"county": 7}, "county"),
    ({"city": "西安"}, "city"),
    ({"county": "西吉县", "city": "银川市"}, "city"),
    ({"residence": "suburb"}, "residence"),
    ({"household_size": 0}, "household_size"),
    ({"household_size": 2.5}, "household_size"),
    ({"household_size": "3"}, "household_size"),
    ({"household_size": True}, "household_size"),
    ({"statuses": "dibao"}, "statuses"),
    ({"statuses": ["dibao", "rich"]}, "statuses[1]"),
    ({"not_statuses": [None]}, "not_statuses[0]"),
    ({"statuses": ["dibao"], "not_statuses": ["dibao"]}, "not_statuses"),
    ({"employment": "retired"}, "employment"),
    ({"months_without_income": -1}, "months_without_income"),
    ({"medical_out_of_pocket": -0.01}, "medical_out_of_pocket"),
    ({"medical_out_of_pocket": float("nan")}, "medical_out_of_pocket"),
    ({"medical_out_of_pocket": "两万"}, "medical_out_of_pocket"),
    ({"age": 200}, "age"),
    ({"urgent": "yes"}, "urgent"),
    ({"covid_confirmed": 1}, "covid_confirmed"),
    ({"as_of": "2022-13-01"}, "as_of"),
    ({"as_of": "20220701"}, "as_of"),
    ({"as_of": "2022/07/01"}, "as_of"),
    ({"urgent_reason": "急" * 501}, "urgent_reason"),
    ({"income": 100}, "income"),
    # an outside audit's additions: a city is not a county, impossible days, other wrong types
    ({"county": "银川"}, "county"),
    ({"county": ""}, "county"),
    ({"as_of": "2022-02-30"}, "as_of"),
    ({"as_of": "2022-7-1"}, "as_of"),
    ({"as_of": 20220701}, "as_of"),
    ({"residence": "Urban"}, "residence"),
    ({"months_without_income": 2.5}, "months_without_income"),
    ({"months_without_income": "3"}, "months_without_income"),
    ({"medical_out_of_pocket": True}, "medical_out_of_pocket"),
    ({"medical_out_of_pocket": -1}, "medical_out_of_pocket"),
    ({"age": -1}, "age"),
    ({"unemployment_insurance": "false"}, "unemployment_insurance"),
    ({"urgent_reason": 5}, "urgent_reason"),
    ({"not_statuses": ["Dibao"]}, "not_statuses[0]"),
    ({"statuses": ["tekun", "dibao_marginal"], "not_statuses": ["vagrant", "tekun"]}, "not_statuses"),
]


@pytest.mark.parametrize("facts,field", BAD, ids=[f for _, f in BAD])
def test_bad_input_names_the_field(facts, field):
    before = copy.deepcopy(facts)
    with pytest.raises(policy_kb.InvalidFacts) as err:
        policy_kb.evaluate(facts)
    assert err.value.field == field
    assert field.split("[")[0] in str(err.value)
    assert facts == before or facts != facts  # nan != nan; the input is never mutated


@pytest.mark.parametrize("facts", [None, [], "dibao", 3])
def test_facts_must_be_an_object(facts):
    with pytest.raises(policy_kb.InvalidFacts) as err:
        policy_kb.evaluate(facts)
    assert err.value.field == "facts"


def test_null_means_unknown_not_false():
    ev = policy_kb.evaluate({"as_of": "2022-07-01", "statuses": None, "urgent": None, "household_size": None})
    assert ev["measures"][0]["status"] == "need_info"
    assert ev["urgent"] is False


def test_aliases_and_integral_floats_are_normalised():
    ev = policy_kb.evaluate({"as_of": "2022-07-01", "county": "青铜峡", "household_size": 3.0})
    assert ev["facts"]["county"] == "青铜峡市" and ev["facts"]["city"] == "吴忠市"
    assert ev["facts"]["household_size"] == 3


def test_as_of_defaults_to_today_argument():
    import datetime as dt
    ev = policy_kb.evaluate({}, today=dt.date(2023, 12, 31))
    assert ev["as_of"] == "2023-12-31" and ev["document"]["in_force"] is True
    assert policy_kb.evaluate({"as_of": "2024-01-01"}, today=dt.date(2023, 1, 1))["document"]["in_force"] is False
