"""The county file (catalog-reference.json shape): the catalog's sections and the policies domain's
sections, imported, validated and exported together.

The catalog package does not import policies (policies depends on catalog); this thin module outside both
domains plugs the policy sections into the catalog importer and exporter. Callers that handle a whole
county file (CLI, demo, guide, tests) use it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from onewindow.catalog import exporter, importer
from onewindow.catalog.importer import ImportReport
from onewindow.catalog.schemas import CatalogIn
from onewindow.core.audit import Actor
from onewindow.core.clock import Clock
from onewindow.core.errors import Problem
from onewindow.policies.exchange import POLICY_SECTIONS

__all__ = ["ImportReport", "export_catalog", "import_catalog", "validate_catalog"]


def validate_catalog(session: Session, data: dict[str, Any]) -> tuple[CatalogIn, list[Problem]]:
    """Parse and check a county file (policy sections included); raises with every problem."""
    return importer.validate_catalog(session, data, owned=POLICY_SECTIONS)


def import_catalog(session: Session, *, clock: Clock, actor: Actor, data: dict[str, Any]) -> ImportReport:
    """Import a county file: the catalog, then the register fields and policies (one transaction)."""
    return importer.import_catalog(session, clock=clock, actor=actor, data=data, owned=POLICY_SECTIONS)


def export_catalog(session: Session) -> dict[str, Any]:
    """The county file of the database: the catalog with its policies and register fields."""
    return exporter.export_catalog(session, owned=POLICY_SECTIONS)
