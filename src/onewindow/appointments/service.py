"""Appointments (预约): slots on working days, booking and cancelling with ID and phone, check-in to the queue.

Rules (numbers in :class:`BookingRules`, configured by ``ONEWINDOW_APPOINTMENT_*`` settings):

* Slots come from the hall's templates on every working day of the calendar (holidays and 调休
  from :func:`calendar.service.build_calendar`), from today up to ``horizon_days`` ahead; a slot
  that has begun can no longer be booked, nor one outside the hall's opening hours.
* Capacity is enforced by one atomic upsert per slot and day (no over-booking under concurrency).
* One person (ID number) holds at most ``max_active_per_person`` upcoming bookings and one per slot.
* No-shows: a booking not checked in by its slot's end becomes ``no_show``; ``no_show_limit``
  no-shows within ``no_show_window_days`` block new bookings for ``no_show_block_days`` after the
  latest of them (e.g. 3 in 30 days → 7 days without booking).
* Check-in from ``check_in_early_min`` minutes before the slot until its end gives an
  appointment-class ticket (channel ``appointment``) whose slot start the smart policy honours.
* Cancelling needs the booking's ID number and is possible until the slot begins.
"""

from __future__ import annotations

import datetime as dt
import itertools
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from onewindow.appointments.models import Booking, SlotTemplate, SlotUsage
from onewindow.calendar import service as calendar_service
from onewindow.catalog import rules as catalog_rules
from onewindow.catalog import service as catalog_service
from onewindow.catalog.models import HallCategory
from onewindow.config import Settings
from onewindow.core import audit
from onewindow.core.audit import Actor
from onewindow.core.clock import CHINA_TZ, Clock, today
from onewindow.core.errors import Conflict, NotFound, Problem, ValidationFailed
from onewindow.core.ids import mask_id_number, mask_phone, validate_id_number
from onewindow.notifications import service as notifications
from onewindow.notifications.models import OutboxMessage
from onewindow.queue import opening
from onewindow.queue import service as queue_service
from onewindow.queue.models import Ticket
from onewindow.queue.states import TicketClass
from onewindow.staff.attendance import DEFAULT_OPENING_HOURS


@dataclass(frozen=True)
class BookingRules:
    """The local booking rules (settings ``ONEWINDOW_APPOINTMENT_*``)."""

    horizon_days: int = 14
    max_active_per_person: int = 3
    no_show_limit: int = 3
    no_show_window_days: int = 30
    no_show_block_days: int = 7
    check_in_early_min: int = 30
    default_opening_hours: str = DEFAULT_OPENING_HOURS  # for a hall whose hours name no period

    @classmethod
    def from_settings(cls, settings: Settings) -> BookingRules:
        """The rules configured for this deployment."""
        return cls(horizon_days=settings.appointment_horizon_days,
                   max_active_per_person=settings.appointment_max_active_per_person,
                   no_show_limit=settings.appointment_no_show_limit,
                   no_show_window_days=settings.appointment_no_show_window_days,
                   no_show_block_days=settings.appointment_no_show_block_days,
                   check_in_early_min=settings.appointment_check_in_early_min,
                   default_opening_hours=settings.attendance_default_hours)


DEFAULT_RULES = BookingRules()

BOOKED, CANCELLED, CHECKED_IN, NO_SHOW = "booked", "cancelled", "checked_in", "no_show"
STATE_LABELS = {BOOKED: "已预约", CANCELLED: "已取消", CHECKED_IN: "已签到", NO_SHOW: "爽约"}


def _insert(session: Session, model: type[Any]) -> Any:
    return postgresql.insert(model) if session.get_bind().dialect.name == "postgresql" else sqlite.insert(model)


def _at(day: dt.date, time: dt.time) -> dt.datetime:
    return dt.datetime.combine(day, time, tzinfo=CHINA_TZ)


def _parse_time(value: str, field: str) -> dt.time:
    try:
        return dt.time.fromisoformat(value)
    except ValueError:
        raise ValidationFailed([Problem(field, "bad_time", f"时间格式应为 HH:MM：{value}")]) from None


