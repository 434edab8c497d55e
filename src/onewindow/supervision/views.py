"""Staff pages of 电子监察: the alert inbox (filters by state, rule, level and department; counts per state, rule
and level) and the alert page (evidence, the subject's page, the acknowledge and 督办 forms the viewer may use).

Thin edges: parse the query or the form, call ``supervision.service``, render or redirect (303). A refused write
(422, 409) runs in a savepoint and re-renders the page with the reasons.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from onewindow.core.clock import CHINA_TZ, today
from onewindow.core.errors import Conflict, DomainError, Problem, ValidationFailed
from onewindow.deps import Auth, ClockDep, CurrentAuth, DbSession
from onewindow.supervision import service
from onewindow.supervision.models import SupervisionAlert
from onewindow.supervision.rules import AlertState, Level, registered, rule_label
from onewindow.web import FormDep, form_text, render

router = APIRouter(include_in_schema=False)

PAGE = 50
NOTICES = {"acknowledge": "已签收，说明已记录。", "supervise": "已督办，已通知责任部门首席代表。"}
STATE_FILTERS = [("live", "未关闭"), *[(s.value, s.label) for s in AlertState], ("", "全部")]
# the evidence keys the rules write, in Chinese (unknown keys are shown as they are)
EVIDENCE_LABELS = {
    "case_number": "办件编号", "item": "事项", "accepted_on": "受理日期", "promised_due": "承诺办结期限",
    "legal_due": "法定办结期限", "working_days_late": "超期工作日", "step": "环节", "position": "环节序号",
    "steps": "环节数", "started_on": "环节开始日期", "step_limit_working_days": "本环节时限（工作日）",
    "step_due": "本环节应完成日期", "case_promised_due": "办件承诺期限", "case_warning": "办件预警状态",
    "deferral_due": "容缺补齐期限", "working_days_left": "剩余工作日", "hall": "大厅", "ticket": "号码",
    "category": "业务类别", "waited_min": "已等候（分钟）", "threshold_min": "阈值（分钟）", "queued_at": "排队时间",
    "issued_at": "取号时间", "waiting": "等候人数", "threshold": "阈值", "windows": "暂停或无人的可办窗口",
    "window": "窗口", "clerk": "工作人员", "idle_min": "未叫号（分钟）", "since": "自", "opening": "办公时段",
    "window_status": "窗口状态", "minutes_since_opening": "开门后（分钟）", "order": "工单编号", "title": "标题",
    "due_on": "整改期限", "due": "期限", "from": "来源",
}


def fmt_time(at: dt.datetime | None) -> str:
    """A stored instant as China time, to the minute."""
    return at.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M") if at else ""


def evidence_value(value: Any) -> str:
    """An evidence value as text (lists of windows joined)."""
    if isinstance(value, list):
        return "；".join("、".join(f"{v}" for v in item.values()) if isinstance(item, dict) else str(item)
                        for item in value)
    if value is None:
        return "—"
    return str(value)


GLOBALS: dict[str, Any] = {
    "fmt_time": fmt_time, "rule_label": rule_label, "evidence_value": evidence_value,
    "EVIDENCE_LABELS": EVIDENCE_LABELS, "STATE_LABELS": {s.value: s.label for s in AlertState},
    "LEVEL_LABELS_ALERT": {lv.value: lv.label for lv in Level}, "section": "supervision-alerts",
}


def _page(request: Request, template: str, context: dict[str, Any], auth: Auth, *, status_code: int = 200) -> Response:
    return render(request, template, {**GLOBALS, **context}, auth=auth, status_code=status_code)


@router.get("/supervision/alerts", response_class=HTMLResponse)
def inbox(request: Request, auth: CurrentAuth, session: DbSession, clock: ClockDep,
          state: Annotated[str, Query(max_length=12)] = "live",
          rule: Annotated[str, Query(max_length=32)] = "",
          level: Annotated[str, Query(max_length=8)] = "",
          department: Annotated[str, Query(max_length=10)] = "",
          offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> Response:
    """电子监察预警: the alerts within the viewer's reach, filtered, with counts."""
    department_id = int(department) if department.isdigit() else None
    filters = service.Filters(state=state, rule=rule, level=level, department_id=department_id)
    alerts = service.list_alerts(session, viewer=auth.user, filters=filters, limit=PAGE, offset=offset)
    return _page(request, "supervision/alerts.html", {
        "alerts": alerts, "counts": service.counts(session, viewer=auth.user, filters=filters),
        "rules": registered(), "departments": service.filter_departments(session, viewer=auth.user),
        "state": state, "rule": rule, "level": level, "department": department_id, "offset": offset,
        "page_size": PAGE, "states": STATE_FILTERS, "today": today(clock),
        "overdue": lambda a: service.overdue_supervision(a, today(clock))}, auth)


