"""Staff pages of rectification (差评整改): the list with state and overdue filters and the count per state, the
order page (source, raiser, deadline, timeline, one form per action the user may take now) and the Excel
整改台账.

Thin edges: parse the form, call ``rectification.service``, render or redirect (303). A refused write (422,
409) runs in a savepoint, so it leaves nothing behind while the page is re-rendered with the reasons. Which
forms the page offers comes from :data:`onewindow.rectification.actions.ACTIONS`; the service checks everything
again when a form is posted.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from onewindow.core.access import Field
from onewindow.core.clock import CHINA_TZ, Clock
from onewindow.core.errors import Conflict, DomainError, Problem, ValidationFailed
from onewindow.core.personal import Personal, mask_text
from onewindow.deps import Auth, ClockDep, CurrentAuth, DbSession
from onewindow.rectification import actions as order_actions
from onewindow.rectification import service
from onewindow.rectification.models import RectificationOrder
from onewindow.rectification.states import OrderState, SourceKind, Verdict
from onewindow.staff.models import User
from onewindow.web import FormDep, form_text, render

router = APIRouter(include_in_schema=False)

LEDGER_LIMIT = 10_000
LEDGER_COLUMNS = ("工单编号", "来源", "部门", "标题", "状态", "受理日期", "整改期限", "是否超期", "核实情况",
                  "整改措施", "回访意见", "办结日期")
NOTICES = {
    "verify": "核实情况已记录。", "appeal": "申诉已提交，等待电子监察复核。", "start": "已开始整改。",
    "complete": "整改完成，等待回访。", "unrectifiable": "已申请无法整改，等待电子监察审核。",
    "appeal-decision": "申诉复核意见已记录。", "unrectifiable-decision": "无法整改审核意见已记录。",
    "extend": "整改期限已延长。", "callback": "回访意见已记录。", "close": "工单已办结。",
}
EVENT_LABELS = {
    "opened": "生成工单", "verified": "核实", "rectifying": "开始整改", "appealed": "申诉",
    "appeal_upheld": "申诉成立（工单无效）", "appeal_rejected": "申诉驳回（开始整改）", "rectified": "整改完成",
    "unrectifiable_requested": "申请无法整改", "unrectifiable_approved": "同意无法整改",
    "unrectifiable_rejected": "退回整改", "extended": "延长整改期限", "closed": "回访后办结",
    "reopened": "回访不满意，重新整改",
    "escalated": "回访不满意，升级督办", "closed_by_supervisor": "督办办结", "overdue": "整改超期",
    "overdue_cleared": "取消超期标记",
}
VERDICT_LABELS = {v.value: v.label for v in Verdict}


def state_label(state: str) -> str:
    """The Chinese name of an order state."""
    try:
        return OrderState(state).label
    except ValueError:
        return state


def source_label(kind: str) -> str:
    """The Chinese name of a source kind."""
    try:
        return SourceKind(kind).label
    except ValueError:
        return kind


def fmt_time(at: dt.datetime | None) -> str:
    """A stored instant as China time, to the minute."""
    return at.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M") if at else ""


GLOBALS: dict[str, Any] = {"state_label": state_label, "source_label": source_label, "fmt_time": fmt_time,
                           "EVENT_LABELS": EVENT_LABELS, "VERDICT_LABELS": VERDICT_LABELS,
                           "STATES": list(OrderState), "section": "rectifications"}


def _page(request: Request, template: str, context: dict[str, Any], auth: Auth, *, status_code: int = 200) -> Response:
    return render(request, template, {**GLOBALS, **context}, auth=auth, status_code=status_code)


def _filters(state: str, overdue: str) -> tuple[OrderState | None, bool | None]:
    try:
        chosen = OrderState(state) if state else None
    except ValueError:
        raise ValidationFailed([Problem("state", "state_invalid", "没有这个工单状态")]) from None
    return chosen, {"1": True, "0": False}.get(overdue)


@router.get("/rectifications", response_class=HTMLResponse)
def list_page(request: Request, auth: CurrentAuth, session: DbSession,
              state: Annotated[str, Query(max_length=30)] = "",
              overdue: Annotated[str, Query(max_length=1)] = "",
              offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> Response:
    """整改工单: the orders within the viewer's reach, filtered by state and overdue, with counts per state."""
    chosen, late = _filters(state, overdue)
    orders = service.list_orders(session, viewer=auth.user, state=chosen, overdue=late, limit=50, offset=offset)
    return _page(request, "rectification/list.html", {
        "orders": orders, "state_counts": service.state_counts(session, viewer=auth.user),
        "state": chosen.value if chosen else "", "overdue": overdue, "offset": offset}, auth)


def _cell(value: Any) -> Any:
    # free text may hold a mobile number: the ledger leaves the edge too, so it is masked like any page
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("", mask_text(value))
    return value


