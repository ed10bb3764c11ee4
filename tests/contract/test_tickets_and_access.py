"""§4: OAuth2 token, 401 without one, roles, the ticket queue (fields, status changes, notes,
filters), the `hotline user add` command."""
from __future__ import annotations

import uuid

import pytest

from tests.contract.conftest import PASSWORD, hotline, login
from tests.contract.vocabulary import TICKET_SOURCES, check_ticket, names_field

TICKETS = "/api/v1/tickets"


def new_ticket(http, headers, *, county="西吉县", reason=None, **extra):
    body = {"county": county, "urgent_reason": reason or f"断粮两天，急需救助 {uuid.uuid4().hex[:6]}",
            "facts": {"county": county, "urgent": True}, "conversation_id": f"c-{uuid.uuid4().hex[:8]}", **extra}
    return http.post(TICKETS, json=body, headers=headers)




# ---------------------------------------------------------------- auth
def test_token_is_the_oauth2_password_form(base_url):
    r = login(base_url, "agent1", PASSWORD)
    assert r.status_code == 200, r.text
    body = r.json()
    assert isinstance(body["access_token"], str) and body["access_token"]
    assert body["token_type"] == "bearer"


def test_wrong_password_is_401(base_url):
    assert login(base_url, "agent1", "wrong-" + PASSWORD).status_code == 401


@pytest.mark.parametrize("method,path", [("GET", TICKETS), ("POST", TICKETS), ("GET", f"{TICKETS}/1"),
                                         ("PATCH", f"{TICKETS}/1"), ("POST", "/api/v1/copilot/analyze"),
                                         ("GET", "/api/v1/conversations/anyone")])
@pytest.mark.parametrize("header", [None, "Bearer not-a-token", "Basic YWRtaW46YWRtaW4="])
def test_401_without_a_valid_token(http, method, path, header):
    headers = {"Authorization": header} if header else {}
    r = http.request(method, path, json={}, headers=headers)
    assert r.status_code == 401, (method, path, header, r.status_code, r.text)
    assert r.headers.get("www-authenticate", "").lower().startswith("bearer")


# ---------------------------------------------------------------- tickets
def test_agent_opens_a_ticket_with_every_field(http, auth):
    r = new_ticket(http, auth["agent1"], source="agent")
    assert r.status_code in (200, 201), r.text
    t = r.json()
    check_ticket(t)
    assert t["county"] == "西吉县"
    assert t["status"] == "open"
    assert t["source"] == "agent"
    again = http.get(f"{TICKETS}/{t['id']}", headers=auth["agent1"])
    assert again.status_code == 200
    check_ticket(again.json())
    assert again.json()["id"] == t["id"]


@pytest.mark.parametrize("source", sorted(TICKET_SOURCES))
def test_every_documented_source_is_accepted(http, auth, source):
    r = new_ticket(http, auth["agent1"], source=source)
    assert r.status_code in (200, 201), r.text
    assert r.json()["source"] == source


def test_county_alias_on_a_ticket_is_canonical(http, auth):
    r = new_ticket(http, auth["agent1"], county="西吉")
    assert r.status_code in (200, 201), r.text
    assert r.json()["county"] == "西吉县"
    assert http.get(f"{TICKETS}/{r.json()['id']}", headers=auth["xiji"]).status_code == 200


def test_county_only_in_the_facts_is_the_tickets_county(http, auth):
    body = {"urgent_reason": "没地方住了，急需救助", "facts": {"county": "西吉", "urgent": True},
            "conversation_id": f"c-{uuid.uuid4().hex[:8]}"}
    r = http.post(TICKETS, json=body, headers=auth["agent1"])
    assert r.status_code in (200, 201), r.text
    assert r.json()["county"] == "西吉县"


@pytest.mark.parametrize("extra,field", [({"county": "朝阳区"}, "county"), ({"source": "fax"}, "source"),
                                         ({"facts": {"household_size": 0}}, "household_size"),
                                         ({"facts": {"county": "朝阳区"}}, "county")])
def test_bad_ticket_is_422_naming_the_field(http, auth, extra, field):
    r = new_ticket(http, auth["agent1"], **extra)
    assert r.status_code == 422, (r.status_code, r.text)
    assert names_field(r, field), r.text


def test_status_changes_and_notes_are_in_the_history(http, auth):
    t = new_ticket(http, auth["agent1"]).json()
    url = f"{TICKETS}/{t['id']}"
    r = http.patch(url, json={"status": "acknowledged"}, headers=auth["xiji"])
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "acknowledged"
    r = http.patch(url, json={"note": "已电话联系，今天送米面油"}, headers=auth["xiji"])
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "acknowledged"
    r = http.patch(url, json={"status": "assisted", "note": "已发放临时救助金"}, headers=auth["xiji"])
    assert r.status_code == 200, r.text
    r = http.patch(url, json={"status": "closed"}, headers=auth["xiji"])
    assert r.status_code == 200, r.text
    final = http.get(url, headers=auth["admin"]).json()
    check_ticket(final)
    assert final["status"] == "closed"
    history = final["history"]
    assert len(history) >= 5, history  # created, 3 moves, a note
    text = str(history)
    for said in ("acknowledged", "assisted", "closed", "已电话联系，今天送米面油", "已发放临时救助金"):
        assert said in text, (said, history)


@pytest.mark.parametrize("patch", [{"status": "done"}, {"status": 3}, {"note": 5}])
def test_bad_patch_is_422(http, auth, patch):
    t = new_ticket(http, auth["agent1"]).json()
    r = http.patch(f"{TICKETS}/{t['id']}", json=patch, headers=auth["agent1"])
    assert r.status_code == 422, (r.status_code, r.text)
    assert names_field(r, next(iter(patch))), r.text


