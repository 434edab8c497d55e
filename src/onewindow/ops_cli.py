"""Operations commands: ``onewindow backup DIR`` and ``onewindow restore DIR`` (see docs/operations.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from onewindow import backup, db, loadbench
from onewindow.cli_support import app, bench_app, echo_json, fail, open_database, user_errors
from onewindow.config import get_settings
from onewindow.core.clock import SystemClock


@app.command("backup")
@user_errors
def backup_command(
    directory: Annotated[Path, typer.Argument(metavar="DIR", help="备份目录（新目录或空目录）")],
) -> None:
    """Back up the database (online, while the server runs) and the uploads folder into DIR."""
    settings = get_settings()
    engine, _factory = open_database(settings, quiet=True)
    report = backup.backup(engine, settings.upload_dir, directory, clock=SystemClock())
    echo_json(report.as_dict())


@app.command("restore")
@user_errors
def restore_command(
    directory: Annotated[Path, typer.Argument(metavar="DIR", help="由 onewindow backup 写出的备份目录")],
) -> None:
    """Restore a backup into the configured database, which must be empty (a new database), and check it."""
    settings = get_settings()
    if not directory.is_dir():
        fail(f"备份目录不存在：{directory}")
    engine = db.engine_for(settings)
    try:
        empty = db.is_empty(engine)
    except Exception as exc:  # an unreachable server is a user problem here
        fail(f"无法打开数据库 {settings.database_url}：{exc.__class__.__name__}")
    if not empty:
        fail("目标数据库不是空的：恢复只写入新建的空数据库")
    report = backup.restore(engine, settings.upload_dir, directory)
    echo_json(report.as_dict())


@bench_app.command("api")
@user_errors
def bench_api(
    workers: Annotated[int, typer.Option(min=1, max=16, help="服务工作进程数（多于 1 个需要 PostgreSQL）")] = 1,
    clients: Annotated[int, typer.Option(min=1, max=64, help="并发客户端数")] = 16,
    seconds: Annotated[float, typer.Option(min=1, max=120, help="压测秒数")] = 10,
    database_url: Annotated[str | None, typer.Option(help="空数据库或演示数据库（默认临时 SQLite 文件）")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON")] = True,
    sqlite_synchronous: Annotated[str, typer.Option(
        help="SQLite 提交落盘方式：full（断电不丢，默认）或 normal（进程崩溃不丢）")] = "full",
    mix: Annotated[str, typer.Option(
        help="负载构成：rush（开门高峰：取号、号票状态、大厅实况，默认）或 "
             "day（一个工作日：取号、叫号办结、受理、审批、好差评、统计分析）")] = "rush",
) -> None:
    """Serve the app on loopback and drive the opening rush (``--mix rush``: ticket issue, ticket status, hall
    state) or a working day (``--mix day``: every operation of the API a hall makes); print figures and
    invariants."""
    if workers > 1 and not (database_url or "").startswith("postgresql"):
        fail("多个工作进程（--workers）需要 PostgreSQL：请用 --database-url 指定一个 PostgreSQL 数据库")
    if sqlite_synchronous not in db.SYNCHRONOUS_MODES:
        fail("--sqlite-synchronous 只能是 full 或 normal")
    if mix not in loadbench.MIXES:
        fail("--mix 只能是 rush 或 day")
    report = loadbench.run(database_url=database_url, workers=workers, clients=clients, seconds=seconds,
                           sqlite_synchronous=sqlite_synchronous, mix=mix)
    echo_json(report)
    if report["invariant_violations"]:
        raise typer.Exit(1)
