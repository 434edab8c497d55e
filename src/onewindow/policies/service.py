"""Policies service: the policy library and register field definitions (catalog import uses it)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from onewindow.catalog.models import Department
from onewindow.core import audit
from onewindow.core.audit import Actor
from onewindow.core.clock import Clock
from onewindow.core.errors import Problem
from onewindow.policies.models import EntityField, Policy

if TYPE_CHECKING:
    from onewindow.catalog.importer import ImportReport
    from onewindow.catalog.schemas import CatalogIn, EntityFieldIn, PolicyIn


def field_definitions(session: Session, catalog: CatalogIn | None = None) -> dict[str, list[dict[str, str]]]:
    """Register fields by kind: the database's, overlaid with those of a file being imported."""
    out: dict[str, dict[str, dict[str, str]]] = {"enterprise": {}, "person": {}}
    for f in session.scalars(select(EntityField)):
        out.setdefault(f.kind, {})[f.name] = {"name": f.name, "type": f.type, "label": f.label}
    if catalog is not None and catalog.entity_fields is not None:
        for kind in ("enterprise", "person"):
            for fi in getattr(catalog.entity_fields, kind):
                out[kind][fi.name] = fi.model_dump()
    return {k: list(v.values()) for k, v in out.items()}


def condition_problems(conditions: list[dict[str, Any]], fields: list[dict[str, str]], prefix: str) -> list[Problem]:
    """Problems of a policy's conditions against the register fields (delegates to the pure validator)."""
    from onewindow.policies import conditions as cond

    return list(cond.validate_conditions(conditions, cond.field_defs(fields), path=prefix))


def policy_file_problems(session: Session, catalog: CatalogIn) -> list[Problem]:
    """Problems of the policy sections of a catalog file: departments and conditions."""
    problems: list[Problem] = []
    fields = field_definitions(session, catalog)
    departments = {d.code for d in catalog.departments} | set(session.scalars(select(Department.code)))
    for i, policy in enumerate(catalog.policies):
        if policy.department not in departments:
            problems.append(Problem(f"policies[{i}].department", "unknown_department",
                                    f"未知部门编码：{policy.department}"))
        if policy.valid_from and policy.valid_to and policy.valid_to < policy.valid_from:
            problems.append(Problem(f"policies[{i}].valid_to", "bad_validity", "有效期结束日期早于开始日期"))
        problems += condition_problems(policy.conditions, fields[policy.audience], f"policies[{i}].conditions")
    return problems


def save_entity_field(session: Session, *, clock: Clock, actor: Actor, kind: str, data: EntityFieldIn) -> bool:
    """Create or update a register field definition."""
    row = session.scalar(select(EntityField).where(EntityField.kind == kind, EntityField.name == data.name))
    if row is not None and row.type == data.type and row.label == data.label:
        return False
    before = {"type": row.type, "label": row.label} if row else None
    if row is None:
        session.add(EntityField(kind=kind, name=data.name, type=data.type, label=data.label))
    else:
        row.type, row.label = data.type, data.label
    session.flush()
    audit.record(session, clock=clock, actor=actor, action="policies.field_saved", entity_type="entity_field",
                 entity_id=f"{kind}.{data.name}", before=before, after=data.model_dump())
    return True


def save_policy(session: Session, *, clock: Clock, actor: Actor, data: PolicyIn) -> bool:
    """Create or update a policy (conditions already validated by the caller)."""
    dept_id = session.scalar(select(Department.id).where(Department.code == data.department))
    values: dict[str, Any] = {
        "name": data.name, "department_id": dept_id, "audience": data.audience, "benefit": data.benefit,
        "amount_yuan": data.amount_yuan, "conditions": data.conditions, "valid_from": data.valid_from,
        "valid_to": data.valid_to, "basis": data.basis,
    }
    row = session.scalar(select(Policy).where(Policy.code == data.code))
    if row is not None:
        diff = {k: v for k, v in values.items() if getattr(row, k) != v}
        if not diff:
            return False
        before = {k: getattr(row, k) for k in diff}
        for k, v in diff.items():
            setattr(row, k, v)
        row.updated_at = clock.now()
    else:
        diff, before = values, None
        session.add(Policy(code=data.code, status="active", updated_at=clock.now(), **values))
    session.flush()
    audit.record(session, clock=clock, actor=actor, action="policies.policy_saved", entity_type="policy",
                 entity_id=data.code, before=before, after=diff)
    return True


def import_policy_sections(session: Session, *, clock: Clock, actor: Actor, catalog: CatalogIn,
                           report: ImportReport) -> None:
    """Write the entity_fields and policies sections of a validated catalog file."""
    if catalog.entity_fields is not None:
        for kind in ("enterprise", "person"):
            for f in getattr(catalog.entity_fields, kind):
                report.bump("entity_fields", save_entity_field(session, clock=clock, actor=actor, kind=kind, data=f))
    for policy in catalog.policies:
        report.bump("policies", save_policy(session, clock=clock, actor=actor, data=policy))


def list_policies(session: Session) -> list[Policy]:
    """All policies by code."""
    return list(session.scalars(select(Policy).order_by(Policy.code)))
