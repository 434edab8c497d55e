"""The one way a case changes: lock, move, touch, timeline event, snapshot and audit, and numbering.

Every state change goes through :func:`move`, which calls :func:`onewindow.cases.states.check_transition`
(409 on an illegal move), bumps the version, writes a timeline event and an audit entry; :func:`touch` is the
same for a change that keeps the state. Writers :func:`lock` the case row first (``SELECT … FOR UPDATE`` on
PostgreSQL; SQLite writers are already serialised by ``BEGIN IMMEDIATE``), always bundle before sub-cases, and
check the caller's expected ``version`` (409 when stale). The guards every flow shares (department scope, a
current agent authorisation, a stated reason and basis) and case numbering live here too. Functions flush,
never commit: the edge owns the transaction (ADR 1).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from onewindow.agents import service as agents_service
from onewindow.cases.kinds import CaseKind
from onewindow.cases.models import (
    Case,
    CaseEvent,
)
from onewindow.cases.numbers import MAX_SEQUENCE, format_case_number
from onewindow.cases.states import (
    CaseState,
    check_transition,
)
from onewindow.core import access, audit
from onewindow.core.audit import Actor
from onewindow.core.clock import Clock
from onewindow.core.errors import Conflict, NotFound, Problem, ValidationFailed
from onewindow.core.ids import mask_id_number
from onewindow.core.validation import clean_line
from onewindow.staff.models import User
from onewindow.staff.service import viewer_of

NUMBER_ATTEMPTS = 5
TEXT_MAX = 500

# Published hook: called by ``move`` in the same transaction whenever a case reaches a finished state (decided:
# approved or denied; or its result delivered), with (session, case, clock). Installed by ``onewindow.wiring``
# (the case-done SMS with the rating link); a listener must be idempotent, as a case passes several of them.
CaseFinishedListener = Callable[[Session, Case, Clock], None]
CASE_FINISHED_LISTENERS: list[CaseFinishedListener] = []
FINISHED_STATES = frozenset({CaseState.APPROVED, CaseState.DENIED, CaseState.DELIVERED})



def snapshot(case: Case) -> dict[str, Any]:
    """The audited fields of a case (applicant ID masked)."""
    return {"number": case.number, "state": case.state, "version": case.version, "department_id": case.department_id,
            "applicant_id": mask_id_number(case.applicant_id), "legal_due": case.legal_due,
            "promised_due": case.promised_due, "decision": case.decision}


def actor_name(session: Session, actor: Actor) -> str:
    """The name a case shows for who did something: the staff member's name, not the username."""
    person = session.get(User, actor.id) if actor.id is not None else None
    return (person.display_name if person else actor.label)[:64]


def record_event(session: Session, case: Case, *, clock: Clock, actor: Actor, kind: str, from_state: str | None = None,
                 to_state: str | None = None, note: str = "", data: Mapping[str, Any] | None = None) -> CaseEvent:
    """Add a timeline event to the case; the actor is shown by name."""
    ev = CaseEvent(case_id=case.id, at=clock.now(), kind=kind, from_state=from_state, to_state=to_state,
                   actor_id=actor.id, actor_name=actor_name(session, actor),  # the timeline shows names
                   note=note[:TEXT_MAX],
                   data=audit.canonical(dict(data or {})))
    session.add(ev)
    return ev


def move(session: Session, case: Case, target: CaseState, *, clock: Clock, actor: Actor, kind: str,
         note: str = "", data: Mapping[str, Any] | None = None) -> None:
    """The one place a case changes state: check, bump the version, timeline, audit."""
    before = snapshot(case)
    source = case.state
    check_transition(source, target)
    case.state = target.value
    case.version += 1
    case.updated_at = clock.now()
    session.flush()
    record_event(session, case, clock=clock, actor=actor, kind=kind, from_state=source, to_state=target.value,
                 note=note, data=data)
    audit.record(session, clock=clock, actor=actor, action=f"cases.{kind}", entity_type="case",
                 entity_id=case.number, before=before, after=snapshot(case))
    if target in FINISHED_STATES:
        for listener in tuple(CASE_FINISHED_LISTENERS):
            listener(session, case, clock)


def touch(session: Session, case: Case, *, clock: Clock, actor: Actor, kind: str, note: str = "",
          data: Mapping[str, Any] | None = None) -> None:
    """A change that keeps the state (material supplied, opinion, delivery detail): version, timeline, audit."""
    before = snapshot(case)
    case.version += 1
    case.updated_at = clock.now()
    session.flush()
    record_event(session, case, clock=clock, actor=actor, kind=kind, note=note, data=data)
    audit.record(session, clock=clock, actor=actor, action=f"cases.{kind}", entity_type="case",
                 entity_id=case.number, before=before, after={**snapshot(case), **dict(data or {})})


