"""The dashboard's downloads: every table as Excel and CSV, and the monthly report (PDF with charts).

Cells pass through ``mask_text`` (no personal number leaves a download whole) and a cell that would start a
formula is quoted.

The files are drawn from the same ``Table`` / ``Tile`` / ``Chart`` the pages show, so a download never
disagrees with the page it was taken from.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font, PatternFill

from onewindow.analytics.dashboard import Chart, Query, Table, Tile
from onewindow.core.pdf import NoticePdf
from onewindow.core.personal import mask_text

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv; charset=utf-8"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _safe(value: str) -> str:
    # a cell that starts like a formula is shown as text (CSV/Excel injection), illegal characters dropped
    value = ILLEGAL_CHARACTERS_RE.sub("", mask_text(value))  # no personal number leaves whole
    return "'" + value if value.startswith(_FORMULA_START) and not _is_number(value) else value


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def _head(table: Table, query: Query) -> str:
    return f"{table.title}（{query.date_from.isoformat()} 至 {query.date_to.isoformat()}）"


def to_csv(table: Table) -> bytes:
    """The table as UTF-8 CSV with a BOM (Excel opens it in Chinese), the header row first."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([c.label for c in table.columns])
    for row in table.cells():
        writer.writerow([_safe(cell) for cell in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(table: Table, query: Query) -> bytes:
    """The table as an Excel workbook: a title line, the header row, then the rows (numbers kept numbers)."""
    wb = Workbook()
    for sheet in list(wb.worksheets):
        wb.remove(sheet)
    ws = wb.create_sheet(table.title[:31])
    ws.append([_head(table, query)])
    ws["A1"].font = Font(bold=True, size=13)
    ws.append([c.label for c in table.columns])
    for cell in ws[2]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="E6E6E6")
    for row in table.rows:
        values: list[object] = []
        for c in table.columns:
            v = row.get(c.key)
            values.append(v if isinstance(v, int | float) and not isinstance(v, bool) else _safe(_cell(v)))
        ws.append(values)
    for i, c in enumerate(table.columns):
        ws.column_dimensions[chr(ord("A") + i) if i < 26 else "Z"].width = max(10, len(c.label) * 2 + 4)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _cell(value: object) -> str:
    return "" if value is None else str(value)


def filename(key: str, query: Query, ext: str) -> str:
    """An ASCII file name: ``dashboard-league-2026-11-01-2026-11-30.xlsx``."""
    return f"dashboard-{key}-{query.date_from.isoformat()}-{query.date_to.isoformat()}.{ext}"


@dataclass(frozen=True)
class MonthlyReport:
    """What the monthly report prints: this month's and last month's indicators, the charts and tables."""

    month: dt.date  # its first day
    tiles: Sequence[Tile]
    previous: Sequence[Tile]
    charts: Sequence[Chart]
    tables: Sequence[Table]
    center: str = "政务服务中心"


def changes(current: Sequence[Tile], previous: Sequence[Tile]) -> list[tuple[str, str, str, str]]:
    """Each indicator this month, last month and the change (percentage points for rates)."""
    before = {t.code: t for t in previous}
    out: list[tuple[str, str, str, str]] = []
    for tile in current:
        prev = before.get(tile.code)
        change = "—"
        if prev is not None and tile.value is not None and prev.value is not None:
            delta = tile.value - prev.value
            change = f"{delta:+.2f}".rstrip("0").rstrip(".")
            if change in ("+", "-"):
                change = "0"
        out.append((tile.label, tile.text, prev.text if prev else "—", change))
    return out


def monthly_pdf(report: MonthlyReport, *, printed_at: dt.datetime, font_paths: Sequence[str] | None = None) -> bytes:
    """The monthly analysis report: main indicators with the month's changes, the charts, the tables."""
    title = f"{report.month.year}年{report.month.month}月政务服务运行分析报告"
    pdf = NoticePdf(title, report.center, footer=f"{report.center} · 统计分析", font_paths=font_paths,
                    created_at=printed_at)
    pdf.heading("一、主要指标")
    rows = changes(report.tiles, report.previous)
    pdf.table(["指标", "本月", "上月", "变化"], [list(r) for r in rows], widths=[3, 2, 2, 1.5])
    low = [t.label for t in report.tiles if t.low_sample]
    if low:
        pdf.paragraph("样本不足、不宜比较的指标：" + "、".join(low) + "。")
    pdf.heading("二、趋势与分布")
    for chart in report.charts:
        pdf.chart(chart.title, list(chart.categories), [(s.name, list(s.values)) for s in chart.series],
                  kind="bar" if chart.kind == "bar" else "line")
    for n, table in enumerate(report.tables, start=3):
        pdf.heading(f"{_numeral(n)}、{table.title}")
        if table.note:
            pdf.paragraph(table.note)
        if table.rows:
            pdf.table([c.label for c in table.columns], [[mask_text(c) for c in row] for row in table.cells()])
        else:
            pdf.paragraph("本月没有数据。")
    pdf.signature([report.center, printed_at.strftime("%Y年%m月%d日")])
    return pdf.to_bytes()


def _numeral(n: int) -> str:
    return "一二三四五六七八九十"[n - 1] if 1 <= n <= 10 else str(n)
