"""Appointment tables: slot templates per hall and category, bookings, and the per-slot booking counter."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Time, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from onewindow.catalog.models import Hall, HallCategory
from onewindow.db import AwareDateTime, Base


class SlotTemplate(Base):
    """A bookable period on every working day of the calendar (e.g. 09:00–09:30, 4 people)."""

    __tablename__ = "appointment_slot_template"
    __table_args__ = (UniqueConstraint("hall_id", "category_id", "start_time"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("hall.id"), index=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("hall_category.id"), index=True)
    start_time: Mapped[dt.time] = mapped_column(Time)
    end_time: Mapped[dt.time] = mapped_column(Time)
    capacity: Mapped[int] = mapped_column(Integer)

    hall: Mapped[Hall] = relationship(lazy="joined")
    category: Mapped[HallCategory] = relationship(lazy="joined")


class SlotUsage(Base):
    """How many places of one slot on one day are taken (incremented atomically, checked against capacity)."""

    __tablename__ = "appointment_slot_usage"
    __table_args__ = (UniqueConstraint("template_id", "day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("appointment_slot_template.id", ondelete="CASCADE"),
                                             index=True)
    day: Mapped[dt.date] = mapped_column(Date)
    booked: Mapped[int] = mapped_column(Integer)


class Booking(Base):
    """A booking (预约) of a slot by a person: ID number and phone stored whole, shown masked."""

    __tablename__ = "appointment_booking"
    __table_args__ = (
        Index("ix_appointment_booking_person_state", "id_number", "state"),
        Index("ix_appointment_booking_hall_day", "hall_id", "day"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token: Mapped[str] = mapped_column(String(32), unique=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("hall.id"))
    category_id: Mapped[int] = mapped_column(ForeignKey("hall_category.id"), index=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("appointment_slot_template.id"), index=True)
    day: Mapped[dt.date] = mapped_column(Date)
    starts_at: Mapped[dt.datetime] = mapped_column(AwareDateTime())
    ends_at: Mapped[dt.datetime] = mapped_column(AwareDateTime())
    id_number: Mapped[str] = mapped_column(String(18))
    phone: Mapped[str] = mapped_column(String(20))
    item_code: Mapped[str | None] = mapped_column(String(60))
    state: Mapped[str] = mapped_column(String(12))  # booked | cancelled | checked_in | no_show
    created_at: Mapped[dt.datetime] = mapped_column(AwareDateTime())
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime())
    checked_in_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime())
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("queue_ticket.id"), index=True)

    hall: Mapped[Hall] = relationship(lazy="joined")
    category: Mapped[HallCategory] = relationship(lazy="joined")