def set_slot_templates(session: Session, *, clock: Clock, actor: Actor, hall_code: str, category: str,
                       slots: list[tuple[str, str, int]],
                       default_opening_hours: str = DEFAULT_OPENING_HOURS) -> list[SlotTemplate]:
    """Replace a category's slots at a hall: (start ``09:00``, end ``09:30``, capacity); used slots keep their row.
    Each slot lies inside one of the hall's own opening periods (a village point open mornings only takes
    morning slots)."""
    hall = catalog_service.hall_by_code(session, hall_code)
    cat = queue_service.category_by_code(session, category)
    parsed: list[tuple[dt.time, dt.time, int]] = []
    problems: list[Problem] = []
    for i, (start_text, end_text, capacity) in enumerate(slots):
        s, e = _parse_time(start_text, f"slots.{i}.start"), _parse_time(end_text, f"slots.{i}.end")
        if e <= s:
            problems.append(Problem(f"slots.{i}.end", "bad_range", "结束时间应晚于开始时间"))
        if not 0 <= capacity <= 100:
            problems.append(Problem(f"slots.{i}.capacity", "out_of_range", "每个时段可预约人数应在 0 到 100 之间"))
        if e > s and not opening.within_opening(hall.opening_hours, s, e, default=default_opening_hours):
            hours = opening.periods_text(hall.opening_hours, default=default_opening_hours)
            problems.append(Problem(f"slots.{i}.start", "outside_opening_hours",
                                    f"时段 {start_text}-{end_text} 不在{hall.name}的办公时间（{hours}）内"))
        parsed.append((s, e, capacity))
    ordered = sorted(parsed)
    for (_s1, e1, _c1), (s2, _e2, _c2) in itertools.pairwise(ordered):
        if s2 < e1:
            problems.append(Problem("slots", "overlap", f"时段重叠：{s2.strftime('%H:%M')}"))
    if problems:
        raise ValidationFailed(problems)
    existing = {t.start_time: t for t in session.scalars(select(SlotTemplate).where(
        SlotTemplate.hall_id == hall.id, SlotTemplate.category_id == cat.id))}
    before = [(t.start_time.isoformat(), t.end_time.isoformat(), t.capacity) for t in existing.values()]
    wanted = {s: (e, c) for s, e, c in parsed}
    for begins, row in existing.items():
        if begins not in wanted:
            used = session.scalar(select(func.count()).select_from(Booking).where(Booking.template_id == row.id))
            if used:
                row.capacity = 0  # keep the row the bookings point to; it takes no new ones
            else:
                session.delete(row)
    for begins, (end, capacity) in wanted.items():
        current = existing.get(begins)
        if current is None:
            session.add(SlotTemplate(hall_id=hall.id, category_id=cat.id, start_time=begins, end_time=end,
                                     capacity=capacity))
        else:
            current.end_time, current.capacity = end, capacity
    session.flush()
    audit.record(session, clock=clock, actor=actor, action="appointments.slots.set", entity_type="hall",
                 entity_id=f"{hall.code}/{cat.code}", before={"slots": sorted(before)},
                 after={"slots": sorted((s.isoformat(), e.isoformat(), c) for s, e, c in parsed)})
    return list(session.scalars(select(SlotTemplate).where(SlotTemplate.hall_id == hall.id,
                                                           SlotTemplate.category_id == cat.id)
                                .order_by(SlotTemplate.start_time)))


@dataclass(frozen=True)
class SlotView:
    """A slot of one day with the places left."""

    template_id: int
    day: dt.date
    start: dt.time
    end: dt.time
    capacity: int
    booked: int
    left: int


def available_slots(session: Session, *, clock: Clock, hall_code: str, category: str,
                    day: dt.date, rules: BookingRules = DEFAULT_RULES) -> list[SlotView]:
    """The slots of a working day within the horizon that have not begun, with places left (may be 0)."""
    hall = catalog_service.hall_by_code(session, hall_code)
    cat = queue_service.category_by_code(session, category)
    now = clock.now()
    first = today(clock)
    if not first <= day <= first + dt.timedelta(days=rules.horizon_days):
        return []
    if not calendar_service.build_calendar(session).is_workday(day):
        return []
    templates = list(session.scalars(select(SlotTemplate).where(
        SlotTemplate.hall_id == hall.id, SlotTemplate.category_id == cat.id, SlotTemplate.capacity > 0)
        .order_by(SlotTemplate.start_time)))
    used = {u.template_id: u.booked for u in session.scalars(select(SlotUsage).where(
        SlotUsage.day == day, SlotUsage.template_id.in_([t.id for t in templates])))} if templates else {}
    return [SlotView(t.id, day, t.start_time, t.end_time, t.capacity, used.get(t.id, 0),
                     max(0, t.capacity - used.get(t.id, 0)))
            for t in templates if _at(day, t.start_time) > now
            and opening.within_opening(hall.opening_hours, t.start_time, t.end_time,
                                       default=rules.default_opening_hours)]


