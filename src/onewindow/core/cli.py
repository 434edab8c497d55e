"""Kernel commands: database upgrade and audit verification."""

from __future__ import annotations

from typing import Annotated

import typer

from onewindow.cli_support import app, db_app, echo_json, fail, open_database, user_errors
from onewindow.config import get_settings

audit_app = typer.Typer(help="审计日志", no_args_is_help=True)
app.add_typer(audit_app, name="audit")


@db_app.command("upgrade")
@user_errors
def db_upgrade() -> None:
    """Create or upgrade the database schema to the newest version."""
    from onewindow import db

    engine, _ = open_database(quiet=True)
    typer.echo(f"数据库结构版本：{db.current_revision(engine)}（{get_settings().database_url}）")


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
