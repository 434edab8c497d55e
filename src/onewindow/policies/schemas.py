"""API shapes of the policies domain: entities, explanations, grants, previews, totals."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from onewindow.policies.grants_states import GrantState
from onewindow.policies.models import Entity, Grant, Policy


class Body(BaseModel):
    """Base of request bodies: unknown fields are errors, strings are stripped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


EntityKind = Literal["enterprise", "person"]


class EntityRef(Body):
    """An entity of the register by kind and number. The credit code or ID number travels in the request body,
    never in the URL (browser history, proxies, the access log); its check digit is validated by the service."""

    kind: EntityKind = Field(description="主体类型：enterprise（企业）或 person（个人）")
    identifier: str = Field(min_length=1, max_length=30, pattern=r"^[^\x00]*$",
                            description="统一社会信用代码（企业）或公民身份号码（个人）")


class EntityIn(EntityRef):
    """One entity as a data-sharing update sends it (kind and number included)."""

    name: str = Field(min_length=1, max_length=200)
    data: dict[str, Any] = Field(default_factory=dict, description="字段值（字段名 → 值），未给出的字段视为无数据")


class EntityOut(BaseModel):
    """An entity of the register."""

    kind: str
    identifier: str
    name: str
    data: dict[str, Any]
    updated_at: dt.datetime

    @classmethod
    def of(cls, entity: Entity) -> EntityOut:
        """From the model, a person's ID number masked."""
        return cls(kind=entity.kind, identifier=entity.identifier,
                   name=entity.name, data=entity.data, updated_at=entity.updated_at)


class EntityUpdateOut(BaseModel):
    """What saving one entity did."""

    entity: EntityOut
    created: bool
    changed: bool
    matched: list[str]
    added: list[str]
    removed: list[str]
    offered: list[str]
    expired: list[str]
    rematch_ms: float


class CheckOut(BaseModel):
    """One condition checked against the entity."""

    field: str
    label: str
    text: str
    actual: Any
    held: bool
    line: str


class ExplanationOut(BaseModel):
    """Why a policy matches an entity, or misses it by one condition."""

    code: str
    name: str
    matched: bool
    missing: int
    summary: str
    checks: list[CheckOut]


class GrantOut(BaseModel):
    """A grant (offer → confirmed → approved → paid → notified)."""

    id: int
    policy: str
    policy_name: str
    department: str
    entity_kind: str
    entity_identifier: str
    entity_name: str
    period: str
    status: GrantState
    status_label: str
    amount_yuan: Decimal | None
    explanation: str
    note: str
    offered_at: dt.datetime
    confirmed_at: dt.datetime | None
    confirmed_by: str | None
    approved_at: dt.datetime | None
    approved_by: str | None
    paid_at: dt.datetime | None
    paid_date: dt.date | None
    paid_by: str | None
    notified_at: dt.datetime | None
    notified_by: str | None
    closed_at: dt.datetime | None
    closed_by: str | None

    @classmethod
    def of(cls, g: Grant) -> GrantOut:
        """From the model, a person's ID number masked."""
        state = GrantState(g.status)
        return cls(
            id=g.id, policy=g.policy.code, policy_name=g.policy.name, department=g.policy.department.code,
            entity_kind=g.entity.kind, entity_identifier=g.entity.identifier,
            entity_name=g.entity.name, period=g.period, status=state, status_label=state.label,
            amount_yuan=g.amount_yuan, explanation=g.explanation, note=g.note, offered_at=g.offered_at,
            confirmed_at=g.confirmed_at, confirmed_by=g.confirmed_by, approved_at=g.approved_at,
            approved_by=g.approved_by, paid_at=g.paid_at, paid_date=g.paid_date, paid_by=g.paid_by,
            notified_at=g.notified_at, notified_by=g.notified_by, closed_at=g.closed_at, closed_by=g.closed_by)


class EntityPoliciesOut(BaseModel):
    """An entity's "policies for me"."""

    entity: EntityOut
    matched: list[ExplanationOut]
    near_misses: list[ExplanationOut]
    grants: list[GrantOut]


class PolicyOut(BaseModel):
    """A policy with its conditions."""

    code: str
    name: str
    department: str
    audience: str
    benefit: str
    amount_yuan: Decimal | None
    conditions: list[dict[str, Any]]
    valid_from: dt.date | None
    valid_to: dt.date | None
    basis: str
    status: str
    updated_at: dt.datetime

    @classmethod
    def of(cls, p: Policy) -> PolicyOut:
        """From the model."""
        return cls(code=p.code, name=p.name, department=p.department.code, audience=p.audience, benefit=p.benefit,
                   amount_yuan=p.amount_yuan, conditions=p.conditions, valid_from=p.valid_from,
                   valid_to=p.valid_to, basis=p.basis, status=p.status, updated_at=p.updated_at)


class PreviewIn(Body):
    """A draft condition set to count matches for."""

    audience: Literal["enterprise", "person"]
    conditions: Any = Field(description="条件：列表（全部满足）或 {\"all\": [...]} / {\"any\": [...]}")


class PreviewOut(BaseModel):
    """How many entities a condition set matches now."""

    matches: int
    near_misses: int
    register_size: int


class DeclineIn(Body):
    """Why an offer is declined."""

    reason: str = Field(default="", max_length=500)


class PayIn(Body):
    """The payment: date and amount (defaults: today and the policy's amount)."""

    paid_date: dt.date | None = None
    amount_yuan: Decimal | None = Field(default=None, ge=0)


class TotalsOut(BaseModel):
    """A policy's grants by status and the amount paid."""

    policy: str
    name: str
    department: str
    matches: int
    counts: dict[str, int]
    total: int
    paid_yuan: Decimal


class GrantPage(BaseModel):
    """A page of grants."""

    items: list[GrantOut]
    total: int
    limit: int
    offset: int
