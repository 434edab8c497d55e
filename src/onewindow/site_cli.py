"""Site commands: serve the app, load the demo county (they reach every domain, so not in the kernel)."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from onewindow.cli_support import app, fail, open_database, user_errors
from onewindow.config import get_settings
from onewindow.core.clock import SystemClock

demo_app = typer.Typer(help="演示数据", no_args_is_help=True)
app.add_typer(demo_app, name="demo")


@app.command("serve")
@user_errors
def serve(
    host: Annotated[str, typer.Option(help="监听地址")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="端口（默认读取环境变量 PORT，否则 8000）")] = 0,
    workers: Annotated[int, typer.Option(min=1, max=64, help="工作进程数（仅 PostgreSQL 可多于 1 个）")] = 1,
    access_log: Annotated[bool, typer.Option(help="逐条记录访问日志（默认不记：由前置的反向代理记录）")] = False,
) -> None:
    """Serve the web app and API on the configured database (several worker processes on PostgreSQL)."""
    import uvicorn

    from onewindow.config import for_serving
    from onewindow.serving import CappedKeepAlive

    check_workers(get_settings().database_url, workers)  # before the database is opened, let alone upgraded
    port = port or int(os.environ.get("PORT", "8000"))
    settings = for_serving(get_settings(), host=host, port=port)
    # every reader of the settings in this process (jobs and workers included) links to the port served
    os.environ["ONEWINDOW_BASE_URL"] = settings.base_url
    get_settings.cache_clear()
    engine, _factory = open_database(settings)  # upgraded once here, before any worker starts
    engine.dispose()
    if workers == 1:
        from onewindow.main import create_app, settled

        uvicorn.run(settled(create_app(settings)), host=host, port=port, log_level="info", access_log=access_log,
                    timeout_graceful_shutdown=SHUTDOWN_GRACE_SECONDS, http=CappedKeepAlive)
    else:  # each worker builds its own app, pool and live-event listener; the jobs run in one (jobs.LeaderLock)
        uvicorn.run("onewindow.main:app_factory", factory=True, host=host, port=port, workers=workers,
                    log_level="info", access_log=access_log, timeout_graceful_shutdown=SHUTDOWN_GRACE_SECONDS,
                    http=CappedKeepAlive)


# On SIGTERM / Ctrl-C, requests in flight get this long to finish; then what still runs is cancelled. Live event
# streams (server-sent events) never finish by themselves, so without it a server with a hall display
# connected would not stop; the browsers reconnect (to the restarted server, or another worker) by themselves.
SHUTDOWN_GRACE_SECONDS = 10


def check_workers(database_url: str, workers: int) -> None:
    """The embedded SQLite database serves from one process; several workers need PostgreSQL (checked on the
    URL alone: nothing is opened, created or upgraded before the refusal)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        backend = make_url(database_url).get_backend_name()
    except ArgumentError:
        backend = ""
    if workers > 1 and backend != "postgresql":
        fail("SQLite 数据库只能由一个进程提供服务：多个工作进程（--workers）需要 PostgreSQL")


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

    from onewindow.core.access import ROLE_LABELS, Role

    table = Table(title=f"演示账号（密码均为 {password}）")
    for col in ("用户名", "角色", "姓名", "部门"):
        table.add_column(col)
    for a in accounts:
        table.add_row(a["username"], ROLE_LABELS[Role(a["role"])], a["display_name"], a.get("department", ""))
    Console(stderr=False).print(table)
