"""体验员 API (/api/v1/supervision/experience): reports within reach (an experiencer's own, a department's assigned,
all for the center), one report with its work order's progress, 研判, and the figures.

Thin edges; ``supervision.experiencers`` authorises and validates. Reports with photos are filed on the page
(multipart form); the API reads and judges them.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from onewindow.deps import ClockDep, CurrentAuth, DbSession
from onewindow.rectification import service as rectification
from onewindow.rectification.states import SourceKind
from onewindow.supervision import experiencers as service
from onewindow.supervision.experiencer_models import ExperienceReport
from onewindow.supervision.experiencer_rules import ReportState

router = APIRouter(tags=["supervision"])

ID_MAX = 2_147_483_647
ReportId = Annotated[int, Path(ge=1, le=ID_MAX, description="体验报告 ID")]


class ReportOut(BaseModel):
    """一份体验报告及其办理结果。"""

    id: int
    experiencer: str
    mode: str
    hall: str | None
    item_code: str
    item_name: str
    visited_on: dt.date
    title: str
    content: str
    state: ReportState
    state_label: str
    department: str | None
    judgement: str
    order_number: str | None
    order_state: str | None
    measures: str
    photos: list[int]
    version: int


def _out(r: ExperienceReport, order: Any, photos: list[int]) -> ReportOut:
    return ReportOut(id=r.id, experiencer=r.experiencer.name, mode=r.mode, hall=r.hall.name if r.hall else None,
                     item_code=r.item_code, item_name=r.item_name, visited_on=r.visited_on, title=r.title,
                     content=r.content, state=ReportState(r.state), state_label=ReportState(r.state).label,
                     department=r.department.name if r.department else None, judgement=r.judgement,
                     order_number=order.number if order else None, order_state=order.state if order else None,
                     measures=order.measures if order else "", photos=photos, version=r.version)


def _many(session: Any, reports: list[ExperienceReport]) -> list[ReportOut]:
    ids = [r.id for r in reports]
    orders = rectification.orders_for(session, SourceKind.EXPERIENCE, ids)
    photos = service.photos_of(session, ids)
    return [_out(r, orders.get(r.id), [p.id for p in photos[r.id]]) for r in reports]


class JudgementIn(BaseModel):
    """研判：交办（须选责任部门）或不予交办（须说明理由）。"""

    model_config = ConfigDict(extra="forbid")

    version: int = Field(ge=1, le=ID_MAX)
    assign: bool
    department_id: int | None = Field(None, ge=1, le=ID_MAX)
    note: str = Field("", max_length=2000)


class FiguresOut(BaseModel):
    """按体验员或部门统计。"""

    id: int
    name: str
    filed: int
    assigned: int
    dismissed: int
    closed: int
    voided: int
    open: int


@router.get("/supervision/experience/reports", response_model=list[ReportOut], summary="体验报告列表")
def list_reports(auth: CurrentAuth, session: DbSession, state: ReportState | None = None,
                 limit: Annotated[int, Query(ge=1, le=500)] = 50,
                 offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> Any:
    """Reports within reach, newest first."""
    return _many(session, service.list_reports(session, viewer=auth.user, state=state, limit=limit, offset=offset))


@router.get("/supervision/experience/figures", summary="体验报告统计（按体验员、按部门）")
def figures(auth: CurrentAuth, session: DbSession) -> dict[str, list[FiguresOut]]:
    """Per experiencer and per department: filed, assigned, not taken up, closed, voided, open."""
    def shape(rows: list[service.ReportFigures]) -> list[FiguresOut]:
        return [FiguresOut(id=f.key, name=f.name, filed=f.filed, assigned=f.assigned, dismissed=f.dismissed,
                           closed=f.closed, voided=f.voided, open=f.open) for f in rows]

    return {"by_experiencer": shape(service.figures_by_experiencer(session, viewer=auth.user)),
            "by_department": shape(service.figures_by_department(session, viewer=auth.user))}


@router.get("/supervision/experience/reports/{report_id}", response_model=ReportOut, summary="体验报告详情")
def get_report(report_id: ReportId, auth: CurrentAuth, session: DbSession) -> Any:
    """One report and what became of it."""
    return _many(session, [service.get_report(session, viewer=auth.user, report_id=report_id)])[0]


@router.post("/supervision/experience/reports/{report_id}/judgement", response_model=ReportOut, summary="研判体验报告",
             responses={409: {"description": "状态不允许（illegal_report_transition）或版本已过期（stale_version）"}})
def judge(report_id: ReportId, body: JudgementIn, auth: CurrentAuth, session: DbSession, clock: ClockDep) -> Any:
    """Assign the report to a department as a rectification work order, or do not take it up."""
    report = service.judge(session, clock=clock, user=auth.user, report_id=report_id, expected_version=body.version,
                           assign=body.assign, note=body.note, department_id=body.department_id)
    return _many(session, [report])[0]
