"""Reading register files (CSV, Parquet, Excel) into a header and rows; the service validates them.

Heavy libraries (pyarrow, openpyxl) are imported only when a file of their kind is read.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from openpyxl import load_workbook

from onewindow.core.errors import Problem, ValidationFailed

SUFFIXES = (".csv", ".parquet", ".xlsx")


def read_table(path: Path) -> tuple[list[str], list[list[Any]]]:
    """The header and the data rows of a register file (blank rows skipped)."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _csv(path)
    if suffix == ".parquet":
        return _parquet(path)
    if suffix == ".xlsx":
        return _xlsx(path)
    raise ValidationFailed([Problem("file", "unsupported_file", f"不支持的文件类型：{path.suffix or '无扩展名'}"
                                                               f"（可用：{' / '.join(SUFFIXES)}）")])


def _empty(path: Path) -> ValidationFailed:
    return ValidationFailed([Problem("file", "empty_file", f"文件没有表头行：{path.name}")])


def _csv(path: Path) -> tuple[list[str], list[list[Any]]]:
    try:
        text = path.read_text("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationFailed([Problem("file", "bad_encoding", "CSV 文件应为 UTF-8 编码")]) from None
    rows = list(csv.reader(text.splitlines()))
    if not rows:
        raise _empty(path)
    return [c.strip() for c in rows[0]], [r for r in rows[1:] if any(c.strip() for c in r)]


def _parquet(path: Path) -> tuple[list[str], list[list[Any]]]:
    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises several types for a damaged file
        raise ValidationFailed([Problem("file", "bad_file", f"无法读取 Parquet 文件：{exc}")]) from None
    columns = table.to_pydict()
    header = list(columns)
    rows = [[columns[c][i] for c in header] for i in range(table.num_rows)]
    return header, rows


def _xlsx(path: Path) -> tuple[list[str], list[list[Any]]]:
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # zipfile / XML errors of a damaged workbook
        raise ValidationFailed([Problem("file", "bad_file", f"无法读取 Excel 文件：{exc}")]) from None
    sheet = book.worksheets[0]
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    book.close()
    if not rows:
        raise _empty(path)
    header = ["" if c is None else str(c).strip() for c in rows[0]]
    return header, [r for r in rows[1:] if any(c not in (None, "") for c in r)]