def booking_days(session: Session, *, clock: Clock, rules: BookingRules = DEFAULT_RULES) -> list[dt.date]:
    """The working days from today to the horizon (holidays off, 调休 make-up days on)."""
    calendar = calendar_service.build_calendar(session)
    first = today(clock)
    return [d for d in (first + dt.timedelta(days=i) for i in range(rules.horizon_days + 1)) if calendar.is_workday(d)]


def bookable_halls(session: Session, *, category: str, levels: list[str] | None = None) -> list[Any]:
    """Halls with bookable slots of a category, at the levels an item may be handled (all when None)."""
    cat = queue_service.category_by_code(session, category)
    hall_ids = set(session.scalars(select(SlotTemplate.hall_id).where(
        SlotTemplate.category_id == cat.id, SlotTemplate.capacity > 0).distinct()))
    return [h for h in catalog_service.list_halls(session)
            if h.id in hall_ids and (levels is None or h.level in levels)]


def bookable_categories(session: Session, *, hall_code: str) -> set[str]:
    """Codes of the categories a hall takes bookings for (some slot with places)."""
    hall = catalog_service.hall_by_code(session, hall_code)
    return set(session.scalars(select(HallCategory.code).join(SlotTemplate, SlotTemplate.category_id == HallCategory.id)
                               .where(SlotTemplate.hall_id == hall.id, SlotTemplate.capacity > 0).distinct()))


def mark_no_shows(session: Session, *, clock: Clock, id_number: str | None = None) -> int:
    """Bookings whose slot ended without check-in become no-shows (one person's, or all); returns how many."""
    stmt = update(Booking).where(Booking.state == BOOKED, Booking.ends_at < clock.now())
    if id_number is not None:
        stmt = stmt.where(Booking.id_number == id_number)
    result = session.execute(stmt.values(state=NO_SHOW).execution_options(synchronize_session=False))
    count: int = getattr(result, "rowcount", 0) or 0
    return count


def no_show_block_until(session: Session, *, clock: Clock, id_number: str,
                        rules: BookingRules = DEFAULT_RULES) -> dt.datetime | None:
    """When a person's booking restriction ends, or None when they may book.

    ``no_show_limit`` no-shows whose slots ended within ``no_show_window_days`` before the latest one
    block booking for ``no_show_block_days`` after that latest no-show.
    """
    now = clock.now()
    since = now - dt.timedelta(days=rules.no_show_window_days + rules.no_show_block_days)
    ends = list(session.scalars(select(Booking.ends_at).where(
        Booking.id_number == id_number, Booking.state == NO_SHOW, Booking.ends_at >= since)
        .order_by(Booking.ends_at)))
    window = dt.timedelta(days=rules.no_show_window_days)
    for i in range(len(ends) - 1, rules.no_show_limit - 2, -1):
        latest = ends[i]
        in_window = [e for e in ends[: i + 1] if latest - e <= window]
        if len(in_window) >= rules.no_show_limit:
            until = latest + dt.timedelta(days=rules.no_show_block_days)
            return until if until > now else None
    return None


def booking_snapshot(booking: Booking) -> dict[str, Any]:
    """What the audit log keeps of a booking (personal data masked)."""
    return {"hall_id": booking.hall_id, "category_id": booking.category_id, "day": booking.day.isoformat(),
            "starts_at": booking.starts_at.isoformat(), "state": booking.state,
            "id_number": mask_id_number(booking.id_number), "phone": mask_phone(booking.phone),
            "ticket_id": booking.ticket_id}


