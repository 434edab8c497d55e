"""Rectification (整改) work orders: the published service every source domain calls.

Ratings (差评), callbacks (回访), experiencer reports and complaints open orders with :func:`open_order`
(idempotent per source); the responsible department's head verifies, appeals or rectifies; the center's
supervisor decides appeals, 无法整改 and extensions and closes escalated orders; the supervisor or the
administrator records the callback (回访). Nothing here knows about any source: a source domain that must
follow an order (a voided 差评 leaves the figures, a closed one is marked handled) installs listeners with
:func:`register_void_listener` / :func:`register_close_listener` (from ``onewindow.wiring``); they run inside the
same transaction.

Every write locks the order row, checks the caller's ``expected_version`` (409 ``stale_version``), moves through
:func:`onewindow.rectification.states.check_transition` (409 ``illegal_order_transition``), bumps the version and
writes a timeline event and an audit entry. The access policy is asked through ``access.require`` with the
order's department. Functions flush, never commit: the edge owns the transaction.

The rectification deadline is counted in working days (``ONEWINDOW_RECTIFICATION_WORKING_DAYS``) from the day
rectification starts, with the working calendar, and stored in ``due_on``; an extension moves it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from onewindow.calendar.service import build_calendar
from onewindow.catalog.models import Department
from onewindow.config import Settings, get_settings
from onewindow.core import access, audit
from onewindow.core.access import Action, Record
from onewindow.core.audit import Actor
from onewindow.core.clock import Clock, today
from onewindow.core.errors import Conflict, NotFound, PermissionDenied, Problem, ValidationFailed
from onewindow.core.ids import mask_phone
from onewindow.core.locking import lock_versioned, write_versioned
from onewindow.core.validation import clean
from onewindow.rectification.models import RectificationEvent, RectificationOrder
from onewindow.rectification.states import (
    CLOCK_RUNNING,
    FINAL,
    OrderState,
    Raiser,
    SourceKind,
    Verdict,
    after_callback,
    check_transition,
)
from onewindow.staff.models import User
from onewindow.staff.service import actor_of, viewer_of

S = OrderState
TEXT_MAX = 2000
NUMBER_ATTEMPTS = 5
MAX_SEQUENCE = 999

# (session, source_id, clock, actor, note) -> None, run in the order's transaction
OrderListener = Callable[[Session, int, Clock, Actor, str], None]
_void_listeners: dict[SourceKind, list[OrderListener]] = {}
_close_listeners: dict[SourceKind, list[OrderListener]] = {}
_escalate_listeners: dict[SourceKind, list[OrderListener]] = {}


@dataclass(frozen=True)
class RectificationRules:
    """The local limits (settings): working days to rectify, most working days one extension may add."""

    working_days: int = 5
    max_extension_days: int = 10


def rules_from(settings: Settings) -> RectificationRules:
    """The rules from the settings (``ONEWINDOW_RECTIFICATION_*``)."""
    return RectificationRules(working_days=settings.rectification_working_days,
                              max_extension_days=settings.rectification_max_extension_days)


def _rules(rules: RectificationRules | None) -> RectificationRules:
    return rules if rules is not None else rules_from(get_settings())


# ----- listeners -------------------------------------------------------------------------------------------


def register_void_listener(source_kind: SourceKind | str, fn: OrderListener) -> None:
    """Call ``fn`` when an order of this source kind is voided (appeal upheld); idempotent."""
    found = _void_listeners.setdefault(SourceKind(source_kind), [])
    if fn not in found:
        found.append(fn)


def register_close_listener(source_kind: SourceKind | str, fn: OrderListener) -> None:
    """Call ``fn`` when an order of this source kind is closed (办结); idempotent."""
    found = _close_listeners.setdefault(SourceKind(source_kind), [])
    if fn not in found:
        found.append(fn)


def register_escalate_listener(source_kind: SourceKind | str, fn: OrderListener) -> None:
    """Call ``fn`` when an order of this source kind is escalated to the supervisor (升级督办); idempotent."""
    found = _escalate_listeners.setdefault(SourceKind(source_kind), [])
    if fn not in found:
        found.append(fn)


def _notify(registry: Mapping[SourceKind, list[OrderListener]], session: Session, order: RectificationOrder,
            clock: Clock, actor: Actor, note: str) -> None:
    for fn in list(registry.get(SourceKind(order.source_kind), [])):
        fn(session, order.source_id, clock, actor, note)


# ----- helpers shared by the verbs -------------------------------------------------------------------------



def _required(**fields: tuple[str, str]) -> dict[str, str]:
    """Each field's cleaned text; one Chinese 422 problem per empty one (``name=(value, what)``)."""
    out: dict[str, str] = {}
    problems = []
    for name, (value, what) in fields.items():
        out[name] = clean(value, TEXT_MAX)
        if not out[name]:
            problems.append(Problem(name, f"{name}_required", f"请填写{what}"))
    if problems:
        raise ValidationFailed(problems)
    return out


