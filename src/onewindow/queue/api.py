"""Queue API (/api/v1/queue): take a ticket, ticket status, hall state, window actions, metrics, settings.

Public: taking a ticket, a ticket's status (by its token, or by hall, day and number) and the hall's
live state; none of them shows personal data. Window actions need the clerk signed into that window
(403 otherwise); metrics need admin, supervisor or department head; settings need admin.
Live events go out after the commit (``events.publish_on_commit`` in the service).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from onewindow.config import Settings
from onewindow.core.access import Action
from onewindow.core.audit import Actor
from onewindow.core.clock import CHINA_TZ, Clock, today
from onewindow.core.http import MaskedJSONResponse
from onewindow.db import GroupCommit
from onewindow.deps import (
    ClockDep,
    CurrentAuth,
    DbSession,
    check_csrf_header,
    read_unit,
    resolve_caller,
)
from onewindow.queue import service
from onewindow.queue.models import Ticket, Window

router = APIRouter(prefix="/queue", tags=["queue"])

KIOSK_ACTOR = Actor(None, "kiosk")


class TicketIn(BaseModel):
    """Taking a ticket."""

    category: str = Field(min_length=1, max_length=4, description="大厅业务类别字母，如 A")
    ticket_class: str = Field("normal", description="票种：normal / appointment / vip / green 或中文名")
    channel: str = Field("kiosk", description="取号渠道：kiosk / api / window / appointment")
    id_number: str | None = Field(None, max_length=30, description="公民身份号码（可选）")
    phone: str | None = Field(None, max_length=20, description="手机号码（可选，用于短信提醒）")
    item_code: str | None = Field(None, max_length=60, description="办理事项编码（可选）")


class ReasonIn(BaseModel):
    """A reason for an exception or a cancellation."""

    reason: str = Field("", max_length=200)


class CallSpecificIn(BaseModel):
    """特呼: a chosen ticket with the reason."""

    ticket_id: int
    reason: str = Field(min_length=1, max_length=200)


class TransferIn(BaseModel):
    """Transfer target."""

    to_category: str = Field(min_length=1, max_length=4)


class CaseLinkIn(BaseModel):
    """Case number to link to a ticket."""

    case_number: str = Field(min_length=1, max_length=40)


class SettingsIn(BaseModel):
    """Hall queue settings (only the given fields change)."""

    routing_policy: str | None = Field(None, description="dedicated / pooled / smart / tidal")
    policy_params: dict[str, Any] | None = None
    max_calls: int | None = None
    transfer_keep_time: bool | None = None
    overtime_wait_min: int | None = None
    default_service_min: dict[str, float] | None = None


class WindowIn(BaseModel):
    """A hall window's set-up."""

    kind: str = Field("department", description="comprehensive / department / elderly / bundle / complaint / assisted")
    skills: list[str] = Field(description="可办业务类别，优先的在前")
    home: list[str] = Field(default_factory=list, description="本部门类别（专业速度；分类专窗只办这些）")
    flexible: bool = Field(False, description="潮汐窗口")
    note: str = Field("", max_length=100)


class QualificationsIn(BaseModel):
    """The hall categories a staff member may serve."""

    categories: list[str]


_SCALARS = (str, int, float, bool, type(None))
_FIELD_NAMES: dict[type, tuple[str, ...]] = {}  # per dataclass: its field names (``dataclasses.fields`` is slow)


def _plain(value: Any) -> Any:
    if isinstance(value, _SCALARS):  # most values of a hall's state: checked first
        return value
    if isinstance(value, list):
        return [_plain(v) for v in value]
    names = _FIELD_NAMES.get(type(value))
    if names is None and dataclasses.is_dataclass(value) and not isinstance(value, type):
        names = _FIELD_NAMES[type(value)] = tuple(f.name for f in dataclasses.fields(value))
    if names is not None:
        return {name: _plain(getattr(value, name)) for name in names}
    if isinstance(value, dt.datetime):
        return value.astimezone(CHINA_TZ).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _line(ticket: Ticket | None) -> dict[str, Any]:
    return {"ticket": _plain(service.ticket_line(ticket)) if ticket is not None else None}


def _window(session: DbSession, window: Window) -> dict[str, Any]:
    data: dict[str, Any] = _plain(service.window_state(session, window))
    return data


