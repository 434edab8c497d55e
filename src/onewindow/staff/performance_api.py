"""Performance API (绩效考核): a month's scores of clerks, windows or departments, each with its parts explained,
within the caller's reach (the center: everyone; a department head: their department; a clerk: their own)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from onewindow.core.clock import today
from onewindow.core.errors import Problem, ValidationFailed
from onewindow.deps import ClockDep, CurrentAuth, DbSession
from onewindow.staff import performance_service as service
from onewindow.staff.models import PerformanceScore
from onewindow.staff.performance_service import SubjectKind

router = APIRouter(tags=["performance"])


class ScoreOut(BaseModel):
    """One stored score."""

    id: int
    month: dt.date
    kind: str
    subject_id: int
    name: str
    department_id: int | None
    score: float
    ranked: bool
    rank: int | None
    award: str | None
    note: str
    parts: list[dict[str, Any]]
    facts: dict[str, Any]


def _out(s: PerformanceScore) -> ScoreOut:
    return ScoreOut(id=s.id, month=s.month, kind=s.subject_kind, subject_id=s.subject_id, name=s.subject_name,
                    department_id=s.department_id, score=s.score, ranked=s.ranked, rank=s.rank, award=s.award,
                    note=s.note, parts=s.parts, facts=s.facts)


@router.get("/performance", response_model=list[ScoreOut], summary="月度绩效得分（含得分构成）")
def list_scores(auth: CurrentAuth, session: DbSession, clock: ClockDep,
                month: Annotated[str, Query(max_length=7, description="YYYY-MM，默认上月")] = "",
                kind: Annotated[str, Query(max_length=12, description="clerk | window | department")] = "clerk",
                ) -> list[ScoreOut]:
    """The month's scores of one kind within the caller's reach, ranked first."""
    try:
        subject = SubjectKind(kind)
    except ValueError:
        raise ValidationFailed([Problem("kind", "kind_invalid", "排名对象应为窗口人员、窗口或部门")]) from None
    chosen = service.parse_month(month) if month else service.previous_month(today(clock))
    return [_out(s) for s in service.list_scores(session, viewer=auth.user, month=chosen, kind=subject)]


@router.get("/performance/{score_id}", response_model=ScoreOut, summary="一项绩效得分及其构成")
def get_score(score_id: int, auth: CurrentAuth, session: DbSession) -> ScoreOut:
    """One score, if the caller may see it (403 otherwise)."""
    score = service.get_score(session, score_id)
    service.require_view(auth.user, score)
    return _out(score)
