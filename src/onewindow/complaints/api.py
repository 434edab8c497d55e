"""有诉即办 API (/api/v1/complaints): filing at the window, the list and the department's inbox, the detail with its
timeline and ``allowed_actions``, one POST per step carrying the ``version`` the caller saw; and the public side
(/api/v1/public/complaints): filing from a phone (rate-limited per client) and tracking by code (nothing personal).

Thin edges: parse, call ``complaints.service`` (which authorises, validates everything first, locks the order,
checks the version and answers 409 on a stale one or an illegal move), shape the answer. The request's unit of
work commits; every response goes through MaskedJSONResponse, so personal numbers leave masked.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator

from onewindow.complaints import actions as complaint_actions
from onewindow.complaints import service
from onewindow.complaints.models import Complaint, ComplaintAssignment, ComplaintEvent
from onewindow.complaints.rules import colour
from onewindow.complaints.states import AssignmentRole, Category, Channel, ComplaintState, Verdict
from onewindow.core.errors import DomainError, NotFound
from onewindow.core.ratelimit import FailureLimiter, TooManyAttempts
from onewindow.deps import ClockDep, CurrentAuth, DbSession, LookupGuardDep
from onewindow.staff.models import User

router = APIRouter(tags=["complaints"])

ID_MAX = 2_147_483_647
ComplaintId = Annotated[int, Path(ge=1, le=ID_MAX, description="诉求工单 ID")]
TEXT = 4000
CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"description": "状态不允许（illegal_complaint_transition）或版本已过期（stale_version）"}}


class Body(BaseModel):
    """A request body: unknown fields refused, no NUL character in any text (422 on that field)."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("不能包含空字符")
        return value


class Versioned(Body):
    """A step on an order: the version the caller saw."""

    version: int = Field(ge=1, le=ID_MAX, description="调用方看到的工单版本号")


class ComplaintCreateIn(Body):
    """登记诉求：类别（consult/help/suggest/complain/report 或中文名称）、标题、内容和诉求人（或匿名）。"""

    category: str = Field("", max_length=20)
    subject: str = Field("", max_length=200)
    content: str = Field("", max_length=TEXT)
    urgent: bool = False
    item_code: str = Field("", max_length=64)
    hall_id: int | None = Field(None, ge=1, le=ID_MAX)
    complainant_name: str = Field("", max_length=100)
    complainant_phone: str = Field("", max_length=40)
    complainant_id_number: str = Field("", max_length=18)
    anonymous: bool = False

    def to_in(self, user_id: int | None = None) -> service.ComplaintIn:
        """The service's input."""
        return service.ComplaintIn(
            category=self.category, subject=self.subject, content=self.content, urgent=self.urgent,
            item_code=self.item_code, hall_id=self.hall_id, complainant_name=self.complainant_name,
            complainant_phone=self.complainant_phone, complainant_id_number=self.complainant_id_number,
            anonymous=self.anonymous, complainant_user_id=user_id)


class WindowCreateIn(ComplaintCreateIn):
    """窗口登记：咨询可当场答复（answer）。"""

    answer: str = Field("", max_length=TEXT)


class DispatchIn(Versioned):
    """派单 / 改派：主办部门和协办部门。"""

    lead_department_id: int | None = Field(None, ge=1, le=ID_MAX)
    assist_department_ids: list[int] = Field(default_factory=list, max_length=20)
    note: str = Field("", max_length=TEXT)


class NoteIn(Versioned):
    """意见。"""

    note: str = Field("", max_length=TEXT)


class ReasonIn(Versioned):
    """退单理由。"""

    reason: str = Field("", max_length=TEXT)


class ReplyIn(Versioned):
    """答复内容（诉求人可见）。"""

    reply: str = Field("", max_length=TEXT)


class CallbackIn(Versioned):
    """回访：satisfied / basic / unsatisfied；不满意默认重办，reopen 为假时办结（未解决），须写明原因。"""

    verdict: Verdict
    note: str = Field("", max_length=TEXT)
    reopen: bool = True


class MergeIn(Versioned):
    """合并到另一张工单（同一诉求人）。"""

    into_id: int = Field(ge=1, le=ID_MAX)
    note: str = Field("", max_length=TEXT)


class SuperviseIn(Versioned):
    """督办：期限和意见。"""

    due_on: dt.date | None = None
    note: str = Field("", max_length=TEXT)


class EventOut(BaseModel):
    """时间线上的一步。"""

    at: dt.datetime
    kind: str
    state_from: str | None
    state_to: str | None
    actor: str
    note: str
    data: dict[str, Any]

    @classmethod
    def of(cls, e: ComplaintEvent) -> EventOut:
        """From the model."""
        return cls(at=e.at, kind=e.kind, state_from=e.state_from, state_to=e.state_to, actor=e.actor, note=e.note,
                   data=dict(e.data or {}))


