"""Accounts and tokens: OAuth2 password login, argon2 hashes, the failed-login limit, the admin
account from HOTLINE_ADMIN_PASSWORD, and the `hotline user` command."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from service.main import create_app
from service.models.user import User
from tests.service.conftest import PASSWORD, snapshot


def login(client, username, password, ip=None):
    return client.post("/api/v1/auth/token", data={"username": username, "password": password})


def test_login_gives_a_bearer_token_that_works(client, users, db):
    r = login(client, "xiji", PASSWORD)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "bearer" and body["role"] == "county" and body["county"] == "西吉县"
    h = {"Authorization": f"Bearer {body['access_token']}"}
    assert client.get("/api/v1/tickets", headers=h).status_code == 200
    with db.sessionmaker() as s:
        stored = s.scalar(select(User.password_hash).where(User.username == "xiji"))
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


def test_wrong_password_and_unknown_user_are_401(client, users):
    assert login(client, "xiji", "wrong-password").status_code == 401
    assert login(client, "nobody", PASSWORD).status_code == 401
    r = client.post("/api/v1/auth/token", data={"username": "xiji"})
    assert r.status_code == 422 and r.json()["field"] == "password"


def test_failed_logins_are_rate_limited_per_user(client, users):
    for _ in range(3):
        assert login(client, "agent1", "bad").status_code == 401
    r = login(client, "agent1", PASSWORD)  # even the right password must wait now
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
    assert "agent1" not in r.text or "retry" in r.json()["detail"]
    assert login(client, "xiji", PASSWORD).status_code == 200  # other accounts unaffected


def test_a_disabled_account_loses_access(client, users, db):
    with db.sessionmaker() as s:
        s.scalar(select(User).where(User.username == "agent1")).is_active = False
        s.commit()
    assert client.get("/api/v1/tickets", headers=users["agent1"]).status_code == 401


def test_admin_password_creates_admin_at_start(settings, db, fake_rasa):
    s = settings.model_copy(update={"admin_password": "s3cret-admin-pw"})
    from pydantic import SecretStr
    s = s.model_copy(update={"admin_password": SecretStr("s3cret-admin-pw")})
    with TestClient(create_app(s, rasa=fake_rasa)) as c:
        r = login(c, "admin", "s3cret-admin-pw")
        assert r.status_code == 200 and r.json()["role"] == "admin"
    with TestClient(create_app(s, rasa=fake_rasa)) as c:  # a second start changes nothing
        assert login(c, "admin", "s3cret-admin-pw").status_code == 200
    with db.sessionmaker() as session:
        assert session.scalars(select(User)).all().__len__() == 1


def _cli(db, *args, stdin=None):
    """The real `hotline` command in a subprocess (slow: used once)."""
    env = {**os.environ, "HOTLINE_DATABASE_URL": db.url}
    return subprocess.run([sys.executable, "-m", "hotline.cli", "user", *args], env=env, input=stdin,
                          capture_output=True, text=True, timeout=60)


def _cli_inproc(db, monkeypatch, capsys, *args):
    """The same entry point in this process: (exit code, stdout, stderr)."""
    from hotline.cli import main

    monkeypatch.setenv("HOTLINE_DATABASE_URL", db.url)
    try:
        code = main(["user", *args])
    except SystemExit as exc:  # argparse errors
        code = exc.code
    out = capsys.readouterr()
    return code, out.out, out.err


def test_hotline_user_add(client, db):
    r = _cli(db, "add", "li", "--role", "county", "--county", "西吉", "--password", "pw-long-enough")
    assert r.returncode == 0, r.stderr
    assert "西吉县" in r.stdout
    assert login(client, "li", "pw-long-enough").json()["county"] == "西吉县"
    r = _cli(db, "add", "ma", "--role", "agent", "--password-stdin", stdin="another-pw-1\n")
    assert r.returncode == 0 and login(client, "ma", "another-pw-1").json()["role"] == "agent"
    listing = _cli(db, "list").stdout
    assert "li\tcounty\t西吉县" in listing and "ma\tagent" in listing


@pytest.mark.parametrize("args,needle", [
    (["add", "x", "--role", "county", "--county", "北京", "--password", "pw-long-enough"], "unknown county"),
    (["add", "x", "--role", "county", "--password", "pw-long-enough"], "needs --county"),
    (["add", "x", "--role", "boss", "--password", "pw-long-enough"], "invalid choice"),
    (["add", "x", "--role", "agent", "--password", "short"], "8 characters"),
    (["add", "li", "--role", "agent", "--password", "pw-long-enough"], "already exists"),
    (["add", "x", "--role", "agent", "--county", "西吉县", "--password", "pw-long-enough"], "only for role county"),
])
def test_hotline_user_add_errors_change_nothing(db, monkeypatch, capsys, args, needle):
    code, _, _ = _cli_inproc(db, monkeypatch, capsys, "add", "li", "--role", "agent", "--password", "pw-long-enough")
    assert code == 0
    before = snapshot(db)
    code, _, err = _cli_inproc(db, monkeypatch, capsys, *args)
    assert code != 0 and needle in err
    assert snapshot(db) == before


def test_hotline_user_disable(client, db, monkeypatch, capsys):
    _cli_inproc(db, monkeypatch, capsys, "add", "zhao", "--role", "agent", "--password", "pw-long-enough")
    assert login(client, "zhao", "pw-long-enough").status_code == 200
    assert _cli_inproc(db, monkeypatch, capsys, "disable", "zhao")[0] == 0
    assert login(client, "zhao", "pw-long-enough").status_code == 401
    assert _cli_inproc(db, monkeypatch, capsys, "disable", "nobody")[0] == 1