def book(session: Session, *, clock: Clock, actor: Actor, hall_code: str, category: str, day: dt.date,
         start: str, id_number: str, phone: str, item_code: str | None = None,
         rules: BookingRules = DEFAULT_RULES, base_url: str = "") -> Booking:
    """Book a slot: capacity, per-person limit and no-show restriction enforced; confirmation and reminder queued."""
    problems: list[Problem] = []
    person = phone_clean = ""
    try:
        person = validate_id_number(id_number, today=today(clock))
    except ValidationFailed as exc:
        problems += exc.problems
    try:
        phone_clean = queue_service.validate_phone(phone)
    except ValidationFailed as exc:
        problems += exc.problems
    if problems:
        raise ValidationFailed(problems)
    start_time = _parse_time(start, "start")
    if day < today(clock):
        raise ValidationFailed([Problem("day", "past_date", f"{day.isoformat()} 已经过去，请选择今天或以后的日期")])
    info = calendar_service.build_calendar(session).day_info(day)
    if not info.workday:
        reason = f"（{info.name}）" if info.name else ""
        raise ValidationFailed([Problem("day", "not_a_working_day",
                                        f"{day.isoformat()} 是非工作日{reason}：休息日和法定节假日大厅不办理预约业务")])
    hall = catalog_service.hall_by_code(session, hall_code)
    if not opening.within_opening(hall.opening_hours, start_time, start_time, default=rules.default_opening_hours):
        hours = opening.periods_text(hall.opening_hours, default=rules.default_opening_hours)
        raise ValidationFailed([Problem("start", "outside_opening_hours",
                                        f"{start} 不在{hall.name}的办公时间（工作日 {hours}）内，请选择其他时段")])
    _check_item_at_hall(session, hall, item_code)
    slot = next((s for s in available_slots(session, clock=clock, hall_code=hall_code, category=category, day=day,
                                            rules=rules) if s.start == start_time), None)
    if slot is None:
        message = "该日期没有这个可预约时段（非工作日、已开始或超出可预约范围）"
        raise ValidationFailed([Problem("start", "no_such_slot", message)])
    mark_no_shows(session, clock=clock, id_number=person)
    blocked_until = no_show_block_until(session, clock=clock, id_number=person, rules=rules)
    if blocked_until is not None:
        raise Conflict(f"近{rules.no_show_window_days}天爽约已达{rules.no_show_limit}次，"
                       f"{blocked_until.astimezone(CHINA_TZ).strftime('%Y-%m-%d %H:%M')}前不能预约",
                       code="too_many_no_shows", field="id_number")
    active = list(session.scalars(select(Booking).where(Booking.id_number == person, Booking.state == BOOKED)))
    if any(b.template_id == slot.template_id and b.day == day for b in active):
        raise Conflict("您已预约该时段", code="already_booked", field="start")
    if len(active) >= rules.max_active_per_person:
        raise Conflict(f"每人最多同时持有{rules.max_active_per_person}个未到期预约", code="booking_limit",
                       field="id_number")
    taken = _take_place(session, template_id=slot.template_id, day=day)
    if taken > slot.capacity:
        raise Conflict("该时段已约满，请选择其他时段", code="slot_full", field="start")
    template = session.get_one(SlotTemplate, slot.template_id)
    booking = Booking(token=secrets.token_urlsafe(18), hall_id=template.hall_id, category_id=template.category_id,
                      template_id=template.id, day=day, starts_at=_at(day, slot.start), ends_at=_at(day, slot.end),
                      id_number=person, phone=phone_clean, item_code=(item_code or "").strip() or None, state=BOOKED,
                      created_at=clock.now())
    session.add(booking)
    session.flush()
    audit.record(session, clock=clock, actor=actor, action="appointments.book", entity_type="appointment_booking",
                 entity_id=booking.id, after=booking_snapshot(booking))
    _notify_booked(session, clock=clock, booking=booking, base_url=base_url)
    return booking


