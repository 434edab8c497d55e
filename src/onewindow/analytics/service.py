"""The read service of the dashboards, the open data page and the exports.

Every figure comes from the rollups (``models.py``): a dashboard never scans cases or tickets. Only the
drill-down lists records, through indexed queries, page by page. Who sees what is the access policy's
``Action.DASHBOARD_VIEW``: a department head's filters are narrowed to their department whatever the
request says; administrators and supervisors see all.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import ColumnElement, Select, Table, and_, func, select
from sqlalchemy.orm import Session

from onewindow.analytics import metrics
from onewindow.analytics.drilldown import records
from onewindow.analytics.metrics import Figure
from onewindow.analytics.models import fact, fact_dept, hourly, open_work, wait
from onewindow.analytics.rules import COUNTERS, HOURLY_COUNTERS, NONE, FactChannel, OpenKind
from onewindow.catalog.models import Department, Hall, Item, ItemVersion
from onewindow.core import access
from onewindow.core.access import Action, Viewer
from onewindow.core.errors import Problem, ValidationFailed
from onewindow.queue.models import Window
from onewindow.staff.models import User

MAX_RANGE_DAYS = 3660  # ten years
WEEKDAYS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")


@dataclass(frozen=True)
class Filters:
    """What a dashboard is cut by (kept in the URL): a date range (inclusive), a hall, a department."""

    date_from: dt.date
    date_to: dt.date
    hall_id: int | None = None
    department_id: int | None = None

    def validate(self) -> None:
        """422 with the field and a reason in Chinese for a reversed or too long range."""
        problems: list[Problem] = []
        if self.date_from > self.date_to:
            problems.append(Problem("date_from", "range_reversed", "开始日期不能晚于结束日期"))
        elif (self.date_to - self.date_from).days >= MAX_RANGE_DAYS:
            problems.append(Problem("date_to", "range_too_long", "统计区间不能超过十年"))
        for name in ("hall_id", "department_id"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                problems.append(Problem(name, "invalid", "请选择有效的筛选条件"))
        if problems:
            raise ValidationFailed(problems)


@dataclass(frozen=True)
class Row:
    """One line of a table (a department, item, window, clerk, hall, channel, day or hour of the week):
    its key, a label in Chinese, the counter sums and the figures computed from them."""

    key: str
    label: str
    sums: dict[str, int]
    figures: dict[str, Figure]
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Overview:
    """The center overview: the period's figures and what is happening today."""

    filters: Filters
    figures: dict[str, Figure]
    p90_wait: float | None  # minutes, over the period
    today: dt.date
    tickets_today: int
    waiting_now: int
    avg_wait_today: float | None
    p90_wait_today: float | None
    cases_open: int
    cases_overdue: int  # open, past the promised due day
    complaints_open: int
    complaints_overdue: int


@dataclass(frozen=True)
class Page:
    """One page of a drill-down list."""

    metric: str
    rows: list[dict[str, Any]]
    page: int
    page_size: int
    has_next: bool


# ----- scope ------------------------------------------------------------------------------------------------

def scoped(viewer: Viewer, filters: Filters) -> Filters:
    """The filters as the viewer may use them: 403 without the grant; a department-scoped viewer's
    department replaces whatever was asked."""
    access.require(viewer, Action.DASHBOARD_VIEW)
    filters.validate()
    department = access.department_scoped(viewer, Action.DASHBOARD_VIEW)
    if department is not None:
        return Filters(filters.date_from, filters.date_to, filters.hall_id, department)
    return filters


def _where(table: Table, filters: Filters) -> ColumnElement[bool]:
    conds: list[ColumnElement[bool]] = [table.c.day >= filters.date_from, table.c.day <= filters.date_to]
    if filters.hall_id is not None:
        conds.append(table.c.hall_id == filters.hall_id)
    if filters.department_id is not None:
        conds.append(table.c.department_id == filters.department_id)
    return and_(*conds)


def _sum_columns(table: Table, names: Iterable[str]) -> list[Any]:
    return [func.coalesce(func.sum(table.c[name]), 0).label(name) for name in names]


