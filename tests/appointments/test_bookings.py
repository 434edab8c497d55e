"""预约: slots follow the working-day calendar, capacity and per-person limits hold, no-shows restrict,
check-in gives an appointment ticket in the live queue."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from onewindow.appointments import service
from onewindow.calendar import service as calendar_service
from onewindow.core.audit import Actor
from onewindow.core.clock import CHINA_TZ, FixedClock
from onewindow.core.errors import Conflict, NotFound
from onewindow.queue.models import Ticket
from tests.factories import person_id

HALL = "HJ-ZWZX"  # the demo gives every category half-hour slots with two places
TUESDAY = dt.date(2026, 11, 24)
SATURDAY = dt.date(2026, 11, 28)
APPLICANT = Actor(None, "applicant")


def person(n: int) -> str:
    return person_id(f"41072419900101{n:03d}")


def book(session: Session, clock: FixedClock, n: int, start: str = "09:00", day: dt.date = TUESDAY) -> str:
    booking = service.book(session, clock=clock, actor=APPLICANT, hall_code=HALL, category="A", day=day, start=start,
                           id_number=person(n), phone="13803731234")
    return booking.token


def test_slots_follow_the_working_day_calendar(session: Session, clock: FixedClock) -> None:
    tuesday = service.available_slots(session, clock=clock, hall_code=HALL, category="A", day=TUESDAY)
    assert [s.start.strftime("%H:%M") for s in tuesday][:3] == ["09:00", "09:30", "10:00"] and len(tuesday) == 12
    assert service.available_slots(session, clock=clock, hall_code=HALL, category="A", day=SATURDAY) == []
    today = service.available_slots(session, clock=clock, hall_code=HALL, category="A", day=dt.date(2026, 11, 23))
    assert today[0].start == dt.time(10, 30)  # it is 10:00: slots that began are gone
    calendar_service.set_override(session, clock=clock, actor=APPLICANT, day_date=TUESDAY, kind="holiday",
                                  name="临时放假")
    assert service.available_slots(session, clock=clock, hall_code=HALL, category="A", day=TUESDAY) == []


def test_capacity_holds_and_a_cancellation_frees_a_place(session: Session, clock: FixedClock) -> None:
    first = book(session, clock, 1)
    book(session, clock, 2)
    with pytest.raises(Conflict) as full, session.begin_nested():  # the edge would roll the request back
        book(session, clock, 3)
    assert full.value.code == "slot_full"
    service.cancel_booking(session, clock=clock, actor=APPLICANT, token=first, id_number=person(1))
    book(session, clock, 3)
    slot = service.available_slots(session, clock=clock, hall_code=HALL, category="A", day=TUESDAY)[0]
    assert (slot.booked, slot.left) == (2, 0)


def test_one_person_holds_at_most_three_bookings_and_one_per_slot(session: Session, clock: FixedClock) -> None:
    book(session, clock, 7, "09:00")
    with pytest.raises(Conflict) as twice:
        book(session, clock, 7, "09:00")
    assert twice.value.code == "already_booked"
    book(session, clock, 7, "09:30")
    book(session, clock, 7, "10:00")
    with pytest.raises(Conflict) as limit:
        book(session, clock, 7, "10:30")
    assert limit.value.code == "booking_limit"


def test_three_no_shows_block_new_bookings(session: Session, clock: FixedClock) -> None:
    for start in ("09:00", "09:30", "10:00"):
        book(session, clock, 9, start)
    clock.set(dt.datetime(2026, 11, 24, 17, 0, tzinfo=CHINA_TZ))
    with pytest.raises(Conflict) as blocked:
        book(session, clock, 9, "09:00", day=dt.date(2026, 11, 25))
    # the latest no-show ended 2026-11-24 10:30: seven days without booking from then
    assert blocked.value.code == "too_many_no_shows" and "2026-12-01 10:30" in blocked.value.message
    clock.set(dt.datetime(2026, 12, 1, 10, 31, tzinfo=CHINA_TZ))
    assert book(session, clock, 9, "09:00", day=dt.date(2026, 12, 2))


def test_no_show_rules_are_settings(session: Session, clock: FixedClock) -> None:
    lenient = service.BookingRules(no_show_limit=4)
    for start in ("09:00", "09:30", "10:00"):
        book(session, clock, 12, start)
    clock.set(dt.datetime(2026, 11, 24, 17, 0, tzinfo=CHINA_TZ))
    booking = service.book(session, clock=clock, actor=APPLICANT, hall_code=HALL, category="A",
                           day=dt.date(2026, 11, 25), start="09:00", id_number=person(12), phone="13803731234",
                           rules=lenient)
    assert booking.state == "booked"


def test_kiosk_check_in_by_id_number(session: Session, clock: FixedClock) -> None:
    book(session, clock, 13)
    clock.set(dt.datetime(2026, 11, 24, 8, 45, tzinfo=CHINA_TZ))
    booking, ticket = service.check_in_by_id(session, clock=clock, actor=APPLICANT, hall_code=HALL,
                                             id_number=person(13))
    assert booking.state == "checked_in" and ticket.ticket_class == "appointment"
    with pytest.raises(NotFound):
        service.check_in_by_id(session, clock=clock, actor=APPLICANT, hall_code=HALL, id_number=person(14))


def test_check_in_after_the_slot_is_refused(session: Session, clock: FixedClock) -> None:
    token = book(session, clock, 15)
    clock.set(dt.datetime(2026, 11, 24, 9, 45, tzinfo=CHINA_TZ))  # the 09:00–09:30 slot is over
    with pytest.raises(Conflict):
        service.check_in(session, clock=clock, actor=APPLICANT, token=token)


def test_check_in_issues_an_appointment_ticket(session: Session, clock: FixedClock) -> None:
    token = book(session, clock, 11)
    clock.set(dt.datetime(2026, 11, 24, 8, 20, tzinfo=CHINA_TZ))
    with pytest.raises(Conflict) as early:
        service.check_in(session, clock=clock, actor=APPLICANT, token=token)
    assert early.value.code == "too_early"
    clock.set(dt.datetime(2026, 11, 24, 8, 45, tzinfo=CHINA_TZ))
    booking, ticket = service.check_in(session, clock=clock, actor=APPLICANT, token=token)
    assert booking.state == "checked_in" and isinstance(ticket, Ticket)
    assert (ticket.ticket_class, ticket.channel, ticket.state) == ("appointment", "appointment", "waiting")
    assert ticket.appointment_at == dt.datetime(2026, 11, 24, 9, 0, tzinfo=CHINA_TZ)
    with pytest.raises(Conflict):
        service.check_in(session, clock=clock, actor=APPLICANT, token=token)


def test_booking_api_masks_personal_data_and_checks_the_id_on_cancel(client: TestClient) -> None:
    r = client.post(f"/api/v1/appointments/halls/{HALL}/bookings",
                    json={"category": "B", "day": "2026-11-24", "start": "13:00", "id_number": person(21),
                          "phone": "13803731234"})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["id_number"].startswith("410724") and "*" in body["id_number"] and body["phone"] == "138****1234"
    r = client.post(f"/api/v1/appointments/bookings/{body['token']}/cancel", json={"id_number": person(22)})
    assert r.status_code == 422 and r.json()["errors"][0]["code"] == "id_number_mismatch"
    r = client.post(f"/api/v1/appointments/halls/{HALL}/bookings",
                    json={"category": "B", "day": "2026-11-28", "start": "09:00", "id_number": person(23),
                          "phone": "13803731234"})
    assert r.status_code == 422 and "非工作日" in r.json()["errors"][0]["message"]
    slots = client.get(f"/api/v1/appointments/halls/{HALL}/slots", params={"category": "B", "day": "2026-11-24"})
    afternoon = {s["start"]: s for s in slots.json()}["13:00"]
    assert (afternoon["booked"], afternoon["left"]) == (1, 1)


def test_booking_a_holiday_or_a_full_slot_answers_clearly(client: TestClient) -> None:
    body = {"category": "A", "day": "2027-01-01", "start": "09:00", "id_number": person(20), "phone": "13803731234"}
    r = client.post(f"/api/v1/appointments/halls/{HALL}/bookings", json=body)
    assert r.status_code == 422
    err = r.json()["errors"][0]
    assert err["field"] == "day" and "节假日" in err["message"] and "元旦" in err["message"]
    day = {"day": TUESDAY.isoformat(), "start": "09:00"}
    for n in (21, 22):
        assert client.post(f"/api/v1/appointments/halls/{HALL}/bookings", json={**body, **day, "id_number": person(n)}
                           ).status_code == 201
    full = client.post(f"/api/v1/appointments/halls/{HALL}/bookings", json={**body, **day, "id_number": person(23)})
    assert full.status_code == 409
    assert full.json()["errors"][0]["message"] == "该时段已约满，请选择其他时段"
