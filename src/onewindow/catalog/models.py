"""Regions, halls, departments, service items (versioned), materials, bundles, the negative list."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from onewindow.db import AwareDateTime, Base


class Region(Base):
    """An administrative area: county (县), town (镇) or village (村)."""

    __tablename__ = "region"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(60))
    level: Mapped[str] = mapped_column(String(10))  # county | town | village
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"), index=True)


class Hall(Base):
    """A service hall: the county center, a town center (便民服务中心) or a village point (便民服务站)."""

    __tablename__ = "hall"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(30), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[str] = mapped_column(String(10))
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    address: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(30), default="")
    opening_hours: Mapped[str] = mapped_column(String(100), default="")

    region: Mapped[Region] = relationship(lazy="joined")


class Department(Base):
    """A government department whose items are handled in the hall."""

    __tablename__ = "department"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    short_name: Mapped[str] = mapped_column(String(30))
    region_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"), index=True)


class HallCategory(Base):
    """A ticket category of the hall (A 医保社保 …); the letter prefixes queue numbers."""

    __tablename__ = "hall_category"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(4), unique=True)
    name: Mapped[str] = mapped_column(String(60))


class CertificateType(Base):
    """A kind of e-certificate (电子证照) that materials may be taken from."""

    __tablename__ = "certificate_type"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(60))
    issuer: Mapped[str] = mapped_column(String(100))
    holder: Mapped[str] = mapped_column(String(12))  # person | enterprise


class Item(Base):
    """The stable identity of a service item (实施编码); its content lives in versions."""

    __tablename__ = "item"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    status: Mapped[str] = mapped_column(String(10), default="active", index=True)  # active | retired
    current_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("item_version.id", use_alter=True, name="fk_item_current_version_id_item_version"),
    )
    created_at: Mapped[dt.datetime] = mapped_column(AwareDateTime())
    retired_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime())

    current: Mapped[ItemVersion | None] = relationship(
        foreign_keys=[current_version_id], post_update=True, lazy="raise",
    )


class ItemVersion(Base):
    """One immutable version of an item's standard elements (实施清单要素)."""

    __tablename__ = "item_version"
    __table_args__ = (
        UniqueConstraint("item_id", "version"),
        Index("ix_item_version_filters", "department_id", "hall_category_id", "audience"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200), index=True)
    type: Mapped[str] = mapped_column(String(20), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), index=True)
    hall_category_id: Mapped[int] = mapped_column(ForeignKey("hall_category.id"), index=True)
    audience: Mapped[str] = mapped_column(String(12))
    at_county: Mapped[bool] = mapped_column(Boolean)
    at_town: Mapped[bool] = mapped_column(Boolean)
    at_village: Mapped[bool] = mapped_column(Boolean)
    legal_limit_days: Mapped[int] = mapped_column(Integer)
    promised_limit_days: Mapped[int] = mapped_column(Integer)
    limit_unit: Mapped[str] = mapped_column(String(12))
    instant: Mapped[bool] = mapped_column(Boolean, index=True)
    max_visits: Mapped[int] = mapped_column(Integer)
    online_depth: Mapped[int] = mapped_column(Integer, index=True)
    scope: Mapped[str] = mapped_column(String(20))
    fee: Mapped[str] = mapped_column(Text)
    basis: Mapped[str] = mapped_column(Text)
    conditions: Mapped[str] = mapped_column(Text)
    steps: Mapped[list[str]] = mapped_column(JSON)
    # the typed procedure of this version (catalog/procedure.py ``Procedure.to_json()``): step kinds,
    # performers, limits, 特别程序 kinds, extension and 容缺 limits; set by every save
    procedure: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    keywords: Mapped[list[str]] = mapped_column(JSON)
    location: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(40))
    content_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(AwareDateTime())
    created_by: Mapped[str] = mapped_column(String(100))
    change_note: Mapped[str] = mapped_column(String(200), default="")
    # the licence an approval issues (审批结果为证照), None when the result is not a certificate
    result_certificate_type_id: Mapped[int | None] = mapped_column(ForeignKey("certificate_type.id"))

    item: Mapped[Item] = relationship(foreign_keys=[item_id], lazy="joined")
    department: Mapped[Department] = relationship(lazy="joined")
    hall_category: Mapped[HallCategory] = relationship(lazy="joined")
    result_certificate_type: Mapped[CertificateType | None] = relationship(lazy="joined")
    materials: Mapped[list[Material]] = relationship(
        order_by="Material.position", lazy="selectin", cascade="all, delete-orphan",
    )

    @property
    def levels(self) -> list[str]:
        """Where the item can be applied for, in county → village order."""
        return [lvl for lvl, on in (("county", self.at_county), ("town", self.at_town),
                                    ("village", self.at_village)) if on]


class Material(Base):
    """A material an applicant provides for one item version (申请材料)."""

    __tablename__ = "material"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_version_id: Mapped[int] = mapped_column(ForeignKey("item_version.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    required: Mapped[bool] = mapped_column(Boolean)
    form: Mapped[str] = mapped_column(String(10))  # 原件 | 复印件 | 电子
    copies: Mapped[int] = mapped_column(Integer, default=1)
    deferrable: Mapped[bool] = mapped_column(Boolean, default=False)
    certificate_type_id: Mapped[int | None] = mapped_column(ForeignKey("certificate_type.id"), index=True)
    note: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str | None] = mapped_column(String(20))  # 证件证书证明 | 申请表格文书 | 其他
    source: Mapped[str | None] = mapped_column(String(20))  # 申请人自备 | 政府部门核发

    certificate_type: Mapped[CertificateType | None] = relationship(lazy="joined")


class Bundle(Base):
    """一件事: several items applied for together, one sub-case per item."""

    __tablename__ = "bundle"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    lead_department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), index=True)
    promised_limit_days: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(Text, default="")
    default_consent: Mapped[bool] = mapped_column(Boolean, default=False)  # 缺席默认
    status: Mapped[str] = mapped_column(String(10), default="active", index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(AwareDateTime())

    lead_department: Mapped[Department] = relationship(lazy="joined")
    members: Mapped[list[BundleItem]] = relationship(
        order_by="BundleItem.position", lazy="selectin", cascade="all, delete-orphan",
    )


class BundleItem(Base):
    """An item's place in a bundle."""

    __tablename__ = "bundle_item"
    __table_args__ = (UniqueConstraint("bundle_id", "item_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bundle_id: Mapped[int] = mapped_column(ForeignKey("bundle.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)

    item: Mapped[Item] = relationship(lazy="joined")


class NegativeListEntry(Base):
    """进驻负面清单: an item handled outside the hall, and why."""

    __tablename__ = "negative_list_entry"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"), unique=True)
    reason: Mapped[str] = mapped_column(Text)

    item: Mapped[Item] = relationship(lazy="joined")

