"""Planning service: a hall's week plan from its ticket history (or the reference hall), saved, edited, compared.

* **What a plan is made from** (:func:`hall_input`): with 20 or more open days of ticket history in the
  26 weeks before the week, the hall's own categories, service times (served tickets' ``done_at −
  serving_at``) and the forecast (``forecast.py``) of each date, floored by the bookings already made;
  otherwise the reference hall (``settings.planning_scenario_path``) scaled by the calendar's day type
  (closed days dropped, the first day after a long holiday busier). Either way the hall's windows cap
  every hour and the hall's live routing policy (``HallQueueSettings``) is the one simulated.
* **Writes** (:func:`generate`, :func:`edit`) check the access policy, validate everything before
  writing, guard the plan's ``version`` (409 when stale) and write one audit entry.
* **Planned against actual** (:func:`actual_waits`): the waits of the day's tickets per hour.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onewindow.appointments.models import Booking
from onewindow.calendar import service as calendar_service
from onewindow.catalog.models import Hall, HallCategory
from onewindow.core import access, audit
from onewindow.core.access import Action
from onewindow.core.clock import CHINA_TZ, Clock
from onewindow.core.errors import NotFound, Problem, ValidationFailed
from onewindow.core.locking import lock_versioned
from onewindow.planning import forecast as fc
from onewindow.planning import plan as planning
from onewindow.planning import report
from onewindow.planning.models import PlanRecord
from onewindow.planning.roster import Person, ShiftRules
from onewindow.queue.models import DEFAULT_ROUTING_POLICY, HallQueueSettings, StaffQualification, Ticket, Window
from onewindow.queue.routing import RoutingPolicy, make_policy
from onewindow.simulation.scenario import DEFAULT_SCENARIO, Scenario, parse_scenario
from onewindow.staff import service as staff_service
from onewindow.staff.models import User

HISTORY_WEEKS = 26
MIN_HISTORY_DAYS = 20
CHECK_DAYS = 30


def require_view(user: User) -> None:
    """403 unless the user may see plans."""
    access.require(staff_service.viewer_of(user), Action.PLAN_VIEW)


def require_edit(user: User) -> None:
    """403 unless the user may make and edit plans."""
    access.require(staff_service.viewer_of(user), Action.PLAN_EDIT)


def can_edit(user: User) -> bool:
    """True when the user may make and edit plans."""
    return access.can(staff_service.viewer_of(user), Action.PLAN_EDIT)


def week_start_of(day: dt.date) -> dt.date:
    """The Monday of ``day``'s week."""
    return day - dt.timedelta(days=day.weekday())


def list_halls(session: Session) -> list[Hall]:
    """Every hall, county first."""
    return list(session.scalars(select(Hall).order_by(Hall.id)))


def get_hall(session: Session, hall_id: int) -> Hall:
    """The hall or 404."""
    hall = session.get(Hall, hall_id)
    if hall is None:
        raise NotFound("大厅", str(hall_id))
    return hall


def get_plan(session: Session, hall_id: int, week_start: dt.date) -> PlanRecord | None:
    """The saved plan of a hall's week, if any."""
    return session.scalars(select(PlanRecord).where(PlanRecord.hall_id == hall_id,
                                                    PlanRecord.week_start == week_start)).first()


def get_plan_by_id(session: Session, plan_id: int) -> PlanRecord:
    """A saved plan or 404."""
    plan = session.get(PlanRecord, plan_id)
    if plan is None:
        raise NotFound("排班计划", str(plan_id))
    return plan


# ----- what a plan is made from ---------------------------------------------------------------------------------

def ticket_history(session: Session, hall_id: int, since: dt.date, until: dt.date
                   ) -> tuple[dict[dt.date, dict[fc.Cell, float]], dict[str, list[float]]]:
    """Tickets per day and (hour, category) issued in [since, until), and the service minutes per category."""
    start = dt.datetime.combine(since, dt.time(), CHINA_TZ)
    end = dt.datetime.combine(until, dt.time(), CHINA_TZ)
    rows = session.execute(
        select(Ticket.issued_at, HallCategory.code, Ticket.serving_at, Ticket.done_at)
        .join(HallCategory, HallCategory.id == Ticket.category_id)
        .where(Ticket.hall_id == hall_id, Ticket.issued_at >= start, Ticket.issued_at < end))
    history: dict[dt.date, dict[fc.Cell, float]] = {}
    service: dict[str, list[float]] = {}
    for issued_at, code, serving_at, done_at in rows:
        local = issued_at.astimezone(CHINA_TZ)
        cells = history.setdefault(local.date(), {})
        cell = (f"{local.hour:02d}", code)
        cells[cell] = cells.get(cell, 0.0) + 1
        if serving_at is not None and done_at is not None:
            service.setdefault(code, []).append(max(0.5, (done_at - serving_at).total_seconds() / 60))
    return history, service


