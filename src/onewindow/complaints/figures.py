"""有诉即办 figures per department and category, over the orders accepted (受理) in a date range.

Every figure counts the same cohort: the orders whose 受理 day lies in the range, the ones merged into another
order left out (they are counted apart as duplicates). One grouped query over the orders computes the counts,
outer-joined to one grouped subquery over the lead assignments (主办); a second grouped query counts the
assignments for 响应率; no query per order or per group.

Definitions (numerator / denominator; a figure with nothing to count shows "—"):

- **受理率** (taken in hand): orders signed for (签收) by a lead department, or answered on the spot at the window
  without being dispatched / orders. 12345 calls an order 受理 by the unit once the unit signs for it.
- **响应率** (signed for in time): lead assignments (派单 to a 主办) answered, signed for or returned, by their
  ``sign_due_at`` / lead assignments answered or past their ``sign_due_at``; counted for the department the
  assignment went to, so a department that let a wrong assignment lie is counted, not the one that got it next.
- **按时办结率**: closed (办结归档) orders whose last reply came by their limit (``due_at``) / closed orders.
- **答复率**: orders with a reply the citizen can read / orders.
- **满意率**: orders whose last callback (回访) was 满意 or 基本满意 / orders called back.
- **重办率**: orders reopened (重办) at least once / orders replied to.
- **办结未解决** ("closed but not solved"): closed orders marked ``solved = False``; **超期在办**: open orders past
  their limit now; **催办**: 催办 reminders sent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, literal, or_, select
from sqlalchemy.orm import Session

from onewindow.catalog.models import Department, Item, ItemVersion
from onewindow.complaints.insight import (
    DEFAULT_DAYS,
    DEFAULT_MIN_COUNT,
    DEFAULT_TOP,
    Insight,
    InsightRow,
    periods,
    recurring,
)
from onewindow.complaints.models import Complaint, ComplaintAssignment
from onewindow.complaints.states import OPEN, AssignmentRole, Category, ComplaintState
from onewindow.core import access
from onewindow.core.access import Action, Viewer
from onewindow.core.errors import Problem, ValidationFailed

S = ComplaintState
BY_OPTIONS: dict[str, str] = {"department": "按部门", "category": "按类别", "department_category": "按部门和类别"}
UNASSIGNED = "未派单（中心）"
MAX_RANGE_DAYS = 366 * 3


@dataclass(frozen=True)
class Share:
    """``numerator / denominator`` (None when the denominator is 0)."""

    numerator: int
    denominator: int

    @property
    def value(self) -> float | None:
        """The share, or None when nothing was counted."""
        return self.numerator / self.denominator if self.denominator else None

    @property
    def text(self) -> str:
        """``92.3%`` or ``—``."""
        return "—" if self.value is None else f"{self.value * 100:.1f}%"

    @property
    def parts(self) -> str:
        """``12/13``."""
        return f"{self.numerator}/{self.denominator}"


@dataclass(frozen=True)
class Counts:
    """The counts of one group (see the module's definitions)."""

    orders: int = 0
    merged: int = 0
    taken: int = 0
    response_due: int = 0
    responded: int = 0
    closed: int = 0
    closed_on_time: int = 0
    replied: int = 0
    called_back: int = 0
    satisfied: int = 0
    reopened: int = 0
    closed_unsolved: int = 0
    overdue_open: int = 0
    urges: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))


