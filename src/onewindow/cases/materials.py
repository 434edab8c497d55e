"""A case's material lines: the key that identifies a material across a bundle's items, the lines the pure
intake rules read, and 容缺 materials settled across a bundle and its sub-cases.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from onewindow.cases import rules
from onewindow.cases.models import (
    Case,
)
from onewindow.cases.queries import sub_cases
from onewindow.cases.rules import ChecklistLine, MaterialStatus
from onewindow.catalog.models import Material
from onewindow.core.clock import Clock


def material_key(m: Material) -> str:
    """The key that identifies a catalog material across a bundle's items (name and certificate type)."""
    return rules.material_key(m.name, m.certificate_type.code if m.certificate_type else None)


def lines_of(case: Case) -> list[ChecklistLine]:
    """The case's materials as the lines the pure intake rules read."""
    return [ChecklistLine(m.key, m.name, m.required, m.deferrable, MaterialStatus(m.status)) for m in case.materials]


def settle_deferred(session: Session, root: Case, keys: set[str], status: str, clock: Clock, *,
                    upload_id: int | None = None) -> bool:
    """Mark deferred materials of a case and its sub-cases as supplied; True when one was found."""
    family = [root, *sub_cases(session, root.id)]
    found = False
    for c in family:
        for m in c.materials:
            if m.key in keys and m.status == MaterialStatus.DEFERRED.value:
                m.status, m.supplied_at, found = status, clock.now(), True
                if upload_id is not None:
                    m.upload_id = upload_id
    for c in family:
        c.deferred = any(m.status == MaterialStatus.DEFERRED.value for m in c.materials)
        if not c.deferred:
            c.deferral_due = None
    session.flush()
    return found
