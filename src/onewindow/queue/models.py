"""Live queue tables: windows, clerk qualifications, hall settings, tickets, their history and counters."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from onewindow.catalog.models import Hall, HallCategory
from onewindow.db import AwareDateTime, Base
from onewindow.staff.models import User


class WindowStatus(StrEnum):
    """Whether a window is staffed and busy."""

    OFFLINE = "offline"
    IDLE = "idle"
    SERVING = "serving"
    PAUSED = "paused"

    @property
    def label(self) -> str:
        """Chinese name shown to people."""
        return WINDOW_STATUS_LABELS[self]


WINDOW_STATUS_LABELS: dict[WindowStatus, str] = {
    WindowStatus.OFFLINE: "未签到",
    WindowStatus.IDLE: "空闲",
    WindowStatus.SERVING: "办理中",
    WindowStatus.PAUSED: "暂停服务",
}


class Channel(StrEnum):
    """Where a ticket was taken."""

    KIOSK = "kiosk"
    API = "api"
    WINDOW = "window"
    APPOINTMENT = "appointment"

    @property
    def label(self) -> str:
        """Chinese name shown to people."""
        return CHANNEL_LABELS[self]


CHANNEL_LABELS: dict[Channel, str] = {
    Channel.KIOSK: "自助取号机",
    Channel.API: "网上取号",
    Channel.WINDOW: "窗口代取",
    Channel.APPOINTMENT: "预约签到",
}


DEFAULT_ROUTING_POLICY = "pooled"  # a hall's policy until its settings are written


class Window(Base):
    """A service window of a hall (窗口): type, skills (categories, preferred first) and its clerk."""

    __tablename__ = "queue_window"
    __table_args__ = (UniqueConstraint("hall_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("hall.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))  # routing.WindowKind
    skills: Mapped[list[str]] = mapped_column(JSON)  # hall category codes, preferred first
    home: Mapped[list[str]] = mapped_column(JSON)  # its department's categories; empty: all skills
    flexible: Mapped[bool] = mapped_column(Boolean, default=False)  # 潮汐窗口
    status: Mapped[str] = mapped_column(String(10), default=WindowStatus.OFFLINE.value, index=True)
    clerk_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"), index=True)
    signed_in_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime())
    note: Mapped[str] = mapped_column(String(100), default="")

    hall: Mapped[Hall] = relationship(lazy="joined")
    clerk: Mapped[User | None] = relationship(lazy="joined")

    @property
    def label(self) -> str:
        """``3号窗口``."""
        return window_label(self.number)


def window_label(number: int) -> str:
    """A window's name by its number: ``3号窗口``."""
    return f"{number}号窗口"


class StaffQualification(Base):
    """A clerk may serve a hall category (一岗多能); decides the windows the clerk may sign into."""

    __tablename__ = "staff_qualification"
    __table_args__ = (UniqueConstraint("user_id", "category_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id", ondelete="CASCADE"), index=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("hall_category.id"), index=True)
    granted_at: Mapped[dt.datetime] = mapped_column(AwareDateTime())

    category: Mapped[HallCategory] = relationship(lazy="joined")


class HallQueueSettings(Base):
    """Queue settings of one hall: routing policy, calls before 过号, transfer rule, over-time threshold."""

    __tablename__ = "hall_queue_settings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("hall.id"), unique=True)
    routing_policy: Mapped[str] = mapped_column(String(20), default=DEFAULT_ROUTING_POLICY)
    policy_params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    max_calls: Mapped[int] = mapped_column(Integer, default=3)
    transfer_keep_time: Mapped[bool] = mapped_column(Boolean, default=True)
    overtime_wait_min: Mapped[int] = mapped_column(Integer, default=15)
    default_service_min: Mapped[dict[str, float]] = mapped_column(JSON, default=dict)  # per category code
    updated_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime())  # None: defaults never changed


