"""Queue pages: kiosk (取号), ticket slip and "my ticket", hall display with live events, clerk workbench.

Thin edges (DESIGN rule 2): parse, authorise, call ``queue.service``, render. The page models below
only turn service read models into display text; every rule (routing, transitions, estimates) is
in the service and the pure modules.

Live updates: ``GET /halls/{hall}/events`` is a server-sent event stream fed by
:func:`onewindow.queue.events.subscribe` on the live bus of the database (across workers on PostgreSQL,
``core.livebus``). The service publishes after commit; each event is sent as
``event: queue`` with the event's JSON, and a comment line every ``HEARTBEAT_SECONDS`` keeps proxies
from closing an idle stream. The display and the workbench re-fetch their server-rendered fragment on
each event (``static/queue.js``), so the HTML lives in one place, and the display speaks the
``announcement`` of call events.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from markupsafe import Markup
from sqlalchemy.orm import Session

from onewindow.appointments import service as appointments_service
from onewindow.catalog import service as catalog_service
from onewindow.catalog.models import Hall
from onewindow.core.access import Action
from onewindow.core.audit import Actor
from onewindow.core.clock import CHINA_TZ, Clock, today
from onewindow.core.errors import DomainError, PermissionDenied
from onewindow.core.livebus import LocalBus
from onewindow.core.personal import mask_payload
from onewindow.core.qr import qr_png_data_uri, qr_svg
from onewindow.deps import (
    CSRF_COOKIE,
    Auth,
    ClockDep,
    CurrentAuth,
    DbSession,
    OptionalAuth,
    SettingsDep,
    check_csrf,
)
from onewindow.queue import events
from onewindow.queue import service as queue_service
from onewindow.queue.models import Ticket, Window, WindowStatus
from onewindow.queue.states import TicketClass, TicketState
from onewindow.ratings import links as rating_links
from onewindow.ratings import service as ratings_service
from onewindow.ratings import views as ratings_views
from onewindow.web import FormDep, form_text, render

router = APIRouter(include_in_schema=False)

HEARTBEAT_SECONDS = 15.0
STREAM_LIFETIME_SECONDS = 30 * 60.0  # then the browser reconnects (``retry``), so no stream lives forever
RETRY_MS = 3000
READY_SECONDS = 2.0  # a new stream waits at most this long for the worker's live-event listener
KIOSK_ACTOR = Actor(None, "kiosk")
ITEM_RESULTS = 12


# ----- page models (display text only) ----------------------------------------------------------------


@dataclass(frozen=True)
class CallLine:
    """A call as the display shows it."""

    number: str
    window: str
    at_text: str
    announcement: str


@dataclass(frozen=True)
class CategoryLine:
    """Waiting count of one category."""

    code: str
    name: str
    waiting: int


@dataclass(frozen=True)
class Board:
    """What the hall display (and the workbench side panel) shows."""

    now: CallLine | None
    recent: list[CallLine]
    waiting: list[CategoryLine]
    waiting_total: int
    average_wait: str


@dataclass(frozen=True)
class TicketPage:
    """A ticket as the applicant sees it: no personal data."""

    number: str
    hall_name: str
    category: str
    item_name: str
    state: str
    status_text: str
    is_waiting: bool
    is_called: bool
    ahead: int
    estimate: str
    issued_at_text: str
    updated_text: str
    url: str


@dataclass(frozen=True)
class CurrentTicket:
    """The ticket at the clerk's window (personal data stored whole; the template masks it)."""

    id: int
    number: str
    state: str
    state_text: str
    category_code: str
    category: str
    item_name: str
    class_text: str
    id_number: str
    phone: str
    call_count: int
    announcement: str


@dataclass(frozen=True)
class WorkbenchAction:
    """A button of the workbench."""

    name: str
    label: str
    style: str = ""


def _clock_text(at: dt.datetime) -> str:
    return at.astimezone(CHINA_TZ).strftime("%H:%M")


def minutes_text(minutes: float | None) -> str:
    """A duration for people: ``None`` → ``—``, 0.4 → ``不到1分钟``, 12.6 → ``约13分钟``."""
    if minutes is None:
        return "—"
    if minutes < 1:
        return "不到1分钟"
    return f"约{round(minutes)}分钟"


