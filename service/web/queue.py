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
    action, and how many of them are (or were) overdue."""
    today = now.astimezone(LOCAL).date()
    first = today - timedelta(days=days - 1)
    start = datetime.combine(first, datetime.min.time(), LOCAL).astimezone(timezone.utc)
    q = _filtered(me, "all", county).where(Ticket.created_at >= start)
    rows = db.execute(q.with_only_columns(Ticket.created_at, Ticket.first_action_at,
                                          Ticket.sla_due_at, Ticket.status).order_by(None)).all()
    per_day = {first + timedelta(days=i): 0 for i in range(days)}
    waits, overdue = [], 0
    for created, acted, due, status in rows:
        day = created.astimezone(LOCAL).date()
        if day in per_day:
            per_day[day] += 1
        if acted is not None:
            waits.append((acted - created).total_seconds() / 60)
            overdue += acted > due
        else:
            overdue += status == "open" and now > due
    return DailyStats(county=county, days=list(per_day), opened=list(per_day.values()),
                      total_opened=len(rows),
                      median_first_action_minutes=statistics.median(waits) if waits else None,
                      acted=len(waits), overdue=overdue)


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
    grid = [{"y": round(top + plot_h - plot_h * f, 1), "value": round(top_value * f, 1) if top_value * f % 1 else int(top_value * f)}
            for f in (0, 0.5, 1)]
    return {"width": width, "height": height, "bars": bars, "grid": grid, "left": left,
            "right": width - right, "base": top + plot_h, "label_y": height - 8}


def _nice_steps():
    k = 1
    while True:
        for m in (1, 2, 5):
            yield m * k
        k *= 10
