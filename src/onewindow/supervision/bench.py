"""电子监察 benchmark (``onewindow bench supervision``): a county's year, then one alert sweep.

A fresh database gets the demo county, then in bulk (plain inserts: the point is the size of what the rules
read, not how it got there): ``staff`` extra window clerks, the county hall grown to ``windows`` windows each
with a scheduled clerk (most signed in, some paused, some absent), ``tickets`` tickets of the day (most served,
the last hour's still waiting), ``cases`` open cases with their review steps spread over the last weeks, and a
few hundred 差评 work orders being rectified. The deadline sweep marks yellow and red (not timed: it has its
own benchmark); then one 电子监察 sweep over every registered rule is timed, the first of the day, which raises
every alert and writes the department heads' notices.
"""

from __future__ import annotations

import datetime as dt
import random
import secrets
import time
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from onewindow import db, jobs
from onewindow.calendar.service import build_calendar
from onewindow.calendar.workdays import TimeUnit
from onewindow.cases.kinds import CaseKind, Channel
from onewindow.cases.models import Case, CaseStep
from onewindow.cases.numbers import format_case_number
from onewindow.cases.states import CaseState
from onewindow.catalog.models import Department, Hall, HallCategory, Item, ItemVersion
from onewindow.core.clock import CHINA_TZ, FixedClock
from onewindow.queue.models import Ticket, Window, WindowStatus
from onewindow.queue.states import TicketState
from onewindow.rectification.models import RectificationOrder
from onewindow.staff.models import User
from onewindow.supervision import service
from onewindow.supervision.models import WindowDuty

COUNTY_HALL = "HJ-ZWZX"
BENCH_SEQ_FROM = 50_000  # case numbers of the bench start here each day, clear of the demo's
LATE_SHARE = 0.05  # open cases past their promised date
MIN_PROMISED_DAYS = 5


def _people(session: Session, *, staff: int, now: dt.datetime, rng: random.Random) -> list[int]:
    hall = session.scalars(select(Hall.id).where(Hall.code == COUNTY_HALL)).one()
    departments = list(session.scalars(select(Department.id)))
    rows = [{"username": f"bench_clerk_{i:03d}", "display_name": f"窗口{i:03d}", "password_hash": "!bench",
             "role": "clerk", "department_id": rng.choice(departments), "hall_id": hall, "is_active": True,
             "created_at": now} for i in range(staff)]
    session.execute(insert(User), rows)
    return list(session.scalars(select(User.id).where(User.username.like("bench_clerk_%")).order_by(User.id)))


def _windows(session: Session, *, windows: int, clerks: list[int], now: dt.datetime, rng: random.Random) -> None:
    hall = session.scalars(select(Hall.id).where(Hall.code == COUNTY_HALL)).one()
    codes = list(session.scalars(select(HallCategory.code)))
    existing = {n for n in session.scalars(select(Window.number).where(Window.hall_id == hall))}
    rows = [{"hall_id": hall, "number": n, "kind": "department", "skills": rng.sample(codes, min(3, len(codes))),
             "home": [], "flexible": False, "status": WindowStatus.OFFLINE.value, "note": ""}
            for n in range(1, windows + 1) if n not in existing]
    if rows:
        session.execute(insert(Window), rows)
    ids = list(session.scalars(select(Window.id).where(Window.hall_id == hall, Window.clerk_id.is_(None))
                               .order_by(Window.number)))
    duties = []
    for window_id, clerk in zip(ids, clerks, strict=False):
        duties.append({"window_id": window_id, "user_id": clerk, "assigned_at": now})
        roll = rng.random()
        if roll < 0.8:  # most sit at their window, a few paused, the rest absent
            status = WindowStatus.PAUSED.value if roll < 0.1 else WindowStatus.IDLE.value
            session.execute(update(Window).where(Window.id == window_id).values(
                clerk_id=clerk, status=status, signed_in_at=now - dt.timedelta(minutes=rng.randint(5, 90))))
    session.execute(insert(WindowDuty), duties)


