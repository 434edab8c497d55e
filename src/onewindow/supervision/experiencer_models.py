"""体验员 tables: the registry, the reports and their photos."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from onewindow.catalog.models import Department, Hall
from onewindow.db import AwareDateTime, Base
from onewindow.staff.models import User


class Experiencer(Base):
    """A registered 政务服务体验员 / 社会监督员: their account, where they come from, their term of service."""

    __tablename__ = "experiencer"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(16))  # experiencer_rules.Category
    organisation: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(20), default="")  # stored whole, shown masked
    term_start: Mapped[dt.date] = mapped_column(Date)
    term_end: Mapped[dt.date] = mapped_column(Date)
    registered_at: Mapped[dt.datetime] = mapped_column(AwareDateTime())
    registered_by: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))

    user: Mapped[User] = relationship(lazy="joined", foreign_keys=[user_id])


class ExperienceReport(Base):
    """One visit reported by an experiencer, judged (研判) and possibly assigned as a work order."""

    __tablename__ = "experience_report"
    __table_args__ = (
        Index("ix_experience_report_experiencer_id", "experiencer_id", "id"),
        Index("ix_experience_report_state_id", "state", "id"),
        Index("ix_experience_report_department_state", "department_id", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    experiencer_id: Mapped[int] = mapped_column(ForeignKey("experiencer.id"))
    mode: Mapped[str] = mapped_column(String(12))  # experiencer_rules.Mode
    hall_id: Mapped[int | None] = mapped_column(ForeignKey("hall.id"))
    item_code: Mapped[str] = mapped_column(String(64), default="")
    item_name: Mapped[str] = mapped_column(String(200), default="")
    visited_on: Mapped[dt.date] = mapped_column(Date)
    title: Mapped[str] = mapped_column(String(100))
    content: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(12))  # experiencer_rules.ReportState
    version: Mapped[int] = mapped_column(Integer, default=1)
    submitted_at: Mapped[dt.datetime] = mapped_column(AwareDateTime())
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))  # assigned to
    judgement: Mapped[str] = mapped_column(Text, default="")  # 研判意见, or why it was not taken up
    judged_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime())
    judged_by: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("rectification_order.id"))
    closed_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime())
    outcome_note: Mapped[str] = mapped_column(Text, default="")  # the closing or voiding note of the order

    experiencer: Mapped[Experiencer] = relationship(lazy="joined")
    hall: Mapped[Hall | None] = relationship(lazy="joined")
    department: Mapped[Department | None] = relationship(lazy="joined")


class ExperiencePhoto(Base):
    """A photo of a report, stored by content (see ``cases.uploads``): its hash, checked name and type."""

    __tablename__ = "experience_photo"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("experience_report.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
