"""体验员 pages: the experiencer's own page (file a report with photos, follow every report), a report's page (with
the supervisor's 研判 form), its photos, and the center's page (registry, reports, figures).

Thin edges: parse the form, call ``supervision.experiencers`` (which authorises and validates everything before
writing), render or redirect (303). A refused write runs in a savepoint and the page comes back with the reasons.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData, UploadFile

from onewindow.catalog.models import Department, Hall
from onewindow.core import access
from onewindow.core.access import Action
from onewindow.core.errors import Conflict, DomainError, PermissionDenied, Problem, ValidationFailed
from onewindow.deps import Auth, ClockDep, CurrentAuth, DbSession, SettingsDep
from onewindow.rectification import service as rectification
from onewindow.rectification.states import OrderState, SourceKind, Verdict
from onewindow.supervision import experiencers as service
from onewindow.supervision.experiencer_models import ExperienceReport
from onewindow.supervision.experiencer_rules import CATEGORY_LABELS, MODE_LABELS, Category, Mode, ReportState
from onewindow.web import FormDep, fmt_time, form_text, render

router = APIRouter(include_in_schema=False)

NOTICES = {"filed": "体验报告已提交，中心研判后将告知您办理结果。", "assigned": "已交办责任部门整改。",
           "dismissed": "已记录不予交办的理由。", "registered": "体验员已登记。"}
GLOBALS: dict[str, Any] = {
    "MODES": list(Mode), "CATEGORIES": list(Category), "STATES": list(ReportState),
    "MODE_LABELS": {m.value: label for m, label in MODE_LABELS.items()},
    "CATEGORY_LABELS": {c.value: label for c, label in CATEGORY_LABELS.items()},
    "STATE_LABELS": {s.value: s.label for s in ReportState},
    "ORDER_STATE_LABELS": {s.value: s.label for s in OrderState},
    "VERDICT_LABELS": {v.value: v.label for v in Verdict}, "fmt_time": fmt_time,
}


def _page(request: Request, template: str, context: dict[str, Any], auth: Auth, *, status_code: int = 200,
          section: str = "experience") -> Response:
    return render(request, template, {**GLOBALS, "section": section, **context}, auth=auth, status_code=status_code)


def _date(raw: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def _halls(session: Session) -> list[Hall]:
    return list(session.scalars(select(Hall).order_by(Hall.id)))


def _orders(session: Session, reports: list[ExperienceReport]) -> dict[int, Any]:
    return rectification.orders_for(session, SourceKind.EXPERIENCE, [r.id for r in reports])


# ----- the experiencer ---------------------------------------------------------------------------------------


def _home(request: Request, session: Session, auth: Auth, *, notice: str = "", errors: DomainError | None = None,
          values: FormData | None = None) -> Response:
    auth.require(Action.EXPERIENCE_FILE)
    reports = service.list_reports(session, viewer=auth.user, limit=200)
    return _page(request, "supervision/experiencer_home.html", {
        "me": service.experiencer_of(session, auth.user), "reports": reports, "orders": _orders(session, reports),
        "halls": _halls(session), "notice": notice, "problems": list(errors.problems) if errors else [],
        "values": values, "today": request.app.state.clock.now().date()},
        auth, status_code=errors.status if errors else 200, section="my-experience")


@router.get("/experience", response_class=HTMLResponse)
def home(request: Request, auth: CurrentAuth, session: DbSession,
         done: Annotated[str, Query(max_length=20)] = "") -> Response:
    """The experiencer's landing page: the report form and every report with what became of it."""
    return _home(request, session, auth, notice=NOTICES.get(done, ""))


def _photos(form: FormData) -> list[UploadFile]:
    return [v for v in form.getlist("photos") if isinstance(v, UploadFile) and v.filename]


@router.post("/experience/reports", response_class=HTMLResponse)
def file_report(request: Request, auth: CurrentAuth, session: DbSession, clock: ClockDep, settings: SettingsDep,
                posted: FormDep) -> Response:
    """File a report (multipart, photos checked by their bytes); 303 to the report, or the form with the reasons."""
    # one past the limit is read, enough to refuse too many; each file one byte past the size limit at most
    chosen = _photos(posted)[:settings.experience_max_photos + 1]
    photos = [service.Photo(f.filename or "", f.file.read(settings.upload_max_bytes + 1)) for f in chosen]
    try:
        with session.begin_nested():
            report = service.file_report(
                session, clock=clock, settings=settings, user=auth.user, mode=form_text(posted, "mode"),
                hall_code=form_text(posted, "hall"), item_code=form_text(posted, "item_code"),
                visited_on=_date(form_text(posted, "visited_on")), title=form_text(posted, "title"),
                content=form_text(posted, "content"), photos=photos)
    except (ValidationFailed, Conflict) as exc:
        session.expire_all()
        return _home(request, session, auth, errors=exc, values=posted)
    return RedirectResponse(f"/experience/reports/{report.id}?done=filed", status_code=303)


