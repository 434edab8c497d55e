"""Holiday calendar admin page (/admin/calendar): a year's special days, overrides, official notices.

Thin edge over ``calendar.service``: every write (``set_override``, ``delete_override``,
``import_notice``) is audited there and notifies the calendar listeners (due dates of open cases)
in the same transaction. Admins edit; 首席代表 and 电子监察 only look; other roles get 403.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData, UploadFile

from onewindow.calendar import service
from onewindow.calendar.workdays import YearSource
from onewindow.core.access import Action
from onewindow.core.errors import Problem, ValidationFailed
from onewindow.deps import Auth, ClockDep, CurrentAuth, DbSession
from onewindow.web import FormDep, form_text, render

router = APIRouter(prefix="/admin/calendar", include_in_schema=False)

MAX_NOTICE_BYTES = 512 * 1024  # a year's notice is a few dozen rows
WEEKDAYS = "一二三四五六日"
SOURCE_LABELS = {
    YearSource.NOTICE: "正式：已导入国务院办公厅通知",
    YearSource.OFFICIAL: "正式：内置官方节假日表",
    YearSource.PROVISIONAL: "临时：仅按周末和法定节日推算，无调休上班日，请导入正式通知",
}
FIELD_LABELS = {"day_date": "日期", "kind": "类型", "name": "名称", "file": "通知文件", "year": "年份",
                "title": "通知标题", "csrf_token": "安全令牌"}


def _label(p: Problem) -> str:
    if p.field.startswith("row "):
        return f"第 {p.field.removeprefix('row ')} 行"
    return FIELD_LABELS.get(p.field, p.field)


def _render(request: Request, session: Session, auth: Auth, year: int, *, status_code: int = 200,
            problems: list[Problem] | None = None, override: dict[str, str] | None = None,
            notice_form: dict[str, str] | None = None, done: str = "") -> Response:
    calendar = service.build_calendar(session)
    source = calendar.year_source(year)
    notice = next((n for n in service.list_notices(session) if n.year == year), None)
    days = [{"date": d.day_date, "weekday": WEEKDAYS[d.day_date.weekday()], "workday": d.workday,
             "name": d.name, "provisional": d.provisional, "overridden": d.overridden}
            for d in calendar.special_days(year)]
    messages = {"set": "已保存节假日调整。", "deleted": "已删除节假日调整，该日恢复为默认安排。"}
    return render(request, "admin/calendar.html", {
        "year": year, "source": source, "source_label": SOURCE_LABELS[source],
        "provisional": source is YearSource.PROVISIONAL, "notice": notice, "days": days,
        "can_edit": auth.can(Action.CALENDAR_EDIT), "problems": problems or [],
        "label": _label, "override": override or {"day_date": "", "kind": "holiday", "name": ""},
        "notice_form": notice_form or {"year": str(year), "title": ""},
        "done": messages.get(done) or _imported_message(done),
    }, auth=auth, status_code=status_code)


def _imported_message(done: str) -> str | None:
    if not done.startswith("imported-"):
        return None
    parts = done.split("-")
    if len(parts) != 3 or not all(p.isdigit() for p in parts[1:]):
        return None
    return f"已导入正式通知：放假 {parts[1]} 天，调休上班 {parts[2]} 天。"


@router.get("", response_class=HTMLResponse)
def calendar_page(request: Request, auth: CurrentAuth, session: DbSession, clock: ClockDep,
                  year: Annotated[int | None, Query(ge=service.YEAR_MIN, le=service.YEAR_MAX)] = None,
                  done: Annotated[str, Query(max_length=40)] = "") -> Response:
    """A year's holidays and make-up working days, marked official or provisional, with the edit forms."""
    auth.require(Action.CATALOG_VIEW_ADMIN)
    return _render(request, session, auth, year or clock.now().year, done=done)


