"""From the copilot to the county queue: an urgent ticket, seen and acknowledged by the right county
only; the queue's order, paging and the daily stats; the whole thing by keyboard alone."""
from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import expect

from web_harness import PASSWORD, insert_ticket, login, seed_tickets

pytestmark = pytest.mark.browser

URGENT = "西吉县的来电人，在外打工失业了，已经两天没吃饭，身上没钱回不了家，电话13812345678"


def new_page(browser, live, username):
    context = browser.new_context(viewport={"width": 1200, "height": 900}, locale="zh-CN")
    context.set_default_timeout(20_000)
    page = context.new_page()
    login(page, live.url, username)
    return page


def test_urgent_ticket_reaches_its_county_only(browser, live, as_user, shot):
    agent = as_user("agent1")
    notes = agent.get_by_label("记录或转写来电内容（边输入边分析）")
    notes.click()
    notes.press_sequentially(URGENT, delay=10)
    expect(agent.locator("#urgent-flag")).to_be_visible()
    agent.get_by_role("button", name="开急难工单").click()
    result = agent.locator("#ticket-result")
    expect(result).to_contain_text("急难工单 #")
    expect(result).to_contain_text("西吉县")
    ticket_id = int(result.get_attribute("data-ticket-id"))
    shot(agent, "ticket-opened")
    # Pressing again in the same call, even after more notes, gives the same ticket.
    notes.press_sequentially("，还带着一个孩子", delay=10)
    agent.get_by_role("button", name="开急难工单").click()
    expect(agent.locator("#ticket-link")).to_have_text(f"急难工单 #{ticket_id}")

    xiji = new_page(browser, live, "xiji")
    assert xiji.url.endswith("/queue")
    row = xiji.locator(f'tr[data-ticket-id="{ticket_id}"]')
    expect(row).to_be_visible()
    expect(row).to_contain_text("待接单")
    expect(row).to_contain_text("138****5678")  # lists are masked
    expect(row).to_contain_text("剩余")          # the SLA clock
    shot(xiji, "queue")
    row.get_by_role("link", name=f"#{ticket_id}").click()
    expect(xiji.locator("h1")).to_contain_text(f"#{ticket_id}")
    expect(xiji.locator(".excerpt")).to_contain_text("两天没吃饭")
    expect(xiji.locator(".excerpt")).to_contain_text("13812345678")  # the detail, to its county, in full
    expect(xiji.locator(".checklist li")).to_have_count(4)
    xiji.get_by_role("button", name="确认接单").click()
    expect(xiji.locator("#flash")).to_contain_text("已确认接单")
    expect(xiji.locator("#ticket-status")).to_have_text("已接单")
    expect(xiji.locator(".history")).to_contain_text("待接单 → 已接单")
    # A note, then the paperwork checklist, then assisted and closed.
    xiji.get_by_label("添加备注").fill("已送去米面油和500元临时救助金")
    xiji.get_by_role("button", name="添加备注").click()
    expect(xiji.locator(".history")).to_contain_text("已送去米面油")
    xiji.get_by_label("身份证明（身份证或户口簿）").check()
    xiji.get_by_role("button", name="保存清单").click()
    expect(xiji.get_by_label("身份证明（身份证或户口簿）")).to_be_checked()
    xiji.get_by_role("button", name="标记已救助").click()
    expect(xiji.locator("#ticket-status")).to_have_text("已救助")
    shot(xiji, "detail")

    other = new_page(browser, live, "yuanzhou")
    expect(other.locator(f'tr[data-ticket-id="{ticket_id}"]')).to_have_count(0)
    other.goto(f"{live.url}/queue/{ticket_id}")
    expect(other.locator("h1")).to_have_text("找不到工单")
    shot(other, "other-county")
    for p in (xiji, other):
        p.context.close()


def test_closing_without_help_needs_a_note(browser, live, shot):
    tid = insert_ticket(live.database_url, county="西吉县", created_minutes_ago=5)
    page = new_page(browser, live, "xiji")
    page.goto(f"{live.url}/queue/{tid}")
    page.get_by_role("button", name="关闭工单").click()
    expect(page.locator("#action-error")).to_contain_text("需要说明原因")
    expect(page.locator("#ticket-status")).to_have_text("待接单")
    page.get_by_label("说明（关闭未救助的工单时必填）").fill("重复来电，已在 #1 处理")
    page.get_by_role("button", name="关闭工单").click()
    expect(page.locator("#ticket-status")).to_have_text("已关闭")
    page.context.close()