def _render_report(request: Request, session: Session, auth: Auth, report: ExperienceReport, *, notice: str = "",
                   errors: DomainError | None = None) -> Response:
    order = rectification.orders_for(session, SourceKind.EXPERIENCE, [report.id]).get(report.id)
    judge = auth.can(Action.EXPERIENCE_JUDGE) and report.state == ReportState.SUBMITTED.value
    departments = list(session.scalars(select(Department).order_by(Department.id))) if judge else []
    return _page(request, "supervision/experiencer_report.html", {
        "report": report, "order": order, "photos": service.photos_of(session, [report.id])[report.id],
        "judge": judge, "departments": departments, "notice": notice,
        "order_link": order is not None and auth.can(Action.RECTIFICATION_VIEW, rectification.record_of(order)),
        "problems": list(errors.problems) if errors else []}, auth, status_code=errors.status if errors else 200)


@router.get("/experience/reports/{report_id}", response_class=HTMLResponse)
def report_page(request: Request, report_id: int, auth: CurrentAuth, session: DbSession,
                done: Annotated[str, Query(max_length=20)] = "") -> Response:
    """One report: what happened, photos, 研判, the work order's progress and outcome."""
    report = service.get_report(session, viewer=auth.user, report_id=report_id)
    return _render_report(request, session, auth, report, notice=NOTICES.get(done, ""))


@router.post("/experience/reports/{report_id}/judgement", response_class=HTMLResponse)
def judge(request: Request, report_id: int, auth: CurrentAuth, session: DbSession, clock: ClockDep,
          posted: FormDep) -> Response:
    """研判: assign to a department (a work order) or do not take it up."""
    report = service.get_report(session, viewer=auth.user, report_id=report_id)
    raw_department = form_text(posted, "department_id")
    assign = form_text(posted, "decision") == "assign"
    version = form_text(posted, "version")
    try:
        with session.begin_nested():
            report = service.judge(session, clock=clock, user=auth.user, report_id=report_id,
                                   expected_version=int(version) if version.isdigit() else None, assign=assign,
                                   note=form_text(posted, "note"),
                                   department_id=int(raw_department) if raw_department.isdigit() else None)
    except (ValidationFailed, Conflict) as exc:
        session.expire_all()
        report = service.get_report(session, viewer=auth.user, report_id=report_id)
        return _render_report(request, session, auth, report, errors=exc)
    return RedirectResponse(f"/experience/reports/{report_id}?done={report.state}", status_code=303)


@router.get("/experience/photos/{photo_id}")
def photo(photo_id: int, auth: CurrentAuth, session: DbSession, settings: SettingsDep) -> Response:
    """A report's photo, for whoever may see the report (served with its sniffed type, never as a page)."""
    found, path = service.photo_file(session, settings=settings, viewer=auth.user, photo_id=photo_id)
    return FileResponse(path, media_type=found.content_type, filename=found.filename,
                        headers={"X-Content-Type-Options": "nosniff"})


# ----- the center --------------------------------------------------------------------------------------------


def _center(request: Request, session: Session, auth: Auth, *, state: str = "", notice: str = "",
            errors: DomainError | None = None, values: FormData | None = None) -> Response:
    try:
        chosen = ReportState(state) if state else None
    except ValueError:
        raise ValidationFailed([Problem("state", "state_invalid", "没有这个报告状态")]) from None
    registry = service.list_experiencers(session, viewer=auth.user)
    reports = service.list_reports(session, viewer=auth.user, state=chosen, limit=100)
    return _page(request, "supervision/experiencer_center.html", {
        "registry": registry,
        "reports": reports, "orders": _orders(session, reports), "state": state,
        "by_experiencer": service.figures_by_experiencer(session, viewer=auth.user),
        "by_department": service.figures_by_department(session, viewer=auth.user),
        "notice": notice, "problems": list(errors.problems) if errors else [], "values": values},
        auth, status_code=errors.status if errors else 200)


@router.get("/supervision/experience", response_class=HTMLResponse)
def center(request: Request, auth: CurrentAuth, session: DbSession,
           state: Annotated[str, Query(max_length=20)] = "",
           done: Annotated[str, Query(max_length=20)] = "") -> Response:
    """The center's page: the experiencers, their reports (待研判 first to act on) and the figures."""
    if not access.can(auth.viewer, Action.EXPERIENCER_MANAGE):
        raise PermissionDenied("无权查看体验员管理页面")
    return _center(request, session, auth, state=state, notice=NOTICES.get(done, ""))


@router.post("/supervision/experience/experiencers", response_class=HTMLResponse)
def register(request: Request, auth: CurrentAuth, session: DbSession, clock: ClockDep, posted: FormDep) -> Response:
    """Register an experiencer (an existing experiencer account, or a new one with an initial password)."""
    try:
        with session.begin_nested():
            service.register(session, clock=clock, user=auth.user, username=form_text(posted, "username"),
                             name=form_text(posted, "name"), category=form_text(posted, "category"),
                             term_start=_date(form_text(posted, "term_start")),
                             term_end=_date(form_text(posted, "term_end")),
                             organisation=form_text(posted, "organisation"), phone=form_text(posted, "phone"),
                             password=form_text(posted, "password"))
    except (ValidationFailed, Conflict) as exc:
        session.expire_all()
        return _center(request, session, auth, errors=exc, values=posted)
    return RedirectResponse("/supervision/experience?done=registered", status_code=303)
