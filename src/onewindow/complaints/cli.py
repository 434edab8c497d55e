"""Command-line commands of the complaints domain: ``onewindow complaints import FILE`` and
``onewindow bench complaints``."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import typer

from onewindow.cli_support import app, bench_app, database_session, echo_json, fail, user_errors
from onewindow.core.clock import SystemClock

complaints_app = typer.Typer(help="有诉即办 / 12345 诉求工单", no_args_is_help=True)
app.add_typer(complaints_app, name="complaints")

IMPORT_HELP = (
    "导入 12345 热线工单（CSV / JSON / Excel）；先校验全部行，有任何错误则不写入并指出行号和字段；"
    "已导入过的 12345 工单号跳过并计数。列（中文或英文表头）：工单编号 external_number、受理时间 accepted_at、"
    "诉求类型 category（咨询/求助/建议/投诉/举报）、是否紧急 urgent、诉求标题 subject、诉求内容 content、"
    "诉求人 complainant_name、联系电话 complainant_phone、身份证号 complainant_id_number、是否匿名 anonymous、"
    "承办单位 department（部门编码或名称，填写则直接派单）、事项编码 item_code"
)


@complaints_app.command("import", help=IMPORT_HELP)
@user_errors
def import_orders(
    file: Path = typer.Argument(..., help="文件：.csv（UTF-8，首行为表头）、.json（记录列表）或 .xlsx（第一个工作表）"),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON"),
) -> None:
    """Check every row, then write the new orders in bulk, or nothing; numbers already imported are skipped."""
    from onewindow.complaints import hotline, importer
    from onewindow.complaints.rules import limits_from_settings
    from onewindow.config import get_settings

    data = file.read_bytes()
    raw = hotline.read_bytes(data, file.name)
    with database_session() as session:
        result = importer.import_orders(session, clock=SystemClock(), user=None, raw=raw, content=data,
                                        limits=limits_from_settings(get_settings()), source=file.name)
    if as_json:
        echo_json(result.as_dict())
        return
    typer.echo(f"导入完成：共 {result.rows} 行，新增 {result.created}（其中已派单 {result.dispatched}），"
               f"跳过已导入 {result.skipped}")


@bench_app.command("complaints", help="12345 导入基准：从 CSV 导入 N 件工单（全有或全无），再对全部工单做一次超期巡检")
def bench_complaints(
    *,
    orders: int = typer.Option(100_000, "--orders", min=1, max=500_000, help="工单数"),
    days: int = typer.Option(60, "--days", min=1, max=365, help="受理时间分布在基准日之前的天数"),
    seed: int = typer.Option(0, "--seed", help="随机种子"),
    database_url: str | None = typer.Option(None, "--database-url",
                                            help="空库的数据库地址（默认：临时 SQLite 文件）"),
    on: str = typer.Option("2026-11-23", "--on", help="基准日（YYYY-MM-DD）"),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON"),
) -> None:
    """Time the import of ``--orders`` 12345 orders from CSV and one overdue sweep over them."""
    from onewindow import db
    from onewindow.complaints.bench import run

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
        report = run(engine, orders=orders, on=day, days=days, seed=seed, workdir=Path(tmp))
        engine.dispose()
    if as_json:
        echo_json(report)
        return
    typer.echo(f"{report['backend']}：导入 {report['orders']} 件 {report['import_seconds']} s，"
               f"超期催办巡检 {report['sweep_seconds']} s（催办 {report['urged']} 件）")
