"""流转 records: one row per leg of a case's file (materials out, result back)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from onewindow.db import AwareDateTime, Base


class CaseTransfer(Base):
    """One leg of a case's paper file between its receiving hall and its handling department."""

    __tablename__ = "case_transfer"
    __table_args__ = (
        UniqueConstraint("case_id", "leg"),
        # the department's "to sign for" list and the point's incoming results
        Index("ix_case_transfer_department_state", "department_id", "state"),
        Index("ix_case_transfer_hall_state", "hall_id", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id", ondelete="CASCADE"))
    leg: Mapped[str] = mapped_column(String(10))  # Leg: materials | result
    state: Mapped[str] = mapped_column(String(10))  # TransferState: sent | received
    hall_id: Mapped[int] = mapped_column(ForeignKey("hall.id"))  # the receiving point
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"))  # the handling department
    note: Mapped[str] = mapped_column(Text, default="")  # what was sent (a list, a courier's number)
    sent_by: Mapped[int] = mapped_column(ForeignKey("staff_user.id"))
    sent_at: Mapped[dt.datetime] = mapped_column(AwareDateTime())
    received_by: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    received_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime())
