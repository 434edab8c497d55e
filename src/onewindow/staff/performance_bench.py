"""Benchmark of the monthly performance ranking: a county month (300 staff, 40 windows, 600 tickets a working day
with ratings, 差评 work orders, overdue review steps and window shifts) generated in bulk, then one ranking timed.

:func:`ranking_seconds` is what ``onewindow bench supervision`` prints as ``ranking_seconds``; it brings its own
hall (``BENCH-PERF``), departments, categories and staff, so it runs on an empty database or beside other data.
Run by the CLI like a domain's ``bench`` module, so it may reach every domain's tables.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from onewindow import performance_month
from onewindow.calendar import service as calendar_service
from onewindow.cases.models import Case, CaseStep
from onewindow.catalog.models import Department, Hall, HallCategory, Region
from onewindow.config import Settings, get_settings
from onewindow.core.clock import CHINA_TZ, Clock
from onewindow.queue.models import Ticket, Window
from onewindow.ratings.models import Rating
from onewindow.rectification.models import RectificationOrder
from onewindow.staff import performance_service as store
from onewindow.staff.models import StaffShift, User

HALL_CODE = "BENCH-PERF"
LEVELS = ("very_satisfied", "satisfied", "basic", "unsatisfied", "very_unsatisfied")
LEVEL_WEIGHTS = (55, 30, 10, 3, 2)


def _at(day: dt.date, minutes: float) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=CHINA_TZ) + dt.timedelta(minutes=minutes)


def _ids(session: Session, model: Any, rows: list[dict[str, Any]]) -> list[int]:
    if not rows:
        return []
    return list(session.scalars(insert(model).returning(model.id), rows))


def _place(session: Session, *, staff: int, windows: int, now: dt.datetime) -> tuple[Hall, list[int], list[int],
                                                                                      list[int]]:
    """The bench hall with its windows, departments, categories and staff (created once)."""
    hall = session.scalars(select(Hall).where(Hall.code == HALL_CODE)).first()
    if hall is None:
        region = session.scalars(select(Region).order_by(Region.id)).first()
        if region is None:
            region = Region(code="BENCH-PERF", name="基准县", level="county")
            session.add(region)
            session.flush()
        hall = Hall(code=HALL_CODE, name="绩效基准大厅", level="county", region_id=region.id,
                    opening_hours="工作日 9:00-12:00，13:00-17:00")
        session.add(hall)
        session.flush()
    categories = list(session.scalars(select(HallCategory.id).order_by(HallCategory.id).limit(8)))
    if not categories:
        categories = _ids(session, HallCategory, [{"code": c, "name": f"基准{c}"} for c in "ABCDEFGH"])
    departments = [d for d in session.scalars(select(Department.id).where(Department.code.like("PB%"))
                                              .order_by(Department.id))]
    if not departments:
        departments = _ids(session, Department, [
            {"code": f"PB{i:02d}", "name": f"基准部门{i}", "short_name": f"基准{i}"} for i in range(12)])
    window_ids = list(session.scalars(select(Window.id).where(Window.hall_id == hall.id).order_by(Window.number)))
    if len(window_ids) < windows:
        window_ids += _ids(session, Window, [
            {"hall_id": hall.id, "number": n, "kind": "comprehensive", "skills": ["A"], "home": [], "flexible": False,
             "status": "offline", "note": ""} for n in range(len(window_ids) + 1, windows + 1)])
    users = list(session.scalars(select(User.id).where(User.username.like("perfbench_%")).order_by(User.id)))
    if len(users) < staff:
        users += _ids(session, User, [
            {"username": f"perfbench_{i:04d}", "display_name": f"基准人员{i:04d}", "password_hash": "-",
             "role": "clerk", "department_id": departments[i % len(departments)], "hall_id": hall.id,
             "is_active": True, "created_at": now} for i in range(len(users), staff)])
    return hall, window_ids[:windows], users[:staff], departments


def generate_month(session: Session, *, clock: Clock, month: dt.date, staff: int = 300, windows: int = 40,
                   tickets_per_day: int = 600, seed: int = 0) -> dict[str, int]:
    """Write a month of window work for the bench hall (bulk inserts; returns what it wrote)."""
    rnd = random.Random(seed)  # noqa: S311 - reproducible bench data, not secrets
    month = store.month_start(month)
    hall, window_ids, users, departments = _place(session, staff=staff, windows=windows, now=clock.now())
    dept_of: dict[int, int | None] = {i: d for i, d in session.execute(
        select(User.id, User.department_id).where(User.id.in_(users)))}
    categories = list(session.scalars(select(HallCategory.id).order_by(HallCategory.id).limit(8)))
    calendar = calendar_service.build_calendar(session)
    last = store.next_month(month) - dt.timedelta(days=1)
    days = [month + dt.timedelta(days=i) for i in range((last - month).days + 1)]
    workdays = [d for d in days if calendar.is_workday(d)]
    tag = f"{month:%y%m}"
    tickets: list[dict[str, Any]] = []
    shifts: list[dict[str, Any]] = []
    for day in workdays:
        on_duty = rnd.sample(users, len(window_ids))  # who sits at which window today
        for w, u in zip(window_ids, on_duty, strict=True):
            late = rnd.random() < 0.05
            shifts.append({"user_id": u, "window_id": w, "hall_id": hall.id,
                           "started_at": _at(day, 9 * 60 + (rnd.randint(10, 40) if late else -5)),
                           "ended_at": _at(day, 17 * 60 + rnd.randint(-10, 5))})
        for seq in range(1, tickets_per_day + 1):
            slot = rnd.randrange(len(window_ids))
            start = 9 * 60 + rnd.uniform(0, 420)
            length = rnd.uniform(3, 20)
            tickets.append({
                "hall_id": hall.id, "category_id": rnd.choice(categories), "day": day, "seq": seq,
                "number": f"P{seq:04d}", "token": f"pb{tag}{day:%d}{seq:04d}{seed:04d}", "ticket_class": "normal",
                "state": "done", "channel": "kiosk", "issued_at": _at(day, start - 10),
                "queued_at": _at(day, start - 10), "called_at": _at(day, start), "serving_at": _at(day, start),
                "done_at": _at(day, start + length), "calls": 1, "requeued": False, "transfers": 0,
                "window_id": window_ids[slot], "clerk_id": on_duty[slot]})
    ticket_ids = _ids(session, Ticket, tickets)
    session.execute(insert(StaffShift), shifts)
    ratings: list[dict[str, Any]] = []
    for tid, t in zip(ticket_ids, tickets, strict=True):
        if rnd.random() < 0.35:
            level = rnd.choices(LEVELS, LEVEL_WEIGHTS)[0]
            ratings.append({"subject": "ticket", "ticket_id": tid, "level": level,
                            "negative": level in LEVELS[3:], "scores": {}, "reasons": [], "comment": "",
                            "channel": "evaluator", "identified": False, "is_default": False, "rater_name": "",
                            "rater_id_number": "", "rater_phone": "", "department_id": dept_of.get(t["clerk_id"]),
                            "hall_id": hall.id, "window_id": t["window_id"], "clerk_id": t["clerk_id"],
                            "served_at": t["done_at"], "rated_at": t["done_at"], "rated_on": t["day"]})
    rating_ids = _ids(session, Rating, ratings)
    orders = [{"number": f"PB{tag}{seed:02d}{i:06d}", "source_kind": "rating", "source_id": rid,
               "department_id": r["department_id"] or departments[0], "title": "差评", "detail": "",
               "state": rnd.choice(("pending", "rectifying", "rectified", "closed", "voided")), "version": 1,
               "raiser_name": "", "raiser_phone": "", "identified": False, "opened_at": r["rated_at"],
               "opened_on": r["rated_on"], "deadline_days": 5, "extension_days": 0, "overdue": False,
               "verification": "", "appeal_reason": "", "appeal_evidence": "", "measures": "", "callback_note": "",
               "reopen_count": 0, "escalated": False, "updated_at": r["rated_at"]}
              for i, (rid, r) in enumerate(zip(rating_ids, ratings, strict=True)) if r["negative"]]
    _ids(session, RectificationOrder, orders)
    cases: list[dict[str, Any]] = []
    for i in range(len(workdays) * 20):  # review steps of the month, some finished past their promised date
        day = rnd.choice(workdays)
        cases.append({"number": f"PB{tag}{seed:02d}{i:07d}", "kind": "single", "department_id": rnd.choice(departments),
                      "channel": "window", "state": "approved", "proxy": False, "applicant_kind": "person",
                      "applicant_name": "基准", "applicant_id": "11010519491231002X", "applicant_phone": "",
                      "form_data": {}, "commitment": False, "deferred": False, "legal_days": 20, "promised_days": 10,
                      "limit_unit": "working_day", "extension_days": 0, "due_provisional": False, "warning": "none",
                      "decision_reason": "", "decision_basis": "", "closed_reason": "", "closed_basis": "",
                      "promised_due": day - dt.timedelta(days=1) if rnd.random() < 0.1 else day + dt.timedelta(days=5),
                      "created_at": _at(day, 600), "updated_at": _at(day, 600), "version": 1})
    case_ids = _ids(session, Case, cases)
    steps = [{"case_id": cid, "position": 1, "name": "审查", "kind": "review", "status": "done", "opinion": "",
              "done_by": rnd.choice(users), "done_by_name": "", "done_at": c["created_at"]}
             for cid, c in zip(case_ids, cases, strict=True)]
    session.execute(insert(CaseStep), steps)
    session.flush()
    return {"tickets": len(tickets), "ratings": len(ratings), "orders": len(orders), "steps": len(steps),
            "shifts": len(shifts)}


def ranking_seconds(session: Session, *, clock: Clock, month: dt.date, settings: Settings | None = None) -> float:
    """Generate the month for 300 staff / 40 windows / 600 tickets a day, then time one ranking of it (seconds)."""
    generate_month(session, clock=clock, month=month)
    session.flush()
    started = time.perf_counter()
    performance_month.compute_month(session, clock=clock, month=month, settings=settings or get_settings())
    session.flush()
    return time.perf_counter() - started
