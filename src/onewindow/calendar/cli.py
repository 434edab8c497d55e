"""Command-line commands of the calendar domain: ``onewindow calendar import|show``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from onewindow.cli_support import CLI_ACTOR, app, database_session, fail, user_errors

calendar_app = typer.Typer(help="工作日历（节假日与调休）", no_args_is_help=True)
app.add_typer(calendar_app, name="calendar")

_WEEKDAYS = "一二三四五六日"


@calendar_app.command("import")
@user_errors
def import_command(
    file: Annotated[Path, typer.Argument(help="通知文件：CSV（表头 date,kind,name；kind 为 休/班）或 JSON")],
    year: Annotated[int | None, typer.Option("--year", help="年份（JSON 文件中已写明时可省略）")] = None,
    title: Annotated[str | None, typer.Option("--title", help="通知标题（JSON 中已写明时可省略）")] = None,
) -> None:
    """Load a year's official holiday notice (replaces that year's holidays and make-up days)."""
    from onewindow.calendar import service
    from onewindow.core.clock import SystemClock

    parsed = service.read_notice_file(file)
    if year is not None and parsed.year is not None and year != parsed.year:
        fail(f"--year {year} 与文件中的年份 {parsed.year} 不一致")
    year = year if year is not None else parsed.year
    title = title if title is not None else parsed.title
    if year is None:
        fail("请用 --year 指定年份")
    if not title:
        fail("请用 --title 指定通知标题")
    with database_session() as session:
        result = service.import_notice(session, clock=SystemClock(), actor=CLI_ACTOR, year=year, title=title,
                                       rows=parsed.rows)
    verb = "已替换" if result.replaced else "已导入"
    typer.echo(f"{verb} {year} 年节假日安排：放假 {result.holidays} 天，调休上班 {result.workdays} 天")


@calendar_app.command("show")
@user_errors
def show_command(
    year: Annotated[int, typer.Argument(help="年份，如 2027")],
) -> None:
    """Show a year's holidays and make-up working days, and whether they are official or provisional."""
    from rich.console import Console
    from rich.table import Table

    from onewindow.calendar import service
    from onewindow.calendar.workdays import YearSource

    if not 1900 <= year <= 2100:
        fail(f"年份 {year} 无效")
    with database_session() as session:
        calendar = service.build_calendar(session)
        notice = next((n for n in service.list_notices(session) if n.year == year), None)
    source = calendar.year_source(year)
    status = {
        YearSource.NOTICE: f"正式（已导入通知：{notice.title if notice else ''}）",
        YearSource.OFFICIAL: "正式（国务院办公厅通知，内置数据）",
        YearSource.PROVISIONAL: "暂定（尚未导入当年通知：仅按周末和法定节日计算，无调休上班日）",
    }[source]
    console = Console()
    console.print(f"{year} 年：{status}")
    table = Table()
    for column in ("日期", "星期", "安排", "名称", "依据"):
        table.add_column(column)
    for day in calendar.special_days(year):
        basis = "管理员调整" if day.overridden and source is not YearSource.NOTICE else (
            "暂定" if day.provisional else "正式")
        table.add_row(day.day_date.isoformat(), f"星期{_WEEKDAYS[day.day_date.weekday()]}",
                      "上班" if day.workday else "放假", day.name, basis)
    console.print(table)
