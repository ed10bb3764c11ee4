"""An outside team's client of shared/contract.md §4–§5, written from the contract alone.

One real service for the session: uvicorn on 127.0.0.1:8107 in a child process (tests/web's
LiveServer), on a fresh SQLite file, `HOTLINE_ADMIN_PASSWORD` and `HOTLINE_AS_OF=2022-07-01`
set, and no Rasa listening. The other accounts are made with the documented CLI
(`hotline user add ...`). Every request goes over real HTTP with httpx.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.web.web_harness import LiveServer

REPO = Path(__file__).resolve().parents[2]
PORT = 8107
AS_OF = "2022-07-01"
ADMIN_PASSWORD = "contract-admin-pass-7"
PASSWORD = "contract-user-pass-7"
# username: (role, county as the CLI is given it)
ACCOUNTS = {
    "agent1": ("agent", None),
    "xiji": ("county", "西吉县"),
    "yuanzhou": ("county", "原州区"),
}
HOTLINE = str(Path(sys.executable).with_name("hotline"))


def hotline(*args: str, database_url: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    """The documented command line, against the service's database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    env["HOTLINE_DATABASE_URL"] = database_url
    return subprocess.run([HOTLINE, *args], cwd=REPO, env=env, input=stdin, capture_output=True,
                          text=True, timeout=120)


@pytest.fixture(scope="session")
def service(tmp_path_factory):
    directory = tmp_path_factory.mktemp("contract")
    url = f"sqlite:///{directory / 'fresh.db'}"  # never migrated by us: the service must cope
    server = LiveServer(url, directory / "service.log", HOTLINE_ADMIN_PASSWORD=ADMIN_PASSWORD,
                        HOTLINE_AS_OF=AS_OF)
    server.port, server.url = PORT, f"http://127.0.0.1:{PORT}"  # the port this client was given
    server.start()
    server.database_url = url
    try:
        for name, (role, county) in ACCOUNTS.items():
            args = ["user", "add", name, "--role", role, "--password", PASSWORD]
            if county:
                args += ["--county", county]
            done = hotline(*args, database_url=url)
            assert done.returncode == 0, done.stderr
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def base_url(service) -> str:
    return service.url


@pytest.fixture
def http(base_url):
    with httpx.Client(base_url=base_url, timeout=30, trust_env=False) as c:
        yield c


def login(base_url: str, username: str, password: str) -> httpx.Response:
    return httpx.post(f"{base_url}/api/v1/auth/token", data={"username": username, "password": password},
                      timeout=30, trust_env=False)


@pytest.fixture(scope="session")
def auth(base_url) -> dict[str, dict[str, str]]:
    """A bearer header per account, each from the OAuth2 password form."""
    headers = {}
    for name, password in [("admin", ADMIN_PASSWORD)] + [(n, PASSWORD) for n in ACCOUNTS]:
        r = login(base_url, name, password)
        assert r.status_code == 200, r.text
        headers[name] = {"Authorization": f"Bearer {r.json()['access_token']}"}
    return headers