class AssignmentOut(BaseModel):
    """一次派单：部门、主办或协办、签收时限、签收或退单。"""

    department_id: int
    department: str
    role: str
    role_label: str
    assigned_at: dt.datetime
    sign_due_at: dt.datetime
    signed_at: dt.datetime | None
    returned_at: dt.datetime | None
    return_reason: str
    active: bool

    @classmethod
    def of(cls, a: ComplaintAssignment) -> AssignmentOut:
        """From the model."""
        return cls(department_id=a.department_id, department=a.department.name, role=a.role,
                   role_label=AssignmentRole(a.role).label, assigned_at=a.assigned_at, sign_due_at=a.sign_due_at,
                   signed_at=a.signed_at, returned_at=a.returned_at, return_reason=a.return_reason, active=a.active)


class ComplaintSummaryOut(BaseModel):
    """诉求工单（列表）。"""

    id: int
    number: str
    channel: str
    category: str
    category_label: str
    urgent: bool
    subject: str
    state: str
    state_label: str
    version: int
    lead_department_id: int | None
    lead_department: str | None
    accepted_at: dt.datetime
    due_on: dt.date
    due_at: dt.datetime
    overdue: bool
    urge_count: int
    return_count: int
    reopen_count: int

    @classmethod
    def of(cls, c: Complaint) -> ComplaintSummaryOut:
        """From the model."""
        return cls(id=c.id, number=c.number, channel=c.channel, category=c.category,
                   category_label=Category(c.category).label, urgent=c.urgent, subject=c.subject, state=c.state,
                   state_label=ComplaintState(c.state).label, version=c.version,
                   lead_department_id=c.lead_department_id,
                   lead_department=c.lead_department.name if c.lead_department else None,
                   accepted_at=c.accepted_at, due_on=c.due_on, due_at=c.due_at, overdue=c.overdue,
                   urge_count=c.urge_count, return_count=c.return_count, reopen_count=c.reopen_count)


class ComplaintDetailOut(ComplaintSummaryOut):
    """诉求工单（详情）：诉求人、内容、派单、答复、回访、时间线和当前可执行的操作。"""

    content: str
    item_code: str | None
    complainant_name: str
    complainant_phone: str
    anonymous: bool
    external_number: str | None
    reply: str
    replied_at: dt.datetime | None
    callback_verdict: str | None
    callback_note: str
    supervised_due_on: dt.date | None
    merged_into_id: int | None
    closed_on: dt.date | None
    solved: bool | None
    assignments: list[AssignmentOut]
    allowed_actions: list[str]
    timeline: list[EventOut]


class InboxRowOut(ComplaintSummaryOut):
    """部门待办：工单、本部门的角色和签收时限、时限颜色（red 超期 / orange 临期 / green 正常）。"""

    role: str
    sign_due_at: dt.datetime
    signed: bool
    colour: str


class FiledOut(BaseModel):
    """登记成功：编号和查询码（凭查询码查看进度和答复）。"""

    number: str
    tracking_code: str
    state: str
    due_on: dt.date


class TrackingOut(BaseModel):
    """凭查询码查看：状态、承办部门和答复，不含任何个人信息。"""

    number: str
    category: str
    subject: str
    state: str
    state_label: str
    accepted_on: dt.date
    due_on: dt.date
    department: str
    reply: str
    replied_at: dt.datetime | None
    closed_on: dt.date | None
    merged_into: str | None


def _detail(session: DbSession, user: User, c: Complaint) -> ComplaintDetailOut:
    return ComplaintDetailOut(
        **ComplaintSummaryOut.of(c).model_dump(), content=c.content, item_code=c.item_code,
        complainant_name=c.complainant_name, complainant_phone=c.complainant_phone, anonymous=c.anonymous,
        external_number=c.external_number, reply=c.reply, replied_at=c.replied_at,
        callback_verdict=c.callback_verdict, callback_note=c.callback_note, supervised_due_on=c.supervised_due_on,
        merged_into_id=c.merged_into_id, closed_on=c.closed_on, solved=c.solved,
        assignments=[AssignmentOut.of(a) for a in service.assignments(session, c)],
        allowed_actions=complaint_actions.allowed_actions(session, user, c),
        timeline=[EventOut.of(e) for e in service.timeline(session, c)])


# ----- staff ------------------------------------------------------------------------------------------------------


@router.get("/complaints", response_model=list[ComplaintSummaryOut],
            summary="诉求工单列表（部门看本部门参与的，中心和电子监察看全部）")
