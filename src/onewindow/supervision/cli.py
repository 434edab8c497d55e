"""Command-line commands of the supervision domain: ``onewindow bench supervision``."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

import typer

from onewindow.cli_support import bench_app, echo_json, fail


def _ranking_seconds(session: Any, *, clock: Any, month: dt.date) -> float | None:
    """The month's performance ranking time (staff performance generates its month of data, then ranks it)."""
    from onewindow.staff.performance_bench import ranking_seconds

    return ranking_seconds(session, clock=clock, month=month)


@bench_app.command("supervision", help="电子监察基准：生成全县一年的数据（2.5 万在办件、每天 600 张号、40 个窗口、"
                                       "300 名人员），测一次预警巡检与当月绩效排名的耗时")
def bench_supervision(
    *,
    cases: int = typer.Option(25_000, "--cases", min=1, max=1_000_000, help="在办件数"),
    tickets: int = typer.Option(600, "--tickets", min=1, max=100_000, help="当天取号数"),
    windows: int = typer.Option(40, "--windows", min=1, max=999, help="县中心大厅窗口数"),
    staff: int = typer.Option(300, "--staff", min=1, max=10_000, help="窗口人员数"),
    seed: int = typer.Option(0, "--seed", help="随机种子"),
    database_url: str | None = typer.Option(None, "--database-url", help="空库的数据库地址（默认：临时 SQLite 文件）"),
    on: str = typer.Option("2026-11-24", "--on", help="基准日（YYYY-MM-DD，工作日）"),
    verbose: bool = typer.Option(False, "--verbose", help="同时输出当天首次巡检（积压预警一次性发现）的耗时和预警数"),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON"),
) -> None:
    """Build the county-year and time one alert sweep (and the month's ranking, when available)."""
    from onewindow import db
    from onewindow.supervision.bench import run

    try:
        day = dt.date.fromisoformat(on)
    except ValueError:
        fail(f"--on 应为日期 YYYY-MM-DD：{on}")
    with tempfile.TemporaryDirectory(prefix="onewindow-bench-") as tmp:
        url = database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        engine = db.make_engine(url)
        if not db.is_empty(engine):
            fail("基准需要一个空数据库（--database-url 指向的库已有数据表）")
        db.upgrade(engine)
        report = run(engine, cases=cases, tickets=tickets, windows=windows, staff=staff, on=day, seed=seed)
        with db.transaction(report["session_factory"]) as session:
            ranking = _ranking_seconds(session, clock=report["clock"], month=day.replace(day=1))
        engine.dispose()
    out: dict[str, Any] = {"sweep_seconds": report["sweep_seconds"],
                           "ranking_seconds": None if ranking is None else round(ranking, 3)}
    if verbose:
        out |= {"backend": report["backend"], "first_sweep_seconds": report["first_sweep_seconds"],
                "first_sweep": report["first_counts"], "sweep": report["counts"]}
    if as_json:
        echo_json(out)
        return
    typer.echo(f"预警巡检 {out['sweep_seconds']} s，绩效排名 {out['ranking_seconds'] or '—'} s")