def record_of(order: RectificationOrder) -> Record:
    """What the access policy needs to know of an order."""
    return Record(department=order.department_id)


def snapshot(order: RectificationOrder) -> dict[str, Any]:
    """The audited fields of an order (raiser's phone masked)."""
    return {"number": order.number, "state": order.state, "version": order.version,
            "department_id": order.department_id, "source": f"{order.source_kind}:{order.source_id}",
            "due_on": order.due_on, "overdue": order.overdue, "reopen_count": order.reopen_count,
            "raiser_phone": mask_phone(order.raiser_phone) if order.raiser_phone else "", "outcome": order.outcome}


def _event(session: Session, order: RectificationOrder, *, clock: Clock, actor: Actor, kind: str,
           from_state: str | None, to_state: str | None, note: str = "",
           data: Mapping[str, Any] | None = None) -> RectificationEvent:
    person = session.get(User, actor.id) if actor.id is not None else None  # the timeline shows names
    ev = RectificationEvent(order_id=order.id, at=clock.now(), kind=kind, from_state=from_state, to_state=to_state,
                            actor_id=actor.id, actor_name=(person.display_name if person else actor.label)[:64],
                            note=note[:TEXT_MAX], data=audit.canonical(dict(data or {})))
    session.add(ev)
    return ev


def _write(session: Session, order: RectificationOrder, target: OrderState | None, *, clock: Clock, actor: Actor,
           kind: str, note: str = "", data: Mapping[str, Any] | None = None,
           change: Callable[[], None] | None = None) -> None:
    """The one way an order changes (``core.locking.write_versioned``), with its timeline row."""
    def event(source: str, to_state: str | None) -> None:
        _event(session, order, clock=clock, actor=actor, kind=kind, from_state=source, to_state=to_state, note=note,
               data=data)

    write_versioned(session, order, target, clock=clock, actor=actor, action=f"rectification.{kind}",
                    entity_type="rectification_order", snapshot=snapshot, check=check_transition, event=event,
                    change=change)


def _lock(session: Session, order_id: int, expected_version: int | None) -> RectificationOrder:
    return lock_versioned(session, RectificationOrder, order_id, expected_version, label="整改工单")


def _begin(session: Session, user: User, action: Action, order_id: int,
           expected_version: int | None) -> tuple[RectificationOrder, Actor]:
    """Lock the order, check the version and the access policy; the actor for the audit."""
    order = _lock(session, order_id, expected_version)
    access.require(viewer_of(user), action, record_of(order))
    return order, actor_of(user)


def _due(session: Session, start: dt.date, days: int) -> dt.date:
    return build_calendar(session).add_working_days(start, days).date


def _start_clock(session: Session, order: RectificationOrder, on: dt.date) -> None:
    """Rectification starts (again): due ``deadline_days`` working days from ``on``, no extension yet."""
    order.extension_days = 0
    order.overdue = False
    order.due_on = _due(session, on, order.deadline_days)


