"""Queries behind the queue pages: one page of tickets in working order, and a county's daily stats.

Everything goes through service.services.tickets.visible_tickets, the API's own visibility rule.
Lists read one page (LIMIT/OFFSET) in SQL; the order is computed by the database.
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from service.models.ticket import STATUSES, Ticket
from service.services.auth import Principal
from service.services.tickets import visible_tickets

# Ningxia keeps Beijing time (no daylight saving): days and clocks on the pages are UTC+8.
LOCAL = timezone(timedelta(hours=8))
STATUS_LABELS = {"open": "待接单", "acknowledged": "已接单", "assisted": "已救助", "closed": "已关闭"}
# The queue's filter choices; "active" (not closed) is the default working view.
STATUS_FILTERS = {"active": "未关闭", **STATUS_LABELS, "all": "全部"}
PER_PAGE = 50


def overdue_clause(now: datetime):
    """Open and past the first-action deadline: the SQL twin of tickets.is_overdue for open tickets."""
    return and_(Ticket.status == "open", Ticket.first_action_at.is_(None), Ticket.sla_due_at < now)


def _filtered(me: Principal, status: str, county: str | None):
    q = visible_tickets(me)
    if status == "active":
        q = q.where(Ticket.status != "closed")
    elif status in STATUSES:
        q = q.where(Ticket.status == status)
    if county and me.sees_everything:
        q = q.where(Ticket.county == county)
    return q


@dataclass
class QueuePage:
    rows: list[Ticket]
    total: int
    page: int
    pages: int
    counts: dict[str, int]
    overdue: int


def queue_page(db: Session, me: Principal, *, status: str, county: str | None, page: int,
               now: datetime, per_page: int = PER_PAGE) -> QueuePage:
    """Overdue first, then waiting for someone, then in progress, then closed; oldest first."""
    q = _filtered(me, status, county)
    total = db.scalar(q.with_only_columns(func.count(Ticket.id)).order_by(None)) or 0
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    rank = case((overdue_clause(now), 0), (Ticket.status == "open", 1),
                (Ticket.status == "acknowledged", 2), (Ticket.status == "assisted", 3), else_=4)
    # Sort only the narrow key and take one page of ids, then load those rows: sorting whole
    # rows (JSON facts, paperwork) made SQLite spill ~10 MB per request at 10,000 tickets.
    ids = db.scalars(q.with_only_columns(Ticket.id).order_by(rank, Ticket.created_at, Ticket.id)
                     .limit(per_page).offset((page - 1) * per_page)).all()
    by_id = {t.id: t for t in db.scalars(select(Ticket).where(Ticket.id.in_(ids)))} if ids else {}
    rows = [by_id[i] for i in ids if i in by_id]
    # Numbers for the filter choices: one GROUP BY over the same visible set.
    base = _filtered(me, "all", county)
    counts = dict(db.execute(base.with_only_columns(Ticket.status, func.count(Ticket.id))
                             .group_by(Ticket.status).order_by(None)).all())
    counts["active"] = sum(v for k, v in counts.items() if k != "closed")
    counts["all"] = sum(v for k, v in counts.items() if k in STATUSES)
    overdue = db.scalar(base.where(overdue_clause(now)).with_only_columns(func.count(Ticket.id))
                        .order_by(None)) or 0
    return QueuePage(rows=list(rows), total=total, page=page, pages=pages, counts=counts,
                     overdue=overdue)


def sla_clock(ticket: Ticket, now: datetime) -> dict:
    """What the SLA column says: minutes left or late before the first action, or how long it took."""
    if ticket.first_action_at is not None:
        took = int((ticket.first_action_at - ticket.created_at).total_seconds() // 60)
        late = ticket.first_action_at > ticket.sla_due_at
        return {"state": "late" if late else "done", "minutes": took,
                "text": f"{took} 分钟内首次处理" + ("（超时）" if late else "")}
    if ticket.status != "open":  # closed without any recorded first action
        return {"state": "done", "minutes": None, "text": "—"}
    left = (ticket.sla_due_at - now).total_seconds() / 60
    if left >= 0:
        return {"state": "due", "minutes": int(left), "text": f"剩余 {int(left)} 分钟"}
    return {"state": "overdue", "minutes": int(-left), "text": f"已超时 {int(-left)} 分钟"}


@dataclass
class DailyStats:
    county: str | None
    days: list[date]
    opened: list[int]
    total_opened: int
    median_first_action_minutes: float | None
    acted: int
    overdue: int


def daily_stats(db: Session, me: Principal, *, county: str | None, days: int, now: datetime) -> DailyStats:
    """Tickets opened per local day over the last `days` days, median minutes to the first
    action, and how many of them are (or were) overdue. Counts are SQL aggregates (a GROUP BY on
    the local day); only the acted tickets' waits (one number each) come back to Python, for the
    median."""
    today = now.astimezone(LOCAL).date()
    first = today - timedelta(days=days - 1)
    day_list = [first + timedelta(days=i) for i in range(days)]
    start = datetime.combine(first, datetime.min.time(), LOCAL).astimezone(timezone.utc)
    q = _filtered(me, "all", county).where(Ticket.created_at >= start)
    late = ((Ticket.first_action_at.is_not(None) & (Ticket.first_action_at > Ticket.sla_due_at))
            | overdue_clause(now))
    row = db.execute(q.with_only_columns(func.count(Ticket.id),
                                         func.coalesce(func.sum(case((late, 1), else_=0)), 0))
                     .order_by(None)).one()
    total, overdue = int(row[0]), int(row[1])
    day = _local_day(db).label("day")
    counts = {date.fromisoformat(str(d)[:10]): int(n) for d, n in db.execute(
        q.with_only_columns(day, func.count(Ticket.id)).group_by(day).order_by(None))}
    opened = [counts.get(d, 0) for d in day_list]
    waits = [float(m) for m in db.scalars(q.where(Ticket.first_action_at.is_not(None))
                                          .with_only_columns(_minutes_to_first_action(db)).order_by(None))]
    return DailyStats(county=county, days=day_list, opened=opened, total_opened=total,
                      median_first_action_minutes=statistics.median(waits) if waits else None,
                      acted=len(waits), overdue=overdue)


def _local_day(db: Session):
    """The Beijing-time calendar day of created_at, computed by the database."""
    if db.get_bind().dialect.name == "postgresql":
        return func.date(func.timezone("Asia/Shanghai", Ticket.created_at))
    return func.date(Ticket.created_at, "+8 hours")  # SQLite keeps UTC text


def _minutes_to_first_action(db: Session):
    """first_action_at − created_at in minutes, computed by the database (one float per row,
    instead of two datetimes through the UTC type decorator)."""
    if db.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", Ticket.first_action_at - Ticket.created_at) / 60
    return (func.julianday(Ticket.first_action_at) - func.julianday(Ticket.created_at)) * 1440


def bar_chart(stats: DailyStats, *, width: int = 640, height: int = 220) -> dict:
    """Geometry of the tickets-per-day bar chart, drawn as inline SVG by the template."""
    left, right, top, bottom = 36, 8, 12, 28
    n = max(1, len(stats.days))
    peak = max(stats.opened, default=0)
    # A round axis maximum (1, 2, 5 × 10^k) so the gridlines read well.
    top_value = next(v for v in _nice_steps() if v >= max(peak, 1))
    plot_w, plot_h = width - left - right, height - top - bottom
    slot = plot_w / n
    bars = []
    for i, (day, count) in enumerate(zip(stats.days, stats.opened)):
        h = plot_h * count / top_value if top_value else 0
        bars.append({"x": round(left + i * slot + slot * 0.15, 1), "y": round(top + plot_h - h, 1),
                     "w": round(slot * 0.7, 1), "h": round(h, 1), "count": count,
                     "label": f"{day.month}/{day.day}", "day": day.isoformat(),
                     "show_label": n <= 16 or i % max(1, n // 8) == 0 or i == n - 1})
    # Gridlines at 0, the middle (when it is a whole number of tickets) and the top.
    grid = [{"y": round(top + plot_h - plot_h * f, 1), "value": int(top_value * f)}
            for f in (0, 0.5, 1) if (top_value * f) % 1 == 0]
    return {"width": width, "height": height, "bars": bars, "grid": grid, "left": left,
            "right": width - right, "base": top + plot_h, "label_y": height - 8}


def _nice_steps():
    k = 1
    while True:
        for m in (1, 2, 5):
            yield m * k
        k *= 10
