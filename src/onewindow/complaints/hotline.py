"""Reading and checking a 12345 hotline export (CSV, JSON or Excel) into typed rows.

Pure (standard library and openpyxl; no database): the importer hands in what it knows of the center (the
department codes and names, the service item codes) and gets back every row checked, or every problem of every
row at once, each naming the row and the field (``rows[7].category`` / "第 7 行（诉求类型）：…"). Nothing is
written by this module, so a file with one bad row leaves the database untouched.

Columns (Chinese or English headers; the first line / first sheet row is the header, the first data row is
row 2 as a spreadsheet shows it; a JSON file is a list of objects, its first record is row 1):

=====================  ================================  ====================================================
English                中文                               meaning
=====================  ================================  ====================================================
external_number        工单编号 / 12345工单号               the hotline's order number (required, unique)
accepted_at            受理时间 / 来电时间                  when 12345 accepted it: ``2026-11-20 09:15[:00]``,
                                                         ``2026/11/20 9:15``, ISO 8601; China time unless an
                                                         offset is given (required; the clock starts here)
category               诉求类型 / 类别                     咨询 / 求助 / 建议 / 投诉 / 举报 (or the English
                                                         value: consult, help, suggest, complain, report)
urgent                 是否紧急 / 紧急程度                  是 / 否 / 紧急 / 一般 / true / false / 1 / 0
subject                诉求标题 / 标题                     required, at most 200 characters
content                诉求内容 / 内容                     required, at most 5,000 characters
complainant_name       诉求人 / 来电人 / 姓名               required unless anonymous
complainant_phone      联系电话 / 来电号码                  mobile or landline; required unless anonymous
complainant_id_number  身份证号 / 公民身份号码               optional; checked (GB 11643) when given
anonymous              是否匿名                            是 / 否 (default 否)
department             承办单位 / 主办单位 / 责任单位         optional: a department code, name or short name;
                                                         given, the order arrives dispatched to it (主办)
item_code              事项编码 / 实施编码                  optional: a service item of the catalog
=====================  ================================  ====================================================
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from onewindow.complaints.states import Category
from onewindow.core.clock import CHINA_TZ
from onewindow.core.errors import Problem, ValidationFailed
from onewindow.core.ids import validate_id_number

MAX_BYTES = 100 * 1024 * 1024
MAX_ROWS = 500_000
MAX_PROBLEMS = 200  # a file that is wrong everywhere is reported by its first problems, not megabytes of them
SUBJECT_MAX = 200
CONTENT_MAX = 5000
NAME_MAX = 100
NUMBER_MAX = 40

FIELDS: dict[str, str] = {
    "external_number": "工单编号", "accepted_at": "受理时间", "category": "诉求类型", "urgent": "是否紧急",
    "subject": "诉求标题", "content": "诉求内容", "complainant_name": "诉求人", "complainant_phone": "联系电话",
    "complainant_id_number": "身份证号", "anonymous": "是否匿名", "department": "承办单位", "item_code": "事项编码",
}
ALIASES: dict[str, str] = {
    "工单编号": "external_number", "12345工单号": "external_number", "12345工单编号": "external_number",
    "热线工单编号": "external_number", "工单号": "external_number",
    "受理时间": "accepted_at", "来电时间": "accepted_at", "登记时间": "accepted_at",
    "诉求类型": "category", "类别": "category", "工单类型": "category", "诉求类别": "category",
    "是否紧急": "urgent", "紧急程度": "urgent", "紧急": "urgent",
    "诉求标题": "subject", "标题": "subject", "主题": "subject",
    "诉求内容": "content", "内容": "content", "问题描述": "content",
    "诉求人": "complainant_name", "来电人": "complainant_name", "姓名": "complainant_name",
    "联系电话": "complainant_phone", "来电号码": "complainant_phone", "电话": "complainant_phone",
    "身份证号": "complainant_id_number", "公民身份号码": "complainant_id_number",
    "身份证号码": "complainant_id_number",
    "是否匿名": "anonymous", "匿名": "anonymous",
    "承办单位": "department", "主办单位": "department", "责任单位": "department", "承办部门": "department",
    "事项编码": "item_code", "实施编码": "item_code",
}
REQUIRED_COLUMNS = ("external_number", "accepted_at", "category", "subject", "content")

# The five kinds of 诉求 (the complaint's ``category`` column) and the words a hotline export uses for them.
CATEGORY_WORDS: dict[str, Category] = {
    **{c.label: c for c in Category}, **{c.value: c for c in Category},
    "意见建议": Category.SUGGEST, "求决": Category.HELP,
}
_YES = frozenset({"是", "y", "yes", "true", "1", "紧急", "特急", "加急", "匿名"})
_NO = frozenset({"", "否", "n", "no", "false", "0", "一般", "普通", "非紧急", "实名"})
_NUMBER = re.compile(r"^[0-9A-Za-z][0-9A-Za-z\-_/]{0,39}$")
_PHONE = re.compile(r"^(?:1[3-9]\d{9}|0\d{2,3}-?\d{7,8}(?:-\d{1,6})?|\d{7,8})$")
_TIME = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?"
                   r"(?:[ T]+(\d{1,2})[:时](\d{1,2})(?:[:分](\d{1,2})(?:\.\d+)?秒?)?)?$")


@dataclass(frozen=True, slots=True)
class HotlineRow:
    """One checked 12345 order, ready to be written."""

    row: int
    external_number: str
    accepted_at: dt.datetime  # aware
    category: Category
    urgent: bool
    subject: str
    content: str
    complainant_name: str
    complainant_phone: str
    complainant_id_number: str | None
    anonymous: bool
    department_id: int | None
    item_code: str | None


@dataclass(frozen=True)
class Directory:
    """What the checker needs to know of the center: departments by code / name, and the item codes."""

    departments: Mapping[str, int]  # code (upper case), name and short name → id
    item_codes: frozenset[str]


@dataclass(frozen=True)
class RawFile:
    """The rows of a file as dictionaries keyed by the English field, and how the file numbers its first row."""

    rows: list[dict[str, Any]]
    first_row: int


def canonical_key(name: str) -> str | None:
    """The English field a header names (English or Chinese, case and spaces ignored), or None."""
    key = unicodedata.normalize("NFKC", str(name)).strip().lstrip("\ufeff")
    if key.lower() in FIELDS:
        return key.lower()
    return ALIASES.get(key.replace(" ", ""))


def _file_problem(code: str, message: str) -> ValidationFailed:
    return ValidationFailed([Problem("file", code, message)])


def _keyed(header: Sequence[Any]) -> list[str | None]:
    keys = [canonical_key(str(h)) if h not in (None, "") else None for h in header]
    missing = [k for k in REQUIRED_COLUMNS if k not in keys]
    if missing:
        raise _file_problem("columns_missing", "缺少列：" + "、".join(f"{FIELDS[k]}（{k}）" for k in missing))
    doubled = sorted({k for k in keys if k is not None and keys.count(k) > 1})
    if doubled:
        raise _file_problem("columns_doubled", "列重复：" + "、".join(FIELDS[k] for k in doubled))
    return keys


def _blank(values: Iterable[Any]) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in values)


def _table(header: Sequence[Any], body: Iterable[Sequence[Any]], first_row: int) -> RawFile:
    keys = _keyed(header)
    rows: list[dict[str, Any]] = []
    for values in body:
        if len(rows) >= MAX_ROWS:
            raise _file_problem("too_many_rows", f"一次最多导入 {MAX_ROWS} 行")
        # a blank line keeps its number (so row numbers match the spreadsheet) but carries nothing to check
        rows.append({} if _blank(values) else {k: v for k, v in zip(keys, values, strict=False) if k is not None})
    return RawFile(rows, first_row)


def read_bytes(data: bytes, filename: str) -> RawFile:
    """The rows of an uploaded or read file, by its name's suffix (.csv, .json, .xlsx)."""
    if len(data) > MAX_BYTES:
        raise _file_problem("file_too_large", "文件超过 100 MB")
    suffix = Path(filename).suffix.lower()
    if suffix == ".csv":
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise _file_problem("file_encoding", "CSV 文件应为 UTF-8 编码") from None
        reader = csv.reader(io.StringIO(text, newline=""))
        header = next(reader, None)
        if header is None:
            raise _file_problem("empty_file", "文件没有表头行")
        return _table(header, reader, 2)
    if suffix == ".json":
        try:
            loaded = json.loads(data.decode("utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            where = f"（第 {exc.lineno} 行第 {exc.colno} 列）" if isinstance(exc, json.JSONDecodeError) else ""
            raise _file_problem("json_invalid", f"JSON 格式错误{where}") from None
        if isinstance(loaded, dict) and isinstance(loaded.get("orders"), list):
            loaded = loaded["orders"]
        if not isinstance(loaded, list):
            raise _file_problem("json_not_list", "JSON 文件应为工单记录的列表（或含 orders 列表的对象）")
        if len(loaded) > MAX_ROWS:
            raise _file_problem("too_many_rows", f"一次最多导入 {MAX_ROWS} 行")
        rows: list[dict[str, Any]] = []
        for record in loaded:
            if isinstance(record, dict):
                rows.append({k: v for k, v in ((canonical_key(str(n)), v) for n, v in record.items())
                             if k is not None})
            else:
                rows.append({"__not_object__": True})
        return RawFile(rows, 1)
    if suffix == ".xlsx":
        return _xlsx(data)
    raise _file_problem("file_type", f"不支持的文件类型：{suffix or '无扩展名'}（可用：.csv / .json / .xlsx）")


def _xlsx(data: bytes) -> RawFile:
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # zipfile / XML errors of a damaged workbook
        raise _file_problem("bad_file", "无法读取 Excel 文件（应为 .xlsx 工作簿）") from None
    try:
        sheet = book.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            raise _file_problem("empty_file", "工作表没有表头行")
        return _table(list(header), (list(r) for r in rows), 2)
    finally:
        book.close()


def read_file(path: Path) -> RawFile:
    """The rows of a file on disk (.csv, .json, .xlsx)."""
    if path.stat().st_size > MAX_BYTES:
        raise _file_problem("file_too_large", "文件超过 100 MB")
    return read_bytes(path.read_bytes(), path.name)


# ----- checking ---------------------------------------------------------------------------------------------


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a phone number typed into Excel arrives as a number
    return unicodedata.normalize("NFKC", str(value)).strip()


def parse_time(value: Any) -> dt.datetime | None:
    """An aware time from a cell: an Excel datetime or date, or text; naive times are China time."""
    if isinstance(value, dt.datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=CHINA_TZ)
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time(0), tzinfo=CHINA_TZ)
    text = _text(value)
    if not text:
        return None
    m = _TIME.match(text)
    if m is not None:
        try:
            return dt.datetime(int(m[1]), int(m[2]), int(m[3]), int(m[4] or 0), int(m[5] or 0), int(m[6] or 0),
                               tzinfo=CHINA_TZ)
        except ValueError:
            return None
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=CHINA_TZ)