def _tickets(session: Session, *, tickets: int, now: dt.datetime, rng: random.Random) -> None:
    hall = session.scalars(select(Hall.id).where(Hall.code == COUNTY_HALL)).one()
    categories = list(session.execute(select(HallCategory.id, HallCategory.code)))
    windows = list(session.scalars(select(Window.id).where(Window.hall_id == hall)))
    day = now.astimezone(CHINA_TZ).date()
    opened = dt.datetime.combine(day, dt.time(8, 30), tzinfo=CHINA_TZ)
    span = (now - opened).total_seconds()
    seq: dict[str, int] = {}
    rows = []
    for i in range(tickets):
        category_id, code = rng.choice(categories)
        seq[code] = seq.get(code, 0) + 1
        issued = opened + dt.timedelta(seconds=span * i / tickets)
        waiting = (now - issued) < dt.timedelta(hours=1)
        called = None if waiting else issued + dt.timedelta(minutes=rng.randint(2, 40))
        done = None if called is None else called + dt.timedelta(minutes=8)
        rows.append({
            "hall_id": hall, "category_id": category_id, "day": day, "seq": 900 + seq[code],
            "number": f"{code}{900 + seq[code]:03d}"[:10], "token": secrets.token_hex(16), "ticket_class": "normal",
            "state": TicketState.WAITING.value if waiting else TicketState.DONE.value, "channel": "kiosk",
            "issued_at": issued, "queued_at": issued, "called_at": called, "last_called_at": called,
            "serving_at": called, "done_at": done,
            "calls": 0 if waiting else 1, "requeued": False, "transfers": 0,
            "window_id": None if waiting else rng.choice(windows), "clerk_id": None})
    session.execute(insert(Ticket), rows)


