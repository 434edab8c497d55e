"""Reading a department's certificate register from CSV (Chinese or English headers) or JSON.

CSV columns (UTF-8, with or without BOM; the first line is the header):

==================  ===============================  ==============================================
English             中文                              meaning
==================  ===============================  ==============================================
type                证照类型 / 证照类型编码             certificate type code, e.g. ``BIZ_LICENSE``
number              证照编号                          number, unique within the type
holder_id           持证主体代码 / 证件号码             公民身份号码 or 统一社会信用代码
holder_name         持证主体名称 / 持证人               name of the person or enterprise
issuer              发证机关                          optional; the type's issuer when empty
issued_date         发证日期                          ``YYYY-MM-DD`` (also ``YYYY/MM/DD``, ``YYYY年M月D日``)
expires_date        有效期至 / 截止日期                 empty or ``长期`` for 长期有效
status              状态                              optional: 有效 (default) / 已注销
check_code          校验码                            optional; generated when empty
==================  ===============================  ==============================================

Any other column is kept in the certificate's ``data`` under its header. A JSON file is a list of
objects with the same keys (English or Chinese); ``data`` may be an object.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from onewindow.core.errors import Problem, ValidationFailed

ALIASES: dict[str, str] = {
    "证照类型": "type", "证照类型编码": "type", "证照编号": "number", "持证主体代码": "holder_id",
    "证件号码": "holder_id", "持证人证件号码": "holder_id", "统一社会信用代码": "holder_id",
    "公民身份号码": "holder_id", "持证主体名称": "holder_name", "持证人": "holder_name",
    "持证主体": "holder_name", "发证机关": "issuer", "发证日期": "issued_date", "有效期至": "expires_date",
    "截止日期": "expires_date", "有效期截止日期": "expires_date", "状态": "status", "校验码": "check_code",
    "数据": "data",
}
KNOWN = ("type", "number", "holder_id", "holder_name", "issuer", "issued_date", "expires_date", "status",
         "check_code", "data")
MAX_BYTES = 100 * 1024 * 1024


def canonical_key(name: str) -> str | None:
    """The English field a header names, or None for an extra column."""
    key = name.strip().lstrip("\ufeff")
    if key.lower() in KNOWN:
        return key.lower()
    return ALIASES.get(key)


def _canonical_row(raw: dict[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for name, value in raw.items():
        if name is None:  # csv puts cells beyond the header under None
            continue
        key = canonical_key(str(name))
        if key is None:
            if value not in (None, ""):
                extra[str(name).strip()] = value
        else:
            row[key] = value
    if extra:
        data = row.get("data")
        row["data"] = {**extra, **data} if isinstance(data, dict) else extra
    return row


def read_rows(path: Path) -> tuple[list[dict[str, Any]], int]:
    """The rows of a CSV or JSON register and how the file numbers the first row (2 for CSV, 1 for JSON)."""
    if path.stat().st_size > MAX_BYTES:
        raise ValidationFailed([Problem("file", "file_too_large", "文件超过 100 MB")])
    suffix = path.suffix.lower()
    try:
        text = path.read_text("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationFailed([Problem("file", "file_encoding", "文件应为 UTF-8 编码")]) from None
    if suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValidationFailed([Problem("file", "json_invalid",
                                            f"JSON 格式错误（第 {exc.lineno} 行第 {exc.colno} 列）")]) from None
        if not isinstance(data, list):
            raise ValidationFailed([Problem("file", "json_not_list", "JSON 文件应为证照记录的列表")])
        return [_canonical_row(r) if isinstance(r, dict) else r for r in data], 1
    if suffix == ".csv":
        reader = csv.DictReader(io.StringIO(text))
        header = reader.fieldnames or []
        missing = [k for k in ("type", "number", "holder_id", "holder_name", "issued_date")
                   if k not in {canonical_key(h) for h in header}]
        if missing:
            raise ValidationFailed([Problem("file", "columns_missing", "CSV 缺少列：" + "、".join(missing))])
        return [_canonical_row(dict(r)) for r in reader], 2
    raise ValidationFailed([Problem("file", "file_type", "只支持 .csv 或 .json 文件")])
