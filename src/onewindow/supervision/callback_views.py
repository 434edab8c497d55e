"""回访 pages: the task list (filters, counts per outcome, 应访尽访 per department), a task's page (the questions
and the outcome form), the 回访台账 and the 日上报台账 as Excel.

Thin edges: parse, call ``supervision.callbacks`` (which authorises: the center records, a department head reads
their own department), render or redirect (303). Excel cells are masked like any page.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable, Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from onewindow.core.access import Action, Field
from onewindow.core.clock import today
from onewindow.core.errors import Conflict, DomainError, Problem, ValidationFailed
from onewindow.core.personal import Personal, mask_text
from onewindow.deps import Auth, ClockDep, CurrentAuth, DbSession, SettingsDep
from onewindow.ratings.rules import Level
from onewindow.rectification import service as rectification
from onewindow.supervision import callbacks as service
from onewindow.supervision.callback_models import CallbackTask
from onewindow.supervision.callback_rules import Dimension, Outcome
from onewindow.web import FormDep, fmt_time, form_text, render

router = APIRouter(include_in_schema=False)

LEDGER_LIMIT = 10_000
PERIOD_DAYS = 30
LEDGER_COLUMNS = ("办结日期", "抽取日期", "办件编号", "事项", "部门", "申请人", "联系电话", "回访结果", "回访次数",
                  *(d.label for d in Dimension), "回访记录", "整改工单", "回访时间")
DAILY_COLUMNS = ("办结日期", "部门", "办结件数", "应访", "已访", "联系成功", "满意", "不满意", "已整改", "回访率",
                 "满意率")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
GLOBALS: dict[str, Any] = {
    "OUTCOMES": list(Outcome), "DIMENSIONS": list(Dimension), "LEVELS": list(Level),
    "OUTCOME_LABELS": {o.value: o.label for o in Outcome}, "LEVEL_LABELS": {lv.value: lv.label for lv in Level},
    "fmt_time": fmt_time, "section": "callbacks",
}


def _page(request: Request, template: str, context: dict[str, Any], auth: Auth, *, status_code: int = 200) -> Response:
    return render(request, template, {**GLOBALS, **context}, auth=auth, status_code=status_code)


def _period(clock_today: dt.date, day_from: str, day_to: str) -> tuple[dt.date, dt.date]:
    try:
        end = dt.date.fromisoformat(day_to) if day_to else clock_today
        start = dt.date.fromisoformat(day_from) if day_from else end - dt.timedelta(days=PERIOD_DAYS)
    except ValueError:
        raise ValidationFailed([Problem("day_from", "date_invalid", "日期格式应为 YYYY-MM-DD")]) from None
    if start > end:
        raise ValidationFailed([Problem("day_from", "period_invalid", "开始日期不能晚于结束日期")])
    return start, end


def _outcome(raw: str) -> Outcome | None:
    try:
        return Outcome(raw) if raw else None
    except ValueError:
        raise ValidationFailed([Problem("outcome", "outcome_invalid", "没有这个回访结果")]) from None


Text = Annotated[str, Query(max_length=20)]


@router.get("/supervision/callbacks", response_class=HTMLResponse)
def list_page(request: Request, auth: CurrentAuth, session: DbSession, clock: ClockDep, outcome: Text = "",
              day_from: Text = "", day_to: Text = "",
              offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> Response:
    """回访任务: the tasks within reach (pending first by day), counts per outcome, 应访尽访 per department."""
    start, end = _period(today(clock), day_from, day_to)
    chosen = _outcome(outcome)
    tasks = service.list_tasks(session, viewer=auth.user, outcome=chosen, day_from=start, day_to=end, limit=50,
                               offset=offset)
    return _page(request, "supervision/callbacks_list.html", {
        "tasks": tasks, "counts": service.outcome_counts(session, viewer=auth.user),
        "rates": service.rates(session, viewer=auth.user, day_from=start, day_to=end),
        "outcome": outcome, "day_from": start, "day_to": end, "offset": offset}, auth)


def _cell(value: Any) -> Any:
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("", mask_text(value))
    return value


def _workbook(title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None  # noqa: S101  (a new workbook has its sheet)
    ws.title = title
    ws.append(list(columns))
    for c in ws[1]:
        c.font = Font(bold=True)
    for row in rows:
        ws.append([_cell(v) for v in row])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def ledger_rows(tasks: Sequence[CallbackTask], order_numbers: dict[int, str]) -> list[list[Any]]:
    """回访台账: one row per task (the phone masked: a ledger leaves the edge too)."""
    out = []
    for t in tasks:
        c = t.case
        out.append([t.day, t.drawn_on, c.number, c.title, t.department.name, c.applicant_name,
                    Personal(c.applicant_phone, Field.PHONE).masked(), Outcome(t.outcome).label, t.attempts,
                    *(Level(t.scores[d.value]).label if d.value in t.scores else "" for d in Dimension), t.remarks,
                    order_numbers.get(t.id, ""), fmt_time(t.called_at) if t.called_at else ""])
    return out


def _attachment(data: bytes, name: str, chinese: str) -> Response:
    return Response(data, media_type=XLSX, headers={
        "Content-Disposition": f"attachment; filename=\"{name}\"; filename*=UTF-8''{chinese}"})


@router.get("/supervision/callbacks/ledger.xlsx")
def ledger(auth: CurrentAuth, session: DbSession, clock: ClockDep, outcome: Text = "", day_from: Text = "",
           day_to: Text = "") -> Response:
    """回访台账 (Excel), scoped and filtered like the list."""
    start, end = _period(today(clock), day_from, day_to)
    tasks = service.list_tasks(session, viewer=auth.user, outcome=_outcome(outcome), day_from=start, day_to=end,
                               limit=LEDGER_LIMIT)
    orders = rectification.orders_for(session, "callback", [t.id for t in tasks])
    data = _workbook("回访台账", LEDGER_COLUMNS, ledger_rows(tasks, {k: o.number for k, o in orders.items()}))
    return _attachment(data, "callback-ledger.xlsx", "%E5%9B%9E%E8%AE%BF%E5%8F%B0%E8%B4%A6.xlsx")


def _pct(value: float | None) -> str:
    return f"{value * 100:.1f}%" if value is not None else "—"


@router.get("/supervision/callbacks/daily.xlsx")
def daily(auth: CurrentAuth, session: DbSession, clock: ClockDep, day_from: Text = "", day_to: Text = "") -> Response:
    """日上报台账 (Excel): per day and department, finished cases, 应访 / 已访 / 联系成功 / 满意 / 不满意 / 已整改."""
    start, end = _period(today(clock), day_from, day_to)
    rows = []
    for r in service.daily_report(session, viewer=auth.user, day_from=start, day_to=end):
        f = r.figures
        rows.append([r.day, r.department_name, r.finished, *((f.drawn, f.called, f.reached, f.satisfied,
                                                                f.unsatisfied, f.rectified, _pct(f.callback_rate),
                                                                _pct(f.satisfaction_rate)) if f else
                                                               (0, 0, 0, 0, 0, 0, "—", "—"))])
    data = _workbook("日上报台账", DAILY_COLUMNS, rows)
    return _attachment(data, "callback-daily.xlsx", "%E6%97%A5%E4%B8%8A%E6%8A%A5%E5%8F%B0%E8%B4%A6.xlsx")


def _render_task(request: Request, session: Session, auth: Auth, task: CallbackTask, *, notice: str = "",
                 errors: DomainError | None = None, values: FormData | None = None) -> Response:
    order = rectification.get_order(session, task.order_id) if task.order_id else None
    return _page(request, "supervision/callbacks_task.html", {
        "task": task, "order": order, "notice": notice,
        "phone": Personal(task.case.applicant_phone, Field.PHONE, service.record_of(task)),
        "may_record": auth.can(Action.CALLBACK_RECORD, service.record_of(task)) and task.outcome == Outcome.PENDING,
        "problems": list(errors.problems) if errors else [], "values": values},
        auth, status_code=errors.status if errors else 200)


@router.get("/supervision/callbacks/{task_id}", response_class=HTMLResponse)
def task_page(request: Request, task_id: int, auth: CurrentAuth, session: DbSession,
              done: Annotated[str, Query(max_length=20)] = "") -> Response:
    """One task: the case, the person (phone as the policy allows), the questions, the outcome form or outcome."""
    task = service.get_task(session, viewer=auth.user, task_id=task_id)
    return _render_task(request, session, auth, task, notice="回访结果已记录。" if done else "")


@router.post("/supervision/callbacks/{task_id}/outcome", response_class=HTMLResponse)
def record(request: Request, task_id: int, auth: CurrentAuth, session: DbSession, clock: ClockDep,
           settings: SettingsDep, posted: FormDep) -> Response:
    """Record a call: reached with a level per dimension (an unsatisfied one opens a work order), or not."""
    service.get_task(session, viewer=auth.user, task_id=task_id)
    version = form_text(posted, "version")
    try:
        with session.begin_nested():
            service.record_outcome(session, clock=clock, user=auth.user, task_id=task_id,
                                   expected_version=int(version) if version.isdigit() else None,
                                   reached=form_text(posted, "reached") == "1",
                                   scores={d.value: form_text(posted, f"score_{d.value}") for d in Dimension},
                                   remarks=form_text(posted, "remarks"), rules=service.rules_from(settings))
    except (ValidationFailed, Conflict) as exc:
        session.expire_all()
        task = service.get_task(session, viewer=auth.user, task_id=task_id)
        return _render_task(request, session, auth, task, errors=exc, values=posted)
    return RedirectResponse(f"/supervision/callbacks/{task_id}?done=1", status_code=303)
