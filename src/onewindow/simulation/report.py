"""Simulation results as JSON, a readable table and a PNG chart of waits by hour."""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from onewindow.queue.routing import POLICY_LABELS
from onewindow.simulation.engine import PolicyRun
from onewindow.simulation.scenario import Scenario
from onewindow.simulation.theory import HallReference

MAX_WAIT_GOAL_MIN = 60.0


def _r(value: float | np.floating[Any]) -> float:
    return round(float(value), 2)


def summarize(run: PolicyRun) -> dict[str, Any]:
    """The metrics of one policy run (minutes, rounded to 0.01)."""
    waits = np.asarray(run.waits)
    if waits.size == 0:
        return {"served": 0, "mean_wait_min": 0.0, "p50_wait_min": 0.0, "p90_wait_min": 0.0, "p95_wait_min": 0.0,
                "max_wait_min": 0.0, "mean_service_min": 0.0, "utilization": 0.0, "windows": run.windows,
                "mean_wait_by_category_min": {}}
    p50, p90, p95 = np.percentile(waits, [50, 90, 95])
    categories = np.asarray(run.categories)
    by_category = {str(code): _r(waits[categories == code].mean()) for code in sorted(set(run.categories))}
    return {
        "served": int(waits.size),
        "mean_wait_min": _r(waits.mean()),
        "p50_wait_min": _r(p50),
        "p90_wait_min": _r(p90),
        "p95_wait_min": _r(p95),
        "max_wait_min": _r(waits.max()),
        "mean_service_min": _r(np.mean(run.services)),
        "utilization": round(run.utilization, 4),
        "windows": run.windows,
        "mean_wait_by_category_min": by_category,
    }


def waits_by_hour(run: PolicyRun, scenario: Scenario) -> dict[str, float]:
    """Mean wait of the tickets that arrived in each opening hour."""
    arrived = np.asarray(run.arrival_minutes) + scenario.open_min
    waits = np.asarray(run.waits)
    out: dict[str, float] = {}
    for start, end, _ in scenario.hour_weights:
        mask = (arrived >= start) & (arrived < end)
        out[f"{int(start // 60):02d}"] = _r(waits[mask].mean()) if mask.any() else 0.0
    return out


def build_report(scenario: Scenario, runs: Mapping[str, PolicyRun], reference: HallReference, *,
                 days: int, seed: int) -> dict[str, Any]:
    """The JSON document printed by ``onewindow simulate --json``."""
    policies = {name: summarize(run) for name, run in runs.items()}
    report: dict[str, Any] = {
        "scenario": scenario.name,
        "days": days,
        "seed": seed,
        "policies": policies,
        "reference": {
            "pooled_mean_wait_min": _r(reference.mean_wait_min),
            "method": "M/G/c 综合窗口大厅：逐小时 Erlang C + Allen–Cunneen 修正；高峰过载时按时变生灭过程"
                      "（M(t)/M/c）从开门起逐时推算积压",
            "windows": reference.servers,
            "mean_service_min": _r(reference.mean_service_min),
            "service_scv": round(reference.service_scv, 4),
            "hours": [{"hour": h.hour, "arrivals_per_hour": _r(h.arrivals_per_hour),
                       "utilization": round(h.utilization, 4), "erlang_c": round(h.erlang_c, 4),
                       "stationary_wait_min": None if h.stationary_wait_min is None else _r(h.stationary_wait_min),
                       "wait_min": _r(h.wait_min)} for h in reference.hours],
        },
        "mean_wait_by_hour_min": {name: waits_by_hour(run, scenario) for name, run in runs.items()},
    }
    if {"smart", "dedicated", "pooled"} <= policies.keys():
        smart, dedicated, pooled = policies["smart"], policies["dedicated"], policies["pooled"]
        ratio = smart["mean_wait_min"] / dedicated["mean_wait_min"] if dedicated["mean_wait_min"] else math.nan
        report["comparison"] = {
            "smart_mean_wait_pct_of_dedicated": _r(100 * ratio),
            "smart_mean_wait_pct_of_pooled": _r(100 * smart["mean_wait_min"] / pooled["mean_wait_min"])
            if pooled["mean_wait_min"] else None,
            "smart_p95_minus_pooled_p95_min": _r(smart["p95_wait_min"] - pooled["p95_wait_min"]),
            "smart_max_wait_within_60_min": smart["max_wait_min"] <= MAX_WAIT_GOAL_MIN,
        }
    return report


SHORT_LABELS = {"dedicated": "分类专窗", "pooled": "综合窗口", "smart": "智能分派", "tidal": "潮汐窗口"}


def render_table(report: Mapping[str, Any]) -> Any:
    """A Rich table of the policies beside the theory reference (minutes)."""
    from rich.table import Table

    table = Table(title=f"大厅仿真：{report['scenario']}（{report['days']} 天，种子 {report['seed']}；单位：分钟）")
    for heading in ("策略", "人次", "平均等待", "P50", "P90", "P95", "最长", "平均办理", "利用率"):
        table.add_column(heading, justify="left" if heading == "策略" else "right", no_wrap=True)
    for name, m in report["policies"].items():
        table.add_row(SHORT_LABELS.get(name, name), str(m["served"]), f"{m['mean_wait_min']:.1f}",
                      f"{m['p50_wait_min']:.1f}", f"{m['p90_wait_min']:.1f}", f"{m['p95_wait_min']:.1f}",
                      f"{m['max_wait_min']:.1f}", f"{m['mean_service_min']:.1f}", f"{m['utilization']:.1%}")
    ref = report["reference"]
    table.add_row("理论参考", "", f"{ref['pooled_mean_wait_min']:.1f}", "", "", "", "",
                  f"{ref['mean_service_min']:.1f}", "", style="dim")
    return table


def _cjk_fonts() -> list[str]:
    from matplotlib import font_manager

    wanted = ["Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", "WenQuanYi Zen Hei",
              "SimHei", "Microsoft YaHei", "PingFang SC"]
    available = {f.name for f in font_manager.fontManager.ttflist}
    return [name for name in wanted if name in available]


def write_chart(report: Mapping[str, Any], path: Path) -> Path:
    """A PNG of the mean wait by arrival hour for each policy, with the theory reference dashed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fonts = _cjk_fonts()
    path.parent.mkdir(parents=True, exist_ok=True)
    with plt.rc_context({"font.family": "sans-serif", "font.sans-serif": [*fonts, "DejaVu Sans"],
                         "axes.unicode_minus": False}):
        fig, ax = plt.subplots(figsize=(9, 5), dpi=120)
        for name, by_hour in report["mean_wait_by_hour_min"].items():
            hours = list(by_hour)
            ax.plot(hours, list(by_hour.values()), marker="o", label=POLICY_LABELS.get(name, name))
        ref_hours = report["reference"]["hours"]
        ax.plot([h["hour"] for h in ref_hours], [h["wait_min"] for h in ref_hours], linestyle="--",
                color="grey", label="理论参考（综合窗口）")
        ax.set_xlabel("取号时段（时）")
        ax.set_ylabel("平均等待（分钟）")
        ax.set_title(f"各时段平均等待：{report['scenario']}（{report['days']} 天）")
        ax.grid(alpha=0.3)
        ax.legend()
        fig.tight_layout()
        fig.savefig(path)
        plt.close(fig)
    return path
