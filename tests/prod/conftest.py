"""Fixtures for the production-shape tests (issue 7): real PostgreSQL and Redis on 127.0.0.1,
started or installed by scripts/topology.py when down, skipped loudly only when that fails;
the two-Rasa topology (started once per session, stopped at the end).
"""
from __future__ import annotations

import importlib.util
import os
import sys
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load_topology():
    if "hotline_topology" in sys.modules:  # a driver that already holds a running topology
        return sys.modules["hotline_topology"]
    spec = importlib.util.spec_from_file_location("hotline_topology", ROOT / "scripts" / "topology.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["hotline_topology"] = module
    spec.loader.exec_module(module)
    return module


topology_mod = _load_topology()


@pytest.fixture(scope="session")
def topo_mod():
    return topology_mod


@pytest.fixture(scope="session")
def postgres_root() -> str:
    try:
        topology_mod.ensure_postgres()
    except topology_mod.Unavailable as exc:
        pytest.skip(f"!!! PostgreSQL UNAVAILABLE — production-shape PostgreSQL tests SKIPPED: {exc}")
    return topology_mod.PG_ROOT


@pytest.fixture(scope="session")
def redis_ready() -> None:
    try:
        topology_mod.ensure_redis()
    except topology_mod.Unavailable as exc:
        pytest.skip(f"!!! Redis UNAVAILABLE — production-shape Redis tests SKIPPED: {exc}")


@pytest.fixture
def fresh_pg_db(postgres_root):
    """A database of its own (created, migrated by the test if it wants, dropped after)."""
    from sqlalchemy import create_engine, text

    name = f"hotline_prod_{uuid.uuid4().hex[:10]}"
    admin = create_engine(postgres_root, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    yield topology_mod.pg_url(name)
    with admin.connect() as c:
        c.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"), {"n": name})
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


@pytest.fixture(scope="session")
def topology(postgres_root, redis_ready):
    """The whole production shape without containers: PostgreSQL, Redis, action server, two Rasa
    servers behind the sticky router, the service. Needs a trained model (make rasa-model)."""
    attached = getattr(topology_mod, "ATTACHED", None)
    if attached is not None:  # started by the caller (a development driver): not ours to stop
        yield attached
        return
    try:
        model = topology_mod.newest_model()
    except RuntimeError as exc:
        pytest.fail(f"{exc} — `make test-prod` depends on rasa-model")
    ports = tuple(topology_mod.free_port() for _ in range(2))
    topo = topology_mod.Topology(rasa_ports=ports, model=model, name="tests", as_of=os.environ.get("HOTLINE_TOPOLOGY_AS_OF", "2022-07-01"))
    topo.start()
    try:
        yield topo
    finally:
        print(f"\n[topology] memory (RSS, MB) at the end: {topo.rss()}")
        topo.stop()


# ---------------------------------------------------------------- service replicas as processes
class Replica:
    """One uvicorn process of the service (its own pool, its own outbox worker)."""

    def __init__(self, name: str, env: dict, workdir: Path):
        import subprocess

        self.name = name
        self.port = topology_mod.free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / f"{name}.log"
        clean = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [topology_mod.SERVICE_PY, "-m", "uvicorn", "service.main:create_app", "--factory",
                 "--host", "127.0.0.1", "--port", str(self.port), "--no-access-log"],
                cwd=ROOT, env={**clean, **env}, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self._wait()

    def _wait(self, timeout: float = 60) -> None:
        import time

        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited:\n{self.log()[-3000:]}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2, trust_env=False).status_code < 600:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} not up:\n{self.log()[-3000:]}")

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""

    def json_lines(self) -> list[dict]:
        import json

        out = []
        for line in self.log().splitlines():
            if line.startswith("{"):
                try:
                    out.append(json.loads(line))
                except ValueError:
                    pass
        return out

    def stop(self) -> None:
        import signal
        import subprocess

        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)


def prepare_database(url: str, admin_password: str) -> None:
    """What deploy/docker-compose.yml's one-shot `migrate` job does (deploy/migrate.py)."""
    import subprocess

    clean = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    subprocess.run([topology_mod.SERVICE_PY, str(ROOT / "deploy" / "migrate.py")], cwd=ROOT, check=True,
                   env={**clean, "HOTLINE_DATABASE_URL": url, "HOTLINE_ADMIN_PASSWORD": admin_password},
                   capture_output=True, timeout=120)