def _board(session: Session, clock: Clock, hall: Hall) -> Board:
    state = queue_service.hall_queue_state(session, clock=clock, hall_code=hall.code)
    figures = queue_service.queue_metrics(session, clock=clock, hall_code=hall.code).figures.hall
    now = clock.now()
    # A call "in the future" only exists in demo data loaded at a fixed clock; it must not sit on top.
    recent = [CallLine(c.number, f"{c.window_number}号窗口", _clock_text(c.at), c.announcement)
              for c in state.recent_calls if c.at <= now]
    return Board(now=recent[0] if recent else None, recent=recent,
                 waiting=_served_categories(session, hall, [CategoryLine(c.code, c.name, c.waiting)
                                                            for c in state.categories]),
                 waiting_total=state.waiting_total, average_wait=minutes_text(figures.avg_wait_min))


def _item_name(session: Session, code: str | None) -> str:
    if not code:
        return ""
    try:
        _item, version = catalog_service.get_item_version(session, code)
    except DomainError:
        return code
    return version.name


def _ticket_page(session: Session, clock: Clock, ticket: Ticket) -> TicketPage:
    status = queue_service.ticket_status(session, clock=clock, ticket=ticket)
    waiting = status.ahead is not None
    called = status.state == TicketState.CALLED.value
    if called and status.announcement:
        text = status.announcement
    elif waiting:
        text = "等候中" if status.ahead else "下一位就是您，请留意叫号"
    else:
        text = status.state_label
    return TicketPage(
        number=status.number, hall_name=status.hall_name, category=f"{status.category} {status.category_name}",
        item_name=_item_name(session, ticket.item_code), state=status.state, status_text=text, is_waiting=waiting,
        is_called=called, ahead=status.ahead or 0, estimate=minutes_text(status.estimated_wait_min),
        issued_at_text=status.issued_at.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M"),
        updated_text=clock.now().astimezone(CHINA_TZ).strftime("%H:%M:%S"), url=f"/tickets/{ticket.token}")


def _hall(session: Session, code: str) -> Hall:
    return catalog_service.hall_by_code(session, code)


# ----- kiosk -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KioskItem:
    """An item found by the kiosk search."""

    code: str
    name: str
    category_code: str
    category_name: str
    bookable: bool = False


def _kiosk_items(session: Session, hall: Hall, query: str) -> list[KioskItem]:
    if not query:
        return []
    rows, _total = catalog_service.list_items(
        session, catalog_service.ItemFilters(text=query, level=hall.level), limit=ITEM_RESULTS)
    served = _served_codes(session, hall)
    bookable = appointments_service.bookable_categories(session, hall_code=hall.code)
    return [KioskItem(item.code, version.name, version.hall_category.code, version.hall_category.name,
                      version.hall_category.code in bookable)
            for item, version in rows if not served or version.hall_category.code in served]


def _served_codes(session: Session, hall: Hall) -> set[str]:
    """Category codes some window of the hall serves (empty while the hall has no windows)."""
    return {code for window in queue_service.list_windows(session, hall.code) for code in window.skills}


def _served_categories(session: Session, hall: Hall, lines: list[CategoryLine]) -> list[CategoryLine]:
    """The categories some window of the hall serves (all of them while the hall has no windows)."""
    served = _served_codes(session, hall)
    return [line for line in lines if line.code in served] if served else lines


def _kiosk_page(request: Request, session: Session, clock: Clock, auth: Auth | None, hall: Hall, *,
                query: str = "", error: str = "", form: dict[str, str] | None = None,
                status_code: int = 200) -> Response:
    state = queue_service.hall_queue_state(session, clock=clock, hall_code=hall.code, recent=0)
    hours = _kiosk_hours(request, session, clock, hall)
    return render(request, "queue/kiosk.html", {
        "takes_tickets": hours.takes_tickets,
        "next_opening_text": hours.next_opening.astimezone(CHINA_TZ).strftime("%m月%d日 %H:%M")
        if hours.next_opening else "",
        "hall": hall, "query": query, "items": _kiosk_items(session, hall, query),
        "categories": _served_categories(session, hall, [CategoryLine(c.code, c.name, c.waiting)
                                                         for c in state.categories]),
        "kiosk_url": f"/halls/{hall.code}/kiosk", "take_url": f"/halls/{hall.code}/kiosk",
        "checkin_url": f"/halls/{hall.code}/kiosk/check-in", "error": error,
        "checkin_early_min": appointments_service.BookingRules.from_settings(
            request.app.state.settings).check_in_early_min, "form": form or {"id_number": "", "phone": ""},
    }, auth=auth, status_code=status_code, fragment="queue/_kiosk_items.html")


