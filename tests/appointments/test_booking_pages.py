"""Booking pages (预约) and the ways to them: guide → book → confirmation with QR → cancel; the outbox
carries the confirmation and the reminder; bad input writes nothing; the kiosk's 7×24 rule."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onewindow.appointments.models import Booking
from onewindow.core.clock import CHINA_TZ, FixedClock
from onewindow.notifications.models import OutboxMessage
from onewindow.queue.models import Ticket
from tests.conftest import HTML, Browser
from tests.factories import person_id

HALL = "HJ-ZWZX"
ITEM = "410724-SCJG-XK-001"  # 个体工商户设立登记: demo slots at the county center
TUESDAY = "2026-11-24"  # the clock stands at Monday 2026-11-23 10:00
ID_NUMBER = person_id("11010519491231002")
PHONE = "13912345678"


def _csrf_field(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "form without a CSRF token"
    return match[1]


@pytest.fixture
def visitor(app: FastAPI) -> Iterator[Browser]:
    """An anonymous phone browser holding the pre-login CSRF cookie, on the booking page of an item."""
    with TestClient(app, headers=HTML) as c:
        page = c.get("/book", params={"item": ITEM})
        yield Browser(c, _csrf_field(page.text))


def _book(visitor: Browser, **changes: str) -> httpx.Response:
    fields = {"item": ITEM, "hall": HALL, "day": TUESDAY, "start": "09:00", "id_number": ID_NUMBER,
              "phone": PHONE} | changes
    return visitor.post("/book", fields)


def _count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_the_guide_offers_booking_online_application_and_tickets_where_the_item_allows(client: TestClient) -> None:
    page = client.get(f"/items/{ITEM}", headers=HTML)
    assert page.status_code == 200
    assert f'href="/book?item={ITEM}"' in page.text
    assert f'href="/halls/{HALL}/kiosk?q=' in page.text
    book = client.get("/book", params={"item": ITEM, "day": TUESDAY}, headers=HTML)
    assert book.status_code == 200 and "09:00–09:30" in book.text and "余 2 个" in book.text


def test_booking_from_the_page_confirms_with_a_qr_code_and_queues_confirmation_and_reminder(
        visitor: Browser, session: Session) -> None:
    r = _book(visitor, day="2026-11-25")
    assert r.status_code == 303, r.text
    token = r.headers["location"].rsplit("/", 1)[1]
    page = visitor.client.get(r.headers["location"])
    assert page.status_code == 200
    assert "预约成功" in page.text and "<svg" in page.text and "11月25日（周三） 09:00–09:30" in page.text
    assert PHONE not in page.text and ID_NUMBER not in page.text  # masked at the edge
    booking = session.scalars(select(Booking).where(Booking.token == token)).one()
    messages = list(session.scalars(select(OutboxMessage).where(OutboxMessage.recipient == PHONE)
                                    .order_by(OutboxMessage.id)))
    assert [m.topic for m in messages] == ["appointment.confirmed", "appointment.reminder"]
    assert messages[1].next_attempt_at == booking.starts_at - dt.timedelta(hours=24)  # the day before
    assert messages[0].next_attempt_at < messages[1].next_attempt_at
    assert f"/bookings/{token}" in messages[0].body


def test_bad_input_is_refused_with_a_reason_and_writes_nothing(visitor: Browser, session: Session) -> None:
    before = (_count(session, Booking), _count(session, OutboxMessage))
    bad_id = _book(visitor, id_number="410724199001011234")
    assert bad_id.status_code == 422 and "身份证" in bad_id.text
    past = _book(visitor, day="2026-11-20")
    assert past.status_code == 422 and "已经过去" in past.text
    weekend = _book(visitor, day="2026-11-28")
    assert weekend.status_code == 422 and "非工作日" in weekend.text
    no_slot = _book(visitor, start="")
    assert no_slot.status_code == 422 and "请选择预约时段" in no_slot.text
    assert (_count(session, Booking), _count(session, OutboxMessage)) == before
    assert _book(visitor).status_code == 303
    double = _book(visitor)
    assert double.status_code == 409 and "您已预约该时段" in double.text
    assert _book(visitor, id_number=person_id("41072419900101001")).status_code == 303
    full = _book(visitor, id_number=person_id("41072419900101002"))
    assert full.status_code == 409 and "已约满" in full.text
    assert _count(session, Booking) == before[0] + 2


def test_cancel_needs_the_id_number_frees_the_place_and_withdraws_the_reminder(
        visitor: Browser, session: Session) -> None:
    location = _book(visitor).headers["location"]
    wrong = visitor.post(f"{location}/cancel", {"id_number": person_id("41072419900101001")})
    assert wrong.status_code == 422 and "不符" in wrong.text
    done = visitor.post(f"{location}/cancel", {"id_number": ID_NUMBER})
    assert done.status_code == 200 and "预约已取消" in done.text and "重新预约" in done.text
    assert session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.topic == "appointment.reminder", OutboxMessage.recipient == PHONE)) == 0
    again = visitor.client.get("/book", params={"item": ITEM, "hall": HALL, "day": TUESDAY})
    assert "余 2 个" in again.text


def test_a_booking_checks_in_at_the_kiosk(visitor: Browser, clock: FixedClock, session: Session) -> None:
    location = _book(visitor).headers["location"]
    clock.set(dt.datetime(2026, 11, 24, 8, 45, tzinfo=CHINA_TZ))
    kiosk = visitor.client.get(f"/halls/{HALL}/kiosk")
    r = visitor.post(f"/halls/{HALL}/kiosk/check-in", {"checkin_id_number": ID_NUMBER})
    assert kiosk.status_code == 200 and r.status_code == 303, r.text
    page = visitor.client.get(location)
    assert "已签到" in page.text and re.search(r"号票 [A-Z]\d{3}", page.text)


def test_the_kiosk_at_night_offers_no_ticket_only_unattended_services(
        visitor: Browser, clock: FixedClock, session: Session) -> None:
    clock.set(dt.datetime(2026, 11, 28, 2, 21, tzinfo=CHINA_TZ))  # a Saturday night
    page = visitor.client.get(f"/halls/{HALL}/kiosk", params={"q": "个体工商户"})
    assert page.status_code == 200
    assert 'id="take-ticket"' not in page.text and 'name="category"' not in page.text
    assert "暂停取号" in page.text and "11月30日 09:00" in page.text
    assert 'href="/track"' in page.text and "/book?" in page.text
    assert "登录" not in page.text and 'class="site-nav"' not in page.text  # kiosk mode: no site menu
    before = _count(session, Ticket)
    r = visitor.post(f"/halls/{HALL}/kiosk", {"category": "A"})
    assert r.status_code == 409 and "非办公时间" in r.text
    assert _count(session, Ticket) == before


def test_the_kiosk_takes_tickets_in_opening_hours_and_during_the_lunch_break(
        visitor: Browser, clock: FixedClock) -> None:
    clock.set(dt.datetime(2026, 11, 23, 12, 30, tzinfo=CHINA_TZ))
    assert visitor.post(f"/halls/{HALL}/kiosk", {"category": "A"}).status_code == 303
    clock.set(dt.datetime(2026, 11, 23, 17, 1, tzinfo=CHINA_TZ))
    assert visitor.post(f"/halls/{HALL}/kiosk", {"category": "A"}).status_code == 409


def test_slots_outside_the_halls_opening_hours_are_not_offered(session: Session, clock: FixedClock) -> None:
    from onewindow.appointments import service
    from onewindow.catalog.models import Hall

    hall = session.scalars(select(Hall).where(Hall.code == HALL)).one()
    hall.opening_hours = "工作日 9:00-11:00"
    session.flush()
    starts = [s.start.strftime("%H:%M") for s in service.available_slots(
        session, clock=clock, hall_code=HALL, category="A", day=dt.date(2026, 11, 24))]
    assert starts == ["09:00", "09:30", "10:00", "10:30"]
