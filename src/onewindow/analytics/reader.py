"""The pages' reader over the read service (``analytics.service``): turns its rows and figures into the tiles,
charts and tables the dashboard draws (``dashboard``), with the columns of each table named once here.

Reads rollups only (the drill-down lists records through the service's indexed queries). The access policy is
enforced by the service (``service.scoped``); the open-data page reads the center's totals, never a record.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onewindow.analytics import metrics, service
from onewindow.analytics.dashboard import TABLES, TREND_BY, Chart, Column, Query, Series, Table, Tile
from onewindow.analytics.metrics import Figure
from onewindow.analytics.models import fact_dept
from onewindow.analytics.rules import COUNTERS
from onewindow.catalog.models import Department, Hall
from onewindow.core import access
from onewindow.core.access import Action, Viewer
from onewindow.core.clock import Clock, today

LEVELS = {"county": "县级", "town": "乡镇", "village": "村（社区）", "online": "网上"}
# the figures the open-data page (政务公开) publishes: rates and volumes of the whole center, no record
PUBLIC_CODES = ("cases_accepted", "cases_finished", "on_time_rate", "one_visit_rate", "avg_wait", "good_rate",
                "complaint_on_time_rate", "complaint_satisfied_rate")
DRILL_LABELS = {
    "number": "编号", "day": "日期", "state": "状态", "channel": "渠道", "item_code": "事项编码",
    "wait_minutes": "等待（分钟）", "service_minutes": "办理（分钟）", "accepted_on": "受理日期",
    "decided_on": "办结日期", "promised_due": "承诺期限", "on_time": "按期", "subject": "评价对象",
    "level": "评价等级", "negative": "差评", "is_default": "默认好评", "rated_on": "评价日期", "category": "类别",
    "due_on": "办理期限", "closed_on": "办结日期", "replied": "已答复", "callback_verdict": "回访结果",
}


def _filters(query: Query) -> service.Filters:
    return service.Filters(query.date_from, query.date_to, query.hall_id, query.department_id)


def _number(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == metrics.Unit.PERCENT.value:
        return f"{value:.2f}%"
    if unit == metrics.Unit.MINUTES.value:
        return f"{value:.1f} 分钟"
    return f"{value:,.0f}"


def figure_tile(fig: Figure, *, drilldown: bool = True) -> Tile:
    """A figure as a tile: its value in its unit, the parts behind a rate, and whether the sample is too small."""
    parts = f"{fig.numerator} / {fig.denominator}" if fig.denominator is not None else ""
    return Tile(fig.code, fig.name, _number(fig.value, fig.unit), fig.value, parts,
                low_sample=fig.denominator is not None and fig.denominator > 0 and not fig.enough,
                drilldown=drilldown)


def _count(code: str, label: str, value: int | float | None, unit: str = metrics.Unit.COUNT.value) -> Tile:
    return Tile(code, label, _number(None if value is None else float(value), unit),
                None if value is None else float(value))


def _rate(row: service.Row, code: str) -> float | None:
    return row.figures[code].value


# (key, Chinese header, numeric, cell of a row)
Cell = Callable[[service.Row], Any]
TABLE_COLUMNS: dict[str, tuple[str, Sequence[tuple[str, str, bool, Cell]], str]] = {
    "league": ("on_time_rate", (
        ("label", "部门", False, lambda r: r.label),
        ("on_time_rate", "按期办结率（%）", True, lambda r: _rate(r, "on_time_rate")),
        ("one_visit_rate", "一次办结率（%）", True, lambda r: _rate(r, "one_visit_rate")),
        ("good_rate", "好评率（%）", True, lambda r: _rate(r, "good_rate")),
        ("cases_accepted", "受理量", True, lambda r: r.sums["cases_accepted"]),
        ("cases_finished", "办结量", True, lambda r: r.sums["cases_finished"]),
        ("ratings", "评价量", True, lambda r: r.sums["ratings"]),
        ("complaints", "诉求量", True, lambda r: r.sums["complaints"]),
        ("rank", "名次", False, lambda r: r.extra.get("rank") or "样本不足"),
    ), "办结不足最小样本的部门不排名，列在最后。"),
    "items": ("volume", (
        ("label", "事项", False, lambda r: r.label),
        ("volume", "办件与取号量", True, lambda r: r.extra.get("volume")),
        ("cases_accepted", "受理量", True, lambda r: r.sums["cases_accepted"]),
        ("avg_wait", "平均等待（分钟）", True, lambda r: _rate(r, "avg_wait")),
        ("overdue_share", "逾期占比（%）", True, lambda r: r.extra.get("overdue_share")),
    ), "按办件与取号量排序，前 50 项。"),
    "windows": ("served", (
        ("label", "窗口", False, lambda r: r.label),
        ("served", "办结号数", True, lambda r: r.sums["served"]),
        ("avg_wait", "平均等待（分钟）", True, lambda r: _rate(r, "avg_wait")),
        ("avg_service", "平均办理（分钟）", True, lambda r: _rate(r, "avg_service")),
        ("ratings", "评价量", True, lambda r: r.sums["ratings"]),
        ("good_rate", "好评率（%）", True, lambda r: _rate(r, "good_rate")),
    ), ""),
    "clerks": ("served", (
        ("label", "窗口人员", False, lambda r: r.label),
        ("served", "办结号数", True, lambda r: r.sums["served"]),
        ("avg_service", "平均办理（分钟）", True, lambda r: _rate(r, "avg_service")),
        ("cases_accepted", "受理量", True, lambda r: r.sums["cases_accepted"]),
        ("ratings", "评价量", True, lambda r: r.sums["ratings"]),
        ("good_rate", "好评率（%）", True, lambda r: _rate(r, "good_rate")),
    ), ""),
    "network": ("cases_accepted", (
        ("label", "大厅", False, lambda r: r.label),
        ("level", "层级", False, lambda r: LEVELS.get(r.extra.get("level", ""), "")),
        ("cases_accepted", "受理量", True, lambda r: r.sums["cases_accepted"]),
        ("cases_finished", "办结量", True, lambda r: r.sums["cases_finished"]),
        ("tickets", "取号量", True, lambda r: r.sums["tickets"]),
        ("on_time_rate", "按期办结率（%）", True, lambda r: _rate(r, "on_time_rate")),
    ), "县、乡镇、村（社区）三级大厅，及不经大厅的网上办件。"),
    "channels": ("cases_accepted", (
        ("label", "渠道", False, lambda r: r.label),
        ("cases_accepted", "受理量", True, lambda r: r.sums["cases_accepted"]),
        ("cases_finished", "办结量", True, lambda r: r.sums["cases_finished"]),
        ("ratings", "评价量", True, lambda r: r.sums["ratings"]),
        ("complaints", "诉求量", True, lambda r: r.sums["complaints"]),
    ), ""),
}
TITLES = {"league": "部门排行", "items": "事项排行", "windows": "窗口", "clerks": "窗口人员",
          "network": "县乡村三级网络", "channels": "办理渠道"}


class ServiceReader:
    """The dashboard's reader over ``analytics.service`` (installed on the app by ``main.create_app``)."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock

    def overview(self, session: Session, viewer: Viewer, query: Query) -> list[Tile]:
        """Today's queue, the period's waits, cases, rates, ratings and open complaints."""
        return _overview_tiles(service.overview(session, viewer, _filters(query), today(self.clock)))

    def trend(self, session: Session, viewer: Viewer, query: Query, by: str) -> Chart:
        """Tickets and cases per day, or per hour of the week."""
        return _trend_chart(service.Period(session, viewer, _filters(query)), by)

    def table(self, session: Session, viewer: Viewer, query: Query, key: str) -> Table:
        """One of the dashboard's tables."""
        return _table(service.Period(session, viewer, _filters(query)), key)

    def board(self, session: Session, viewer: Viewer, query: Query) -> tuple[list[Tile], dict[str, Chart],
                                                                          dict[str, Table]]:
        """The overview tiles, the trends and every table over one period, each rollup read once
        (``service.Period``)."""
        period = service.Period(session, viewer, _filters(query), shared=True)
        tables = {key: _table(period, key) for key in TABLES}
        charts = {by: _trend_chart(period, by) for by in TREND_BY}
        return _overview_tiles(period.overview(today(self.clock))), charts, tables

    def drilldown(self, session: Session, viewer: Viewer, metric: str, query: Query, page: int) -> Table:
        """The records behind a figure, 50 a page."""
        result = service.drilldown(session, viewer, metric, _filters(query), page)
        keys = [k for k in (result.rows[0] if result.rows else {}) if k in DRILL_LABELS]
        name = metrics.BY_CODE[metric].name
        return Table(metric, f"{name} · 明细", [Column(k, DRILL_LABELS[k], False) for k in keys],
                     [{k: _yes_no(r.get(k)) for k in keys} for r in result.rows], has_next=result.has_next)

    def choices(self, session: Session, viewer: Viewer | None) -> tuple[list[tuple[int, str]],
                                                                       list[tuple[int, str]]]:
        """Every hall; the departments within the viewer's reach."""
        halls = [(int(i), str(n)) for i, n in session.execute(select(Hall.id, Hall.name).order_by(Hall.id))]
        stmt = select(Department.id, Department.name).order_by(Department.id)
        own = access.department_scoped(viewer, Action.DASHBOARD_VIEW) if viewer is not None else None
        if own is not None:
            stmt = stmt.where(Department.id == own)
        return halls, [(int(i), str(n)) for i, n in session.execute(stmt)]

    def public(self, session: Session, query: Query) -> list[Tile]:
        """The center's published figures over the range (sums of the rollups; no record, no person)."""
        cols = [func.coalesce(func.sum(fact_dept.c[name]), 0).label(name) for name in COUNTERS]
        row = session.execute(select(*cols).where(fact_dept.c.day >= query.date_from,
                                                  fact_dept.c.day <= query.date_to)).mappings().one()
        figures = metrics.compute_all({name: int(row[name] or 0) for name in COUNTERS}, PUBLIC_CODES)
        return [figure_tile(figures[code], drilldown=False) for code in PUBLIC_CODES]


