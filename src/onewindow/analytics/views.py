"""The dashboard pages (统计分析): the overview, the large screen (大屏), the drill-down, the downloads, and the
public open-data page (政务公开).

Thin edges: parse the filters from the URL, narrow them to the viewer's reach (``dashboard.scoped_query``, the
access policy's answer), ask the reader (the read service over the daily rollups) and render. A 首席代表 sees
their own department's figures; asking for another department's is a 403.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from onewindow.analytics import dashboard, exports
from onewindow.analytics.dashboard import TABLES, TREND_BY, Reader
from onewindow.catalog import service as catalog_service
from onewindow.core.access import Action
from onewindow.core.clock import today
from onewindow.core.errors import DomainError, NotFound
from onewindow.deps import Auth, ClockDep, CurrentAuth, DbSession, OptionalAuth, SettingsDep
from onewindow.web import render

router = APIRouter(include_in_schema=False)

Short = Annotated[str, Query(max_length=12)]
SCREEN_REFRESH_SECONDS = 30


class ReaderMissing(DomainError):
    """The read service is not installed in this app (HTTP 503)."""

    def __init__(self) -> None:
        super().__init__(code="analytics_unavailable", message="统计服务尚未启用", status=503)


def reader_of(request: Request) -> Reader:
    """The app's reader of the rollups (``app.state.analytics_reader``, installed by ``main.create_app``)."""
    reader: Reader | None = getattr(request.app.state, "analytics_reader", None)
    if reader is None:
        raise ReaderMissing
    return reader


def _query(clock: ClockDep, auth: Auth, date_from: str, date_to: str, hall: str, department: str,
           action: Action = Action.DASHBOARD_VIEW) -> dashboard.Query:
    query = dashboard.parse_query(today=today(clock), date_from=date_from, date_to=date_to, hall=hall,
                                  department=department)
    return dashboard.scoped_query(auth.viewer, query, action)


@router.get("/dashboard", response_class=HTMLResponse)
def overview_page(request: Request, session: DbSession, clock: ClockDep, auth: CurrentAuth,
                  date_from: Short = "", date_to: Short = "", hall: Short = "", department: Short = "") -> Response:
    """统计分析: the overview tiles, the trends, the league table and the other tables, filtered by the URL."""
    query = _query(clock, auth, date_from, date_to, hall, department)
    board = dashboard.build_board(reader_of(request), session, auth.viewer, query)
    charts = {key: chart.as_json() for key, chart in board.charts.items()}
    return render(request, "analytics/dashboard.html", {
        "board": board, "charts": charts, "tables": TABLES, "trend_by": TREND_BY, "section": "dashboard",
        "department_fixed": board.query.department_id is not None and query.department_id != _asked(department),
        "can_export": auth.can(Action.DASHBOARD_EXPORT),
    }, auth=auth, fragment="analytics/_board.html")


def _asked(department: str) -> int | None:
    return int(department) if department.isdigit() else None


@router.get("/dashboard/screen", response_class=HTMLResponse)
def screen_page(request: Request, session: DbSession, clock: ClockDep, auth: CurrentAuth, hall: Short = "",
                department: Short = "") -> Response:
    """大屏: today's figures of the hall in large type, refreshed from ``/dashboard/screen.json``."""
    d = today(clock).isoformat()
    query = _query(clock, auth, d, d, hall, department)
    tiles = reader_of(request).overview(session, auth.viewer, query)
    return render(request, "analytics/screen.html", {
        "tiles": tiles, "query": query, "refresh_seconds": SCREEN_REFRESH_SECONDS, "at": clock.now()}, auth=auth)


@router.get("/dashboard/screen.json")
def screen_data(request: Request, session: DbSession, clock: ClockDep, auth: CurrentAuth,
                hall: Short = "", department: Short = "") -> JSONResponse:
    """The large screen's figures now (polled every half minute)."""
    d = today(clock).isoformat()
    query = _query(clock, auth, d, d, hall, department)
    tiles = reader_of(request).overview(session, auth.viewer, query)
    trend = reader_of(request).trend(session, auth.viewer, query, "hour_of_week")
    return JSONResponse({"at": clock.now().isoformat(), "tiles": [
        {"code": t.code, "label": t.label, "text": t.text, "low_sample": t.low_sample} for t in tiles],
        "trend": trend.as_json()})


