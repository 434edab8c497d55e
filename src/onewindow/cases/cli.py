"""Command-line commands of the cases domain: ``onewindow bench cases``."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import typer

from onewindow.cli_support import bench_app, echo_json, fail


@bench_app.command("cases", help="办件基准：生成一年的办件，测窗口受理、待办件列表、进度查询与期限巡检的耗时")
def bench_cases(
    *,
    cases: int = typer.Option(100_000, "--cases", min=1, max=5_000_000, help="生成的历史办件数"),
    intakes: int = typer.Option(200, "--intakes", min=1, help="窗口受理次数（每次一个事务）"),
    lookups: int = typer.Option(200, "--lookups", min=1, help="公开进度查询次数"),
    seed: int = typer.Option(0, "--seed", help="随机种子"),
    database_url: str | None = typer.Option(None, "--database-url",
                                            help="空库的数据库地址（默认：临时 SQLite 文件）"),
    on: str = typer.Option("2026-11-23", "--on", help="基准日（YYYY-MM-DD）"),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON"),
) -> None:
    """Time intake, inbox, tracking and the sweep on a database holding ``--cases`` cases."""
    from onewindow import db
    from onewindow.cases.bench import run

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
        report = run(engine, cases=cases, intakes=intakes, lookups=lookups, seed=seed, on=day)
        engine.dispose()
    if as_json:
        echo_json(report)
        return
    typer.echo(f"{report['backend']}：{report['cases']} 件（在办 {report['open']}），"
               f"受理 p95 {report['intake']['p95_ms']} ms，待办列表 p95 {report['inbox']['p95_ms']} ms，"
               f"进度查询 p95 {report['track']['p95_ms']} ms，期限巡检 {report['sweep']['seconds']} s")