def _parse_date(raw: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        return None


def _year_of(form: FormData, fallback: int) -> int:
    raw = form_text(form, "year")
    return int(raw) if raw.isdigit() and service.YEAR_MIN <= int(raw) <= service.YEAR_MAX else fallback


@router.post("/overrides", response_class=HTMLResponse)
def add_override(request: Request, auth: CurrentAuth, session: DbSession, clock: ClockDep, posted: FormDep
                 ) -> Response:
    """Make one date a holiday or a make-up working day."""
    auth.require(Action.CALENDAR_EDIT)
    values = {k: form_text(posted, k) for k in ("day_date", "kind", "name")}
    day = _parse_date(values["day_date"])
    year = day.year if day else _year_of(posted, clock.now().year)
    if day is None:
        problem = Problem("day_date", "invalid_date", "请填写有效日期（YYYY-MM-DD）")
        return _render(request, session, auth, year, status_code=422, problems=[problem], override=values)
    try:
        service.set_override(session, clock=clock, actor=auth.actor, day_date=day, kind=values["kind"],
                             name=values["name"])
    except ValidationFailed as exc:
        session.rollback()
        return _render(request, session, auth, year, status_code=422, problems=exc.problems, override=values)
    return RedirectResponse(f"/admin/calendar?year={day.year}&done=set", status_code=303)


@router.post("/overrides/{day_date}/delete")
def remove_override(day_date: dt.date, auth: CurrentAuth, session: DbSession, clock: ClockDep) -> Response:
    """Remove a date's override (404 when there is none)."""
    auth.require(Action.CALENDAR_EDIT)
    service.delete_override(session, clock=clock, actor=auth.actor, day_date=day_date)
    return RedirectResponse(f"/admin/calendar?year={day_date.year}&done=deleted", status_code=303)


def _read_upload(upload: UploadFile, data: bytes) -> service.NoticeFile:
    """Parse the uploaded bytes through the service's file reader (one place decodes CSV/JSON)."""
    suffix = Path(upload.filename or "").suffix.lower()
    if suffix not in {".csv", ".json"}:
        raise ValidationFailed([Problem("file", "bad_file_type", "请上传 .csv 或 .json 文件")])
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"notice{suffix}"
        path.write_bytes(data)
        return service.read_notice_file(path)


@router.post("/notice", response_class=HTMLResponse)
def upload_notice(request: Request, auth: CurrentAuth, session: DbSession, clock: ClockDep,
                        posted: FormDep) -> Response:
    """Load a year's official notice from a CSV or JSON file (replaces that year's days)."""
    auth.require(Action.CALENDAR_EDIT)
    values = {"year": form_text(posted, "year"), "title": form_text(posted, "title")}
    shown_year = _year_of(posted, clock.now().year)
    upload = posted.get("file")
    data = upload.file.read(MAX_NOTICE_BYTES + 1) if isinstance(upload, UploadFile) else b""
    problems: list[Problem] = []
    if not isinstance(upload, UploadFile) or not data:
        problems.append(Problem("file", "file_required", "请选择通知文件（CSV 或 JSON）"))
    elif len(data) > MAX_NOTICE_BYTES:
        problems.append(Problem("file", "file_too_large", "文件过大（不超过 512 KB）"))
    if values["year"] and not values["year"].isdigit():
        problems.append(Problem("year", "invalid_year", "年份应为四位数字"))
    if problems or not isinstance(upload, UploadFile):
        return _render(request, session, auth, shown_year, status_code=422, problems=problems, notice_form=values)
    try:
        parsed = _read_upload(upload, data)
        year = int(values["year"]) if values["year"] else parsed.year
        if year is not None and parsed.year is not None and year != parsed.year:
            raise ValidationFailed([Problem("year", "year_mismatch",
                                            f"填写的年份 {year} 与文件中的年份 {parsed.year} 不一致")])
        if year is None:
            raise ValidationFailed([Problem("year", "year_required", "请填写年份（CSV 文件中没有年份）")])
        title = values["title"] or parsed.title or ""
        result = service.import_notice(session, clock=clock, actor=auth.actor, year=year, title=title,
                                       rows=parsed.rows)
    except ValidationFailed as exc:
        session.rollback()
        return _render(request, session, auth, shown_year, status_code=422, problems=exc.problems,
                       notice_form=values)
    return RedirectResponse(f"/admin/calendar?year={year}&done=imported-{result.holidays}-{result.workdays}",
                            status_code=303)
