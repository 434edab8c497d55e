"""The two documents of 有诉即办: the 问题工作单 (PDF, one order) and the 问题工作台账 (Excel, a date range).

Both leave the server, so personal numbers in them follow the same rule as every page: the work order shows the
complainant's phone and ID number whole only to a viewer the access policy lets see them (the handling
department); the ledger, a list, always masks them, and masks any mobile or ID number inside free text.

The ledger is one query (the orders of the range within the viewer's reach, each with its first 派单 and its
first 签收 from one grouped subquery over the lead assignments), written with openpyxl's write-only workbook.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, WriteOnlyCell
from openpyxl.styles import Font
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onewindow.complaints import service
from onewindow.complaints.figures import check_range, lead_assignment
from onewindow.complaints.models import Complaint, ComplaintAssignment
from onewindow.complaints.states import (
    AssignmentRole,
    Category,
    Channel,
    ComplaintState,
    Verdict,
)
from onewindow.config import Settings
from onewindow.core import access
from onewindow.core.access import Action, Field, Viewer
from onewindow.core.clock import CHINA_TZ
from onewindow.core.errors import Problem, ValidationFailed
from onewindow.core.ids import mask_id_number, mask_phone
from onewindow.core.pdf import NoticePdf
from onewindow.core.personal import mask_text
from onewindow.staff.models import User
from onewindow.staff.service import viewer_of

LEDGER_LIMIT = 100_000
TRACK_PATH = "/complaint/track"  # the public page where a citizen follows an order by its tracking code
CENTER = "获嘉县政务服务中心"
EVENT_LABELS: dict[str, str] = {
    "accepted": "受理", "imported": "12345导入", "answered_on_spot": "当场答复", "dispatched": "派单",
    "redispatched": "改派", "signed": "签收", "returned": "退单", "dispute_decided": "裁定退单争议",
    "replied": "答复", "closed": "回访办结", "reopened": "回访不满意，重办", "urged": "催办", "supervised": "督办",
    "merged": "合并到其他工单", "merged_in": "合并重复诉求",
}
COLUMNS: tuple[tuple[str, int], ...] = (
    ("工单编号", 16), ("12345工单号", 18), ("来源渠道", 12), ("诉求类型", 8), ("紧急", 6), ("诉求标题", 30),
    ("诉求内容", 50), ("诉求人", 10), ("联系电话", 14), ("受理时间", 17), ("办理时限", 17), ("主办单位", 22),
    ("派单时间", 17), ("签收时间", 17), ("状态", 14), ("答复时间", 17), ("答复内容", 50), ("回访结果", 10),
    ("重办次数", 8), ("退单次数", 8), ("催办次数", 8), ("是否超期", 8), ("督办期限", 12), ("办结日期", 12),
    ("是否解决", 8),
)


@dataclass(frozen=True)
class LedgerFilters:
    """What the 台账 is narrowed by: the 受理 days (inclusive), and optionally department, category, state,
    channel and overdue."""

    date_from: dt.date
    date_to: dt.date
    department_id: int | None = None
    category: Category | None = None
    state: ComplaintState | None = None
    channel: Channel | None = None
    overdue: bool | None = None


def parse_filters(*, date_from: dt.date, date_to: dt.date, department_id: int | None = None, category: str = "",
                  state: str = "", channel: str = "", overdue: str = "") -> LedgerFilters:
    """The filters from query or form text; 422 naming the field for a value that is not one of the choices."""
    problems: list[Problem] = []

    def choice(enum: Any, value: str, field: str, what: str) -> Any:
        if not value:
            return None
        try:
            return enum(value)
        except ValueError:
            problems.append(Problem(field, f"{field}_invalid", f"没有这个{what}：{value[:20]}"))
            return None

    filters = LedgerFilters(date_from, date_to, department_id, choice(Category, category, "category", "诉求类型"),
                            choice(ComplaintState, state, "state", "工单状态"),
                            choice(Channel, channel, "channel", "来源渠道"), {"1": True, "0": False}.get(overdue))
    if problems:
        raise ValidationFailed(problems)
    check_range(date_from, date_to)
    return filters


def _reach(viewer: Viewer) -> int | None:
    """The department the viewer's 台账 is narrowed to (None: the whole center); 403 for a role without it."""
    access.require(viewer, Action.COMPLAINT_FIGURES)
    return access.department_scoped(viewer, Action.COMPLAINT_FIGURES)


