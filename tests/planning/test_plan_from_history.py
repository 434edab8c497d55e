"""A plan from the hall's own ticket history: categories and service times from it, the forecast per date
(holidays closed), bookings as a floor, and planned against actual waits."""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from onewindow.catalog.models import Hall, HallCategory
from onewindow.core.clock import CHINA_TZ, FixedClock
from onewindow.planning import plan as planning
from onewindow.planning import service
from onewindow.planning.roster import ShiftRules
from onewindow.queue.models import Ticket
from onewindow.staff.models import User

WEEK = dt.date(2026, 12, 28)  # Monday; 2027-01-01 (Friday) is 元旦, a holiday


def _hall(session: Session) -> tuple[int, dict[str, int]]:
    town = session.scalars(select(Hall).where(Hall.code == "HJ-CGZ")).one()
    hall = Hall(code="HJ-PLAN-TEST", name="排班测试便民服务中心", level="town", region_id=town.region_id)
    session.add(hall)
    session.flush()
    hall_id = hall.id
    cats = {c.code: c.id for c in session.scalars(select(HallCategory).where(HallCategory.code.in_(["A", "B"])))}
    return hall_id, cats


def _history(session: Session, hall_id: int, cats: dict[str, int], first: dt.date, days: int) -> None:
    rows: list[Ticket] = []
    day = first
    made = 0
    while made < days:
        if day.weekday() < 5:
            made += 1
            seq = 0
            for hour, per_cat in ((9, {"A": 6, "B": 2}), (10, {"A": 10, "B": 3}), (11, {"A": 4, "B": 1})):
                for code, n in per_cat.items():
                    for i in range(n):
                        seq += 1
                        issued = dt.datetime.combine(day, dt.time(hour, (i * 7) % 60), CHINA_TZ)
                        called = issued + dt.timedelta(minutes=4)
                        rows.append(Ticket(hall_id=hall_id, category_id=cats[code], day=day, seq=seq,
                                           number=f"X{seq:04d}", token=secrets.token_hex(16),
                                           ticket_class="normal",
                                           state="done", channel="kiosk", issued_at=issued, queued_at=issued,
                                           called_at=called, last_called_at=called, serving_at=called,
                                           done_at=called + dt.timedelta(minutes=6 if code == "A" else 15), calls=1))
        day += dt.timedelta(days=1)
    session.add_all(rows)
    session.flush()


def test_a_week_is_planned_from_the_halls_own_history_and_holidays_are_closed(session: Session) -> None:
    hall_id, cats = _hall(session)
    _history(session, hall_id, cats, dt.date(2026, 11, 2), 25)
    hall_in = service.hall_input(session, hall_id=hall_id, week_start=WEEK)
    assert hall_in["source"] == "history"
    assert sorted(hall_in["days"]) == ["0", "1", "2", "3"]  # Friday is 元旦
    codes = {c["code"]: c for c in hall_in["scenario"]["categories"]}
    assert codes["A"]["service_minutes_mean"] == 6.0 and codes["B"]["service_minutes_mean"] == 15.0
    monday = hall_in["days"]["0"]["tickets"]
    assert [round(t["A"]) for t in monday] == [6, 10, 4]
    admin = session.scalars(select(User).where(User.username == "admin")).one()
    clock = FixedClock(dt.datetime(2026, 12, 24, 9, tzinfo=CHINA_TZ))
    plan = service.generate(session, clock=clock, user=admin, hall_id=hall_id, week_start=WEEK,
                            target=planning.Target(10), rules=ShiftRules())
    assert [d["weekday"] for d in plan.payload["days"]] == ["mon", "tue", "wed", "thu"]
    assert [h["hour"] for h in plan.payload["days"][0]["hours"]] == ["09", "10", "11"]


def test_actual_waits_per_hour_set_beside_the_plan(session: Session) -> None:
    hall_id, cats = _hall(session)
    _history(session, hall_id, cats, dt.date(2026, 11, 2), 1)
    assert service.actual_waits(session, hall_id, dt.date(2026, 11, 2)) == {"09": (8, 4.0), "10": (13, 4.0),
                                                                            "11": (5, 4.0)}
