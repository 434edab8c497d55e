"""Cases (办件) and what hangs off them: materials, review steps, timeline, suspensions, extensions,
uploads, delivery, visits, agent authorisations (电子监察 alerts live in ``supervision``).

A bundle application (一件事) is one parent case (``kind="bundle"``) with one sub-case (``kind="sub"``)
per member item; a plain application is ``kind="single"``. ``version`` is the optimistic lock: every
state change bumps it, and a write that names an older version answers 409.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from onewindow.cases.kinds import CaseKind, Decision
from onewindow.catalog.models import Bundle, Department, Hall, Item, ItemVersion
from onewindow.db import AwareDateTime, Base


class Case(Base):
    """One application (办件): a single item, a bundle parent or one bundle sub-case.

    ``kind``, ``channel`` and ``decision`` hold the values of :mod:`onewindow.cases.kinds` (strings in the
    database). ``decision`` is not redundant with ``state``: the state moves on past the decision
    (approved/denied → delivered → archived, or terminated after approval when a licence is revoked), while
    the decision is the outcome that survives delivery and archiving, read by notices, statistics and the
    bundle's completion.
    """

    __tablename__ = "case_record"
    __table_args__ = (
        UniqueConstraint("created_by", "idempotency_key"),
        Index("ix_case_record_inbox", "department_id", "state", "promised_due"),
        Index("ix_case_record_applicant", "applicant_id", "created_at"),
        Index("ix_case_record_open_due", "state", "legal_due"),
        Index("ix_case_record_decided_on", "decided_on"),  # the day's finished cases (回访 sampling)
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    kind: Mapped[str] = mapped_column(String(8))  # single | bundle | sub
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("case_record.id"), index=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("item.id"), index=True)
    item_version_id: Mapped[int | None] = mapped_column(ForeignKey("item_version.id"))
    bundle_id: Mapped[int | None] = mapped_column(ForeignKey("bundle.id"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"))  # handling (lead, for a bundle)
    receiving_hall_id: Mapped[int | None] = mapped_column(ForeignKey("hall.id"), index=True)  # None: online
    proxy: Mapped[bool] = mapped_column(Boolean, default=False)  # 代收代办: received for another region
    channel: Mapped[str] = mapped_column(String(8))  # window | online
    state: Mapped[str] = mapped_column(String(24), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)

    applicant_kind: Mapped[str] = mapped_column(String(12))  # person | enterprise
    applicant_name: Mapped[str] = mapped_column(String(200))
    applicant_id: Mapped[str] = mapped_column(String(18))  # 公民身份号码 / 统一社会信用代码, stored whole
    applicant_phone: Mapped[str] = mapped_column(String(20), default="")
    applicant_user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"), index=True)
    agent_user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"), index=True)
    authorization_id: Mapped[int | None] = mapped_column(ForeignKey("agent_authorization.id"))
    form_data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    commitment: Mapped[bool] = mapped_column(Boolean, default=False)  # 告知承诺: verify afterwards
    verified_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime())  # 事后核查 done
    deferred: Mapped[bool] = mapped_column(Boolean, default=False)  # 容缺受理: materials outstanding
    deferral_due: Mapped[dt.date | None] = mapped_column(Date)

    submitted_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime())
    accepted_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime())
    accepted_on: Mapped[dt.date | None] = mapped_column(Date)
    legal_days: Mapped[int] = mapped_column(Integer, default=0)
    promised_days: Mapped[int] = mapped_column(Integer, default=0)
    limit_unit: Mapped[str] = mapped_column(String(12), default="working_day")
    extension_days: Mapped[int] = mapped_column(Integer, default=0)
    legal_due: Mapped[dt.date | None] = mapped_column(Date)
    promised_due: Mapped[dt.date | None] = mapped_column(Date)
    due_provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    warning: Mapped[str] = mapped_column(String(8), default="none", index=True)
    # the item's procedure (catalog/procedure.py ``Procedure.to_json()``) copied at acceptance; None for
    # cases accepted before procedures were copied (their limits are the columns above)
    procedure: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    decision: Mapped[Decision | None] = mapped_column(String(10))  # loaded as str, equal to the member
    decision_reason: Mapped[str] = mapped_column(Text, default="")
    decision_basis: Mapped[str] = mapped_column(Text, default="")
    decided_by_rule: Mapped[str | None] = mapped_column(String(20))  # DecidedByRule: 秒批 | 缺席默认
    decided_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime())
    decided_on: Mapped[dt.date | None] = mapped_column(Date)
    closed_reason: Mapped[str] = mapped_column(Text, default="")  # refusal / termination / withdrawal
    closed_basis: Mapped[str] = mapped_column(Text, default="")
    result_certificate_id: Mapped[int | None] = mapped_column(ForeignKey("certificate.id"))
    delivered_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime())
    # 最多跑一次, chosen at intake: how the result goes out (pickup | mail | electronic) and where a mailed one
    # goes; whether the applicant supplies the 容缺 materials online (no second visit)
    result_delivery: Mapped[str] = mapped_column(String(12), default="pickup")
    delivery_address: Mapped[str] = mapped_column(String(200), default="")
    delivery_recipient: Mapped[str] = mapped_column(String(64), default="")
    supply_online: Mapped[bool] = mapped_column(Boolean, default=False)

    idempotency_key: Mapped[str | None] = mapped_column(String(80))
    request_hash: Mapped[str | None] = mapped_column(String(64))  # a reused key with other content is refused
    created_by: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(AwareDateTime(), index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(AwareDateTime())

    item: Mapped[Item | None] = relationship(lazy="joined")
    item_version: Mapped[ItemVersion | None] = relationship(lazy="joined")
    bundle: Mapped[Bundle | None] = relationship(lazy="joined")
    department: Mapped[Department] = relationship(lazy="joined")
    receiving_hall: Mapped[Hall | None] = relationship(lazy="joined")
    materials: Mapped[list[CaseMaterial]] = relationship(order_by="CaseMaterial.position", lazy="selectin",
                                                         cascade="all, delete-orphan")
    steps: Mapped[list[CaseStep]] = relationship(order_by="CaseStep.position", lazy="selectin",
                                                 cascade="all, delete-orphan")

    @property
    def title(self) -> str:
        """The item or bundle name."""
        if self.bundle is not None and self.kind == CaseKind.BUNDLE:
            return self.bundle.name
        return self.item_version.name if self.item_version is not None else ""


class CaseMaterial(Base):
    """One line of a case's material checklist and how it was supplied.

    ``status``: ``paper`` | ``electronic`` | ``library`` (免提交, from the certificate library) |
    ``uploaded`` (online) | ``deferred`` (容缺, due later) | ``promised`` (告知承诺) | ``missing``.
    """

    __tablename__ = "case_material"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    material_id: Mapped[int | None] = mapped_column(ForeignKey("material.id"))
    key: Mapped[str] = mapped_column(String(220))  # dedup key across a bundle (certificate type or name)
    name: Mapped[str] = mapped_column(String(200))
    required: Mapped[bool] = mapped_column(Boolean)
    deferrable: Mapped[bool] = mapped_column(Boolean, default=False)
    certificate_type_id: Mapped[int | None] = mapped_column(ForeignKey("certificate_type.id"))
    status: Mapped[str] = mapped_column(String(10), default="missing")
    certificate_id: Mapped[int | None] = mapped_column(ForeignKey("certificate.id"))
    upload_id: Mapped[int | None] = mapped_column(ForeignKey("case_upload.id"))
    supplied_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime())
    note: Mapped[str] = mapped_column(Text, default="")


class CaseStep(Base):
    """One review step of the item (受理 → 审核 → 决定 …), done in order by the handling department."""

    __tablename__ = "case_step"
    __table_args__ = (UniqueConstraint("case_id", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str | None] = mapped_column(String(12))  # catalog.procedure.StepKind: accept | review | decide …
    status: Mapped[str] = mapped_column(String(10), default="pending")  # pending | done
    outcome: Mapped[str | None] = mapped_column(String(10))  # agree | disagree | default (缺席默认)
    opinion: Mapped[str] = mapped_column(Text, default="")
    done_by: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    done_by_name: Mapped[str] = mapped_column(String(64), default="")
    done_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime())


class CaseEvent(Base):
    """The case timeline: every change, who and when."""

    __tablename__ = "case_event"
    __table_args__ = (Index("ix_case_event_case_id_id", "case_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id", ondelete="CASCADE"))
    at: Mapped[dt.datetime] = mapped_column(AwareDateTime())
    kind: Mapped[str] = mapped_column(String(30))
    from_state: Mapped[str | None] = mapped_column(String(24))
    to_state: Mapped[str | None] = mapped_column(String(24))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    actor_name: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class CaseSuspension(Base):
    """特别程序 (hearing, expert review, on-site inspection): the clock stops from ``start`` to ``end``."""

    __tablename__ = "case_suspension"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text)
    start: Mapped[dt.date] = mapped_column(Date)
    end: Mapped[dt.date | None] = mapped_column(Date)  # None: still suspended
    created_by: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    created_at: Mapped[dt.datetime] = mapped_column(AwareDateTime())


class CaseExtension(Base):
    """A request to extend the legal limit (延期), approved or rejected by the department head."""

    __tablename__ = "case_extension"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id", ondelete="CASCADE"), index=True)
    days: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="requested")  # requested | approved | rejected
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    requested_at: Mapped[dt.datetime] = mapped_column(AwareDateTime())
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    decided_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime())


class CaseUpload(Base):
    """A file an applicant uploaded (网上申报), stored by content hash."""

    __tablename__ = "case_upload"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id", ondelete="CASCADE"), index=True)
    material_key: Mapped[str] = mapped_column(String(220))
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(60))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    uploaded_at: Mapped[dt.datetime] = mapped_column(AwareDateTime())


class CaseDelivery(Base):
    """How the result reached the applicant: window pickup, mail or electronic."""

    __tablename__ = "case_delivery"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id", ondelete="CASCADE"), unique=True)
    method: Mapped[str] = mapped_column(String(12))  # pickup | mail | electronic
    picked_up_by: Mapped[str] = mapped_column(String(64), default="")
    address: Mapped[str] = mapped_column(String(200), default="")
    recipient: Mapped[str] = mapped_column(String(64), default="")
    courier: Mapped[str] = mapped_column(String(40), default="")
    tracking_number: Mapped[str] = mapped_column(String(40), default="")
    delivered_on: Mapped[dt.date | None] = mapped_column(Date)
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(AwareDateTime())


class CaseVisit(Base):
    """An in-person interaction linked to the case (跑动): intake, supplement, pickup …"""

    __tablename__ = "case_visit"
    __table_args__ = (UniqueConstraint("case_id", "ticket_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id", ondelete="CASCADE"), index=True)
    at: Mapped[dt.datetime] = mapped_column(AwareDateTime())
    kind: Mapped[str] = mapped_column(String(12))  # intake | supplement | pickup | consult
    hall_id: Mapped[int | None] = mapped_column(ForeignKey("hall.id"))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("queue_ticket.id"))
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
