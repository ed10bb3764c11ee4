"""`make run`'s Rasa pool (issue 13): one Rasa server per core as memory allows, behind the sticky
router, and the router's health that says up only when every server answers."""
from __future__ import annotations

import importlib.util
import json
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from service import supervisor

ROOT = Path(__file__).resolve().parents[2]
GB = 1_000_000_000


def test_one_rasa_server_per_core_as_far_as_memory_allows(monkeypatch):
    monkeypatch.delenv("HOTLINE_RASA_SERVERS", raising=False)
    assert supervisor.rasa_server_count(cores=2, available=20 * GB) == 2
    assert supervisor.rasa_server_count(cores=8, available=5 * GB) == 2  # (5 - 1.5) // 1.4
    assert supervisor.rasa_server_count(cores=4, available=2 * GB) == 1  # never fewer than one
    monkeypatch.setenv("HOTLINE_RASA_SERVERS", "3")
    assert supervisor.rasa_server_count(cores=1, available=1 * GB) == 3  # asked for: as asked


@pytest.mark.parametrize("bad", ["0", "two"])
def test_a_wrong_server_count_is_named(monkeypatch, bad):
    monkeypatch.setenv("HOTLINE_RASA_SERVERS", bad)
    with pytest.raises(SystemExit, match="HOTLINE_RASA_SERVERS"):
        supervisor.rasa_server_count()


def _children(monkeypatch, tmp_path, count: str) -> dict[str, list[str]]:
    (tmp_path / "bot" / "models").mkdir(parents=True)
    (tmp_path / "bot" / "models" / "m.tar.gz").write_bytes(b"x")
    monkeypatch.delenv("HOTLINE_RASA_MODEL", raising=False)
    monkeypatch.delenv("RASA_MODEL", raising=False)
    monkeypatch.setenv("HOTLINE_RASA_SERVERS", count)
    return {c.name: c.argv for c in supervisor.default_children(tmp_path, {})}


def test_two_servers_listen_behind_the_router_on_rasas_port(monkeypatch, tmp_path):
    children = _children(monkeypatch, tmp_path, "2")
    assert list(children) == ["actions", "rasa1", "rasa2", "rasa", "service"]
    ports = [argv[argv.index("-p") + 1] for argv in (children["rasa1"], children["rasa2"])]
    assert ports == ["5006", "5007"]
    router = children["rasa"]
    assert router[1].endswith("deploy/sticky_router.py") and router[router.index("--port") + 1] == "5005"
    assert [router[i + 1] for i, a in enumerate(router) if a == "--backend"] == \
        ["http://127.0.0.1:5006", "http://127.0.0.1:5007"]


def test_one_server_listens_on_rasas_port_itself(monkeypatch, tmp_path):
    children = _children(monkeypatch, tmp_path, "1")
    assert list(children) == ["actions", "rasa", "service"]
    assert children["rasa"][children["rasa"].index("-p") + 1] == "5005"


# ---------------------------------------------------------------- the router's pool health, over HTTP
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Hello(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server's name
        body = b"Hello from Rasa: 3.6.21"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture()
def router_with_one_server_down():
    spec = importlib.util.spec_from_file_location("sticky_router", ROOT / "deploy" / "sticky_router.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["sticky_router_test"] = mod
    spec.loader.exec_module(mod)
    import uvicorn

    up = ThreadingHTTPServer(("127.0.0.1", 0), _Hello)
    threading.Thread(target=up.serve_forever, daemon=True).start()
    up_url, down_url = f"http://127.0.0.1:{up.server_port}", f"http://127.0.0.1:{_free_port()}"
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(mod.StickyRouter([up_url, down_url]), host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", up_url, down_url, up
    server.should_exit = True
    thread.join(5)
    up.shutdown()


def test_the_pool_is_down_while_one_server_does_not_answer(router_with_one_server_down):
    router, up_url, down_url, up = router_with_one_server_down
    r = httpx.get(router + "/", timeout=5, trust_env=False)
    assert r.status_code == 503
    body = r.json()
    assert body["up"] == [up_url] and body["down"] == [down_url] and down_url in body["error"]


def test_the_pool_is_up_when_every_server_answers(router_with_one_server_down):
    router, up_url, down_url, up = router_with_one_server_down
    # the second server comes up on the port the router was told about
    port = int(down_url.rsplit(":", 1)[1])
    second = ThreadingHTTPServer(("127.0.0.1", port), _Hello)
    threading.Thread(target=second.serve_forever, daemon=True).start()
    try:
        r = httpx.get(router + "/", timeout=5, trust_env=False)
        assert r.status_code == 200 and json.loads(r.content)["down"] == []
    finally:
        second.shutdown()
