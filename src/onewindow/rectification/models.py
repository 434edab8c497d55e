"""Rectification work orders (整改工单) and their timeline.

An order comes from a source record (``source_kind`` + ``source_id``: a 差评 rating, a callback, an experiencer
report, a complaint) and belongs to the department responsible for it. ``version`` is the optimistic lock.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from onewindow.catalog.models import Department
from onewindow.db import AwareDateTime, Base


class RectificationOrder(Base):
    """One 整改 work order: 待核实 → 核实 → 申诉 | 整改中 → 整改完成 → 回访 → 办结."""

    __tablename__ = "rectification_order"
    __table_args__ = (
        UniqueConstraint("source_kind", "source_id"),
        Index("ix_rectification_order_department_state", "department_id", "state"),
        Index("ix_rectification_order_state_due", "state", "due_on"),
        Index("ix_rectification_order_opened_on", "opened_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(24), unique=True)
    source_kind: Mapped[str] = mapped_column(String(16))  # rating | callback | experience | complaint
    source_id: Mapped[int] = mapped_column(Integer)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"))
    title: Mapped[str] = mapped_column(String(200))
    detail: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(24))
    version: Mapped[int] = mapped_column(Integer, default=1)

    # who raised it (the rater, the experiencer, the complainant): called back and asked for a verdict
    raiser_name: Mapped[str] = mapped_column(String(100), default="")
    raiser_phone: Mapped[str] = mapped_column(String(20), default="")  # stored whole, shown masked
    raiser_user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    identified: Mapped[bool] = mapped_column(Boolean, default=False)  # 实名

    opened_at: Mapped[dt.datetime] = mapped_column(AwareDateTime())
    opened_on: Mapped[dt.date] = mapped_column(Date)
    deadline_days: Mapped[int] = mapped_column(Integer, default=0)  # working days to rectify (setting)
    extension_days: Mapped[int] = mapped_column(Integer, default=0)
    due_on: Mapped[dt.date | None] = mapped_column(Date)  # set when rectification starts
    overdue: Mapped[bool] = mapped_column(Boolean, default=False, index=True)

    verification: Mapped[str] = mapped_column(Text, default="")  # 核实: what the call back found
    verified_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime())
    appeal_reason: Mapped[str] = mapped_column(Text, default="")  # 申诉: invalid or malicious rating
    appeal_evidence: Mapped[str] = mapped_column(Text, default="")
    appeal_decision: Mapped[str | None] = mapped_column(String(10))  # upheld | rejected
    appeal_decided_by: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    appeal_decided_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime())
    measures: Mapped[str] = mapped_column(Text, default="")  # 整改措施 and result
    rectified_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime())
    callback_verdict: Mapped[str | None] = mapped_column(String(12))  # satisfied | basic | unsatisfied
    callback_note: Mapped[str] = mapped_column(Text, default="")
    callback_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime())
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    escalated: Mapped[bool] = mapped_column(Boolean, default=False)  # to the supervisor
    closed_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime())
    closed_on: Mapped[dt.date | None] = mapped_column(Date)
    outcome: Mapped[str | None] = mapped_column(String(16))  # rectified | voided | unrectifiable

    created_by: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    updated_at: Mapped[dt.datetime] = mapped_column(AwareDateTime())

    department: Mapped[Department] = relationship(lazy="joined")


class RectificationEvent(Base):
    """The timeline of an order: every step, who and when."""

    __tablename__ = "rectification_event"
    __table_args__ = (Index("ix_rectification_event_order_id_id", "order_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("rectification_order.id", ondelete="CASCADE"))
    at: Mapped[dt.datetime] = mapped_column(AwareDateTime())
    kind: Mapped[str] = mapped_column(String(30))
    from_state: Mapped[str | None] = mapped_column(String(24))
    to_state: Mapped[str | None] = mapped_column(String(24))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    actor_name: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
