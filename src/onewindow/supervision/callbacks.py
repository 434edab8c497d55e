"""回访 (callbacks on finished cases, 应访尽访): the daily draw, the tasks, their outcomes and the figures.

Every working day the job ``callback-sampling`` draws, for each day of the last week not drawn yet, a sample of
each department's cases finished that day (:mod:`onewindow.supervision.callback_rules` decides how many and
which). The center's callers (``supervision.callback_record``) record each call: not reached (called again up
to the attempts allowed), or reached with a level per dimension and remarks. An unsatisfied outcome (the overall
level is 不满意 / 非常不满意) opens a rectification work order (source ``callback``) for the case's department;
the listeners installed in ``onewindow.wiring`` follow it to its end (办结 after 整改 and 回访, or voided).

Functions flush, never commit; every change is audited. A department head reads their own department's tasks.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, defaultload

from onewindow.calendar.service import build_calendar
from onewindow.cases.kinds import CaseKind
from onewindow.cases.models import Case
from onewindow.catalog.models import Department
from onewindow.config import Settings, get_settings
from onewindow.core import access, audit
from onewindow.core.access import Action, Record
from onewindow.core.audit import Actor
from onewindow.core.clock import Clock, today
from onewindow.core.errors import Conflict, NotFound, PermissionDenied, Problem, ValidationFailed
from onewindow.core.locking import lock_versioned
from onewindow.rectification import service as rectification
from onewindow.rectification.states import Raiser, SourceKind
from onewindow.staff.models import User
from onewindow.staff.service import actor_of, viewer_of
from onewindow.supervision.callback_models import CallbackDraw, CallbackTask
from onewindow.supervision.callback_rules import (
    REACHED,
    REMARKS_MAX,
    UNSATISFIED,
    Candidate,
    Dimension,
    Outcome,
    SampleRules,
    after_reached,
    after_unreached,
    check_scores,
    draw,
    person_key,
    questions,
    rate,
)

LOOKBACK_DAYS = 7  # the job draws every undrawn day of the last week (weekends and holidays on the next working day)
JOB_ACTOR = Actor(None, "callback-sampling")
# lists and ledgers show the case's number, item, applicant and phone: never its checklist or review steps
LIST_LOAD = (defaultload(CallbackTask.case).lazyload(Case.materials),
             defaultload(CallbackTask.case).lazyload(Case.steps))


def rules_from(settings: Settings) -> SampleRules:
    """The sampling rules from the settings (``ONEWINDOW_CALLBACK_*``)."""
    return SampleRules(rate=settings.callback_sample_rate, minimum=settings.callback_min_per_department,
                       no_repeat_days=settings.callback_no_repeat_days,
                       due_working_days=settings.callback_due_working_days,
                       max_attempts=settings.callback_max_attempts)


# ----- the draw ----------------------------------------------------------------------------------------------


def draw_day(session: Session, *, clock: Clock, day: dt.date, rules: SampleRules,
             actor: Actor = JOB_ACTOR) -> CallbackDraw:
    """Draw the callback tasks of the cases finished on ``day`` (once: a second call returns the first draw)."""
    existing = session.scalars(select(CallbackDraw).where(CallbackDraw.day == day)).first()
    if existing is not None:
        return existing
    on = today(clock)
    rows = session.execute(
        select(Case.id, Case.department_id, Case.applicant_id, Case.applicant_phone)
        .where(Case.decided_on == day, Case.kind != CaseKind.BUNDLE.value, Case.decided_at.is_not(None))
        .order_by(Case.id)).all()
    by_department: dict[int, list[Candidate]] = defaultdict(list)
    for case_id, department_id, identifier, phone in rows:
        by_department[int(department_id)].append(
            Candidate(int(case_id), person_key(identifier or f"case-{case_id}"), bool((phone or "").strip())))
    since = on - dt.timedelta(days=rules.no_repeat_days)
    keys = {c.person_key for cs in by_department.values() for c in cs}
    recent = set(session.scalars(select(CallbackTask.person_key).where(
        CallbackTask.person_key.in_(sorted(keys)), CallbackTask.drawn_on > since))) if keys else set()
    chosen: list[Candidate] = []
    figures: dict[str, dict[str, int]] = {}
    for department_id in sorted(by_department):
        picked = draw(by_department[department_id], rules=rules, recently_called=recent,
                      seed=f"{day.isoformat()}:{department_id}")
        recent |= {c.person_key for c in picked}  # one call per person across departments too
        chosen += picked
        figures[str(department_id)] = {"finished": len(by_department[department_id]), "drawn": len(picked)}
    due = build_calendar(session).add_working_days(on, rules.due_working_days).date
    cases = {c.id: c for c in session.scalars(select(Case).where(Case.id.in_([c.case_id for c in chosen])))} \
        if chosen else {}
    now = clock.now()
    for c in chosen:
        found = cases[c.case_id]
        session.add(CallbackTask(
            case_id=found.id, department_id=found.department_id, day=day, drawn_on=on, due_on=due,
            person_key=c.person_key, outcome=Outcome.PENDING.value, attempts=0, scores={}, remarks="",
            questions=questions(item=found.title, finished_on=f"{day:%Y年%m月%d日}", department=found.department.name),
            version=1, updated_at=now))
    record = CallbackDraw(day=day, drawn_at=now, finished=len(rows), drawn=len(chosen), by_department=figures)
    session.add(record)
    session.flush()
    audit.record(session, clock=clock, actor=actor, action="supervision.callbacks_drawn", entity_type="callback_draw",
                 entity_id=day.isoformat(), after={"finished": len(rows), "drawn": len(chosen),
                                                   "by_department": figures})
    return record


def sampling_job(session: Session, *, clock: Clock, settings: Settings | None = None) -> dict[str, int]:
    """The ``callback-sampling`` job: on a working day, draw every undrawn day of the last week up to yesterday."""
    on = today(clock)
    if not build_calendar(session).is_workday(on):
        return {"days": 0, "tasks": 0}
    rules = rules_from(settings or get_settings())
    first = on - dt.timedelta(days=LOOKBACK_DAYS)
    drawn = set(session.scalars(select(CallbackDraw.day).where(CallbackDraw.day >= first)))
    days = tasks = 0
    for n in range(LOOKBACK_DAYS, 0, -1):
        day = on - dt.timedelta(days=n)
        if day in drawn:
            continue
        tasks += draw_day(session, clock=clock, day=day, rules=rules).drawn
        days += 1
    return {"days": days, "tasks": tasks}


# ----- outcomes ----------------------------------------------------------------------------------------------


def record_of(task: CallbackTask) -> Record:
    """What the access policy needs to know of a task."""
    return Record(department=task.department_id)


def snapshot(task: CallbackTask) -> dict[str, Any]:
    """The audited fields of a task."""
    return {"case_id": task.case_id, "outcome": task.outcome, "attempts": task.attempts, "scores": task.scores,
            "order_id": task.order_id, "version": task.version}


def _lock(session: Session, task_id: int, expected_version: int | None) -> CallbackTask:
    return lock_versioned(session, CallbackTask, task_id, expected_version, label="回访任务")


def _unsatisfied_detail(task: CallbackTask, levels: Mapping[str, Any], remarks: str) -> str:
    parts = [f"{Dimension(k).label}：{v.label}" for k, v in levels.items()]
    return f"办件 {task.case.number}（{task.case.title}）回访不满意。" + "；".join(parts) + (f"。回访记录：{remarks}"
                                                                                     if remarks else "")


def record_outcome(session: Session, *, clock: Clock, user: User, task_id: int, expected_version: int | None,
                   reached: bool, scores: Mapping[str, str] | None = None, remarks: str = "",
                   rules: SampleRules | None = None) -> CallbackTask:
    """Record one call: not reached (called again until the attempts run out) or the levels and remarks; an
    unsatisfied overall level opens a rectification work order for the case's department."""
    text = (remarks or "").strip()
    problems: list[Problem] = []
    if len(text) > REMARKS_MAX:
        problems.append(Problem("remarks", "remarks_too_long", f"回访记录不超过{REMARKS_MAX}个字"))
    levels: dict[str, Any] = {}
    if reached:
        levels, missing = check_scores(scores or {})
        problems += missing
    if problems:
        raise ValidationFailed(problems)
    task = _lock(session, task_id, expected_version)
    access.require(viewer_of(user), Action.CALLBACK_RECORD, record_of(task))
    if task.outcome != Outcome.PENDING.value:
        raise Conflict(f"该回访任务已是“{Outcome(task.outcome).label}”，不能再记录回访结果",
                       code="callback_already_recorded", field="outcome")
    before = snapshot(task)
    actor = actor_of(user)
    if rules is None:
        rules = rules_from(get_settings())
    task.attempts += 1
    task.called_at = clock.now()
    task.called_by = user.id
    stamp = f"[{task.attempts}] {text}" if text else ""
    if not reached:
        task.outcome = after_unreached(task.attempts, rules).value
        task.remarks = "\n".join(x for x in (task.remarks, stamp or f"[{task.attempts}] 未接通") if x)
    else:
        task.scores = {k: v.value for k, v in levels.items()}
        task.remarks = "\n".join(x for x in (task.remarks, stamp) if x)
        outcome = after_reached(levels)
        task.outcome = outcome.value
        if outcome is Outcome.RECTIFYING:
            case_ = task.case
            order = rectification.open_order(
                session, clock=clock, actor=actor, source_kind=SourceKind.CALLBACK, source_id=task.id,
                department_id=task.department_id, title=f"回访不满意：{case_.title}"[:200],
                detail=_unsatisfied_detail(task, levels, text),
                raiser=Raiser(name=case_.applicant_name, phone=case_.applicant_phone,
                              user_id=case_.applicant_user_id, identified=True))
            task.order_id = order.id
    task.version += 1
    task.updated_at = clock.now()
    session.flush()
    audit.record(session, clock=clock, actor=actor, action="supervision.callback_recorded",
                 entity_type="callback_task", entity_id=task.id, before=before, after=snapshot(task))
    return task


