"""The plan page (/planning): a hall's week at a glance, per hour and category, who sits where; edit and
re-check; 潮汐窗口 settings; planned against actual waits; the roster as Excel.

Thin edge over ``planning.service`` (which checks the access policy, validates, guards the version and
audits). A refused write (422, 409) runs in a savepoint and the page is shown again with the reasons.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from onewindow.config import Settings
from onewindow.core.errors import Conflict, DomainError, Problem, ValidationFailed
from onewindow.deps import Auth, ClockDep, CurrentAuth, DbSession
from onewindow.planning import plan as planning
from onewindow.planning import service
from onewindow.planning.forecast import DayType
from onewindow.planning.models import PlanRecord
from onewindow.planning.roster import ShiftRules
from onewindow.web import FormDep, form_text, render

router = APIRouter(prefix="/planning", include_in_schema=False)

NOTICES = {"generated": "已生成本周排班并按仿真检验。", "edited": "已保存调整并重新仿真检验。"}
SOURCE_LABELS = {"history": "本厅取号历史的预测（含已预约）", "scenario": "参考大厅场景（本厅取号历史不足 20 天）"}
DAY_TYPE_LABELS = {t.value: t.label for t in DayType}


def _rules(settings: Settings) -> ShiftRules:
    return ShiftRules(settings.planning_min_shift_hours, settings.planning_max_hours_per_day,
                      settings.planning_lunch_from_hour, settings.planning_lunch_to_hour)


def _parse_week(raw: str, today: dt.date) -> dt.date:
    if not raw:
        return service.week_start_of(today + dt.timedelta(days=7))  # the week being planned: next week
    try:
        return service.week_start_of(dt.date.fromisoformat(raw))
    except ValueError:
        raise ValidationFailed([Problem("week", "bad_date", "日期格式应为 YYYY-MM-DD")]) from None


def _actuals(session: Session, plan: PlanRecord, today: dt.date) -> dict[str, dict[str, tuple[int, float]]]:
    out: dict[str, dict[str, tuple[int, float]]] = {}
    for day in plan.payload.get("days", []):
        date = dt.date.fromisoformat(day["date"]) if day.get("date") else None
        if date is not None and date <= today:
            out[day["weekday"]] = service.actual_waits(session, plan.hall_id, date)
    return out


def _render(request: Request, session: Session, auth: Auth, *, hall_id: int | None, week: dt.date, today: dt.date,
            notice: str = "", errors: DomainError | None = None, status_code: int = 200) -> Response:
    halls = service.list_halls(session)
    hall = next((h for h in halls if h.id == hall_id), halls[0] if halls else None)
    plan = service.get_plan(session, hall.id, week) if hall is not None else None
    context: dict[str, Any] = {
        "halls": halls, "hall": hall, "week": week, "plan": plan, "notice": notice,
        "problems": list(errors.problems) if errors else [], "can_edit": service.can_edit(auth.user),
        "settings": request.app.state.settings, "source_labels": SOURCE_LABELS, "day_type_labels": DAY_TYPE_LABELS,
        "prev_week": week - dt.timedelta(days=7), "next_week": week + dt.timedelta(days=7),
        "actuals": _actuals(session, plan, today) if plan is not None else {},
        "categories": plan.payload.get("categories", {}) if plan is not None else {},
    }
    return render(request, "planning/plan.html", context, auth=auth,
                  status_code=errors.status if errors else status_code)


@router.get("", response_class=HTMLResponse)
def plan_page(request: Request, auth: CurrentAuth, session: DbSession, clock: ClockDep,
              hall: Annotated[int | None, Query(ge=1)] = None, week: Annotated[str, Query(max_length=10)] = "",
              done: Annotated[str, Query(max_length=20)] = "") -> Response:
    """A hall's week: windows per hour and category, waits, 潮汐窗口, roster, planned against actual."""
    service.require_view(auth.user)
    today = clock.now().date()
    return _render(request, session, auth, hall_id=hall, week=_parse_week(week, today), today=today,
                   notice=NOTICES.get(done, ""))


def _target(posted: FormData, settings: Settings) -> planning.Target:
    problems: list[Problem] = []
    values: dict[str, float | None] = {}
    for key, default in (("target_mean", settings.planning_target_mean_min),
                         ("target_p90", settings.planning_target_p90_min)):
        raw = form_text(posted, key)
        if not raw:
            values[key] = default
            continue
        try:
            value = float(raw)
        except ValueError:
            value = -1.0
        if not 1 <= value <= 240:
            problems.append(Problem(key, "out_of_range", "等待目标应为 1 到 240 分钟"))
        values[key] = value
    if problems:
        raise ValidationFailed(problems)
    mean = values["target_mean"]
    return planning.Target(mean if mean is not None else 15.0, values["target_p90"])


