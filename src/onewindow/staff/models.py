"""Staff users, their web sessions and API tokens; window shifts and monthly performance scores."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from onewindow.catalog.models import Department, Hall
from onewindow.db import AwareDateTime, Base


class User(Base):
    """A person who signs in: staff of the center or a department."""

    __tablename__ = "staff_user"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"), index=True)
    hall_id: Mapped[int | None] = mapped_column(ForeignKey("hall.id"), index=True)
    id_number: Mapped[str | None] = mapped_column(String(18))
    phone: Mapped[str | None] = mapped_column(String(20))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(AwareDateTime())
    last_login_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime())
    password_changed_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime())

    department: Mapped[Department | None] = relationship(lazy="joined")
    hall: Mapped[Hall | None] = relationship(lazy="joined")


class WebSession(Base):
    """A signed-in browser; the cookie carries a random token whose hash is stored here."""

    __tablename__ = "staff_session"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(AwareDateTime())
    expires_at: Mapped[dt.datetime] = mapped_column(AwareDateTime(), index=True)
    last_seen_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime())  # idle expiry counts from here

    user: Mapped[User] = relationship(lazy="joined")


class LoginThrottle(Base):
    """Failed sign-ins of one account (``user:<name>``) or one client address (``addr:<ip>``) in the current
    window, and the lockout they led to. In the database so that every worker sees the same counts."""

    __tablename__ = "staff_login_throttle"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_started_at: Mapped[dt.datetime] = mapped_column(AwareDateTime())
    locked_until: Mapped[dt.datetime | None] = mapped_column(AwareDateTime())


class ApiToken(Base):
    """A bearer token for the API; only its hash is stored."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    name: Mapped[str] = mapped_column(String(100))
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(AwareDateTime(), index=True)
    expires_at: Mapped[dt.datetime] = mapped_column(AwareDateTime())
    last_used_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime())
    revoked_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime())

    user: Mapped[User] = relationship(lazy="joined")


# ----- attendance and monthly performance (绩效考核) ----------------------------------------------------------


class StaffShift(Base):
    """One stay of a clerk at a window (签到 → 签退), written by the queue; attendance is measured from these."""

    __tablename__ = "staff_shift"
    __table_args__ = (
        Index("ix_staff_shift_user_started", "user_id", "started_at"),
        Index("ix_staff_shift_window_started", "window_id", "started_at"),
        Index("ix_staff_shift_started", "started_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id", ondelete="CASCADE"))
    window_id: Mapped[int] = mapped_column(ForeignKey("queue_window.id", ondelete="CASCADE"))
    hall_id: Mapped[int] = mapped_column(ForeignKey("hall.id"), index=True)
    started_at: Mapped[dt.datetime] = mapped_column(AwareDateTime())
    ended_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime())  # None: still signed in


class PerformanceMonth(Base):
    """A computed month: when, with which rules (weights, minimum sample), and when its reports went out."""

    __tablename__ = "staff_performance_month"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    month: Mapped[dt.date] = mapped_column(Date, unique=True)  # the first day of the month
    computed_at: Mapped[dt.datetime] = mapped_column(AwareDateTime())
    rules: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    clerks: Mapped[int] = mapped_column(Integer, default=0)
    ranked: Mapped[int] = mapped_column(Integer, default=0)
    reported_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime())


class PerformanceScore(Base):
    """One subject's score for a month (a clerk, a window or a department), its parts explained, its rank."""

    __tablename__ = "staff_performance_score"
    __table_args__ = (
        UniqueConstraint("month", "subject_kind", "subject_id"),
        Index("ix_staff_performance_score_month_kind_rank", "month", "subject_kind", "rank"),
        Index("ix_staff_performance_score_department_month", "department_id", "month"),
        Index("ix_staff_performance_score_user_month", "user_id", "month"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    month: Mapped[dt.date] = mapped_column(Date)
    subject_kind: Mapped[str] = mapped_column(String(12))  # clerk | window | department
    subject_id: Mapped[int] = mapped_column(Integer)
    subject_name: Mapped[str] = mapped_column(String(100))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id", ondelete="CASCADE"))  # a clerk's
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    score: Mapped[float] = mapped_column(Float)
    ranked: Mapped[bool] = mapped_column(Boolean, default=False)
    rank: Mapped[int | None] = mapped_column(Integer)
    award: Mapped[str | None] = mapped_column(String(12))  # star (服务明星) | red_flag (流动红旗)
    note: Mapped[str] = mapped_column(Text, default="")  # why not ranked
    parts: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    facts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    computed_at: Mapped[dt.datetime] = mapped_column(AwareDateTime())
