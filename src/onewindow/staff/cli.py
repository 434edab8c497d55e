"""Staff account commands."""

from __future__ import annotations

from typing import Annotated

import typer

from onewindow.cli_support import CLI_ACTOR, app, bench_app, database_session, echo_json, fail, user_errors
from onewindow.core.clock import SystemClock
from onewindow.core.errors import DomainError

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
                                          help="密码（至少8位，含大小写字母、数字、符号中的三类）")] = "",
) -> None:
    """Create a staff account."""
    from onewindow.staff import service

    with database_session() as session:
        user = service.create_user(session, clock=SystemClock(), actor=CLI_ACTOR, username=username,
                                   password=password, display_name=display_name, role=role,
                                   department_code=department, hall_code=hall)
        typer.echo(f"已创建账号 {user.username}（{user.role}）")


@users_app.command("deactivate")
@user_errors
def deactivate(username: Annotated[str, typer.Argument(help="用户名")]) -> None:
    """Deactivate an account: its sessions and API tokens stop at once."""
    from onewindow.staff import service

    with database_session() as session:
        service.set_active(session, clock=SystemClock(), actor=CLI_ACTOR, username=username, active=False)
        typer.echo(f"已停用账号 {username}（登录和访问令牌立即失效）")


@users_app.command("reactivate")
@user_errors
def reactivate(username: Annotated[str, typer.Argument(help="用户名")]) -> None:
    """Reactivate an account."""
    from onewindow.staff import service

    with database_session() as session:
        service.set_active(session, clock=SystemClock(), actor=CLI_ACTOR, username=username, active=True)
        typer.echo(f"已启用账号 {username}")


@users_app.command("reset-password")
@user_errors
def reset_password(
    username: Annotated[str, typer.Argument(help="用户名")],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True,
                                          help="新密码")] = "",
) -> None:
    """Set a new password (the account's sessions end, a lockout is lifted): the way back for a locked-out
    administrator."""
    from onewindow.staff import service

    with database_session() as session:
        service.reset_password(session, clock=SystemClock(), actor=CLI_ACTOR, username=username, password=password)
        typer.echo(f"已重置账号 {username} 的密码")


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


@bench_app.command("performance",
                   help="绩效基准：生成一个月（300 名工作人员、40 个窗口、每个工作日 600 张号票）并计时一次月度排名")
def bench_performance(
    *,
    month: str = typer.Option("2026-11", "--month", help="月份（YYYY-MM）"),
    database_url: str | None = typer.Option(None, "--database-url", help="数据库地址（默认：临时 SQLite 文件）"),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON"),
) -> None:
    """Time one monthly ranking over a generated county month (``{"ranking_seconds"}``)."""
    import datetime as dt
    import tempfile
    from pathlib import Path

    from onewindow import db
    from onewindow.core.clock import CHINA_TZ, FixedClock
    from onewindow.staff import performance_service
    from onewindow.staff.performance_bench import ranking_seconds

    try:
        first = performance_service.parse_month(month)
    except DomainError:
        fail(f"--month 应为 YYYY-MM：{month}")
    clock = FixedClock(dt.datetime.combine(performance_service.next_month(first), dt.time(9), tzinfo=CHINA_TZ))
    with tempfile.TemporaryDirectory(prefix="onewindow-bench-") as tmp:
        engine = db.make_engine(database_url or f"sqlite:///{Path(tmp) / 'bench.db'}")
        db.upgrade(engine)
        with db.transaction(db.make_session_factory(engine), write=True) as session:
            seconds = ranking_seconds(session, clock=clock, month=first)
        engine.dispose()
    report = {"ranking_seconds": round(seconds, 3)}
    if as_json:
        echo_json(report)
        return
    typer.echo(f"月度排名耗时 {report['ranking_seconds']} 秒")
