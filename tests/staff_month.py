"""Builders of a month of window work for the performance tests: rows written as the domains would leave them."""

from __future__ import annotations

import datetime as dt
import itertools
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from onewindow.calendar import service as calendar_service
from onewindow.cases.models import Case, CaseStep
from onewindow.catalog.models import Department, Hall, HallCategory
from onewindow.core.clock import CHINA_TZ
from onewindow.queue.models import Ticket, Window
from onewindow.ratings.models import Rating
from onewindow.rectification.models import RectificationOrder
from onewindow.staff.models import StaffShift, User

_seq = itertools.count(1)


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=CHINA_TZ)


def hall(session: Session, code: str = "HJ-ZWZX") -> Hall:
    return session.scalars(select(Hall).where(Hall.code == code)).one()


def department(session: Session, code: str) -> Department:
    return session.scalars(select(Department).where(Department.code == code)).one()


def window(session: Session, hall_id: int, number: int) -> Window:
    return session.scalars(select(Window).where(Window.hall_id == hall_id, Window.number == number)).one()


def category(session: Session, code: str = "A") -> HallCategory:
    return session.scalars(select(HallCategory).where(HallCategory.code == code)).one()


def clerk(session: Session, name: str, *, department_id: int, hall_id: int, now: dt.datetime) -> User:
    user = User(username=f"perf_{secrets.token_hex(4)}", display_name=name, password_hash="-", role="clerk",
                department_id=department_id, hall_id=hall_id, is_active=True, created_at=now)
    session.add(user)
    session.flush()
    return user


def tickets(session: Session, *, user: User, win: Window, cat: HallCategory, day: dt.date, n: int,
            minutes: float) -> list[Ticket]:
    """``n`` tickets served at the window on ``day``, each taking ``minutes``."""
    out = []
    start = at(day, 9)
    for _ in range(n):
        k = next(_seq)
        serving = start + dt.timedelta(minutes=minutes * len(out))
        t = Ticket(hall_id=win.hall_id, category_id=cat.id, day=day, seq=k, number=f"P{k:05d}",
                   token=secrets.token_hex(8), ticket_class="normal", state="done", channel="kiosk",
                   issued_at=serving - dt.timedelta(minutes=5), queued_at=serving - dt.timedelta(minutes=5),
                   called_at=serving, serving_at=serving, done_at=serving + dt.timedelta(minutes=minutes),
                   calls=1, window_id=win.id, clerk_id=user.id)
        out.append(t)
    session.add_all(out)
    session.flush()
    return out


def rating(session: Session, ticket: Ticket, *, level: str, department_id: int) -> Rating:
    assert ticket.done_at is not None
    negative = level in ("unsatisfied", "very_unsatisfied")
    r = Rating(subject="ticket", ticket_id=ticket.id, level=level, negative=negative, channel="evaluator",
               rated_at=ticket.done_at, rated_on=ticket.day, clerk_id=ticket.clerk_id,
               window_id=ticket.window_id, department_id=department_id, hall_id=ticket.hall_id)
    session.add(r)
    session.flush()
    return r


def negative_order(session: Session, r: Rating, *, state: str) -> RectificationOrder:
    assert r.department_id is not None
    o = RectificationOrder(number=f"ZG-P{next(_seq):06d}", source_kind="rating", source_id=r.id,
                           department_id=r.department_id, title="差评", state=state, opened_at=r.rated_at,
                           opened_on=r.rated_on, updated_at=r.rated_at)
    session.add(o)
    session.flush()
    return o


def step_done(session: Session, *, user: User, department_id: int, due: dt.date, done: dt.datetime) -> CaseStep:
    """A review step ``user`` completed at ``done`` of a case promised by ``due``."""
    k = next(_seq)
    case = Case(number=f"PERF{k:08d}", kind="single", department_id=department_id, channel="window",
                state="approved", applicant_kind="person", applicant_name="测试", applicant_id="11010519491231002X",
                promised_due=due, legal_due=due, created_at=done, updated_at=done)
    session.add(case)
    session.flush()
    step = CaseStep(case_id=case.id, position=1, name="审查", kind="review", status="done", done_by=user.id,
                    done_at=done)
    session.add(step)
    session.flush()
    return step


def working_days(session: Session, month: dt.date) -> list[dt.date]:
    calendar = calendar_service.build_calendar(session)
    nxt = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return [month + dt.timedelta(days=i) for i in range((nxt - month).days)
            if calendar.is_workday(month + dt.timedelta(days=i))]


def shifts(session: Session, *, user: User, win: Window, days: list[dt.date], mornings_only: bool = False) -> None:
    """Signed in through the opening hours of every day given (or only 9:00–12:00)."""
    for d in days:
        session.add(StaffShift(user_id=user.id, window_id=win.id, hall_id=win.hall_id, started_at=at(d, 8, 55),
                               ended_at=at(d, 12, 0) if mornings_only else at(d, 17, 2)))
    session.flush()
