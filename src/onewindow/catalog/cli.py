"""Command-line commands of the catalog domain: ``onewindow catalog import|export FILE``.

The file's extension picks the format: ``.json`` is a whole catalog (the shape of
catalog-reference.json), ``.xlsx`` carries items and materials only. A bad file, a missing file,
broken JSON or an unsupported extension print one line per problem on stderr and exit 1.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from onewindow.cli_support import CLI_ACTOR, app, database_session, echo_json, fail, user_errors
from onewindow.core.clock import SystemClock

if TYPE_CHECKING:
    from onewindow.catalog.importer import ImportReport

catalog_app = typer.Typer(help="事项库：导入与导出（.json 完整目录 / .xlsx 事项与材料）", no_args_is_help=True)
app.add_typer(catalog_app, name="catalog")

FORMATS = (".json", ".xlsx")
SECTION_LABELS = {
    "regions": "行政区划", "halls": "大厅", "departments": "部门", "hall_categories": "大厅分类",
    "certificate_types": "证照类型", "items": "事项", "retired_items": "停用事项", "bundles": "一件事",
    "negative_list": "负面清单", "policies": "免申即享政策", "entity_fields": "主体字段",
}


def _format_of(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        fail(f"不支持的文件类型：{path.name}（可用：{' / '.join(FORMATS)}）")
    return suffix


def read_json_file(path: Path) -> Any:
    """A JSON file's content; a missing file, bad encoding or bad syntax exits 1 with the place."""
    try:
        text = path.read_text(encoding="utf-8-sig")  # tolerate the BOM some Windows editors add
    except UnicodeDecodeError:
        fail(f"{path}: 文件不是 UTF-8 编码")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        fail(f"{path}: 第 {exc.lineno} 行第 {exc.colno} 列：JSON 格式错误（{exc.msg}）")


@catalog_app.command("import")
@user_errors
def import_command(
    file: Annotated[Path, typer.Argument(help="目录文件（.json）或事项工作簿（.xlsx）", show_default=False,
                                         metavar="FILE")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="只校验并报告将发生的变更，不写入")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出结果")] = False,
) -> None:
    """Import a catalog (.json) or items workbook (.xlsx); nothing is written if any row is wrong."""
    fmt = _format_of(file)
    if not file.is_file():
        fail(f"文件不存在：{file}" if not file.exists() else f"不是文件：{file}")
    data = read_json_file(file) if fmt == ".json" else None
    with database_session() as session:
        if data is not None:
            from onewindow.county_file import import_catalog

            report = import_catalog(session, clock=SystemClock(), actor=CLI_ACTOR, data=data)
        else:
            from onewindow.catalog.excel import import_workbook

            report = import_workbook(session, clock=SystemClock(), actor=CLI_ACTOR, source=file)
        if dry_run:
            session.rollback()
    if as_json:
        echo_json({"file": str(file), "dry_run": dry_run, **report.as_dict()})
    else:
        _print_report(report, file, dry_run=dry_run)


def _print_report(report: ImportReport, file: Path, *, dry_run: bool) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False)
    table = Table(title="校验结果（未写入）" if dry_run else "导入结果")
    for header in ("部分", "新建", "变更", "未变"):
        table.add_column(header, justify="left" if header == "部分" else "right")
    totals = [0, 0, 0]
    for section in report.sections():
        row = report.row(section)
        totals = [a + b for a, b in zip(totals, row, strict=True)]
        table.add_row(SECTION_LABELS.get(section, section), *(str(n) for n in row))
    table.add_row("合计", *(str(n) for n in totals), style="bold")
    console.print(table)
    for warning in report.warnings:
        console.print(f"警告：{warning.line()}", markup=False, soft_wrap=True)
    verb = "将" if dry_run else "已"
    summary = f"{verb}新建 {totals[0]} 条，{verb}变更 {totals[1]} 条，未变 {totals[2]} 条"
    if report.warnings:
        summary += f"，警告 {len(report.warnings)} 条"
    head = f"{file.name} 校验通过，未写入：" if dry_run else f"{file.name} 导入完成："
    console.print(head + summary, markup=False, soft_wrap=True)


@catalog_app.command("export")
@user_errors
def export_command(
    file: Annotated[Path, typer.Argument(help="导出到（.json 完整目录 / .xlsx 在用事项与材料）", show_default=False,
                                         metavar="FILE")],
) -> None:
    """Export the catalog: .json in the shape of catalog-reference.json, .xlsx with items and materials."""
    fmt = _format_of(file)
    if not file.parent.is_dir():
        fail(f"目录不存在：{file.parent}")
    if file.is_dir():
        fail(f"不是文件：{file}")
    with database_session() as session:
        if fmt == ".json":
            from onewindow.county_file import export_catalog

            catalog = export_catalog(session)
            content = (json.dumps(catalog, ensure_ascii=False, indent=2) + "\n").encode()
            count = len(catalog["items"])
        else:
            from onewindow.catalog import service as catalog_service
            from onewindow.catalog.excel import export_workbook

            content = export_workbook(session)
            count = catalog_service.list_items(session, catalog_service.ItemFilters(), limit=1)[1]
    _write_atomically(file, content)
    typer.echo(f"已导出 {count} 个事项到 {file}")


def _write_atomically(path: Path, content: bytes) -> None:
    """Write beside the target and rename, so a failed export never leaves half a file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o644)  # an export is meant to be shared, unlike mkstemp's private default
        with os.fdopen(fd, "wb") as fh:
            fh.write(content)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise

