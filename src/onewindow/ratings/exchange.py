"""Rating exchange (好差评数据交换): the record provincial 好差评 systems take, its exports, and the push.

One record per rating, with the fields provincial systems use: 办件编号, 事项编码, 事项名称, 部门, 渠道, 评价人类型
(实名/匿名), 证件号 (masked: ``mask_id_number``), 评价时间, 等级, 分项 (dimension → level), 文字 (ID numbers and
phones in it masked), 整改结果 (the outcome or state of the 整改 order opened for the rating, if any). Records
are read in one query (ratings joined to their case, item, department and rectification order) and exported
as JSON, CSV (UTF-8 with a BOM, so Excel opens the Chinese) or Excel.

:func:`push_new_ratings` puts every rating not yet pushed into the outbox as one ``http`` message to
``ONEWINDOW_RATINGS_PUSH_URL`` (topic ``rating.push``) and marks it pushed, in the caller's transaction; the
``ratings-push`` job runs it every 5 minutes and the ``notifications`` job delivers (and retries) the messages.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy import Select, and_, func, select
from sqlalchemy.orm import Session, aliased

from onewindow.cases.models import Case
from onewindow.catalog.models import Department, Item, ItemVersion
from onewindow.config import Settings, get_settings
from onewindow.core.clock import CHINA_TZ, Clock
from onewindow.core.ids import mask_id_number
from onewindow.core.personal import mask_payload, mask_text
from onewindow.notifications import service as notifications
from onewindow.ratings.models import Rating
from onewindow.rectification.models import RectificationOrder

PUSH_TOPIC = "rating.push"
PUSH_BATCH = 500

LEVEL_LABELS: dict[str, str] = {
    "very_satisfied": "非常满意",
    "satisfied": "满意",
    "basic": "基本满意",
    "unsatisfied": "不满意",
    "very_unsatisfied": "非常不满意",
}
CHANNEL_LABELS: dict[str, str] = {
    "evaluator": "评价器",
    "qr": "扫码",
    "online": "网上",
    "sms": "短信",
    "kiosk": "自助终端",
    "default": "默认评价",
}
RECTIFICATION_OUTCOME_LABELS: dict[str, str] = {
    "rectified": "已整改",
    "voided": "申诉成立（无效差评）",
    "unrectifiable": "无法整改",
}

# (record key, column header) in the order of the exports
COLUMNS: tuple[tuple[str, str], ...] = (
    ("case_number", "办件编号"),
    ("item_code", "事项编码"),
    ("item_name", "事项名称"),
    ("department", "部门"),
    ("channel", "渠道"),
    ("rater_type", "评价人类型"),
    ("rater_id_number", "证件号"),
    ("rated_at", "评价时间"),
    ("level", "等级"),
    ("scores", "分项"),
    ("comment", "文字"),
    ("rectification", "整改结果"),
)
FORMATS = ("json", "csv", "xlsx")


def _query() -> Select[Rating, str, str, str, str, str | None, str]:
    case_version = aliased(ItemVersion)
    current_version = aliased(ItemVersion)
    return (
        select(Rating, Case.number, Item.code, func.coalesce(case_version.name, current_version.name),
               Department.name, RectificationOrder.outcome, RectificationOrder.state)
        .outerjoin(Case, Case.id == Rating.case_id)
        .outerjoin(case_version, case_version.id == Case.item_version_id)
        .outerjoin(Item, Item.id == Rating.item_id)
        .outerjoin(current_version, current_version.id == Item.current_version_id)
        .outerjoin(Department, Department.id == Rating.department_id)
        .outerjoin(RectificationOrder, and_(RectificationOrder.source_kind == "rating",
                                            RectificationOrder.source_id == Rating.id))
        .order_by(Rating.rated_at, Rating.id)
    )


def rectification_label(outcome: str | None, state: str | None) -> str:
    """整改结果: the order's outcome when closed, else that it is in progress; empty when there is no order."""
    if outcome:
        return RECTIFICATION_OUTCOME_LABELS.get(outcome, outcome)
    if state:
        return f"整改中（{state}）"
    return ""


