"""The supervisor's pages of 有诉即办: figures, 未诉先办 and the 问题工作台账; the 12345 upload; the 问题工作单.

Thin edges: parse the query or the form, call ``complaints.figures`` / ``ledger`` / ``importer``, render. Who sees
what is the access policy's answer inside those functions (a department's head gets their department's figures
and ledger; the 12345 import is the center's dispatcher's). A refused upload (422 naming every bad row and field)
writes nothing and shows the reasons on the page again.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import UploadFile

from onewindow.complaints import figures, hotline, importer, ledger, rules
from onewindow.core.access import Action
from onewindow.core.clock import today
from onewindow.core.errors import DomainError, Problem, ValidationFailed
from onewindow.deps import Auth, ClockDep, CurrentAuth, DbSession, SettingsDep
from onewindow.web import FormDep, render

router = APIRouter(include_in_schema=False)
api_router = APIRouter(tags=["complaints"])

Short = Annotated[str, Query(max_length=12)]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _date(value: str, field: str) -> dt.date | None:
    if not value:
        return None
    try:
        if not _DATE.match(value):
            raise ValueError(value)
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed([Problem(field, "date_format", "日期格式应为 YYYY-MM-DD")]) from None


def _range(clock: ClockDep, date_from: str, date_to: str) -> tuple[dt.date, dt.date]:
    end = _date(date_to, "date_to") or today(clock)
    start = _date(date_from, "date_from") or end - dt.timedelta(days=29)
    figures.check_range(start, end)
    return start, end


def _int(value: str, field: str) -> int | None:
    if not value:
        return None
    if not value.isdigit() or len(value) > 9:
        raise ValidationFailed([Problem(field, f"{field}_invalid", "应为编号（数字）")])
    return int(value)


@router.get("/complaints/figures", response_class=HTMLResponse)
def figures_page(request: Request, session: DbSession, clock: ClockDep, auth: CurrentAuth,
                 date_from: Short = "", date_to: Short = "", by: Annotated[str, Query(max_length=30)] = "department",
                 ) -> Response:
    """诉求统计: the rates per department / category over a range, 未诉先办, and the 台账 download form."""
    auth.require(Action.COMPLAINT_FIGURES)
    start, end = _range(clock, date_from, date_to)
    chosen = by if by in figures.BY_OPTIONS else "department"
    report = figures.figures(session, viewer=auth.viewer, date_from=start, date_to=end, now=clock.now(), by=chosen)
    recurring = figures.recurring_subjects(session, viewer=auth.viewer, today=today(clock))
    return render(request, "complaints/figures.html", {
        "report": report, "recurring": recurring, "by": chosen, "by_options": figures.BY_OPTIONS,
        "date_from": start.isoformat(), "date_to": end.isoformat(), "choices": ledger.choices(),
        "departments": ledger.filter_departments(session, viewer=auth.viewer), "section": "complaints-figures",
    }, auth=auth)


@router.get("/complaints/figures/ledger.xlsx")
def ledger_download(session: DbSession, clock: ClockDep, auth: CurrentAuth, date_from: Short = "",
                    date_to: Short = "", department: Short = "", category: Short = "", state: Short = "",
                    channel: Short = "", overdue: Annotated[str, Query(max_length=1)] = "") -> Response:
    """有诉即办问题工作台账 (Excel) of a 受理 date range, narrowed by the filters, within the viewer's reach."""
    start, end = _range(clock, date_from, date_to)
    filters = ledger.parse_filters(date_from=start, date_to=end, department_id=_int(department, "department"),
                                   category=category, state=state, channel=channel, overdue=overdue)
    data = ledger.ledger(session, viewer=auth.viewer, filters=filters)
    name = ledger.ledger_filename(filters)
    return Response(data, media_type=XLSX, headers={
        "Content-Disposition": f"attachment; filename=\"{name}\"; "
                               f"filename*=UTF-8''{quote('有诉即办问题工作台账')}-{name[len('complaints-ledger-'):]}"})


@router.get("/complaints/{complaint_id}/worksheet.pdf")
def worksheet(complaint_id: int, session: DbSession, clock: ClockDep, settings: SettingsDep,
              auth: CurrentAuth) -> Response:
    """有诉即办问题工作单 (PDF) of one order the viewer may see."""
    order, data = ledger.worksheet_pdf(session, user=auth.user, complaint_id=complaint_id, settings=settings,
                                       printed_at=clock.now())
    return Response(data, media_type="application/pdf",
                    headers={"Content-Disposition": f"inline; filename=\"{order.number}.pdf\""})


