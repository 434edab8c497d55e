"""Ticket state machine (pure): states, classes, the transition table and the rules around it.

Every caller (API, pages, clerk workbench, simulator, tests) goes through :func:`check_transition`
or the verbs below, so an illegal move is refused the same way everywhere (HTTP 409).

``waiting → called → serving → done``; a called ticket that does not show is called again up to
``max_calls`` times, then ``missed``; a missed ticket may be re-queued once (back to ``waiting``,
at the back of the line). ``transferred`` means "waiting again, in another category's queue": it is
called like a waiting ticket; whether it keeps its place (original time) or goes to the back is a
hall setting passed as ``keep_time``. ``done`` and ``cancelled`` are final; ``missed`` is final once
its re-queue is used. Every change is time-stamped with an aware datetime.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from enum import StrEnum

from onewindow.core.errors import Conflict, Problem, ValidationFailed


class TicketState(StrEnum):
    """Where a ticket is in its life."""

    WAITING = "waiting"
    CALLED = "called"
    SERVING = "serving"
    DONE = "done"
    MISSED = "missed"
    TRANSFERRED = "transferred"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        """Chinese name shown to people."""
        return STATE_LABELS[self]


STATE_LABELS: dict[TicketState, str] = {
    TicketState.WAITING: "等待中",
    TicketState.CALLED: "已叫号",
    TicketState.SERVING: "办理中",
    TicketState.DONE: "已办结",
    TicketState.MISSED: "已过号",
    TicketState.TRANSFERRED: "已转移",
    TicketState.CANCELLED: "已取消",
}


class TicketClass(StrEnum):
    """Ticket type (票种): decides priority in the smart routing policy."""

    NORMAL = "normal"
    APPOINTMENT = "appointment"
    VIP = "vip"
    GREEN = "green"

    @property
    def label(self) -> str:
        """Chinese name shown to people."""
        return CLASS_LABELS[self]


CLASS_LABELS: dict[TicketClass, str] = {
    TicketClass.NORMAL: "普通",
    TicketClass.APPOINTMENT: "预约",
    TicketClass.VIP: "VIP",
    TicketClass.GREEN: "爱心绿色通道",
}


def parse_ticket_class(value: str) -> TicketClass:
    """A ticket class from its code (``vip``) or its Chinese label (``爱心绿色通道``)."""
    for cls in TicketClass:
        if value in (cls.value, cls.label):
            return cls
    allowed = "、".join(f"{c.value}（{c.label}）" for c in TicketClass)
    raise ValidationFailed([Problem("ticket_class", "unknown_ticket_class",
                                    f"未知的票种：{value}，可选：{allowed}")])


# Ticket states that sit in a queue and can be called.
QUEUED_STATES: frozenset[TicketState] = frozenset({TicketState.WAITING, TicketState.TRANSFERRED})
FINAL_STATES: frozenset[TicketState] = frozenset({TicketState.DONE, TicketState.CANCELLED})

TRANSITIONS: dict[TicketState, frozenset[TicketState]] = {
    TicketState.WAITING: frozenset({TicketState.CALLED, TicketState.CANCELLED}),
    # called → called is a repeated call (重呼) of a ticket that has not shown up yet
    TicketState.CALLED: frozenset({TicketState.CALLED, TicketState.SERVING, TicketState.MISSED,
                                   TicketState.TRANSFERRED, TicketState.CANCELLED}),
    TicketState.SERVING: frozenset({TicketState.DONE, TicketState.TRANSFERRED}),
    TicketState.TRANSFERRED: frozenset({TicketState.CALLED, TicketState.CANCELLED}),
    TicketState.MISSED: frozenset({TicketState.WAITING}),
    TicketState.DONE: frozenset(),
    TicketState.CANCELLED: frozenset(),
}

DEFAULT_MAX_CALLS = 3
MAX_REQUEUES = 1


def can_transition(current: TicketState, target: TicketState) -> bool:
    """Whether the transition table allows ``current → target``."""
    return target in TRANSITIONS[current]


def check_transition(current: TicketState, target: TicketState) -> None:
    """Raise ``Conflict`` (409) with a Chinese message when ``current → target`` is not allowed."""
    if target not in TRANSITIONS[current]:
        if current in FINAL_STATES:
            message = f"号票已{current.label.removeprefix('已')}，不能再变为「{target.label}」"
        else:
            message = f"号票状态为「{current.label}」，不能变为「{target.label}」"
        raise Conflict(message, code="illegal_ticket_transition", field="state")


@dataclass(frozen=True, slots=True)
class StateChange:
    """One time-stamped state change of a ticket."""

    state: TicketState
    at: dt.datetime
    note: str = ""


@dataclass(frozen=True, slots=True)
class Ticket:
    """The pure state of a ticket; the live queue maps it to and from its database row.

    ``queued_at`` is when its place in line counts from (routing order); ``issued_at`` never changes
    and is what the wait-time metric uses.
    """

    number: str
    category: str
    ticket_class: TicketClass
    state: TicketState
    issued_at: dt.datetime
    queued_at: dt.datetime
    calls: int = 0
    requeues: int = 0
    transfers: int = 0
    history: tuple[StateChange, ...] = ()

    @property
    def called_at(self) -> dt.datetime | None:
        """First time the ticket was called (start of the wait-time metric's end)."""
        return _first(self.history, TicketState.CALLED)

    @property
    def serving_at(self) -> dt.datetime | None:
        """Last time service started (a transfer starts a new service)."""
        return _last(self.history, TicketState.SERVING)

    @property
    def done_at(self) -> dt.datetime | None:
        """When service ended."""
        return _last(self.history, TicketState.DONE)

    def wait_minutes(self) -> float | None:
        """Wait time: called_at − issued_at, in minutes (None until called)."""
        called = self.called_at
        return None if called is None else (called - self.issued_at).total_seconds() / 60

    def service_minutes(self) -> float | None:
        """Service time: done_at − serving_at, in minutes (None until done)."""
        serving, done = self.serving_at, self.done_at
        return None if serving is None or done is None else (done - serving).total_seconds() / 60


def _first(history: tuple[StateChange, ...], state: TicketState) -> dt.datetime | None:
    return next((c.at for c in history if c.state is state), None)


def _last(history: tuple[StateChange, ...], state: TicketState) -> dt.datetime | None:
    return next((c.at for c in reversed(history) if c.state is state), None)


def _require_aware(at: dt.datetime) -> None:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("ticket times must be timezone-aware")


def _move(ticket: Ticket, target: TicketState, at: dt.datetime, note: str = "", **changes: object) -> Ticket:
    _require_aware(at)
    check_transition(ticket.state, target)
    if ticket.history and at < ticket.history[-1].at:
        raise Conflict("状态变更时间早于上一次变更", code="ticket_time_backwards", field="at")
    change = StateChange(target, at, note)
    return replace(ticket, state=target, history=(*ticket.history, change), **changes)  # type: ignore[arg-type]


def issue_ticket(*, number: str, category: str, ticket_class: TicketClass, at: dt.datetime) -> Ticket:
    """A new ticket, waiting from ``at``."""
    _require_aware(at)
    return Ticket(number=number, category=category, ticket_class=ticket_class, state=TicketState.WAITING,
                  issued_at=at, queued_at=at, history=(StateChange(TicketState.WAITING, at),))


def call_ticket(ticket: Ticket, *, at: dt.datetime, window: str = "") -> Ticket:
    """Call a queued ticket to a window (first call)."""
    if ticket.state is TicketState.CALLED:
        raise Conflict("号票已在叫号中，请使用重呼", code="already_called", field="state")
    return _move(ticket, TicketState.CALLED, at, window, calls=1)


def recall_ticket(ticket: Ticket, *, at: dt.datetime, max_calls: int = DEFAULT_MAX_CALLS) -> Ticket:
    """Call a ticket that has not shown up again (重呼); after ``max_calls`` calls it is missed."""
    if ticket.state is not TicketState.CALLED:
        check_transition(ticket.state, TicketState.MISSED)  # raises with the standard message
    if ticket.calls >= max_calls:
        return _move(ticket, TicketState.MISSED, at, f"呼叫{ticket.calls}次未到")
    return _move(ticket, TicketState.CALLED, at, "重呼", calls=ticket.calls + 1)


def mark_missed(ticket: Ticket, *, at: dt.datetime) -> Ticket:
    """Mark a called ticket missed (过号) at once, e.g. when the clerk gives up."""
    return _move(ticket, TicketState.MISSED, at, f"呼叫{ticket.calls}次未到")


def start_serving(ticket: Ticket, *, at: dt.datetime) -> Ticket:
    """The applicant showed up at the window: service begins."""
    return _move(ticket, TicketState.SERVING, at)


def finish_ticket(ticket: Ticket, *, at: dt.datetime) -> Ticket:
    """Service is finished."""
    return _move(ticket, TicketState.DONE, at)


def cancel_ticket(ticket: Ticket, *, at: dt.datetime, reason: str = "") -> Ticket:
    """The applicant leaves or the ticket is withdrawn before service."""
    return _move(ticket, TicketState.CANCELLED, at, reason)


def requeue_missed(ticket: Ticket, *, at: dt.datetime, max_requeues: int = MAX_REQUEUES) -> Ticket:
    """Put a missed ticket back in line once (at the back); a second re-queue is refused."""
    check_transition(ticket.state, TicketState.WAITING)
    if ticket.requeues >= max_requeues:
        raise Conflict(f"过号号票只能重新排队{max_requeues}次", code="requeue_exhausted", field="state")
    return _move(ticket, TicketState.WAITING, at, "过号重排", queued_at=at, calls=0,
                 requeues=ticket.requeues + 1)


def transfer_ticket(ticket: Ticket, *, at: dt.datetime, to_category: str, keep_time: bool) -> Ticket:
    """Move a ticket to another category's queue, keeping its original place or going to the back."""
    if not to_category:
        raise ValidationFailed([Problem("to_category", "required", "请选择转入的业务类别")])
    queued_at = ticket.queued_at if keep_time else at
    return _move(ticket, TicketState.TRANSFERRED, at, f"转入{to_category}", category=to_category,
                 queued_at=queued_at, calls=0, transfers=ticket.transfers + 1)