def list_complaints(
        auth: CurrentAuth, session: DbSession,
        state: Annotated[ComplaintState | None, Query(description="状态")] = None,
        category: Annotated[Category | None, Query(description="类别")] = None,
        overdue: Annotated[bool | None, Query(description="是否超期")] = None,
        department_id: Annotated[int | None, Query(ge=1, le=ID_MAX, description="主办部门 ID")] = None,
        channel: Annotated[Channel | None, Query(description="来源渠道")] = None,
        limit: Annotated[int, Query(ge=1, le=200, description="每页条数")] = 50,
        offset: Annotated[int, Query(ge=0, le=1_000_000, description="跳过条数")] = 0,
) -> list[ComplaintSummaryOut]:
    """Newest first, within the viewer's reach (403 for roles that may not see complaints)."""
    filters = service.Filters(states=(state,) if state else (), category=category, overdue=overdue,
                              department_id=department_id, channel=channel)
    return [ComplaintSummaryOut.of(c) for c in service.list_complaints(
        session, viewer=auth.user, filters=filters, limit=limit, offset=offset)]


@router.post("/complaints", response_model=ComplaintDetailOut, status_code=201,
             summary="有诉即办窗口登记诉求（窗口人员；咨询可当场答复）")
def file_at_window(body: WindowCreateIn, auth: CurrentAuth, session: DbSession, clock: ClockDep) -> ComplaintDetailOut:
    """受理 at the window; ``answer`` answers a 咨询 on the spot (已答复)."""
    c = service.file_complaint(session, clock=clock, user=auth.user, channel=Channel.WINDOW,
                               data=body.to_in(), answer=body.answer)
    return _detail(session, auth.user, c)


@router.get("/complaints/inbox", response_model=list[InboxRowOut], summary="本部门诉求待办（按时限排序）")
def inbox(auth: CurrentAuth, session: DbSession, clock: ClockDep) -> list[InboxRowOut]:
    """Orders waiting for the caller's department to sign or handle, the earliest limit first."""
    now = clock.now()
    return [InboxRowOut(**ComplaintSummaryOut.of(r.complaint).model_dump(), role=r.assignment.role,
                        sign_due_at=r.assignment.sign_due_at, signed=r.assignment.signed_at is not None,
                        colour=colour(r.complaint.due_at, now))
            for r in service.inbox(session, viewer=auth.user)]


@router.get("/complaints/{complaint_id}", response_model=ComplaintDetailOut, summary="诉求工单详情")
def get_complaint(complaint_id: ComplaintId, auth: CurrentAuth, session: DbSession) -> ComplaintDetailOut:
    """The order, its assignments, its timeline and the actions the caller may take now."""
    c = service.get_complaint(session, complaint_id)
    service.require_view(session, auth.user, c)
    return _detail(session, auth.user, c)


@router.post("/complaints/{complaint_id}/dispatch", response_model=ComplaintDetailOut, responses=CONFLICT,
             summary="派单 / 改派（中心）")
def dispatch(complaint_id: ComplaintId, body: DispatchIn, auth: CurrentAuth, session: DbSession,
             clock: ClockDep) -> ComplaintDetailOut:
    """Assign a lead department (主办) and optional 协办; the limit is not restarted."""
    c = service.dispatch(session, clock=clock, user=auth.user, complaint_id=complaint_id,
                         expected_version=body.version, lead_department_id=body.lead_department_id,
                         assist_department_ids=body.assist_department_ids, note=body.note)
    return _detail(session, auth.user, c)


@router.post("/complaints/{complaint_id}/decide", response_model=ComplaintDetailOut, responses=CONFLICT,
             summary="裁定退单争议（中心）")
def decide(complaint_id: ComplaintId, body: NoteIn, auth: CurrentAuth, session: DbSession,
           clock: ClockDep) -> ComplaintDetailOut:
    """The returning department handles the order after all."""
    c = service.decide_dispute(session, clock=clock, user=auth.user, complaint_id=complaint_id,
                               expected_version=body.version, note=body.note)
    return _detail(session, auth.user, c)


@router.post("/complaints/{complaint_id}/sign", response_model=ComplaintDetailOut, responses=CONFLICT,
             summary="签收（承办部门）")
def sign(complaint_id: ComplaintId, body: Versioned, auth: CurrentAuth, session: DbSession,
         clock: ClockDep) -> ComplaintDetailOut:
    """Sign for the caller department's assignment."""
    c = service.sign(session, clock=clock, user=auth.user, complaint_id=complaint_id, expected_version=body.version)
    return _detail(session, auth.user, c)


@router.post("/complaints/{complaint_id}/return", response_model=ComplaintDetailOut, responses=CONFLICT,
             summary="退单（承办部门，签收前）")
def return_order(complaint_id: ComplaintId, body: ReasonIn, auth: CurrentAuth, session: DbSession,
                 clock: ClockDep) -> ComplaintDetailOut:
    """Hand a wrongly assigned order back to the center, with a reason."""
    c = service.return_order(session, clock=clock, user=auth.user, complaint_id=complaint_id,
                             expected_version=body.version, reason=body.reason)
    return _detail(session, auth.user, c)


