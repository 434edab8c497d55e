"""电子监察 alerts: the sweep that raises and closes them, the department heads' notices, the acknowledge and
督办 verbs, the alert inbox reads, and the window schedule (在岗安排).

The sweep asks every registered rule (``supervision.rules.registered``) what holds now, inserts the findings not
raised before (one alert per rule, subject and episode, whatever the number of sweeps), and closes every live
alert its rule no longer finds: an alert closes by itself when its cause is gone. New alerts reach the head of
their department through the outbox (one message per head per sweep, listing them). Set-based: a handful of
queries per rule, bulk inserts and updates.

The verbs lock the alert row, check the caller's ``expected_version`` (409 ``stale_version``) and the state move
(409 ``illegal_alert_transition``), ask the access policy with the alert's department, and write an audit entry.
Functions flush, never commit: the edge owns the transaction.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from onewindow.calendar.service import build_calendar
from onewindow.catalog.models import Department
from onewindow.config import Settings, get_settings
from onewindow.core import access, audit
from onewindow.core.access import Action, Record
from onewindow.core.audit import Actor
from onewindow.core.clock import CHINA_TZ, Clock, today
from onewindow.core.errors import Conflict, NotFound, PermissionDenied, Problem, ValidationFailed
from onewindow.core.locking import lock_versioned
from onewindow.notifications import service as notifications
from onewindow.queue.models import Window
from onewindow.staff.models import User
from onewindow.staff.service import actor_of, viewer_of
from onewindow.supervision import detectors  # noqa: F401  (registers the built-in rules)
from onewindow.supervision.models import SupervisionAlert, WindowDuty
from onewindow.supervision.rules import (
    LIVE,
    TRANSITIONS,
    AlertState,
    Context,
    Finding,
    Rule,
    Thresholds,
    check_transition,
    registered,
    rule_label,
)

SWEEP = Actor(None, "电子监察")
ALERT_TOPIC = "supervision.alert"
SUPERVISE_TOPIC = "supervision.supervise"
TEXT_MAX = 2000
_CHUNK = 500
_LISTED = 10  # alerts named in one notice; the rest are counted
S = AlertState


def thresholds_from(settings: Settings) -> Thresholds:
    """The rules' thresholds from the settings (``ONEWINDOW_SUPERVISION_*``)."""
    return Thresholds(step_min_working_days=settings.supervision_step_min_working_days,
                      deferral_warn_working_days=settings.supervision_deferral_warn_working_days,
                      ticket_wait_min=settings.supervision_ticket_wait_min,
                      queue_length=settings.supervision_queue_length,
                      window_idle_min=settings.supervision_window_idle_min,
                      absence_grace_min=settings.supervision_absence_grace_min,
                      order_warn_working_days=settings.supervision_order_warn_working_days)


def context(session: Session, *, clock: Clock, settings: Settings) -> Context:
    """What the finders are given for one sweep."""
    now = clock.now()
    hall_department = None
    if settings.supervision_hall_department_code:
        hall_department = session.scalar(select(Department.id).where(
            Department.code == settings.supervision_hall_department_code))
    return Context(now=now, today=today(clock), local_time=now.astimezone(CHINA_TZ).time(),
                   calendar=build_calendar(session), thresholds=thresholds_from(settings),
                   hall_department_id=hall_department)


# ----- the sweep ----------------------------------------------------------------------------------------------


Key = tuple[str, int, str]


def _key(f: Finding) -> Key:
    return (f.subject_type, f.subject_id, f.episode)


