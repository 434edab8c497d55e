"""Rectification (整改) API (/api/v1/rectifications): the list with filters, the detail with its timeline and
``allowed_actions``, and one POST per verb carrying the ``version`` the caller saw.

Thin edges: parse, call ``rectification.service`` (which authorises, locks the order, checks the version and
answers 409 on a stale one or an illegal move), shape the answer. Free text left empty is refused by the
service with a Chinese reason per field (422). The request's unit of work commits; responses mask phone numbers.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator

from onewindow.deps import ClockDep, CurrentAuth, DbSession
from onewindow.rectification import actions as order_actions
from onewindow.rectification import service
from onewindow.rectification.models import RectificationEvent, RectificationOrder
from onewindow.rectification.states import OrderState, SourceKind, Verdict
from onewindow.staff.models import User

router = APIRouter(tags=["rectification"])

ID_MAX = 2_147_483_647
OrderId = Annotated[int, Path(ge=1, le=ID_MAX, description="整改工单 ID")]
TEXT = 2000
CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"description": "状态不允许（illegal_order_transition）或版本已过期（stale_version）"}}


class Body(BaseModel):
    """A request body: unknown fields refused, no NUL character in any text (422 on that field)."""

    model_config = ConfigDict(extra="forbid")

    version: int = Field(ge=1, le=ID_MAX, description="调用方看到的工单版本号")

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("不能包含空字符")
        return value


class VerifyIn(Body):
    """核实：回访评价人的情况；``appeal`` 为真时暂不开始整改（随后申诉或开始整改）。"""

    note: str = Field("", max_length=TEXT)
    appeal: bool = False


class AppealIn(Body):
    """申诉：理由和证据均须填写。"""

    reason: str = Field("", max_length=TEXT)
    evidence: str = Field("", max_length=TEXT)


class AppealDecisionIn(Body):
    """申诉复核：成立则工单无效，不成立则开始整改。"""

    uphold: bool
    note: str = Field("", max_length=TEXT)


class MeasuresIn(Body):
    """整改措施及结果。"""

    measures: str = Field("", max_length=TEXT)


class ReasonIn(Body):
    """理由。"""

    reason: str = Field("", max_length=TEXT)


class UnrectifiableDecisionIn(Body):
    """无法整改审核：同意或退回整改。"""

    approve: bool
    note: str = Field("", max_length=TEXT)


class ExtensionIn(Body):
    """延期：工作日数和理由。"""

    days: int = Field(ge=0, le=365)
    reason: str = Field("", max_length=TEXT)


class CallbackIn(Body):
    """回访意见：satisfied / basic / unsatisfied。"""

    verdict: Verdict
    note: str = Field("", max_length=TEXT)


class NoteIn(Body):
    """结论或意见。"""

    note: str = Field("", max_length=TEXT)


class VersionIn(Body):
    """只带版本号的操作。"""


class EventOut(BaseModel):
    """时间线上的一步。"""

    at: dt.datetime
    kind: str
    from_state: str | None
    to_state: str | None
    actor_name: str
    note: str
    data: dict[str, Any]

    @classmethod
    def of(cls, e: RectificationEvent) -> EventOut:
        """From the model."""
        return cls(at=e.at, kind=e.kind, from_state=e.from_state, to_state=e.to_state, actor_name=e.actor_name,
                   note=e.note, data=dict(e.data or {}))


class OrderSummaryOut(BaseModel):
    """整改工单（列表）。"""

    id: int
    number: str
    source_kind: str
    source_label: str
    source_id: int
    department_id: int
    department: str
    title: str
    state: str
    state_label: str
    version: int
    opened_on: dt.date
    due_on: dt.date | None
    overdue: bool
    reopen_count: int

    @classmethod
    def of(cls, o: RectificationOrder) -> OrderSummaryOut:
        """From the model."""
        return cls(id=o.id, number=o.number, source_kind=o.source_kind,
                   source_label=SourceKind(o.source_kind).label, source_id=o.source_id,
                   department_id=o.department_id, department=o.department.name, title=o.title, state=o.state,
                   state_label=OrderState(o.state).label, version=o.version, opened_on=o.opened_on, due_on=o.due_on,
                   overdue=o.overdue, reopen_count=o.reopen_count)


class OrderDetailOut(OrderSummaryOut):
    """整改工单（详情）：来源、核实、申诉、整改、回访、时间线和当前可执行的操作。"""

    detail: str
    raiser_name: str
    raiser_phone: str
    identified: bool
    deadline_days: int
    extension_days: int
    verification: str
    appeal_reason: str
    appeal_evidence: str
    appeal_decision: str | None
    measures: str
    callback_verdict: str | None
    callback_note: str
    escalated: bool
    closed_on: dt.date | None
    outcome: str | None
    allowed_actions: list[str]
    timeline: list[EventOut]

    @classmethod
    def build(cls, o: RectificationOrder, *, allowed: list[str], events: list[RectificationEvent]) -> OrderDetailOut:
        """From the model, the allowed actions and the timeline."""
        return cls(**OrderSummaryOut.of(o).model_dump(), detail=o.detail, raiser_name=o.raiser_name,
                   raiser_phone=o.raiser_phone, identified=o.identified, deadline_days=o.deadline_days,
                   extension_days=o.extension_days, verification=o.verification, appeal_reason=o.appeal_reason,
                   appeal_evidence=o.appeal_evidence, appeal_decision=o.appeal_decision, measures=o.measures,
                   callback_verdict=o.callback_verdict, callback_note=o.callback_note, escalated=o.escalated,
                   closed_on=o.closed_on, outcome=o.outcome,
                   allowed_actions=allowed, timeline=[EventOut.of(e) for e in events])


def _detail(session: DbSession, user: User, order: RectificationOrder) -> OrderDetailOut:
    return OrderDetailOut.build(order, allowed=order_actions.allowed_actions(user, order),
                                events=service.timeline(session, order))


def _rules(request: Request) -> service.RectificationRules:
    return service.rules_from(request.app.state.settings)


@router.get("/rectifications", response_model=list[OrderSummaryOut],
            summary="整改工单列表（首席代表本部门，电子监察和中心管理员全部）")
def list_orders(
        auth: CurrentAuth, session: DbSession,
        state: Annotated[OrderState | None, Query(description="状态")] = None,
        department_id: Annotated[int | None, Query(ge=1, le=ID_MAX, description="责任部门 ID")] = None,
        overdue: Annotated[bool | None, Query(description="是否超期")] = None,
        source_kind: Annotated[SourceKind | None, Query(description="来源")] = None,
        limit: Annotated[int, Query(ge=1, le=200, description="每页条数")] = 50,
        offset: Annotated[int, Query(ge=0, le=1_000_000, description="跳过条数")] = 0,
) -> list[OrderSummaryOut]:
    """Newest first, within the viewer's reach (403 for roles that may not see orders)."""
    return [OrderSummaryOut.of(o) for o in service.list_orders(
        session, viewer=auth.user, state=state, department_id=department_id, overdue=overdue,
        source_kind=source_kind, limit=limit, offset=offset)]