def _kiosk_hours(request: Request, session: Session, clock: Clock, hall: Hall) -> queue_service.KioskHours:
    return queue_service.kiosk_hours(session, clock=clock, hall=hall,
                                     default_hours=request.app.state.settings.attendance_default_hours)


@router.get("/halls/{hall_code}/kiosk", response_class=HTMLResponse)
def kiosk(request: Request, hall_code: str, session: DbSession, clock: ClockDep, auth: OptionalAuth,
          q: Annotated[str, Query(max_length=50)] = "") -> Response:
    """The self-service ticket machine: big buttons per category and an item search."""
    return _kiosk_page(request, session, clock, auth, _hall(session, hall_code), query=q.strip())


async def _kiosk_csrf(request: Request, auth: OptionalAuth) -> Auth | None:
    """Anonymous kiosk posts echo the pre-login CSRF cookie (signed-in callers were checked with their session)."""
    if auth is None:
        await check_csrf(request, request.cookies.get(CSRF_COOKIE))
    return auth


KioskAuth = Annotated[Auth | None, Depends(_kiosk_csrf)]


@router.post("/halls/{hall_code}/kiosk", response_class=HTMLResponse)
def take_ticket(request: Request, hall_code: str, session: DbSession, clock: ClockDep, auth: KioskAuth,
                settings: SettingsDep, form: FormDep) -> Response:
    """Issue a ticket by category or by item, then show the slip to print."""
    hall = _hall(session, hall_code)
    category, item_code = form_text(form, "category"), form_text(form, "item")
    id_number, phone = form_text(form, "id_number"), form_text(form, "phone")
    if not _kiosk_hours(request, session, clock, hall).takes_tickets:
        # 7×24: outside opening hours a ticket would never be called, so none is issued
        return _kiosk_page(request, session, clock, auth, hall, error="现在是非办公时间，暂停取号；可预约或自助办理",
                           status_code=409)
    try:
        if auth is None:  # the hall's kiosks are exempt by address (settings.ticket_kiosk_addresses)
            queue_service.spend_anonymous_ticket(
                session, clock=clock, client=request.client.host if request.client else None,
                per_hour=settings.ticket_anonymous_per_hour, exempt=settings.ticket_kiosk_addresses)
        if item_code:
            _item, version = catalog_service.get_item_version(session, item_code)
            category = version.hall_category.code
        ticket = queue_service.issue_ticket(
            session, clock=clock, actor=auth.actor if auth else KIOSK_ACTOR, hall_code=hall.code,
            category=category, id_number=id_number or None, phone=phone or None, item_code=item_code or None)
    except DomainError as exc:
        session.rollback()
        message = "；".join(p.message for p in exc.problems)
        return _kiosk_page(request, session, clock, auth, hall, error=message,
                           form={"id_number": id_number, "phone": phone}, status_code=exc.status)
    return RedirectResponse(f"/tickets/{ticket.token}/slip", status_code=303)


@router.post("/halls/{hall_code}/kiosk/check-in", response_class=HTMLResponse)
def check_in_appointment(request: Request, hall_code: str, session: DbSession, clock: ClockDep,
                         settings: SettingsDep, auth: KioskAuth, form: FormDep) -> Response:
    """预约签到: the ID number finds today's booking and gives an appointment-class ticket."""
    hall = _hall(session, hall_code)
    id_number = form_text(form, "checkin_id_number")
    try:
        _booking, ticket = appointments_service.check_in_by_id(
            session, clock=clock, actor=auth.actor if auth else KIOSK_ACTOR, hall_code=hall.code,
            id_number=id_number, rules=appointments_service.BookingRules.from_settings(settings))
    except DomainError as exc:
        session.rollback()
        message = "预约签到失败：" + "；".join(p.message for p in exc.problems)
        return _kiosk_page(request, session, clock, auth, hall, error=message, status_code=exc.status)
    return RedirectResponse(f"/tickets/{ticket.token}/slip", status_code=303)


# ----- ticket slip and my ticket ----------------------------------------------------------------------


