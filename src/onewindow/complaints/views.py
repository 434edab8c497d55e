"""有诉即办 pages: the window (a clerk files while the citizen is there), the department's inbox (by limit, with
colours; sign, return, reply), the center's dispatch board, the list, the order page with one form per action the
user may take now; and the public side: the filing page (phone-friendly, real-name or anonymous, rate-limited,
with its QR code) and tracking by code.

Thin edges: parse the form, call ``complaints.service``, render or redirect (303). A refused write (422, 409) runs
in a savepoint, so it leaves nothing behind while the page is re-rendered with the reasons. Which forms the order
page offers comes from :data:`onewindow.complaints.actions.ACTIONS`; the service checks everything again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import replace
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from onewindow.complaints import actions as complaint_actions
from onewindow.complaints import api as complaints_api
from onewindow.complaints import rules, service
from onewindow.complaints.models import Complaint
from onewindow.complaints.states import (
    CATEGORY_LABELS,
    CHANNEL_LABELS,
    AssignmentRole,
    Category,
    Channel,
    ComplaintState,
    Verdict,
)
from onewindow.core.access import Action, Field
from onewindow.core.clock import CHINA_TZ, Clock
from onewindow.core.errors import Conflict, DomainError, Problem, ValidationFailed
from onewindow.core.personal import Personal
from onewindow.core.qr import qr_svg
from onewindow.deps import (
    CSRF_COOKIE,
    Auth,
    ClockDep,
    CurrentAuth,
    DbSession,
    LookupGuardDep,
    OptionalAuth,
    check_csrf,
)
from onewindow.staff.models import User
from onewindow.web import FormDep, form_text, render

router = APIRouter(include_in_schema=False)

PAGE = 50
NOTICES = {
    "filed": "诉求已受理。", "dispatch": "已派单。", "decide": "已裁定，由原部门继续办理。", "sign": "已签收。",
    "return": "已退单，等待中心改派。", "reply": "已答复诉求人。", "callback": "回访意见已记录。",
    "merge": "已合并到另一张工单。", "supervise": "督办期限已设定。",
}
EVENT_LABELS = {
    "accepted": "受理", "answered_on_spot": "窗口当场答复", "dispatched": "派单", "redispatched": "改派",
    "signed": "签收", "returned": "退单", "dispute_decided": "裁定退单争议", "replied": "答复", "urged": "超期催办",
    "reopened": "回访不满意，重办", "closed": "回访后办结归档", "merged": "合并到其他工单",
    "merged_in": "合并重复诉求", "supervised": "督办",
}
VERDICT_LABELS = {v.value: v.label for v in Verdict}
ASSIGNMENT_ROLE_LABELS = {r.value: r.label for r in AssignmentRole}  # not ROLE_LABELS: base.html names the user's role


def state_label(state: str) -> str:
    """The Chinese name of an order state."""
    try:
        return ComplaintState(state).label
    except ValueError:
        return state


def fmt_time(at: dt.datetime | None) -> str:
    """A stored instant as China time, to the minute."""
    return at.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M") if at else ""


GLOBALS: dict[str, Any] = {
    "state_label": state_label, "fmt_time": fmt_time, "EVENT_LABELS": EVENT_LABELS,
    "VERDICT_LABELS": VERDICT_LABELS, "ASSIGNMENT_ROLE_LABELS": ASSIGNMENT_ROLE_LABELS, "STATES": list(ComplaintState),
    "CATEGORIES": list(Category), "CATEGORY_LABELS": {c.value: label for c, label in CATEGORY_LABELS.items()},
    "CHANNEL_LABELS": {c.value: label for c, label in CHANNEL_LABELS.items()},
    "COLOUR_LABELS": rules.COLOUR_LABELS, "colour": rules.colour,
}


def _page(request: Request, template: str, context: dict[str, Any], auth: Auth | None, *, section: str = "complaints",
          status_code: int = 200) -> Response:
    return render(request, template, {**GLOBALS, "section": section, **context}, auth=auth, status_code=status_code)


def _now(request: Request) -> dt.datetime:
    clock: Clock = request.app.state.clock
    return clock.now()


def _data(form: FormData, user_id: int | None = None) -> service.ComplaintIn:
    text: Callable[[str], str] = lambda key: form_text(form, key)  # noqa: E731
    hall = text("hall_id")
    return service.ComplaintIn(
        category=text("category"), subject=text("subject"), content=text("content"), urgent=text("urgent") == "1",
        item_code=text("item_code"), hall_id=int(hall) if hall.isdigit() and len(hall) < 10 else None,
        complainant_name=text("complainant_name"), complainant_phone=text("complainant_phone"),
        complainant_id_number=text("complainant_id_number"), anonymous=text("anonymous") == "1",
        complainant_user_id=user_id)


# ----- the 有诉即办 window ------------------------------------------------------------------------------------------


def _window(request: Request, session: Session, auth: Auth, *, errors: DomainError | None = None,
            values: FormData | None = None) -> Response:
    auth.require(Action.COMPLAINT_FILE)
    recent = service.list_complaints(session, viewer=auth.user, filters=service.Filters(channel=Channel.WINDOW),
                                     limit=20)
    return _page(request, "complaints/window.html", {
        "recent": recent, "halls": service.halls(session),
        "problems": list(errors.problems) if errors else [], "values": values,
    }, auth, section="complaints-window", status_code=errors.status if errors else 200)


@router.get("/complaints/window", response_class=HTMLResponse)
def window_page(request: Request, auth: CurrentAuth, session: DbSession) -> Response:
    """有诉即办窗口: the filing form and the orders filed at the window lately."""
    return _window(request, session, auth)


@router.post("/complaints/window", response_class=HTMLResponse)
def window_file(request: Request, auth: CurrentAuth, session: DbSession, clock: ClockDep,
                posted: FormDep) -> Response:
    """File at the window (a 咨询 may be answered on the spot); 303 to the new order, or the form with reasons."""
    try:
        with session.begin_nested():
            c = service.file_complaint(session, clock=clock, user=auth.user, channel=Channel.WINDOW,
                                       data=_data(posted), answer=form_text(posted, "answer"))
    except ValidationFailed as exc:
        return _window(request, session, auth, errors=exc, values=posted)
    return RedirectResponse(f"/complaints/{c.id}?done=filed", status_code=303)


# ----- the department's inbox, the dispatcher's board, the list ------------------------------------------------------


@router.get("/complaints/inbox", response_class=HTMLResponse)
def inbox_page(request: Request, auth: CurrentAuth, session: DbSession) -> Response:
    """诉求待办: the department's orders to sign or handle, the earliest limit first, coloured by time left."""
    rows = service.inbox(session, viewer=auth.user)
    return _page(request, "complaints/inbox.html", {"rows": rows, "now": _now(request)}, auth,
                 section="complaints-inbox")


