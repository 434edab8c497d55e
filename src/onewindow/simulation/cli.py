"""Command-line commands of the simulation domain (registered on the root app in cli_support)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer

from onewindow.cli_support import app, echo_json, user_errors
from onewindow.simulation.scenario import DEFAULT_SCENARIO, load_scenario


@app.command("simulate")
@user_errors
def simulate(
    scenario: Annotated[Path, typer.Option("--scenario", help="场景文件（JSON），默认内置的县级大厅参考场景")]
    = DEFAULT_SCENARIO,
    days: Annotated[int | None, typer.Option("--days", min=1, max=3650, help="仿真天数，默认取场景文件")] = None,
    seed: Annotated[int | None, typer.Option("--seed", min=0, help="随机种子，默认取场景文件")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON（不画图，除非指定 --chart）")] = False,
    chart: Annotated[Path | None, typer.Option("--chart", help="各时段等待图（PNG）路径，默认 ./var/ 下")] = None,
) -> None:
    """Replay a hall scenario through every routing policy and compare the waits with theory."""
    from onewindow.simulation import engine, report, theory  # numpy and matplotlib only when simulating

    hall = load_scenario(scenario)
    n_days = days if days is not None else hall.days
    the_seed = seed if seed is not None else hall.seed
    runs = engine.simulate(hall, days=n_days, seed=the_seed)
    result = report.build_report(hall, runs, theory.pooled_reference(hall), days=n_days, seed=the_seed)
    if as_json:
        if chart is not None:
            report.write_chart(result, chart)
        echo_json(result)
        return
    from rich.console import Console

    slug = re.sub(r"[^\w.-]+", "-", hall.name or scenario.stem).strip("-") or "hall"
    path = report.write_chart(result, chart or Path("var") / f"simulation-{slug}.png")
    console = Console()
    console.print(report.render_table(result))
    if "comparison" in result:
        c = result["comparison"]
        console.print(f"智能分派平均等待为分类专窗的 {c['smart_mean_wait_pct_of_dedicated']:.1f}%，"
                      f"P95 比综合窗口{'高' if c['smart_p95_minus_pooled_p95_min'] > 0 else '低'} "
                      f"{abs(c['smart_p95_minus_pooled_p95_min']):.1f} 分钟")
    console.print(f"图表：{path}")