def _sums(row: Mapping[Any, Any], names: Iterable[str]) -> dict[str, int]:
    return {name: int(row[name] or 0) for name in names}


def _grouped(session: Session, table: Table, key: Any, filters: Filters,
             names: Sequence[str] = COUNTERS) -> dict[Any, dict[str, int]]:
    stmt: Select[Any] = select(key.label("k"), *_sum_columns(table, names)).where(_where(table, filters)).group_by(key)
    return {r["k"]: _sums(r, names) for r in session.execute(stmt).mappings()}


def _totals(session: Session, table: Table, filters: Filters, names: Sequence[str] = COUNTERS) -> dict[str, int]:
    row = session.execute(select(*_sum_columns(table, names)).where(_where(table, filters))).mappings().one()
    return _sums(row, names)


def _wait_buckets(session: Session, filters: Filters) -> dict[int, int]:
    stmt = (select(wait.c.bucket, func.sum(wait.c.tickets)).where(_where(wait, filters))
            .group_by(wait.c.bucket))
    return {int(b): int(n or 0) for b, n in session.execute(stmt)}


def _open(session: Session, kind: OpenKind, filters: Filters, *, due_before: dt.date | None = None,
          due_on: dt.date | None = None) -> int:
    conds: list[ColumnElement[bool]] = [open_work.c.kind == kind.value]
    if filters.hall_id is not None:
        conds.append(open_work.c.hall_id == filters.hall_id)
    if filters.department_id is not None:
        conds.append(open_work.c.department_id == filters.department_id)
    if due_before is not None:
        conds.append(open_work.c.due_on < due_before)
    if due_on is not None:
        conds.append(open_work.c.due_on == due_on)
    return int(session.scalar(select(func.coalesce(func.sum(open_work.c.count), 0)).where(and_(*conds))) or 0)


# ----- the reads ----------------------------------------------------------------------------------------------

def overview(session: Session, viewer: Viewer, filters: Filters, today: dt.date) -> Overview:
    """The center overview over the period, and today's live figures."""
    f = scoped(viewer, filters)
    sums = _totals(session, fact_dept, f)
    day = Filters(today, today, f.hall_id, f.department_id)
    today_sums = _totals(session, fact_dept, day)
    avg_today = metrics.compute(metrics.BY_CODE["avg_wait"], today_sums).value
    return Overview(
        filters=f, figures=metrics.compute_all(sums), p90_wait=metrics.p90_wait(_wait_buckets(session, f)),
        today=today, tickets_today=today_sums["tickets"],
        waiting_now=_open(session, OpenKind.TICKET, f, due_on=today),
        avg_wait_today=avg_today, p90_wait_today=metrics.p90_wait(_wait_buckets(session, day)),
        cases_open=_open(session, OpenKind.CASE, f),
        cases_overdue=_open(session, OpenKind.CASE, f, due_before=today),
        complaints_open=_open(session, OpenKind.COMPLAINT, f),
        complaints_overdue=_open(session, OpenKind.COMPLAINT, f, due_before=today),
    )


def trend(session: Session, viewer: Viewer, filters: Filters,
          by: Literal["day", "hour_of_week"] = "day") -> list[Row]:
    """Figures per day of the range (every day, also the empty ones), or per hour of the week
    (``周一 09`` …: tickets, waits and acceptances summed over the range's weeks)."""
    f = scoped(viewer, filters)
    if by == "day":
        per_day = _grouped(session, fact_dept, fact_dept.c.day, f)
        rows: list[Row] = []
        day = f.date_from
        while day <= f.date_to:
            sums = per_day.get(day, dict.fromkeys(COUNTERS, 0))
            rows.append(Row(day.isoformat(), day.isoformat(), sums, metrics.compute_all(sums)))
            day += dt.timedelta(days=1)
        return rows
    if by != "hour_of_week":
        raise ValidationFailed([Problem("by", "invalid", "趋势只能按日或按周内小时统计")])
    stmt = (select(hourly.c.day, hourly.c.hour, *_sum_columns(hourly, HOURLY_COUNTERS))
            .where(_where(hourly, f)).group_by(hourly.c.day, hourly.c.hour))
    cells: dict[tuple[int, int], dict[str, int]] = {}
    for r in session.execute(stmt).mappings():
        key = (r["day"].weekday(), int(r["hour"]))
        cell = cells.setdefault(key, dict.fromkeys(HOURLY_COUNTERS, 0))
        for name in HOURLY_COUNTERS:
            cell[name] += int(r[name] or 0)
    out: list[Row] = []
    for weekday, hour in sorted(cells):
        sums = cells[(weekday, hour)]
        out.append(Row(f"{weekday}-{hour:02d}", f"{WEEKDAYS[weekday]} {hour:02d}时", sums,
                       metrics.compute_all(sums, ("tickets", "avg_wait", "cases_accepted")),
                       {"weekday": weekday, "hour": hour}))
    return out


