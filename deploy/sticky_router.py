"""The Rasa pool's sticky reverse proxy in Python: deploy/haproxy.cfg's `backend rasa` rule for
the container-free topology (scripts/topology.py) and its tests.

    .venv/bin/python deploy/sticky_router.py --port 5005 \
        --backend http://127.0.0.1:5006 --backend http://127.0.0.1:5007

Rule (same as HAProxy's `balance hash var(txn.sender)` + `hash-type consistent`):
- the sender comes from the JSON body's "sender" (POST /webhooks/rest/webhook) or from the path
  /conversations/{sender}/...; a request without one goes to the first live server;
- consistent hashing (64 points per server on a SHA-1 ring) picks the sender's server; losing
  a server moves only its senders to the next server on the ring;
- only a connection failure (the turn never reached Rasa) is retried on the next server, and
  that server is left out for a few seconds; a turn that reached a server is never sent twice.
`GET /` (Rasa's health path) is the pool's: 200 when every server answers, else 503 naming them.
Every answer carries `X-Rasa-Backend` (which server answered) for tests and debugging.
"""
from __future__ import annotations

import argparse
import asyncio
import bisect
import hashlib
import json
import time
from urllib.parse import unquote

import httpx

POINTS_PER_SERVER = 64
DOWN_SECONDS = 3.0
HEALTH_TIMEOUT = 0.8  # under the service's own 1 s health timeout
HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers",
              "transfer-encoding", "upgrade", "content-length", "host"}


def _h(value: str) -> int:
    return int.from_bytes(hashlib.sha1(value.encode("utf-8")).digest()[:8], "big")


class Ring:
    def __init__(self, servers: list[str]):
        if not servers:
            raise ValueError("at least one --backend")
        self.servers = list(dict.fromkeys(s.rstrip("/") for s in servers))
        self.points = sorted((_h(f"{s}#{i}"), s) for s in self.servers for i in range(POINTS_PER_SERVER))
        self.keys = [p[0] for p in self.points]

    def preference(self, key: str | None) -> list[str]:
        """Every server, the key's own first, then the next ones clockwise on the ring."""
        if key is None:
            return list(self.servers)
        start = bisect.bisect(self.keys, _h(key)) % len(self.points)
        order: list[str] = []
        for i in range(len(self.points)):
            server = self.points[(start + i) % len(self.points)][1]
            if server not in order:
                order.append(server)
                if len(order) == len(self.servers):
                    break
        return order


def sender_of(method: str, path: str, body: bytes) -> str | None:
    if path.startswith("/conversations/"):
        parts = path.split("/")
        return unquote(parts[2]) if len(parts) > 2 and parts[2] else None
    if method == "POST" and body:
        try:
            data = json.loads(body)
        except ValueError:
            return None
        if isinstance(data, dict) and isinstance(data.get("sender"), str):
            return data["sender"]
    return None


class StickyRouter:
    """Pure ASGI app."""

    # A turn that reached Rasa must not be cut off: closing the connection makes Rasa (Sanic) cancel
    # it, even while it waits for the conversation's lock, and the message is lost. So the upstream
    # wait is long; the caller (the service) keeps its own, shorter timeout and falls back.
    def __init__(self, servers: list[str], *, timeout: float = 300.0):
        self.ring = Ring(servers)
        self.down_until: dict[str, float] = {}
        self.timeout = timeout
        self.client: httpx.AsyncClient | None = None
        self.served: dict[str, int] = {s: 0 for s in self.ring.servers}
        self.inflight = 0  # requests waiting on a Rasa server now (the load test waits for 0)

    async def __call__(self, scope, receive, send):
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    self.client = httpx.AsyncClient(timeout=self.timeout, trust_env=False,
                                                    limits=httpx.Limits(max_connections=200))
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    if self.client is not None:
                        await self.client.aclose()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        path, method = scope["path"], scope["method"]
        if path == "/_router/status":
            return await self._reply(send, 200, json.dumps({
                "servers": self.ring.servers, "served": self.served, "inflight": self.inflight,
                "down": [s for s, t in self.down_until.items() if t > time.monotonic()]}).encode(),
                [(b"content-type", b"application/json")])
        if path == "/" and method in ("GET", "HEAD"):
            return await self._pool_health(send)
        order = self.ring.preference(sender_of(method, path, body))
        now = time.monotonic()
        # Live servers in ring order first; the ones marked down are still tried last.
        order = [s for s in order if self.down_until.get(s, 0) <= now] + \
                [s for s in order if self.down_until.get(s, 0) > now]
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]
                   if k.decode("latin-1").lower() not in HOP_BY_HOP]
        query = scope.get("query_string", b"").decode("latin-1")
        last_error = "no server"
        for server in order:
            url = server + scope.get("raw_path", path.encode()).decode("latin-1").split("?")[0] + (
                f"?{query}" if query else "")
            self.inflight += 1
            try:
                r = await self.client.request(method, url, content=body, headers=headers)
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                self.down_until[server] = time.monotonic() + DOWN_SECONDS
                last_error = f"{server}: {type(exc).__name__}"
                self.inflight -= 1
                continue  # never reached Rasa: safe to try the next server
            except httpx.HTTPError as exc:
                self.inflight -= 1
                return await self._reply(send, 502, json.dumps(
                    {"error": f"{server}: {type(exc).__name__}"}).encode(),
                    [(b"content-type", b"application/json")])
            self.inflight -= 1
            self.down_until.pop(server, None)
            self.served[server] = self.served.get(server, 0) + 1
            out = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in r.headers.items()
                   if k.lower() not in HOP_BY_HOP and k.lower() != "content-encoding"]
            out.append((b"x-rasa-backend", server.encode()))
            return await self._reply(send, r.status_code, r.content, out)
        return await self._reply(send, 503, json.dumps({"error": last_error}).encode(),
                                 [(b"content-type", b"application/json")])

    async def _pool_health(self, send) -> None:
        """Rasa's health path for the pool: 200 only when every server answers. A server still
        loading its model must not count as up: its senders would be answered by another one
        meanwhile, and with in-memory trackers (`make run`) their conversation would split."""
        async def up(server: str) -> bool:
            try:
                return (await self.client.get(server + "/", timeout=HEALTH_TIMEOUT)).status_code == 200
            except httpx.HTTPError:
                return False

        states = dict(zip(self.ring.servers, await asyncio.gather(*(up(s) for s in self.ring.servers))))
        down = [s for s, ok in states.items() if not ok]
        body = {"pool": "rasa", "servers": len(states), "up": [s for s, ok in states.items() if ok], "down": down}
        if down:
            body["error"] = f"{len(down)} of {len(states)} Rasa servers not answering: {', '.join(down)}"
        return await self._reply(send, 503 if down else 200, json.dumps(body).encode(),
                                 [(b"content-type", b"application/json")])

    @staticmethod
    async def _reply(send, status: int, body: bytes, headers: list) -> None:
        headers = list(headers) + [(b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def main(argv: list[str] | None = None) -> int:
    import uvicorn

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=5005)
    ap.add_argument("--backend", action="append", required=True, help="a Rasa server URL (repeat)")
    args = ap.parse_args(argv)
    uvicorn.run(StickyRouter(args.backend), host=args.host, port=args.port, log_level="warning",
                access_log=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
