"""A live service for browser tests and the web benchmark: a temporary SQLite database with
accounts, uvicorn in a child process, and Debian's Chromium driven by Playwright.

Never downloads a browser: Chromium is /usr/bin/chromium (make test-web installs Debian's
package when it is missing), handed to Playwright through executable_path.
"""
from __future__ import annotations

import os
import random
import socket
import subprocess
import sys
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("HOTLINE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
AS_OF = date(2022, 7, 1)  # inside the document's validity
PASSWORD = "web-test-pass-9"
SECRET = "web-test-secret-0123456789abcdef-xyz"
USERS = {  # username: (role, county)
    "admin": ("admin", None),
    "agent1": ("agent", None),
    "xiji": ("county", "西吉县"),
    "yuanzhou": ("county", "原州区"),
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_database(directory: Path) -> str:
    """A migrated SQLite database with the four accounts; returns its URL."""
    from service.core.db import Database, migrate
    from service.services.users import add_user

    url = f"sqlite:///{directory / 'web.db'}"
    migrate(url)
    db = Database(url)
    with db.sessionmaker() as s:
        for name, (role, county) in USERS.items():
            add_user(s, name, role, PASSWORD, county)
    db.dispose()
    return url


class LiveServer:
    """uvicorn running service.main:create_app on a free port, stopped by stop()."""

    def __init__(self, database_url: str, log_path: Path, **env: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        dead = f"http://127.0.0.1:{free_port()}"  # nothing listens: the copilot needs no Rasa
        self.env = {**os.environ, "HOTLINE_DATABASE_URL": database_url,
                    "HOTLINE_AS_OF": AS_OF.isoformat(), "HOTLINE_SECRET_KEY": SECRET,
                    "HOTLINE_OUTBOX_ENABLED": "false", "HOTLINE_RASA_URL": dead,
                    "HOTLINE_ACTION_SERVER_URL": dead, "HOTLINE_LOG_LEVEL": "WARNING",
                    "HOTLINE_LOGIN_MAX_FAILURES": "50", **env}
        self.env.pop("HOTLINE_SUPERVISOR_STATE", None)
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> "LiveServer":
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "service.main:create_app", "--factory",
             "--host", "127.0.0.1", "--port", str(self.port), "--no-access-log"],
            cwd=REPO, env=self.env, stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"service exited ({self.proc.returncode}):\n{self.log()}")
            try:
                if httpx.get(self.url + "/login", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"service did not answer within {timeout} s:\n{self.log()}")

    def log(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")[-4000:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if getattr(self, "_log", None):
            self._log.close()


def launch_browser(playwright):
    if not os.path.exists(CHROMIUM):
        raise RuntimeError(f"{CHROMIUM} is missing: run `make test-web` (installs Debian's chromium)")
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)


def login(page, base_url: str, username: str, password: str = PASSWORD, next_path: str = "") -> None:
    page.goto(base_url + "/login" + (f"?next={next_path}" if next_path else ""))
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()


def seed_tickets(database_url: str, n: int, *, seed: int = 7, now: datetime | None = None,
                 counties: list[str] | None = None) -> None:
    """`n` tickets spread over the 22 counties and the last 30 days, in every status, written
    straight into the tables (with a `created` history event each)."""
    import policy_kb
    from service.core.db import Database
    from service.models.ticket import Ticket, TicketEvent
    from service.services.tickets import new_paperwork, reason_hash

    rng = random.Random(seed)
    now = now or datetime.now(timezone.utc)
    counties = counties or [c.name for c in policy_kb.counties()]
    db = Database(database_url)
    rows, events = [], []
    with db.engine.connect() as c:
        start_id = (c.exec_driver_sql("SELECT coalesce(max(id), 0) FROM tickets").scalar() or 0) + 1
    for i in range(n):
        tid = start_id + i
        created = now - timedelta(minutes=rng.randint(1, 30 * 24 * 60))
        status = rng.choices(["open", "acknowledged", "assisted", "closed"], [3, 2, 2, 3])[0]
        acted = None if status == "open" else created + timedelta(minutes=rng.randint(2, 90))
        county = rng.choice(counties)
        reason = f"第{tid}号来电：家里断粮，急需救助，电话1381234{tid % 10000:04d}"
        rows.append({"id": tid, "created_at": created, "updated_at": acted or created, "county": county,
                     "status": status, "urgent_reason": reason, "reason_hash": reason_hash(reason),
                     "facts": {"county": county, "urgent": True}, "source": rng.choice(["rest", "wechat", "copilot"]),
                     "conversation_id": f"seed-{tid}", "idempotency_key": None, "created_by": "seed",
                     "sla_due_at": created + timedelta(minutes=30), "first_action_at": acted,
                     "closed_at": acted if status == "closed" else None, "paperwork": new_paperwork()})
        events.append({"ticket_id": tid, "at": created, "actor": "seed", "action": "created",
                       "detail": {"status": "open", "source": "rest", "county": county}})
    with db.sessionmaker() as s:
        s.execute(Ticket.__table__.insert(), rows)
        s.execute(TicketEvent.__table__.insert(), events)
        s.commit()
    db.dispose()


def insert_ticket(database_url: str, *, county: str, created_minutes_ago: int, status: str = "open",
                  acted_minutes_after: int | None = None, reason: str = "测试：急需救助",
                  sla_minutes: int = 30) -> int:
    """One ticket with chosen times, written straight into the table; returns its id."""
    from service.core.db import Database
    from service.models.ticket import Ticket, TicketEvent
    from service.services.tickets import new_paperwork, reason_hash

    now = datetime.now(timezone.utc)
    created = now - timedelta(minutes=created_minutes_ago)
    acted = created + timedelta(minutes=acted_minutes_after) if acted_minutes_after is not None else None
    db = Database(database_url)
    with db.sessionmaker() as s:
        t = Ticket(created_at=created, updated_at=created, county=county, status=status,
                   urgent_reason=reason, reason_hash=reason_hash(reason), facts={"county": county},
                   source="rest", conversation_id=None, created_by="seed",
                   sla_due_at=created + timedelta(minutes=sla_minutes), first_action_at=acted,
                   paperwork=new_paperwork())
        t.events.append(TicketEvent(actor="seed", action="created", detail={"status": "open"}, at=created))
        s.add(t)
        s.commit()
        tid = t.id
    db.dispose()
    return tid