class TicketStatusOut(BaseModel):
    """What an applicant may see of a ticket (no personal data): position and a rough wait estimate."""

    hall: str
    hall_name: str
    day: dt.date
    number: str
    category: str
    category_name: str
    ticket_class: str
    ticket_class_label: str
    state: str
    state_label: str
    issued_at: dt.datetime
    ahead: int | None = Field(description="前面等候人数（已叫号或结束时为空）")
    estimated_wait_min: float | None = Field(description="预计等候分钟数")
    window_number: int | None
    announcement: str | None


class TicketIssuedOut(TicketStatusOut):
    """A ticket just taken: its status, and the token that reads it later."""

    token: str = Field(description="查询号票状态的令牌（凭令牌查询或取消）")
    status_url: str


def _cache(request: Request) -> service.QueueCache | None:
    """This worker's cache of what the public queue calls read and seldom changes (none when the setting is 0)."""
    cache: service.QueueCache = request.app.state.queue_cache
    return cache if cache.seconds > 0 else None


@router.post("/halls/{hall_code}/tickets", status_code=201, summary="取号（公开）", response_model=TicketIssuedOut)
async def take_ticket(request: Request, hall_code: str, body: TicketIn) -> Response:
    """Take a ticket: number, token for the status page, position and estimated wait (without signing in,
    at most ``ticket_anonymous_per_hour`` per client address; 429 beyond). Tickets taken at the same moment
    are written in one transaction (``db.GroupCommit``) and answered once it is committed (the place in the line
    read after the COMMIT)."""
    state = request.app.state
    clock: Clock = state.clock
    settings: Settings = state.settings
    client = request.client.host if request.client else None
    cache = _cache(request)

    def unit(session: Session) -> service.Taken:
        auth, csrf_token = resolve_caller(request, session, clock=clock, settings=settings)
        if auth is not None and auth.web_session is not None:
            check_csrf_header(request, csrf_token)
        if auth is None:
            service.spend_anonymous_ticket(session, clock=clock, client=client,
                                           per_hour=settings.ticket_anonymous_per_hour,
                                           exempt=settings.ticket_kiosk_addresses)
        return service.take(session, clock=clock, actor=auth.actor if auth is not None else KIOSK_ACTOR,
                            hall_code=hall_code, category=body.category, ticket_class=body.ticket_class,
                            channel=body.channel, id_number=body.id_number, phone=body.phone,
                            item_code=body.item_code, count_ahead=True, cache=cache)

    def answer(session: Session, taken: service.Taken) -> dict[str, Any]:
        # after the COMMIT: the place in the line as the batch wrote it (``count_ahead``), the estimate's inputs
        # from this worker's cache (``queue_cache_seconds``); what is not known is read, in one transaction for
        # the batch's answers (hold: each line counted once). The ticket is taken by then, so a database failure
        # here leaves its place in the line unknown, not an error that would have the caller take another ticket
        row = taken.row
        assert row is not None  # written by the batch's flush before the COMMIT  # noqa: S101
        try:
            status = service.status_of(session, clock=clock, row=row, hold=True, ahead=taken.ahead,
                                       cache=cache)
        except SQLAlchemyError:
            status = service.bare_status(row)
        plain: dict[str, Any] = _plain(status)
        return {"token": row.token, "status_url": f"/api/v1/queue/tickets/{row.token}"} | plain

    group: GroupCommit = state.group_commit
    # answered as it is (the documented model above): the busiest API call skips FastAPI's re-validation
    return MaskedJSONResponse(await group.submit(unit, answer, flush=service.write_taken, prepare=service.read_lines),
                              status_code=201)


@router.get("/tickets/{token}", summary="号票状态（公开，凭令牌）", response_model=TicketStatusOut)
async def ticket_by_token(request: Request, token: str) -> Response:
    """State, people ahead and estimated wait of a ticket."""
    clock: Clock = request.app.state.clock
    cache = _cache(request)

    def read(session: Session) -> Response:
        return MaskedJSONResponse(_plain(service.status_by_token(session, clock=clock, token=token,
                                                                 cache=cache)))

    return await read_unit(request, read)