@router.post("/generate", response_class=HTMLResponse)
def generate(request: Request, auth: CurrentAuth, session: DbSession, clock: ClockDep, posted: FormDep) -> Response:
    """Plan (or plan again) the hall's week and save it."""
    settings: Settings = request.app.state.settings
    today = clock.now().date()
    raw_hall = form_text(posted, "hall")
    hall_id = int(raw_hall) if raw_hall.isdigit() else None
    try:
        week = _parse_week(form_text(posted, "week"), today)
        if hall_id is None:
            raise ValidationFailed([Problem("hall", "required", "请选择大厅")])
        with session.begin_nested():
            service.generate(session, clock=clock, user=auth.user, hall_id=hall_id, week_start=week,
                             target=_target(posted, settings), rules=_rules(settings),
                             scenario_path=settings.planning_scenario_path)
    except (ValidationFailed, Conflict) as exc:
        session.expire_all()
        return _render(request, session, auth, hall_id=hall_id, week=service.week_start_of(today), today=today,
                       errors=exc)
    return RedirectResponse(f"/planning?hall={hall_id}&week={week.isoformat()}&done=generated", status_code=303)


def _edited_windows(posted: FormData, plan: PlanRecord, weekday: str) -> dict[str, list[dict[str, int]]]:
    day = next((d for d in plan.payload["days"] if d["weekday"] == weekday), None)
    if day is None:
        raise ValidationFailed([Problem("weekday", "closed_day", "该日不在计划中")])
    problems: list[Problem] = []
    hours: list[dict[str, int]] = []
    for h in day["hours"]:
        counts: dict[str, int] = {}
        for code in plan.payload["categories"]:
            raw = form_text(posted, f"w-{h['hour']}-{code}")
            if not raw.isdigit():
                problems.append(Problem(f"w-{h['hour']}-{code}", "not_integer",
                                        f"{h['hour']} 时 {code} 类窗口数应为不小于 0 的整数"))
                continue
            counts[code] = int(raw)
        hours.append(counts)
    if problems:
        raise ValidationFailed(problems)
    return {weekday: hours}


@router.post("/{plan_id}/edit", response_class=HTMLResponse)
def edit(request: Request, plan_id: int, auth: CurrentAuth, session: DbSession, clock: ClockDep,
         posted: FormDep) -> Response:
    """Save the edited windows of one day and re-check them by simulation."""
    settings: Settings = request.app.state.settings
    today = clock.now().date()
    service.require_edit(auth.user)
    plan = service.get_plan_by_id(session, plan_id)
    try:
        version = form_text(posted, "version")
        if not version.isdigit():
            raise ValidationFailed([Problem("version", "version_required", "页面缺少版本号，请刷新后重试")])
        windows = _edited_windows(posted, plan, form_text(posted, "weekday"))
        with session.begin_nested():
            service.edit(session, clock=clock, user=auth.user, plan_id=plan_id, expected_version=int(version),
                         windows=windows, rules=_rules(settings))
    except (ValidationFailed, Conflict) as exc:
        session.expire_all()
        plan = service.get_plan_by_id(session, plan_id)
        return _render(request, session, auth, hall_id=plan.hall_id, week=plan.week_start, today=today, errors=exc)
    return RedirectResponse(f"/planning?hall={plan.hall_id}&week={plan.week_start.isoformat()}&done=edited",
                            status_code=303)


def roster_workbook(plan: PlanRecord) -> bytes:
    """The roster as Excel: a sheet of windows per hour and category, and one sheet per day of who sits where."""
    wb = Workbook()
    summary = wb.active
    assert summary is not None  # noqa: S101 (a new workbook has its sheet)
    summary.title = "窗口计划"
    codes = list(plan.payload.get("categories", {}))
    summary.append(["日期", "星期", "时段", *[f"{c} {plan.payload['categories'][c]}" for c in codes], "合计",
                    "仿真平均等待（分钟）", "达标"])
    for cell in summary[1]:
        cell.font = Font(bold=True)
    for day in plan.payload.get("days", []):
        for h in day["hours"]:
            summary.append([day.get("date", ""), day["label"], f"{h['hour']}:00",
                            *[h["windows"].get(c, 0) for c in codes], h["total"], h["mean_wait_min"],
                            "是" if h["met"] else "否"])
        roster = day.get("roster")
        if not roster:
            continue
        sheet = wb.create_sheet(f"{day['label']}座位")
        windows = sorted({w for seat in roster["seats"] for w in seat["windows"]})
        sheet.append(["时段", *windows])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for seat in roster["seats"]:
            sheet.append([f"{seat['hour']}:00", *[seat["windows"].get(w, "") for w in windows]])
        sheet.append([])
        sheet.append(["人员", "可办类别", "上班", "下班", "午休", "备岗时段", "在岗小时"])
        for s in roster["shifts"]:
            sheet.append([s["name"], "、".join(s["skills"]), f"{s['from']}:00", f"{int(s['to']) + 1:02d}:00",
                          f"{s['lunch']}:00" if s["lunch"] else "", "、".join(s["standby"]), s["hours"]])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


@router.get("/{plan_id}/roster.xlsx")
def roster_export(plan_id: int, auth: CurrentAuth, session: DbSession) -> Response:
    """The week's roster (排班表) as Excel."""
    service.require_view(auth.user)
    plan = service.get_plan_by_id(session, plan_id)
    return Response(roster_workbook(plan),
                    media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f"attachment; filename=\"roster-{plan.week_start}.xlsx\"; "
                                                    "filename*=UTF-8''%E6%8E%92%E7%8F%AD%E8%A1%A8.xlsx"})