def _cases(session: Session, *, cases: int, on: dt.date, rng: random.Random) -> None:
    calendar = build_calendar(session)
    # the items whose cases stay open for days (即办 items are decided at the window, never in the backlog)
    versions = list(session.scalars(select(ItemVersion).join(Item, Item.current_version_id == ItemVersion.id)
                                    .where(ItemVersion.promised_limit_days >= MIN_PROMISED_DAYS)))
    per_day: dict[dt.date, int] = {}
    case_rows: list[dict[str, Any]] = []
    step_plan: list[tuple[str, list[str], int, dt.datetime]] = []

    def flush() -> None:
        if not case_rows:
            return
        session.execute(insert(Case), case_rows)
        numbers = [r["number"] for r in case_rows]
        ids = dict(session.execute(select(Case.number, Case.id).where(Case.number.in_(numbers))).all())
        steps = []
        for number, names, done, at in step_plan:
            for position, name in enumerate(names):
                finished = position < done
                steps.append({"case_id": ids[number], "position": position, "name": name[:40], "kind": None,
                              "status": "done" if finished else "pending", "outcome": "agree" if finished else None,
                              "opinion": "", "done_by_name": "",
                              "done_at": at - dt.timedelta(hours=done - 1 - position) if finished else None})
        if steps:
            session.execute(insert(CaseStep), steps)
        case_rows.clear()
        step_plan.clear()

    for _ in range(cases):
        version = rng.choice(versions)
        span = max(1, version.promised_limit_days * 7 // 5)  # the promised limit in calendar days, about
        late = rng.random() < LATE_SHARE
        back = span + rng.randint(1, 10) if late else rng.randint(0, span)
        accepted_on = on - dt.timedelta(days=back)
        per_day[accepted_on] = per_day.get(accepted_on, BENCH_SEQ_FROM) + 1
        legal = calendar.due_date(accepted_on, version.legal_limit_days, TimeUnit(version.limit_unit)).date
        promised = calendar.due_date(accepted_on, version.promised_limit_days, TimeUnit(version.limit_unit)).date
        at = dt.datetime.combine(accepted_on, dt.time(10), tzinfo=CHINA_TZ)
        names = list(version.steps or ["受理", "审查", "决定"])
        # steps done in proportion to the time gone; the last one finished at its share of that time
        done = max(1, min(len(names) - 1, 1 + int(min(1.0, back / span) * (len(names) - 1))))
        last_done = at + dt.timedelta(days=back * (done - 1) / max(1, len(names) - 1))
        state = CaseState.ACCEPTED if done == 1 else CaseState.IN_REVIEW
        number = format_case_number(accepted_on, per_day[accepted_on])
        case_rows.append({
            "number": number, "kind": CaseKind.SINGLE.value, "item_id": version.item_id,
            "item_version_id": version.id, "department_id": version.department_id, "channel": Channel.WINDOW.value,
            "state": state.value, "version": 2, "applicant_kind": "person", "applicant_name": "测试",
            "applicant_id": "", "applicant_phone": "", "form_data": {}, "commitment": False,
            "deferred": rng.random() < 0.02, "deferral_due": on + dt.timedelta(days=rng.randint(-1, 3)),
            "submitted_at": at, "accepted_at": at, "accepted_on": accepted_on,
            "legal_days": version.legal_limit_days, "promised_days": version.promised_limit_days,
            "limit_unit": version.limit_unit, "extension_days": 0, "legal_due": legal, "promised_due": promised,
            "due_provisional": False, "warning": "none", "decision": None, "decision_reason": "",
            "decision_basis": "", "closed_reason": "", "closed_basis": "", "created_at": at, "updated_at": at,
            "proxy": False})
        step_plan.append((number, names, done, last_done))
        if len(case_rows) >= 2000:
            flush()
    flush()


def _orders(session: Session, *, orders: int, on: dt.date, now: dt.datetime, rng: random.Random) -> None:
    departments = list(session.scalars(select(Department.id)))
    rows = [{"number": f"ZB{on:%Y%m%d}{i:04d}", "source_kind": "rating", "source_id": 900_000 + i,
             "department_id": rng.choice(departments), "title": "差评：等候时间长", "detail": "", "state": "rectifying",
             "version": 3, "raiser_name": "", "raiser_phone": "", "identified": False, "opened_at": now,
             "opened_on": on, "deadline_days": 5, "extension_days": 0,
             "due_on": on + dt.timedelta(days=rng.randint(-2, 10)), "overdue": False, "verification": "属实",
             "appeal_reason": "", "appeal_evidence": "", "measures": "", "callback_note": "", "reopen_count": 0,
             "escalated": False, "updated_at": now} for i in range(orders)]
    session.execute(insert(RectificationOrder), rows)


def generate(factory: sessionmaker[Session], *, cases: int, tickets: int, windows: int, staff: int,
             on: dt.date, seed: int) -> FixedClock:
    """Fill the database with the county-year; the clock of the benchmark (10:30 on ``on``)."""
    from onewindow.demo import load_demo

    rng = random.Random(seed)  # noqa: S311 - synthetic data, reproducible by seed
    clock = FixedClock(dt.datetime.combine(on, dt.time(10, 30), tzinfo=CHINA_TZ))
    with db.transaction(factory) as s:
        load_demo(s, clock=clock)
    now = clock.now()
    with db.transaction(factory) as s:
        clerks = _people(s, staff=staff, now=now, rng=rng)
        _windows(s, windows=windows, clerks=clerks, now=now, rng=rng)
        _tickets(s, tickets=tickets, now=now, rng=rng)
        _orders(s, orders=max(1, cases // 100), on=on, now=now, rng=rng)
    with db.transaction(factory) as s:
        _cases(s, cases=cases, on=on, rng=rng)
    # the deadline sweep job marks the warnings the case rules read (it is timed by `onewindow bench cases`)
    jobs.run_job(factory, clock, jobs.find_job("case-deadlines"))
    return clock


def sweep_seconds(factory: sessionmaker[Session], clock: FixedClock) -> tuple[float, dict[str, int]]:
    """One 电子监察 sweep over every registered rule, in its own transaction: seconds and counts."""
    started = time.perf_counter()
    with db.transaction(factory) as s:
        counts = service.sweep(s, clock=clock)
    return time.perf_counter() - started, counts


def run(engine: Engine, *, cases: int, tickets: int, windows: int, staff: int, on: dt.date,
        seed: int) -> dict[str, Any]:
    """Generate, then time the day's first sweep (which raises the whole backlog) and the next one, two
    minutes later as the job runs (what is new is raised, what is gone is closed)."""
    factory: sessionmaker[Session] = db.make_session_factory(engine)
    clock = generate(factory, cases=cases, tickets=tickets, windows=windows, staff=staff, on=on, seed=seed)
    first, first_counts = sweep_seconds(factory, clock)
    clock.advance(dt.timedelta(minutes=2))
    seconds, counts = sweep_seconds(factory, clock)
    return {"sweep_seconds": round(seconds, 3), "first_sweep_seconds": round(first, 3), "counts": counts,
            "first_counts": first_counts, "backend": engine.dialect.name, "session_factory": factory,
            "clock": clock}