@router.post("/tickets/{token}/cancel", summary="申请人取消号票（公开，凭令牌）")
def cancel_own_ticket(token: str, session: DbSession, clock: ClockDep) -> dict[str, Any]:
    """The applicant withdraws their ticket."""
    ticket = service.cancel_by_token(session, clock=clock, token=token)
    data: dict[str, Any] = _plain(service.ticket_status(session, clock=clock, ticket=ticket))
    return data


@router.get("/halls/{hall_code}/tickets/{number}", summary="号票状态（公开，凭大厅、号码和日期）",
            response_model=TicketStatusOut)
async def ticket_by_number(request: Request, hall_code: str, number: str,
                           day: Annotated[dt.date | None, Query(description="取号日期，默认今天")] = None) -> Response:
    """State, people ahead and estimated wait of a ticket by its number."""
    clock: Clock = request.app.state.clock
    cache = _cache(request)

    def read(session: Session) -> Response:
        return MaskedJSONResponse(_plain(service.status_by_number(session, clock=clock, hall_code=hall_code,
                                                                  number=number, day=day or today(clock),
                                                                  cache=cache)))

    return await read_unit(request, read)


class CurrentTicketOut(BaseModel):
    """The ticket at a window as the public sees it: its number and state only."""

    number: str
    state: str


class HallWindowOut(BaseModel):
    """A window on the public hall state."""

    id: int
    number: int
    label: str
    kind: str
    kind_label: str
    skills: list[str]
    home: list[str]
    flexible: bool
    status: str
    status_label: str
    clerk: str | None
    current: CurrentTicketOut | None


class HallStateOut(BaseModel):
    """The public hall state: waiting per category, windows, the latest calls of today."""

    hall: str
    hall_name: str
    day: dt.date
    now: dt.datetime
    routing_policy: str
    routing_policy_label: str
    categories: list[service.CategoryQueue]
    windows: list[HallWindowOut]
    recent_calls: list[service.RecentCall]
    waiting_total: int


def _hall_state_answer(state: service.HallQueueState) -> dict[str, Any]:
    """The public JSON of a hall state: the windows' current tickets reduced to number and state."""
    data: dict[str, Any] = _plain(state)
    for window in data["windows"]:
        if window["current"] is not None:
            window["current"] = {"number": window["current"]["number"], "state": window["current"]["state"]}
    return data


@router.get("/halls/{hall_code}/state", summary="大厅排队实况（公开）", response_model=HallStateOut)
async def hall_state(request: Request, hall_code: str) -> Response:
    """Waiting per category, windows and the latest calls (no personal data). One answer serves every caller of
    this worker for ``hall_state_cache_seconds`` (1 s by default): the hall's screens and the applicants' phones
    poll it, and a second's delay is nothing to them, while each fresh answer costs half a dozen queries (the
    live events, ``/api/v1/queue/halls/{hall}/events``, carry each change at once to those that need it)."""
    state = request.app.state
    clock: Clock = state.clock
    ttl: float = state.settings.hall_state_cache_seconds
    cache: dict[str, tuple[float, bytes]] = state.hall_state_cache
    cached = cache.get(hall_code)
    if cached is not None and time.monotonic() - cached[0] < ttl:
        return Response(cached[1], media_type="application/json")

    def read(session: Session) -> Response:
        began = time.monotonic()  # an answer is as old as the read it comes from
        answer = MaskedJSONResponse(_hall_state_answer(service.hall_queue_state(session, clock=clock,
                                                                               hall_code=hall_code)))
        kept = cache.get(hall_code)
        if ttl > 0 and (kept is None or kept[0] < began):  # a hall that exists: as many entries as halls
            cache[hall_code] = (began, bytes(answer.body))
        return answer

    return await read_unit(request, read)


@router.get("/halls/{hall_code}/waiting", summary="等候号票列表（窗口人员）")
def waiting(hall_code: str, session: DbSession, clock: ClockDep, auth: CurrentAuth) -> list[dict[str, Any]]:
    """Today's queued tickets in line order, personal data masked."""
    auth.require(Action.QUEUE_OPERATE)
    return [_plain(t) for t in service.waiting_tickets(session, clock=clock, hall_code=hall_code)]


@router.get("/halls/{hall_code}/windows", summary="大厅窗口列表（工作人员）")
def windows(hall_code: str, session: DbSession, auth: CurrentAuth) -> list[dict[str, Any]]:
    """The hall's windows with status, clerk and current ticket."""
    auth.require(Action.QUEUE_OPERATE)
    return [_window(session, w) for w in service.list_windows(session, hall_code)]


