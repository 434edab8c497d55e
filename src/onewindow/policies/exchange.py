"""The policy sections of the county file (``policies``, ``entity_fields``): checked, written and
exported for the catalog importer and exporter through :class:`onewindow.catalog.importer.OwnedSections`.

The dependency runs from policies to catalog: the catalog never imports this domain.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from onewindow.catalog.importer import ImportReport
from onewindow.catalog.schemas import CatalogIn
from onewindow.core.audit import Actor
from onewindow.core.clock import Clock
from onewindow.core.errors import Problem
from onewindow.policies import service as policies_service
from onewindow.policies.models import EntityField, Policy


class PolicySections:
    """The policies domain's part of the county file."""

    def file_problems(self, session: Session, catalog: CatalogIn) -> list[Problem]:
        """Problems of the policy sections: departments and conditions."""
        return policies_service.policy_file_problems(session, catalog)

    def write(self, session: Session, *, clock: Clock, actor: Actor, catalog: CatalogIn,
              report: ImportReport) -> None:
        """Write the entity_fields and policies sections and work out which rows are new."""
        fields_before = {(kind, f["name"]) for kind, rows in policies_service.field_definitions(session).items()
                         for f in rows}
        policies_before = {p.code for p in policies_service.list_policies(session)}
        policies_service.import_policy_sections(session, clock=clock, actor=actor, catalog=catalog, report=report)
        if catalog.entity_fields is not None:
            new = sum(1 for kind in ("enterprise", "person") for f in getattr(catalog.entity_fields, kind)
                      if (kind, f.name) not in fields_before)
            if new:
                report.created["entity_fields"] = new
        new = sum(1 for p in catalog.policies if p.code not in policies_before)
        if new:
            report.created["policies"] = new

    def export(self, session: Session) -> dict[str, Any]:
        """The active policies and the register fields as they appear in the file."""
        out: dict[str, Any] = {"policies": _policies(session)}
        entity_fields = _entity_fields(session)
        if entity_fields is not None:
            out["entity_fields"] = entity_fields
        return out


POLICY_SECTIONS = PolicySections()


def _number(value: Decimal) -> int | float:
    """A money amount as a JSON number: an integer when whole (``1500``, not ``1500.00``)."""
    return int(value) if value == value.to_integral_value() else float(value)


def _policies(session: Session) -> list[dict[str, Any]]:
    # stored order and every column, which the list functions do not give
    out = []
    for p in session.scalars(select(Policy).where(Policy.status == "active").order_by(Policy.id)):
        row: dict[str, Any] = {"code": p.code, "name": p.name, "department": p.department.code,
                               "audience": p.audience, "benefit": p.benefit}
        if p.amount_yuan is not None:
            row["amount_yuan"] = _number(p.amount_yuan)
        row["conditions"] = p.conditions
        if p.valid_from is not None:
            row["valid_from"] = p.valid_from.isoformat()
        if p.valid_to is not None:
            row["valid_to"] = p.valid_to.isoformat()
        if p.basis:
            row["basis"] = p.basis
        out.append(row)
    return out


def _entity_fields(session: Session) -> dict[str, list[dict[str, str]]] | None:
    rows = list(session.scalars(select(EntityField).order_by(EntityField.id)))
    if not rows:
        return None
    return {kind: [{"name": f.name, "type": f.type, "label": f.label} for f in rows if f.kind == kind]
            for kind in ("enterprise", "person")}
