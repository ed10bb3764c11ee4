"""Browser tests of the staff pages: one live uvicorn on a temporary SQLite database for the
session, Debian's Chromium driven by Playwright, screenshots under test-artifacts/web/."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
from playwright.sync_api import expect

sys.path.insert(0, str(Path(__file__).resolve().parent))

from web_harness import REPO, LiveServer, launch_browser, login, make_database  # noqa: E402

ARTIFACTS = REPO / "test-artifacts" / "web"


@pytest.fixture(scope="session")
def live(tmp_path_factory):
    directory = tmp_path_factory.mktemp("web")
    url = make_database(directory)
    server = LiveServer(url, directory / "service.log").start()
    server.database_url = url
    yield server
    server.stop()


@pytest.fixture(scope="session", autouse=True)
def patient_expect():
    """The machine is shared: give expect() the same 20 s as page actions."""
    expect.set_options(timeout=20_000)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = launch_browser(p)
        yield b
        b.close()


@pytest.fixture
def page(browser, request):
    """A fresh context (no cookies) per test, phone-ish width unless the test asks otherwise."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1200, "height": 900}, locale="zh-CN")
    context.set_default_timeout(20_000)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.js_errors = errors
    yield pg
    pg.screenshot(path=str(ARTIFACTS / f"{request.node.name}-end.png"), full_page=True)
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


@pytest.fixture
def shot(request):
    def take(page, name: str) -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{request.node.name}-{name}.png"), full_page=True)
    return take


@pytest.fixture
def as_user(live, page):
    def go(username: str, next_path: str = ""):
        login(page, live.url, username, next_path=next_path)
        return page
    return go
