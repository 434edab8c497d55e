"""Kernel commands: database upgrade, serve, audit verification, demo data."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from onewindow.cli_support import app, db_app, echo_json, fail, open_database, user_errors
from onewindow.config import get_settings
from onewindow.core.clock import SystemClock

audit_app = typer.Typer(help="审计日志", no_args_is_help=True)
demo_app = typer.Typer(help="演示数据", no_args_is_help=True)
app.add_typer(audit_app, name="audit")
app.add_typer(demo_app, name="demo")


@db_app.command("upgrade")
@user_errors
def db_upgrade() -> None:
    """Create or upgrade the database schema to the newest version."""
    from onewindow import db

    engine, _ = open_database(quiet=True)
    typer.echo(f"数据库结构版本：{db.current_revision(engine)}（{get_settings().database_url}）")


@app.command("serve")
@user_errors
def serve(
    host: Annotated[str, typer.Option(help="监听地址")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="端口（默认读取环境变量 PORT，否则 8000）")] = 0,
) -> None:
    """Serve the web app and API on the configured database."""
    import uvicorn

    from onewindow.main import create_app

    port = port or int(os.environ.get("PORT", "8000"))
    open_database()
    uvicorn.run(create_app(), host=host, port=port, log_level="info")


@audit_app.command("verify")
@user_errors
def audit_verify(as_json: Annotated[bool, typer.Option("--json", help="输出 JSON")] = False) -> None:
    """Recompute the hash chain; exit 1 when any entry was changed, removed or inserted."""
    from onewindow.core import audit

    _engine, factory = open_database(quiet=True)
    with factory() as session:
        result = audit.verify(session)
    if as_json:
        echo_json({"ok": result.ok, "checked": result.checked, "broken_id": result.broken_id,
                   "reason": result.reason})
        if not result.ok:
            raise typer.Exit(1)
        return
    if not result.ok:
        where = f"第 {result.broken_id} 条" if result.broken_id is not None else "链尾"
        fail(f"审计日志校验失败：{where}，{result.reason}（此前 {result.checked} 条完好）")
    typer.echo(f"审计日志完好：共 {result.checked} 条，哈希链连续")


@demo_app.command("load")
@user_errors
def demo_load(
    if_empty: Annotated[bool, typer.Option("--if-empty", help="只在数据库没有事项时加载")] = False,
) -> None:
    """Load the demo county (catalog, halls, staff accounts) and print the log-ins."""
    from sqlalchemy import func, select

    from onewindow import db
    from onewindow.catalog.models import Item
    from onewindow.demo import DEMO_PASSWORD, demo_accounts, load_demo

    _engine, factory = open_database()
    with db.transaction(factory) as session:
        if if_empty and (session.scalar(select(func.count()).select_from(Item)) or 0) > 0:
            typer.echo("数据库已有数据，跳过演示数据加载")
        else:
            report = load_demo(session, clock=SystemClock())
            typer.echo(f"已加载演示县：事项变更 {report.catalog.counts.get('items', 0)} 个，"
                       f"新建账号 {len(report.users_created)} 个")
    _print_accounts(demo_accounts(), DEMO_PASSWORD)


def _print_accounts(accounts: list[dict[str, str]], password: str) -> None:
    from rich.console import Console
    from rich.table import Table

    from onewindow.core.permissions import ROLE_LABELS, Role

    table = Table(title=f"演示账号（密码均为 {password}）")
    for col in ("用户名", "角色", "姓名", "部门"):
        table.add_column(col)
    for a in accounts:
        table.add_row(a["username"], ROLE_LABELS[Role(a["role"])], a["display_name"], a.get("department", ""))
    Console(stderr=False).print(table)