@router.get("/complaints/dispatch", response_class=HTMLResponse)
def dispatch_page(request: Request, auth: CurrentAuth, session: DbSession) -> Response:
    """诉求派单: new and returned orders to dispatch or decide, replies to call back."""
    board = service.dispatch_board(session, viewer=auth.user)
    return _page(request, "complaints/dispatch.html", {
        "board": board, "now": _now(request), "departments": service.departments(session)}, auth,
        section="complaints-dispatch")


def _list_filters(state: str, category: str, overdue: str) -> service.Filters:
    try:
        states = (ComplaintState(state),) if state else ()
        chosen = Category(category) if category else None
    except ValueError:
        raise ValidationFailed([Problem("state", "filter_invalid", "没有这个状态或类别")]) from None
    return service.Filters(states=states, category=chosen, overdue={"1": True, "0": False}.get(overdue))


@router.get("/complaints", response_class=HTMLResponse)
def list_page(request: Request, auth: CurrentAuth, session: DbSession,
              state: Annotated[str, Query(max_length=20)] = "",
              category: Annotated[str, Query(max_length=20)] = "",
              overdue: Annotated[str, Query(max_length=1)] = "",
              offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> Response:
    """诉求工单: every order within the viewer's reach, filtered by state, category and overdue."""
    filters = _list_filters(state, category, overdue)
    found = service.list_complaints(session, viewer=auth.user, filters=filters, limit=PAGE, offset=offset)
    return _page(request, "complaints/list.html", {
        "complaints": found, "state": state, "category": category, "overdue": overdue, "offset": offset,
        "page_size": PAGE}, auth)


# ----- one order ---------------------------------------------------------------------------------------------------


def _render(request: Request, session: Session, auth: Auth, c: Complaint, *, notice: str = "",
            errors: DomainError | None = None, form: str = "", values: FormData | None = None) -> Response:
    allowed = complaint_actions.allowed_actions(session, auth.user, c)
    record = service.record_of(session, c)
    merged_into = session.get(Complaint, c.merged_into_id) if c.merged_into_id else None
    return _page(request, "complaints/complaint.html", {
        "c": c, "timeline": service.timeline(session, c), "assignments": service.assignments(session, c),
        "actions": allowed, "action_labels": {k: a.label for k, a in complaint_actions.ACTIONS.items()},
        # the departments handling it call the citizen: the access policy decides who sees the numbers whole
        "phone": Personal(c.complainant_phone, Field.PHONE, record),
        "id_number": Personal(c.complainant_id_number, Field.ID_NUMBER, record),
        "departments": service.departments(session) if "dispatch" in allowed else [],
        "duplicates": service.duplicates(session, c) if "merge" in allowed else [],
        "merged_into": merged_into, "now": _now(request),
        "notice": notice, "problems": list(errors.problems) if errors else [], "error_form": form,
        "values": values,
    }, auth, status_code=errors.status if errors else 200)


@router.get("/complaints/{complaint_id}", response_class=HTMLResponse)
def complaint_page(request: Request, complaint_id: int, auth: CurrentAuth, session: DbSession,
                   done: Annotated[str, Query(max_length=20)] = "") -> Response:
    """One order: the matter, the citizen, the limit, the assignments, the reply, the timeline, action forms."""
    c = service.get_complaint(session, complaint_id)
    service.require_view(session, auth.user, c)
    return _render(request, session, auth, c, notice=NOTICES.get(done, ""))


def _version(form: FormData) -> int:
    raw = form_text(form, "version")
    if not raw.isdigit() or len(raw) > 9:
        raise ValidationFailed([Problem("version", "version_required", "页面缺少版本号，请刷新后重试")])
    return int(raw)


def _int(form: FormData, key: str) -> int | None:
    raw = form_text(form, key)
    return int(raw) if raw.isdigit() and len(raw) < 10 else None


def _date(form: FormData, key: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(form_text(form, key))
    except ValueError:
        return None


def _run(session: Session, clock: Clock, user: User, complaint_id: int, action: str, form: FormData) -> None:
    """Apply one posted action through the service."""
    common: dict[str, Any] = {"clock": clock, "user": user, "complaint_id": complaint_id,
                              "expected_version": _version(form)}
    text: Callable[[str], str] = lambda key: form_text(form, key)  # noqa: E731
    match action:
        case "dispatch":
            assists = [int(v) for v in form.getlist("assist_department_ids") if isinstance(v, str) and v.isdigit()
                       and len(v) < 10]
            service.dispatch(session, lead_department_id=_int(form, "lead_department_id"),
                             assist_department_ids=assists, note=text("note"), **common)
        case "decide":
            service.decide_dispute(session, note=text("note"), **common)
        case "sign":
            service.sign(session, **common)
        case "return":
            service.return_order(session, reason=text("reason"), **common)
        case "reply":
            service.reply(session, text=text("reply"), **common)
        case "callback":
            service.record_callback(session, verdict=text("verdict"), note=text("note"),
                                    reopen=text("reopen") != "0", **common)
        case "merge":
            into = _int(form, "into_id")
            if into is None:
                raise ValidationFailed([Problem("into_id", "into_required", "请选择要合并到的工单")])
            service.merge(session, into_id=into, note=text("note"), **common)
        case "supervise":
            service.supervise(session, due_on=_date(form, "due_on"), note=text("note"), **common)


@router.post("/complaints/{complaint_id}/{action}", response_class=HTMLResponse)
def complaint_action(request: Request, complaint_id: int, action: str, auth: CurrentAuth, session: DbSession,
                     clock: ClockDep, posted: FormDep) -> Response:
    """One action form of the order page; 303 back to the order (the inbox after a return), or the page again."""
    if action not in complaint_actions.ACTIONS:
        raise DomainError(code="not_found", message="页面或资源不存在", status=404)
    c = service.get_complaint(session, complaint_id)
    service.require_view(session, auth.user, c)
    try:
        with session.begin_nested():
            _run(session, clock, auth.user, complaint_id, action, posted)
    except (ValidationFailed, Conflict) as exc:
        session.expire_all()
        c = service.get_complaint(session, complaint_id)
        return _render(request, session, auth, c, errors=exc, form=action, values=posted)
    if action == "return":  # the department no longer sees it once returned
        return RedirectResponse("/complaints/inbox", status_code=303)
    return RedirectResponse(f"/complaints/{complaint_id}?done={action}", status_code=303)


# ----- public: filing and tracking ----------------------------------------------------------------------------------


async def _public_csrf(request: Request, auth: OptionalAuth) -> Auth | None:
    """Anonymous posts echo the pre-login CSRF cookie (signed-in callers were checked with their session)."""
    if auth is None:
        await check_csrf(request, request.cookies.get(CSRF_COOKIE))
    return auth


PublicAuth = Annotated[Auth | None, Depends(_public_csrf)]


def _public_form(request: Request, session: Session, auth: Auth | None, *, hall: str = "",
                 errors: DomainError | None = None, values: FormData | None = None) -> Response:
    base = request.app.state.settings.base_url.rstrip("/")
    found = service.hall_by_code(session, hall)
    target = f"{base}/complaint" + (f"?hall={quote(found.code)}" if found else "")
    return _page(request, "complaints/public/file.html", {
        "problems": list(errors.problems) if errors else [], "values": values, "hall": found,
        "qr": qr_svg(target, title="扫码反映诉求")}, auth, section="",
        status_code=errors.status if errors else 200)


@router.get("/complaint", response_class=HTMLResponse)
def public_form(request: Request, auth: OptionalAuth, session: DbSession,
                hall: Annotated[str, Query(max_length=30)] = "") -> Response:
    """有诉即办 online: file a request or complaint from a phone (real-name or anonymous); ``hall`` (from the QR
    code posted in a county or town center) records where."""
    return _public_form(request, session, auth, hall=hall)


@router.post("/complaint", response_class=HTMLResponse)
def public_file(request: Request, auth: PublicAuth, session: DbSession, clock: ClockDep,
                posted: FormDep) -> Response:
    """File online (rate-limited per client); the page then shows the number and the tracking code."""
    limiter, key = complaints_api.check_filing_rate(request)
    hall = service.hall_by_code(session, form_text(posted, "hall"))
    try:
        with session.begin_nested():
            data = replace(_data(posted), hall_id=hall.id if hall else None)
            c = service.file_complaint(session, clock=clock, channel=Channel.ONLINE, data=data)
    except ValidationFailed as exc:
        return _public_form(request, session, auth, hall=form_text(posted, "hall"), errors=exc, values=posted)
    limiter.failed(key)
    return _page(request, "complaints/public/filed.html", {"c": c}, auth, section="")


@router.get("/complaint/qr.svg")
def public_qr(request: Request, session: DbSession, hall: Annotated[str, Query(max_length=30)] = "") -> Response:
    """The QR code of the public filing page, of one hall when ``hall`` names it (posters in each center)."""
    base = request.app.state.settings.base_url.rstrip("/")
    found = service.hall_by_code(session, hall)
    target = f"{base}/complaint" + (f"?hall={quote(found.code)}" if found else "")
    return Response(qr_svg(target, scale=6, title="扫码反映诉求"), media_type="image/svg+xml")


@router.get("/complaint/track", response_class=HTMLResponse)
def public_track(request: Request, auth: OptionalAuth, session: DbSession, guard: LookupGuardDep,
                 code: Annotated[str, Query(max_length=20)] = "") -> Response:
    """Tracking by code: state, department and reply, nothing personal; unknown codes count as failures."""
    found = None
    missing = False
    if code:
        guard.check()
        found = service.track(session, code)
        if found is None:
            guard.failed()
            missing = True
    return _page(request, "complaints/public/track.html", {"code": code, "found": found, "missing": missing}, auth,
                 section="", status_code=404 if missing else 200)