def _render_alert(request: Request, session: Session, auth: Auth, alert: SupervisionAlert, on: dt.date, *,
                  notice: str = "", errors: DomainError | None = None, form: str = "",
                  values: Any = None) -> Response:
    problems = (errors.problems if isinstance(errors, ValidationFailed)
                else [Problem(errors.field or "", errors.code, errors.message)] if errors else [])
    return _page(request, "supervision/alert.html", {
        "alert": alert, "actions": service.allowed(auth.user, alert), "notice": notice, "problems": problems,
        "error_form": form, "values": values, "today": on,
        "supervision_overdue": service.overdue_supervision(alert, on)},
        auth, status_code=errors.status if errors else 200)


@router.get("/supervision/alerts/{alert_id}", response_class=HTMLResponse)
def alert_page(request: Request, alert_id: int, auth: CurrentAuth, session: DbSession, clock: ClockDep,
               done: Annotated[str, Query(max_length=20)] = "") -> Response:
    """One alert: its evidence, the subject's page, and the forms the viewer may use now."""
    alert = service.get_alert(session, viewer=auth.user, alert_id=alert_id)
    return _render_alert(request, session, auth, alert, today(clock), notice=NOTICES.get(done, ""))


@router.get("/supervision/windows", response_class=HTMLResponse)
def duty_page(request: Request, auth: CurrentAuth, session: DbSession,
              done: Annotated[str, Query(max_length=10)] = "") -> Response:
    """在岗安排: the clerk scheduled at each window (the 人员离岗 rule expects them there in opening hours)."""
    rows, staff = service.duty_board(session, viewer=auth.user)
    return _page(request, "supervision/windows.html", {
        "rows": rows, "staff": staff, "notice": "在岗安排已保存。" if done == "duty" else ""}, auth)


@router.post("/supervision/windows/{window_id}/duty", response_class=HTMLResponse)
def duty_save(window_id: int, auth: CurrentAuth, session: DbSession, clock: ClockDep, posted: FormDep) -> Response:
    """Schedule the chosen clerk (or nobody) at the window; 303 back to the schedule."""
    raw = form_text(posted, "clerk_id")
    if raw and not (raw.isdigit() and len(raw) < 10):
        raise ValidationFailed([Problem("clerk_id", "clerk_invalid", "请选择窗口人员")])
    service.set_duty(session, clock=clock, user=auth.user, window_id=window_id, clerk_id=int(raw) if raw else None)
    return RedirectResponse("/supervision/windows?done=duty", status_code=303)


@router.post("/supervision/alerts/{alert_id}/{action}", response_class=HTMLResponse)
def alert_action(request: Request, alert_id: int, action: str, auth: CurrentAuth, session: DbSession,
                 clock: ClockDep, posted: FormDep) -> Response:
    """签收 or 督办 from the alert page; 303 back, or the page again with the reasons."""
    if action not in NOTICES:
        raise DomainError(code="not_found", message="页面或资源不存在", status=404)
    alert = service.get_alert(session, viewer=auth.user, alert_id=alert_id)
    raw_version = form_text(posted, "version")
    try:
        with session.begin_nested():
            if not raw_version.isdigit() or len(raw_version) > 9:
                raise ValidationFailed([Problem("version", "version_required", "页面缺少版本号，请刷新后重试")])
            common: dict[str, Any] = {"clock": clock, "user": auth.user, "alert_id": alert_id,
                                      "expected_version": int(raw_version), "note": form_text(posted, "note")}
            if action == "acknowledge":
                service.acknowledge(session, **common)
            else:
                service.supervise(session, due=_date(form_text(posted, "due")), **common)
    except (ValidationFailed, Conflict) as exc:
        session.expire_all()
        alert = service.get_alert(session, viewer=auth.user, alert_id=alert_id)
        return _render_alert(request, session, auth, alert, today(clock), errors=exc, form=action, values=posted)
    return RedirectResponse(f"/supervision/alerts/{alert_id}?done={action}", status_code=303)


def _date(raw: str) -> dt.date | None:
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise ValidationFailed([Problem("due", "due_invalid", "督办期限应为日期（YYYY-MM-DD）")]) from None
