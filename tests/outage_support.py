"""Real database outages for tests: a SQLite file taken away, or PostgreSQL behind a TCP gate
that refuses new connections and cuts the open ones. Used by the service and WeChat suites."""
from __future__ import annotations

import shutil
import socket
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from sqlalchemy.engine import make_url

from service.core.db import migrate


class Gate:
    """A TCP forwarder in front of PostgreSQL. `shut()`: new connections are refused and open
    ones cut (as when the server goes down); `open()`: reachable again on the same port."""

    def __init__(self, upstream: tuple[str, int]):
        self.upstream = upstream
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()
        self._server: socket.socket | None = None
        self.open()

    def open(self) -> None:
        self._server = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, args=(self._server,), daemon=True).start()

    def shut(self) -> None:
        try:
            self._server.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept() (Linux)
        except OSError:
            pass
        self._server.close()
        with self._lock:
            for c in self._conns:
                try:
                    c.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                c.close()
            self._conns.clear()

    def _accept(self, server: socket.socket) -> None:
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return
            try:
                up = socket.create_connection(self.upstream, timeout=5)
                up.settimeout(None)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._conns += [client, up]
            for a, b in ((client, up), (up, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class Outage:
    """`url` to connect to; `down()` / `up()`; `engines` the test opened, disposed on `down()`
    for SQLite (open connections would keep the file)."""

    def __init__(self, url: str, down, up):
        self.url, self._down, self._up = url, down, up
        self.engines: list = []

    def down(self) -> None:
        self._down()

    def up(self) -> None:
        self._up()




@contextmanager
def database_outage(kind: str, tmp_path: Path, *, filename: str = "service.db", postgres_url: str | None = None,
                    clean: Callable[[str], None] | None = None) -> Iterator[Outage]:
    """An Outage of a migrated SQLite file (`kind` "sqlite") or of the PostgreSQL at
    `postgres_url`, which `clean(url)` empties before and after."""
    if kind == "sqlite":
        path = tmp_path / "db" / filename
        path.parent.mkdir()
        url = f"sqlite:///{path}"
        migrate(url)
        away = tmp_path / "away"
        away.mkdir()

        def down():
            for engine in outage.engines:
                engine.dispose()  # the open connections go with the file
            for f in path.parent.iterdir():
                shutil.move(str(f), away / f.name)
            path.mkdir()  # a directory where the file was: SQLite cannot open (nor create) it

        def up():
            path.rmdir()
            for f in away.iterdir():
                shutil.move(str(f), path.parent / f.name)

        outage = Outage(url, down, up)
        yield outage
        return
    u = make_url(postgres_url)
    gate = Gate((u.host or "127.0.0.1", u.port or 5432))
    url = u.set(host="127.0.0.1", port=gate.port).render_as_string(hide_password=False)
    if clean:
        clean(postgres_url)
    try:
        yield Outage(url, gate.shut, gate.open)
    finally:
        gate.shut()
        if clean:
            clean(postgres_url)