@router.post("/complaints/{complaint_id}/reply", response_model=ComplaintDetailOut, responses=CONFLICT,
             summary="答复（主办部门）")
def reply(complaint_id: ComplaintId, body: ReplyIn, auth: CurrentAuth, session: DbSession,
          clock: ClockDep) -> ComplaintDetailOut:
    """The answer the citizen reads."""
    c = service.reply(session, clock=clock, user=auth.user, complaint_id=complaint_id,
                      expected_version=body.version, text=body.reply)
    return _detail(session, auth.user, c)


@router.post("/complaints/{complaint_id}/callback", response_model=ComplaintDetailOut, responses=CONFLICT,
             summary="回访（中心、电子监察）")
def callback(complaint_id: ComplaintId, body: CallbackIn, auth: CurrentAuth, session: DbSession,
             clock: ClockDep) -> ComplaintDetailOut:
    """满意 / 基本满意 close; 不满意 reopens (重办) unless ``reopen`` is false."""
    c = service.record_callback(session, clock=clock, user=auth.user, complaint_id=complaint_id,
                                expected_version=body.version, verdict=body.verdict, note=body.note,
                                reopen=body.reopen)
    return _detail(session, auth.user, c)


@router.post("/complaints/{complaint_id}/merge", response_model=ComplaintDetailOut, responses=CONFLICT,
             summary="合并重复诉求（中心）")
def merge(complaint_id: ComplaintId, body: MergeIn, auth: CurrentAuth, session: DbSession,
          clock: ClockDep) -> ComplaintDetailOut:
    """Merge this duplicate into another open order of the same person."""
    c = service.merge(session, clock=clock, user=auth.user, complaint_id=complaint_id,
                      expected_version=body.version, into_id=body.into_id, note=body.note)
    return _detail(session, auth.user, c)


@router.post("/complaints/{complaint_id}/supervise", response_model=ComplaintDetailOut, responses=CONFLICT,
             summary="督办（电子监察）")
def supervise(complaint_id: ComplaintId, body: SuperviseIn, auth: CurrentAuth, session: DbSession,
              clock: ClockDep) -> ComplaintDetailOut:
    """Set a 督办 deadline with a note."""
    c = service.supervise(session, clock=clock, user=auth.user, complaint_id=complaint_id,
                          expected_version=body.version, due_on=body.due_on, note=body.note)
    return _detail(session, auth.user, c)


# ----- public -----------------------------------------------------------------------------------------------------


def filing_limiter(request: Request) -> FailureLimiter:
    """The per-process limiter of public filings (``ONEWINDOW_COMPLAINT_PUBLIC_PER_HOUR`` per client per hour)."""
    state = request.app.state
    limiter: FailureLimiter | None = getattr(state, "complaint_limiter", None)
    if limiter is None:
        limiter = FailureLimiter(limit=state.settings.complaint_public_per_hour, window=3600)
        state.complaint_limiter = limiter
    return limiter


def check_filing_rate(request: Request) -> tuple[FailureLimiter, str]:
    """429 when this client already filed its share this hour; the limiter and the key to count a filing."""
    limiter = filing_limiter(request)
    key = request.client.host if request.client else "unknown"
    try:
        limiter.check(key)
    except TooManyAttempts:
        raise DomainError(code="too_many_filings", status=429,
                          message="提交过于频繁，请一小时后再试；紧急事项请拨打 12345 热线") from None
    return limiter, key


@router.post("/public/complaints", response_model=FiledOut, status_code=201,
             summary="网上提交诉求（实名或匿名；每个来源每小时限量）")
def file_online(body: ComplaintCreateIn, request: Request, session: DbSession, clock: ClockDep) -> FiledOut:
    """受理 from the public page or its QR code; answers the number and the tracking code."""
    limiter, key = check_filing_rate(request)
    c = service.file_complaint(session, clock=clock, channel=Channel.ONLINE, data=body.to_in())
    limiter.failed(key)  # counts filings, not failures: a flood is refused for the rest of the hour
    return FiledOut(number=c.number, tracking_code=c.tracking_code, state=c.state, due_on=c.due_on)


@router.get("/public/complaints/{code}", response_model=TrackingOut, summary="凭查询码查看诉求进度和答复")
def track(code: Annotated[str, Path(max_length=20)], session: DbSession, guard: LookupGuardDep) -> TrackingOut:
    """State, department and reply; an unknown code counts as a failed lookup (429 after too many)."""
    guard.check()
    found = service.track(session, code)
    if found is None:
        guard.failed()
        raise NotFound("诉求工单", code)
    return TrackingOut(**asdict(found))