def _check_item_at_hall(session: Session, hall: Any, item_code: str | None) -> None:
    """422 when the booked item is not offered at the hall's level (catalog 可办层级)."""
    code = (item_code or "").strip()
    if not code:
        return
    try:
        _item, version = catalog_service.get_item_version(session, code)
    except NotFound:
        raise ValidationFailed([Problem("item", "unknown_item", f"事项“{code}”不存在")]) from None
    if not catalog_rules.hall_handles(hall.level, version.levels):
        raise ValidationFailed([Problem("hall", "wrong_level",
                                        f"{hall.name}不办理“{version.name}”，请选择可办理该事项的大厅")])


REMINDER_HOURS = 24  # the reminder leaves a day before the slot (at once when the slot is nearer)
TOPIC_CONFIRMED, TOPIC_REMINDER = "appointment.confirmed", "appointment.reminder"


def booking_url(base_url: str, token: str) -> str:
    """The public page of a booking (its QR code and the link in the messages)."""
    return f"{base_url.rstrip('/')}/bookings/{token}"


def _notify_booked(session: Session, *, clock: Clock, booking: Booking, base_url: str) -> None:
    # one confirmation now and one reminder before the slot, both through the outbox (sent after commit
    # by the delivery job; nothing leaves when the booking rolls back)
    when = booking.starts_at.astimezone(CHINA_TZ).strftime("%m月%d日 %H:%M")
    place = f"{booking.hall.name}（{booking.category.name}）"
    link = booking_url(base_url, booking.token)
    payload = {"booking_id": booking.id}
    notifications.enqueue(session, clock=clock, topic=TOPIC_CONFIRMED, channel=notifications.Channel.SMS.value,
                          recipient=booking.phone, subject="预约成功",
                          body=f"您已预约{when}到{place}办理业务，请带好身份证件提前到大厅签到取号。详情或取消：{link}",
                          payload=payload)
    reminder = notifications.enqueue(session, clock=clock, topic=TOPIC_REMINDER,
                                     channel=notifications.Channel.SMS.value, recipient=booking.phone,
                                     subject="预约提醒",
                                     body=f"提醒：您预约了{when}到{place}办理业务，请按时到大厅自助机签到。{link}",
                                     payload=payload)
    reminder.next_attempt_at = max(clock.now(), booking.starts_at - dt.timedelta(hours=REMINDER_HOURS))


def _withdraw_reminder(session: Session, booking: Booking) -> None:
    # a cancelled booking's pending reminder is not sent (it is deleted: it never left the outbox)
    for message in session.scalars(select(OutboxMessage).where(
            OutboxMessage.topic == TOPIC_REMINDER, OutboxMessage.status == notifications.Status.PENDING.value,
            OutboxMessage.recipient == booking.phone)):
        if message.payload.get("booking_id") == booking.id:
            session.delete(message)


def _take_place(session: Session, *, template_id: int, day: dt.date) -> int:
    # One upsert … RETURNING: concurrent bookings each see a distinct count; over capacity, the request
    # fails and its unit of work (this increment included) rolls back.
    stmt = _insert(session, SlotUsage).values(template_id=template_id, day=day, booked=1)
    stmt = stmt.on_conflict_do_update(index_elements=[SlotUsage.template_id, SlotUsage.day],
                                      set_={"booked": SlotUsage.booked + 1}).returning(SlotUsage.booked)
    value: int = session.execute(stmt).scalar_one()
    return value


def booking_by_token(session: Session, token: str) -> Booking:
    """A booking by its token, or 404."""
    booking = session.scalars(select(Booking).where(Booking.token == token)).first()
    if booking is None:
        raise NotFound("预约", "（令牌无效）", "token")
    return booking


def _move(session: Session, *, clock: Clock, actor: Actor, booking: Booking, target: str, action: str) -> None:
    allowed = {BOOKED: {CANCELLED, CHECKED_IN, NO_SHOW}}
    if target not in allowed.get(booking.state, set()):
        raise Conflict(f"预约状态为「{STATE_LABELS[booking.state]}」，不能变为「{STATE_LABELS[target]}」",
                       code="illegal_booking_transition", field="state")
    before = booking_snapshot(booking)
    booking.state = target
    session.flush()
    audit.record(session, clock=clock, actor=actor, action=f"appointments.{action}", entity_type="appointment_booking",
                 entity_id=booking.id, before=before, after=booking_snapshot(booking))


