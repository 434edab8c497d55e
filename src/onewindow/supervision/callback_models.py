"""回访 tables: one draw per day (the marker that makes the daily job safe to run twice) and one task per case
called back. A task keeps the questions asked, the outcome, the levels per dimension and its work order."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from onewindow.cases.models import Case
from onewindow.catalog.models import Department
from onewindow.db import AwareDateTime, Base


class CallbackDraw(Base):
    """The sample drawn for the cases finished on one day (unique per day)."""

    __tablename__ = "callback_draw"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, unique=True)  # the day the sampled cases were finished
    drawn_at: Mapped[dt.datetime] = mapped_column(AwareDateTime())
    finished: Mapped[int] = mapped_column(Integer, default=0)
    drawn: Mapped[int] = mapped_column(Integer, default=0)
    by_department: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # id → {finished, drawn}


class CallbackTask(Base):
    """One finished case to call back (回访任务)."""

    __tablename__ = "callback_task"
    __table_args__ = (
        Index("ix_callback_task_department_day", "department_id", "day"),
        Index("ix_callback_task_outcome_due", "outcome", "due_on"),
        Index("ix_callback_task_person_drawn", "person_key", "drawn_on"),
        Index("ix_callback_task_day", "day"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id"), unique=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"))
    day: Mapped[dt.date] = mapped_column(Date)  # the case was finished that day
    drawn_on: Mapped[dt.date] = mapped_column(Date)
    due_on: Mapped[dt.date] = mapped_column(Date)  # to be called by then
    person_key: Mapped[str] = mapped_column(String(64))  # sha256 of the applicant's number (no-repeat rule)
    questions: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    outcome: Mapped[str] = mapped_column(String(12), default="pending")  # callback_rules.Outcome
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    scores: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)  # dimension → level
    remarks: Mapped[str] = mapped_column(Text, default="")
    called_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime())
    called_by: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("rectification_order.id"))
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[dt.datetime] = mapped_column(AwareDateTime())

    case: Mapped[Case] = relationship(lazy="joined")
    department: Mapped[Department] = relationship(lazy="joined")
