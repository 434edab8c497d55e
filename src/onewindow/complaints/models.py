"""Complaint work orders (有诉即办问题工单), their department assignments and their timeline.

One row per request or complaint from any channel (the 有诉即办 window, the public page, the 12345 hotline
import, an experiencer's report, an escalated 差评). The limit (``due_at``) is computed once at 受理 by
:func:`onewindow.complaints.rules.due` and never restarted by a return (退单) or a re-dispatch (改派).
``version`` is the optimistic lock. Personal numbers are stored whole and masked at the edge.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from onewindow.catalog.models import Department, Hall
from onewindow.complaints.states import AssignmentRole
from onewindow.db import AwareDateTime, Base


class Complaint(Base):
    """One 有诉即办 work order: 受理 → 派单 → 签收 → 办理 → 答复 → 回访 → 办结归档."""

    __tablename__ = "complaint"
    __table_args__ = (
        UniqueConstraint("source_kind", "source_id"),
        Index("ix_complaint_state_due_at", "state", "due_at"),
        Index("ix_complaint_lead_department_state", "lead_department_id", "state"),
        Index("ix_complaint_accepted_on", "accepted_on"),
        Index("ix_complaint_complainant_phone", "complainant_phone"),  # duplicates of one person (合并)
        # half of each page left free: the 催办 sweep's UPDATE of every overdue row stays heap-only (HOT) on
        # PostgreSQL, touching no index, which is what keeps 100,000 rows under a second
        {"postgresql_with": {"fillfactor": 50}},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(24), unique=True)  # YS + yyyymmdd + 4-digit daily sequence
    tracking_code: Mapped[str] = mapped_column(String(12), unique=True)  # what the citizen follows it by
    channel: Mapped[str] = mapped_column(String(16))  # window | online | hotline | experiencer | rating
    external_number: Mapped[str | None] = mapped_column(String(40), unique=True)  # the 12345 order number
    # what raised it when another domain did (an escalated 差评, an experiencer report): one order per source
    source_kind: Mapped[str | None] = mapped_column(String(16))
    source_id: Mapped[int | None] = mapped_column(Integer)

    category: Mapped[str] = mapped_column(String(12))  # consult | help | suggest | complain | report
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    subject: Mapped[str] = mapped_column(String(200))
    content: Mapped[str] = mapped_column(Text, default="")
    item_code: Mapped[str | None] = mapped_column(String(64))  # the service item it concerns, when known
    hall_id: Mapped[int | None] = mapped_column(ForeignKey("hall.id"))

    complainant_name: Mapped[str] = mapped_column(String(100), default="")
    complainant_phone: Mapped[str] = mapped_column(String(20), default="")  # stored whole, shown masked
    complainant_id_number: Mapped[str | None] = mapped_column(String(18))  # stored whole, shown masked
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    complainant_user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))

    state: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer, default=1)
    lead_department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))  # the current 主办

    accepted_at: Mapped[dt.datetime] = mapped_column(AwareDateTime())  # 受理: the clock starts here
    accepted_on: Mapped[dt.date] = mapped_column(Date)
    limit_days: Mapped[int] = mapped_column(Integer, default=0)  # copied from the settings at 受理; 0 = urgent
    due_on: Mapped[dt.date] = mapped_column(Date)  # the due working day (urgent: the day of 受理)
    due_at: Mapped[dt.datetime] = mapped_column(AwareDateTime())  # the end of the due day
    due_provisional: Mapped[bool] = mapped_column(Boolean, default=False)  # rests on a provisional calendar
    # past the limit (set by the sweep, and at 答复 when late; stays as the record of a late order). Not indexed
    # on purpose, so that the sweep's UPDATE stays heap-only: open overdue orders are found by (state, due_at).
    overdue: Mapped[bool] = mapped_column(Boolean, default=False)

    reply: Mapped[str] = mapped_column(Text, default="")  # 答复: what the citizen reads
    replied_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime())
    replied_by: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    callback_verdict: Mapped[str | None] = mapped_column(String(12))  # satisfied | basic | unsatisfied
    callback_note: Mapped[str] = mapped_column(Text, default="")
    callback_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime())

    reopen_count: Mapped[int] = mapped_column(Integer, default=0)  # 重办
    return_count: Mapped[int] = mapped_column(Integer, default=0)  # 退单
    urge_count: Mapped[int] = mapped_column(Integer, default=0)  # 催办
    last_urged_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime())
    supervised_due_on: Mapped[dt.date | None] = mapped_column(Date)  # 督办: the supervisor's deadline
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("complaint.id"))

    closed_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime())
    closed_on: Mapped[dt.date | None] = mapped_column(Date)
    solved: Mapped[bool | None] = mapped_column(Boolean)  # closed but not solved = False

    created_by: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    updated_at: Mapped[dt.datetime] = mapped_column(AwareDateTime())

    lead_department: Mapped[Department | None] = relationship(lazy="joined")
    hall: Mapped[Hall | None] = relationship(lazy="joined")  # where it was filed (county or town center)


class ComplaintAssignment(Base):
    """One department's part in an order: 主办 (lead) or 协办 (assist), signed for, returned or still active."""

    __tablename__ = "complaint_assignment"
    __table_args__ = (
        Index("ix_complaint_assignment_department_active", "department_id", "active"),
        Index("ix_complaint_assignment_complaint_id", "complaint_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaint.id", ondelete="CASCADE"))
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"))
    role: Mapped[str] = mapped_column(String(8))  # lead | assist
    assigned_at: Mapped[dt.datetime] = mapped_column(AwareDateTime())
    assigned_by: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    sign_due_at: Mapped[dt.datetime] = mapped_column(AwareDateTime())  # 签收 within the setting's hours
    signed_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime())
    signed_by: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    returned_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime())
    return_reason: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    department: Mapped[Department] = relationship(lazy="joined")

    @property
    def is_lead(self) -> bool:
        """True for the 主办 (lead) assignment, False for a 协办."""
        return AssignmentRole(self.role) is AssignmentRole.LEAD


class ComplaintEvent(Base):
    """The timeline of an order: every step, who and when."""

    __tablename__ = "complaint_event"
    __table_args__ = (Index("ix_complaint_event_complaint_id_id", "complaint_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaint.id", ondelete="CASCADE"))
    at: Mapped[dt.datetime] = mapped_column(AwareDateTime())
    actor: Mapped[str] = mapped_column(String(64))  # the actor's name (系统 for the sweep)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    kind: Mapped[str] = mapped_column(String(24))
    state_from: Mapped[str | None] = mapped_column(String(16))
    state_to: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