def _follow(session: Session, task_id: int, clock: Clock, actor: Actor, outcome: Outcome) -> None:
    if session.get(CallbackTask, task_id) is None:  # an order some other code opened under this source kind
        return
    task = _lock(session, task_id, None)
    if task.outcome != Outcome.RECTIFYING.value:
        return
    before = snapshot(task)
    task.outcome = outcome.value
    task.version += 1
    task.updated_at = clock.now()
    session.flush()
    audit.record(session, clock=clock, actor=actor, action=f"supervision.callback_{outcome.value}",
                 entity_type="callback_task", entity_id=task.id, before=before, after=snapshot(task))


def order_closed(session: Session, source_id: int, clock: Clock, actor: Actor, note: str) -> None:
    """Close listener (source ``callback``): the unsatisfied callback was rectified and called back."""
    del note
    _follow(session, source_id, clock, actor, Outcome.RECTIFIED)


def order_voided(session: Session, source_id: int, clock: Clock, actor: Actor, note: str) -> None:
    """Void listener (source ``callback``): the department's appeal was upheld."""
    del note
    _follow(session, source_id, clock, actor, Outcome.VOIDED)


# ----- reads -------------------------------------------------------------------------------------------------


def _scope(user: User) -> int | None:
    viewer = viewer_of(user)
    if access.list_scope(viewer, Action.CALLBACK_VIEW) is None:
        access.require(viewer, Action.CALLBACK_VIEW)
        raise PermissionDenied()  # pragma: no cover - require raised
    return access.department_scoped(viewer, Action.CALLBACK_VIEW)


