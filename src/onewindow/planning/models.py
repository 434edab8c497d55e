"""Saved window plans (排班计划): one per hall and week, the plan page's source of truth."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Date, Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from onewindow.catalog.models import Hall
from onewindow.db import AwareDateTime, Base


class PlanRecord(Base):
    """A hall's plan for the week starting ``week_start`` (a Monday): the ``report.week_payload`` document.

    ``hall_input`` keeps what the plan was made from (the scenario and each day's expected tickets), so an
    edit is re-checked against the same demand. ``version`` guards concurrent edits (409 when stale).
    """

    __tablename__ = "planning_plan"
    __table_args__ = (UniqueConstraint("hall_id", "week_start", name="uq_planning_plan_hall_week"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("hall.id"))
    week_start: Mapped[dt.date] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(20))  # history | scenario
    policy: Mapped[str] = mapped_column(String(20))
    target_mean_min: Mapped[float] = mapped_column(Float)
    target_p90_min: Mapped[float | None] = mapped_column(Float)
    hall_input: Mapped[dict[str, Any]] = mapped_column(JSON)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(AwareDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(AwareDateTime())
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))

    hall: Mapped[Hall] = relationship(lazy="joined")