def record_of(rating: Rating, case_number: str | None, item_code: str | None, item_name: str | None,
              department: str | None, outcome: str | None, state: str | None) -> dict[str, Any]:
    """One exchange record, personal numbers masked."""
    scores = {str(dim): LEVEL_LABELS.get(str(level), str(level)) for dim, level in (rating.scores or {}).items()}
    return {
        "rating_id": rating.id,
        "case_number": case_number or "",
        "item_code": item_code or "",
        "item_name": item_name or "",
        "department": department or "",
        "channel": CHANNEL_LABELS.get(rating.channel, rating.channel),
        "rater_type": "实名" if rating.identified else "匿名",
        "rater_id_number": mask_id_number(rating.rater_id_number) if rating.identified else "",
        "rated_at": rating.rated_at.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M:%S"),
        "level": LEVEL_LABELS.get(rating.level, rating.level),
        "scores": scores,
        "comment": mask_text(rating.comment or ""),
        "rectification": rectification_label(outcome, state),
    }


def exchange_records(session: Session, *, date_from: dt.date | None = None,
                     date_to: dt.date | None = None) -> list[dict[str, Any]]:
    """The exchange records of the ratings given between the two dates (inclusive), oldest first."""
    query = _query()
    if date_from is not None:
        query = query.where(Rating.rated_on >= date_from)
    if date_to is not None:
        query = query.where(Rating.rated_on <= date_to)
    return [record_of(*row) for row in session.execute(query)]


def _cell(key: str, value: Any) -> str:
    if key == "scores":
        return "；".join(f"{dim}：{level}" for dim, level in value.items())
    return str(value)


def table_rows(records: Iterable[dict[str, Any]]) -> list[list[str]]:
    """The header row and one row per record (the CSV and Excel layout)."""
    return [[header for _, header in COLUMNS],
            *([_cell(key, rec[key]) for key, _ in COLUMNS] for rec in records)]


def to_json(records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The JSON export (personal numbers masked once more, in case a field carried one)."""
    masked: list[dict[str, Any]] = mask_payload(list(records))
    return masked


def to_csv(records: Sequence[dict[str, Any]]) -> bytes:
    """The CSV export: UTF-8 with a BOM so Excel reads the Chinese."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in table_rows(to_json(records)):
        writer.writerow([_safe_cell(c) for c in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(records: Sequence[dict[str, Any]]) -> bytes:
    """The Excel export: one sheet, a bold header row, reasonable column widths."""
    book = Workbook()
    sheet = book.create_sheet("好差评", 0)
    book.remove(book.worksheets[1])  # the default empty sheet
    for row in table_rows(to_json(records)):
        sheet.append([_safe_cell(c) for c in row])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for column, width in zip("ABCDEFGHIJKL", (22, 24, 30, 20, 10, 10, 22, 20, 10, 30, 40, 20), strict=True):
        sheet.column_dimensions[column].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _safe_cell(value: str) -> str:
    # a rater's text starting with = + - @ would run as a formula in Excel (CSV injection)
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value


def push_new_ratings(session: Session, *, clock: Clock, settings: Settings) -> int:
    """Enqueue every rating not yet pushed as an ``http`` outbox message and mark it pushed; 0 when no URL."""
    url = settings.ratings_push_url.strip()
    if not url:
        return 0
    rows = session.execute(_query().where(Rating.pushed_at.is_(None)).limit(PUSH_BATCH)).all()
    now = clock.now()
    for row in rows:
        rating = row[0]
        record = to_json([record_of(*row)])[0]
        notifications.enqueue(session, clock=clock, topic=PUSH_TOPIC, channel="http", recipient=url,
                              subject=f"好差评 {rating.id}", payload=record)
        rating.pushed_at = now
    session.flush()
    return len(rows)


def push_job(session: Session, *, clock: Clock) -> dict[str, int]:
    """The ``ratings-push`` job: push the new ratings with the process settings."""
    return {"pushed": push_new_ratings(session, clock=clock, settings=get_settings())}