def bookings_of(session: Session, hall_id: int, day: dt.date) -> dict[fc.Cell, float]:
    """Bookings already made for a date per (hour, category): a floor under the forecast."""
    rows = session.execute(select(Booking.starts_at, HallCategory.code)
                           .join(HallCategory, HallCategory.id == Booking.category_id)
                           .where(Booking.hall_id == hall_id, Booking.day == day,
                                  Booking.state.in_(("booked", "checked_in"))))
    out: dict[fc.Cell, float] = {}
    for starts_at, code in rows:
        cell = (f"{starts_at.astimezone(CHINA_TZ).hour:02d}", code)
        out[cell] = out.get(cell, 0.0) + 1
    return out


def _window_count(session: Session, hall_id: int) -> int:
    return int(session.scalar(select(func.count()).select_from(Window).where(Window.hall_id == hall_id)) or 0)


def _scenario_from_history(hall: Hall, history: Mapping[dt.date, Mapping[fc.Cell, float]],
                           service: Mapping[str, list[float]], windows: int) -> dict[str, Any]:
    days = len(history)
    per_hour: dict[str, float] = {}
    per_code: dict[str, float] = {}
    for cells in history.values():
        for (hour, code), n in cells.items():
            per_hour[hour] = per_hour.get(hour, 0.0) + n
            per_code[code] = per_code.get(code, 0.0) + n
    hours = sorted(per_hour)

    def moments(code: str) -> tuple[float, float]:
        values = service.get(code) or [10.0]
        mean = sum(values) / len(values)
        var = sum((v - mean) ** 2 for v in values) / max(1, len(values) - 1)
        return round(mean, 2), round(min(2.0, math.sqrt(var) / mean), 2) if len(values) > 1 else 0.7

    return {"name": hall.name, "open": f"{hours[0]}:00", "close": f"{int(hours[-1]) + 1:02d}:00",
            "arrival_weights_by_hour": {h: per_hour[h] / days for h in hours}, "windows": max(1, windows),
            "generalist_service_factor": 1.05,
            "categories": [{"code": code, "name": code, "daily_tickets": per_code[code] / days,
                            "service_minutes_mean": moments(code)[0], "service_cv": moments(code)[1],
                            "dedicated_windows": 1} for code in sorted(per_code)],
            "days": CHECK_DAYS, "seed": hall.id}


def hall_input(session: Session, *, hall_id: int, week_start: dt.date, scenario_path: Path | None = None
               ) -> dict[str, Any]:
    """The scenario and each open date's expected tickets per hour and category (JSON, stored with the plan)."""
    hall = get_hall(session, hall_id)
    calendar = calendar_service.build_calendar(session)
    history, service = ticket_history(session, hall_id, week_start - dt.timedelta(weeks=HISTORY_WEEKS), week_start)
    dates = [week_start + dt.timedelta(days=i) for i in range(7)]
    days: dict[str, Any] = {}
    if len(history) >= MIN_HISTORY_DAYS:
        source = "history"
        raw = _scenario_from_history(hall, history, service, _window_count(session, hall_id))
        scenario = parse_scenario(raw)
        labels = [planning.hour_label(s) for s, _, _ in scenario.hour_weights]
        for day in dates:
            kind = fc.day_type(day, calendar.is_workday)
            if kind is fc.DayType.CLOSED:
                continue
            cells = fc.forecast_day(day, history, calendar.is_workday, bookings=bookings_of(session, hall_id, day))
            days[str(day.weekday())] = {"date": day.isoformat(), "type": kind.value, "tickets": [
                {c.code: round(cells.get((h, c.code), 0.0), 3) for c in scenario.categories} for h in labels]}
    else:
        source = "scenario"
        raw = json.loads((scenario_path or DEFAULT_SCENARIO).read_text(encoding="utf-8"))
        scenario = parse_scenario(raw)
        windows = _window_count(session, hall_id)
        if windows:
            raw["windows"] = max(windows, scenario.windows)
        for day in dates:
            kind = fc.day_type(day, calendar.is_workday)
            if kind is fc.DayType.CLOSED:
                continue
            demand = planning.scenario_demand(scenario, fc.DEFAULT_FACTORS.get(kind, 1.0))
            days[str(day.weekday())] = {"date": day.isoformat(), "type": kind.value,
                                        "tickets": [{c: round(n, 3) for c, n in t.items()} for t in demand.tickets]}
    return {"source": source, "scenario": raw, "days": days}