@dataclass(frozen=True)
class GroupFigures:
    """One department, category, or department and category: its counts and its rates."""

    department_id: int | None
    department: str
    category: str | None
    counts: Counts

    @property
    def label(self) -> str:
        """What the row is about, in Chinese."""
        parts = [p for p in (self.department, Category(self.category).label if self.category else "") if p]
        return " · ".join(parts) or "合计"

    @property
    def acceptance_rate(self) -> Share:
        """受理率."""
        return Share(self.counts.taken, self.counts.orders)

    @property
    def response_rate(self) -> Share:
        """响应率 (signed for in time)."""
        return Share(self.counts.responded, self.counts.response_due)

    @property
    def on_time_rate(self) -> Share:
        """按时办结率."""
        return Share(self.counts.closed_on_time, self.counts.closed)

    @property
    def reply_rate(self) -> Share:
        """答复率."""
        return Share(self.counts.replied, self.counts.orders)

    @property
    def satisfaction_rate(self) -> Share:
        """满意率."""
        return Share(self.counts.satisfied, self.counts.called_back)

    @property
    def reopen_rate(self) -> Share:
        """重办率."""
        return Share(self.counts.reopened, self.counts.replied)

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape (counts and each rate as a share and a text)."""
        rates = {name: {"numerator": share.numerator, "denominator": share.denominator, "value": share.value}
                 for name, share in (("acceptance_rate", self.acceptance_rate), ("response_rate", self.response_rate),
                                     ("on_time_rate", self.on_time_rate), ("reply_rate", self.reply_rate),
                                     ("satisfaction_rate", self.satisfaction_rate),
                                     ("reopen_rate", self.reopen_rate))}
        return {"department_id": self.department_id, "department": self.department, "category": self.category,
                "label": self.label, "counts": {f.name: getattr(self.counts, f.name) for f in fields(self.counts)},
                "rates": rates}


@dataclass(frozen=True)
class FiguresReport:
    """The groups of a range and their total."""

    date_from: dt.date
    date_to: dt.date
    by: str
    groups: list[GroupFigures]
    total: GroupFigures


def check_range(date_from: dt.date, date_to: dt.date) -> None:
    """422 unless ``date_from`` ≤ ``date_to`` and the range is at most three years."""
    if date_to < date_from:
        raise ValidationFailed([Problem("date_to", "range_reversed", "结束日期早于开始日期")])
    if (date_to - date_from).days > MAX_RANGE_DAYS:
        raise ValidationFailed([Problem("date_from", "range_too_long", "统计区间最长三年")])


def lead_assignment() -> ColumnElement[bool]:
    """In SQL: the assignment is the 主办 (lead) one (its part in the order, not anybody's role)."""
    return literal(AssignmentRole.LEAD.value) == ComplaintAssignment.role


def _n(condition: ColumnElement[bool]) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _lead_facts() -> Any:
    """One row per order that was ever dispatched to a lead department: ``signed`` when one signed for it."""
    a = ComplaintAssignment
    return (select(a.complaint_id.label("complaint_id"),
                   func.max(case((a.signed_at.is_not(None), 1), else_=0)).label("signed"))
            .where(lead_assignment()).group_by(a.complaint_id).subquery("lead_facts"))


def _responses(session: Session, *, by: str, date_from: dt.date, date_to: dt.date, now: dt.datetime,
               department: int | None) -> dict[tuple[Any, ...], tuple[int, int]]:
    """响应率 per group: (lead assignments answered in time, lead assignments answered or past their limit)."""
    a, c = ComplaintAssignment, Complaint
    choices: dict[str, list[Any]] = {"department": [a.department_id], "category": [c.category],
                                     "department_category": [a.department_id, c.category]}
    columns = choices[by]
    answered_at = func.coalesce(a.signed_at, a.returned_at)
    due = or_(answered_at.is_not(None), a.sign_due_at < now)
    query = (select(*columns, _n(and_(answered_at.is_not(None), answered_at <= a.sign_due_at)), _n(due))
             .select_from(a).join(c, c.id == a.complaint_id)
             .where(lead_assignment(), c.state != S.MERGED.value, c.accepted_on >= date_from,
                    c.accepted_on <= date_to).group_by(*columns))
    if department is not None:
        query = query.where(a.department_id == department)
    width = len(columns)
    return {tuple(r[:width]): (int(r[width]), int(r[width + 1])) for r in session.execute(query)}


def _group_columns(by: str) -> list[Any]:
    if by not in BY_OPTIONS:
        known = "、".join(f"{k}（{v}）" for k, v in BY_OPTIONS.items())
        raise ValidationFailed([Problem("by", "unknown_grouping", f"未知的统计维度：{by}，可选：{known}")])
    choices: dict[str, list[Any]] = {"department": [Complaint.lead_department_id], "category": [Complaint.category],
                                     "department_category": [Complaint.lead_department_id, Complaint.category]}
    return choices[by]


def figures(session: Session, *, viewer: Viewer, date_from: dt.date, date_to: dt.date, now: dt.datetime,
            by: str = "department") -> FiguresReport:
    """The counts and rates per group of the orders accepted from ``date_from`` to ``date_to`` (inclusive), within
    the viewer's reach (a department's head: the orders their department leads)."""
    access.require(viewer, Action.COMPLAINT_FIGURES)
    check_range(date_from, date_to)
    columns = _group_columns(by)
    c = Complaint
    lead = _lead_facts()
    live = c.state != S.MERGED.value
    closed = c.state == S.CLOSED.value
    on_the_spot = and_(c.replied_at.is_not(None), lead.c.complaint_id.is_(None))
    query = select(
        *columns,
        _n(live),
        _n(c.state == S.MERGED.value),
        _n(and_(live, or_(lead.c.signed == 1, on_the_spot))),
        _n(closed),
        _n(and_(closed, c.replied_at.is_not(None), c.replied_at <= c.due_at)),
        _n(and_(live, c.replied_at.is_not(None))),
        _n(and_(live, c.callback_verdict.is_not(None))),
        _n(and_(live, c.callback_verdict.in_(["satisfied", "basic"]))),
        _n(and_(live, c.replied_at.is_not(None), c.reopen_count > 0)),
        _n(and_(closed, c.solved.is_(False))),
        _n(and_(c.state.in_([s.value for s in OPEN]), c.due_at < now)),
        func.coalesce(func.sum(case((live, c.urge_count), else_=0)), 0),
    ).select_from(c).outerjoin(lead, lead.c.complaint_id == c.id) \
        .where(c.accepted_on >= date_from, c.accepted_on <= date_to).group_by(*columns)
    department = access.department_scoped(viewer, Action.COMPLAINT_FIGURES)
    if department is not None:
        query = query.where(c.lead_department_id == department)
    width = len(columns)
    found = {tuple(r[:width]): [int(v) for v in r[width:]] for r in session.execute(query)}
    responses = _responses(session, by=by, date_from=date_from, date_to=date_to, now=now, department=department)
    rows: list[tuple[tuple[Any, ...], Counts]] = []
    for key in sorted(set(found) | set(responses), key=repr):
        orders, merged, taken, *rest = found.get(key, [0] * 12)
        responded, response_due = responses.get(key, (0, 0))
        rows.append((key, Counts(orders, merged, taken, response_due, responded, *rest)))
    names = _department_names(session, {key[0] for key, _ in rows if by != "category" and key[0] is not None})
    groups: list[GroupFigures] = []
    for key, counts in rows:
        dept_id = key[0] if by != "category" else None
        category = key[-1] if by != "department" else None
        name = "" if by == "category" else (names.get(dept_id, f"#{dept_id}") if dept_id is not None else UNASSIGNED)
        groups.append(GroupFigures(dept_id, name, category, counts))
    order = {c.value: i for i, c in enumerate(Category)}
    groups.sort(key=lambda g: (g.department_id is None, g.department, order.get(g.category or "", -1)))
    total = GroupFigures(None, "", None, sum((g.counts for g in groups), Counts()))
    return FiguresReport(date_from, date_to, by, groups, total)


def _department_names(session: Session, ids: Iterable[int]) -> dict[int, str]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = session.execute(select(Department.id, Department.name).where(Department.id.in_(wanted)))
    return {int(i): str(name) for i, name in rows}


# ----- 未诉先办 ---------------------------------------------------------------------------------------------------

INSIGHT_LIMIT = 20_000  # orders read per period: the newest, so a flood of 12345 orders stays a quick page
INSIGHT_CONTENT = 120  # characters of the content read per order, beside the subject


@dataclass(frozen=True)
class RecurringReport:
    """未诉先办 over the viewer's reach: the analysis, the item names, and whether a period was cut at the limit."""

    insight: Insight
    item_names: dict[str, str]
    capped: bool


def recurring_subjects(session: Session, *, viewer: Viewer, today: dt.date, days: int = DEFAULT_DAYS,
                       min_count: int = DEFAULT_MIN_COUNT, top: int = DEFAULT_TOP) -> RecurringReport:
    """The subjects that keep coming back (:func:`onewindow.complaints.insight.recurring`) among the orders the
    viewer may see figures of, the last ``days`` days against the ``days`` before; merged duplicates left out."""
    access.require(viewer, Action.COMPLAINT_FIGURES)
    department = access.department_scoped(viewer, Action.COMPLAINT_FIGURES)
    cur_from, cur_to, prev_from, prev_to = periods(today, days)
    c = Complaint
    rows: list[InsightRow] = []
    capped = False
    for start, end in ((cur_from, cur_to), (prev_from, prev_to)):
        query = (select(c.accepted_on, c.item_code, Department.name, c.subject, func.substr(c.content, 1,
                                                                                              INSIGHT_CONTENT))
                 .outerjoin(Department, Department.id == c.lead_department_id)
                 .where(c.accepted_on >= start, c.accepted_on <= end, c.state != S.MERGED.value)
                 .order_by(c.accepted_at.desc()).limit(INSIGHT_LIMIT))
        if department is not None:
            query = query.where(c.lead_department_id == department)
        found = [InsightRow(on, item, dept, subject, content or "")
                 for on, item, dept, subject, content in session.execute(query)]
        capped = capped or len(found) == INSIGHT_LIMIT
        rows.extend(found)
    result = recurring(rows, today=today, days=days, min_count=min_count, top=top)
    codes = sorted({t.key for t in result.items})
    names: dict[str, str] = {}
    if codes:
        query_names = (select(Item.code, ItemVersion.name).join(ItemVersion, ItemVersion.id == Item.current_version_id)
                       .where(Item.code.in_(codes)))
        names = {str(code): str(name) for code, name in session.execute(query_names)}
    return RecurringReport(result, names, capped)