@router.get("/rectifications/{order_id}", response_model=OrderDetailOut, summary="整改工单详情")
def get_order(order_id: OrderId, auth: CurrentAuth, session: DbSession) -> OrderDetailOut:
    """The order, its timeline and the actions the caller may take now."""
    order = service.get_order(session, order_id)
    service.require_view(auth.user, order)
    return _detail(session, auth.user, order)


@router.post("/rectifications/{order_id}/verify", response_model=OrderDetailOut, summary="核实（首席代表）",
             responses=CONFLICT)
def verify(order_id: OrderId, body: VerifyIn, auth: CurrentAuth, session: DbSession,
           clock: ClockDep) -> OrderDetailOut:
    """核实; rectification starts at once unless ``appeal`` is true."""
    order = service.verify(session, clock=clock, user=auth.user, order_id=order_id, expected_version=body.version,
                           note=body.note, appeal=body.appeal)
    return _detail(session, auth.user, order)


@router.post("/rectifications/{order_id}/appeal", response_model=OrderDetailOut, summary="申诉（首席代表）",
             responses=CONFLICT)
def appeal(order_id: OrderId, body: AppealIn, auth: CurrentAuth, session: DbSession,
           clock: ClockDep) -> OrderDetailOut:
    """申诉 with reason and evidence."""
    order = service.appeal(session, clock=clock, user=auth.user, order_id=order_id, expected_version=body.version,
                           reason=body.reason, evidence=body.evidence)
    return _detail(session, auth.user, order)


@router.post("/rectifications/{order_id}/start", response_model=OrderDetailOut, summary="不申诉，开始整改（首席代表）",
             responses=CONFLICT)