@router.post("/windows/{window_id}/sign-in", summary="窗口签到")
def sign_in(window_id: int, session: DbSession, clock: ClockDep, auth: CurrentAuth) -> dict[str, Any]:
    """Take the window (qualifications checked)."""
    auth.require(Action.QUEUE_OPERATE)
    return _window(session, service.sign_in_window(session, clock=clock, actor=auth.actor, window_id=window_id))


@router.post("/windows/{window_id}/sign-out", summary="窗口签退")
def sign_out(window_id: int, session: DbSession, clock: ClockDep, auth: CurrentAuth) -> dict[str, Any]:
    """Leave the window."""
    auth.require(Action.QUEUE_OPERATE)
    return _window(session, service.sign_out_window(session, clock=clock, actor=auth.actor, window_id=window_id))


@router.post("/windows/{window_id}/pause", summary="暂停服务")
def pause(window_id: int, session: DbSession, clock: ClockDep, auth: CurrentAuth) -> dict[str, Any]:
    """Pause the window."""
    auth.require(Action.QUEUE_OPERATE)
    return _window(session, service.pause_window(session, clock=clock, actor=auth.actor, window_id=window_id))


@router.post("/windows/{window_id}/resume", summary="恢复服务")
def resume(window_id: int, session: DbSession, clock: ClockDep, auth: CurrentAuth) -> dict[str, Any]:
    """Resume a paused window."""
    auth.require(Action.QUEUE_OPERATE)
    return _window(session, service.pause_window(session, clock=clock, actor=auth.actor, window_id=window_id,
                                                 paused=False))


@router.post("/windows/{window_id}/call-next", summary="叫号（按大厅分派策略）")
def call_next(window_id: int, session: DbSession, clock: ClockDep, auth: CurrentAuth) -> dict[str, Any]:
    """Call the ticket the hall's policy picks; ``ticket`` is null when no one waits for this window."""
    auth.require(Action.QUEUE_OPERATE)
    ticket = service.call_next(session, clock=clock, actor=auth.actor, window_id=window_id)
    data = _line(ticket)
    if ticket is not None and ticket.window is not None:
        data["announcement"] = service.announcement(ticket.number, ticket.window.number)
    return data


@router.post("/windows/{window_id}/call-specific", summary="指定呼叫（特呼，须填原因）")
def call_specific(window_id: int, body: CallSpecificIn, session: DbSession, clock: ClockDep,
                  auth: CurrentAuth) -> dict[str, Any]:
    """Call a chosen ticket out of order; the reason is logged."""
    auth.require(Action.QUEUE_OPERATE)
    ticket = service.call_specific(session, clock=clock, actor=auth.actor, window_id=window_id,
                                   ticket_id=body.ticket_id, reason=body.reason)
    return _line(ticket) | {"announcement": service.announcement(ticket.number, ticket.window.number)
                            if ticket.window else None}


def _ticket_action(name: str, summary: str) -> None:
    verb = getattr(service, name)

    def handler(window_id: int, ticket_id: int, session: DbSession, clock: ClockDep,
                auth: CurrentAuth) -> dict[str, Any]:
        auth.require(Action.QUEUE_OPERATE)
        return _line(verb(session, clock=clock, actor=auth.actor, window_id=window_id, ticket_id=ticket_id))

    handler.__doc__ = summary
    handler.__name__ = f"ticket_{name}"
    path = name.replace("_", "-")
    router.add_api_route(f"/windows/{{window_id}}/tickets/{{ticket_id}}/{path}", handler, methods=["POST"],
                         summary=summary)


_ticket_action("recall", "重呼（超过次数即过号）")
_ticket_action("start_serving", "开始办理")
_ticket_action("finish", "办结")
_ticket_action("mark_missed", "过号")
_ticket_action("requeue", "过号重排（仅一次）")


@router.post("/windows/{window_id}/tickets/{ticket_id}/transfer", summary="转移到其他业务类别")
def transfer(window_id: int, ticket_id: int, body: TransferIn, session: DbSession, clock: ClockDep,
             auth: CurrentAuth) -> dict[str, Any]:
    """Send the ticket to another category's queue (place per hall setting)."""
    auth.require(Action.QUEUE_OPERATE)
    return _line(service.transfer(session, clock=clock, actor=auth.actor, window_id=window_id, ticket_id=ticket_id,
                                  to_category=body.to_category))


