"""Booking pages (预约), public and phone-friendly: pick a hall, a day and a slot, identify, get a confirmation.

Thin edges: the rules (working days, capacity, per-person limits, no-shows, the past) live in
``appointments.service``; these views parse the form, call it and render. Bad input re-renders the
form with the reason (422 / 409) and writes nothing: the request's unit of work is rolled back.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from sqlalchemy.orm import Session

from onewindow.appointments import service
from onewindow.catalog import service as catalog_service
from onewindow.core.audit import Actor
from onewindow.core.clock import CHINA_TZ, Clock
from onewindow.core.errors import DomainError, NotFound, Problem, ValidationFailed
from onewindow.core.qr import qr_svg
from onewindow.deps import CSRF_COOKIE, Auth, ClockDep, DbSession, OptionalAuth, SettingsDep, check_csrf
from onewindow.web import FormDep, form_text, render

router = APIRouter(include_in_schema=False)

APPLICANT = Actor(None, "applicant")
WEEKDAYS = "一二三四五六日"


@dataclass(frozen=True)
class DayChoice:
    """A working day offered for booking."""

    value: str
    label: str


@dataclass(frozen=True)
class SlotChoice:
    """A slot with its places left."""

    start: str
    label: str
    left: int


def _day_label(day: dt.date) -> str:
    return f"{day.month}月{day.day}日（周{WEEKDAYS[day.weekday()]}）"


async def _public_csrf(request: Request, auth: OptionalAuth) -> Auth | None:
    """Anonymous posts echo the pre-login CSRF cookie (signed-in callers were checked with their session)."""
    if auth is None:
        await check_csrf(request, request.cookies.get(CSRF_COOKIE))
    return auth


PublicAuth = Annotated[Auth | None, Depends(_public_csrf)]


def _actor(auth: Auth | None) -> Actor:
    return auth.actor if auth is not None else APPLICANT


def _book_context(session: Session, clock: Clock, rules: service.BookingRules, *, item_code: str,
                  hall_code: str, day_text: str) -> dict[str, Any]:
    """What the booking form shows for an item: halls, working days, the chosen day's slots."""
    _item, version = catalog_service.get_item_version(session, item_code)
    category = version.hall_category.code
    halls = service.bookable_halls(session, category=category, levels=version.levels)
    hall = next((h for h in halls if h.code == hall_code), halls[0] if halls else None)
    days = service.booking_days(session, clock=clock, rules=rules)
    try:
        day = dt.date.fromisoformat(day_text) if day_text else None
    except ValueError:
        day = None
    if day not in days:
        day = days[0] if days else None
    slots: list[SlotChoice] = []
    if hall is not None and day is not None:
        slots = [SlotChoice(s.start.strftime("%H:%M"), f"{s.start:%H:%M}–{s.end:%H:%M}", s.left)
                 for s in service.available_slots(session, clock=clock, hall_code=hall.code, category=category,
                                                  day=day, rules=rules)]
    return {"item_code": item_code, "item_name": version.name, "category": category,
            "category_name": version.hall_category.name, "halls": halls, "hall": hall,
            "days": [DayChoice(d.isoformat(), _day_label(d)) for d in days], "day": day.isoformat() if day else "",
            "slots": slots, "horizon_days": rules.horizon_days}


def _book_page(request: Request, session: Session, clock: Clock, auth: Auth | None, *, item_code: str,
               hall_code: str = "", day_text: str = "", form: dict[str, str] | None = None, error: str = "",
               errors: dict[str, str] | None = None, status_code: int = 200) -> Response:
    rules = service.BookingRules.from_settings(request.app.state.settings)
    try:
        context = _book_context(session, clock, rules, item_code=item_code, hall_code=hall_code, day_text=day_text)
    except NotFound as exc:
        return render(request, "error.html", {"status": 404, "problems": [("", exc.message)]}, auth=auth,
                      status_code=404)
    context |= {"form": form or {}, "error": error, "errors": errors or {}}
    return render(request, "appointments/book.html", context, auth=auth, status_code=status_code)


@router.get("/book", response_class=HTMLResponse)
def book_page(request: Request, session: DbSession, clock: ClockDep, auth: OptionalAuth,
              item: Annotated[str, Query(max_length=60)] = "",
              hall: Annotated[str, Query(max_length=30)] = "",
              day: Annotated[str, Query(max_length=10)] = "") -> Response:
    """The booking form of an item: hall, working day, a slot with places left, ID number and phone."""
    if not item:
        return RedirectResponse("/", status_code=303)
    return _book_page(request, session, clock, auth, item_code=item, hall_code=hall, day_text=day)