@router.get("/dashboard/drilldown/{metric}", response_class=HTMLResponse)
def drilldown_page(request: Request, metric: str, session: DbSession,
                   clock: ClockDep, auth: CurrentAuth, date_from: Short = "", date_to: Short = "", hall: Short = "",
                   department: Short = "", page: Annotated[int, Query(ge=1, le=100000)] = 1) -> Response:
    """The records behind one figure, a page at a time, within the viewer's reach."""
    if len(metric) > 40:
        raise NotFound("指标", metric[:40])
    query = _query(clock, auth, date_from, date_to, hall, department)
    table = reader_of(request).drilldown(session, auth.viewer, metric, query, page)
    return render(request, "analytics/drilldown.html", {
        "table": table, "query": query, "metric": metric, "page": page, "section": "dashboard"}, auth=auth)


@router.get("/dashboard/export/{key}.{ext}")
def export_table(request: Request, key: str, ext: str, session: DbSession, clock: ClockDep, auth: CurrentAuth,
                 date_from: Short = "", date_to: Short = "", hall: Short = "", department: Short = "") -> Response:
    """One of the dashboard's tables as Excel (``.xlsx``) or CSV (``.csv``), with the page's filters."""
    if key not in TABLES or ext not in ("xlsx", "csv"):
        raise NotFound("统计表", f"{key}.{ext}")
    query = _query(clock, auth, date_from, date_to, hall, department, Action.DASHBOARD_EXPORT)
    table = reader_of(request).table(session, auth.viewer, query, key)
    data, media = (exports.to_xlsx(table, query), exports.XLSX) if ext == "xlsx" else (exports.to_csv(table),
                                                                                          exports.CSV)
    return Response(data, media_type=media, headers={
        "Content-Disposition": f"attachment; filename=\"{exports.filename(key, query, ext)}\""})


@router.get("/dashboard/report.pdf")
def monthly_report(request: Request, session: DbSession, clock: ClockDep, settings: SettingsDep, auth: CurrentAuth,
                   month: Annotated[str, Query(max_length=7)] = "", hall: Short = "",
                   department: Short = "") -> Response:
    """The monthly analysis report (PDF): main indicators against last month, charts, the tables."""
    first, last = dashboard.parse_month(month, today=today(clock))
    query = _query(clock, auth, first.isoformat(), last.isoformat(), hall, department, Action.DASHBOARD_EXPORT)
    prev_last = first - dt.timedelta(days=1)
    previous = dashboard.Query(prev_last.replace(day=1), prev_last, query.hall_id, query.department_id)
    reader = reader_of(request)
    tiles, trends, by_key = reader.board(session, auth.viewer, query)
    tables = [by_key[key] for key in TABLES]
    report = exports.MonthlyReport(
        month=first, tiles=tiles, previous=reader.overview(session, auth.viewer, previous),
        charts=[trends["day"], tables[0].chart(*dashboard.chart_columns(tables[0]))], tables=tables)
    data = exports.monthly_pdf(report, printed_at=clock.now(), font_paths=settings.cjk_font_paths)
    return Response(data, media_type="application/pdf", headers={
        "Content-Disposition": f"inline; filename=\"dashboard-report-{first:%Y-%m}.pdf\""})


@router.get("/open-data", response_class=HTMLResponse)
def open_data(request: Request, session: DbSession, clock: ClockDep, auth: OptionalAuth,
              date_from: Short = "", date_to: Short = "") -> Response:
    """政务公开: the center's public indicators and the catalog's figures; no personal data, no sign-in."""
    query = dashboard.parse_query(today=today(clock), date_from=date_from, date_to=date_to)
    reader: Any = getattr(request.app.state, "analytics_reader", None)
    tiles = reader.public(session, query) if reader is not None else []
    catalog = catalog_service.catalog_indicators(session)
    return render(request, "analytics/open_data.html", {
        "tiles": tiles, "query": query, "catalog": catalog, "catalog_tiles": dashboard.catalog_tiles(catalog)},
        auth=auth)
