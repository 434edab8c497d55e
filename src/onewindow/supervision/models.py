"""电子监察 tables: the alerts the rules raise, and the window schedule the presence rule checks.

An alert is raised once per rule, subject and episode (``UniqueConstraint``): the episode tells two occurrences
of the same cause apart (a case's due date, the instant a window fell idle, the day and opening period a clerk
was expected), so a cause that comes back after it was gone raises a new alert, and a cause that stays raises
nothing more. ``version`` is the optimistic lock of the acknowledge / supervise forms.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from onewindow.catalog.models import Department
from onewindow.db import AwareDateTime, Base


class SupervisionAlert(Base):
    """One 电子监察 alert: 待签收 → 已签收 | 督办中 → 已关闭 (closed by the sweep when its cause is gone)."""

    __tablename__ = "supervision_alert"
    __table_args__ = (
        UniqueConstraint("rule", "subject_type", "subject_id", "episode"),
        Index("ix_supervision_alert_state_rule", "state", "rule"),
        Index("ix_supervision_alert_department_state", "department_id", "state"),
        Index("ix_supervision_alert_raised_at", "raised_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule: Mapped[str] = mapped_column(String(32))  # supervision.rules: the registered rule's code
    subject_type: Mapped[str] = mapped_column(String(24))  # case | case_step | ticket | window | queue | user | order
    subject_id: Mapped[int] = mapped_column(Integer)
    episode: Mapped[str] = mapped_column(String(40), default="")
    level: Mapped[str] = mapped_column(String(8), default="yellow")  # yellow | red
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))  # None: the center reads it
    title: Mapped[str] = mapped_column(String(200))
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    link: Mapped[str] = mapped_column(String(200), default="")  # the page of the subject
    state: Mapped[str] = mapped_column(String(12))
    version: Mapped[int] = mapped_column(Integer, default=1)
    raised_at: Mapped[dt.datetime] = mapped_column(AwareDateTime())
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime())
    acknowledged_by: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    acknowledge_note: Mapped[str] = mapped_column(Text, default="")
    supervised_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime())
    supervised_by: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    supervise_note: Mapped[str] = mapped_column(Text, default="")
    supervise_due: Mapped[dt.date | None] = mapped_column(Date)  # 督办期限
    closed_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime())
    close_reason: Mapped[str] = mapped_column(String(200), default="")

    department: Mapped[Department | None] = relationship(lazy="joined")


class WindowDuty(Base):
    """The clerk scheduled at a window (在岗安排): expected signed in there during the hall's opening hours on
    every working day. The minimal schedule the presence rule needs (there is no shift roster yet)."""

    __tablename__ = "supervision_window_duty"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    window_id: Mapped[int] = mapped_column(ForeignKey("queue_window.id", ondelete="CASCADE"), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id", ondelete="CASCADE"), index=True)
    assigned_at: Mapped[dt.datetime] = mapped_column(AwareDateTime())