def start(order_id: OrderId, body: VersionIn, auth: CurrentAuth, session: DbSession,
          clock: ClockDep) -> OrderDetailOut:
    """Start rectifying a verified order."""
    order = service.start_rectifying(session, clock=clock, user=auth.user, order_id=order_id,
                                     expected_version=body.version)
    return _detail(session, auth.user, order)


@router.post("/rectifications/{order_id}/appeal-decision", response_model=OrderDetailOut,
             summary="申诉复核（电子监察）", responses=CONFLICT)
def appeal_decision(order_id: OrderId, body: AppealDecisionIn, auth: CurrentAuth, session: DbSession,
                    clock: ClockDep) -> OrderDetailOut:
    """Uphold (void) or reject (rectify) an appeal."""
    order = service.decide_appeal(session, clock=clock, user=auth.user, order_id=order_id,
                                  expected_version=body.version, uphold=body.uphold, note=body.note)
    return _detail(session, auth.user, order)


@router.post("/rectifications/{order_id}/complete", response_model=OrderDetailOut, summary="整改完成（首席代表）",
             responses=CONFLICT)
def complete(order_id: OrderId, body: MeasuresIn, auth: CurrentAuth, session: DbSession,
             clock: ClockDep) -> OrderDetailOut:
    """Report the measures taken."""
    order = service.complete(session, clock=clock, user=auth.user, order_id=order_id, expected_version=body.version,
                             measures=body.measures)
    return _detail(session, auth.user, order)


@router.post("/rectifications/{order_id}/unrectifiable", response_model=OrderDetailOut,
             summary="申请无法整改（首席代表）", responses=CONFLICT)
def unrectifiable(order_id: OrderId, body: ReasonIn, auth: CurrentAuth, session: DbSession,
                  clock: ClockDep) -> OrderDetailOut:
    """Ask the supervisor to accept 无法整改."""
    order = service.request_unrectifiable(session, clock=clock, user=auth.user, order_id=order_id,
                                          expected_version=body.version, reason=body.reason)
    return _detail(session, auth.user, order)


@router.post("/rectifications/{order_id}/unrectifiable-decision", response_model=OrderDetailOut,
             summary="无法整改审核（电子监察）", responses=CONFLICT)
def unrectifiable_decision(order_id: OrderId, body: UnrectifiableDecisionIn, auth: CurrentAuth, session: DbSession,
                           clock: ClockDep) -> OrderDetailOut:
    """Approve 无法整改, or send the order back to rectifying."""
    order = service.decide_unrectifiable(session, clock=clock, user=auth.user, order_id=order_id,
                                         expected_version=body.version, approve=body.approve, note=body.note)
    return _detail(session, auth.user, order)


@router.post("/rectifications/{order_id}/extension", response_model=OrderDetailOut, summary="延长整改期限（电子监察）",
             responses=CONFLICT)
def extension(order_id: OrderId, body: ExtensionIn, request: Request, auth: CurrentAuth, session: DbSession,
              clock: ClockDep) -> OrderDetailOut:
    """Move the due date by working days (1 … ``ONEWINDOW_RECTIFICATION_MAX_EXTENSION_DAYS``)."""
    order = service.extend(session, clock=clock, user=auth.user, order_id=order_id, expected_version=body.version,
                           days=body.days, reason=body.reason, rules=_rules(request))
    return _detail(session, auth.user, order)


@router.post("/rectifications/{order_id}/callback", response_model=OrderDetailOut,
             summary="回访（电子监察、中心管理员）", responses=CONFLICT)
def callback(order_id: OrderId, body: CallbackIn, auth: CurrentAuth, session: DbSession,
             clock: ClockDep) -> OrderDetailOut:
    """Record the raiser's verdict: closes, reopens once, or escalates."""
    order = service.record_callback(session, clock=clock, user=auth.user, order_id=order_id,
                                    expected_version=body.version, verdict=body.verdict, note=body.note)
    return _detail(session, auth.user, order)


@router.post("/rectifications/{order_id}/close", response_model=OrderDetailOut, summary="督办办结（电子监察）",
             responses=CONFLICT)
def close(order_id: OrderId, body: NoteIn, auth: CurrentAuth, session: DbSession,
          clock: ClockDep) -> OrderDetailOut:
    """Close an escalated order with the supervisor's decision."""
    order = service.close_escalated(session, clock=clock, user=auth.user, order_id=order_id,
                                    expected_version=body.version, note=body.note)
    return _detail(session, auth.user, order)