@router.get("/tickets/{token}/slip", response_class=HTMLResponse)
def ticket_slip(request: Request, token: str, session: DbSession, clock: ClockDep, auth: OptionalAuth,
                settings: SettingsDep) -> Response:
    """The printable slip: number, category, people ahead and a QR code to follow the ticket."""
    ticket = queue_service.ticket_by_token(session, token)
    page = _ticket_page(session, clock, ticket)
    link = f"{settings.base_url.rstrip('/')}{page.url}"  # the public address: a phone scans it
    rate_link = ratings_service.ticket_link(settings, ticket)  # 好差评 after the visit (一次一评)
    return render(request, "queue/slip.html", {
        "ticket": page, "kiosk_url": f"/halls/{ticket.hall.code}/kiosk",
        "qr": Markup(qr_svg(link, scale=5, title=f"扫码查看{page.number}号排队进度")),  # noqa: S704  (segno's own SVG)
        "rate_qr": qr_png_data_uri(rate_link, scale=3),  # an <img>: the slip's one svg.qr stays the status link
    }, auth=auth)


@router.get("/tickets/{token}", response_class=HTMLResponse)
def my_ticket(request: Request, token: str, session: DbSession, clock: ClockDep, auth: OptionalAuth,
              settings: SettingsDep) -> Response:
    """The applicant's ticket: position and estimated wait, refreshed every 10 seconds; 评价 once served."""
    ticket = queue_service.ticket_by_token(session, token)
    rating = ratings_service.rating_for_ticket(session, ticket.id)
    open_ = rating is None and ratings_service.ticket_rating_open(ticket, clock=clock, settings=settings)
    rate_url = ratings_service.ticket_link(settings, ticket) if open_ else ""
    return render(request, "queue/ticket.html", {
        "ticket": _ticket_page(session, clock, ticket),
        "rating": ratings_views.rating_view(rating) if rating is not None else None, "rate_url": rate_url,
        "rate_qr": qr_png_data_uri(rate_url, scale=3) if rate_url else "",
    }, auth=auth, fragment="queue/_ticket_status.html")


# ----- hall display and its live events --------------------------------------------------------------


@router.get("/halls/{hall_code}/display", response_class=HTMLResponse)
def display(request: Request, hall_code: str, session: DbSession, clock: ClockDep) -> Response:
    """The hall's large screen: now calling, recent calls, waiting per category, average wait."""
    hall = _hall(session, hall_code)
    return render(request, "queue/display.html", {
        "hall": hall, "board": _board(session, clock, hall),
        "events_url": f"/halls/{hall.code}/events", "refresh_url": f"/halls/{hall.code}/display",
    }, fragment="queue/_display_board.html")


def sse_message(item: events.Event) -> str:
    """One server-sent event (``event: queue``) carrying the event's JSON on one data line."""
    # the event stream leaves through the same mask as pages and the API (core.personal)
    return f"event: queue\ndata: {json.dumps(mask_payload(item), ensure_ascii=False, separators=(',', ':'))}\n\n"


async def event_stream(hall_code: str, *, bus: LocalBus | None = None, heartbeat: float = HEARTBEAT_SECONDS,
                       lifetime: float = STREAM_LIFETIME_SECONDS,
                       monotonic: Callable[[], float] | None = None) -> AsyncGenerator[str]:
    """Server-sent events of a hall until the client goes away (the server cancels us) or ``lifetime`` ends.

    ``connected`` goes out once events of every worker reach the stream (PostgreSQL: the worker's listener
    listens; at most ``READY_SECONDS``, after which the stream serves this worker's events until it does)."""
    now = monotonic or time.monotonic
    deadline = now() + lifetime
    with events.subscribe(hall_code, bus=bus) as sub:
        await sub.ready(READY_SECONDS)
        yield f"retry: {RETRY_MS}\n: connected\n\n"
        while (left := deadline - now()) > 0:
            item = await sub.get(timeout=min(heartbeat, left))
            yield ": keep-alive\n\n" if item is None else sse_message(item)


