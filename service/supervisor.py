"""`make run`: the action server, the Rasa server and the service, in the foreground.

    python -m service.supervisor            (what `make run` calls)

Before starting anything it makes var/, keeps a JWT key and a bot token there (unless
HOTLINE_SECRET_KEY / HOTLINE_BOT_TOKEN are set), runs the migrations and creates `admin` from
HOTLINE_ADMIN_PASSWORD. Then it starts the children, each in its own process group:

    actions  .venv-rasa/bin/rasa run actions -p 5055 --actions actions      (gets HOTLINE_BOT_TOKEN)
    rasa1…N  .venv-rasa/bin/rasa run --enable-api --cors "*" -i 127.0.0.1 -p 5006… -m $RASA_MODEL
             --endpoints bot/endpoints.yml             (command lines from the top of mk/bot.mk)
    rasa     deploy/sticky_router.py on 5005: each sender's turns to one of the N servers
             (N = one per core as memory allows, HOTLINE_RASA_SERVERS; with N = 1 the only
             Rasa server itself listens on 5005 and there is no router)
    service  uvicorn service.main:create_app --factory --host 127.0.0.1 --port 8000

A child that exits is reported on stderr and in var/run/supervisor.json (which /healthz reads),
then restarted with a growing delay. SIGINT or SIGTERM stops every child (SIGTERM, then SIGKILL
after a grace period) and the supervisor exits.

Overrides: HOTLINE_RASA_MODEL (model file), HOTLINE_RASA_BIN (default .venv-rasa/bin/rasa),
HOTLINE_RASA_SERVERS (auto), HOTLINE_SERVICE_PORT (8000), HOTLINE_RASA_PORT (5005),
HOTLINE_ACTIONS_PORT (5055), HOTLINE_RASA_ENDPOINTS (bot/endpoints.yml); `--child NAME=COMMAND`
(repeatable) replaces the children, and
`--no-prepare` skips secrets and migrations (both for tests).
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import shlex
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

STOP_GRACE_SECONDS = 10.0


def say(message: str) -> None:
    print(f"[supervisor {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _die_with_parent() -> None:
    """Child side: get SIGTERM if the supervisor itself is killed (Linux), so nothing is orphaned."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:  # noqa: BLE001 - best effort on other systems
        pass


@dataclass
class Child:
    name: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen | None = None
    restarts: int = 0
    exit_code: int | None = None
    next_start: float = 0.0
    started_at: float = 0.0

    def start(self, cwd: Path) -> None:
        self.proc = subprocess.Popen(self.argv, cwd=cwd, env={**os.environ, **self.env},
                                     start_new_session=True, preexec_fn=_die_with_parent)
        self.started_at = time.time()
        say(f"started {self.name} (pid {self.proc.pid}): {shlex.join(self.argv)}")

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig: int) -> None:
        if self.running:
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                pass


