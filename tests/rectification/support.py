"""Helpers of the rectification tests: a fake source (an experiencer's report) and the demo's departments."""

from __future__ import annotations

import itertools

from sqlalchemy import select
from sqlalchemy.orm import Session

from onewindow.catalog.models import Department
from onewindow.core.audit import Actor
from onewindow.core.clock import Clock
from onewindow.rectification import service
from onewindow.rectification.models import RectificationOrder
from onewindow.rectification.states import Raiser, SourceKind

SYSTEM = Actor(None, "test")
RAISER = Raiser(name="钱体验", phone="13912345678", user_id=None, identified=True)
_source_ids = itertools.count(900_001)


def department(session: Session, code: str = "SCJG") -> Department:
    """A demo department by code."""
    found = session.scalars(select(Department).where(Department.code == code)).first()
    assert found is not None
    return found


def open_fake(session: Session, clock: Clock, *, code: str = "SCJG", source_id: int | None = None,
              working_days: int = 5) -> RectificationOrder:
    """An order opened for a made-up experiencer report of the department ``code``."""
    return service.open_order(
        session, clock=clock, actor=SYSTEM, source_kind=SourceKind.EXPERIENCE,
        source_id=source_id if source_id is not None else next(_source_ids),
        department_id=department(session, code).id, title="窗口人员态度生硬",
        detail="体验员反映：窗口人员未一次性告知所需材料，联系电话 13912345678", raiser=RAISER,
        rules=service.RectificationRules(working_days=working_days))
