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
from onewindow.core.clock import CHINA_TZ, FixedClock
from onewindow.queue.models import Ticket, Window
from onewindow.ratings.models import Rating
from onewindow.rectification.models import RectificationOrder
from onewindow.staff.models import StaffShift, User

_seq = itertools.count(1)
JUNE = dt.date(2026, 6, 1)


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


def june(session: Session, clock: FixedClock, *, jia: User | None = None) -> dict[str, User]:
    """甲 serves 40 tickets at window 2 on the norm (6 min), one 差评 upheld, one step overdue, always present;
    乙 serves 30 at window 3 in 8 min each, no ratings, present mornings only; 丙 serves 5 at window 4."""
    the_hall = hall(session)
    dept = department(session, "ZWFW")
    cat = category(session, "A")  # the hall's norm for A is 6 minutes
    now = clock.now()
    jia = jia or clerk(session, "甲", department_id=dept.id, hall_id=the_hall.id, now=now)
    yi = clerk(session, "乙", department_id=dept.id, hall_id=the_hall.id, now=now)
    bing = clerk(session, "丙", department_id=dept.id, hall_id=the_hall.id, now=now)
    w2, w3, w4 = (window(session, the_hall.id, n) for n in (2, 3, 4))
    days = working_days(session, JUNE)
    served = tickets(session, user=jia, win=w2, cat=cat, day=days[0], n=20, minutes=6)
    served += tickets(session, user=jia, win=w2, cat=cat, day=days[1], n=20, minutes=6)
    for t in served[:9]:
        rating(session, t, level="satisfied", department_id=dept.id)
    bad = rating(session, served[9], level="unsatisfied", department_id=dept.id)
    negative_order(session, bad, state="rectifying")  # verified, not voided: upheld
    appealed = rating(session, served[10], level="very_unsatisfied", department_id=dept.id)
    appealed.voided_at = now  # an upheld appeal voids the rating and its order: neither counts
    negative_order(session, appealed, state="voided")
    step_done(session, user=jia, department_id=dept.id, due=days[2], done=at(days[3], 10))  # a day late
    step_done(session, user=yi, department_id=dept.id, due=days[3], done=at(days[3], 16))  # on the last day
    tickets(session, user=yi, win=w3, cat=cat, day=days[0], n=30, minutes=8)
    tickets(session, user=bing, win=w4, cat=cat, day=days[0], n=5, minutes=6)
    shifts(session, user=jia, win=w2, days=days)
    shifts(session, user=yi, win=w3, days=days, mornings_only=True)
    shifts(session, user=bing, win=w4, days=days)
    return {"甲": jia, "乙": yi, "丙": bing}