def ledger_rows(session: Session, *, viewer: Viewer, filters: LedgerFilters,
                limit: int = LEDGER_LIMIT) -> list[tuple[Complaint, dt.datetime | None, dt.datetime | None]]:
    """The orders of the 台账 (by 受理 time), each with its first 派单 and first 签收 time."""
    scope = _reach(viewer)
    a = ComplaintAssignment
    firsts = (select(a.complaint_id.label("complaint_id"), func.min(a.assigned_at).label("dispatched_at"),
                     func.min(a.signed_at).label("signed_at"))
              .where(lead_assignment()).group_by(a.complaint_id).subquery("firsts"))
    c = Complaint
    query = (select(c, firsts.c.dispatched_at, firsts.c.signed_at).outerjoin(firsts, firsts.c.complaint_id == c.id)
             .where(c.accepted_on >= filters.date_from, c.accepted_on <= filters.date_to))
    for column, value in ((c.lead_department_id, scope), (c.lead_department_id, filters.department_id),
                          (c.category, filters.category), (c.state, filters.state), (c.channel, filters.channel),
                          (c.overdue, filters.overdue)):
        if value is not None:
            query = query.where(column == (value.value if hasattr(value, "value") else value))
    rows = session.execute(query.order_by(c.accepted_at, c.id).limit(limit))
    return [(order, _aware(dispatched), _aware(signed)) for order, dispatched, signed in rows]


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    # an aggregate loses the column type: SQLite hands back a naive UTC value (or its text), as stored
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def _time(at: dt.datetime | None) -> str:
    return at.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M") if at else ""


def _label(enum: Any, value: str | None) -> str:
    if not value:
        return ""
    try:
        return str(enum(value).label)
    except ValueError:
        return value


def _cell(value: Any) -> Any:
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("", mask_text(value))
    return value


def ledger_workbook(rows: Iterable[tuple[Complaint, dt.datetime | None, dt.datetime | None]],
                    filters: LedgerFilters) -> bytes:
    """有诉即办问题工作台账 as an .xlsx file: a title row, the header, one row per order (numbers masked)."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("问题工作台账")
    for i, (_name, width) in enumerate(COLUMNS):
        ws.column_dimensions[chr(ord("A") + i)].width = width
    ws.freeze_panes = "B3"
    ws.append([f"有诉即办问题工作台账（受理日期 {filters.date_from} 至 {filters.date_to}）"])
    bold = Font(bold=True)
    header = []
    for name, _width in COLUMNS:
        cell = WriteOnlyCell(ws, value=name)
        cell.font = bold
        header.append(cell)
    ws.append(header)
    for c, dispatched_at, signed_at in rows:
        ws.append([_cell(v) for v in (
            c.number, c.external_number or "", _label(Channel, c.channel), _label(Category, c.category),
            "是" if c.urgent else "", c.subject, c.content, c.complainant_name if not c.anonymous else "匿名",
            mask_phone(c.complainant_phone), _time(c.accepted_at), _time(c.due_at),
            c.lead_department.name if c.lead_department else "", _time(dispatched_at), _time(signed_at),
            _label(ComplaintState, c.state), _time(c.replied_at), c.reply, _label(Verdict, c.callback_verdict),
            c.reopen_count, c.return_count, c.urge_count, "是" if c.overdue else "否",
            c.supervised_due_on.isoformat() if c.supervised_due_on else "",
            c.closed_on.isoformat() if c.closed_on else "",
            {True: "是", False: "否"}.get(c.solved, "") if c.solved is not None else "")])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def ledger(session: Session, *, viewer: Viewer, filters: LedgerFilters) -> bytes:
    """The 台账 of the viewer's reach as an .xlsx file."""
    return ledger_workbook(ledger_rows(session, viewer=viewer, filters=filters), filters)


# ----- the 问题工作单 ---------------------------------------------------------------------------------------------