def test_missing_ticket_is_404(http, auth):
    assert http.get(f"{TICKETS}/999999", headers=auth["admin"]).status_code == 404
    assert http.patch(f"{TICKETS}/999999", json={"note": "x"}, headers=auth["admin"]).status_code == 404


def test_county_officer_sees_only_their_county(http, auth):
    mine = new_ticket(http, auth["agent1"], county="西吉县").json()
    theirs = new_ticket(http, auth["agent1"], county="原州区").json()
    listed = http.get(TICKETS, headers=auth["xiji"])
    assert listed.status_code == 200
    assert {t["county"] for t in listed.json()} == {"西吉县"}
    assert mine["id"] in {t["id"] for t in listed.json()}
    for t in listed.json():
        check_ticket(t)
    # another county's ticket is 404, to read and to change; it stays unchanged
    assert http.get(f"{TICKETS}/{theirs['id']}", headers=auth["xiji"]).status_code == 404
    assert http.patch(f"{TICKETS}/{theirs['id']}", json={"status": "acknowledged"},
                      headers=auth["xiji"]).status_code == 404
    assert http.get(f"{TICKETS}/{theirs['id']}", headers=auth["admin"]).json()["status"] == "open"
    # asking for another county by filter shows nothing of it
    other = http.get(TICKETS, params={"county": "原州区"}, headers=auth["xiji"])
    assert other.status_code in (200, 403, 404)
    if other.status_code == 200:
        assert other.json() == []


def test_agents_and_admins_see_every_county(http, auth):
    a = new_ticket(http, auth["agent1"], county="西吉县").json()
    b = new_ticket(http, auth["agent1"], county="原州区").json()
    for who in ("agent1", "admin"):
        ids = {t["id"] for t in http.get(TICKETS, headers=auth[who]).json()}
        assert {a["id"], b["id"]} <= ids, who


def test_filters_status_and_county(http, auth):
    t = new_ticket(http, auth["agent1"], county="原州区").json()
    http.patch(f"{TICKETS}/{t['id']}", json={"status": "acknowledged"}, headers=auth["agent1"])
    acked = http.get(TICKETS, params={"status": "acknowledged"}, headers=auth["admin"]).json()
    assert acked and {x["status"] for x in acked} == {"acknowledged"}
    assert t["id"] in {x["id"] for x in acked}
    yz = http.get(TICKETS, params={"county": "原州区"}, headers=auth["admin"]).json()
    assert yz and {x["county"] for x in yz} == {"原州区"}
    both = http.get(TICKETS, params={"county": "原州区", "status": "open"}, headers=auth["admin"]).json()
    assert {(x["county"], x["status"]) for x in both} <= {("原州区", "open")}
    assert t["id"] not in {x["id"] for x in both}
    alias = http.get(TICKETS, params={"county": "原州"}, headers=auth["admin"])
    assert alias.status_code == 200, alias.text
    assert {x["id"] for x in alias.json()} == {x["id"] for x in yz}


@pytest.mark.parametrize("params,field", [({"status": "done"}, "status"), ({"county": "朝阳区"}, "county")])
def test_bad_filter_is_422(http, auth, params, field):
    r = http.get(TICKETS, params=params, headers=auth["admin"])
    assert r.status_code == 422, (r.status_code, r.text)
    assert names_field(r, field), r.text


# ---------------------------------------------------------------- accounts
def test_user_add_makes_a_login_with_its_role(http, service, base_url):
    name = f"li{uuid.uuid4().hex[:6]}"
    done = hotline("user", "add", name, "--role", "county", "--county", "原州区", "--password", "pw-li-12345",
                   database_url=service.database_url)
    assert done.returncode == 0, done.stderr
    token = login(base_url, name, "pw-li-12345")
    assert token.status_code == 200, token.text
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    listed = http.get(TICKETS, headers=headers)
    assert listed.status_code == 200
    assert {t["county"] for t in listed.json()} <= {"原州区"}


def test_user_add_county_alias(http, service, base_url, auth):
    name = f"xj{uuid.uuid4().hex[:6]}"
    done = hotline("user", "add", name, "--role", "county", "--county", "西吉", "--password", "pw-xj-12345",
                   database_url=service.database_url)
    assert done.returncode == 0, done.stderr
    headers = {"Authorization": f"Bearer {login(base_url, name, 'pw-xj-12345').json()['access_token']}"}
    t = new_ticket(http, auth["agent1"], county="西吉县").json()
    listed = http.get(TICKETS, headers=headers).json()
    assert {x["county"] for x in listed} == {"西吉县"}
    assert t["id"] in {x["id"] for x in listed}


@pytest.mark.parametrize("args", [["--role", "county", "--password", "pw-12345678"],           # no county
                                  ["--role", "county", "--county", "北京市", "--password", "pw-12345678"],
                                  ["--role", "boss", "--password", "pw-12345678"]])
def test_user_add_refuses_bad_accounts(service, base_url, args):
    name = f"bad{uuid.uuid4().hex[:6]}"
    done = hotline("user", "add", name, *args, database_url=service.database_url)
    assert done.returncode != 0
    assert login(base_url, name, "pw-12345678").status_code == 401


def test_user_add_twice_does_not_take_over_the_account(service, base_url):
    done = hotline("user", "add", "agent1", "--role", "admin", "--password", "pw-takeover-123",
                   database_url=service.database_url)
    assert done.returncode != 0
    assert login(base_url, "agent1", "pw-takeover-123").status_code == 401
    assert login(base_url, "agent1", PASSWORD).json()["token_type"] == "bearer"
