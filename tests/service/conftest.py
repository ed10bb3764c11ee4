"""Fixtures for the service tests: a real database (SQLite file, or PostgreSQL in a schema of
its own), the real app over real HTTP (Starlette's TestClient), fakes for Rasa and notifications.

Service-layer tests run inside a transaction rolled back after each test (`tx_session`). HTTP
tests cannot: the app commits in its own sessions on server threads, and the outbox tests need
real commits across "restarts" and concurrent requests; there every table is emptied before and
after each test instead.
"""
from __future__ import annotations

from datetime import date
from functools import lru_cache

import pytest
from pg_support import migrated_schema
from sqlalchemy import text
from starlette.testclient import TestClient

from service.core.config import Settings
from service.core.db import Database, migrate
from service.core.security import create_access_token, hash_password
from service.main import create_app
from service.models.user import User
from service.services.outbox import FakeNotifier, OutboxWorker
from service.services.rasa import FakeRasa

AS_OF = date(2022, 7, 1)  # inside the document's validity: figures apply
SECRET = "test-secret-key-0123456789abcdef-xyz"
BOT_TOKEN = "test-bot-token"
TABLES = ("ticket_events", "tickets", "outbox", "conversations", "users")


# ---------------------------------------------------------------- databases
@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'service.db'}"
    migrate(url)
    return url


@pytest.fixture(scope="session")
def postgres_url():
    with migrated_schema("hotline_test", "PostgreSQL ticket/outbox tests") as url:
        yield url


@pytest.fixture
def database_url(request) -> str:
    """SQLite by default; ticket and outbox modules override it to run on PostgreSQL too, and a
    single test can ask with @pytest.mark.parametrize("database_url", BOTH, indirect=True)."""
    return request.getfixturevalue(f"{getattr(request, 'param', 'sqlite')}_url")


BOTH = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture
def db(database_url):
    database = Database(database_url)
    _clean(database)
    yield database
    _clean(database)
    database.dispose()


def _clean(database: Database) -> None:
    with database.engine.begin() as c:
        for table in TABLES:
            c.execute(text(f"DELETE FROM {table}"))


def row_counts(database: Database) -> dict[str, int]:
    with database.engine.connect() as c:
        return {t: c.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in TABLES}


def snapshot(database: Database) -> dict[str, list]:
    """Every row of every table: to show a bad request changed nothing."""
    with database.engine.connect() as c:
        return {t: [tuple(r) for r in c.execute(text(f"SELECT * FROM {t} ORDER BY 1"))] for t in TABLES}


# ---------------------------------------------------------------- the app
@pytest.fixture
def settings(database_url) -> Settings:
    return Settings(database_url=database_url, as_of=AS_OF, secret_key=SECRET, bot_token=BOT_TOKEN,
                    outbox_enabled=False, run_migrations=False, login_max_failures=3,
                    login_window_seconds=60, max_body_bytes=16 * 1024, admin_password=None,
                    supervisor_state_file=None)


@pytest.fixture
def fake_rasa() -> FakeRasa:
    return FakeRasa()


@pytest.fixture
def notifier() -> FakeNotifier:
    return FakeNotifier()


@pytest.fixture
def app(settings, db, fake_rasa, notifier):
    return create_app(settings, rasa=fake_rasa, notifier=notifier)


@pytest.fixture
def client(app):
    with TestClient(app) as c:
        yield c


@pytest.fixture
def worker(db, notifier) -> OutboxWorker:
    from service.services.tickets import enqueue_overdue

    return OutboxWorker(db, notifier, max_attempts=3, backoff_seconds=1, lease_seconds=30,
                        hooks=[enqueue_overdue])


# ---------------------------------------------------------------- accounts
@lru_cache(maxsize=None)
def _hash(password: str) -> str:
    return hash_password(password)


USERS = {  # username: (role, county)
    "admin": ("admin", None),
    "agent1": ("agent", None),
    "xiji": ("county", "西吉县"),
    "yuanzhou": ("county", "原州区"),
}
PASSWORD = "correct-horse-9"


@pytest.fixture
def users(db) -> dict[str, str]:
    """The four accounts, and a bearer header for each (plus `bot`)."""
    with db.sessionmaker() as s:
        for name, (role, county) in USERS.items():
            s.add(User(username=name, role=role, county=county, password_hash=_hash(PASSWORD)))
        s.commit()
    headers = {name: {"Authorization": "Bearer " + create_access_token(
        username=name, role=role, county=county, secret=SECRET, minutes=30)}
        for name, (role, county) in USERS.items()}
    headers["bot"] = {"Authorization": f"Bearer {BOT_TOKEN}"}
    return headers


URGENT_TEXT = "我在西吉县，已经两天没吃饭了，身上一分钱都没有，回不了家。身份证642222199001011234，电话13812345678"


def open_ticket(client, headers, *, reason=URGENT_TEXT, county="西吉县", conversation_id="conv-1",
                facts=None, key=None, source=None):
    if facts is None:
        facts = {"county": county} if county else {}
    body = {"urgent_reason": reason, "county": county, "facts": facts, "conversation_id": conversation_id}
    if source:
        body["source"] = source
    h = dict(headers)
    if key:
        h["Idempotency-Key"] = key
    return client.post("/api/v1/tickets", json=body, headers=h)


# ---------------------------------------------------------------- rolled back per test
@pytest.fixture
def tx_session(database_url):
    """A Session inside an outer transaction that is rolled back after the test: the code under
    test may commit (savepoints), nothing stays. For service-layer tests on one connection."""
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    database = Database(database_url)
    engine = database.engine
    if engine.dialect.name == "sqlite":
        # pysqlite's own transaction handling breaks SAVEPOINT: let SQLAlchemy emit BEGIN.
        @event.listens_for(engine, "connect")
        def _no_pysqlite_tx(dbapi_conn, _rec):
            dbapi_conn.isolation_level = None

        @event.listens_for(engine, "begin")
        def _begin(conn):
            conn.exec_driver_sql("BEGIN")

    conn = engine.connect()
    outer = conn.begin()
    session = Session(bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False)
    try:
        yield session
    finally:
        session.close()
        outer.rollback()
        conn.close()
        database.dispose()
