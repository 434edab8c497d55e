"""Staff account commands."""

from __future__ import annotations

from typing import Annotated

import typer

from onewindow.cli_support import CLI_ACTOR, app, database_session, user_errors
from onewindow.core.clock import SystemClock

users_app = typer.Typer(help="工作人员账号", no_args_is_help=True)
app.add_typer(users_app, name="users")


@users_app.command("create")
@user_errors
def create(
    username: Annotated[str, typer.Argument(help="用户名")],
    role: Annotated[str, typer.Option(help="角色：admin/clerk/approver/dept_head/supervisor/agent/experiencer")],
    display_name: Annotated[str, typer.Option("--name", help="姓名")],
    department: Annotated[str | None, typer.Option(help="部门编码")] = None,
    hall: Annotated[str | None, typer.Option(help="大厅编码")] = None,
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True,
                                          help="密码（至少8位）")] = "",
) -> None:
    """Create a staff account."""
    from onewindow.staff import service

    with database_session() as session:
        user = service.create_user(session, clock=SystemClock(), actor=CLI_ACTOR, username=username,
                                   password=password, display_name=display_name, role=role,
                                   department_code=department, hall_code=hall)
        typer.echo(f"已创建账号 {user.username}（{user.role}）")


@users_app.command("list")
@user_errors
def list_users() -> None:
    """List staff accounts."""
    from rich.console import Console
    from rich.table import Table

    from onewindow.staff import service

    with database_session() as session:
        table = Table(title="工作人员")
        for col in ("用户名", "姓名", "角色", "部门", "状态"):
            table.add_column(col)
        for u in service.list_users(session):
            table.add_row(u.username, u.display_name, u.role, u.department.code if u.department else "",
                          "启用" if u.is_active else "停用")
        Console().print(table)