@router.post("/book", response_class=HTMLResponse)
def book_submit(request: Request, session: DbSession, clock: ClockDep, settings: SettingsDep, auth: PublicAuth,
                form: FormDep) -> Response:
    """Book the chosen slot; bad input re-renders the form with the reason and books nothing."""
    fields = {k: form_text(form, k) for k in ("item", "hall", "day", "start", "id_number", "phone")}
    try:
        try:
            day = dt.date.fromisoformat(fields["day"])
        except ValueError:
            raise ValidationFailed([Problem("day", "bad_date", "请选择预约日期")]) from None
        if not fields["start"]:
            raise ValidationFailed([Problem("start", "required", "请选择预约时段")])
        _item, version = catalog_service.get_item_version(session, fields["item"])
        booking = service.book(session, clock=clock, actor=_actor(auth), hall_code=fields["hall"],
                               category=version.hall_category.code, day=day, start=fields["start"],
                               id_number=fields["id_number"], phone=fields["phone"], item_code=fields["item"],
                               rules=service.BookingRules.from_settings(settings), base_url=settings.base_url)
    except DomainError as exc:
        session.rollback()
        errors = {p.field: p.message for p in exc.problems}
        message = "；".join(p.message for p in exc.problems)
        if not fields["item"]:
            return render(request, "error.html", {"status": exc.status, "problems": [("", message)]}, auth=auth,
                      status_code=exc.status)
        return _book_page(request, session, clock, auth, item_code=fields["item"], hall_code=fields["hall"],
                          day_text=fields["day"], form=fields, error=message, errors=errors, status_code=exc.status)
    return RedirectResponse(f"/bookings/{booking.token}", status_code=303)


def _booking_page(request: Request, session: Session, clock: Clock, auth: Auth | None, token: str, *,
                  message: str = "", error: str = "", status_code: int = 200) -> Response:
    settings = request.app.state.settings
    booking = service.booking_by_token(session, token)
    view = service.booking_view(session, booking)
    url = service.booking_url(settings.base_url, token)
    item_name = ""
    if booking.item_code:
        try:
            item_name = catalog_service.get_item_version(session, booking.item_code)[1].name
        except NotFound:
            item_name = ""
    rebook = "/book?" + urlencode({"item": booking.item_code, "hall": booking.hall.code}) if booking.item_code else ""
    starts = view.starts_at.astimezone(CHINA_TZ)
    return render(request, "appointments/booking.html", {
        "booking": view, "hall": booking.hall, "token": token, "item_name": item_name,
        "when": f"{_day_label(starts.date())} {starts:%H:%M}–{view.ends_at.astimezone(CHINA_TZ):%H:%M}",
        "qr": Markup(qr_svg(url, title="预约凭证二维码")),  # noqa: S704 - segno's own SVG, no user text inside
        "url": url, "rebook_url": rebook, "kiosk_url": f"/halls/{booking.hall.code}/kiosk",
        "can_cancel": booking.state == service.BOOKED and clock.now() < booking.starts_at,
        "message": message, "error": error,
    }, auth=auth, status_code=status_code)


@router.get("/bookings/{token}", response_class=HTMLResponse)
def booking_page(request: Request, token: str, session: DbSession, clock: ClockDep, auth: OptionalAuth) -> Response:
    """The confirmation (预约凭证): when and where, a QR code to check in, cancel and rebook."""
    try:
        return _booking_page(request, session, clock, auth, token)
    except NotFound as exc:
        return render(request, "error.html", {"status": 404, "problems": [("", exc.message)]}, auth=auth,
                      status_code=404)


@router.post("/bookings/{token}/cancel", response_class=HTMLResponse)
def cancel_booking(request: Request, token: str, session: DbSession, clock: ClockDep, auth: PublicAuth,
                   form: FormDep) -> Response:
    """Cancel with the booking's ID number; the place is freed and the reminder withdrawn."""
    try:
        service.cancel_booking(session, clock=clock, actor=_actor(auth), token=token,
                               id_number=form_text(form, "id_number"))
    except NotFound as exc:
        session.rollback()
        return render(request, "error.html", {"status": 404, "problems": [("", exc.message)]}, auth=auth,
                      status_code=404)
    except DomainError as exc:
        session.rollback()
        return _booking_page(request, session, clock, auth, token,
                             error="取消失败：" + "；".join(p.message for p in exc.problems), status_code=exc.status)
    return _booking_page(request, session, clock, auth, token, message="预约已取消，名额已释放。")