def _chunks(ids: Sequence[int]) -> Iterable[Sequence[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start:start + _CHUNK]


def _known(session: Session, rule: str, findings: dict[Key, Finding]) -> set[Key]:
    """The keys among ``findings`` already raised by ``rule`` (live or closed)."""
    known: set[Key] = set()
    by_type: dict[str, list[int]] = defaultdict(list)
    for subject_type, subject_id, _episode in findings:
        by_type[subject_type].append(subject_id)
    for subject_type, ids in by_type.items():
        for chunk in _chunks(sorted(set(ids))):
            known |= {(t, i, e) for t, i, e in session.execute(
                select(SupervisionAlert.subject_type, SupervisionAlert.subject_id, SupervisionAlert.episode)
                .where(SupervisionAlert.rule == rule, SupervisionAlert.subject_type == subject_type,
                       SupervisionAlert.subject_id.in_(chunk)))}
    return known


def _run_rule(session: Session, rule: Rule, ctx: Context, clock: Clock) -> tuple[list[dict[str, Any]], list[int]]:
    """Raise what the rule finds anew and close what it no longer finds; the new rows and the closed ids."""
    findings = {_key(f): f for f in rule.finder(session, ctx)}
    live = {(t, i, e): alert_id for alert_id, t, i, e in session.connection().execute(
        select(SupervisionAlert.id, SupervisionAlert.subject_type, SupervisionAlert.subject_id,
               SupervisionAlert.episode)
        .where(SupervisionAlert.rule == rule.code, SupervisionAlert.state.in_([s.value for s in LIVE])))}
    gone = sorted(alert_id for key, alert_id in live.items() if key not in findings)
    fresh = {k: f for k, f in findings.items() if k not in live}
    if fresh:
        known = _known(session, rule.code, fresh)
        fresh = {k: f for k, f in fresh.items() if k not in known}
    now = clock.now()
    rows = [{"rule": rule.code, "subject_type": f.subject_type, "subject_id": f.subject_id, "episode": f.episode[:40],
             "level": f.level.value, "department_id": f.department_id, "title": f.title[:200],
             "evidence": dict(f.evidence), "link": f.link[:200], "state": S.OPEN.value,
             "version": 1, "raised_at": now, "acknowledge_note": "", "supervise_note": "", "close_reason": ""}
            for f in fresh.values()]
    for start in range(0, len(rows), 5000):
        session.execute(insert(SupervisionAlert), rows[start:start + 5000])
    for chunk in _chunks(gone):
        session.execute(update(SupervisionAlert).where(SupervisionAlert.id.in_(chunk),
                                                       SupervisionAlert.state.in_([s.value for s in LIVE]))
                        .values(state=S.CLOSED.value, closed_at=now, close_reason="原因已消除，系统自动关闭",
                                version=SupervisionAlert.version + 1)
                        .execution_options(synchronize_session="evaluate"))
    return rows, gone


def _heads(session: Session, department_ids: Iterable[int]) -> dict[int, list[User]]:
    """The people a department's alerts go to: its active accounts the policy lets acknowledge them."""
    ids = sorted(set(department_ids))
    found: dict[int, list[User]] = defaultdict(list)
    if ids:
        for user in session.scalars(select(User).where(User.department_id.in_(ids), User.is_active.is_(True))
                                    .order_by(User.id)):
            department = user.department_id or 0
            if access.can(viewer_of(user), Action.ALERT_ACKNOWLEDGE, Record(department=department)):
                found[department].append(user)
    return found


def _notify_heads(session: Session, clock: Clock, rows: list[dict[str, Any]]) -> int:
    """One outbox message per department head listing their department's new alerts; how many were written."""
    by_department: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        if row["department_id"] is not None:
            by_department[int(row["department_id"])].append(row)
    written = 0
    for department_id, heads in _heads(session, by_department).items():
        new = by_department[department_id]
        lines = [f"{rule_label(r['rule'])}：{r['title']}" for r in new[:_LISTED]]
        more = f"\n另有 {len(new) - _LISTED} 条，请登录电子监察查看。" if len(new) > _LISTED else ""
        for head in heads:
            notifications.enqueue(
                session, clock=clock, topic=ALERT_TOPIC, channel="sms",
                recipient=(head.phone or head.username), recipient_user_id=head.id,
                subject=f"电子监察新预警 {len(new)} 条",
                body=f"{head.display_name}：本部门新增电子监察预警 {len(new)} 条。\n" + "\n".join(lines) + more,
                payload={"department_id": department_id, "count": len(new),
                         "rules": sorted({str(r["rule"]) for r in new})})
            written += 1
    return written


def sweep(session: Session, *, clock: Clock, settings: Settings | None = None,
          rules: Sequence[Rule] | None = None) -> dict[str, int]:
    """Run every registered rule once: raise new alerts, close those whose cause is gone, notify the heads."""
    settings = settings or get_settings()
    ctx = context(session, clock=clock, settings=settings)
    counts = {"raised": 0, "closed": 0, "notices": 0}
    raised: list[dict[str, Any]] = []
    summary: dict[str, dict[str, int]] = {}
    for rule in (rules if rules is not None else registered()):
        rows, gone = _run_rule(session, rule, ctx, clock)
        raised += rows
        counts["raised"] += len(rows)
        counts["closed"] += len(gone)
        counts[rule.code] = len(rows)
        if rows or gone:
            summary[rule.code] = {"raised": len(rows), "closed": len(gone)}
    counts["notices"] = _notify_heads(session, clock, raised)
    if summary:
        audit.record(session, clock=clock, actor=SWEEP, action="supervision.sweep", entity_type="supervision_alert",
                     entity_id=ctx.today.isoformat(), after=summary)
    session.flush()
    return counts


def sweep_job(session: Session, *, clock: Clock) -> dict[str, int]:
    """The ``supervision-alerts`` job (settings from the environment)."""
    return sweep(session, clock=clock)


# ----- the verbs ------------------------------------------------------------------------------------------------


def record_of(alert: SupervisionAlert) -> Record:
    """What the access policy needs to know of an alert."""
    return Record(department=alert.department_id)


def snapshot(alert: SupervisionAlert) -> dict[str, Any]:
    """The audited fields of an alert."""
    return {"rule": alert.rule, "subject": f"{alert.subject_type}:{alert.subject_id}", "state": alert.state,
            "version": alert.version, "department_id": alert.department_id, "supervise_due": alert.supervise_due}


def _lock(session: Session, alert_id: int, expected_version: int | None) -> SupervisionAlert:
    return lock_versioned(session, SupervisionAlert, alert_id, expected_version, label="电子监察预警",
                          stale="预警已被他人更新或已自动关闭，请刷新后重试")


def _note(value: str, field: str, what: str) -> str:
    text = (value or "").strip()[:TEXT_MAX]
    if not text:
        raise ValidationFailed([Problem(field, f"{field}_required", f"请填写{what}")])
    return text


def acknowledge(session: Session, *, clock: Clock, user: User, alert_id: int, expected_version: int | None,
                note: str) -> SupervisionAlert:
    """签收: the department explains the alert (what happened, what it does); a supervised alert keeps its state."""
    text = _note(note, "note", "签收说明")
    alert = _lock(session, alert_id, expected_version)
    access.require(viewer_of(user), Action.ALERT_ACKNOWLEDGE, record_of(alert))
    if alert.acknowledged_at is not None or alert.state == S.CLOSED.value:
        raise Conflict("该预警已签收或已关闭", code="illegal_alert_transition", field="state")
    before = snapshot(alert)
    if alert.state == S.OPEN.value:
        check_transition(alert.state, S.ACKNOWLEDGED)
        alert.state = S.ACKNOWLEDGED.value
    alert.acknowledged_at, alert.acknowledged_by, alert.acknowledge_note = clock.now(), user.id, text
    alert.version += 1
    session.flush()
    audit.record(session, clock=clock, actor=actor_of(user), action="supervision.alert_acknowledged",
                 entity_type="supervision_alert", entity_id=alert.id, before=before, after=snapshot(alert))
    return alert


def supervise(session: Session, *, clock: Clock, user: User, alert_id: int, expected_version: int | None,
              note: str, due: dt.date | None) -> SupervisionAlert:
    """督办: the supervisor orders the department to remove the cause by a deadline; its heads are notified."""
    problems = []
    text = (note or "").strip()[:TEXT_MAX]
    if not text:
        problems.append(Problem("note", "note_required", "请填写督办意见"))
    if due is None:
        problems.append(Problem("due", "due_required", "请填写督办期限"))
    elif due < today(clock):
        problems.append(Problem("due", "due_past", "督办期限不能早于今天"))
    if problems:
        raise ValidationFailed(problems)
    alert = _lock(session, alert_id, expected_version)
    access.require(viewer_of(user), Action.ALERT_SUPERVISE, record_of(alert))
    check_transition(alert.state, S.SUPERVISED)
    before = snapshot(alert)
    alert.state = S.SUPERVISED.value
    alert.supervised_at, alert.supervised_by = clock.now(), user.id
    alert.supervise_note, alert.supervise_due = text, due
    alert.version += 1
    session.flush()
    audit.record(session, clock=clock, actor=actor_of(user), action="supervision.alert_supervised",
                 entity_type="supervision_alert", entity_id=alert.id, before=before, after=snapshot(alert))
    if alert.department_id is not None:
        for head in _heads(session, [alert.department_id]).get(alert.department_id, []):
            notifications.enqueue(
                session, clock=clock, topic=SUPERVISE_TOPIC, channel="sms", recipient=head.phone or head.username,
                recipient_user_id=head.id, subject="电子监察督办通知",
                body=f"{head.display_name}：{alert.title}。督办意见：{text}。请于 {due:%Y-%m-%d} 前办结。",
                payload={"alert_id": alert.id, "due": f"{due:%Y-%m-%d}"})
    return alert


# ----- reads ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    """The inbox filters (each optional)."""

    state: str = ""  # an AlertState value, or "live" for every state but closed
    rule: str = ""
    level: str = ""
    department_id: int | None = None


def _scope(user: User) -> int | None:
    viewer = viewer_of(user)
    if access.list_scope(viewer, Action.ALERT_VIEW) is None:
        access.require(viewer, Action.ALERT_VIEW)
        raise PermissionDenied()  # pragma: no cover - require raised
    return access.department_scoped(viewer, Action.ALERT_VIEW)


def _filtered(query: Any, scope: int | None, filters: Filters) -> Any:
    if scope is not None:
        query = query.where(SupervisionAlert.department_id == scope)
    if filters.department_id is not None:
        query = query.where(SupervisionAlert.department_id == filters.department_id)
    if filters.state == "live":
        query = query.where(SupervisionAlert.state.in_([s.value for s in LIVE]))
    elif filters.state:
        query = query.where(SupervisionAlert.state == AlertState(filters.state).value)
    if filters.rule:
        query = query.where(SupervisionAlert.rule == filters.rule)
    if filters.level:
        query = query.where(SupervisionAlert.level == filters.level)
    return query


def check_filters(filters: Filters) -> Filters:
    """422 on an unknown state, rule or level."""
    problems = []
    if filters.state and filters.state != "live" and filters.state not in set(AlertState):
        problems.append(Problem("state", "state_invalid", "没有这个预警状态"))
    if filters.rule and filters.rule not in {r.code for r in registered()}:
        problems.append(Problem("rule", "rule_invalid", "没有这条监察规则"))
    if filters.level and filters.level not in ("yellow", "red"):
        problems.append(Problem("level", "level_invalid", "预警级别应为黄色或红色"))
    if problems:
        raise ValidationFailed(problems)
    return filters


def list_alerts(session: Session, *, viewer: User, filters: Filters = Filters(), limit: int = 50,
                offset: int = 0) -> list[SupervisionAlert]:
    """The alerts within the viewer's reach, newest first, narrowed by the filters."""
    query = _filtered(select(SupervisionAlert), _scope(viewer), check_filters(filters))
    return list(session.scalars(query.order_by(SupervisionAlert.raised_at.desc(), SupervisionAlert.id.desc())
                                .limit(limit).offset(offset)))


def counts(session: Session, *, viewer: User, filters: Filters = Filters()) -> dict[str, dict[str, int]]:
    """How many alerts within reach are in each state and, of the live ones, under each rule and level."""
    scope = _scope(viewer)
    by_state = {s.value: 0 for s in AlertState}
    base = Filters(rule=filters.rule, level=filters.level, department_id=filters.department_id)
    for state, n in session.execute(_filtered(select(SupervisionAlert.state, func.count()), scope, base)
                                    .group_by(SupervisionAlert.state)):
        by_state[state] = n
    live = Filters(state="live", level=filters.level, department_id=filters.department_id)
    by_rule = {r.code: 0 for r in registered()}
    for rule, n in session.execute(_filtered(select(SupervisionAlert.rule, func.count()), scope, live)
                                   .group_by(SupervisionAlert.rule)):
        by_rule[rule] = n
    by_level = {"yellow": 0, "red": 0}
    for level, n in session.execute(_filtered(select(SupervisionAlert.level, func.count()), scope,
                                              Filters(state="live", department_id=filters.department_id))
                                    .group_by(SupervisionAlert.level)):
        by_level[level] = n
    return {"state": by_state, "rule": by_rule, "level": by_level}


def filter_departments(session: Session, *, viewer: User) -> list[Department]:
    """The departments a viewer may filter the inbox by (none when their reach is one department)."""
    if _scope(viewer) is not None:
        return []
    return list(session.scalars(select(Department).order_by(Department.code)))


def require_view_rules(user: User) -> None:
    """403 unless the user may read alerts (and so the rules that raise them)."""
    access.require(viewer_of(user), Action.ALERT_VIEW)


def get_alert(session: Session, *, viewer: User, alert_id: int) -> SupervisionAlert:
    """One alert, 404 when missing, 403 when out of the viewer's reach."""
    alert = session.get(SupervisionAlert, alert_id)
    if alert is None:
        raise NotFound("电子监察预警", str(alert_id))
    access.require(viewer_of(viewer), Action.ALERT_VIEW, record_of(alert))
    return alert


def allowed(viewer: User, alert: SupervisionAlert) -> list[str]:
    """The verbs the viewer may use on the alert now (``acknowledge``, ``supervise``)."""
    v = viewer_of(viewer)
    out = []
    if alert.state != S.CLOSED.value and alert.acknowledged_at is None and access.can(
            v, Action.ALERT_ACKNOWLEDGE, record_of(alert)):
        out.append("acknowledge")
    if S.SUPERVISED in _moves(alert.state) and access.can(v, Action.ALERT_SUPERVISE, record_of(alert)):
        out.append("supervise")
    return out


def _moves(state: str) -> frozenset[AlertState]:
    return TRANSITIONS[AlertState(state)]


def overdue_supervision(alert: SupervisionAlert, on: dt.date) -> bool:
    """A supervised alert still live after its 督办 deadline."""
    return alert.state == S.SUPERVISED.value and alert.supervise_due is not None and alert.supervise_due < on


# ----- the window schedule (在岗安排) ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DutyRow:
    """One window of the schedule page: where it is, who is scheduled, who sits there now."""

    window: Window
    hall: str
    scheduled_id: int | None
    scheduled_name: str


def duty_board(session: Session, *, viewer: User) -> tuple[list[DutyRow], list[User]]:
    """Every window with its scheduled clerk, and the staff who may be scheduled (those who may work windows)."""
    access.require(viewer_of(viewer), Action.ALERT_SCHEDULE)
    duties = {d.window_id: d.user_id for d in session.scalars(select(WindowDuty))}
    staff = [u for u in session.scalars(select(User).where(User.is_active.is_(True)).order_by(User.username))
             if access.can(viewer_of(u), Action.QUEUE_OPERATE)]
    names = {u.id: u.display_name for u in staff}
    rows = [DutyRow(window=w, hall=w.hall.name, scheduled_id=duties.get(w.id),
                    scheduled_name=names.get(duties.get(w.id) or 0, ""))
            for w in session.scalars(select(Window).order_by(Window.hall_id, Window.number))]
    return rows, staff


def set_duty(session: Session, *, clock: Clock, user: User, window_id: int, clerk_id: int | None) -> WindowDuty | None:
    """Schedule ``clerk_id`` at the window (None: nobody scheduled), as the center's administrator; audited."""
    access.require(viewer_of(user), Action.ALERT_SCHEDULE)
    if clerk_id is not None:
        clerk = session.get(User, clerk_id)
        if clerk is None or not clerk.is_active or not access.can(viewer_of(clerk), Action.QUEUE_OPERATE):
            raise ValidationFailed([Problem("clerk_id", "clerk_invalid", "只能安排可在窗口叫号的在职人员")])
    return assign_duty(session, clock=clock, actor=actor_of(user), window_id=window_id, clerk_id=clerk_id)


def assign_duty(session: Session, *, clock: Clock, actor: Actor, window_id: int,
                clerk_id: int | None) -> WindowDuty | None:
    """Write the window's schedule (set-up and demo; ``set_duty`` checks the caller first); audited."""
    if session.get(Window, window_id) is None:
        raise NotFound("窗口", str(window_id), "window_id")
    duty = session.scalars(select(WindowDuty).where(WindowDuty.window_id == window_id)).first()
    before = {"window_id": window_id, "user_id": duty.user_id if duty else None}
    if clerk_id is None:
        if duty is not None:
            session.delete(duty)
        duty = None
    elif duty is None:
        duty = WindowDuty(window_id=window_id, user_id=clerk_id, assigned_at=clock.now())
        session.add(duty)
    else:
        duty.user_id, duty.assigned_at = clerk_id, clock.now()
    session.flush()
    audit.record(session, clock=clock, actor=actor, action="supervision.window_duty", entity_type="window",
                 entity_id=window_id, before=before, after={"window_id": window_id, "user_id": clerk_id})
    return duty
