"""Due dates of a case (service level): the working calendar from the database, the case's suspensions, and
the one call of :func:`onewindow.cases.deadlines.schedule` whose answer a case stores (legal, promised and
容缺 dates, provisional flag, warning) and every page, API and sweep shows; and the workflow steps a case
starts with, from the procedure it copied at acceptance.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from onewindow.calendar.service import build_calendar
from onewindow.calendar.workdays import Suspension, WorkCalendar
from onewindow.cases import deadlines as dl
from onewindow.cases.kinds import StepOutcome, StepStatus
from onewindow.cases.models import Case, CaseStep, CaseSuspension
from onewindow.cases.procedure import limits_of, procedure_of_case
from onewindow.catalog.procedure import Procedure
from onewindow.core.audit import Actor
from onewindow.core.clock import Clock, today

_CHUNK = 500  # ids per IN (…) list


def add_steps(case: Case, procedure: Procedure, now: dt.datetime, actor: Actor, by_name: str = "") -> None:
    """Give an accepted case its workflow steps, one per step of its procedure (the acceptance step done by
    ``by_name``, the accepting staff member's name; the actor's label when not given)."""
    for pos, rule in enumerate(procedure.steps, start=1):
        done = pos == 1
        case.steps.append(CaseStep(position=pos, name=rule.name[:40], kind=rule.kind.value,
                                   status=StepStatus.DONE if done else StepStatus.PENDING,
                                   outcome=StepOutcome.AGREE if done else None,
                                   opinion="材料齐全，予以受理" if done else "",
                                   done_by=actor.id if done else None,
                                   done_by_name=(by_name or actor.label)[:64] if done else "",
                                   done_at=now if done else None))


def work_calendar(session: Session) -> WorkCalendar:
    """The working calendar (holidays and overrides) from the database."""
    return build_calendar(session)


def _ranges(rows: Iterable[CaseSuspension], on: dt.date) -> list[Suspension]:
    out: list[Suspension] = []
    for s in rows:
        last = (s.end - dt.timedelta(days=1)) if s.end is not None else max(on, s.start)
        if last >= s.start:
            out.append((s.start, last))
    return out


def suspensions_of(session: Session, case_ids: Sequence[int], on: dt.date) -> dict[int, list[Suspension]]:
    """The suspended date ranges of each case (a running one up to ``on``), read in bulk."""
    found: dict[int, list[CaseSuspension]] = defaultdict(list)
    ids = sorted(set(case_ids))
    for start in range(0, len(ids), _CHUNK):
        for s in session.scalars(select(CaseSuspension).where(CaseSuspension.case_id.in_(ids[start:start + _CHUNK]))
                                 .order_by(CaseSuspension.id)):
            found[s.case_id].append(s)
    return {i: _ranges(found.get(i, []), on) for i in ids}


def schedule_of(case: Case, *, calendar: WorkCalendar, on: dt.date, suspensions: Sequence[Suspension],
                parent_promised_due: dt.date | None) -> dl.Schedule:
    """The case's :func:`~onewindow.cases.deadlines.schedule` from its columns, its procedure and the facts given."""
    deferral_days = procedure_of_case(case).deferral_working_days if case.deferred else 0
    return dl.schedule(calendar, limits=limits_of(case), state=case.state, today=on, accepted_on=case.accepted_on,
                       suspensions=suspensions, extension_days=case.extension_days, deferred=case.deferred,
                       deferral_days=deferral_days, parent_promised_due=parent_promised_due,
                       decided_on=case.decided_on)


def schedules(session: Session, cases: Sequence[Case], *, calendar: WorkCalendar,
              on: dt.date) -> dict[int, dl.Schedule]:
    """The schedule of each case (by id) on ``on``: what the inbox, the case page and the API show."""
    suspensions = suspensions_of(session, [c.id for c in cases], on)
    parent_ids = sorted({c.parent_id for c in cases if c.parent_id is not None})
    parents: dict[int, dt.date | None] = {}
    for start in range(0, len(parent_ids), _CHUNK):
        parents.update({i: d for i, d in session.execute(
            select(Case.id, Case.promised_due).where(Case.id.in_(parent_ids[start:start + _CHUNK]))).all()})
    return {c.id: schedule_of(c, calendar=calendar, on=on, suspensions=suspensions.get(c.id, []),
                              parent_promised_due=parents.get(c.parent_id) if c.parent_id else None)
            for c in cases}


def recompute_deadlines(session: Session, case: Case, *, calendar: WorkCalendar, on: dt.date) -> bool:
    """Store the case's schedule (due dates, provisional flag, warning, 容缺 date); True if a date changed."""
    if case.accepted_on is None:
        case.warning = dl.DeadlineWarning.NONE.value
        return False
    answer = schedules(session, [case], calendar=calendar, on=on)[case.id]
    before = (case.legal_due, case.promised_due, case.due_provisional)
    case.legal_due, case.promised_due, case.due_provisional = (answer.legal_due, answer.promised_due,
                                                               answer.provisional)
    case.warning = answer.warning.value
    if not case.deferred:
        case.deferral_due = None
    elif case.procedure is not None or case.deferral_due is None:
        # a case accepted before procedures were copied keeps the 容缺 date it was given at acceptance
        # (under the region's setting of the day, which its limit columns do not record)
        case.deferral_due = answer.deferral_due
    return before != (case.legal_due, case.promised_due, case.due_provisional)


def refresh(session: Session, cases: Iterable[Case], *, clock: Clock) -> None:
    """Store the schedule of cases whose state just moved (a stopped clock has no warning, a decided case
    keeps the dates it was decided against)."""
    calendar: WorkCalendar | None = None
    on = today(clock)
    for case in cases:
        if case.accepted_on is None:
            case.warning = dl.DeadlineWarning.NONE.value
            continue
        calendar = calendar or work_calendar(session)
        recompute_deadlines(session, case, calendar=calendar, on=on)
