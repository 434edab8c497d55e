"""Benefit policies and the typed fields of the entity register they read."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from onewindow.catalog.models import Department
from onewindow.db import AwareDateTime, Base


class EntityField(Base):
    """A typed field of an enterprise or person in the register (e.g. employees: int)."""

    __tablename__ = "entity_field"
    __table_args__ = (UniqueConstraint("kind", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(12))  # enterprise | person
    name: Mapped[str] = mapped_column(String(60))
    type: Mapped[str] = mapped_column(String(12))  # int | float | str | bool | list[str]
    label: Mapped[str] = mapped_column(String(100))


class Policy(Base):
    """A benefit policy with machine-checkable conditions (AND of conditions, or nested groups)."""

    __tablename__ = "policy"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), index=True)
    audience: Mapped[str] = mapped_column(String(12), index=True)
    benefit: Mapped[str] = mapped_column(Text)
    amount_yuan: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    conditions: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    valid_from: Mapped[dt.date | None] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date)
    basis: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(10), default="active", index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(AwareDateTime())

    department: Mapped[Department] = relationship(lazy="joined")
