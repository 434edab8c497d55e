"""Staff performance, the stored side: window shifts (written by the queue at 签到 / 签退), the month's scores, and
the reads the pages share, narrowed by the access policy.

The month is computed elsewhere (``onewindow.performance_month`` gathers the facts from the queue, ratings,
rectification and cases, which sit above staff) and stored here in one go: a recomputation replaces the month.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from onewindow.config import Settings
from onewindow.core import access, audit
from onewindow.core.access import Action, Record, Scope
from onewindow.core.clock import Clock
from onewindow.core.errors import NotFound, Problem, ValidationFailed
from onewindow.staff.models import PerformanceMonth, PerformanceScore, StaffShift, User
from onewindow.staff.performance import Award, PartKey, Rules, Score
from onewindow.staff.service import viewer_of


class SubjectKind(StrEnum):
    """What a score is of."""

    CLERK = "clerk"
    WINDOW = "window"
    DEPARTMENT = "department"

    @property
    def label(self) -> str:
        """Chinese name shown to people."""
        return {SubjectKind.CLERK: "窗口人员", SubjectKind.WINDOW: "窗口", SubjectKind.DEPARTMENT: "部门"}[self]


def rules_from(settings: Settings) -> Rules:
    """The scoring rules the settings give."""
    return Rules(weights={
        PartKey.VOLUME: settings.performance_weight_volume, PartKey.EFFICIENCY: settings.performance_weight_efficiency,
        PartKey.SATISFACTION: settings.performance_weight_satisfaction,
        PartKey.COMPLAINTS: settings.performance_weight_complaints,
        PartKey.OVERDUE: settings.performance_weight_overdue,
        PartKey.ATTENDANCE: settings.performance_weight_attendance},
        min_sample=settings.performance_min_sample, complaint_penalty=settings.performance_complaint_penalty,
        overdue_penalty=settings.performance_overdue_penalty, stars=settings.performance_stars)


# ----- months --------------------------------------------------------------------------------------------------


def month_start(day: dt.date) -> dt.date:
    """The first day of the day's month."""
    return day.replace(day=1)