def _flag(value: Any) -> bool | None:
    text = _text(value).lower()
    if text in _YES:
        return True
    if text in _NO:
        return False
    return None


def normalise_phone(value: str) -> str:
    """A phone number as stored: NFKC, no spaces, a leading +86 / 86 dropped from mobiles."""
    phone = re.sub(r"[\s()（）]+", "", unicodedata.normalize("NFKC", value))
    if re.fullmatch(r"(?:\+?86)1[3-9]\d{9}", phone):
        phone = phone[-11:]
    return phone


def check_rows(raw: RawFile, directory: Directory, *, now: dt.datetime) -> list[HotlineRow]:
    """Every row checked (required fields, category, times, phone, ID, department, item, duplicates in the
    file), or ValidationFailed listing the problems of every row (up to ``MAX_PROBLEMS``)."""
    if not raw.rows:
        raise _file_problem("empty_file", "文件中没有工单")
    problems: list[Problem] = []
    out: list[HotlineRow] = []
    seen: dict[str, int] = {}
    for i, values in enumerate(raw.rows):
        n = raw.first_row + i
        if not values:
            continue  # a blank line
        row = _check_row(n, values, directory, now, seen, problems)
        if row is not None:
            out.append(row)
        if len(problems) >= MAX_PROBLEMS:
            problems.append(Problem("file", "too_many_problems", f"问题过多，只列出前 {MAX_PROBLEMS} 条"))
            break
    if problems:
        raise ValidationFailed(problems)
    if not out:
        raise _file_problem("empty_file", "文件中没有工单")
    return out