def test_queue_order_paging_and_admin_filter(browser, live, shot):
    county = "隆德县"
    fresh = insert_ticket(live.database_url, county=county, created_minutes_ago=5)
    acked_old = insert_ticket(live.database_url, county=county, created_minutes_ago=300,
                              status="acknowledged", acted_minutes_after=10)
    overdue_new = insert_ticket(live.database_url, county=county, created_minutes_ago=60)
    overdue_old = insert_ticket(live.database_url, county=county, created_minutes_ago=120)
    page = new_page(browser, live, "admin")
    page.goto(f"{live.url}/queue")
    page.get_by_label("县（市、区）").select_option(county)
    page.get_by_role("button", name="筛选").click()
    ids = [int(x) for x in page.locator("tbody tr").evaluate_all("rs => rs.map(r => r.dataset.ticketId)")]
    assert ids == [overdue_old, overdue_new, fresh, acked_old]
    expect(page.locator(f'tr[data-ticket-id="{overdue_old}"]')).to_contain_text("已超时")
    expect(page.locator("#queue-summary")).to_contain_text("超时未处理 2")
    # Status filter.
    page.get_by_label("状态").select_option("acknowledged")
    page.get_by_role("button", name="筛选").click()
    ids = page.locator("tbody tr").evaluate_all("rs => rs.map(r => Number(r.dataset.ticketId))")
    assert ids == [acked_old]
    # Server-side paging: 60 more tickets of one county → 50 + the rest on page 2.
    seed_tickets(live.database_url, 60, counties=["泾源县"], seed=3)
    page.goto(f"{live.url}/queue?status=all&county=泾源县")
    expect(page.locator("tbody tr")).to_have_count(50)
    page.get_by_role("link", name="下一页").click()
    expect(page.locator("tbody tr")).to_have_count(10)
    shot(page, "page2")
    page.context.close()


def test_daily_stats(browser, live, shot):
    insert_ticket(live.database_url, county="西吉县", created_minutes_ago=30, status="acknowledged",
                  acted_minutes_after=12)
    page = new_page(browser, live, "xiji")
    page.goto(f"{live.url}/queue/stats")
    expect(page.locator("h1")).to_contain_text("西吉县")
    assert int(page.locator("#kpi-opened").inner_text()) >= 1
    expect(page.locator("#kpi-median")).to_contain_text("分钟")
    bars = page.locator("svg rect.bar")
    expect(bars).to_have_count(14)
    counts = bars.evaluate_all("bs => bs.map(b => Number(b.dataset.count))")
    assert sum(counts) == int(page.locator("#kpi-opened").inner_text())
    assert counts[-1] >= 1  # today
    # The county officer cannot look at another county's numbers.
    page.goto(f"{live.url}/queue/stats?county=原州区")
    expect(page.locator("h1")).to_contain_text("西吉县")
    shot(page, "stats")
    page.context.close()


def test_keyboard_only(browser, live, shot):
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")  # a phone
    context.set_default_timeout(20_000)
    page = context.new_page()
    kb = page.keyboard
    page.goto(f"{live.url}/copilot")
    assert "/login" in page.url
    expect(page.get_by_label("用户名")).to_be_focused()
    kb.type("agent1")
    kb.press("Tab")
    kb.type(PASSWORD)
    kb.press("Enter")
    page.wait_for_url(f"{live.url}/copilot")

    def tab_to(predicate: str, limit: int = 60) -> None:
        for _ in range(limit):
            kb.press("Tab")
            if page.evaluate(f"() => {{ const e = document.activeElement; return !!e && ({predicate}); }}"):
                # Focus is visible: the focus ring is drawn.
                style = page.evaluate("() => { const s = getComputedStyle(document.activeElement);"
                                      " return [s.outlineStyle, s.outlineWidth]; }")
                assert style[0] != "none" and style[1] != "0px", style
                return
        raise AssertionError(f"Tab never reached {predicate}")

    tab_to("e.id === 'notes'")
    kb.type("西吉县农民工，失业了，三个月没有收入，不是低保户，没有失业保险，无法返岗")
    expect(page.locator('#eligible [data-measure="5"]')).to_contain_text("1,950元")
    tab_to("e.dataset.field === 'months_without_income'")
    kb.press("Enter")
    expect(page.locator("#edit-value")).to_be_focused()
    kb.press("Control+A")
    kb.type("4")
    kb.press("Enter")
    expect(page.locator("#chip-months_without_income")).to_contain_text("4 个月")
    expect(page.locator("#chip-months_without_income")).to_be_focused()
    # Escape closes an editor and gives focus back to its chip.
    kb.press("Enter")
    expect(page.locator("#edit-value")).to_be_focused()
    kb.press("Escape")
    expect(page.locator("#chip-months_without_income")).to_be_focused()
    page.locator("#notes").focus()
    tab_to("e.id === 'open-ticket'")
    kb.press("Enter")
    expect(page.locator("#ticket-result")).to_contain_text("急难工单 #")
    ticket_id = page.locator("#ticket-result").get_attribute("data-ticket-id")
    shot(page, "copilot-phone")
    context.close()

    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    context.set_default_timeout(20_000)
    page = context.new_page()
    kb = page.keyboard
    page.goto(f"{live.url}/login")
    expect(page.get_by_label("用户名")).to_be_focused()  # autofocus lands a moment after load
    kb.type("xiji")
    kb.press("Tab")
    kb.type(PASSWORD)
    kb.press("Enter")
    page.wait_for_url(f"{live.url}/queue")
    tab_to(f"e.textContent.trim() === '#{ticket_id}'", limit=200)
    kb.press("Enter")
    page.wait_for_url(f"{live.url}/queue/{ticket_id}")
    tab_to("e.id === 'btn-ack'")
    kb.press("Enter")
    expect(page.locator("#flash")).to_contain_text("已确认接单")
    shot(page, "queue-phone")
    context.close()