def next_month(month: dt.date) -> dt.date:
    """The first day of the following month."""
    return (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def previous_month(month: dt.date) -> dt.date:
    """The first day of the preceding month."""
    return (month.replace(day=1) - dt.timedelta(days=1)).replace(day=1)


def parse_month(raw: str, field: str = "month") -> dt.date:
    """``2026-11`` as the first day of that month, or 422."""
    try:
        year, month = raw.strip().split("-")
        return dt.date(int(year), int(month), 1)
    except ValueError:
        raise ValidationFailed([Problem(field, "month_invalid", "月份格式应为“年-月”，如 2026-11")]) from None


# ----- shifts (考勤) ----------------------------------------------------------------------------------------------


def shift_started(session: Session, *, user_id: int, window_id: int, hall_id: int, at: dt.datetime) -> StaffShift:
    """A clerk signed into a window: close any shift they left open, open a new one."""
    session.execute(update(StaffShift).where(StaffShift.user_id == user_id, StaffShift.ended_at.is_(None))
                    .values(ended_at=at))
    shift = StaffShift(user_id=user_id, window_id=window_id, hall_id=hall_id, started_at=at)
    session.add(shift)
    session.flush()
    return shift


def shift_ended(session: Session, *, user_id: int, window_id: int, at: dt.datetime) -> int:
    """A clerk signed out of a window: close their open shift there (how many were closed)."""
    result = session.execute(update(StaffShift).where(StaffShift.user_id == user_id,
                                                      StaffShift.window_id == window_id,
                                                      StaffShift.ended_at.is_(None)).values(ended_at=at))
    return int(getattr(result, "rowcount", 0) or 0)


def shifts_between(session: Session, start: dt.datetime, end: dt.datetime) -> list[StaffShift]:
    """Every shift that overlaps [start, end)."""
    return list(session.scalars(select(StaffShift).where(
        StaffShift.started_at < end, or_(StaffShift.ended_at.is_(None), StaffShift.ended_at > start))
        .order_by(StaffShift.started_at)))


# ----- storing a month -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Subject:
    """Who a score is of, beyond its key: the clerk's user id and the department it counts for."""

    kind: SubjectKind
    id: int
    user_id: int | None = None
    department_id: int | None = None


def _row(month: dt.date, subject: Subject, score: Score[Any], award: Award | None, attendance: dict[str, Any] | None,
         now: dt.datetime) -> PerformanceScore:
    facts = score.facts.as_dict()
    if attendance is not None:
        facts["attendance"] = attendance
    return PerformanceScore(month=month, subject_kind=subject.kind.value, subject_id=subject.id,
                            subject_name=score.name[:100], user_id=subject.user_id,
                            department_id=subject.department_id, score=score.score, ranked=score.ranked,
                            rank=score.rank, award=award.value if award else None, note=score.note,
                            parts=[p.as_dict() for p in score.parts], facts=facts, computed_at=now)


def store_month(session: Session, *, clock: Clock, month: dt.date, rules: Rules,
                scored: Sequence[tuple[Subject, Score[Any], Award | None, dict[str, Any] | None]],
                actor: audit.Actor = audit.SYSTEM) -> PerformanceMonth:
    """Replace the month's scores with these (one transaction; audited)."""
    month = month_start(month)
    now = clock.now()
    session.execute(delete(PerformanceScore).where(PerformanceScore.month == month))
    record = session.scalars(select(PerformanceMonth).where(PerformanceMonth.month == month)).first()
    before = None if record is None else {"computed_at": record.computed_at, "clerks": record.clerks,
                                          "ranked": record.ranked}
    if record is None:
        record = PerformanceMonth(month=month, computed_at=now)
        session.add(record)
    clerks = [s for sub, s, _, _ in scored if sub.kind is SubjectKind.CLERK]
    record.computed_at = now
    record.rules = rules.as_dict()
    record.clerks = len(clerks)
    record.ranked = sum(1 for s in clerks if s.ranked)
    session.add_all([_row(month, sub, s, award, att, now) for sub, s, award, att in scored])
    session.flush()
    audit.record(session, clock=clock, actor=actor, action="staff.performance.computed",
                 entity_type="staff_performance_month", entity_id=month.isoformat(), before=before,
                 after={"computed_at": now, "clerks": record.clerks, "ranked": record.ranked,
                        "rules": record.rules})
    return record


def mark_reported(session: Session, *, clock: Clock, month: dt.date) -> None:
    """Note that the month's department reports went out."""
    session.execute(update(PerformanceMonth).where(PerformanceMonth.month == month_start(month))
                    .values(reported_at=clock.now()))


def get_month(session: Session, month: dt.date) -> PerformanceMonth | None:
    """The computed month, if it was computed."""
    return session.scalars(select(PerformanceMonth).where(PerformanceMonth.month == month_start(month))).first()


def computed_months(session: Session) -> list[dt.date]:
    """The months computed so far, newest first."""
    return list(session.scalars(select(PerformanceMonth.month).order_by(PerformanceMonth.month.desc()).limit(36)))


# ----- reads, narrowed by the access policy --------------------------------------------------------------------


def record_of(score: PerformanceScore) -> Record:
    """What the access policy needs to know of a score: the department it counts for and the clerk it is of."""
    return Record(department=score.department_id,
                  owner_user_ids=frozenset({score.user_id}) if score.user_id is not None else frozenset())


def require_view(user: User, score: PerformanceScore) -> None:
    """403 unless the user may see this score."""
    access.require(viewer_of(user), Action.PERFORMANCE_VIEW, record_of(score))


def get_score(session: Session, score_id: int) -> PerformanceScore:
    """One stored score, or 404."""
    score = session.get(PerformanceScore, score_id)
    if score is None:
        raise NotFound("绩效得分", str(score_id))
    return score


def list_scores(session: Session, *, viewer: User, month: dt.date, kind: SubjectKind,
                department_id: int | None = None, action: Action = Action.PERFORMANCE_VIEW) -> list[PerformanceScore]:
    """The month's scores of one kind the viewer may see: ranked first by rank, then the unranked by score."""
    v = viewer_of(viewer)
    scope = access.list_scope(v, action)
    if scope is None:
        access.require(v, action)  # raises the 403 with its reason
    query = select(PerformanceScore).where(PerformanceScore.month == month_start(month),
                                           PerformanceScore.subject_kind == kind.value)
    if scope is Scope.OWN:
        query = query.where(PerformanceScore.user_id == v.user_id)
    elif scope in (Scope.DEPARTMENT, Scope.INVOLVED):
        query = query.where(PerformanceScore.department_id == v.department_id)
    if department_id is not None:
        query = query.where(PerformanceScore.department_id == department_id)
    query = query.order_by(PerformanceScore.ranked.desc(), PerformanceScore.rank, PerformanceScore.score.desc(),
                           PerformanceScore.subject_name)
    return list(session.scalars(query.limit(2000)))


def awards_of(session: Session, month: dt.date) -> list[PerformanceScore]:
    """The month's 服务明星 and 流动红旗 (public within the center: honours are announced to everyone)."""
    return list(session.scalars(select(PerformanceScore).where(PerformanceScore.month == month_start(month),
                                                               PerformanceScore.award.is_not(None))
                                .order_by(PerformanceScore.award, PerformanceScore.rank)))


def require_export(user: User, department_id: int) -> None:
    """403 unless the user may export (and is sent) that department's monthly report."""
    access.require(viewer_of(user), Action.PERFORMANCE_EXPORT, Record(department=department_id))


def require_compute(user: User) -> None:
    """403 unless the user may recompute a month."""
    access.require(viewer_of(user), Action.PERFORMANCE_COMPUTE)


def report_recipients(session: Session, department_ids: Sequence[int]) -> list[User]:
    """The active accounts sent each department's monthly report (its heads, as the access policy says)."""
    users = session.scalars(select(User).where(User.department_id.in_(list(department_ids)),
                                               User.is_active.is_(True)).order_by(User.id))
    return [u for u in users if (role := access.parse_role(u.role)) and access.receives_department_report(role)]
