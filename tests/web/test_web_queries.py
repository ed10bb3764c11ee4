"""The queue's SQL (order, paging, counts) and the daily stats against a plain-Python reference,
on SQLite and on PostgreSQL (with the web migration's indexes)."""
from __future__ import annotations

import os
import statistics
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import create_engine, select, text

from web_harness import make_database, seed_tickets

from service.core.db import Database, migrate
from service.models.ticket import Ticket
from service.services.auth import Principal
from service.services.tickets import is_overdue
from service.web import queue as q

PG_ROOT = os.environ.get("HOTLINE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
NOW = datetime.now(timezone.utc)


@pytest.fixture(scope="module")
def sqlite_db(tmp_path_factory):
    url = make_database(tmp_path_factory.mktemp("q"))
    seed_tickets(url, 600, seed=11, now=NOW)
    db = Database(url)
    yield db
    db.dispose()


@pytest.fixture(scope="module")
def pg_db():
    try:
        admin = create_engine(PG_ROOT, connect_args={"connect_timeout": 3})
        with admin.begin() as c:
            c.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001
        pytest.skip(f"!!! PostgreSQL at {PG_ROOT} NOT REACHABLE — web query tests on PostgreSQL SKIPPED: {exc}")
    schema = f"hotline_web_{uuid.uuid4().hex[:10]}"
    with admin.begin() as c:
        c.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = f"{PG_ROOT}?options=-csearch_path%3D{schema}"
    migrate(url)
    seed_tickets(url, 600, seed=11, now=NOW)
    db = Database(url)
    yield db
    db.dispose()
    with admin.begin() as c:
        c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db(request):
    return request.getfixturevalue("sqlite_db" if request.param == "sqlite" else "pg_db")


def reference_order(tickets, now):
    def rank(t):
        if t.status == "open" and t.first_action_at is None and t.sla_due_at < now:
            return 0
        return {"open": 1, "acknowledged": 2, "assisted": 3}.get(t.status, 4)
    return [t.id for t in sorted(tickets, key=lambda t: (rank(t), t.created_at, t.id))]


@pytest.mark.parametrize("who", [Principal("admin", "admin"), Principal("x", "county", "西吉县"),
                                 Principal("a", "agent")])
@pytest.mark.parametrize("status", ["active", "all", "open", "closed"])
def test_queue_pages_follow_the_reference_order(db, who, status):
    now = NOW + timedelta(minutes=1)
    with db.sessionmaker() as s:
        every = s.scalars(select(Ticket)).all()
        visible = [t for t in every if who.sees_everything or t.county == who.county]
        if status == "active":
            visible = [t for t in visible if t.status != "closed"]
        elif status != "all":
            visible = [t for t in visible if t.status == status]
        expected = reference_order(visible, now)
        got, page = [], 1
        while True:
            result = q.queue_page(s, who, status=status, county=None, page=page, now=now, per_page=40)
            got += [t.id for t in result.rows]
            assert result.total == len(expected)
            if page >= result.pages:
                break
            page += 1
        assert got == expected
        overdue = sum(1 for t in every if (who.sees_everything or t.county == who.county)
                      and t.status == "open" and t.first_action_at is None and t.sla_due_at < now)
        assert result.overdue == overdue
        assert set(reference_order(visible, now)) == set(got)


def test_county_officers_never_see_other_counties(db):
    with db.sessionmaker() as s:
        result = q.queue_page(s, Principal("x", "county", "西吉县"), status="all", county="原州区",
                              page=1, now=NOW, per_page=500)
        assert result.rows and {t.county for t in result.rows} == {"西吉县"}


@pytest.mark.parametrize("county", [None, "西吉县"])
def test_daily_stats_match_the_reference(db, county):
    days = 14
    who = Principal("admin", "admin")
    with db.sessionmaker() as s:
        stats = q.daily_stats(s, who, county=county, days=days, now=NOW)
        every = [t for t in s.scalars(select(Ticket)).all() if county is None or t.county == county]
    first = NOW.astimezone(q.LOCAL).date() - timedelta(days=days - 1)
    window = [t for t in every if t.created_at.astimezone(q.LOCAL).date() >= first]
    per_day = {first + timedelta(days=i): 0 for i in range(days)}
    for t in window:
        per_day[t.created_at.astimezone(q.LOCAL).date()] += 1
    assert stats.days == list(per_day) and stats.opened == list(per_day.values())
    assert stats.total_opened == len(window) > 0
    assert stats.overdue == sum(is_overdue(t, NOW) for t in window)
    waits = [(t.first_action_at - t.created_at).total_seconds() / 60 for t in window if t.first_action_at]
    assert stats.median_first_action_minutes == pytest.approx(statistics.median(waits), abs=0.01)
    chart = q.bar_chart(stats)
    assert len(chart["bars"]) == days
    tallest = max(chart["bars"], key=lambda b: b["h"])
    assert tallest["count"] == max(stats.opened)
