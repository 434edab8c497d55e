"""Complaint work order state machine (pure): states, categories, verdicts, one transition table.

受理 (accepted) → 派单 (dispatched, waiting for the lead department to sign) → 签收 (handling) → 答复
(replied, waiting for the callback) → 回访 → 办结归档 (closed). A wrongly assigned department returns the
order (退单, returned); the center re-dispatches it (改派) or decides the dispute against the returning
department (back to handling). An unsatisfied callback reopens the order (重办). A 咨询 answered on the spot
at the window goes straight from accepted to replied. Any open order can be merged into another one about
the same matter by the same person. Every caller moves an order through :func:`check_transition`, so an
illegal move is refused the same way everywhere (HTTP 409, ``illegal_complaint_transition``).
"""

from __future__ import annotations

from enum import StrEnum

from onewindow.core.errors import Conflict


class ComplaintState(StrEnum):
    """Where a complaint work order is in its life."""

    ACCEPTED = "accepted"
    DISPATCHED = "dispatched"
    RETURNED = "returned"
    HANDLING = "handling"
    REPLIED = "replied"
    CLOSED = "closed"
    MERGED = "merged"

    @property
    def label(self) -> str:
        """Chinese name shown to people."""
        return STATE_LABELS[self]


STATE_LABELS: dict[ComplaintState, str] = {
    ComplaintState.ACCEPTED: "已受理",
    ComplaintState.DISPATCHED: "已派单，待签收",
    ComplaintState.RETURNED: "已退单",
    ComplaintState.HANDLING: "办理中",
    ComplaintState.REPLIED: "已答复，待回访",
    ComplaintState.CLOSED: "办结归档",
    ComplaintState.MERGED: "已合并",
}

S = ComplaintState

# Signalen's ALLOWED_STATUS_CHANGES: every move an order may make, and why.
TRANSITIONS: dict[ComplaintState, frozenset[ComplaintState]] = {
    # 派单 to a lead department; a 咨询 answered on the spot at the window is replied at once
    S.ACCEPTED: frozenset({S.DISPATCHED, S.REPLIED, S.MERGED}),
    # the lead department signs (签收) or returns it as wrongly assigned (退单); the center may still 改派
    S.DISPATCHED: frozenset({S.HANDLING, S.RETURNED, S.DISPATCHED, S.MERGED}),
    # the center re-dispatches (改派) or decides the dispute against the returning department
    S.RETURNED: frozenset({S.DISPATCHED, S.HANDLING, S.MERGED}),
    # the lead department answers the citizen (答复); the center may still re-dispatch
    S.HANDLING: frozenset({S.REPLIED, S.DISPATCHED, S.MERGED}),
    # 回访: satisfied or basic closes; unsatisfied reopens (重办)
    S.REPLIED: frozenset({S.CLOSED, S.HANDLING}),
    # final: archived, or merged into another order
    S.CLOSED: frozenset(),
    S.MERGED: frozenset(),
}

# Orders whose limit still runs: the overdue sweep and the inboxes look at these only.
OPEN: frozenset[ComplaintState] = frozenset({S.ACCEPTED, S.DISPATCHED, S.RETURNED, S.HANDLING})
# States after which nothing happens any more.
FINAL: frozenset[ComplaintState] = frozenset({S.CLOSED, S.MERGED})
# States a department works in (its inbox): waiting for its signature, or being handled by it.
AT_DEPARTMENT: frozenset[ComplaintState] = frozenset({S.DISPATCHED, S.HANDLING})
# States the center (dispatcher) acts in: to dispatch, or a return to decide.
AT_CENTER: frozenset[ComplaintState] = frozenset({S.ACCEPTED, S.RETURNED})


def allowed_targets(current: ComplaintState | str) -> frozenset[ComplaintState]:
    """The states an order may move to from ``current``."""
    return TRANSITIONS[ComplaintState(current)]


def check_transition(current: ComplaintState | str, target: ComplaintState | str) -> ComplaintState:
    """Return ``target`` when the move is legal; raise a 409 with a Chinese reason otherwise."""
    cur, tgt = ComplaintState(current), ComplaintState(target)
    if tgt not in TRANSITIONS[cur]:
        raise Conflict(f"工单当前状态为“{cur.label}”，不能变更为“{tgt.label}”", code="illegal_complaint_transition",
                       field="state")
    return tgt


class Category(StrEnum):
    """What the citizen asks for: 咨询 / 求助 / 建议 / 投诉 / 举报."""

    CONSULT = "consult"
    HELP = "help"
    SUGGEST = "suggest"
    COMPLAIN = "complain"
    REPORT = "report"

    @property
    def label(self) -> str:
        """Chinese name shown to people."""
        return CATEGORY_LABELS[self]


CATEGORY_LABELS: dict[Category, str] = {
    Category.CONSULT: "咨询",
    Category.HELP: "求助",
    Category.SUGGEST: "建议",
    Category.COMPLAIN: "投诉",
    Category.REPORT: "举报",
}


class Channel(StrEnum):
    """Where the order came in."""

    WINDOW = "window"  # 有诉即办窗口: a clerk files it while the citizen is there
    ONLINE = "online"  # the public page or its QR code
    HOTLINE = "hotline"  # 12345 orders, imported
    EXPERIENCER = "experiencer"  # 体验员 reports
    RATING = "rating"  # escalated 差评

    @property
    def label(self) -> str:
        """Chinese name shown to people."""
        return CHANNEL_LABELS[self]


CHANNEL_LABELS: dict[Channel, str] = {
    Channel.WINDOW: "有诉即办窗口",
    Channel.ONLINE: "网上/扫码",
    Channel.HOTLINE: "12345热线",
    Channel.EXPERIENCER: "体验员",
    Channel.RATING: "差评转办",
}


class AssignmentRole(StrEnum):
    """A department's part in an order."""

    LEAD = "lead"  # 主办
    ASSIST = "assist"  # 协办

    @property
    def label(self) -> str:
        """Chinese name shown to people."""
        return "主办" if self is AssignmentRole.LEAD else "协办"


class Verdict(StrEnum):
    """The citizen's answer when called back (回访)."""

    SATISFIED = "satisfied"
    BASIC = "basic"
    UNSATISFIED = "unsatisfied"

    @property
    def label(self) -> str:
        """Chinese name shown to people."""
        return {Verdict.SATISFIED: "满意", Verdict.BASIC: "基本满意", Verdict.UNSATISFIED: "不满意"}[self]


def after_callback(current: ComplaintState | str, verdict: Verdict | str) -> ComplaintState:
    """Where a callback's verdict takes the order: closed (满意 / 基本满意) or reopened (不满意, 重办)."""
    target = S.HANDLING if Verdict(verdict) is Verdict.UNSATISFIED else S.CLOSED
    return check_transition(current, target)
