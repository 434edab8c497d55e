"""体验员 rules (pure): who experiencers are, how they tried a service, where a report stands, what it needs.

The center registers 政务服务体验员 / 社会监督员 (experts, enterprises, media, 人大代表, 政协委员, citizens) for a
term; an experiencer files a report of a visit (现场办 / 网上办 / 自助办); the supervisor judges it (研判): it is
assigned to a department as a rectification work order (source ``experience``) or not taken up, with a reason.
The order's end (办结 after 整改 and 回访, or voided on appeal) is the report's end.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from onewindow.core.errors import Conflict, Problem

TITLE_MAX = 100
TEXT_MAX = 2000


class Category(StrEnum):
    """Where an experiencer comes from."""

    EXPERT = "expert"
    ENTERPRISE = "enterprise"
    MEDIA = "media"
    NPC_DEPUTY = "npc_deputy"
    CPPCC_MEMBER = "cppcc_member"
    CITIZEN = "citizen"

    @property
    def label(self) -> str:
        """Chinese name shown to people."""
        return CATEGORY_LABELS[self]


CATEGORY_LABELS: dict[Category, str] = {
    Category.EXPERT: "专家学者",
    Category.ENTERPRISE: "企业代表",
    Category.MEDIA: "新闻媒体",
    Category.NPC_DEPUTY: "人大代表",
    Category.CPPCC_MEMBER: "政协委员",
    Category.CITIZEN: "群众代表",
}


class Mode(StrEnum):
    """How the service was tried."""

    ONSITE = "onsite"
    ONLINE = "online"
    SELF_SERVICE = "self_service"

    @property
    def label(self) -> str:
        """Chinese name shown to people."""
        return MODE_LABELS[self]


MODE_LABELS: dict[Mode, str] = {Mode.ONSITE: "现场办", Mode.ONLINE: "网上办", Mode.SELF_SERVICE: "自助办"}
# a hall is named for a visit in person or at a self-service terminal
NEEDS_HALL = frozenset({Mode.ONSITE, Mode.SELF_SERVICE})


class ReportState(StrEnum):
    """Where a report stands."""

    SUBMITTED = "submitted"  # 待研判
    ASSIGNED = "assigned"  # 已交办: a rectification work order is open
    DISMISSED = "dismissed"  # 不予交办 (with the reason)
    CLOSED = "closed"  # its work order was closed (办结)
    VOIDED = "voided"  # its work order was voided (appeal upheld)

    @property
    def label(self) -> str:
        """Chinese name shown to people."""
        return STATE_LABELS[self]


STATE_LABELS: dict[ReportState, str] = {
    ReportState.SUBMITTED: "待研判",
    ReportState.ASSIGNED: "已交办整改",
    ReportState.DISMISSED: "不予交办",
    ReportState.CLOSED: "已办结",
    ReportState.VOIDED: "申诉成立（不予整改）",
}

S = ReportState
TRANSITIONS: dict[ReportState, frozenset[ReportState]] = {
    # 研判: assigned to a department as a work order, or not taken up
    S.SUBMITTED: frozenset({S.ASSIGNED, S.DISMISSED}),
    # the work order ends: closed after 整改 and 回访, or voided on appeal
    S.ASSIGNED: frozenset({S.CLOSED, S.VOIDED}),
    S.DISMISSED: frozenset(),
    S.CLOSED: frozenset(),
    S.VOIDED: frozenset(),
}


def check_transition(current: ReportState | str, target: ReportState | str) -> ReportState:
    """``target`` when the move is legal; a 409 with a Chinese reason otherwise."""
    cur, tgt = ReportState(current), ReportState(target)
    if tgt not in TRANSITIONS[cur]:
        raise Conflict(f"体验报告当前状态为“{cur.label}”，不能变更为“{tgt.label}”", code="illegal_report_transition",
                       field="state")
    return tgt


def in_term(start: dt.date, end: dt.date, day: dt.date) -> bool:
    """True when ``day`` falls within the term of service (both ends included)."""
    return start <= day <= end


def check_term(start: dt.date | None, end: dt.date | None) -> list[Problem]:
    """A term needs both dates, the end not before the start."""
    problems = []
    if start is None:
        problems.append(Problem("term_start", "term_start_required", "请填写聘期开始日期"))
    if end is None:
        problems.append(Problem("term_end", "term_end_required", "请填写聘期结束日期"))
    if start is not None and end is not None and end < start:
        problems.append(Problem("term_end", "term_end_before_start", "聘期结束日期不能早于开始日期"))
    return problems


def check_report(*, mode: str, hall_given: bool, title: str, content: str, visited_on: dt.date | None,
                 today: dt.date) -> list[Problem]:
    """What a report needs: a mode, a hall for 现场办 / 自助办, a title, what happened, a visit date not in future."""
    problems = []
    try:
        chosen: Mode | None = Mode(mode)
    except ValueError:
        chosen = None
        problems.append(Problem("mode", "mode_invalid", "请选择体验方式：现场办、网上办或自助办"))
    if chosen in NEEDS_HALL and not hall_given:
        problems.append(Problem("hall", "hall_required", "现场办和自助办须选择体验的大厅"))
    if not title.strip():
        problems.append(Problem("title", "title_required", "请填写报告标题"))
    elif len(title.strip()) > TITLE_MAX:
        problems.append(Problem("title", "title_too_long", f"报告标题不超过{TITLE_MAX}个字"))
    if not content.strip():
        problems.append(Problem("content", "content_required", "请填写体验经过和发现的问题"))
    elif len(content.strip()) > TEXT_MAX:
        problems.append(Problem("content", "content_too_long", f"体验经过不超过{TEXT_MAX}个字"))
    if visited_on is None:
        problems.append(Problem("visited_on", "visited_on_required", "请填写体验日期"))
    elif visited_on > today:
        problems.append(Problem("visited_on", "visited_on_future", "体验日期不能晚于今天"))
    return problems
