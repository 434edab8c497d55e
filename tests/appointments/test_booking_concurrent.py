"""Twenty people booking the last places of one slot at once: exactly the capacity gets in, the rest see 409."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from sqlalchemy import select

from onewindow import db
from onewindow.appointments.models import Booking
from onewindow.calendar import service as calendar_service
from onewindow.core.clock import SystemClock, today
from tests.factories import person_id

HALL = "HJ-ZWZX"
PEOPLE = 20


def test_concurrent_bookings_never_exceed_capacity(live_server: Any) -> None:
    engine = live_server.server.config.app.state.engine
    factory = db.make_session_factory(engine)
    with factory() as s:
        calendar = calendar_service.build_calendar(s)
    day = today(SystemClock()) + dt.timedelta(days=1)
    while not calendar.is_workday(day):
        day += dt.timedelta(days=1)

    def attempt(i: int) -> int:
        r = httpx.post(f"{live_server.url}/api/v1/appointments/halls/{HALL}/bookings", timeout=60,
                       json={"category": "H", "day": day.isoformat(), "start": "16:00",
                             "id_number": person_id(f"41072419850101{i:03d}"), "phone": "13803731234"})
        assert r.status_code in (201, 409), r.text
        return r.status_code

    with ThreadPoolExecutor(8) as pool:
        codes = Counter(pool.map(attempt, range(PEOPLE)))
    assert codes == {201: 2, 409: PEOPLE - 2}  # the demo gives two places per slot
    with factory() as s:
        stored = s.scalars(select(Booking).where(Booking.day == day, Booking.state == "booked")).all()
    assert len(stored) == 2