def _rows(grouped: Mapping[Any, dict[str, int]], labels: Mapping[Any, str],
          min_sample: int | None = None) -> list[Row]:
    return [Row(str(k), labels.get(k, "—" if k == NONE else str(k)), sums,
                metrics.compute_all(sums, min_sample=min_sample)) for k, sums in grouped.items()]


def league(session: Session, viewer: Viewer, filters: Filters, min_sample: int | None = None) -> list[Row]:
    """The department league table: departments below the minimum sample are listed last, unranked
    (``extra["rank"]`` None); the others by 按期办结率, then 一次办结率, then 好评率."""
    f = scoped(viewer, filters)
    grouped = _grouped(session, fact_dept, fact_dept.c.department_id, f)
    rows = _rows(grouped, _department_names(session, grouped), min_sample)

    def sort_key(row: Row) -> tuple[int, float, float, float]:
        fig = row.figures
        enough = fig["on_time_rate"].enough
        return (0 if enough else 1, -(fig["on_time_rate"].value or 0), -(fig["one_visit_rate"].value or 0),
                -(fig["good_rate"].value or 0))

    ranked = sorted(rows, key=sort_key)
    out: list[Row] = []
    rank = 0
    for row in ranked:
        if row.figures["on_time_rate"].enough:
            rank += 1
            out.append(Row(row.key, row.label, row.sums, row.figures, {"rank": rank}))
        else:
            out.append(Row(row.key, row.label, row.sums, row.figures, {"rank": None}))
    return out


ItemOrder = Literal["volume", "wait", "overdue"]


def items(session: Session, viewer: Viewer, filters: Filters, order: ItemOrder = "volume",
          limit: int = 50) -> list[Row]:
    """Items ranked by volume (cases accepted + tickets), average wait, or overdue share (1 − 按期办结率)."""
    f = scoped(viewer, filters)
    grouped = _grouped(session, fact, fact.c.item_id, f)
    rows = _rows(grouped, _item_names(session, grouped))
    for row in rows:
        finished = row.sums["cases_finished"]
        row.extra["overdue_share"] = (round((finished - row.sums["finished_on_time"]) / finished * 100, 2)
                                      if finished else None)
        row.extra["volume"] = row.sums["cases_accepted"] + row.sums["tickets"]
    if order == "volume":
        rows.sort(key=lambda r: (-r.extra["volume"], r.key))
    elif order == "wait":
        rows.sort(key=lambda r: (-(r.figures["avg_wait"].value or -1), r.key))
    elif order == "overdue":
        rows.sort(key=lambda r: (-(r.extra["overdue_share"] if r.extra["overdue_share"] is not None else -1), r.key))
    else:
        raise ValidationFailed([Problem("order", "invalid", "排序只能按办件量、等待时长或逾期占比")])
    return rows[:limit]


def windows(session: Session, viewer: Viewer, filters: Filters) -> list[Row]:
    """Per window: tickets served, waits, service time, ratings."""
    f = scoped(viewer, filters)
    grouped = _grouped(session, fact, fact.c.window_id, f)
    grouped.pop(NONE, None)
    return sorted(_rows(grouped, _window_names(session, grouped)), key=lambda r: r.label)


