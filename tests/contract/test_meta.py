"""§4–§5 around the edges: /healthz, the OpenAPI description and docs, what an outside client
tries anyway (trailing slashes), and that the service started on a fresh database."""
from __future__ import annotations

import pytest

from tests.contract.conftest import AS_OF

CONTRACT_PATHS = {
    "/api/v1/policy/evaluate": {"post"},
    "/api/v1/copilot/analyze": {"post"},
    "/webhooks/rest/webhook": {"post"},
    "/api/v1/conversations/{sender}": {"get"},
    "/api/v1/auth/token": {"post"},
    "/api/v1/tickets": {"get", "post"},
    "/api/v1/tickets/{id}": {"get", "patch"},
    "/healthz": {"get"},
}


def test_healthz_is_open_and_200(http):
    assert http.get("/healthz").status_code == 200
    assert http.head("/healthz").status_code == 200  # what uptime monitors send


def test_openapi_names_every_contract_endpoint(http):
    r = http.get("/openapi.json")
    assert r.status_code == 200
    paths = r.json()["paths"]
    for path, methods in CONTRACT_PATHS.items():
        # the path parameter's name is the project's; the path's shape is the contract's
        prefix = path.split("{")[0]
        found = [p for p in paths if p.split("{")[0] == prefix and p.count("{") == path.count("{")]
        assert found, (path, sorted(paths))
        assert methods <= set(paths[found[0]]), (path, sorted(paths[found[0]]))


def test_token_endpoint_is_described_as_a_form(http):
    op = http.get("/openapi.json").json()["paths"]["/api/v1/auth/token"]["post"]
    assert "application/x-www-form-urlencoded" in op["requestBody"]["content"]


def test_docs_page(http):
    r = http.get("/docs")
    assert r.status_code == 200
    assert "text/html" in r.headers["content-type"]
    assert "openapi.json" in r.text


@pytest.mark.parametrize("path", ["/api/v1/policy/evaluate/", "/webhooks/rest/webhook/"])
def test_trailing_slash_on_open_posts(http, path):
    body = {"sender": "slash", "message": "你好"} if "webhook" in path else {}
    r = http.post(path, json=body, follow_redirects=True)
    assert r.status_code == 200, (path, r.status_code, r.text)


def test_trailing_slash_on_ticket_list(http, auth):
    r = http.get("/api/v1/tickets/", headers=auth["admin"], follow_redirects=True)
    assert r.status_code == 200, (r.status_code, r.text)
    assert isinstance(r.json(), list)


def test_default_as_of_comes_from_the_environment(http):
    assert http.post("/api/v1/policy/evaluate", json={}).json()["as_of"] == AS_OF
