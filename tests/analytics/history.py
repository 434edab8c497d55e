"""A small hand-made history for the analytics tests: records written straight through the ORM on days far
from the demo's, so every figure can be computed by hand."""

from __future__ import annotations

import datetime as dt
import itertools
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from onewindow.cases.models import Case, CaseVisit
from onewindow.catalog.models import Department, Hall, HallCategory, Item, ItemVersion
from onewindow.complaints.models import Complaint
from onewindow.core.clock import CHINA_TZ
from onewindow.queue.models import Ticket
from onewindow.ratings.models import Rating

MONDAY = dt.date(2031, 3, 3)
_seq = itertools.count(1)


def at(day: dt.date, hour: int = 10, minute: int = 0) -> dt.datetime:
    """A China-time moment of that day."""
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=CHINA_TZ)


class World:
    """The demo's departments, halls and items the history uses."""

    def __init__(self, session: Session) -> None:
        rows = session.execute(select(Item.id, Item.code, ItemVersion.department_id)
                               .join(ItemVersion, ItemVersion.id == Item.current_version_id)
                               .order_by(ItemVersion.department_id, Item.id)).all()
        by_dep: dict[int, tuple[int, str]] = {}
        for iid, code, dep in rows:
            by_dep.setdefault(dep, (iid, code))
        deps = sorted(by_dep)[:3]
        self.dep_a, self.dep_b, self.dep_c = deps
        self.item_a, self.code_a = by_dep[self.dep_a]
        self.item_b, self.code_b = by_dep[self.dep_b]
        halls = session.scalars(select(Hall).order_by(Hall.id)).all()
        self.hall = halls[0].id
        self.hall2 = halls[1].id if len(halls) > 1 else halls[0].id
        self.category = session.scalars(select(HallCategory.id).order_by(HallCategory.id)).first()
        self.dep_names = {k: v for k, v in session.execute(select(Department.id, Department.name))}


def case(session: Session, w: World, dep: int, *, accepted: dt.date, decided: dt.date | None = None,
         promised: dt.date | None = None, visits: int = 0, hall: int | None = -1, channel: str = "window",
         state: str | None = None, agent_user_id: int | None = None, delivery: str = "pickup",
         created_by: int | None = None) -> Case:
    """A case accepted (and maybe decided) on those days, with ``visits`` in-person visits."""
    n = next(_seq)
    item = w.item_a if dep == w.dep_a else w.item_b if dep == w.dep_b else None
    c = Case(number=f"TA{n:09d}", kind="single", item_id=item, department_id=dep,
             receiving_hall_id=w.hall if hall == -1 else hall, channel=channel,
             state=state or ("approved" if decided else "in_review"), applicant_kind="person",
             applicant_name="测试", applicant_id="110101199001011234", accepted_at=at(accepted, 9),
             accepted_on=accepted, promised_days=5, legal_days=20,
             promised_due=promised or accepted + dt.timedelta(days=7), legal_due=accepted + dt.timedelta(days=30),
             decision="approved" if decided else None, decided_at=at(decided, 15) if decided else None,
             decided_on=decided, created_at=at(accepted, 9), updated_at=at(accepted, 9), agent_user_id=agent_user_id,
             result_delivery=delivery, created_by=created_by)
    session.add(c)
    session.flush()
    for i in range(visits):
        session.add(CaseVisit(case_id=c.id, at=at(accepted, 9, i), kind="intake", hall_id=c.receiving_hall_id))
    return c


def ticket(session: Session, w: World, day: dt.date, *, hour: int = 9, wait_min: int | None = None,
           service_min: int | None = None, code: str | None = None, window_id: int | None = None,
           clerk_id: int | None = None, hall: int | None = None) -> Ticket:
    """A ticket issued at ``hour``, called after ``wait_min`` and served for ``service_min`` minutes."""
    n = next(_seq)
    issued = at(day, hour)
    called = issued + dt.timedelta(minutes=wait_min) if wait_min is not None else None
    done = called + dt.timedelta(minutes=service_min) if called is not None and service_min is not None else None
    state = "done" if done else "called" if called else "waiting"
    t = Ticket(hall_id=hall or w.hall, category_id=w.category, day=day, seq=n % 1000, number=f"T{n % 1000:03d}",
               token=secrets.token_hex(8), ticket_class="normal", state=state, channel="kiosk", issued_at=issued,
               queued_at=issued, called_at=called, last_called_at=called, serving_at=called, done_at=done,
               calls=1 if called else 0, window_id=window_id, clerk_id=clerk_id, item_code=code)
    session.add(t)
    session.flush()
    return t


def rating(session: Session, w: World, dep: int | None, day: dt.date, level: str, *, default: bool = False,
           voided: bool = False) -> Rating:
    """A rating of that level given on ``day``."""
    negative = level in ("unsatisfied", "very_unsatisfied")
    r = Rating(subject="ticket", level=level, negative=negative, channel="default" if default else "evaluator",
               is_default=default, department_id=dep, hall_id=w.hall, rated_at=at(day, 11), rated_on=day,
               voided_at=at(day, 12) if voided else None)
    session.add(r)
    session.flush()
    return r


def complaint(session: Session, w: World, dep: int, accepted: dt.date, *, due: dt.date,
              closed: dt.date | None = None, replied: bool = False, verdict: str | None = None) -> Complaint:
    """A complaint received on ``accepted``, due on ``due``, maybe closed."""
    n = next(_seq)
    c = Complaint(number=f"YS{n:012d}", tracking_code=f"Q{n:09d}", channel="hotline", category="complain",
                  subject="测试诉求", content="", hall_id=w.hall, complainant_name="张三",
                  complainant_phone="13800000000", state="closed" if closed else "handling",
                  lead_department_id=dep, accepted_at=at(accepted, 9), accepted_on=accepted, limit_days=5,
                  due_on=due, due_at=at(due, 23), reply="已答复" if replied else "",
                  replied_at=at(accepted, 16) if replied else None, callback_verdict=verdict,
                  closed_at=at(closed, 17) if closed else None, closed_on=closed, solved=True if closed else None,
                  updated_at=at(accepted, 9))
    session.add(c)
    session.flush()
    return c
