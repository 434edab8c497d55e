"""The read service of the dashboards, the open data page and the exports.

Every figure comes from the rollups (``models.py``): a dashboard never scans cases or tickets. Only the
drill-down lists records, through indexed queries, page by page. Who sees what is the access policy's
``Action.DASHBOARD_VIEW``: a department head's filters are narrowed to their department whatever the
request says; administrators and supervisors see all.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache, cached_property
from typing import Any, Literal

from sqlalchemy import (
    ColumnElement,
    FromClause,
    Integer,
    Select,
    String,
    Table,
    and_,
    bindparam,
    cast,
    func,
    literal,
    select,
    text,
    union_all,
)
from sqlalchemy.orm import Session

from onewindow.analytics import metrics
from onewindow.analytics.drilldown import records
from onewindow.analytics.metrics import Figure
from onewindow.analytics.models import fact, fact_dept, hourly, open_work, wait
from onewindow.analytics.rules import (
    COUNTERS,
    HOURLY_COUNTERS,
    NONE,
    WAIT_LAST_BUCKET,
    FactChannel,
    OpenKind,
)
from onewindow.catalog.models import Department, Hall, Item, ItemVersion
from onewindow.core import access
from onewindow.core.access import Action, Viewer
from onewindow.core.errors import Problem, ValidationFailed
from onewindow.queue.models import Window
from onewindow.staff.models import User

MAX_RANGE_DAYS = 3660  # ten years
BUCKET_INDEX = "ix_analytics_wait_bucket_day"  # models.wait
# the counters the items, windows and clerks tables sum from the fine facts: volumes, waits, service times,
# acceptances, finishes on time, ratings (their figures: 平均等待, 平均办理, 按期办结率, 好评率)
DESK_COUNTERS: tuple[str, ...] = ("tickets", "waited", "wait_seconds", "served", "service_seconds", "cases_accepted",
                                  "cases_finished", "finished_on_time", "ratings", "ratings_good")
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


# The statements of the reads are built once per shape (which of hall and department are filtered) with bound
# parameters, and kept: building a select of 22 sums costs more than SQLite takes to run it on a month of
# rollups. ``_params`` gives the values.
Shape = tuple[bool, bool]


def _shape(filters: Filters) -> Shape:
    return filters.hall_id is not None, filters.department_id is not None


def _params(filters: Filters) -> dict[str, Any]:
    params: dict[str, Any] = {"date_from": filters.date_from, "date_to": filters.date_to}
    if filters.hall_id is not None:
        params["hall_id"] = filters.hall_id
    if filters.department_id is not None:
        params["department_id"] = filters.department_id
    return params


def _where(table: Table, shape: Shape) -> ColumnElement[bool]:
    conds: list[ColumnElement[bool]] = [table.c.day >= bindparam("date_from"), table.c.day <= bindparam("date_to")]
    if shape[0]:
        conds.append(table.c.hall_id == bindparam("hall_id"))
    if shape[1]:
        conds.append(table.c.department_id == bindparam("department_id"))
    return and_(*conds)


def _sum_columns(table: FromClause, names: Iterable[str]) -> list[Any]:
    return [func.coalesce(func.sum(table.c[name]), 0).label(name) for name in names]


def _sums(row: Mapping[Any, Any], names: Iterable[str]) -> dict[str, int]:
    return {name: int(row[name] or 0) for name in names}


@cache
def _grouped_statement(table: Table, key: str, shape: Shape, names: tuple[str, ...]) -> Select[Any]:
    return select(table.c[key].label("k"), *_sum_columns(table, names)).where(_where(table, shape)).group_by(
        table.c[key])


def _grouped(session: Session, table: Table, key: str, filters: Filters,
             names: tuple[str, ...] = COUNTERS) -> dict[Any, dict[str, int]]:
    stmt = _grouped_statement(table, key, _shape(filters), names)
    return {r["k"]: _sums(r, names) for r in session.execute(stmt, _params(filters)).mappings()}


@cache
def _totals_statement(table: Table, shape: Shape) -> Select[Any]:
    return select(*_sum_columns(table, COUNTERS)).where(_where(table, shape))


def _totals(session: Session, table: Table, filters: Filters) -> dict[str, int]:
    row = session.execute(_totals_statement(table, _shape(filters)), _params(filters)).mappings().one()
    return _sums(row, COUNTERS)


@cache
def _wait_statement(shape: Shape, per_bucket: bool) -> Select[Any]:
    if not per_bucket:
        return select(wait.c.bucket, func.sum(wait.c.tickets)).where(_where(wait, shape)).group_by(wait.c.bucket)
    # the buckets 0 … WAIT_LAST_BUCKET, each summed over the period by a range of the covering index
    # (bucket, day, hall, department, tickets): reads exactly the period's rows, in index order, and sorts none
    buckets = select(literal(0, Integer).label("bucket")).cte("buckets", recursive=True)
    buckets = buckets.union_all(select((buckets.c.bucket + 1).label("bucket"))
                                .where(buckets.c.bucket < WAIT_LAST_BUCKET))
    tickets = (select(func.sum(wait.c.tickets)).where(wait.c.bucket == buckets.c.bucket, _where(wait, shape))
               .scalar_subquery())
    return select(buckets.c.bucket, tickets)


def _wait_buckets(session: Session, filters: Filters) -> dict[int, int]:
    """The period's wait histogram (bucket → tickets). On SQLite one index range per bucket (a year of a city is
    some 300,000 histogram rows, which a GROUP BY would look up one by one and sort) when the index is there (a
    database not yet upgraded to it reads by the GROUP BY); on PostgreSQL a GROUP BY (hashed)."""
    per_bucket = session.get_bind().dialect.name == "sqlite" and session.execute(
        text("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = :name"), {"name": BUCKET_INDEX}).first()
    stmt = _wait_statement(_shape(filters), bool(per_bucket))
    return {int(b): int(n) for b, n in session.execute(stmt, _params(filters)) if n}


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

Sums = dict[str, int]
Cube = dict[Any, Sums]


@cache
def _grouping_sets_statement(table: Table, keys: tuple[str, ...], shape: Shape, names: tuple[str, ...]) -> Select[Any]:
    cube = (select(*(table.c[key] for key in keys), *(func.sum(table.c[n]).label(n) for n in names))
            .where(_where(table, shape)).group_by(*(table.c[key] for key in keys)).cte("cube"))
    parts: list[Select[Any]] = [
        select(literal(key, String).label("g"), cast(cube.c[key], String).label("k"), *_sum_columns(cube, names))
        .group_by(cube.c[key]) for key in keys]
    parts.append(select(literal("", String).label("g"), literal("", String).label("k"), *_sum_columns(cube, names)))
    return union_all(*parts)  # type: ignore[return-value]


def _grouping_sets(session: Session, table: Table, keys: tuple[str, ...], filters: Filters,
                   names: tuple[str, ...] = COUNTERS) -> dict[str, Cube]:
    """The counters summed over the period per value of each of the ``keys`` columns, and in all (under ``""``,
    key ``""``), in one statement: the period's rows are grouped once by all the keys together (the one sort of
    the range's rows) and that small cube is summed to each key — GROUPING SETS, written as a UNION ALL over a
    CTE so that SQLite runs it too. Reading a table once instead of once per key is what keeps the dashboard
    page fast."""
    out: dict[str, Cube] = {key: {} for key in (*keys, "")}
    ints = {key for key in keys if isinstance(table.c[key].type, Integer)}
    stmt = _grouping_sets_statement(table, keys, _shape(filters), names)
    for r in session.execute(stmt, _params(filters)).mappings():
        g = r["g"] or ""
        out[g][int(r["k"]) if g in ints else r["k"]] = _sums(r, names)
    return {key: dict(sorted(groups.items())) for key, groups in out.items()}


@cache
def _hourly_statement(shape: Shape) -> Select[Any]:
    return (select(hourly.c.day, hourly.c.hour, *_sum_columns(hourly, HOURLY_COUNTERS))
            .where(_where(hourly, shape)).group_by(hourly.c.day, hourly.c.hour))


class Period:
    """One viewer's reads of one period. ``shared``: each rollup table is read once for the period and shared by
    the figures that need it — the department facts summed per department, per hall, per channel and in all
    (``places``) give the totals, the league, the network and the channel mix; the fine facts summed per item,
    window and clerk (``desks``) give the items, windows and clerks. The dashboard page so reads each rollup table
    once instead of once per table (``reader.ServiceReader.board``). Not shared (one table, an export), each read
    is its own grouped query, which costs less than the grouping sets for one key."""

    def __init__(self, session: Session, viewer: Viewer, filters: Filters, *, shared: bool = False) -> None:
        self.session = session
        self.filters = scoped(viewer, filters)
        self.shared = shared  # read the grouping sets once for several tables; else one grouped query a table

    def _places_by(self, key: str) -> dict[Any, Sums]:
        if self.shared:
            return self.places[key]
        return _grouped(self.session, fact_dept, key, self.filters)

    def _desks_by(self, key: str) -> dict[Any, Sums]:
        if self.shared:
            return dict(self.desks[key])
        return _grouped(self.session, fact, key, self.filters, DESK_COUNTERS)

    @cached_property
    def places(self) -> dict[str, Cube]:
        """``analytics_fact_dept`` summed per department, per hall, per channel and in all (``""``)."""
        return _grouping_sets(self.session, fact_dept, ("department_id", "hall_id", "channel"), self.filters)

    @cached_property
    def desks(self) -> dict[str, Cube]:
        """``analytics_fact`` summed per item, per window and per clerk: the counters of ``DESK_COUNTERS`` only
        (SQLite's cost is the rows times the sums, and the fine facts are the period's most rows)."""
        return _grouping_sets(self.session, fact, ("item_id", "window_id", "clerk_id"), self.filters, DESK_COUNTERS)

    def totals(self) -> Sums:
        """The period's sums: from ``places`` when shared, else one summing query (a year's totals need no
        grouping)."""
        if self.shared:
            return self.places[""][""]
        return _totals(self.session, fact_dept, self.filters)

    def overview(self, today: dt.date) -> Overview:
        """The center overview over the period, and today's live figures."""
        f = self.filters
        session = self.session
        sums = self.totals()
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

    def trend(self, by: Literal["day", "hour_of_week"] = "day", names: tuple[str, ...] = COUNTERS) -> list[Row]:
        """Figures per day of the range (every day, also the empty ones; the counters ``names``, and the figures
        they make), or per hour of the week (``周一 09`` …: tickets, waits and acceptances summed over the range's
        weeks)."""
        f = self.filters
        session = self.session
        if by == "day":
            per_day = _grouped(session, fact_dept, "day", f, names)
            codes = metrics.codes_over(names)
            rows: list[Row] = []
            day = f.date_from
            while day <= f.date_to:
                sums = per_day.get(day, dict.fromkeys(names, 0))
                rows.append(Row(day.isoformat(), day.isoformat(), sums, metrics.compute_all(sums, codes)))
                day += dt.timedelta(days=1)
            return rows
        if by != "hour_of_week":
            raise ValidationFailed([Problem("by", "invalid", "趋势只能按日或按周内小时统计")])
        cells: dict[tuple[int, int], dict[str, int]] = {}
        for r in session.execute(_hourly_statement(_shape(f)), _params(f)).mappings():
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

    def league(self, min_sample: int | None = None) -> list[Row]:
        """The department league table: departments below the minimum sample are listed last, unranked
        (``extra["rank"]`` None); the others by 按期办结率, then 一次办结率, then 好评率."""
        grouped = self._places_by("department_id")
        rows = _rows(grouped, _department_names(self.session, grouped), min_sample)

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

    def items(self, order: ItemOrder = "volume", limit: int = 50) -> list[Row]:
        """Items ranked by volume (cases accepted + tickets), average wait, or overdue share (1 − 按期办结率)."""
        if order not in ("volume", "wait", "overdue"):
            raise ValidationFailed([Problem("order", "invalid", "排序只能按办件量、等待时长或逾期占比")])
        grouped = self._desks_by("item_id")
        rows = _rows(grouped, _item_names(self.session, grouped))
        for row in rows:
            finished = row.sums["cases_finished"]
            row.extra["overdue_share"] = (round((finished - row.sums["finished_on_time"]) / finished * 100, 2)
                                          if finished else None)
            row.extra["volume"] = row.sums["cases_accepted"] + row.sums["tickets"]
        if order == "volume":
            rows.sort(key=lambda r: (-r.extra["volume"], r.key))
        elif order == "wait":
            rows.sort(key=lambda r: (-(r.figures["avg_wait"].value or -1), r.key))
        else:
            rows.sort(key=lambda r: (-(r.extra["overdue_share"] if r.extra["overdue_share"] is not None else -1),
                                     r.key))
        return rows[:limit]

    def windows(self) -> list[Row]:
        """Per window: tickets served, waits, service time, ratings."""
        grouped = self._desks_by("window_id")
        grouped.pop(NONE, None)
        return sorted(_rows(grouped, _window_names(self.session, grouped)), key=lambda r: r.label)

    def clerks(self) -> list[Row]:
        """Per clerk: tickets served, service time, cases accepted, ratings."""
        grouped = self._desks_by("clerk_id")
        grouped.pop(NONE, None)
        return sorted(_rows(grouped, _clerk_names(self.session, grouped)), key=lambda r: (-r.sums["served"], r.label))

    def network(self) -> list[Row]:
        """The county / town / village network: one row per hall (``extra["level"]``), plus 网上 (no hall)."""
        grouped = self._places_by("hall_id")
        halls = _halls(self.session, grouped)
        rows = _rows(grouped, {k: v[0] for k, v in halls.items()} | {NONE: "网上（不经大厅）"})
        order = {"county": 0, "town": 1, "village": 2}
        for row in rows:
            row.extra["level"] = halls.get(int(row.key), ("", "online"))[1]
        return sorted(rows, key=lambda r: (order.get(r.extra["level"], 3), r.label))

    def channels(self) -> list[Row]:
        """The channel mix (窗口, 网上, 自助, 寄递, 帮办代办 …): every channel, also the empty ones."""
        grouped = self._places_by("channel")
        return [Row(c.value, c.label, grouped.get(c.value, dict.fromkeys(COUNTERS, 0)),
                    metrics.compute_all(grouped.get(c.value, dict.fromkeys(COUNTERS, 0)))) for c in FactChannel]