def worksheet_pdf(session: Session, *, user: User, complaint_id: int, settings: Settings,
                  printed_at: dt.datetime) -> tuple[Complaint, bytes]:
    """有诉即办问题工作单 of one order (the viewer must be allowed to see it): the matter, the complainant, the limit,
    every 派单 and step of the timeline, the reply and the callback, and a QR code to follow it."""
    c = service.get_complaint(session, complaint_id)
    service.require_view(session, user, c)
    viewer = viewer_of(user)
    record = service.record_of(session, c)
    phone = c.complainant_phone
    id_number = c.complainant_id_number or ""
    shown_phone = phone if phone and access.sees_whole(viewer, Field.PHONE, record) else mask_phone(phone)
    shown_id = (id_number if id_number and access.sees_whole(viewer, Field.ID_NUMBER, record)
                else mask_id_number(id_number))
    doc = NoticePdf("有诉即办问题工作单", CENTER, document_number=f"编号：{c.number}",
                    footer=f"{CENTER} 有诉即办 · 打印于 {_time(printed_at)}", created_at=printed_at,
                    font_paths=settings.cjk_font_paths)
    doc.heading("一、诉求信息")
    doc.key_values([
        ("工单编号", c.number), ("来源渠道", _label(Channel, c.channel)),
        *([("12345工单号", c.external_number)] if c.external_number else []),
        ("诉求类型", _label(Category, c.category) + ("（紧急）" if c.urgent else "")),
        ("受理时间", _time(c.accepted_at)),
        ("办理时限", f"{_time(c.due_at)}" + (f"（{c.limit_days} 个工作日）" if c.limit_days else "（当日办结）")
         + ("，按暂定日历计算" if c.due_provisional else "")),
        ("诉求人", "匿名" if c.anonymous else c.complainant_name), ("联系电话", shown_phone or "—"),
        *([("身份证号", shown_id)] if id_number else []),
        ("诉求标题", mask_text(c.subject)),
    ])
    doc.paragraph(mask_text(c.content or c.subject))
    doc.heading("二、办理情况")
    doc.key_values([
        ("当前状态", _label(ComplaintState, c.state)),
        ("主办单位", c.lead_department.name if c.lead_department else "（尚未派单）"),
        ("退单 / 催办 / 重办", f"{c.return_count} 次 / {c.urge_count} 次 / {c.reopen_count} 次"),
        *([("督办期限", c.supervised_due_on.isoformat())] if c.supervised_due_on else []),
    ])
    assignments = service.assignments(session, c)
    if assignments:
        doc.table(["派单单位", "角色", "派单时间", "签收期限", "签收", "退单"],
                  [[a.department.name, AssignmentRole(a.role).label, _time(a.assigned_at), _time(a.sign_due_at),
                    _time(a.signed_at) or "—", f"{_time(a.returned_at)} {mask_text(a.return_reason)}".strip() or "—"]
                   for a in assignments], widths=(26, 8, 18, 18, 18, 30))
    events = service.timeline(session, c)
    doc.table(["时间", "环节", "经办", "说明"],
              [[_time(e.at), EVENT_LABELS.get(e.kind, e.kind), e.actor, mask_text(e.note)[:200]] for e in events],
              widths=(20, 18, 18, 44))
    doc.heading("三、答复与回访")
    doc.key_values([("答复时间", _time(c.replied_at) or "—"),
                    ("回访结果", _label(Verdict, c.callback_verdict) or "—"),
                    ("办结日期", c.closed_on.isoformat() if c.closed_on else "—"),
                    ("是否解决", {True: "已解决", False: "办结未解决"}.get(c.solved, "—") if c.solved is not None
                     else "—")])
    if c.reply:
        doc.paragraph(mask_text(c.reply))
    if c.callback_note:
        doc.paragraph("回访记录：" + mask_text(c.callback_note))
    doc.qr(f"{settings.base_url.rstrip('/')}{TRACK_PATH}?code={c.tracking_code}",
           caption="扫码查询办理进度", size=26)
    doc.signature([f"{CENTER}（有诉即办窗口）", printed_at.astimezone(CHINA_TZ).strftime("%Y年%m月%d日")])
    return c, doc.to_bytes()


def ledger_filename(filters: LedgerFilters) -> str:
    """``complaints-ledger-20261101-20261130.xlsx``."""
    return f"complaints-ledger-{filters.date_from:%Y%m%d}-{filters.date_to:%Y%m%d}.xlsx"


def filter_departments(session: Session, *, viewer: Viewer) -> list[tuple[int, str]]:
    """The departments the viewer may narrow the 台账 to: all of them, or a department head's own."""
    scope = _reach(viewer)
    return [(d.id, d.name) for d in service.departments(session) if scope is None or d.id == scope]


def choices() -> dict[str, Sequence[tuple[str, str]]]:
    """The filter choices of the supervisor's page."""
    return {"categories": [(c.value, c.label) for c in Category],
            "states": [(s.value, s.label) for s in ComplaintState],
            "channels": [(c.value, c.label) for c in Channel]}
