"""Command-line commands of the statistics: ``onewindow analytics rebuild``, ``onewindow gen-data`` and
``onewindow bench dashboard``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.progress import TaskID

from onewindow.cli_support import app, bench_app, echo_json, fail, open_database, user_errors

analytics_app = typer.Typer(help="统计分析（日汇总）", no_args_is_help=True)
app.add_typer(analytics_app, name="analytics")


@contextmanager
def _bars(*labels: str) -> Iterator[list[Callable[[int, int], None]]]:
    """Progress bars on stderr (stdout stays JSON), one per label, each fed with (done, total)."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=Console(stderr=True)) as progress:
        updates: list[Callable[[int, int], None]] = []
        for label in labels:
            task = progress.add_task(label, total=None)

            def update(done: int, total: int, task: TaskID = task) -> None:
                progress.update(task, completed=done, total=total)

            updates.append(update)
        yield updates


@contextmanager
def _bar(label: str) -> Iterator[Callable[[int, int], None]]:
    """One progress bar on stderr."""
    with _bars(label) as (update,):
        yield update


@analytics_app.command("rebuild", help="从办件、排队、评价、诉求记录重新计算全部日汇总（可重复执行，结果相同）")
@user_errors
def rebuild(as_json: bool = typer.Option(False, "--json", help="输出 JSON")) -> None:
    """Recompute every rollup from the records, with a progress bar."""
    import time

    from onewindow import db
    from onewindow.analytics import listeners, rollup

    _engine, factory = open_database()
    started = time.perf_counter()
    with db.transaction(factory) as session, _bar("重新计算日汇总") as bar:
        session.info[listeners.DISABLED] = True
        days = rollup.rebuild(session, progress=bar)
    seconds = round(time.perf_counter() - started, 1)
    if as_json:
        echo_json({"days": days, "seconds": seconds})
        return
    typer.echo(f"已重新计算 {days} 天的日汇总，用时 {seconds} 秒")


@app.command("gen-data", help="生成模拟历史数据（办件、排队、跑动、评价、诉求），同时计入日汇总；空库先载入演示县")
@user_errors
def gen_data(
    *,
    cases: int = typer.Option(..., "--cases", min=1, max=20_000_000, help="办件数"),
    days: int = typer.Option(..., "--days", min=1, max=7300, help="历史天数（截至 --end）"),
    seed: int = typer.Option(0, "--seed", help="随机种子"),
    end: str = typer.Option("", "--end", help="最后一天（YYYY-MM-DD，默认昨天）"),
) -> None:
    """Fill the configured database with a synthetic history through bulk inserts."""
    import time

    from sqlalchemy import func, select

    from onewindow import db
    from onewindow.analytics import listeners
    from onewindow.analytics.generate import generate
    from onewindow.catalog.models import Item
    from onewindow.core.clock import CHINA_TZ, FixedClock, SystemClock, today
    from onewindow.demo import load_demo

    try:
        last = dt.date.fromisoformat(end) if end else today(SystemClock()) - dt.timedelta(days=1)
    except ValueError:
        fail(f"--end 应为日期 YYYY-MM-DD：{end}")
    _engine, factory = open_database()
    started = time.perf_counter()
    with db.transaction(factory) as session, _bar("生成办件（同时计日汇总）") as gen_bar:
        session.info[listeners.DISABLED] = True
        if not session.scalar(select(func.count(Item.id))):
            load_demo(session, clock=FixedClock(dt.datetime(last.year, last.month, last.day, 18, tzinfo=CHINA_TZ)))
        report = generate(session, cases=cases, days=days, seed=seed, end=last, progress=gen_bar)
    echo_json({**report.as_dict(), "seconds": round(time.perf_counter() - started, 1)})


@bench_app.command("dashboard", help="看板基准：生成（或复用）N 件办件的历史，测总览、趋势、排行、下钻的 p95 毫秒")
@user_errors
def bench_dashboard(
    *,
    cases: int = typer.Option(100_000, "--cases", min=1000, max=20_000_000, help="办件数"),
    days: int = typer.Option(0, "--days", min=0, max=7300, help="历史天数（0：按全市每个工作日 5000 件推算）"),
    seed: int = typer.Option(0, "--seed", help="随机种子"),
    database_url: str | None = typer.Option(None, "--database-url",
                                            help="数据库地址（默认：当前目录下的 SQLite 文件，按办件数命名，可复用）"),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON"),
) -> None:
    """Build or reuse a history of ``--cases`` cases and print the p95 of the dashboard reads."""
    from onewindow.analytics.bench import default_days, run

    n_days = days or default_days(cases)
    path = None if database_url else Path(f"onewindow-bench-dashboard-{cases}-{seed}.db").resolve()
    url = database_url or f"sqlite:///{path}"
    stages: dict[str, Callable[[int, int], None]] = {}

    def progress(stage: str, done: int, total: int) -> None:
        stages[stage](done, total)

    with _bar("生成（同时计日汇总）") as gen_bar:
        stages["generate"] = gen_bar
        try:
            report = run(url, cases=cases, days=n_days, seed=seed, sqlite_path=path, progress=progress)
        except ValueError:
            fail("基准需要一个空数据库，或本命令以相同参数建过的库")
    if as_json:
        echo_json(report)
        return
    typer.echo(f"{report['backend']}：{cases} 件，建库 {report['build_seconds']} s；总览 p95 "
               f"{report['overview_p95_ms']} ms，趋势 {report['trend_p95_ms']} ms，排行 {report['league_p95_ms']} ms，"
               f"下钻 {report['drilldown_p95_ms']} ms")
