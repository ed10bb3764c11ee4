#!/usr/bin/env python
"""The production topology of deploy/docker-compose.yml without containers (issue 7).

    .venv/bin/python scripts/topology.py            (`make topology`; Ctrl-C stops everything)

On this machine's PostgreSQL (127.0.0.1:5432, trust auth) and Redis (127.0.0.1:6379):
  - databases `hotline_topology` (the service) and `hotline_topology_rasa` (Rasa's tracker store),
    created if missing (`--fresh` drops and recreates both);
  - Redis db 7 with the key prefix `hotlinetopo` for Rasa's lock store;
  - the action server, two Rasa servers (5006, 5007) with deploy/rasa/endpoints.yml (SQL tracker
    store on PostgreSQL, Redis lock store), deploy/sticky_router.py in front of them (the
    HAProxy rule: consistent hashing on the sender), and the service (uvicorn) pointed at
    PostgreSQL and the router.
Servers start one after the other (a Rasa server takes ~1.2 GB and a core while loading) and
each is waited for; every process runs in its own process group and is stopped on exit.

PostgreSQL or Redis down: started (`pg_ctlcluster ... start`, `redis-server --daemonize yes`),
else installed from Debian's packages when running as root; else `Unavailable` says why.
Tests import `Topology` from here (tests/prod/conftest.py).
"""
from __future__ import annotations

import argparse
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PG_ROOT = os.environ.get("HOTLINE_TOPOLOGY_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
REDIS_DB = int(os.environ.get("HOTLINE_TOPOLOGY_REDIS_DB", "7"))
REDIS_PREFIX = "hotlinetopo"  # Rasa wants it alphanumeric
SERVICE_DB = "hotline_topology"
RASA_DB = "hotline_topology_rasa"
RASA_BIN = os.environ.get("HOTLINE_RASA_BIN", str(ROOT / ".venv-rasa" / "bin" / "rasa"))
SERVICE_PY = os.environ.get("HOTLINE_SERVICE_PY", str(ROOT / ".venv" / "bin" / "python"))


class Unavailable(RuntimeError):
    """PostgreSQL or Redis cannot be reached, started or installed here."""


def say(message: str) -> None:
    print(f"[topology {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


# ---------------------------------------------------------------- PostgreSQL and Redis
def _pg_error(url: str = PG_ROOT) -> str | None:
    from sqlalchemy import create_engine, text

    try:
        eng = create_engine(url, connect_args={"connect_timeout": 3})
        with eng.connect() as c:
            c.execute(text("SELECT 1"))
        eng.dispose()
        return None
    except Exception as exc:  # noqa: BLE001
        return f"{type(exc).__name__}: {exc}".splitlines()[0]


def _redis_error() -> str | None:
    import redis

    try:
        redis.Redis(host=REDIS_HOST, port=REDIS_PORT, socket_timeout=3).ping()
        return None
    except Exception as exc:  # noqa: BLE001
        return f"{type(exc).__name__}: {exc}".splitlines()[0]


def _apt_install(*packages: str) -> None:
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return
    say(f"installing {' '.join(packages)} from Debian's packages")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "install", "-y", "-q", *packages], env=env, capture_output=True, timeout=900)


def _pg_start() -> None:
    if shutil.which("pg_ctlcluster") and os.path.isdir("/etc/postgresql"):
        for version in sorted(os.listdir("/etc/postgresql")):
            subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"],
                           capture_output=True, timeout=60)
        for _ in range(20):
            if _pg_error() is None:
                return
            time.sleep(0.5)


def ensure_postgres() -> None:
    if _pg_error() is None:
        return
    _pg_start()
    if _pg_error() is not None and not shutil.which("pg_ctlcluster"):
        _apt_install("postgresql")
        _pg_start()
    error = _pg_error()
    if error:
        raise Unavailable(f"PostgreSQL at {PG_ROOT.split('@')[-1]} not reachable, not startable: {error}")
    # Trust auth for local TCP is what the tests assume (the machine's documented set-up).


def ensure_redis() -> None:
    if _redis_error() is None:
        return
    if not shutil.which("redis-server"):
        _apt_install("redis-server")
    if shutil.which("redis-server"):
        subprocess.run(["redis-server", "--daemonize", "yes", "--bind", REDIS_HOST, "--port", str(REDIS_PORT),
                        "--save", "", "--appendonly", "no"], capture_output=True, timeout=30)
        for _ in range(20):
            if _redis_error() is None:
                return
            time.sleep(0.25)
    raise Unavailable(f"Redis at {REDIS_HOST}:{REDIS_PORT} not reachable, not startable: {_redis_error()}")