def lock_row(session: Session, case_id: int) -> Case | None:
    # OF case_record: PostgreSQL refuses FOR UPDATE on the nullable side of the eager outer joins
    """Lock one case row for update and reload it (None when unknown)."""
    return session.scalars(select(Case).where(Case.id == case_id).with_for_update(of=Case)
                           .execution_options(populate_existing=True)).first()


def lock(session: Session, case_id: int, expected_version: int | None) -> Case:
    """Lock a case for a write, always in one order (the bundle, then its sub-cases by id), check the version.

    A sub-case's write locks its bundle first, so two sub-cases completing at once and a withdrawal of the
    bundle queue up instead of deadlocking; a bundle's write locks all its sub-cases, which it may change.
    """
    parent_id = session.scalar(select(Case.parent_id).where(Case.id == case_id))
    if parent_id is not None:
        lock_row(session, parent_id)
    case = lock_row(session, case_id)
    if case is None:
        raise NotFound("办件", str(case_id))
    if case.kind == CaseKind.BUNDLE:
        session.execute(select(Case.id).where(Case.parent_id == case.id).order_by(Case.id).with_for_update())
    if expected_version is not None and expected_version != case.version:
        raise Conflict("办件已被他人更新，请刷新后重试", code="stale_version", field="version")
    return case


def next_number(session: Session, day: dt.date) -> str:
    # a range on the unique index, not LIKE 'prefix%' (which PostgreSQL cannot serve from a non-C-collation index)
    """The next free case number of the day (read from the unique index)."""
    first, last_possible = f"{day:%Y%m%d}-00000-0", f"{day:%Y%m%d}-99999-9"
    last = session.scalar(select(func.max(Case.number)).where(Case.number.between(first, last_possible)))
    sequence = int(last[9:14]) + 1 if last else 1
    if sequence > MAX_SEQUENCE:
        raise Conflict("当日办件编号已用尽", code="number_exhausted")
    return format_case_number(day, sequence)


class DuplicateKey(Exception):
    """The same idempotent submission was inserted by a concurrent request."""

    def __init__(self, existing: Case) -> None:
        self.existing = existing


def insert_numbered(session: Session, case: Case, day: dt.date) -> None:
    """Insert a new case under the day's next number, retrying when a concurrent intake took it.

    The audit chain's head is taken first (every audited write holds it until its COMMIT, and the case's creation
    is audited next): on PostgreSQL the intakes then number one at a time, each seeing the numbers of those
    before it committed, instead of several reading the same last number, all but one waiting for the first's
    COMMIT on the unique index and trying again (``number_conflict`` after a few, under concurrent intakes) or
    deadlocking with the head's holder. The retries stay for a writer that numbers without it."""
    audit.locked_head(session)
    for attempt in range(NUMBER_ATTEMPTS):
        case.number = next_number(session, day)
        try:
            # a savepoint per attempt: a concurrent intake may take the same number first (unique)
            with session.begin_nested():
                session.add(case)
                session.flush()
            return
        except IntegrityError:
            if case.idempotency_key:  # the same submission raced in from another request: answer with it
                existing = session.scalars(select(Case).where(Case.created_by == case.created_by,
                                                              Case.idempotency_key == case.idempotency_key)).first()
                if existing is not None:
                    raise DuplicateKey(existing) from None
            if attempt == NUMBER_ATTEMPTS - 1:
                raise Conflict("办件编号分配冲突，请重试", code="number_conflict") from None


def require_current_authorization(session: Session, user: User, case: Case, on: dt.date) -> None:
    """An agent acts on a case only while the applicant's authorisation for it is valid."""
    if not access.acts_for_others(viewer_of(user).role):
        return
    codes = [c for c in (case.bundle.code if case.bundle else "", case.item.code if case.item else "") if c]
    agents_service.require_authorization(session, user, case.applicant_id, codes, on)


def reason_and_basis(reason: str, basis: str, *, what: str, prefix: str = "") -> tuple[str, str]:
    """A negative decision (不予受理, 不予许可) states its reason and its legal basis."""
    r, b = clean_line(reason, TEXT_MAX), clean_line(basis, TEXT_MAX)
    problems = []
    if not r:
        problems.append(Problem(f"{prefix}reason", "reason_required", f"{what}须写明理由"))
    if not b:
        problems.append(Problem(f"{prefix}basis", "basis_required", f"{what}须写明法律依据"))
    if problems:
        raise ValidationFailed(problems)
    return r, b