def get_task(session: Session, *, viewer: User, task_id: int) -> CallbackTask:
    """One task the viewer may see, or 404 / 403."""
    task = session.get(CallbackTask, task_id)
    if task is None:
        raise NotFound("回访任务", str(task_id))
    access.require(viewer_of(viewer), Action.CALLBACK_VIEW, record_of(task))
    return task


def list_tasks(session: Session, *, viewer: User, outcome: Outcome | str | None = None,
               department_id: int | None = None, day_from: dt.date | None = None, day_to: dt.date | None = None,
               limit: int = 50, offset: int = 0) -> list[CallbackTask]:
    """The tasks the viewer may see, pending ones by due date first, then the newest."""
    query = select(CallbackTask)
    scope = _scope(viewer)
    if scope is not None:
        query = query.where(CallbackTask.department_id == scope)
    if department_id is not None:
        query = query.where(CallbackTask.department_id == department_id)
    if outcome is not None:
        query = query.where(CallbackTask.outcome == Outcome(outcome).value)
    if day_from is not None:
        query = query.where(CallbackTask.day >= day_from)
    if day_to is not None:
        query = query.where(CallbackTask.day <= day_to)
    query = query.order_by(CallbackTask.day.desc(), CallbackTask.id).limit(limit).offset(offset)
    return list(session.scalars(query.options(*LIST_LOAD)))


