import json
import subprocess
import sys

import policy_kb


def test_summary_names_amounts_and_the_next_question():
    ev = policy_kb.evaluate({"as_of": "2022-07-01", "statuses": ["dibao"], "residence": "urban", "household_size": 3})
    text = policy_kb.summarize(ev)
    assert "第1条" in text and "1,800元" in text and len(text) <= 300
    assert policy_kb.question_for(ev["ask_next"][0]) in text


def test_explanation_says_why_where_and_what_is_missing():
    ev = policy_kb.evaluate({"as_of": "2022-07-01", "county": "隆德", "employment": "unemployed_migrant_worker",
                             "not_statuses": ["dibao"], "can_return_to_work": False, "unemployment_insurance": False})
    text = policy_kb.explain(ev)
    assert "第5条" in text and "您已经连续几个月没有收入了？" in text
    ev["measures"][4]["status"]  # still need_info
    ev = policy_kb.evaluate({**ev["facts"], "months_without_income": 4})
    text = policy_kb.explain(ev)
    assert "1,950元" in text and "务工地或经常居住地" in text and "隆德县民政局" in text


def test_expired_policy_is_explained_without_promising_money():
    ev = policy_kb.evaluate({"as_of": "2024-01-01", "statuses": ["dibao"], "household_size": 2, "residence": "urban"})
    for text in (policy_kb.explain(ev), policy_kb.summarize(ev)):
        assert "2023-12-31" in text and "元" not in text.replace("元旦", "")


def _cli(*args, stdin=None):
    return subprocess.run([sys.executable, "-m", "hotline.cli", "policy", *args], input=stdin,
                          capture_output=True, text=True, timeout=60)


def test_cli_evaluates_a_file(tmp_path):
    path = tmp_path / "facts.json"
    path.write_text(json.dumps({"statuses": ["tekun"], "residence": "rural"}), encoding="utf-8")
    out = _cli("evaluate", str(path), "--as-of", "2022-07-01")
    assert out.returncode == 0, out.stderr
    ev = json.loads(out.stdout)
    assert ev["as_of"] == "2022-07-01" and ev["measures"][1]["amounts"][0]["value"] == 598
    out = _cli("evaluate", str(path), "--as-of", "2022-07-01", "--explain")
    assert "第2条" in out.stdout


def test_cli_reports_bad_input_with_the_field():
    out = _cli("evaluate", "-", stdin='{"county": "朝阳区"}')
    assert out.returncode == 2 and "county" in out.stderr
    out = _cli("evaluate", "-", stdin="{not json")
    assert out.returncode == 2 and "not valid JSON" in out.stderr


def test_schema_describes_every_contract_field():
    schema = policy_kb.facts_schema()
    for field in ("as_of", "county", "residence", "household_size", "statuses", "not_statuses", "employment",
                  "months_without_income", "unemployment_insurance", "can_return_to_work", "covid_confirmed",
                  "quarantined_member", "medical_out_of_pocket", "severe_disability", "severe_illness",
                  "cannot_self_care", "age", "reemployed", "rigid_expenses", "stranded", "urgent", "urgent_reason"):
        assert field in schema["properties"], field
    assert schema["additionalProperties"] is False
