"""Case (办件) state machine (pure): states, the transition table and one ``check_transition``.

Every caller — intake workbench, online applications, approver inbox, jobs, API, tests — moves a
case through :func:`check_transition`, so an illegal move is refused the same way everywhere (HTTP
409). The table follows DESIGN.md ("Cases"):

``submitted`` (网上申报) → ``accepted`` (受理, the clock starts) | ``correction_requested`` (补正,
one complete list, the clock does not start) | ``refused`` (不予受理); ``accepted`` → ``in_review``
(one step after another) → ``approved`` / ``denied`` → ``delivered`` → ``archived``.
Instant items (即办件) and rule-approved items (秒批) go ``accepted`` → ``approved`` directly.
``suspended`` (特别程序) pauses the clock and returns to ``in_review``. ``withdrawn`` by the applicant
before a decision; ``terminated`` when a 容缺 deadline passes or a false 告知承诺 is found — also after
approval, while the result is held back for missing deferred materials.
"""

from __future__ import annotations

from enum import StrEnum

from onewindow.core.errors import Conflict


class CaseState(StrEnum):
    """Where a case is in its life."""

    SUBMITTED = "submitted"
    CORRECTION_REQUESTED = "correction_requested"
    REFUSED = "refused"
    ACCEPTED = "accepted"
    IN_REVIEW = "in_review"
    SUSPENDED = "suspended"
    APPROVED = "approved"
    DENIED = "denied"
    DELIVERED = "delivered"
    ARCHIVED = "archived"
    WITHDRAWN = "withdrawn"
    TERMINATED = "terminated"

    @property
    def label(self) -> str:
        """Chinese name shown to people."""
        return STATE_LABELS[self]


STATE_LABELS: dict[CaseState, str] = {
    CaseState.SUBMITTED: "已申报",
    CaseState.CORRECTION_REQUESTED: "待补正",
    CaseState.REFUSED: "不予受理",
    CaseState.ACCEPTED: "已受理",
    CaseState.IN_REVIEW: "审查中",
    CaseState.SUSPENDED: "特别程序（暂停计时）",
    CaseState.APPROVED: "准予许可（已办结）",
    CaseState.DENIED: "不予许可（已办结）",
    CaseState.DELIVERED: "已送达",
    CaseState.ARCHIVED: "已归档",
    CaseState.WITHDRAWN: "已撤回",
    CaseState.TERMINATED: "已终止",
}

S = CaseState
_BEFORE_DECISION = frozenset({S.SUBMITTED, S.CORRECTION_REQUESTED, S.ACCEPTED, S.IN_REVIEW, S.SUSPENDED})

TRANSITIONS: dict[CaseState, frozenset[CaseState]] = {
    S.SUBMITTED: frozenset({S.ACCEPTED, S.CORRECTION_REQUESTED, S.REFUSED, S.WITHDRAWN}),
    S.CORRECTION_REQUESTED: frozenset({S.SUBMITTED, S.ACCEPTED, S.REFUSED, S.WITHDRAWN}),
    S.ACCEPTED: frozenset({S.IN_REVIEW, S.APPROVED, S.DENIED, S.SUSPENDED, S.WITHDRAWN, S.TERMINATED}),
    S.IN_REVIEW: frozenset({S.APPROVED, S.DENIED, S.SUSPENDED, S.WITHDRAWN, S.TERMINATED}),
    S.SUSPENDED: frozenset({S.IN_REVIEW, S.WITHDRAWN, S.TERMINATED}),
    S.APPROVED: frozenset({S.DELIVERED, S.TERMINATED}),
    S.DENIED: frozenset({S.DELIVERED, S.ARCHIVED}),
    S.DELIVERED: frozenset({S.ARCHIVED}),
    S.REFUSED: frozenset({S.ARCHIVED}),
    S.WITHDRAWN: frozenset({S.ARCHIVED}),
    S.TERMINATED: frozenset({S.ARCHIVED}),
    S.ARCHIVED: frozenset(),
}

# The legal and promised clocks run only in these states (from acceptance until a decision).
CLOCK_RUNNING: frozenset[CaseState] = frozenset({S.ACCEPTED, S.IN_REVIEW})
# A decision has been made; deadlines no longer warn.
DECIDED: frozenset[CaseState] = frozenset({S.APPROVED, S.DENIED, S.DELIVERED, S.ARCHIVED})
FINAL: frozenset[CaseState] = frozenset({S.ARCHIVED})


def allowed_targets(current: CaseState) -> frozenset[CaseState]:
    """The states a case may move to from ``current``."""
    return TRANSITIONS[current]


def is_withdrawable(current: CaseState) -> bool:
    """True while the applicant may still withdraw (before any decision)."""
    return current in _BEFORE_DECISION


def check_transition(current: CaseState | str, target: CaseState | str) -> CaseState:
    """Return ``target`` when the move is legal; raise a 409 with a Chinese reason otherwise."""
    cur, tgt = CaseState(current), CaseState(target)
    if tgt not in TRANSITIONS[cur]:
        raise Conflict(f"办件当前状态为“{cur.label}”，不能变更为“{tgt.label}”", code="illegal_case_transition",
                       field="state")
    return tgt