def _close(order: RectificationOrder, clock: Clock, outcome: str | None = None) -> None:
    order.closed_at = clock.now()
    order.closed_on = today(clock)
    if outcome is not None:
        order.outcome = outcome


# ----- opening ---------------------------------------------------------------------------------------------


def order_for(session: Session, source_kind: SourceKind | str, source_id: int) -> RectificationOrder | None:
    """The order opened for a source record, if any."""
    return session.scalars(select(RectificationOrder).where(
        RectificationOrder.source_kind == SourceKind(source_kind).value,
        RectificationOrder.source_id == source_id)).first()


def orders_for(session: Session, source_kind: SourceKind | str,
               source_ids: Iterable[int]) -> dict[int, RectificationOrder]:
    """The orders of many source records of one kind, by source id (one query)."""
    ids = sorted(set(source_ids))
    if not ids:
        return {}
    rows = session.scalars(select(RectificationOrder).where(
        RectificationOrder.source_kind == SourceKind(source_kind).value, RectificationOrder.source_id.in_(ids)))
    return {o.source_id: o for o in rows}


def _next_number(session: Session, day: dt.date) -> str:
    first, last_possible = f"ZG{day:%Y%m%d}000", f"ZG{day:%Y%m%d}999"
    last = session.scalar(select(func.max(RectificationOrder.number))
                          .where(RectificationOrder.number.between(first, last_possible)))
    sequence = int(last[-3:]) + 1 if last else 1
    if sequence > MAX_SEQUENCE:
        raise Conflict("当日整改工单编号已用尽", code="number_exhausted")
    return f"ZG{day:%Y%m%d}{sequence:03d}"


def open_order(session: Session, *, clock: Clock, actor: Actor, source_kind: SourceKind | str, source_id: int,
               department_id: int, title: str, detail: str, raiser: Raiser,
               rules: RectificationRules | None = None) -> RectificationOrder:
    """Open the order of a source record (待核实), or return the one it already has (idempotent)."""
    kind = SourceKind(source_kind)
    existing = order_for(session, kind, source_id)
    if existing is not None:
        return existing
    title_text = clean(title, 200)
    if not title_text:
        raise ValidationFailed([Problem("title", "title_required", "请填写整改事项标题")])
    now, day = clock.now(), today(clock)
    order = RectificationOrder(
        source_kind=kind.value, source_id=source_id, department_id=department_id, title=title_text,
        detail=clean(detail, TEXT_MAX), state=S.PENDING.value, version=1, raiser_name=clean(raiser.name, 100),
        raiser_phone=clean(raiser.phone, 20), raiser_user_id=raiser.user_id, identified=raiser.identified,
        opened_at=now, opened_on=day, deadline_days=_rules(rules).working_days, extension_days=0,
        overdue=False, reopen_count=0, escalated=False, created_by=actor.id, updated_at=now)
    for attempt in range(NUMBER_ATTEMPTS):
        order.number = _next_number(session, day)
        try:
            # a savepoint per attempt: a concurrent caller may take the number, or open the same source, first
            with session.begin_nested():
                session.add(order)
                session.flush()
            break
        except IntegrityError:
            raced = order_for(session, kind, source_id)
            if raced is not None:
                return raced
            if attempt == NUMBER_ATTEMPTS - 1:
                raise Conflict("整改工单编号分配冲突，请重试", code="number_conflict") from None
    _event(session, order, clock=clock, actor=actor, kind="opened", from_state=None, to_state=S.PENDING.value,
           note=order.title, data={"source_kind": kind.value, "source_id": source_id})
    audit.record(session, clock=clock, actor=actor, action="rectification.opened", entity_type="rectification_order",
                 entity_id=order.number, before=None, after=snapshot(order))
    return order


# ----- the department's work -------------------------------------------------------------------------------


