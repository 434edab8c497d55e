"""Benefit policies, the typed fields of the entity register, the register itself and the grants."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint
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


class Entity(Base):
    """An enterprise (统一社会信用代码) or a person (公民身份号码) of the register with its field values."""

    __tablename__ = "entity"
    __table_args__ = (UniqueConstraint("kind", "identifier"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(12))  # enterprise | person
    identifier: Mapped[str] = mapped_column(String(18))  # credit code or ID number, stored whole
    name: Mapped[str] = mapped_column(String(200))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)  # typed field values, null where unknown
    updated_at: Mapped[dt.datetime] = mapped_column(AwareDateTime(), index=True)


class Grant(Base):
    """An offer of a policy's benefit to one entity for one period, and its way to payment."""

    __tablename__ = "policy_grant"
    __table_args__ = (
        UniqueConstraint("entity_id", "policy_id", "period"),
        Index("ix_policy_grant_policy_id_status", "policy_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entity_id: Mapped[int] = mapped_column(ForeignKey("entity.id"))
    policy_id: Mapped[int] = mapped_column(ForeignKey("policy.id"))
    period: Mapped[str] = mapped_column(String(20))  # e.g. "2026"
    status: Mapped[str] = mapped_column(String(12), index=True)
    amount_yuan: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    explanation: Mapped[str] = mapped_column(Text, default="")  # why it matched, when offered
    note: Mapped[str] = mapped_column(Text, default="")  # reason of a decline or expiry
    offered_at: Mapped[dt.datetime] = mapped_column(AwareDateTime(), index=True)
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime())
    confirmed_by: Mapped[str | None] = mapped_column(String(100))
    approved_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime())
    approved_by: Mapped[str | None] = mapped_column(String(100))
    paid_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime())
    paid_date: Mapped[dt.date | None] = mapped_column(Date)
    paid_by: Mapped[str | None] = mapped_column(String(100))
    notified_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime())
    notified_by: Mapped[str | None] = mapped_column(String(100))
    closed_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime())  # declined or expired
    closed_by: Mapped[str | None] = mapped_column(String(100))
    updated_at: Mapped[dt.datetime] = mapped_column(AwareDateTime())

    entity: Mapped[Entity] = relationship(lazy="joined")
    policy: Mapped[Policy] = relationship(lazy="joined")