class Ticket(Base):
    """A queue ticket (号票) ``A001``: per hall, category and day; personal data stored whole, shown masked."""

    __tablename__ = "queue_ticket"
    __table_args__ = (
        # the number keeps its issuing letter after a transfer, so it (not the category) is unique per day
        UniqueConstraint("hall_id", "day", "number"),
        Index("ix_queue_ticket_hall_day_state", "hall_id", "day", "state"),
        # a category's line in order, covering: people ahead of a ticket, waiting count and oldest per category
        Index("ix_queue_ticket_line", "hall_id", "day", "category_id", "state", "queued_at", "issued_at"),
        Index("ix_queue_ticket_window_state", "window_id", "state"),
        Index("ix_queue_ticket_hall_issued", "hall_id", "issued_at"),
        Index("ix_queue_ticket_category_done", "category_id", "done_at"),
        Index("ix_queue_ticket_clerk_issued", "clerk_id", "issued_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("hall.id"))
    category_id: Mapped[int] = mapped_column(ForeignKey("hall_category.id"))
    day: Mapped[dt.date] = mapped_column(Date)
    seq: Mapped[int] = mapped_column(Integer)
    number: Mapped[str] = mapped_column(String(10))
    token: Mapped[str] = mapped_column(String(32), unique=True)  # opaque, for the public status page
    ticket_class: Mapped[str] = mapped_column(String(12))
    state: Mapped[str] = mapped_column(String(12))
    channel: Mapped[str] = mapped_column(String(12))
    issued_at: Mapped[dt.datetime] = mapped_column(AwareDateTime())
    queued_at: Mapped[dt.datetime] = mapped_column(AwareDateTime())
    called_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime())  # first call
    last_called_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime())
    serving_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime())
    done_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime())
    calls: Mapped[int] = mapped_column(Integer, default=0)
    requeued: Mapped[bool] = mapped_column(Boolean, default=False)
    transfers: Mapped[int] = mapped_column(Integer, default=0)
    window_id: Mapped[int | None] = mapped_column(ForeignKey("queue_window.id"))
    clerk_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    id_number: Mapped[str | None] = mapped_column(String(18))
    phone: Mapped[str | None] = mapped_column(String(20))
    item_code: Mapped[str | None] = mapped_column(String(60))
    appointment_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime())

    hall: Mapped[Hall] = relationship(lazy="joined")
    category: Mapped[HallCategory] = relationship(lazy="joined")
    window: Mapped[Window | None] = relationship(lazy="joined")


class TicketEvent(Base):
    """One state change of a ticket (append-only history)."""

    __tablename__ = "queue_ticket_event"
    # a hall's calls (or any one kind of change) of a day, newest first, without stepping over the others
    __table_args__ = (Index("ix_queue_ticket_event_hall_state_at", "hall_id", "to_state", "at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("queue_ticket.id", ondelete="CASCADE"), index=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("hall.id"))
    from_state: Mapped[str | None] = mapped_column(String(12))
    to_state: Mapped[str] = mapped_column(String(12))
    at: Mapped[dt.datetime] = mapped_column(AwareDateTime())
    window_id: Mapped[int | None] = mapped_column(ForeignKey("queue_window.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"), index=True)
    note: Mapped[str] = mapped_column(Text, default="")


class TicketCounter(Base):
    """Last ticket number given per hall, category and day (incremented atomically)."""

    __tablename__ = "queue_ticket_counter"
    __table_args__ = (UniqueConstraint("hall_id", "category_id", "day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("hall.id"), index=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("hall_category.id"), index=True)
    day: Mapped[dt.date] = mapped_column(Date)
    last: Mapped[int] = mapped_column(Integer)


class TicketCase(Base):
    """A visit: the ticket under which a case (办件, by number) was handled at a window."""

    __tablename__ = "queue_ticket_case"
    __table_args__ = (UniqueConstraint("ticket_id", "case_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("queue_ticket.id", ondelete="CASCADE"), index=True)
    case_number: Mapped[str] = mapped_column(String(40), index=True)
    linked_at: Mapped[dt.datetime] = mapped_column(AwareDateTime())
    linked_by: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"), index=True)
