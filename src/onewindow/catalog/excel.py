"""Items and materials as an Excel workbook, the way service centers keep their 实施清单.

Two sheets: ``事项`` (one row per item) and ``材料`` (one row per material, linked by 实施编码 and
ordered by 序号), with Chinese headers and human values (是/否, 个人/企业, 县级、乡镇、村 …).
Departments, hall categories and certificate types (of materials, and the 办理结果 an item issues)
are written and read as their codes and must already exist: the workbook carries items and
materials only.

Import reads the whole workbook, reports every problem with its sheet, row and column
(``事项!第5行 法定时限: 必须是整数``), writes nothing if there is any, and then saves each item
through ``catalog_service.save_item``: a changed row adds a version, an unchanged row changes
nothing. An item's materials are the rows of ``材料`` with its code, so an item with none has none.
Items missing from the workbook are left as they are. Export writes active items only.

The workbook has no columns for an item's ``procedure`` override (step kinds, performers, 审批分离,
extension and 容缺 limits, 特别程序 kinds): the procedure is derived from 办理流程 and the limits,
and an override set through the JSON file is kept when a row is imported (its step overrides only
while the number of steps is unchanged). Set overrides with the JSON catalog file.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, TypeVar

from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from onewindow.catalog import exporter, rules
from onewindow.catalog import service as catalog_service
from onewindow.catalog.importer import ImportReport
from onewindow.catalog.schemas import ITEM_TYPES, LEVEL_LABELS, SCOPES, ItemIn, MaterialIn
from onewindow.core.audit import Actor
from onewindow.core.clock import Clock
from onewindow.core.errors import Problem, ValidationFailed
from onewindow.core.validation import pydantic_problems

M = TypeVar("M", bound=BaseModel)

ITEM_SHEET = "事项"
MATERIAL_SHEET = "材料"
STEP_SEPARATOR = "→"
LIST_SEPARATOR = "、"

YES, NO = "是", "否"
AUDIENCE_LABELS = {"person": "个人", "enterprise": "企业", "both": "个人和企业"}
UNIT_LABELS = {"working_day": "工作日", "natural_day": "自然日"}
FORMS = ("原件", "复印件", "电子")
KINDS = ("证件证书证明", "申请表格文书", "其他")
SOURCES = ("申请人自备", "政府部门核发")


class CellError(ValueError):
    """A cell whose value cannot be read; the message is shown to the user."""

    def __init__(self, message: str, code: str = "invalid_value") -> None:
        super().__init__(message)
        self.code = code


# ----- cell conversions ----------------------------------------------------------------------------


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return YES if value else NO
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a phone number typed as a number
    return str(value)


def _optional_text(value: Any) -> str | None:
    text = _text(value).strip()
    return text or None


def _integer(value: Any) -> int:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise CellError("此项必填", "missing")
    if isinstance(value, bool):
        raise CellError("必须是整数", "int_parsing")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
        return int(value)
    raise CellError("必须是整数", "int_parsing")


def _yes_no(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = _text(value).strip()
    if text == YES:
        return True
    if text == NO:
        return False
    raise CellError("此项必填（是/否）" if not text else f"取值必须是 {YES} / {NO} 之一：{text}",
                    "missing" if not text else "bool_parsing")


def _choice(labels: dict[str, str]) -> Callable[[Any], str]:
    by_label = {label: key for key, label in labels.items()}

    def parse(value: Any) -> str:
        text = _text(value).strip()
        if text in by_label:
            return by_label[text]
        if not text:
            raise CellError("此项必填", "missing")
        raise CellError(f"取值必须是 {' / '.join(labels.values())} 之一：{text}", "literal_error")

    return parse


def _split(separator: str) -> Callable[[Any], list[str]]:
    def parse(value: Any) -> list[str]:
        return [part.strip() for part in _text(value).split(separator) if part.strip()]

    return parse


def _levels(value: Any) -> list[str]:
    by_label = {label: key for key, label in LEVEL_LABELS.items()}
    out = []
    for part in re.split(r"[、，,;；\s]+", _text(value).strip()):
        if not part:
            continue
        if part not in by_label:
            raise CellError(f"办理层级必须是 {' / '.join(LEVEL_LABELS.values())}，用“、”分隔：{part}", "literal_error")
        out.append(by_label[part])
    if not out:
        raise CellError("此项必填", "missing")
    return out


def _label(labels: dict[str, str]) -> Callable[[Any], str]:
    return lambda key: labels.get(key, key)


def _as_is(value: Any) -> Any:
    return value


@dataclass(frozen=True)
class Column:
    """A sheet column: header, model field, how to write and read a cell, width, allowed values."""

    header: str
    field: str
    write: Callable[[Any], Any]
    read: Callable[[Any], Any]
    width: int = 12
    choices: tuple[str, ...] = ()
    wrap: bool = False


ITEM_COLUMNS: tuple[Column, ...] = (
    Column("实施编码", "code", _as_is, _text, 24),
    Column("事项名称", "name", _as_is, _text, 30, wrap=True),
    Column("事项类型", "type", _as_is, _text, 12, ITEM_TYPES),
    Column("实施部门(编码)", "department", _as_is, _text, 12),
    Column("大厅分类", "hall_category", _as_is, _text, 8),
    Column("服务对象", "audience", _label(AUDIENCE_LABELS), _choice(AUDIENCE_LABELS), 12,
           tuple(AUDIENCE_LABELS.values())),
    Column("办理层级", "levels", lambda v: LIST_SEPARATOR.join(LEVEL_LABELS[x] for x in v), _levels, 14),
    Column("法定时限", "legal_limit_days", _as_is, _integer, 8),
    Column("承诺时限", "promised_limit_days", _as_is, _integer, 8),
    Column("时限单位", "limit_unit", _label(UNIT_LABELS), _choice(UNIT_LABELS), 8, tuple(UNIT_LABELS.values())),
    Column("即办件", "instant", lambda v: YES if v else NO, _yes_no, 6, (YES, NO)),
    Column("到现场次数", "max_visits", _as_is, _integer, 8),
    Column("网办深度", "online_depth", _as_is, _integer, 8),
    Column("通办范围", "scope", _as_is, _text, 10, SCOPES),
    Column("收费", "fee", _as_is, _text, 16, wrap=True),
    Column("设定依据", "basis", _as_is, _text, 40, wrap=True),
    Column("申请条件", "conditions", _as_is, _text, 40, wrap=True),
    Column("办理流程", "steps", STEP_SEPARATOR.join, _split(STEP_SEPARATOR), 30, wrap=True),
    Column("关键词", "keywords", LIST_SEPARATOR.join, _split(LIST_SEPARATOR), 24, wrap=True),
    Column("办理地点", "location", _as_is, _text, 30, wrap=True),
    Column("咨询电话", "phone", _as_is, _text, 14),
    Column("办理结果(证照类型)", "result_certificate_type", _as_is, _optional_text, 18),
)

MATERIAL_COLUMNS: tuple[Column, ...] = (
    Column("实施编码", "item", _as_is, _text, 24),
    Column("序号", "position", _as_is, _integer, 6),
    Column("材料名称", "name", _as_is, _text, 36, wrap=True),
    Column("必要", "required", lambda v: YES if v else NO, _yes_no, 6, (YES, NO)),
    Column("形式", "form", _as_is, _text, 8, FORMS),
    Column("份数", "copies", _as_is, _integer, 6),
    Column("可容缺", "deferrable", lambda v: YES if v else NO, _yes_no, 8, (YES, NO)),
    Column("证照类型", "certificate_type", _as_is, _optional_text, 18),
    Column("备注", "note", _as_is, _optional_text, 40, wrap=True),
    Column("类型", "kind", _as_is, _optional_text, 14, KINDS),
    Column("来源", "source", _as_is, _optional_text, 14, SOURCES),
)

SHEETS: dict[str, tuple[Column, ...]] = {ITEM_SHEET: ITEM_COLUMNS, MATERIAL_SHEET: MATERIAL_COLUMNS}


# ----- export --------------------------------------------------------------------------------------


def build_workbook(session: Session) -> Workbook:
    """The active items and their materials as a formatted workbook."""
    items, _retired = exporter.export_items(session, include_retired=False)
    wb = Workbook()
    wb.remove(wb.worksheets[0])
    item_ws = wb.create_sheet(ITEM_SHEET)
    material_ws = wb.create_sheet(MATERIAL_SHEET)
    item_rows = ([c.write(item.get(c.field)) for c in ITEM_COLUMNS] for item in items)  # optional keys may be absent
    material_rows = (
        [c.write({**m, "item": item["code"], "position": i}.get(c.field)) for c in MATERIAL_COLUMNS]
        for item in items for i, m in enumerate(item["materials"], start=1)
    )
    _fill(item_ws, ITEM_COLUMNS, item_rows)
    _fill(material_ws, MATERIAL_COLUMNS, material_rows)
    return wb


def export_workbook(session: Session) -> bytes:
    """The workbook of :func:`build_workbook` as .xlsx bytes."""
    buffer = io.BytesIO()
    build_workbook(session).save(buffer)
    return buffer.getvalue()


def _fill(ws: Worksheet, columns: Sequence[Column], rows: Iterable[list[Any]]) -> None:
    ws.append([c.header for c in columns])
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
        cell.alignment = Alignment(horizontal="center", vertical="center")
    count = 0
    for values in rows:
        ws.append([ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v for v in values])
        count += 1
        for cell in ws[ws.max_row]:
            if cell.data_type == "f":  # text such as "=…" is data, never a formula
                cell.data_type = "s"
    last_row = max(count + 1, 2)
    for idx, column in enumerate(columns, start=1):
        letter = get_column_letter(idx)
        ws.column_dimensions[letter].width = column.width
        if column.wrap:
            for row in ws.iter_rows(min_row=2, min_col=idx, max_col=idx):
                row[0].alignment = Alignment(wrap_text=True, vertical="top")
        if column.choices:
            dv = DataValidation(type="list", formula1='"' + ",".join(column.choices) + '"', allow_blank=True,
                                showErrorMessage=True, errorTitle="取值无效",
                                error=f"请选择：{' / '.join(column.choices)}")
            dv.add(f"{letter}2:{letter}{max(last_row, 1000)}")
            ws.add_data_validation(dv)
    ws.freeze_panes = "B2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{last_row}"


# ----- import --------------------------------------------------------------------------------------


@dataclass
class _Row:
    """A data row of a sheet: its number in Excel and the raw cells by field."""

    number: int
    cells: dict[str, Any]


def _where(sheet: str, row: int, header: str = "") -> str:
    return f"{sheet}!第{row}行" + (f" {header}" if header else "")


def _read_sheet(wb: Any, sheet: str, problems: list[Problem]) -> list[_Row]:
    """The data rows of a sheet by field; header problems are added (missing, unknown, repeated columns)."""
    columns = SHEETS[sheet]
    if sheet not in wb.sheetnames:
        problems.append(Problem("", "missing_sheet", f"工作簿缺少工作表：{sheet}"))
        return []
    rows = wb[sheet].iter_rows(values_only=True)
    header = next(rows, None) or ()
    by_header = {c.header: c for c in columns}
    positions: dict[str, int] = {}
    ok = True
    for idx, raw in enumerate(header):
        name = _text(raw).strip().replace("（", "(").replace("）", ")")
        if not name:
            continue
        if name not in by_header:
            problems.append(Problem(_where(sheet, 1), "unknown_column", f"未知列：{name}"))
            ok = False
        elif by_header[name].field in positions:
            problems.append(Problem(_where(sheet, 1), "duplicate_column", f"列重复：{name}"))
            ok = False
        else:
            positions[by_header[name].field] = idx
    for column in columns:
        if column.field not in positions:
            problems.append(Problem(_where(sheet, 1), "missing_column", f"缺少列：{column.header}"))
            ok = False
    if not ok:
        return []
    out = []
    for number, values in enumerate(rows, start=2):
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
            continue  # blank rows between or after the data
        out.append(_Row(number, {f: values[i] if i < len(values) else None for f, i in positions.items()}))
    return out


def _convert(sheet: str, row: _Row, problems: list[Problem]) -> tuple[dict[str, Any], set[str]]:
    """Human cell values → model values, and the fields whose cells could not be read (problems added)."""
    out: dict[str, Any] = {}
    failed: set[str] = set()
    for column in SHEETS[sheet]:
        try:
            out[column.field] = column.read(row.cells[column.field])
        except CellError as exc:
            problems.append(Problem(_where(sheet, row.number, column.header), exc.code, str(exc)))
            failed.add(column.field)
    return out, failed


def _validate(model: type[M], sheet: str, row: _Row, values: dict[str, Any], failed: set[str],
              problems: list[Problem]) -> M | None:
    """The row as a model, or None with its problems added; cells already reported are not reported again."""
    try:
        parsed = model.model_validate(values)
    except ValidationError as exc:
        for p in pydantic_problems(exc.errors()):
            head = re.split(r"[.\[]", p.field, maxsplit=1)[0]
            if head not in failed:
                problems.append(Problem(_where(sheet, row.number, _header_of(sheet, p.field)), p.code, p.message))
        return None
    return None if failed else parsed


def _header_of(sheet: str, field_name: str) -> str:
    head = field_name.split(".", 1)[0].split("[", 1)[0]
    return next((c.header for c in SHEETS[sheet] if c.field == head), field_name)


@dataclass
class _ParsedMaterial:
    row: int
    position: int
    material: MaterialIn


def parse_workbook(session: Session, source: bytes | Path | IO[bytes]) -> tuple[list[ItemIn], list[Problem]]:
    """Read and check a workbook against itself and the database; raises with every problem."""
    wb = _open(source)
    problems: list[Problem] = []
    try:
        item_rows = _read_sheet(wb, ITEM_SHEET, problems)
        material_rows = _read_sheet(wb, MATERIAL_SHEET, problems)
    finally:
        wb.close()

    materials: dict[str, list[_ParsedMaterial]] = {}
    material_codes: list[tuple[_Row, str]] = []
    for row in material_rows:
        values, failed = _convert(MATERIAL_SHEET, row, problems)
        code = values.pop("item", "").strip()
        position = values.pop("position", None)
        material_codes.append((row, code))
        material = _validate(MaterialIn, MATERIAL_SHEET, row, values, failed, problems)
        if material is not None and position is not None:
            materials.setdefault(code, []).append(_ParsedMaterial(row.number, position, material))

    items: list[tuple[_Row, ItemIn]] = []
    item_codes: dict[str, int] = {}
    for row in item_rows:
        values, failed = _convert(ITEM_SHEET, row, problems)
        code = values["code"].strip()
        if code in item_codes:
            problems.append(Problem(_where(ITEM_SHEET, row.number, "实施编码"), "duplicate_code",
                                    f"编码重复：{code}（与第{item_codes[code]}行相同）"))
        elif code:
            item_codes[code] = row.number
        item = _validate(ItemIn, ITEM_SHEET, row, values, failed, problems)
        if item is not None:
            items.append((row, item))

    for row, code in material_codes:
        if code not in item_codes:
            problems.append(Problem(_where(MATERIAL_SHEET, row.number, "实施编码"), "unknown_item",
                                    f"事项表中没有此实施编码：{code}" if code else "此项必填"))
    for code, rows in materials.items():
        seen: dict[int, int] = {}
        for m in rows:
            if m.position in seen:
                problems.append(Problem(_where(MATERIAL_SHEET, m.row, "序号"), "duplicate_position",
                                        f"序号重复：{code} 的第 {m.position} 项（与第{seen[m.position]}行相同）"))
            seen.setdefault(m.position, m.row)
        rows.sort(key=lambda m: m.position)

    lookups = catalog_service.Lookups.load(session)
    warnings: list[Problem] = []
    out: list[ItemIn] = []
    for row, parsed in items:
        mats = materials.get(parsed.code, [])
        item = parsed.model_copy(update={"materials": [m.material for m in mats]})
        found = rules.item_errors(item) + catalog_service.item_reference_problems(item, lookups)
        problems.extend(_locate(p, row, mats) for p in found)
        warnings.extend(_locate(p, row, mats) for p in rules.item_warnings(item))
        out.append(item)
    if problems:
        raise ValidationFailed(sorted(problems, key=_problem_order))
    return out, warnings


def _locate(problem: Problem, row: _Row, materials: list[_ParsedMaterial]) -> Problem:
    """Put an item rule's path (``legal_limit_days``, ``materials[2].name``) on its sheet, row and column."""
    m = re.match(r"^materials\[(\d+)\]\.?(.*)$", problem.field)
    if m and int(m.group(1)) < len(materials):
        where = _where(MATERIAL_SHEET, materials[int(m.group(1))].row, _header_of(MATERIAL_SHEET, m.group(2)))
    else:
        where = _where(ITEM_SHEET, row.number, _header_of(ITEM_SHEET, problem.field))
    return Problem(where, problem.code, problem.message)