def _overview_tiles(o: service.Overview) -> list[Tile]:
    f = o.figures
    minutes = metrics.Unit.MINUTES.value
    return [
        _count("tickets_today", "今日取号", o.tickets_today),
        _count("waiting_now", "当前等候", o.waiting_now),
        figure_tile(f["avg_wait"]),
        _count("p90_wait", "等待时长 P90", o.p90_wait, minutes),
        figure_tile(f["cases_accepted"]),
        figure_tile(f["cases_finished"]),
        _count("cases_overdue", "超期未办结", o.cases_overdue),
        figure_tile(f["one_visit_rate"]),
        figure_tile(f["on_time_rate"]),
        figure_tile(f["good_rate"]),
        figure_tile(f["negative"]),
        _count("complaints_open", "在办诉求", o.complaints_open),
        _count("complaints_overdue", "超期诉求", o.complaints_overdue),
    ]


def _trend_chart(period: service.Period, by: str) -> Chart:
    names = [("tickets", "取号量"), ("cases_accepted", "受理量")]
    if by != "hour_of_week":
        names.append(("cases_finished", "办结量"))
    rows = period.trend("hour_of_week" if by == "hour_of_week" else "day", tuple(key for key, _ in names))
    return Chart("按星期与时段" if by == "hour_of_week" else "按日", [r.label for r in rows],
                 [Series(label, [float(r.sums.get(key, 0)) for r in rows]) for key, label in names])


def _table(period: service.Period, key: str) -> Table:
    read: dict[str, Callable[[], list[service.Row]]] = {
        "league": period.league, "items": period.items, "windows": period.windows, "clerks": period.clerks,
        "network": period.network, "channels": period.channels}
    rows = read[key]()
    chart, columns, note = TABLE_COLUMNS[key]
    return Table(key, TITLES[key], [Column(k, label, numeric) for k, label, numeric, _ in columns],
                 [{k: cell(r) for k, _, _, cell in columns} for r in rows], note=note, chart_key=chart)


def _yes_no(value: Any) -> Any:
    if value is True:
        return "是"
    if value is False:
        return "否"
    return value

