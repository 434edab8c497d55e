"""Deadline sweep: yellow / red warnings on open cases, 容缺 terminations and 缺席默认.

The 电子监察 alerts these raise (办件临期 / 超期, 容缺逾期, 环节超时) are the supervision domain's: its rules read
the warnings and due dates stored here (``supervision.detectors``), so there is one alert inbox.

Runs inside the app every few minutes and as ``onewindow jobs run-once``; idempotent, so running it
twice in a day changes nothing the second time. Also listens to calendar changes and recomputes the
due dates of open cases, with an audit entry per changed case.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from sqlalchemy import select, update
from sqlalchemy.orm import Session, aliased

from onewindow.calendar import service as calendar_service
from onewindow.calendar.service import CalendarChange
from onewindow.calendar.workdays import TimeUnit
from onewindow.cases import deadlines as dl
from onewindow.cases import service, transitions
from onewindow.cases.kinds import CaseKind
from onewindow.cases.models import Case
from onewindow.cases.schedule import suspensions_of
from onewindow.cases.states import CaseState
from onewindow.core import audit
from onewindow.core.audit import Actor
from onewindow.core.clock import Clock, today
from onewindow.core.errors import DomainError

S = CaseState
SWEEP = Actor(None, "电子监察")
log = logging.getLogger(__name__)
_OPEN = (S.ACCEPTED.value, S.IN_REVIEW.value, S.SUSPENDED.value)
_CHUNK = 500  # ids per IN (…) list


def _each(session: Session, case_id: int, counts: dict[str, int], act: Callable[[Case], bool]) -> bool:
    """Lock one case and act on it in a savepoint; a failure is logged and counted, the sweep goes on."""
    try:
        with session.begin_nested():
            case = transitions.lock(session, case_id, None)
            return act(case)
    except DomainError as exc:
        log.warning("case sweep skipped case %s: %s", case_id, exc.message)
        counts["skipped"] += 1
        return False


def _terminate_overdue(session: Session, case: Case, on: dt.date, clock: Clock) -> bool:
    if not (case.deferred and case.deferral_due is not None and case.deferral_due < on
            and case.state in (*_OPEN, S.APPROVED.value)):
        return False
    service.terminate(session, clock=clock, actor=SWEEP, case=case,
                      reason=f"容缺受理的材料未在 {case.deferral_due:%Y-%m-%d} 前补齐，依容缺受理承诺终止办理",
                      basis="容缺受理承诺书")
    return True


def _consent_by_default(session: Session, case: Case, on: dt.date, clock: Clock) -> bool:
    if not (case.promised_due is not None and case.promised_due < on
            and case.state in (S.ACCEPTED.value, S.IN_REVIEW.value)
            and case.bundle is not None and case.bundle.default_consent
            and case.department_id != case.bundle.lead_department_id):
        return False
    service.default_consent(session, clock=clock, case=case)
    return True


def sweep_deadlines(session: Session, *, clock: Clock) -> dict[str, int]:
    """Mark yellow/red on open cases, terminate overdue 容缺 cases, apply 缺席默认."""
    on = today(clock)
    calendar = calendar_service.build_calendar(session)
    counts = {"checked": 0, "yellow": 0, "red": 0, "terminated": 0, "default_consent": 0, "skipped": 0}
    # 容缺 deadlines passed with materials still outstanding: terminate (bundle parents take their sub-cases).
    # Candidates are read without locks; each is then locked and checked again, so a clerk who just took the
    # materials, or an approver who just decided, wins over the sweep.
    overdue = list(session.scalars(select(Case.id).where(
        Case.deferred.is_(True), Case.deferral_due < on, Case.kind != CaseKind.SUB,
        Case.state.in_((*_OPEN, S.APPROVED.value))).order_by(Case.id)))
    for case_id in overdue:
        if _each(session, case_id, counts, lambda case: _terminate_overdue(session, case, on, clock)):
            counts["terminated"] += 1
    # 缺席默认: co-departments' sub-cases of bundles that allow it, past their promised date, deemed to agree
    # (the lead department coordinates the bundle and always decides its own sub-case)
    consent = list(session.scalars(select(Case.id).where(
        Case.kind == CaseKind.SUB, Case.promised_due < on,
        Case.state.in_((S.ACCEPTED.value, S.IN_REVIEW.value))).order_by(Case.id)))
    for case_id in consent:
        if _each(session, case_id, counts, lambda case: _consent_by_default(session, case, on, clock)):
            counts["default_consent"] += 1
    # suspended cases: the pause grows by a day, due dates move; no warning while the clock stands
    for case in session.scalars(select(Case).where(Case.state == S.SUSPENDED.value, Case.kind != CaseKind.BUNDLE)):
        counts["checked"] += 1
        service.recompute_deadlines(session, case, calendar=calendar, on=on)
    # running clocks: read plain rows (no ORM objects, no materials), ask deadlines.schedule, update in bulk
    parent = aliased(Case)
    rows = session.execute(
        select(Case.id, Case.state, Case.accepted_on, Case.legal_days,
               Case.promised_days, Case.limit_unit, Case.extension_days, Case.legal_due, Case.promised_due,
               Case.due_provisional, Case.warning, parent.promised_due)
        .join(parent, parent.id == Case.parent_id, isouter=True)
        .where(Case.state.in_((S.ACCEPTED.value, S.IN_REVIEW.value)), Case.kind != CaseKind.BUNDLE,
               Case.accepted_on.is_not(None))).all()
    paused = suspensions_of(session, [r[0] for r in rows], on)  # ended suspensions still move the dates
    changed: dict[str, list[int]] = {}
    for (case_id, state, accepted_on, legal_days, promised_days, unit, extension_days,
         legal_due, promised_due, provisional, current, parent_due) in rows:
        counts["checked"] += 1
        # the 容缺 date is not the sweep's to store (recompute_deadlines keeps it); dates and warning are
        answer = dl.schedule(calendar, limits=dl.Limits(legal_days, promised_days, TimeUnit(unit)), state=state,
                             today=on, accepted_on=accepted_on, suspensions=paused.get(case_id, []),
                             extension_days=extension_days, parent_promised_due=parent_due)
        if (answer.legal_due, answer.promised_due, answer.provisional) != (legal_due, promised_due, provisional):
            session.execute(update(Case).where(Case.id == case_id).values(
                legal_due=answer.legal_due, promised_due=answer.promised_due, due_provisional=answer.provisional)
                .execution_options(synchronize_session="fetch"))
        level = answer.warning
        if level.value != current:
            changed.setdefault(level.value, []).append(case_id)
        if level is not dl.DeadlineWarning.NONE and answer.promised_due is not None:
            counts[level.value] += 1
    for level_value, ids in changed.items():
        for start in range(0, len(ids), _CHUNK):
            # only cases whose clock still runs: one decided since the read above keeps its cleared warning
            session.execute(update(Case).where(Case.id.in_(ids[start:start + _CHUNK]),
                                               Case.state.in_((S.ACCEPTED.value, S.IN_REVIEW.value)))
                            .values(warning=level_value).execution_options(synchronize_session="fetch"))
    session.flush()
    return counts


def recompute_on_calendar_change(session: Session, change: CalendarChange) -> None:
    """A holiday override or an official notice changed the calendar: move the affected due dates."""
    on = today(change.clock)
    calendar = calendar_service.build_calendar(session)
    for case in session.scalars(select(Case).where(Case.state.in_(_OPEN), Case.accepted_on.is_not(None))):
        touched = any(case.accepted_on is not None and case.accepted_on <= d and (
            case.legal_due is None or d <= max(case.legal_due, case.promised_due or case.legal_due)
        ) for d in change.dates) or (case.due_provisional and case.legal_due is not None and any(
            y <= case.legal_due.year for y in change.years))
        if not touched:
            continue
        before = {"legal_due": case.legal_due, "promised_due": case.promised_due,
                  "provisional": case.due_provisional}
        if service.recompute_deadlines(session, case, calendar=calendar, on=on):
            after = {"legal_due": case.legal_due, "promised_due": case.promised_due,
                     "provisional": case.due_provisional}
            transitions.record_event(session, case, clock=change.clock, actor=change.actor, kind="deadlines_recomputed",
                                     note="工作日历变更，期限重新计算", data={"before": before, "after": after})
            audit.record(session, clock=change.clock, actor=change.actor, action="cases.deadlines_recomputed",
                         entity_type="case", entity_id=case.number, before=before, after=after)
    session.flush()