def outcome_counts(session: Session, *, viewer: User) -> dict[str, int]:
    """How many of the viewer's tasks have each outcome (every outcome named)."""
    query = select(CallbackTask.outcome, func.count()).group_by(CallbackTask.outcome)
    scope = _scope(viewer)
    if scope is not None:
        query = query.where(CallbackTask.department_id == scope)
    found = {str(k): int(n) for k, n in session.execute(query)}
    return {o.value: found.get(o.value, 0) for o in Outcome}


@dataclass(frozen=True)
class DepartmentRate:
    """应访尽访 of one department over a period: drawn (应访), called (已访: any outcome but pending), reached
    (联系成功), satisfied, unsatisfied (and how many of those were rectified)."""

    department_id: int
    department_name: str
    drawn: int
    called: int
    reached: int
    satisfied: int
    unsatisfied: int
    rectified: int

    @property
    def callback_rate(self) -> float | None:
        """回访率 (应访尽访): called / drawn."""
        return rate(self.called, self.drawn)

    @property
    def reach_rate(self) -> float | None:
        """联系成功率: reached / drawn."""
        return rate(self.reached, self.drawn)

    @property
    def satisfaction_rate(self) -> float | None:
        """满意率: satisfied / reached."""
        return rate(self.satisfied, self.reached)


def _counted(session: Session, scope: int | None, day_from: dt.date, day_to: dt.date,
             by_day: bool) -> list[tuple[dt.date | None, DepartmentRate]]:
    t = CallbackTask

    def n(values: frozenset[Outcome] | set[Outcome]) -> Any:
        return func.coalesce(func.sum(case((t.outcome.in_([o.value for o in values]), 1), else_=0)), 0)

    keys: list[Any] = [t.day] if by_day else []
    query = (select(*keys, t.department_id, Department.name, func.count(), n(set(Outcome) - {Outcome.PENDING}),
                    n(REACHED), n({Outcome.SATISFIED}), n(UNSATISFIED), n({Outcome.RECTIFIED}))
             .join(Department, Department.id == t.department_id)
             .where(t.day.between(day_from, day_to))
             .group_by(*keys, t.department_id, Department.name).order_by(*keys, t.department_id))
    if scope is not None:
        query = query.where(t.department_id == scope)
    out: list[tuple[dt.date | None, DepartmentRate]] = []
    for r in session.execute(query):
        row = tuple(r)
        day = row[0] if by_day else None
        rest = row[1:] if by_day else row
        out.append((day, DepartmentRate(int(rest[0]), str(rest[1]), *(int(x) for x in rest[2:]))))
    return out


def rates(session: Session, *, viewer: User, day_from: dt.date, day_to: dt.date) -> list[DepartmentRate]:
    """Per department within the viewer's reach: 应访尽访 over the tasks of cases finished in the period."""
    return [r for _, r in _counted(session, _scope(viewer), day_from, day_to, by_day=False)]


@dataclass(frozen=True)
class DailyRow:
    """One line of the 日上报台账: a department's finished cases of a day and their callbacks."""

    day: dt.date
    department_name: str
    finished: int
    figures: DepartmentRate | None


def daily_report(session: Session, *, viewer: User, day_from: dt.date, day_to: dt.date) -> list[DailyRow]:
    """日上报台账: per day drawn in the period and per department within reach, finished, drawn and outcomes."""
    scope = _scope(viewer)
    draws = list(session.scalars(select(CallbackDraw).where(CallbackDraw.day.between(day_from, day_to))
                                 .order_by(CallbackDraw.day)))
    names = {int(i): str(n) for i, n in session.execute(select(Department.id, Department.name))}
    out: list[DailyRow] = []
    per_day: dict[dt.date | None, dict[int, DepartmentRate]] = defaultdict(dict)
    for day, r in _counted(session, scope, day_from, day_to, by_day=True):
        per_day[day][r.department_id] = r
    for d in draws:
        for key, fig in sorted(d.by_department.items(), key=lambda kv: int(kv[0])):
            department_id = int(key)
            if scope is not None and department_id != scope:
                continue
            out.append(DailyRow(d.day, names.get(department_id, key), int(fig.get("finished", 0)),
                                per_day[d.day].get(department_id)))
    return out


def load_demo_callbacks(session: Session, *, clock: Clock) -> dict[str, int]:
    """The demo county's callback tasks: the sampling job run on the demo day with the settings (idempotent)."""
    return sampling_job(session, clock=clock)