def test_pages_refuse_who_may_not_see_them(live):
    with httpx.Client(base_url=live.url, follow_redirects=False) as c:
        for path in ("/copilot", "/queue", "/queue/1", "/queue/stats"):
            r = c.get(path)
            assert r.status_code == 303 and r.headers["location"].startswith("/login"), path
        r = c.post("/web/api/copilot/analyze", json={"text": "西吉县"})
        assert r.status_code == 401
        r = c.post("/login", data={"username": "xiji", "password": "wrong-password"})
        assert r.status_code == 401 and "用户名或密码错误" in r.text
        r = c.post("/login", data={"username": "xiji", "password": PASSWORD})
        assert r.status_code == 303
        cookie = r.headers["set-cookie"]
        assert "HttpOnly" in cookie and re.search("SameSite=strict", cookie, re.I)
        assert c.get("/copilot").status_code == 403  # county officers: the queue only
        r = c.post("/web/api/tickets", json={"urgent_reason": "x", "county": "西吉县"})
        assert r.status_code == 403
    with httpx.Client(base_url=live.url, follow_redirects=False) as c:
        c.post("/login", data={"username": "agent1", "password": PASSWORD})
        # Without the page's CSRF token the JSON calls are refused, even with the cookie.
        r = c.post("/web/api/copilot/analyze", json={"text": "西吉县"})
        assert r.status_code == 403 and "CSRF" in r.text
        csrf = re.search(r'name="csrf-token" content="(\w+)"', c.get("/copilot").text).group(1)
        r = c.post("/web/api/copilot/analyze", json={"text": "西吉县", "facts": {"county": "火星"}},
                   headers={"X-CSRF-Token": csrf})
        assert r.status_code == 422 and r.json()["field"].startswith("facts.county")
        # Bad input to the ticket call stores nothing.
        r = c.post("/web/api/tickets", json={"urgent_reason": "", "county": "西吉县"},
                   headers={"X-CSRF-Token": csrf})
        assert r.status_code == 422 and r.json()["field"] == "urgent_reason"
        r = c.post("/logout", data={"csrf": csrf})
        assert r.status_code == 303
        assert c.get("/copilot").status_code == 303


def test_what_callers_typed_is_escaped_in_queue_and_detail(live):
    reason = '<script>alert("x")</script>没饭吃，身份证642222199001011234'
    tid = insert_ticket(live.database_url, county="西吉县", created_minutes_ago=3, reason=reason)
    with httpx.Client(base_url=live.url, follow_redirects=False) as c:
        assert c.post("/login", data={"username": "xiji", "password": PASSWORD}).status_code == 303
        listing = c.get("/queue", params={"status": "open"}).text
        detail = c.get(f"/queue/{tid}").text
    for html in (listing, detail):
        assert '<script>alert("x")' not in html and "&lt;script&gt;" in html
    assert "6422**********1234" in listing and "642222199001011234" not in listing  # lists: masked
    assert "642222199001011234" in detail  # the detail, to the ticket's own county: in full
