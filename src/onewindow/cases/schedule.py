"""Due dates of a case (service level): the working calendar from the database, the case's suspensions, the
recomputation of legal and promised due dates and warnings, and the workflow steps a case starts with. The
date arithmetic itself is pure, in :mod:`onewindow.cases.deadlines`.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from onewindow.calendar.service import build_calendar
from onewindow.calendar.workdays import Suspension, TimeUnit, WorkCalendar
from onewindow.cases import deadlines as dl
from onewindow.cases.kinds import StepOutcome, StepStatus
from onewindow.cases.models import (
    Case,
    CaseStep,
    CaseSuspension,
)
from onewindow.cases.states import (
    CLOCK_RUNNING,
    CaseState,
)
from onewindow.catalog.models import ItemVersion
from onewindow.core.audit import Actor

S = CaseState


def add_steps(case: Case, version: ItemVersion | None, now: dt.datetime, actor: Actor) -> None:
    """Give an accepted case its workflow steps (受理 done at once … 办结) from the item version."""
    names = list(version.steps) if version is not None and version.steps else ["受理", "审核", "办结"]
    if names[0] != "受理":
        names.insert(0, "受理")
    if len(names) < 2:
        names.append("办结")
    for pos, name in enumerate(names, start=1):
        done = pos == 1
        case.steps.append(CaseStep(position=pos, name=str(name)[:40],
                                   status=StepStatus.DONE if done else StepStatus.PENDING,
                                   outcome=StepOutcome.AGREE if done else None,
                                   opinion="材料齐全，予以受理" if done else "",
                                   done_by=actor.id if done else None, done_by_name=actor.label if done else "",
                                   done_at=now if done else None))


def work_calendar(session: Session) -> WorkCalendar:
    """The working calendar (holidays and overrides) from the database."""
    return build_calendar(session)


def _suspensions(session: Session, case: Case, on: dt.date) -> list[Suspension]:
    out: list[Suspension] = []
    for s in session.scalars(select(CaseSuspension).where(CaseSuspension.case_id == case.id)
                             .order_by(CaseSuspension.id)):
        last = (s.end - dt.timedelta(days=1)) if s.end is not None else max(on, s.start)
        if last >= s.start:
            out.append((s.start, last))
    return out


def recompute_deadlines(session: Session, case: Case, *, calendar: WorkCalendar, on: dt.date) -> bool:
    """Set the legal and promised due dates from acceptance, suspensions and extensions; True if changed."""
    if case.accepted_on is None:
        return False
    suspensions = _suspensions(session, case, on)
    deadlines = dl.compute(calendar, accepted_on=case.accepted_on,
                           limits=dl.Limits(case.legal_days, case.promised_days, TimeUnit(case.limit_unit)),
                           suspensions=suspensions, extension_days=case.extension_days)
    before = (case.legal_due, case.promised_due, case.due_provisional)
    case.legal_due, case.promised_due = deadlines.legal.date, deadlines.promised.date
    parent = session.get(Case, case.parent_id) if case.parent_id else None
    own_pause = bool(case.extension_days) or bool(suspensions)
    if (parent is not None and parent.promised_due is not None and not own_pause
            and case.promised_due > parent.promised_due):
        case.promised_due = parent.promised_due  # a sub-case never runs past its bundle's promise
    case.due_provisional = deadlines.provisional
    if S(case.state) in CLOCK_RUNNING:
        case.warning = dl.warning(calendar, today=on, due=case.promised_due).value
    return before != (case.legal_due, case.promised_due, case.due_provisional)