def _problem_order(problem: Problem) -> tuple[int, int]:
    m = re.match(r"^(\S+?)!第(\d+)行", problem.field)
    if m is None:
        return (-1, 0)
    return (list(SHEETS).index(m.group(1)) if m.group(1) in SHEETS else 9, int(m.group(2)))


def _open(source: bytes | Path | IO[bytes]) -> Any:
    data: Any = io.BytesIO(source) if isinstance(source, bytes) else source
    try:
        return load_workbook(data, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        if isinstance(exc, FileNotFoundError | IsADirectoryError):
            raise
        raise ValidationFailed([Problem("", "bad_workbook", f"不是有效的 Excel 工作簿（.xlsx）：{exc}")]) from None


def import_workbook(session: Session, *, clock: Clock, actor: Actor, source: bytes | Path | IO[bytes]
                    ) -> ImportReport:
    """Check the whole workbook, then save every item as a new version when its content changed."""
    items, warnings = parse_workbook(session, source)
    report = ImportReport(warnings=warnings)
    lookups = catalog_service.Lookups.load(session)
    for item in items:
        # the workbook has no procedure columns: an item's 办理规则 override survives the import
        result = catalog_service.save_item(session, clock=clock, actor=actor,
                                           data=catalog_service.keep_current_procedure(session, item),
                                           lookups=lookups, change_note="Excel 导入")
        report.bump("items", result.changed, created=result.created)
    return report
