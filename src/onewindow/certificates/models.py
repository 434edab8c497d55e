"""Issued e-certificates (电子证照) of persons and enterprises."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from onewindow.catalog.models import CertificateType
from onewindow.db import AwareDateTime, Base


class Certificate(Base):
    """One certificate: its number (unique per type), holder, issuer, validity and status."""

    __tablename__ = "certificate"
    __table_args__ = (
        UniqueConstraint("type_id", "number"),
        Index("ix_certificate_holder_id_type_id", "holder_id", "type_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    type_id: Mapped[int] = mapped_column(ForeignKey("certificate_type.id"))
    number: Mapped[str] = mapped_column(String(60), index=True)
    holder_id: Mapped[str] = mapped_column(String(18))  # 公民身份号码 or 统一社会信用代码, stored whole
    holder_name: Mapped[str] = mapped_column(String(200))
    issuer: Mapped[str] = mapped_column(String(100))
    issued_date: Mapped[dt.date] = mapped_column(Date)
    expires_date: Mapped[dt.date | None] = mapped_column(Date)  # None: 长期有效
    status: Mapped[str] = mapped_column(String(10), default="valid")  # valid | revoked
    revoked_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime())
    revoked_reason: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    check_code: Mapped[str] = mapped_column(String(12))
    source: Mapped[str] = mapped_column(String(10))  # import | issued | demo
    created_at: Mapped[dt.datetime] = mapped_column(AwareDateTime())

    type: Mapped[CertificateType] = relationship(lazy="joined")