def verify(session: Session, *, clock: Clock, user: User, order_id: int, expected_version: int | None, note: str,
           appeal: bool = False) -> RectificationOrder:
    """核实: record what calling the raiser back found; without ``appeal`` rectification starts at once."""
    text = _required(note=(note, "核实情况"))["note"]
    order, actor = _begin(session, user, Action.RECTIFICATION_WORK, order_id, expected_version)

    def change() -> None:
        order.verification = text
        order.verified_at = clock.now()

    _write(session, order, S.VERIFIED, clock=clock, actor=actor, kind="verified", note=text, change=change)
    if not appeal:
        _rectify(session, order, clock=clock, actor=actor, note="核实属实，开始整改")
    return order


def _rectify(session: Session, order: RectificationOrder, *, clock: Clock, actor: Actor, note: str,
             kind: str = "rectifying") -> None:
    _write(session, order, S.RECTIFYING, clock=clock, actor=actor, kind=kind, note=note,
           change=lambda: _start_clock(session, order, today(clock)),
           data={"deadline_days": order.deadline_days})


def start_rectifying(session: Session, *, clock: Clock, user: User, order_id: int,
                     expected_version: int | None) -> RectificationOrder:
    """Start rectifying a verified order without appealing (the deadline starts today)."""
    order, actor = _begin(session, user, Action.RECTIFICATION_WORK, order_id, expected_version)
    _rectify(session, order, clock=clock, actor=actor, note="不申诉，开始整改")
    return order


def appeal(session: Session, *, clock: Clock, user: User, order_id: int, expected_version: int | None, reason: str,
           evidence: str) -> RectificationOrder:
    """申诉: the department holds the matter invalid or malicious; reason and evidence required."""
    texts = _required(reason=(reason, "申诉理由"), evidence=(evidence, "申诉证据"))
    order, actor = _begin(session, user, Action.RECTIFICATION_WORK, order_id, expected_version)

    def change() -> None:
        order.appeal_reason = texts["reason"]
        order.appeal_evidence = texts["evidence"]

    _write(session, order, S.APPEALED, clock=clock, actor=actor, kind="appealed", note=texts["reason"],
           change=change)
    return order


def complete(session: Session, *, clock: Clock, user: User, order_id: int, expected_version: int | None,
             measures: str) -> RectificationOrder:
    """整改完成: the measures taken and their result; late when past ``due_on``."""
    text = _required(measures=(measures, "整改措施"))["measures"]
    order, actor = _begin(session, user, Action.RECTIFICATION_WORK, order_id, expected_version)

    def change() -> None:
        order.measures = text
        order.rectified_at = clock.now()
        # the flag stays as the record of a late rectification (整改超期)
        order.overdue = order.due_on is not None and today(clock) > order.due_on

    _write(session, order, S.RECTIFIED, clock=clock, actor=actor, kind="rectified", note=text, change=change)
    return order


def request_unrectifiable(session: Session, *, clock: Clock, user: User, order_id: int,
                          expected_version: int | None, reason: str) -> RectificationOrder:
    """Ask the supervisor to accept that the matter cannot be rectified (无法整改审核)."""
    text = _required(reason=(reason, "无法整改的理由"))["reason"]
    order, actor = _begin(session, user, Action.RECTIFICATION_WORK, order_id, expected_version)
    _write(session, order, S.UNRECTIFIABLE_REVIEW, clock=clock, actor=actor, kind="unrectifiable_requested",
           note=text)
    return order


# ----- the supervisor's decisions --------------------------------------------------------------------------


def decide_appeal(session: Session, *, clock: Clock, user: User, order_id: int, expected_version: int | None,
                  uphold: bool, note: str) -> RectificationOrder:
    """申诉复核: upheld voids the order (and tells the source); rejected starts rectifying."""
    text = _required(note=(note, "复核意见"))["note"]
    order, actor = _begin(session, user, Action.RECTIFICATION_DECIDE, order_id, expected_version)

    def decided() -> None:
        order.appeal_decision = "upheld" if uphold else "rejected"
        order.appeal_decided_by = user.id
        order.appeal_decided_at = clock.now()

    if uphold:
        def void() -> None:
            decided()
            _close(order, clock, "voided")

        _write(session, order, S.VOIDED, clock=clock, actor=actor, kind="appeal_upheld", note=text, change=void)
        _notify(_void_listeners, session, order, clock, actor, text)
    else:
        def reject() -> None:
            decided()
            _start_clock(session, order, today(clock))

        _write(session, order, S.RECTIFYING, clock=clock, actor=actor, kind="appeal_rejected", note=text,
               change=reject, data={"deadline_days": order.deadline_days})
    return order