def ledger_workbook(orders: list[RectificationOrder]) -> bytes:
    """整改台账 as an .xlsx file, one row per order."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None  # a new workbook has its sheet  # noqa: S101
    ws.title = "整改台账"
    ws.append(list(LEDGER_COLUMNS))
    for c in ws[1]:
        c.font = Font(bold=True)
    for o in orders:
        verdict = VERDICT_LABELS.get(o.callback_verdict or "", "")
        ws.append([_cell(v) for v in (
            o.number, source_label(o.source_kind), o.department.name, o.title, state_label(o.state), o.opened_on,
            o.due_on, "是" if o.overdue else "否", o.verification, o.measures,
            f"{verdict} {o.callback_note}".strip(), o.closed_on)])
    for col, width in zip("ABCDEFGHIJKL", (16, 10, 20, 30, 14, 12, 12, 8, 40, 40, 30, 12), strict=True):
        ws.column_dimensions[col].width = width
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


@router.get("/rectifications/ledger.xlsx")
def ledger(auth: CurrentAuth, session: DbSession, state: Annotated[str, Query(max_length=30)] = "",
           overdue: Annotated[str, Query(max_length=1)] = "") -> Response:
    """整改台账 (Excel), scoped like the list and narrowed by the same filters."""
    chosen, late = _filters(state, overdue)
    orders = service.list_orders(session, viewer=auth.user, state=chosen, overdue=late, limit=LEDGER_LIMIT)
    return Response(ledger_workbook(orders),
                    media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": "attachment; filename=\"rectification-ledger.xlsx\"; "
                                                    "filename*=UTF-8''%E6%95%B4%E6%94%B9%E5%8F%B0%E8%B4%A6.xlsx"})


def _render_order(request: Request, session: Session, auth: Auth, order: RectificationOrder, *, notice: str = "",
                  errors: DomainError | None = None, form: str = "", values: FormData | None = None) -> Response:
    allowed = order_actions.allowed_actions(auth.user, order)
    return _page(request, "rectification/order.html", {
        "order": order, "timeline": service.timeline(session, order), "actions": allowed,
        "action_labels": {k: a.label for k, a in order_actions.ACTIONS.items()},
        # the department calls the raiser back: the access policy decides who sees the number whole
        "raiser_phone": Personal(order.raiser_phone, Field.PHONE, service.record_of(order)),
        "notice": notice, "problems": list(errors.problems) if errors else [], "error_form": form,
        "values": values, "max_extension_days": service.rules_from(request.app.state.settings).max_extension_days,
    }, auth, status_code=errors.status if errors else 200)


@router.get("/rectifications/{order_id}", response_class=HTMLResponse)
def order_page(request: Request, order_id: int, auth: CurrentAuth, session: DbSession,
               done: Annotated[str, Query(max_length=30)] = "") -> Response:
    """One order: source, raiser, deadline, verification, appeal, measures, callback, timeline, action forms."""
    order = service.get_order(session, order_id)
    service.require_view(auth.user, order)
    return _render_order(request, session, auth, order, notice=NOTICES.get(done, ""))


def _version(form: FormData) -> int:
    raw = form_text(form, "version")
    if not raw.isdigit():
        raise ValidationFailed([Problem("version", "version_required", "页面缺少版本号，请刷新后重试")])
    return int(raw)


def _days(form: FormData) -> int:
    raw = form_text(form, "days")
    return int(raw) if raw.isdigit() and len(raw) < 6 else 0


def _run(request: Request, session: Session, clock: Clock, user: User, order_id: int, action: str,
         form: FormData) -> None:
    """Apply one posted action through the service."""
    common: dict[str, Any] = {"clock": clock, "user": user, "order_id": order_id, "expected_version": _version(form)}
    text: Callable[[str], str] = lambda key: form_text(form, key)  # noqa: E731
    match action:
        case "verify":
            service.verify(session, note=text("note"), appeal=text("appeal") == "1", **common)
        case "appeal":
            service.appeal(session, reason=text("reason"), evidence=text("evidence"), **common)
        case "start":
            service.start_rectifying(session, **common)
        case "complete":
            service.complete(session, measures=text("measures"), **common)
        case "unrectifiable":
            service.request_unrectifiable(session, reason=text("reason"), **common)
        case "appeal-decision":
            service.decide_appeal(session, uphold=text("uphold") == "1", note=text("note"), **common)
        case "unrectifiable-decision":
            service.decide_unrectifiable(session, approve=text("approve") == "1", note=text("note"), **common)
        case "extend":
            service.extend(session, days=_days(form), reason=text("reason"),
                           rules=service.rules_from(request.app.state.settings), **common)
        case "callback":
            service.record_callback(session, verdict=text("verdict"), note=text("note"), **common)
        case "close":
            service.close_escalated(session, note=text("note"), **common)


@router.post("/rectifications/{order_id}/{action}", response_class=HTMLResponse)
def order_action(request: Request, order_id: int, action: str, auth: CurrentAuth, session: DbSession,
                 clock: ClockDep, posted: FormDep) -> Response:
    """One action form of the order page; 303 back to the order, or the page again with the reasons."""
    if action not in order_actions.ACTIONS:
        raise DomainError(code="not_found", message="页面或资源不存在", status=404)
    order = service.get_order(session, order_id)
    service.require_view(auth.user, order)
    try:
        with session.begin_nested():
            _run(request, session, clock, auth.user, order_id, action, posted)
    except (ValidationFailed, Conflict) as exc:
        session.expire_all()
        order = service.get_order(session, order_id)
        return _render_order(request, session, auth, order, errors=exc, form=action, values=posted)
    return RedirectResponse(f"/rectifications/{order_id}?done={action}", status_code=303)
