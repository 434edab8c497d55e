"""Holiday overrides and loaded official notices (国务院办公厅节假日安排通知)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from onewindow.db import AwareDateTime, Base


class HolidayOverride(Base):
    """One date whose status differs from the default: a holiday, or a make-up working day (调休)."""

    __tablename__ = "holiday_override"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day_date: Mapped[dt.date] = mapped_column(Date, unique=True)
    kind: Mapped[str] = mapped_column(String(10))  # "holiday" | "workday"
    name: Mapped[str] = mapped_column(String(60), default="")
    created_at: Mapped[dt.datetime] = mapped_column(AwareDateTime())


class CalendarNotice(Base):
    """Marks a year whose official notice has been loaded: its dates are no longer provisional."""

    __tablename__ = "calendar_notice"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    year: Mapped[int] = mapped_column(Integer, unique=True)
    title: Mapped[str] = mapped_column(String(200))
    loaded_at: Mapped[dt.datetime] = mapped_column(AwareDateTime())