def decide_unrectifiable(session: Session, *, clock: Clock, user: User, order_id: int,
                         expected_version: int | None, approve: bool, note: str) -> RectificationOrder:
    """无法整改审核: approved, the raiser is called back next; rejected, rectifying goes on (same due date)."""
    text = _required(note=(note, "审核意见"))["note"]
    order, actor = _begin(session, user, Action.RECTIFICATION_DECIDE, order_id, expected_version)
    if approve:
        _write(session, order, S.UNRECTIFIABLE, clock=clock, actor=actor, kind="unrectifiable_approved", note=text,
               change=lambda: setattr(order, "outcome", "unrectifiable"))
    else:
        _write(session, order, S.RECTIFYING, clock=clock, actor=actor, kind="unrectifiable_rejected", note=text)
    return order


def extend(session: Session, *, clock: Clock, user: User, order_id: int, expected_version: int | None, days: int,
           reason: str, rules: RectificationRules | None = None) -> RectificationOrder:
    """延期: the supervisor moves the due date by ``days`` working days (1 … the setting)."""
    limit = _rules(rules).max_extension_days
    problems = []
    if not 1 <= days <= limit:
        problems.append(Problem("days", "days_out_of_range", f"延期天数须为 1 至 {limit} 个工作日"))
    if not clean(reason, TEXT_MAX):
        problems.append(Problem("reason", "reason_required", "请填写延期理由"))
    if problems:
        raise ValidationFailed(problems)
    order, actor = _begin(session, user, Action.RECTIFICATION_DECIDE, order_id, expected_version)
    if OrderState(order.state) not in CLOCK_RUNNING or order.due_on is None:
        raise Conflict(f"整改工单当前状态为“{OrderState(order.state).label}”，不能延期",
                       code="illegal_order_transition", field="state")
    before_due = order.due_on
    new_due = _due(session, before_due, days)

    def change() -> None:
        order.extension_days += days
        order.due_on = new_due
        order.overdue = today(clock) > new_due

    _write(session, order, None, clock=clock, actor=actor, kind="extended", note=clean(reason, TEXT_MAX), change=change,
           data={"days": days, "from": before_due, "to": new_due})
    return order


def record_callback(session: Session, *, clock: Clock, user: User, order_id: int, expected_version: int | None,
                    verdict: Verdict | str, note: str) -> RectificationOrder:
    """回访: satisfied or basic closes; unsatisfied reopens once, then escalates to the supervisor."""
    try:
        v = Verdict(verdict)
    except ValueError:
        raise ValidationFailed([Problem("verdict", "verdict_invalid",
                                        "请选择回访意见：满意、基本满意或不满意")]) from None
    text = clean(note, TEXT_MAX)
    order, actor = _begin(session, user, Action.RECTIFICATION_CALLBACK, order_id, expected_version)
    target = after_callback(order.state, v, order.reopen_count)

    def change() -> None:
        order.callback_verdict = v.value
        order.callback_note = text
        order.callback_at = clock.now()
        if target is S.CLOSED:
            _close(order, clock, order.outcome or "rectified")
        elif target is S.RECTIFYING:
            order.reopen_count += 1
            _start_clock(session, order, today(clock))
        else:
            order.escalated = True

    kind = {S.CLOSED: "closed", S.RECTIFYING: "reopened", S.ESCALATED: "escalated"}[target]
    _write(session, order, target, clock=clock, actor=actor, kind=kind, note=text, change=change,
           data={"verdict": v.value})
    if target is S.CLOSED:
        _notify(_close_listeners, session, order, clock, actor, text)
    elif target is S.ESCALATED:
        _notify(_escalate_listeners, session, order, clock, actor, text)
    return order