def pg_url(database: str) -> str:
    return PG_ROOT.rsplit("/", 1)[0] + "/" + database


def create_databases(*names: str, fresh: bool) -> None:
    from sqlalchemy import create_engine, text

    eng = create_engine(PG_ROOT, isolation_level="AUTOCOMMIT")
    with eng.connect() as c:
        for name in names:
            exists = c.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first()
            if exists and fresh:
                c.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
                c.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                          {"n": name})
                c.execute(text(f'DROP DATABASE "{name}"'))
                exists = None
            if not exists:
                c.execute(text(f'CREATE DATABASE "{name}"'))
    eng.dispose()


def set_database_online(name: str, online: bool) -> None:
    """Fault injection without touching anyone else's databases: refuse (and cut) every
    connection to one database, or allow them again."""
    from sqlalchemy import create_engine, text

    eng = create_engine(PG_ROOT, isolation_level="AUTOCOMMIT")
    with eng.connect() as c:
        c.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {"true" if online else "false"}'))
        if not online:
            c.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                      {"n": name})
    eng.dispose()


def flush_redis_prefix(prefix: str = REDIS_PREFIX) -> None:
    import redis

    r = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=REDIS_DB)
    for key in r.scan_iter(f"{prefix}*"):
        r.delete(key)


# ---------------------------------------------------------------- processes
def newest_model() -> str:
    for name in ("HOTLINE_RASA_MODEL", "RASA_MODEL"):
        value = os.environ.get(name)
        if value and (ROOT / value).is_file():
            return str(ROOT / value)
    models = sorted((ROOT / "bot" / "models").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if not models:
        raise RuntimeError("no trained model (run `make rasa-model`, or set HOTLINE_RASA_MODEL)")
    return str(models[-1])


def rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants, in MB (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
        todo.extend(children.get(p, []))
    return round(total / 1024, 1)


@dataclass
class Proc:
    name: str
    argv: list[str]
    env: dict[str, str]
    ready_url: str
    ready_check: object = None  # callable(httpx.Response) -> bool
    popen: subprocess.Popen | None = None
    log_path: Path | None = None


@dataclass
class Topology:
    """Start with `start()` (or `with Topology() as t:`), stop with `stop()`."""

    rasa_ports: tuple[int, ...] = (5006, 5007)
    service_port: int = 0
    actions_port: int = 0
    router_port: int = 0
    model: str | None = None
    # Several topologies may run at once (make topology, the tests, the load test): each gets its
    # own databases and lock keys, named after it.
    name: str = ""
    fresh: bool = True
    as_of: str | None = None
    startup_timeout: float = 600.0
    service_env: dict[str, str] = field(default_factory=dict)
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="hotline-topology-")))
    procs: dict[str, Proc] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.service_port = self.service_port or free_port()
        self.actions_port = self.actions_port or free_port()
        self.router_port = self.router_port or free_port()
        self.bot_token = secrets.token_urlsafe(24)
        self.admin_password = secrets.token_urlsafe(12)
        self.secret_key = secrets.token_urlsafe(48)
        suffix = f"_{self.name}" if self.name else ""
        self.service_db = SERVICE_DB + suffix
        self.rasa_db = RASA_DB + suffix if not self.name else f"{SERVICE_DB}{suffix}_rasa"
        self.redis_prefix = REDIS_PREFIX + self.name.replace("_", "")
        self.service_db_url = pg_url(self.service_db)
        self.rasa_db_url = pg_url(self.rasa_db)

    # -- addresses ---------------------------------------------------------------------------
    @property
    def service_url(self) -> str:
        return f"http://127.0.0.1:{self.service_port}"

    @property
    def router_url(self) -> str:
        return f"http://127.0.0.1:{self.router_port}"

    @property
    def actions_url(self) -> str:
        return f"http://127.0.0.1:{self.actions_port}"

    def rasa_url(self, i: int) -> str:
        return f"http://127.0.0.1:{self.rasa_ports[i]}"

    # -- set-up ------------------------------------------------------------------------------
    def _rasa_env(self) -> dict[str, str]:
        u = PG_ROOT.split("://", 1)[1]  # user@host:port/db
        user, hostport = u.split("@", 1)[0], u.split("@", 1)[1].split("/", 1)[0]
        host, port = hostport.split(":") if ":" in hostport else (hostport, "5432")
        return {
            "RASA_TELEMETRY_ENABLED": "false", "PYTHONPATH": str(ROOT),
            "RASA_DB_HOST": host, "RASA_DB_PORT": port, "RASA_DB_NAME": self.rasa_db,
            "RASA_DB_USER": user.split(":")[0], "RASA_DB_PASSWORD": "",
            "RASA_DB_LOGIN_DB": PG_ROOT.rsplit("/", 1)[1].split("?")[0],
            "RASA_REDIS_HOST": REDIS_HOST, "RASA_REDIS_PORT": str(REDIS_PORT),
            "RASA_REDIS_DB": str(REDIS_DB), "RASA_REDIS_KEY_PREFIX": self.redis_prefix,
            "RASA_ACTION_ENDPOINT": f"{self.actions_url}/webhook",
        }

    def _define(self) -> None:
        model = self.model or newest_model()
        as_of = {"HOTLINE_AS_OF": self.as_of} if self.as_of else {}
        self.procs["actions"] = Proc(
            "actions", [RASA_BIN, "run", "actions", "-p", str(self.actions_port), "--actions", "actions"],
            {"HOTLINE_TICKETS": "http", "HOTLINE_SERVICE_URL": self.service_url,
             # Sanic's keep-alive must outlast the Rasa servers' pooled connections to it, or
             # Rasa writes into a closing socket under load ("Cannot write to closing transport").
             "SANIC_KEEP_ALIVE_TIMEOUT": "75",
             "HOTLINE_BOT_TOKEN": self.bot_token, "RASA_TELEMETRY_ENABLED": "false",
             "PYTHONPATH": str(ROOT), **as_of},
            f"{self.actions_url}/health")
        for i, port in enumerate(self.rasa_ports):
            self.procs[f"rasa{i + 1}"] = Proc(
                f"rasa{i + 1}", [RASA_BIN, "run", "--enable-api", "-i", "127.0.0.1", "-p", str(port), "-m", model,
                                 "--endpoints", str(ROOT / "deploy" / "rasa" / "endpoints.yml")],
                self._rasa_env(), f"http://127.0.0.1:{port}/status",
                ready_check=lambda r: bool(r.json().get("model_file")))
        backends = [a for i in range(len(self.rasa_ports)) for a in ("--backend", self.rasa_url(i))]
        self.procs["router"] = Proc(
            "router", [SERVICE_PY, str(ROOT / "deploy" / "sticky_router.py"), "--port", str(self.router_port),
                       *backends], {}, f"{self.router_url}/_router/status")
        self.procs["service"] = Proc(
            "service", [SERVICE_PY, "-m", "uvicorn", "service.main:create_app", "--factory", "--host", "127.0.0.1",
                        "--port", str(self.service_port), "--no-access-log"],
            {"HOTLINE_DATABASE_URL": self.service_db_url, "HOTLINE_RASA_URL": self.router_url,
             "HOTLINE_ACTION_SERVER_URL": self.actions_url, "HOTLINE_BOT_TOKEN": self.bot_token,
             "HOTLINE_SECRET_KEY": self.secret_key, "HOTLINE_ADMIN_PASSWORD": self.admin_password,
             "HOTLINE_OUTBOX_POLL_SECONDS": "0.5", **as_of, **self.service_env},
            f"{self.service_url}/healthz")

    def prepare(self) -> None:
        ensure_postgres()
        ensure_redis()
        create_databases(self.service_db, self.rasa_db, fresh=self.fresh)
        flush_redis_prefix(self.redis_prefix)
        from service.core.db import migrate

        migrate(self.service_db_url)

    def start(self) -> "Topology":
        self.prepare()
        self._define()
        busy = [p for p in (*self.rasa_ports, self.service_port, self.actions_port, self.router_port)
                if not port_free(p)]
        if busy:
            raise RuntimeError(f"ports already in use: {busy}")
        try:
            for name in ("actions", *[f"rasa{i + 1}" for i in range(len(self.rasa_ports))], "router", "service"):
                self.start_one(name)
        except BaseException:
            self.stop()
            raise
        say(f"up: service {self.service_url}, Rasa pool {self.router_url} -> "
            f"{', '.join(self.rasa_url(i) for i in range(len(self.rasa_ports)))}, actions {self.actions_url}; "
            f"logs in {self.workdir}")
        return self

    def start_one(self, name: str) -> None:
        p = self.procs[name]
        p.log_path = self.workdir / f"{name}.log"
        log = open(p.log_path, "ab")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("HOTLINE_", "RASA_DB", "RASA_REDIS"))}
        env.update(p.env)
        t0 = time.monotonic()
        p.popen = subprocess.Popen(p.argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        log.close()
        self._wait(p)
        say(f"{name} ready in {time.monotonic() - t0:.0f} s (pid {p.popen.pid})")

    def _wait(self, p: Proc) -> None:
        import httpx

        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if p.popen.poll() is not None:
                raise RuntimeError(f"{p.name} exited with {p.popen.returncode}:\n{self.log(p.name)[-3000:]}")
            try:
                r = httpx.get(p.ready_url, timeout=2, trust_env=False)
                if r.status_code < 500 and (p.ready_check is None or p.ready_check(r)):
                    return
            except (httpx.HTTPError, ValueError):
                pass
            time.sleep(0.5)
        raise RuntimeError(f"{p.name} not ready after {self.startup_timeout:.0f} s:\n{self.log(p.name)[-3000:]}")

    # -- faults and shutdown -----------------------------------------------------------------
    def running(self, name: str) -> bool:
        p = self.procs.get(name)
        return bool(p and p.popen and p.popen.poll() is None)

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Kill one part abruptly (SIGKILL by default: no goodbye, like a crash)."""
        p = self.procs[name]
        if p.popen and p.popen.poll() is None:
            try:
                os.killpg(p.popen.pid, sig)
            except ProcessLookupError:
                pass
            try:
                p.popen.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(p.popen.pid, signal.SIGKILL)
                p.popen.wait(timeout=10)

    def stop_one(self, name: str) -> None:
        self.kill(name, signal.SIGTERM)

    def stop(self) -> None:
        for name in reversed(list(self.procs)):
            try:
                self.stop_one(name)
            except Exception as exc:  # noqa: BLE001 - stop the others anyway
                say(f"could not stop {name}: {exc}")

    def rss(self) -> dict[str, float]:
        return {name: rss_mb(p.popen.pid) for name, p in self.procs.items() if self.running(name)}

    def log(self, name: str) -> str:
        p = self.procs.get(name)
        if p is None or p.log_path is None or not p.log_path.exists():
            return ""
        return p.log_path.read_text(encoding="utf-8", errors="replace")

    def __enter__(self) -> "Topology":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--service-port", type=int, default=int(os.environ.get("HOTLINE_TOPOLOGY_PORT", "8001")))
    ap.add_argument("--router-port", type=int, default=5015)
    ap.add_argument("--actions-port", type=int, default=5056)
    ap.add_argument("--rasa-ports", default="5006,5007")
    ap.add_argument("--keep", action="store_true", help="keep the databases' contents (default: fresh)")
    ap.add_argument("--as-of", default=os.environ.get("HOTLINE_AS_OF") or None,
                    help="day of the questions for the service and the action server (default: today)")
    args = ap.parse_args(argv)
    topo = Topology(rasa_ports=tuple(int(p) for p in args.rasa_ports.split(",")), service_port=args.service_port,
                    router_port=args.router_port, actions_port=args.actions_port, fresh=not args.keep,
                    as_of=args.as_of)
    stopping = {"now": False}

    def on_signal(signum, _frame):
        stopping["now"] = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        topo.start()
    except Unavailable as exc:
        say(f"!!! {exc}")
        return 2
    say(f"admin password for this run: {topo.admin_password}; Ctrl-C stops everything")
    try:
        while not stopping["now"]:
            for name in topo.procs:
                if not topo.running(name) and not stopping["now"]:
                    say(f"!!! {name} EXITED ({topo.procs[name].popen.returncode}); see {topo.workdir}/{name}.log; "
                        "restarting it")
                    try:
                        topo.start_one(name)
                    except RuntimeError as exc:
                        say(f"!!! {name} did not come back: {exc}")
                        stopping["now"] = True
            time.sleep(1)
    finally:
        say(f"memory (RSS, MB): {topo.rss()}")
        topo.stop()
        say("all stopped")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
