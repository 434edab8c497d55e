"""Grant state machine (pure): a match becomes an offer, then confirmed, approved, paid and notified.

``pending`` (offer made from a match) → ``confirmed`` (the entity's one-click confirmation of intent,
on its page or by a clerk at a window) → ``approved`` (the policy's department) → ``paid`` (date and
amount) → ``notified``. ``declined`` (by the entity, or by the department before approval) and
``expired`` (no confirmation in time, or the entity no longer matches) are final and kept, so the
same (entity, policy, period) is never offered twice. Every caller goes through
:func:`check_transition`; an illegal move is refused the same way everywhere (HTTP 409).
"""

from __future__ import annotations

from enum import StrEnum

from onewindow.core.errors import Conflict


class GrantState(StrEnum):
    """Where a grant is in its life."""

    PENDING = "pending"
    CONFIRMED = "confirmed"
    APPROVED = "approved"
    PAID = "paid"
    NOTIFIED = "notified"
    DECLINED = "declined"
    EXPIRED = "expired"

    @property
    def label(self) -> str:
        """Chinese name shown to people."""
        return STATE_LABELS[self]


STATE_LABELS: dict[GrantState, str] = {
    GrantState.PENDING: "待确认",
    GrantState.CONFIRMED: "已确认",
    GrantState.APPROVED: "已审核",
    GrantState.PAID: "已兑付",
    GrantState.NOTIFIED: "已告知",
    GrantState.DECLINED: "已放弃",
    GrantState.EXPIRED: "已失效",
}

TRANSITIONS: dict[GrantState, frozenset[GrantState]] = {
    GrantState.PENDING: frozenset({GrantState.CONFIRMED, GrantState.DECLINED, GrantState.EXPIRED}),
    GrantState.CONFIRMED: frozenset({GrantState.APPROVED, GrantState.DECLINED, GrantState.EXPIRED}),
    GrantState.APPROVED: frozenset({GrantState.PAID}),
    GrantState.PAID: frozenset({GrantState.NOTIFIED}),
    GrantState.NOTIFIED: frozenset(),
    GrantState.DECLINED: frozenset(),
    GrantState.EXPIRED: frozenset(),
}

FINAL: frozenset[GrantState] = frozenset(s for s, nxt in TRANSITIONS.items() if not nxt)
OPEN: frozenset[GrantState] = frozenset({GrantState.PENDING, GrantState.CONFIRMED})  # may still expire


def can_transition(current: GrantState, target: GrantState) -> bool:
    """Whether ``current → target`` is in the table."""
    return target in TRANSITIONS[current]


def check_transition(current: GrantState | str, target: GrantState | str) -> GrantState:
    """The target state if the move is legal; raises ``Conflict`` (409) otherwise."""
    cur, tgt = GrantState(current), GrantState(target)
    if not can_transition(cur, tgt):
        raise Conflict(f"兑付记录当前为“{cur.label}”，不能改为“{tgt.label}”", code="illegal_transition",
                       field="status")
    return tgt