def close_escalated(session: Session, *, clock: Clock, user: User, order_id: int, expected_version: int | None,
                    note: str) -> RectificationOrder:
    """升级督办: the supervisor closes an escalated order with a decision."""
    text = _required(note=(note, "督办结论"))["note"]
    order, actor = _begin(session, user, Action.RECTIFICATION_DECIDE, order_id, expected_version)
    _write(session, order, S.CLOSED, clock=clock, actor=actor, kind="closed_by_supervisor", note=text,
           change=lambda: _close(order, clock, order.outcome or "rectified"))
    _notify(_close_listeners, session, order, clock, actor, text)
    return order


# ----- the sweep -------------------------------------------------------------------------------------------


def sweep_overdue(session: Session, *, clock: Clock) -> int:
    """Flag rectifying orders past ``due_on`` as overdue and unflag those no longer; how many changed."""
    on = today(clock)
    running = [s.value for s in CLOCK_RUNNING]
    changed = 0
    candidates = session.scalars(select(RectificationOrder.id).where(
        RectificationOrder.state.in_(running), RectificationOrder.due_on.is_not(None),
        (RectificationOrder.due_on < on) != RectificationOrder.overdue).order_by(RectificationOrder.id)).all()
    for order_id in candidates:
        order = _lock(session, order_id, None)  # locked and checked again: a worker may have just moved it
        if OrderState(order.state) not in CLOCK_RUNNING or order.due_on is None:
            continue
        late = order.due_on < on
        if late == order.overdue:
            continue
        _write(session, order, None, clock=clock, actor=audit.SYSTEM, kind="overdue" if late else "overdue_cleared",
               change=_flag(order, late), data={"due_on": order.due_on})
        changed += 1
    return changed


def _flag(order: RectificationOrder, late: bool) -> Callable[[], None]:
    def change() -> None:
        order.overdue = late
    return change


def overdue_job(session: Session, *, clock: Clock) -> dict[str, int]:
    """The ``rectification-overdue`` background job: :func:`sweep_overdue` with its count."""
    return {"changed": sweep_overdue(session, clock=clock)}


# ----- reads -----------------------------------------------------------------------------------------------


def get_order(session: Session, order_id: int) -> RectificationOrder:
    """One order, or 404."""
    order = session.get(RectificationOrder, order_id)
    if order is None:
        raise NotFound("整改工单", str(order_id))
    return order


def require_view(user: User, order: RectificationOrder) -> None:
    """403 unless the user may see this order."""
    access.require(viewer_of(user), Action.RECTIFICATION_VIEW, record_of(order))


def _scoped_department(user: User) -> int | None:
    viewer = viewer_of(user)
    if access.list_scope(viewer, Action.RECTIFICATION_VIEW) is None:
        access.require(viewer, Action.RECTIFICATION_VIEW)  # raises the 403 with its reason
        raise PermissionDenied()  # pragma: no cover - require raised
    return access.department_scoped(viewer, Action.RECTIFICATION_VIEW)


def list_orders(session: Session, *, viewer: User, state: OrderState | str | None = None,
                department_id: int | None = None, overdue: bool | None = None,
                source_kind: SourceKind | str | None = None, limit: int = 50,
                offset: int = 0) -> list[RectificationOrder]:
    """The orders the viewer may see, newest first, narrowed by the filters."""
    query = _filtered(_scoped_department(viewer), state=state, department_id=department_id, overdue=overdue,
                      source_kind=source_kind)
    return list(session.scalars(query.order_by(RectificationOrder.id.desc()).limit(limit).offset(offset)))


