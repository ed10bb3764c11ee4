"""The agent's copilot in a real browser: typing a caller's story, editing chips, the date, tickets."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

# An unemployed migrant worker, 3 months without income, not on dibao, no unemployment
# insurance, cannot return to work: measure 5, 3 × the urban dibao month of 650 元.
STORY = "来电人是西吉县的农民工，失业了，三个月没有收入，不是低保户，没有失业保险，无法返岗"


def monthly_standard_x3() -> str:
    import policy_kb
    from datetime import date

    months = policy_kb.parameter("unemployed.lump_sum_multiplier").at(date(2022, 7, 1))
    monthly = policy_kb.parameter("dibao.urban_monthly", "西吉县").at(date(2022, 7, 1))
    return f"{int(months * monthly):,}元"


def type_story(page, text=STORY):
    notes = page.get_by_label("记录或转写来电内容（边输入边分析）")
    notes.click()
    notes.press_sequentially(text, delay=15)
    return notes


def test_agent_types_story_and_sees_measure_5_with_amount(as_user, shot):
    page = as_user("agent1")
    assert page.url.endswith("/copilot")
    type_story(page)
    amount = monthly_standard_x3()
    assert amount == "1,950元"
    m5 = page.locator('#eligible [data-measure="5"]')
    expect(m5).to_contain_text("第5条")
    expect(m5).to_contain_text(amount)
    expect(page.locator("#grand-total")).to_contain_text(amount)
    # Nothing else pays for this household yet.
    expect(page.locator("#eligible [data-measure]")).to_have_count(1)
    # The facts as chips.
    chips = page.locator("#chips")
    for text in ("西吉县", "3 个月", "失业的农民工", "城乡低保对象：否", "能否返岗复工：否"):
        expect(chips).to_contain_text(text)
    # Still to ask, with the exact question; the reply to read out.
    import extraction
    import policy_kb

    from datetime import date

    expected = policy_kb.evaluate(extraction.extract(STORY).facts, today=date(2022, 7, 1))["ask_next"]
    expect(page.locator("#ask > li").first).to_contain_text(policy_kb.question_for(expected[0]))
    expect(page.locator("#ask > li")).to_have_count(min(5, len(expected)))
    expect(page.locator("#reply")).to_contain_text("第5条")
    # aria-live status says what changed.
    expect(page.locator("#status")).to_contain_text("1 项措施符合")
    # Citation on click.
    quote = m5.locator("blockquote")
    expect(quote).to_be_hidden()
    m5.get_by_text("原文（第5条）").click()
    expect(quote).to_be_visible()
    expect(quote).to_contain_text("城市低保月标准3倍")
    shot(page, "measure5")


def test_editing_a_chip_sends_it_back_and_changes_the_result(as_user, shot):
    page = as_user("agent1")
    type_story(page)
    expect(page.locator('#eligible [data-measure="5"]')).to_be_visible()
    page.locator("#chip-months_without_income").click()
    editor = page.get_by_role("form", name="修改：连续无收入月数")
    field = editor.get_by_label("连续无收入月数")
    expect(field).to_be_focused()
    field.fill("2")
    field.press("Enter")
    chip = page.locator("#chip-months_without_income")
    expect(chip).to_contain_text("2 个月")  # the edit sticks although the text says 三个月
    expect(chip).to_have_class(re.compile("edited"))
    expect(page.locator('#eligible [data-measure="5"]')).to_have_count(0)
    # Answering a question from the "still to ask" list: statuses chips work the same way.
    page.locator("#chip-months_without_income").click()
    page.get_by_role("form", name="修改：连续无收入月数").get_by_label("连续无收入月数").fill("3")
    page.get_by_role("button", name="确定").click()
    expect(page.locator('#eligible [data-measure="5"]')).to_contain_text("1,950元")
    shot(page, "edited")


def test_banner_when_policy_not_in_force(as_user, shot):
    page = as_user("agent1")
    type_story(page)
    expect(page.locator('#eligible [data-measure="5"]')).to_be_visible()
    banner = page.locator("#banner")
    expect(banner).to_be_hidden()
    page.get_by_label("咨询日期").fill("2024-01-01")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("2024-01-01")
    expect(banner).to_contain_text("2023-12-31")
    expect(page.locator("#eligible [data-measure]")).to_have_count(0)
    shot(page, "not-in-force")
    page.get_by_label("咨询日期").fill("2022-07-01")
    expect(banner).to_be_hidden()
    expect(page.locator('#eligible [data-measure="5"]')).to_be_visible()


def test_facts_in_notes_never_become_markup(as_user):
    page = as_user("agent1")
    type_story(page, "西吉县<img src=x onerror=alert(1)>三个月没有收入")
    expect(page.locator("#chips")).to_contain_text("西吉县")
    assert page.locator("#main img").count() == 0


def test_answering_a_question_adds_a_status_chip(as_user):
    page = as_user("agent1")
    type_story(page)
    first = page.locator("#ask > li").first
    expect(first).to_contain_text("低保边缘家庭")
    first.get_by_role("button").click()
    editor = page.get_by_role("form", name="修改：低保边缘家庭")
    editor.get_by_label("低保边缘家庭").select_option("false")
    editor.get_by_role("button", name="确定").click()
    expect(page.locator("#chip-statuses-dibao_marginal")).to_contain_text("低保边缘家庭：否")
    expect(page.locator('#ask > li[data-field="statuses.dibao_marginal"]')).to_have_count(0)
    # The same through "补充一项": a fact nobody mentioned yet.
    page.get_by_label("补充一项").select_option("household_size")
    page.get_by_role("button", name="填写", exact=True).click()
    page.get_by_role("form", name="修改：共同生活的家庭人口").get_by_label("共同生活的家庭人口").fill("4")
    page.keyboard.press("Enter")
    expect(page.locator("#chip-household_size")).to_contain_text("4 人")
    # Measure 5 pays per person: still 1,950 for the one person out of work.
    expect(page.locator('#eligible [data-measure="5"]')).to_contain_text("1,950元")
    expect(page.locator('#eligible [data-measure="5"]')).not_to_contain_text("全家合计")
    expect(page.locator("#grand-total")).to_have_text("一次性金额合计（已知部分）：1,950元")