def cancel_booking(session: Session, *, clock: Clock, actor: Actor, token: str, id_number: str) -> Booking:
    """Cancel before the slot begins; the ID number must match the booking's."""
    booking = booking_by_token(session, token)
    mark_no_shows(session, clock=clock, id_number=booking.id_number)
    session.refresh(booking)
    if validate_id_number(id_number) != booking.id_number:
        raise ValidationFailed([Problem("id_number", "id_number_mismatch", "身份证号码与预约信息不符")])
    if booking.state == BOOKED and clock.now() >= booking.starts_at:
        raise Conflict("预约时段已开始，不能取消", code="slot_started", field="token")
    _move(session, clock=clock, actor=actor, booking=booking, target=CANCELLED, action="cancel")
    booking.cancelled_at = clock.now()
    session.execute(update(SlotUsage).where(SlotUsage.template_id == booking.template_id, SlotUsage.day == booking.day)
                    .values(booked=SlotUsage.booked - 1).execution_options(synchronize_session=False))
    _withdraw_reminder(session, booking)
    session.flush()
    return booking


def check_in(session: Session, *, clock: Clock, actor: Actor, token: str,
             rules: BookingRules = DEFAULT_RULES) -> tuple[Booking, Ticket]:
    """Arrive for a booking (签到): an appointment-class ticket in the slot's category."""
    booking = booking_by_token(session, token)
    mark_no_shows(session, clock=clock, id_number=booking.id_number)
    session.refresh(booking)
    now = clock.now()
    if booking.state == BOOKED and now < booking.starts_at - dt.timedelta(minutes=rules.check_in_early_min):
        opens = (booking.starts_at - dt.timedelta(minutes=rules.check_in_early_min)).astimezone(CHINA_TZ)
        raise Conflict(f"签到时间未到，请于{opens.strftime('%m月%d日 %H:%M')}后签到", code="too_early", field="token")
    _move(session, clock=clock, actor=actor, booking=booking, target=CHECKED_IN, action="check_in")
    ticket = queue_service.issue_ticket(session, clock=clock, actor=actor, hall_code=booking.hall.code,
                                        category=booking.category.code, ticket_class=TicketClass.APPOINTMENT.value,
                                        channel="appointment", id_number=booking.id_number, phone=booking.phone,
                                        item_code=booking.item_code, appointment_at=booking.starts_at)
    booking.checked_in_at = now
    booking.ticket_id = ticket.id
    _withdraw_reminder(session, booking)
    session.flush()
    return booking, ticket


def check_in_by_id(session: Session, *, clock: Clock, actor: Actor, hall_code: str, id_number: str,
                   rules: BookingRules = DEFAULT_RULES) -> tuple[Booking, Ticket]:
    """Check in at the kiosk with the ID number: today's earliest open booking at this hall."""
    person = validate_id_number(id_number, today=today(clock))
    hall = catalog_service.hall_by_code(session, hall_code)
    mark_no_shows(session, clock=clock, id_number=person)
    booking = session.scalars(select(Booking).where(
        Booking.id_number == person, Booking.hall_id == hall.id, Booking.state == BOOKED,
        Booking.day == today(clock)).order_by(Booking.starts_at)).first()
    if booking is None:
        raise NotFound("今日在本大厅的有效预约", "（请核对身份证号，或直接按业务类别取号）", "id_number")
    return check_in(session, clock=clock, actor=actor, token=booking.token, rules=rules)


@dataclass(frozen=True)
class BookingView:
    """A booking as the applicant sees it (masked)."""

    hall: str
    category: str
    category_name: str
    day: dt.date
    starts_at: dt.datetime
    ends_at: dt.datetime
    state: str
    state_label: str
    id_number: str
    phone: str
    ticket_number: str | None


def booking_view(session: Session, booking: Booking) -> BookingView:
    """The masked view of a booking."""
    ticket = session.get(Ticket, booking.ticket_id) if booking.ticket_id else None
    return BookingView(hall=booking.hall.code, category=booking.category.code, category_name=booking.category.name,
                       day=booking.day, starts_at=booking.starts_at, ends_at=booking.ends_at, state=booking.state,
                       state_label=STATE_LABELS[booking.state], id_number=booking.id_number,  # masked at the edge
                       phone=booking.phone, ticket_number=ticket.number if ticket else None)
