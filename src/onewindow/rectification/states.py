"""Rectification (整改) work order state machine (pure): states, sources, the raiser, one transition table.

One workflow for every source (DESIGN.md, "Rectification (整改) is one workflow"): a 差评 rating, an
unsatisfied callback (回访), an experiencer's report (体验员) or a complaint opens an order; the responsible
department verifies it (核实: it calls the raiser back), either appeals (申诉: the rating was invalid or
malicious) or rectifies within a number of working days, and the center calls the raiser back (回访) before it
closes (办结). Every caller moves an order through :func:`check_transition`, so an illegal move is refused the
same way everywhere (HTTP 409, ``illegal_order_transition``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from onewindow.core.errors import Conflict


class OrderState(StrEnum):
    """Where a rectification order is in its life."""

    PENDING = "pending"
    VERIFIED = "verified"
    APPEALED = "appealed"
    VOIDED = "voided"
    RECTIFYING = "rectifying"
    RECTIFIED = "rectified"
    UNRECTIFIABLE_REVIEW = "unrectifiable_review"
    UNRECTIFIABLE = "unrectifiable"
    ESCALATED = "escalated"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        """Chinese name shown to people."""
        return STATE_LABELS[self]


STATE_LABELS: dict[OrderState, str] = {
    OrderState.PENDING: "待核实",
    OrderState.VERIFIED: "已核实",
    OrderState.APPEALED: "申诉中",
    OrderState.VOIDED: "无效（申诉成立）",
    OrderState.RECTIFYING: "整改中",
    OrderState.RECTIFIED: "整改完成",
    OrderState.UNRECTIFIABLE_REVIEW: "无法整改审核",
    OrderState.UNRECTIFIABLE: "无法整改",
    OrderState.ESCALATED: "升级督办",
    OrderState.CLOSED: "办结",
}

S = OrderState

# Signalen's ALLOWED_STATUS_CHANGES: every move an order may make, and why.
TRANSITIONS: dict[OrderState, frozenset[OrderState]] = {
    # 核实: the department calls the raiser back and records what it found
    S.PENDING: frozenset({S.VERIFIED}),
    # after 核实 the department either appeals (the rating was invalid or malicious) or starts rectifying
    S.VERIFIED: frozenset({S.APPEALED, S.RECTIFYING}),
    # the supervisor decides the appeal: upheld voids the order (and its source); rejected starts the clock
    S.APPEALED: frozenset({S.VOIDED, S.RECTIFYING}),
    # the department reports the measures taken, or asks the supervisor to accept that it cannot rectify
    S.RECTIFYING: frozenset({S.RECTIFIED, S.UNRECTIFIABLE_REVIEW}),
    # the supervisor accepts 无法整改, or sends the order back to rectifying
    S.UNRECTIFIABLE_REVIEW: frozenset({S.UNRECTIFIABLE, S.RECTIFYING}),
    # 回访 after 整改完成: satisfied or basic closes; the first unsatisfied reopens, the second escalates
    S.RECTIFIED: frozenset({S.CLOSED, S.RECTIFYING, S.ESCALATED}),
    # 回访 after 无法整改: satisfied or basic closes; unsatisfied escalates (there is nothing to reopen)
    S.UNRECTIFIABLE: frozenset({S.CLOSED, S.ESCALATED}),
    # 升级督办: the supervisor closes the order with a decision
    S.ESCALATED: frozenset({S.CLOSED}),
    # final: an upheld appeal, a closed order
    S.VOIDED: frozenset(),
    S.CLOSED: frozenset(),
}

# The rectification clock (``due_on``) runs only here; the overdue sweep looks at nothing else.
CLOCK_RUNNING: frozenset[OrderState] = frozenset({S.RECTIFYING})
# States after which nothing happens any more.
FINAL: frozenset[OrderState] = frozenset({S.VOIDED, S.CLOSED})
# The raiser is called back (回访) in these states.
AWAITING_CALLBACK: frozenset[OrderState] = frozenset({S.RECTIFIED, S.UNRECTIFIABLE})
# One reopening after an unsatisfied callback; the next unsatisfied callback escalates to the supervisor.
MAX_REOPENS = 1


def allowed_targets(current: OrderState | str) -> frozenset[OrderState]:
    """The states an order may move to from ``current``."""
    return TRANSITIONS[OrderState(current)]


def check_transition(current: OrderState | str, target: OrderState | str) -> OrderState:
    """Return ``target`` when the move is legal; raise a 409 with a Chinese reason otherwise."""
    cur, tgt = OrderState(current), OrderState(target)
    if tgt not in TRANSITIONS[cur]:
        raise Conflict(f"整改工单当前状态为“{cur.label}”，不能变更为“{tgt.label}”", code="illegal_order_transition",
                       field="state")
    return tgt


class Verdict(StrEnum):
    """The raiser's answer when called back (回访)."""

    SATISFIED = "satisfied"
    BASIC = "basic"
    UNSATISFIED = "unsatisfied"

    @property
    def label(self) -> str:
        """Chinese name shown to people."""
        return {Verdict.SATISFIED: "满意", Verdict.BASIC: "基本满意", Verdict.UNSATISFIED: "不满意"}[self]


def after_callback(current: OrderState | str, verdict: Verdict | str, reopen_count: int) -> OrderState:
    """Where a callback's verdict takes the order: closed, reopened (once) or escalated to the supervisor."""
    cur, v = OrderState(current), Verdict(verdict)
    if v is not Verdict.UNSATISFIED:
        return check_transition(cur, S.CLOSED)
    if cur is S.RECTIFIED and reopen_count < MAX_REOPENS:
        return check_transition(cur, S.RECTIFYING)
    return check_transition(cur, S.ESCALATED)


class SourceKind(StrEnum):
    """What opened the order."""

    RATING = "rating"
    CALLBACK = "callback"
    EXPERIENCE = "experience"
    COMPLAINT = "complaint"

    @property
    def label(self) -> str:
        """Chinese name shown to people."""
        return SOURCE_LABELS[self]


SOURCE_LABELS: dict[SourceKind, str] = {
    SourceKind.RATING: "差评",
    SourceKind.CALLBACK: "回访不满意",
    SourceKind.EXPERIENCE: "体验员反映",
    SourceKind.COMPLAINT: "投诉",
}


@dataclass(frozen=True)
class Raiser:
    """Who raised the matter and is called back: name, phone (stored whole, shown masked), account, 实名."""

    name: str = ""
    phone: str = ""
    user_id: int | None = None
    identified: bool = False