def _check_row(n: int, values: Mapping[str, Any], directory: Directory, now: dt.datetime, seen: dict[str, int],
               problems: list[Problem]) -> HotlineRow | None:
    before = len(problems)

    def bad(key: str, code: str, message: str) -> None:
        problems.append(Problem(f"rows[{n}].{key}", code, f"第 {n} 行（{FIELDS.get(key, key)}）：{message}"))

    if values.get("__not_object__"):
        problems.append(Problem(f"rows[{n}]", "row_not_object", f"第 {n} 行：应为一条工单记录（对象）"))
        return None
    text = {k: _text(values.get(k)) for k in FIELDS if k != "accepted_at"}

    number = text["external_number"]
    if not number:
        bad("external_number", "external_number_required", "缺少工单编号")
    elif len(number) > NUMBER_MAX or not _NUMBER.match(number):
        bad("external_number", "external_number_format", f"工单编号只能含字母、数字和 - _ /，最长 {NUMBER_MAX} 位")
    elif number in seen:
        bad("external_number", "duplicate_in_file", f"工单编号 {number} 与第 {seen[number]} 行重复")
    else:
        seen[number] = n

    accepted = parse_time(values.get("accepted_at"))
    if accepted is None:
        shown = _text(values.get("accepted_at"))
        bad("accepted_at", "accepted_at_required" if not shown else "accepted_at_format",
            "缺少受理时间" if not shown else f"受理时间“{shown[:30]}”无法识别（如 2026-11-20 09:15）")
    elif accepted > now:
        bad("accepted_at", "accepted_at_future", "受理时间晚于现在")

    category = CATEGORY_WORDS.get(text["category"].lower())
    if category is None:
        bad("category", "category_required" if not text["category"] else "category_unknown",
            "缺少诉求类型" if not text["category"]
            else f"诉求类型“{text['category'][:20]}”无效（咨询 / 求助 / 建议 / 投诉 / 举报）")

    urgent = _flag(values.get("urgent"))
    if urgent is None:
        bad("urgent", "urgent_invalid", f"是否紧急“{text['urgent'][:20]}”无效（是 / 否）")
    anonymous = _flag(values.get("anonymous"))
    if anonymous is None:
        bad("anonymous", "anonymous_invalid", f"是否匿名“{text['anonymous'][:20]}”无效（是 / 否）")

    subject, content = text["subject"], text["content"]
    if not subject:
        bad("subject", "subject_required", "缺少诉求标题")
    elif len(subject) > SUBJECT_MAX:
        bad("subject", "subject_too_long", f"诉求标题不能超过 {SUBJECT_MAX} 字")
    if not content:
        bad("content", "content_required", "缺少诉求内容")
    elif len(content) > CONTENT_MAX:
        bad("content", "content_too_long", f"诉求内容不能超过 {CONTENT_MAX} 字")

    name = text["complainant_name"]
    phone = normalise_phone(text["complainant_phone"])
    if len(name) > NAME_MAX:
        bad("complainant_name", "name_too_long", f"诉求人姓名不能超过 {NAME_MAX} 字")
    if not anonymous and not name:
        bad("complainant_name", "name_required", "实名诉求须填写诉求人（匿名诉求请在“是否匿名”填“是”）")
    if phone and not _PHONE.match(phone):
        bad("complainant_phone", "phone_format", "联系电话应为 11 位手机号码或带区号的固定电话")
    elif not anonymous and not phone:
        bad("complainant_phone", "phone_required", "实名诉求须填写联系电话，以便答复和回访")

    id_number: str | None = None
    if text["complainant_id_number"]:
        try:
            id_number = validate_id_number(text["complainant_id_number"], field="complainant_id_number")
        except ValidationFailed as exc:
            bad("complainant_id_number", exc.code, exc.message)

    department_id: int | None = None
    if text["department"]:
        department_id = directory.departments.get(text["department"].upper(),
                                                  directory.departments.get(text["department"]))
        if department_id is None:
            bad("department", "unknown_department", f"未知的承办单位：{text['department'][:40]}")
    item_code = text["item_code"] or None
    if item_code is not None and item_code not in directory.item_codes:
        bad("item_code", "unknown_item", f"未知的事项编码：{item_code[:60]}")

    if len(problems) > before or accepted is None or category is None or urgent is None or anonymous is None:
        return None
    return HotlineRow(row=n, external_number=number, accepted_at=accepted, category=category, urgent=urgent,
                      subject=subject, content=content, complainant_name=name or "匿名", complainant_phone=phone,
                      complainant_id_number=id_number, anonymous=anonymous, department_id=department_id,
                      item_code=item_code)


# ----- writing files (the bench, tests and the upload page's template) ------------------------------------


TEMPLATE_HEADER = [FIELDS[k] for k in FIELDS]


def to_csv(rows: Iterable[Mapping[str, Any]]) -> str:
    """A CSV with the Chinese header from dictionaries keyed by the English fields (missing keys empty)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(TEMPLATE_HEADER)
    for r in rows:
        writer.writerow(["" if r.get(k) is None else r[k] for k in FIELDS])
    return buf.getvalue()
