"""Appointments API (/api/v1/appointments): free slots, book, cancel, check in (public); slot set-up (admin)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from onewindow.appointments import service
from onewindow.core.access import Action
from onewindow.core.audit import Actor
from onewindow.core.clock import CHINA_TZ
from onewindow.deps import ClockDep, CurrentAuth, DbSession, OptionalAuth, SettingsDep

router = APIRouter(prefix="/appointments", tags=["appointments"])

APPLICANT = Actor(None, "applicant")


class BookingIn(BaseModel):
    """A booking request."""

    category: str = Field(min_length=1, max_length=4)
    day: dt.date
    start: str = Field(description="时段开始时间 HH:MM", max_length=5)
    id_number: str = Field(max_length=30)
    phone: str = Field(max_length=20)
    item_code: str | None = Field(None, max_length=60)


class CancelIn(BaseModel):
    """Cancelling needs the ID number of the booking."""

    id_number: str = Field(max_length=30)


class SlotIn(BaseModel):
    """One slot template."""

    start: str = Field(max_length=5)
    end: str = Field(max_length=5)
    capacity: int


class SlotsIn(BaseModel):
    """All slots of a category at a hall."""

    slots: list[SlotIn]


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dt.datetime):
        return value.astimezone(CHINA_TZ).isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat(timespec="minutes") if isinstance(value, dt.time) else value.isoformat()
    return value


def _actor(auth: Any) -> Actor:
    return auth.actor if auth is not None else APPLICANT  # type: ignore[no-any-return]


@router.get("/halls/{hall_code}/slots", summary="可预约时段（公开）")
def slots(hall_code: str, session: DbSession, clock: ClockDep, settings: SettingsDep,
          category: Annotated[str, Query(max_length=4)],
          day: Annotated[dt.date, Query(description="日期")]) -> list[dict[str, Any]]:
    """Slots of a working day with the places left."""
    return [_plain(s) for s in service.available_slots(session, clock=clock, hall_code=hall_code, category=category,
                                                       day=day, rules=service.BookingRules.from_settings(settings))]


@router.post("/halls/{hall_code}/bookings", status_code=201, summary="预约（公开）")
def book(hall_code: str, body: BookingIn, session: DbSession, clock: ClockDep, settings: SettingsDep,
         auth: OptionalAuth) -> dict[str, Any]:
    """Book a slot with ID number and phone; the token is needed to check in or cancel."""
    booking = service.book(session, clock=clock, actor=_actor(auth), hall_code=hall_code, category=body.category,
                           day=body.day, start=body.start, id_number=body.id_number, phone=body.phone,
                           item_code=body.item_code, rules=service.BookingRules.from_settings(settings),
                           base_url=settings.base_url)
    data: dict[str, Any] = _plain(service.booking_view(session, booking))
    return {"token": booking.token} | data


@router.get("/bookings/{token}", summary="预约详情（公开，凭令牌）")
def get_booking(token: str, session: DbSession) -> dict[str, Any]:
    """A booking, personal data masked."""
    data: dict[str, Any] = _plain(service.booking_view(session, service.booking_by_token(session, token)))
    return data


@router.post("/bookings/{token}/cancel", summary="取消预约（公开，凭令牌和身份证号）")
def cancel(token: str, body: CancelIn, session: DbSession, clock: ClockDep, auth: OptionalAuth) -> dict[str, Any]:
    """Cancel before the slot begins."""
    booking = service.cancel_booking(session, clock=clock, actor=_actor(auth), token=token, id_number=body.id_number)
    data: dict[str, Any] = _plain(service.booking_view(session, booking))
    return data


@router.post("/bookings/{token}/check-in", summary="预约签到取号（公开，凭令牌）")
def check_in(token: str, session: DbSession, clock: ClockDep, settings: SettingsDep,
             auth: OptionalAuth) -> dict[str, Any]:
    """Arrive for the booking: an appointment ticket in the live queue."""
    booking, ticket = service.check_in(session, clock=clock, actor=_actor(auth), token=token,
                                       rules=service.BookingRules.from_settings(settings))
    data: dict[str, Any] = _plain(service.booking_view(session, booking))
    return data | {"ticket_token": ticket.token}


@router.put("/halls/{hall_code}/categories/{category}/slots", summary="设置预约时段（管理员）")
def put_slots(hall_code: str, category: str, body: SlotsIn, session: DbSession, clock: ClockDep,
              auth: CurrentAuth, settings: SettingsDep) -> list[dict[str, Any]]:
    """Replace the slot templates of a category at a hall (each inside the hall's opening hours)."""
    auth.require(Action.QUEUE_SETTINGS)
    rows = service.set_slot_templates(session, clock=clock, actor=auth.actor, hall_code=hall_code, category=category,
                                      slots=[(s.start, s.end, s.capacity) for s in body.slots],
                                      default_opening_hours=settings.attendance_default_hours)
    return [{"start": r.start_time.isoformat(timespec="minutes"), "end": r.end_time.isoformat(timespec="minutes"),
             "capacity": r.capacity} for r in rows]