@router.post("/windows/{window_id}/tickets/{ticket_id}/cancel", summary="窗口取消号票")
def cancel(window_id: int, ticket_id: int, body: ReasonIn, session: DbSession, clock: ClockDep,
           auth: CurrentAuth) -> dict[str, Any]:
    """Withdraw a ticket at the window."""
    auth.require(Action.QUEUE_OPERATE)
    return _line(service.cancel(session, clock=clock, actor=auth.actor, window_id=window_id, ticket_id=ticket_id,
                                reason=body.reason))


@router.post("/windows/{window_id}/tickets/{ticket_id}/cases", status_code=201, summary="号票关联办件")
def link_case(window_id: int, ticket_id: int, body: CaseLinkIn, session: DbSession, clock: ClockDep,
              auth: CurrentAuth) -> dict[str, Any]:
    """Record the case handled under this ticket."""
    auth.require(Action.QUEUE_OPERATE)
    service.link_case(session, clock=clock, actor=auth.actor, window_id=window_id, ticket_id=ticket_id,
                      case_number=body.case_number)
    return {"ticket_id": ticket_id, "cases": service.cases_of_ticket(session, ticket_id)}


@router.get("/halls/{hall_code}/metrics", summary="排队指标（管理员、监察、首席代表）")
def hall_metrics(hall_code: str, session: DbSession, clock: ClockDep, auth: CurrentAuth,
                 start_date: Annotated[dt.date | None, Query(description="开始日期，默认今天")] = None,
                 end_date: Annotated[dt.date | None, Query(description="结束日期，默认同开始日期")] = None,
                 ) -> dict[str, Any]:
    """Waiting now, average and p90 wait, service time, 过号, calls, over-time waits; per category, window, clerk."""
    auth.require(Action.QUEUE_METRICS)
    return service.queue_metrics(session, clock=clock, hall_code=hall_code, start_date=start_date,
                                 end_date=end_date).as_dict()


@router.get("/halls/{hall_code}/settings", summary="大厅排队设置（管理员）")
def get_settings(hall_code: str, session: DbSession, auth: CurrentAuth) -> dict[str, Any]:
    """The hall's routing policy and queue rules."""
    auth.require(Action.QUEUE_SETTINGS)
    return service.settings_snapshot(service.settings_for_hall(session, hall_code))


@router.put("/halls/{hall_code}/settings", summary="修改大厅排队设置（管理员）")
def put_settings(hall_code: str, body: SettingsIn, session: DbSession, clock: ClockDep,
                 auth: CurrentAuth) -> dict[str, Any]:
    """Change the routing policy and queue rules (only given fields)."""
    auth.require(Action.QUEUE_SETTINGS)
    row = service.update_settings(session, clock=clock, actor=auth.actor, hall_code=hall_code,
                                  **body.model_dump(exclude_unset=True))
    return service.settings_snapshot(row)


@router.put("/halls/{hall_code}/windows/{number}", summary="新建或修改窗口（管理员）")
def put_window(hall_code: str, number: int, body: WindowIn, session: DbSession, clock: ClockDep,
               auth: CurrentAuth) -> dict[str, Any]:
    """Create or change a window: type, skills, home categories, tidal flag."""
    auth.require(Action.QUEUE_SETTINGS)
    window = service.save_window(session, clock=clock, actor=auth.actor, hall_code=hall_code, number=number,
                                 kind=body.kind, skills=body.skills, home=body.home, flexible=body.flexible,
                                 note=body.note)
    return _window(session, window)


@router.put("/qualifications/{username}", summary="设置工作人员业务资质（管理员）")
def put_qualifications(username: str, body: QualificationsIn, session: DbSession, clock: ClockDep,
                       auth: CurrentAuth) -> dict[str, Any]:
    """Replace the hall categories a staff member may serve (一岗多能)."""
    auth.require(Action.QUEUE_SETTINGS)
    cats = service.set_qualifications(session, clock=clock, actor=auth.actor, username=username,
                                      categories=body.categories)
    return {"username": username, "categories": cats}