def _filtered(scope: int | None, *, state: OrderState | str | None, department_id: int | None,
              overdue: bool | None, source_kind: SourceKind | str | None) -> Any:
    query = select(RectificationOrder)
    if scope is not None:
        query = query.where(RectificationOrder.department_id == scope)
    if department_id is not None:
        query = query.where(RectificationOrder.department_id == department_id)
    if state is not None:
        query = query.where(RectificationOrder.state == OrderState(state).value)
    if overdue is not None:
        query = query.where(RectificationOrder.overdue.is_(overdue))
    if source_kind is not None:
        query = query.where(RectificationOrder.source_kind == SourceKind(source_kind).value)
    return query


def state_counts(session: Session, *, viewer: User) -> dict[str, int]:
    """How many orders the viewer may see are in each state (every state named, zeros included)."""
    scope = _scoped_department(viewer)
    query = select(RectificationOrder.state, func.count()).group_by(RectificationOrder.state)
    if scope is not None:
        query = query.where(RectificationOrder.department_id == scope)
    found = {str(s): int(n) for s, n in session.execute(query)}
    return {s.value: found.get(s.value, 0) for s in OrderState}


def timeline(session: Session, order: RectificationOrder) -> list[RectificationEvent]:
    """The order's events, oldest first."""
    return list(session.scalars(select(RectificationEvent).where(RectificationEvent.order_id == order.id)
                                .order_by(RectificationEvent.id)))


@dataclass(frozen=True)
class DepartmentCounts:
    """The figures of one department over a period (差评整改率 = closed / (opened − voided), 按期整改率 =
    on_time / closed with a rectification)."""

    department_id: int
    department_name: str
    opened: int  # opened in the period
    closed: int  # closed (办结) in the period, voided ones excluded
    on_time: int  # of those closed: rectified by ``due_on``
    overdue_open: int  # rectifying and past due now
    voided: int  # voided (appeal upheld) in the period
    unrectifiable: int  # closed in the period as 无法整改


def counts(session: Session, *, viewer: User, date_from: dt.date, date_to: dt.date) -> list[DepartmentCounts]:
    """Per department the viewer may see: opened, closed, on time, overdue open, voided, unrectifiable."""
    scope = _scoped_department(viewer)
    o = RectificationOrder
    in_period = o.closed_on.between(date_from, date_to)
    closed = o.state == S.CLOSED.value

    def n(condition: Any) -> Any:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    query = (select(o.department_id, Department.name,
                    n(o.opened_on.between(date_from, date_to)),
                    n(closed & in_period),
                    n(closed & in_period & (o.outcome == "rectified") & o.overdue.is_(False)),
                    n((o.state.in_([s.value for s in CLOCK_RUNNING])) & o.overdue.is_(True)),
                    n((o.state == S.VOIDED.value) & in_period),
                    n(closed & in_period & (o.outcome == "unrectifiable")))
             .join(Department, Department.id == o.department_id)
             .group_by(o.department_id, Department.name).order_by(o.department_id))
    if scope is not None:
        query = query.where(o.department_id == scope)
    return [DepartmentCounts(int(r[0]), str(r[1]), *(int(x) for x in r[2:])) for r in session.execute(query)]


def source_outcomes(source_kind: SourceKind | str) -> Any:
    """A subquery, one row per order of this source kind, for a source domain's figures (joined on ``source_id``).

    Columns (each 0 or 1): ``rectified`` closed (办结) as rectified; ``called_back`` closed as rectified after
    the raiser was called back (回访); ``on_time`` closed as rectified and never flagged overdue (整改超期).
    """
    o = RectificationOrder
    rectified = (o.state == S.CLOSED.value) & (o.outcome == "rectified")
    return (select(o.source_id.label("source_id"),
                   case((rectified, 1), else_=0).label("rectified"),
                   case((rectified & o.callback_at.is_not(None), 1), else_=0).label("called_back"),
                   case((rectified & o.overdue.is_(False), 1), else_=0).label("on_time"))
            .where(o.source_kind == SourceKind(source_kind).value).subquery("source_outcome"))


def is_open(order: RectificationOrder) -> bool:
    """True until the order is voided or closed."""
    return OrderState(order.state) not in FINAL