# ----- the 12345 upload -------------------------------------------------------------------------------------------


def _import_page(request: Request, auth: Auth, *, result: importer.ImportResult | None = None,
                 problems: list[Problem] | None = None, filename: str = "", status_code: int = 200) -> Response:
    return render(request, "complaints/import.html", {
        "result": result, "problems": problems or [], "filename": filename, "columns": hotline.FIELDS,
        "section": "complaints-figures"}, auth=auth, status_code=status_code)


@router.get("/complaints/import", response_class=HTMLResponse)
def import_form(request: Request, auth: CurrentAuth) -> Response:
    """The 12345 upload form (CSV, JSON or Excel)."""
    auth.require(Action.COMPLAINT_IMPORT)
    return _import_page(request, auth)


@router.get("/complaints/import/template.csv")
def import_template(auth: CurrentAuth) -> Response:
    """An empty CSV with the Chinese header the import reads."""
    auth.require(Action.COMPLAINT_IMPORT)
    return Response(("\ufeff" + hotline.to_csv([])).encode("utf-8"), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": "attachment; filename=\"12345-template.csv\""})


async def _upload(form: Any) -> tuple[str, bytes]:
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise ValidationFailed([Problem("file", "file_required", "请选择要导入的文件")])
    data = await upload.read(hotline.MAX_BYTES + 1)
    return upload.filename, data


@router.post("/complaints/import", response_class=HTMLResponse)
async def import_upload(request: Request, session: DbSession, clock: ClockDep, settings: SettingsDep,
                        auth: CurrentAuth, form: FormDep) -> Response:
    """Import the uploaded 12345 file: every row checked, then written, or nothing (the reasons shown)."""
    auth.require(Action.COMPLAINT_IMPORT)
    filename = ""
    try:
        filename, data = await _upload(form)
        raw = hotline.read_bytes(data, filename)
        with session.begin_nested():
            result = importer.import_orders(session, clock=clock, user=auth.user, raw=raw, content=data,
                                            limits=rules.limits_from_settings(settings), source=filename)
    except DomainError as exc:
        if exc.status == 403:
            raise
        return _import_page(request, auth, problems=exc.problems, filename=filename, status_code=exc.status)
    return _import_page(request, auth, result=result, filename=filename)


# ----- JSON -------------------------------------------------------------------------------------------------------


@api_router.get("/complaints/figures", summary="诉求统计（按部门、类别）")
def figures_api(session: DbSession, clock: ClockDep, auth: CurrentAuth, date_from: Short = "", date_to: Short = "",
                by: Annotated[str, Query(max_length=30)] = "department") -> dict[str, Any]:
    """受理率, 响应率, 按时办结率, 答复率, 满意率, 重办率 and the counts per group, with the total."""
    start, end = _range(clock, date_from, date_to)
    report = figures.figures(session, viewer=auth.viewer, date_from=start, date_to=end, now=clock.now(), by=by)
    return {"date_from": start, "date_to": end, "by": report.by, "groups": [g.as_dict() for g in report.groups],
            "total": report.total.as_dict()}


@api_router.get("/complaints/recurring", summary="未诉先办：反复出现的诉求")
def recurring_api(session: DbSession, clock: ClockDep, auth: CurrentAuth) -> dict[str, Any]:
    """The items, departments and keywords that keep coming back: the last 30 days against the 30 before."""
    found = figures.recurring_subjects(session, viewer=auth.viewer, today=today(clock))
    r = found.insight

    def trends(items: list[Any]) -> list[dict[str, Any]]:
        return [{"key": t.key, "name": found.item_names.get(t.key, t.key), "current": t.current,
                 "previous": t.previous, "change": t.change, "examples": list(t.examples)} for t in items]

    return {"current": {"from": r.current_from, "to": r.current_to, "orders": r.orders_current},
            "previous": {"from": r.previous_from, "to": r.previous_to, "orders": r.orders_previous},
            "items": trends(r.items), "departments": trends(r.departments), "keywords": trends(r.keywords),
            "capped": found.capped}