def overview(session: Session, viewer: Viewer, filters: Filters, today: dt.date) -> Overview:
    """The center overview over the period, and today's live figures."""
    return Period(session, viewer, filters).overview(today)


def trend(session: Session, viewer: Viewer, filters: Filters,
          by: Literal["day", "hour_of_week"] = "day", names: tuple[str, ...] = COUNTERS) -> list[Row]:
    """Figures per day of the range, or per hour of the week (``Period.trend``)."""
    return Period(session, viewer, filters).trend(by, names)


def _rows(grouped: Mapping[Any, dict[str, int]], labels: Mapping[Any, str],
          min_sample: int | None = None) -> list[Row]:
    """Rows with the figures their counters make (all of them from the department facts; those of
    ``DESK_COUNTERS`` for items, windows and clerks)."""
    out: list[Row] = []
    codes: tuple[str, ...] | None = None
    for k, sums in grouped.items():
        if codes is None:
            codes = metrics.codes_over(tuple(sums))
        out.append(Row(str(k), labels.get(k, "—" if k == NONE else str(k)), sums,
                       metrics.compute_all(sums, codes, min_sample=min_sample)))
    return out


def league(session: Session, viewer: Viewer, filters: Filters, min_sample: int | None = None) -> list[Row]:
    """The department league table (``Period.league``)."""
    return Period(session, viewer, filters).league(min_sample)


ItemOrder = Literal["volume", "wait", "overdue"]


def items(session: Session, viewer: Viewer, filters: Filters, order: ItemOrder = "volume",
          limit: int = 50) -> list[Row]:
    """Items ranked by volume, average wait, or overdue share (``Period.items``)."""
    return Period(session, viewer, filters).items(order, limit)


def windows(session: Session, viewer: Viewer, filters: Filters) -> list[Row]:
    """Per window (``Period.windows``)."""
    return Period(session, viewer, filters).windows()


def clerks(session: Session, viewer: Viewer, filters: Filters) -> list[Row]:
    """Per clerk (``Period.clerks``)."""
    return Period(session, viewer, filters).clerks()


def network(session: Session, viewer: Viewer, filters: Filters) -> list[Row]:
    """The county / town / village network (``Period.network``)."""
    return Period(session, viewer, filters).network()


def channels(session: Session, viewer: Viewer, filters: Filters) -> list[Row]:
    """The channel mix (``Period.channels``)."""
    return Period(session, viewer, filters).channels()


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