class Supervisor:
    def __init__(self, children: list[Child], *, cwd: Path, state_file: Path):
        self.children = children
        self.cwd = cwd
        self.state_file = state_file
        self.stopping = False

    def write_state(self) -> None:
        data = {"pid": os.getpid(), "updated": time.time(), "children": {
            c.name: {"running": c.running, "pid": c.proc.pid if c.proc else None,
                     "restarts": c.restarts, "exit_code": c.exit_code,
                     "since": c.started_at} for c in self.children}}
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(data), encoding="utf-8")
        tmp.replace(self.state_file)  # atomic: /healthz never reads half a file

    def _on_signal(self, signum, _frame) -> None:
        if not self.stopping:
            say(f"got {signal.Signals(signum).name}: stopping all children")
        self.stopping = True

    def run(self) -> int:
        signal.signal(signal.SIGINT, self._on_signal)
        signal.signal(signal.SIGTERM, self._on_signal)
        self.state_file.parent.mkdir(parents=True, exist_ok=True)
        for child in self.children:
            child.start(self.cwd)
        while not self.stopping:
            now = time.time()
            for c in self.children:
                if c.proc is not None and not c.running and c.exit_code is None:
                    c.exit_code = c.proc.returncode
                    delay = min(2 ** min(c.restarts, 5), 30)
                    c.next_start = now + delay
                    say(f"!!! {c.name} (pid {c.proc.pid}) EXITED with code {c.exit_code}; "
                        f"restarting in {delay} s (restart #{c.restarts + 1})")
                elif c.exit_code is not None and now >= c.next_start and not self.stopping:
                    c.restarts += 1
                    c.exit_code = None
                    c.start(self.cwd)
            self.write_state()
            time.sleep(0.5)
        return self.stop()

    def stop(self) -> int:
        for c in reversed(self.children):  # the service first: it stops taking requests
            c.signal(signal.SIGTERM)
        deadline = time.time() + STOP_GRACE_SECONDS
        for c in self.children:
            if c.proc is None:
                continue
            try:
                c.proc.wait(timeout=max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                say(f"{c.name} did not stop in {STOP_GRACE_SECONDS:.0f} s: killing it")
                c.signal(signal.SIGKILL)
                c.proc.wait(timeout=5)
        self.write_state()
        say("all children stopped")
        return 0


def keep_secret(path: Path, env_name: str) -> str:
    """The value of env_name, else the one kept in `path`, else a new one written there (0600)."""
    if os.environ.get(env_name):
        return os.environ[env_name]
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    value = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(value)
    return value


def newest_model(root: Path) -> str | None:
    """HOTLINE_RASA_MODEL, else RASA_MODEL (exported by mk/bot.mk: the model `rasa-model` just
    built), else the newest bot/models/*.tar.gz."""
    for name in ("HOTLINE_RASA_MODEL", "RASA_MODEL"):
        if os.environ.get(name) and (root / os.environ[name]).exists():
            return os.environ[name]
    models = sorted((root / "bot" / "models").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    return str(models[-1]) if models else None


# A Rasa server holds ~1.2 GB once its model is loaded; leave room for the rest of the system.
RASA_SERVER_BYTES = 1_400_000_000
RESERVED_BYTES = 1_500_000_000


def _available_bytes() -> int | None:
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def rasa_server_count(cores: int | None = None, available: int | None = None) -> int:
    """HOTLINE_RASA_SERVERS, else one Rasa server per core, as many as the memory holds (issue 13).

    A Rasa server runs its turns on one thread: a second one lets a 2-core machine answer two
    callers' turns at once instead of queueing them behind each other.
    """
    wanted = os.environ.get("HOTLINE_RASA_SERVERS", "auto").strip().lower()
    if wanted not in ("", "auto"):
        try:
            count = int(wanted)
        except ValueError:
            raise SystemExit(f"HOTLINE_RASA_SERVERS must be a number or 'auto', not {wanted!r}") from None
        if count < 1:
            raise SystemExit(f"HOTLINE_RASA_SERVERS must be at least 1, not {count}")
        return count
    if cores is None:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    available = _available_bytes() if available is None else available
    by_memory = cores if available is None else max(1, (available - RESERVED_BYTES) // RASA_SERVER_BYTES)
    return max(1, min(cores, by_memory))


def default_children(root: Path, env: dict[str, str]) -> list[Child]:
    """actions, one Rasa server per core (behind deploy/sticky_router.py when there are several:
    each sender's turns stay on one server, whose in-memory tracker holds the conversation), and
    the service. Ports: HOTLINE_ACTIONS_PORT (5055), HOTLINE_RASA_PORT (5005: the only Rasa server,
    or the router in front of RASA_PORT+1, +2, …), HOTLINE_SERVICE_PORT (8000)."""
    rasa = os.environ.get("HOTLINE_RASA_BIN", str(root / ".venv-rasa" / "bin" / "rasa"))
    port = os.environ.get("HOTLINE_SERVICE_PORT", "8000")
    actions_port = int(os.environ.get("HOTLINE_ACTIONS_PORT", "5055"))
    rasa_port = int(os.environ.get("HOTLINE_RASA_PORT", "5005"))
    endpoints = os.environ.get("HOTLINE_RASA_ENDPOINTS", "bot/endpoints.yml")
    model = newest_model(root)
    children = [Child("actions", [rasa, "run", "actions", "-p", str(actions_port), "--actions", "actions"],
                      env=env)]
    if model:
        count = rasa_server_count()
        ports = [rasa_port] if count == 1 else [rasa_port + 1 + i for i in range(count)]
        for i, rasa_server_port in enumerate(ports):
            # mk/bot.mk's command line, bound to 127.0.0.1: --enable-api has no auth token here.
            children.append(Child("rasa" if count == 1 else f"rasa{i + 1}",
                                  [rasa, "run", "--enable-api", "--cors", "*", "-i", "127.0.0.1",
                                   "-p", str(rasa_server_port), "-m", model, "--endpoints", endpoints], env=env))
        if count > 1:
            children.append(Child("rasa", [sys.executable, str(root / "deploy" / "sticky_router.py"),
                                           "--port", str(rasa_port),
                                           *[a for p in ports for a in ("--backend", f"http://127.0.0.1:{p}")]],
                                  env=env))
            say(f"{count} Rasa servers on ports {', '.join(map(str, ports))}, sticky by sender behind :{rasa_port}")
    else:
        say("!!! no trained model under bot/models/ (run `make rasa-model`): starting without Rasa; "
            "chat answers with the 12345 fallback")
    children.append(Child("service", [sys.executable, "-m", "uvicorn", "service.main:create_app", "--factory",
                                      "--host", "127.0.0.1", "--port", port, "--no-access-log"], env=env))
    return children


def prepare(root: Path) -> dict[str, str]:
    """Secrets, migrations and the admin account, before any child starts."""
    var = root / "var"
    var.mkdir(exist_ok=True)
    env = {
        "HOTLINE_SECRET_KEY": keep_secret(var / "secret_key", "HOTLINE_SECRET_KEY"),
        "HOTLINE_BOT_TOKEN": keep_secret(var / "bot_token", "HOTLINE_BOT_TOKEN"),
        "HOTLINE_SERVICE_URL": os.environ.get(
            "HOTLINE_SERVICE_URL", f"http://127.0.0.1:{os.environ.get('HOTLINE_SERVICE_PORT', '8000')}"),
    }
    os.environ.update(env)
    from service.core.config import Settings
    from service.core.db import Database, migrate
    from service.services.users import ensure_admin

    settings = Settings()
    migrate(settings.database_url)
    db = Database(settings.database_url)
    with db.sessionmaker() as session:
        if ensure_admin(session, settings.admin_password.get_secret_value() if settings.admin_password else None):
            say("created account admin from HOTLINE_ADMIN_PASSWORD")
    db.dispose()
    say(f"database ready: {settings.database_url.split('@')[-1]}")
    return env


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m service.supervisor", description=__doc__.split("\n")[0])
    parser.add_argument("--child", action="append", default=[], metavar="NAME=COMMAND",
                        help="run these children instead of the default three (tests)")
    parser.add_argument("--no-prepare", action="store_true", help="skip secrets, migrations, admin")
    parser.add_argument("--root", type=Path, default=Path.cwd())
    args = parser.parse_args(argv)
    root = args.root.resolve()
    env = {} if args.no_prepare else prepare(root)
    # a second system on other ports (bench/bench_chat.py) keeps its own state file
    state = Path(os.environ.get("HOTLINE_SUPERVISOR_STATE") or root / "var" / "run" / "supervisor.json")
    env["HOTLINE_SUPERVISOR_STATE"] = str(state)
    if args.child:
        children = []
        for spec in args.child:
            name, _, command = spec.partition("=")
            children.append(Child(name, shlex.split(command), env=env))
    else:
        children = default_children(root, env)
    say("starting " + ", ".join(c.name for c in children) + "; Ctrl-C stops everything")
    return Supervisor(children, cwd=root, state_file=state).run()


if __name__ == "__main__":
    raise SystemExit(main())
