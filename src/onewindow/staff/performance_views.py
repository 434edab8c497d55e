"""Pages of the monthly performance ranking (绩效考核): the month's ranking of clerks, windows or departments with
its 服务明星 and 流动红旗, one score explained part by part, the department's attendance and performance report
(Excel), and recomputing a month.

Thin edges: the reads are ``staff.performance_service`` (narrowed by the access policy: the center sees everyone, a
department head their department, a clerk their own score), the computation is ``onewindow.performance_month``.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from onewindow import performance_month
from onewindow.core import access
from onewindow.core.access import Action
from onewindow.core.clock import today
from onewindow.core.errors import Problem, ValidationFailed
from onewindow.deps import ClockDep, CurrentAuth, DbSession
from onewindow.staff import performance_service as service
from onewindow.staff.performance import Award
from onewindow.staff.performance_service import SubjectKind
from onewindow.staff.service import actor_of
from onewindow.web import FormDep, form_text, render

router = APIRouter(include_in_schema=False)

AWARD_LABELS = {a.value: a.label for a in Award}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _kind(raw: str) -> SubjectKind:
    try:
        return SubjectKind(raw or SubjectKind.CLERK.value)
    except ValueError:
        raise ValidationFailed([Problem("kind", "kind_invalid", "排名对象应为窗口人员、窗口或部门")]) from None


def _month(raw: str, fallback: dt.date) -> dt.date:
    return service.parse_month(raw) if raw else fallback


def _pct(value: Any) -> str:
    return "—" if value is None else f"{float(value) * 100:.1f}%"


@router.get("/performance", response_class=HTMLResponse)
def ranking_page(request: Request, auth: CurrentAuth, session: DbSession, clock: ClockDep,
                 month: Annotated[str, Query(max_length=7)] = "",
                 kind: Annotated[str, Query(max_length=12)] = "") -> Response:
    """The month's ranking within the viewer's reach, with its awards and, for the center, every kind."""
    months = service.computed_months(session)
    chosen = _month(month, months[0] if months else service.previous_month(today(clock)))
    subject = _kind(kind)
    scores = service.list_scores(session, viewer=auth.user, month=chosen, kind=subject)
    record = service.get_month(session, chosen)
    viewer = auth.viewer
    return render(request, "staff/performance.html", {
        "section": "performance", "month": chosen, "months": months, "kind": subject.value,
        "kinds": list(SubjectKind), "scores": scores, "record": record,
        "awards": service.awards_of(session, chosen) if record else [], "AWARD_LABELS": AWARD_LABELS, "pct": _pct,
        "may_export": access.can(viewer, Action.PERFORMANCE_EXPORT),
        "may_compute": access.can(viewer, Action.PERFORMANCE_COMPUTE),
        "own_department": access.department_scoped(viewer, Action.PERFORMANCE_EXPORT),
    }, auth=auth)


@router.get("/performance/scores/{score_id}", response_class=HTMLResponse)
def score_page(request: Request, score_id: int, auth: CurrentAuth, session: DbSession) -> Response:
    """One score explained: each part's points, weight, share of the total and why."""
    score = service.get_score(session, score_id)
    service.require_view(auth.user, score)
    return render(request, "staff/performance_score.html", {
        "section": "performance", "score": score, "kind_label": SubjectKind(score.subject_kind).label,
        "AWARD_LABELS": AWARD_LABELS, "pct": _pct, "attendance": score.facts.get("attendance") or {},
    }, auth=auth)


@router.get("/performance/report.xlsx")
def report(auth: CurrentAuth, session: DbSession, clock: ClockDep, month: Annotated[str, Query(max_length=7)] = "",
           department: Annotated[int | None, Query(ge=1)] = None) -> Response:
    """The monthly attendance and performance report (Excel) of a department, or of the whole center."""
    chosen = _month(month, service.previous_month(today(clock)))
    dept = department or access.department_scoped(auth.viewer, Action.PERFORMANCE_EXPORT)
    if dept is not None:
        service.require_export(auth.user, dept)
    else:
        auth.require(Action.PERFORMANCE_EXPORT)  # the whole center: only for those who reach every department
    scores = service.list_scores(session, viewer=auth.user, month=chosen, kind=SubjectKind.CLERK,
                                 department_id=dept, action=Action.PERFORMANCE_EXPORT)
    name = next((s.subject_name for s in service.list_scores(
        session, viewer=auth.user, month=chosen, kind=SubjectKind.DEPARTMENT, department_id=dept,
        action=Action.PERFORMANCE_EXPORT)), "") if dept is not None else "全中心"
    title = f"{name}{chosen.year}年{chosen.month}月考勤与绩效月报"
    filename = f"performance-{chosen:%Y-%m}.xlsx"
    return Response(performance_month.report_workbook(scores, title=title), media_type=XLSX,
                    headers={"Content-Disposition": f"attachment; filename=\"{filename}\"; "
                                                    f"filename*=UTF-8''{quote(title)}.xlsx"})


@router.post("/performance/compute")
def compute(auth: CurrentAuth, session: DbSession, clock: ClockDep, posted: FormDep, request: Request) -> Response:
    """Recompute a month's ranking now (the monthly job does it once a month has ended)."""
    service.require_compute(auth.user)
    chosen = service.parse_month(form_text(posted, "month"))
    if chosen > today(clock):
        raise ValidationFailed([Problem("month", "month_future", "该月份尚未开始，无法计算")])
    performance_month.compute_month(session, clock=clock, month=chosen, settings=request.app.state.settings,
                                    actor=actor_of(auth.user))
    return RedirectResponse(f"/performance?month={chosen:%Y-%m}", status_code=303)