@router.get("/halls/{hall_code}/events")
def hall_events(hall_code: str, session: DbSession) -> StreamingResponse:
    """Live events of a hall as ``text/event-stream`` (public: they carry numbers, never personal data)."""
    hall = _hall(session, hall_code)
    return StreamingResponse(event_stream(hall.code, bus=events.bus_of(session)), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


# ----- clerk workbench --------------------------------------------------------------------------------

NOTHING_TO_CALL = "当前没有可叫的号"
ACTIONS_IDLE = [WorkbenchAction("call-next", "叫下一位", "primary"), WorkbenchAction("pause", "暂停服务"),
                WorkbenchAction("sign-out", "签退", "danger")]
ACTIONS_CALLED = [WorkbenchAction("start", "开始办理", "primary"), WorkbenchAction("recall", "重呼"),
                  WorkbenchAction("miss", "过号", "danger")]
ACTIONS_SERVING = [WorkbenchAction("finish", "办结", "primary")]
ACTIONS_PAUSED = [WorkbenchAction("resume", "恢复服务", "primary"), WorkbenchAction("sign-out", "签退", "danger")]


def _staff(auth: Auth) -> Auth:
    auth.require(Action.QUEUE_OPERATE)
    return auth


def _workbench_hall(auth: Auth, window: Window | None) -> Hall | None:
    if window is not None:
        return window.hall
    return auth.user.hall


def _current(session: Session, window: Window) -> CurrentTicket | None:
    ticket = queue_service.current_ticket(session, window.id)
    if ticket is None:
        return None
    return CurrentTicket(
        id=ticket.id, number=ticket.number, state=ticket.state, state_text=TicketState(ticket.state).label,
        category_code=ticket.category.code, category=f"{ticket.category.code} {ticket.category.name}",
        item_name=_item_name(session, ticket.item_code),
        class_text=TicketClass(ticket.ticket_class).label, id_number=ticket.id_number or "",
        phone=ticket.phone or "", call_count=ticket.calls,
        announcement=queue_service.announcement(ticket.number, window.number))


def _actions(window: Window, current: CurrentTicket | None) -> list[WorkbenchAction]:
    if current is not None:
        return ACTIONS_SERVING if current.state == TicketState.SERVING.value else ACTIONS_CALLED
    return ACTIONS_PAUSED if window.status == WindowStatus.PAUSED.value else ACTIONS_IDLE


def _workbench_context(session: Session, clock: Clock, auth: Auth, *, message: str = "",
                       error: str = "") -> dict[str, Any]:
    window = queue_service.window_of_clerk(session, auth.user.id)
    hall = _workbench_hall(auth, window)
    context: dict[str, Any] = {"hall": hall, "message": message, "message_kind": "info" if message == NOTHING_TO_CALL
                               else "ok", "error": error, "window": None, "windows": [],
                               "ticket": None, "actions": [], "can_transfer": False, "transfer_categories": [],
                               "board": None, "events_url": None, "overview_url": None}
    if hall is not None:
        context.update(board=_board(session, clock, hall), events_url=f"/halls/{hall.code}/events",
                       overview_url="/workbench/overview")
    if window is None:
        if hall is not None:
            context["windows"] = [_window_choice(w) for w in queue_service.windows_for_clerk(
                session, user_id=auth.user.id, hall_id=hall.id)]
        return context
    current = _current(session, window)
    served = _served_codes(session, window.hall)
    context.update(
        window=_WindowLine(window.id, window.label, WindowStatus(window.status).label), ticket=current,
        can_intake=current is not None and current.state == TicketState.SERVING.value
        and auth.can(Action.CASE_INTAKE),
        actions=_actions(window, current), can_transfer=current is not None,
        transfer_categories=[c for c in catalog_service.list_hall_categories(session)
                             if (c.code in served or not served)
                             and (current is None or c.code != current.category_code)])
    return context


@dataclass(frozen=True)
class _WindowChoice:
    id: int
    label: str
    taken: bool


def _window_choice(window: Window) -> _WindowChoice:
    taken = window.status != WindowStatus.OFFLINE.value and window.clerk is not None
    label = f"{window.label}（{'、'.join(window.skills)}）"
    if taken and window.clerk is not None:
        label += f" · {window.clerk.display_name}已签到"
    return _WindowChoice(window.id, label, taken)


@dataclass(frozen=True)
class _WindowLine:
    id: int
    label: str
    status_text: str


def _panel(request: Request, session: Session, clock: Clock, auth: Auth, *, message: str = "",
           error: str = "", status_code: int = 200) -> Response:
    context = _workbench_context(session, clock, auth, message=message, error=error)
    if context["window"] is not None:
        # the address of this window's evaluator screen (评价器): keyed, so only the device set up for it rates
        settings = request.app.state.settings
        context["evaluator_url"] = rating_links.evaluator_path(settings.secret_key, context["window"].id)
    if request.headers.get("hx-request") == "true":
        status_code = 200  # HTMX swaps only 2xx answers; the error is in the panel
    return render(request, "queue/workbench.html", context, auth=auth, status_code=status_code,
                  fragment="queue/_workbench_panel.html")


@router.get("/workbench", response_class=HTMLResponse)
def workbench(request: Request, session: DbSession, clock: ClockDep, auth: CurrentAuth) -> Response:
    """The clerk's workbench: sign into a window, call, serve, finish, 过号, transfer, pause."""
    return _panel(request, session, clock, _staff(auth))


@router.get("/workbench/overview", response_class=HTMLResponse)
def workbench_overview(request: Request, session: DbSession, clock: ClockDep, auth: CurrentAuth) -> Response:
    """The hall's waiting counts beside the workbench (refreshed on live events)."""
    context = _workbench_context(session, clock, _staff(auth))
    if context["board"] is None:
        raise PermissionDenied("您未分配到大厅，请联系中心管理员", code="no_hall")
    return render(request, "queue/_workbench_queue.html", context, auth=auth)


def _ticket_id(form: Any, current: Ticket | None) -> int:
    """The ticket the clerk saw (posted), else the one at the window now."""
    raw = form_text(form, "ticket_id")
    if raw.isdigit():
        return int(raw)
    if current is None:
        raise DomainError(code="no_ticket", message="当前窗口没有正在呼叫或办理的号", status=409)
    return current.id


def _act(session: Session, clock: Clock, auth: Auth, action: str, form: Any) -> str:
    """Run one workbench action through the service; returns the message to show."""
    actor = auth.actor
    if action == "sign-in":
        raw = form_text(form, "window_id")
        window_id = int(raw) if raw.isdigit() else 0
        signed = queue_service.sign_in_window(session, clock=clock, actor=actor, window_id=window_id)
        return f"已在{signed.label}签到"
    window = queue_service.window_of_clerk(session, auth.user.id)
    if window is None:
        raise DomainError(code="not_signed_in", message="请先签到窗口", status=409)
    ids = {"window_id": window.id}
    if action == "call-next":
        called = queue_service.call_next(session, clock=clock, actor=actor, **ids)
        return queue_service.announcement(called.number, window.number) if called else NOTHING_TO_CALL
    if action == "call-specific":  # 特呼: a chosen ticket of today, out of policy order, with a reason
        ticket = queue_service.ticket_by_number(session, hall_code=window.hall.code, number=form_text(form, "number"),
                                                day=today(clock))
        called = queue_service.call_specific(session, clock=clock, actor=actor, ticket_id=ticket.id,
                                             reason=form_text(form, "reason"), **ids)
        return queue_service.announcement(called.number, window.number)
    if action in ("pause", "resume"):
        queue_service.pause_window(session, clock=clock, actor=actor, paused=action == "pause", **ids)
        return "已暂停服务" if action == "pause" else "已恢复服务"
    if action == "sign-out":
        queue_service.sign_out_window(session, clock=clock, actor=actor, **ids)
        return f"已从{window.label}签退"
    ticket_id = _ticket_id(form, queue_service.current_ticket(session, window.id))
    verbs: dict[str, Callable[..., Ticket]] = {
        "recall": queue_service.recall, "start": queue_service.start_serving, "finish": queue_service.finish,
        "miss": queue_service.mark_missed,
    }
    if action == "transfer":
        target = form_text(form, "category")
        ticket = queue_service.transfer(session, clock=clock, actor=actor, to_category=target, ticket_id=ticket_id,
                                        **ids)
        return f"{ticket.number}号已转到{ticket.category.code} {ticket.category.name}"
    ticket = verbs[action](session, clock=clock, actor=actor, ticket_id=ticket_id, **ids)
    done = {"recall": f"已重呼：{queue_service.announcement(ticket.number, window.number)}",
            "start": f"{ticket.number}号开始办理", "finish": f"{ticket.number}号已办结",
            "miss": f"{ticket.number}号已过号"}
    if action == "recall" and ticket.state == TicketState.MISSED.value:
        return f"{ticket.number}号多次呼叫未到，已过号"
    return done[action]


WORKBENCH_ACTIONS = ("sign-in", "sign-out", "call-next", "call-specific", "recall", "start", "finish", "miss",
                     "transfer", "pause", "resume")


@router.post("/workbench/{action}", response_class=HTMLResponse)
def workbench_action(request: Request, action: str, session: DbSession, clock: ClockDep, auth: CurrentAuth,
                     form: FormDep) -> Response:
    """One workbench button (CSRF checked with the session); answers the refreshed panel."""
    auth = _staff(auth)
    if action not in WORKBENCH_ACTIONS:
        raise DomainError(code="not_found", message="页面或资源不存在", status=404)
    try:
        message = _act(session, clock, auth, action, form)
    except DomainError as exc:  # (the CSRF check ran before, in the session dependency)
        session.rollback()
        return _panel(request, session, clock, auth, error="；".join(p.message for p in exc.problems),
                      status_code=exc.status)
    return _panel(request, session, clock, auth, message=message)