def _demands(hall_in: Mapping[str, Any]) -> tuple[Scenario, dict[int, planning.DayDemand]]:
    scenario = parse_scenario(hall_in["scenario"])
    hours = tuple((s, e) for s, e, _ in scenario.hour_weights)
    demands = {int(wd): planning.DayDemand(hours=hours, tickets=tuple(day["tickets"]))
               for wd, day in hall_in["days"].items()}
    return scenario, demands


def _policy(session: Session, hall_id: int, scenario: Scenario) -> RoutingPolicy:
    settings = session.scalars(select(HallQueueSettings).where(HallQueueSettings.hall_id == hall_id)).first()
    name = settings.routing_policy if settings is not None else DEFAULT_ROUTING_POLICY
    params = dict(settings.policy_params or {}) if settings is not None else {}
    if name == "smart":
        params.setdefault("generalist_factor", scenario.generalist_service_factor)
    return make_policy(name, params)


def staff_for(session: Session, codes: list[str]) -> list[Person]:
    """Active staff qualified for any of the categories (一岗多能), with their qualifications."""
    rows = session.execute(select(User.id, User.display_name, HallCategory.code)
                           .join(StaffQualification, StaffQualification.user_id == User.id)
                           .join(HallCategory, HallCategory.id == StaffQualification.category_id)
                           .where(User.is_active.is_(True), HallCategory.code.in_(codes))
                           .order_by(User.id, HallCategory.code))
    people: dict[int, tuple[str, list[str]]] = {}
    for user_id, name, code in rows:
        people.setdefault(user_id, (name, []))[1].append(code)
    return [Person(key=str(uid), name=name, skills=tuple(skills)) for uid, (name, skills) in people.items()]


def _people(session: Session, scenario: Scenario, week: planning.WeekPlan) -> list[Person]:
    codes = [c.code for c in scenario.categories]
    people = staff_for(session, codes)
    if people:
        return people
    peak = {c: max(w.get(c, 0) for d in week.days.values() for w in d.windows) for c in codes}
    return report.default_people(scenario, peak)


# ----- writes ------------------------------------------------------------------------------------------------

def generate(session: Session, *, clock: Clock, user: User, hall_id: int, week_start: dt.date,
             target: planning.Target, rules: ShiftRules, scenario_path: Path | None = None) -> PlanRecord:
    """Plan (or plan again) a hall's week and save it; one audit entry."""
    access.require(staff_service.viewer_of(user), Action.PLAN_EDIT)
    if week_start.weekday() != 0:
        raise ValidationFailed([Problem("week", "not_monday", "排班周应从星期一开始")])
    hall_in = hall_input(session, hall_id=hall_id, week_start=week_start, scenario_path=scenario_path)
    scenario, demands = _demands(hall_in)
    policy = _policy(session, hall_id, scenario)
    week = planning.plan_week(scenario, policy, demands, target, seed=scenario.seed)
    payload = report.week_payload(scenario, policy, week, target, people=_people(session, scenario, week), rules=rules,
                                  seed=scenario.seed)
    for day in payload["days"]:
        day["date"] = hall_in["days"][str(planning.WEEKDAY_KEYS.index(day["weekday"]))]["date"]
        day["type"] = hall_in["days"][str(planning.WEEKDAY_KEYS.index(day["weekday"]))]["type"]
    now = clock.now()
    record = get_plan(session, hall_id, week_start)
    before = _summary(record) if record is not None else None
    if record is None:
        record = PlanRecord(hall_id=hall_id, week_start=week_start, created_at=now, version=0)
        session.add(record)
    record.source = hall_in["source"]
    record.policy = policy.name
    record.target_mean_min = target.mean_min
    record.target_p90_min = target.p90_min
    record.hall_input = hall_in
    record.payload = payload
    record.version += 1
    record.updated_at = now
    record.updated_by_id = user.id
    session.flush()
    audit.record(session, clock=clock, actor=staff_service.actor_of(user), action="planning.generate",
                 entity_type="planning_plan", entity_id=record.id, before=before, after=_summary(record))
    return record


def _summary(record: PlanRecord) -> dict[str, Any]:
    return {"hall_id": record.hall_id, "week_start": record.week_start.isoformat(), "version": record.version,
            "window_hours": record.payload.get("window_hours"),
            "windows": {d["weekday"]: [h["windows"] for h in d["hours"]] for d in record.payload.get("days", [])}}