def clerks(session: Session, viewer: Viewer, filters: Filters) -> list[Row]:
    """Per clerk: tickets served, service time, cases accepted, ratings."""
    f = scoped(viewer, filters)
    grouped = _grouped(session, fact, fact.c.clerk_id, f)
    grouped.pop(NONE, None)
    return sorted(_rows(grouped, _clerk_names(session, grouped)), key=lambda r: (-r.sums["served"], r.label))


def network(session: Session, viewer: Viewer, filters: Filters) -> list[Row]:
    """The county / town / village network: one row per hall (``extra["level"]``), plus 网上 (no hall)."""
    f = scoped(viewer, filters)
    grouped = _grouped(session, fact_dept, fact_dept.c.hall_id, f)
    halls = _halls(session, grouped)
    rows = _rows(grouped, {k: v[0] for k, v in halls.items()} | {NONE: "网上（不经大厅）"})
    order = {"county": 0, "town": 1, "village": 2}
    for row in rows:
        row.extra["level"] = halls.get(int(row.key), ("", "online"))[1]
    return sorted(rows, key=lambda r: (order.get(r.extra["level"], 3), r.label))


def channels(session: Session, viewer: Viewer, filters: Filters) -> list[Row]:
    """The channel mix (窗口, 网上, 自助, 寄递, 帮办代办 …): every channel, also the empty ones."""
    f = scoped(viewer, filters)
    grouped = _grouped(session, fact_dept, fact_dept.c.channel, f)
    return [Row(c.value, c.label, grouped.get(c.value, dict.fromkeys(COUNTERS, 0)),
                metrics.compute_all(grouped.get(c.value, dict.fromkeys(COUNTERS, 0)))) for c in FactChannel]


def drilldown(session: Session, viewer: Viewer, metric: str, filters: Filters, page: int = 1,
              page_size: int = 50) -> Page:
    """The records behind a figure, a page at a time (newest first)."""
    f = scoped(viewer, filters)
    if metric not in metrics.BY_CODE:
        raise ValidationFailed([Problem("metric", "unknown_metric", "没有这个指标")])
    if page < 1 or not 1 <= page_size <= 500:
        raise ValidationFailed([Problem("page", "invalid", "页码或每页条数无效")])
    rows = records(session, metrics.BY_CODE[metric], f, offset=(page - 1) * page_size, limit=page_size + 1)
    return Page(metric, rows[:page_size], page, page_size, len(rows) > page_size)


# ----- labels of the keys present (one query per table) ---------------------------------------------------------

def _department_names(session: Session, keys: Iterable[Any]) -> dict[Any, str]:
    ids = [k for k in keys if k != NONE]
    stmt = select(Department.id, Department.name).where(Department.id.in_(ids))
    return {k: v for k, v in session.execute(stmt)} if ids else {}


def _item_names(session: Session, keys: Iterable[Any]) -> dict[Any, str]:
    ids = [k for k in keys if k != NONE]
    if not ids:
        return {}
    stmt = (select(Item.id, ItemVersion.name).join(ItemVersion, ItemVersion.id == Item.current_version_id)
            .where(Item.id.in_(ids)))
    return {k: v for k, v in session.execute(stmt)}


def _window_names(session: Session, keys: Iterable[Any]) -> dict[Any, str]:
    ids = [k for k in keys if k != NONE]
    if not ids:
        return {}
    stmt = select(Window.id, Hall.name, Window.number).join(Hall, Hall.id == Window.hall_id).where(Window.id.in_(ids))
    return {wid: f"{hall} {number}号窗口" for wid, hall, number in session.execute(stmt)}


def _clerk_names(session: Session, keys: Iterable[Any]) -> dict[Any, str]:
    ids = [k for k in keys if k != NONE]
    stmt = select(User.id, User.display_name).where(User.id.in_(ids))
    return {k: v for k, v in session.execute(stmt)} if ids else {}


def _halls(session: Session, keys: Iterable[Any]) -> dict[int, tuple[str, str]]:
    ids = [k for k in keys if k != NONE]
    if not ids:
        return {}
    return {hid: (name, level) for hid, name, level in
            session.execute(select(Hall.id, Hall.name, Hall.level).where(Hall.id.in_(ids)))}