def edit(session: Session, *, clock: Clock, user: User, plan_id: int, expected_version: int,
         windows: Mapping[str, list[dict[str, int]]], rules: ShiftRules) -> PlanRecord:
    """Change windows per hour and category of some days, re-check them by simulation, save; one audit entry.

    ``windows``: weekday key (``mon``) → per hour, category → windows. Every value is checked before
    anything is written: whole numbers from 0 to the hall's windows per hour in total.
    """
    access.require(staff_service.viewer_of(user), Action.PLAN_EDIT)
    record = lock_versioned(session, PlanRecord, plan_id, expected_version, label="排班计划")
    scenario, demands = _demands(record.hall_input)
    codes = {c.code for c in scenario.categories}
    by_key = {d["weekday"]: d for d in record.payload["days"]}
    problems: list[Problem] = []
    for key, hours in windows.items():
        if key not in by_key:
            problems.append(Problem(f"windows.{key}", "closed_day", "该日不在计划中"))
            continue
        if len(hours) != len(by_key[key]["hours"]):
            problems.append(Problem(f"windows.{key}", "bad_hours", "小时数与计划不一致"))
            continue
        for h, counts in zip(by_key[key]["hours"], hours, strict=True):
            for code, n in counts.items():
                if code not in codes or n < 0:
                    problems.append(Problem(f"windows.{key}.{h['hour']}.{code}", "out_of_range",
                                            "窗口数应为不小于 0 的整数"))
            if sum(counts.values()) > scenario.windows:
                problems.append(Problem(f"windows.{key}.{h['hour']}", "too_many",
                                        f"该小时共 {sum(counts.values())} 个窗口，超过大厅的 {scenario.windows} 个"))
    if problems:
        raise ValidationFailed(problems)
    before = _summary(record)
    policy = _policy(session, record.hall_id, scenario)
    target = planning.Target(record.target_mean_min, record.target_p90_min)
    people: list[Person] | None = None
    days = []
    for day in record.payload["days"]:
        key = day["weekday"]
        if key in windows:
            weekday = planning.WEEKDAY_KEYS.index(key)
            demand = demands[weekday]
            plan_windows = tuple(dict(w) for w in windows[key])
            checks = planning.check_plan(scenario, policy, demand, plan_windows, target, days=CHECK_DAYS,
                                         seed=scenario.seed)
            day_plan = planning.DayPlan(hours=demand.hours, windows=plan_windows,
                                        theory_windows=tuple(h["theory_windows"] for h in day["hours"]),
                                        checks=tuple(checks))
            if people is None:
                people = staff_for(session, sorted(codes)) or report.default_people(
                    scenario, {c: max(w.get(c, 0) for w in plan_windows) for c in codes})
            fresh = report.day_payload(scenario, policy, weekday, day_plan, demand, target, people=people,
                                       rules=rules, seed=scenario.seed)
            fresh["date"], fresh["type"], fresh["edited"] = day.get("date"), day.get("type"), True
            days.append(fresh)
        else:
            days.append(day)
    payload = dict(record.payload)
    payload["days"] = days
    payload["window_hours"] = round(sum(d["window_hours"] for d in days), 2)
    payload["target_met_every_hour"] = all(d["target_met_every_hour"] for d in days)
    record.payload = payload
    record.version += 1
    record.updated_at = clock.now()
    record.updated_by_id = user.id
    session.flush()
    audit.record(session, clock=clock, actor=staff_service.actor_of(user), action="planning.edit",
                 entity_type="planning_plan", entity_id=record.id, before=before, after=_summary(record))
    return record


# ----- planned against actual ---------------------------------------------------------------------------------

def actual_waits(session: Session, hall_id: int, day: dt.date) -> dict[str, tuple[int, float]]:
    """Per hour of issue: (tickets called, mean wait in minutes) of a hall's day (wait = called_at − issued_at)."""
    rows = session.execute(select(Ticket.issued_at, Ticket.called_at)
                           .where(Ticket.hall_id == hall_id, Ticket.day == day, Ticket.called_at.is_not(None)))
    sums: dict[str, list[float]] = {}
    for issued_at, called_at in rows:
        if called_at is None:
            continue
        hour = f"{issued_at.astimezone(CHINA_TZ).hour:02d}"
        sums.setdefault(hour, []).append((called_at - issued_at).total_seconds() / 60)
    return {h: (len(v), round(sum(v) / len(v), 2)) for h, v in sorted(sums.items())}
