"""Command-line commands of the planning domain: ``onewindow plan`` and ``onewindow bench planner``."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer

from onewindow.cli_support import app, bench_app, echo_json, user_errors
from onewindow.queue.routing import RoutingPolicy, make_policy
from onewindow.simulation.scenario import DEFAULT_SCENARIO


def _policy(name: str, scenario_factor: float) -> RoutingPolicy:

    return make_policy(name, {"generalist_factor": scenario_factor} if name == "smart" else {})


@app.command("plan")
@user_errors
def plan(
    scenario: Annotated[Path, typer.Option("--scenario", help="大厅场景文件（JSON），默认内置的县级大厅参考场景")]
    = DEFAULT_SCENARIO,
    target_mean: Annotated[float | None, typer.Option("--target-mean", min=1, help="每小时平均等待目标（分钟）")]
    = None,
    target_p90: Annotated[float | None, typer.Option("--target-p90", min=1, help="每小时 P90 等待目标（分钟）")] = None,
    policy: Annotated[str, typer.Option("--policy", help="分派策略：dedicated / pooled / smart / tidal")] = "smart",
    staff: Annotated[Path | None, typer.Option("--staff", help="人员与可办类别（JSON），默认按场景生成")] = None,
    day: Annotated[str | None, typer.Option("--day", help="只排一天：mon … sun")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON")] = False,
) -> None:
    """Plan the windows per hour and category for a week (or a day) that meet the wait target."""
    from onewindow.config import get_settings
    from onewindow.core.errors import Problem, ValidationFailed
    from onewindow.planning import plan as planning
    from onewindow.planning import report
    from onewindow.planning.hall import load_hall
    from onewindow.planning.roster import ShiftRules, parse_people

    settings = get_settings()
    hall = load_hall(scenario)
    s = hall.scenario
    target = planning.Target(target_mean or settings.planning_target_mean_min,
                             target_p90 if target_p90 is not None else settings.planning_target_p90_min)
    routing = _policy(policy, s.generalist_service_factor)
    demands = hall.demands()
    if day is not None:
        if day not in planning.WEEKDAY_KEYS or planning.WEEKDAY_KEYS.index(day) not in demands:
            open_days = "/".join(planning.WEEKDAY_KEYS[d] for d in demands)
            raise ValidationFailed([Problem("day", "closed_day", f"该大厅的开放日为 {open_days}，实际为 {day!r}")])
        demands = {planning.WEEKDAY_KEYS.index(day): demands[planning.WEEKDAY_KEYS.index(day)]}
    people = (parse_people(json.loads(staff.read_text(encoding="utf-8")), [c.code for c in s.categories])
              if staff is not None else None)
    rules = ShiftRules(settings.planning_min_shift_hours, settings.planning_max_hours_per_day,
                       settings.planning_lunch_from_hour, settings.planning_lunch_to_hour)
    started = time.perf_counter()
    week = planning.plan_week(s, routing, demands, target, seed=s.seed)
    seconds = time.perf_counter() - started
    if people is None:
        peak = {c.code: max(w.get(c.code, 0) for d in week.days.values() for w in d.windows) for c in s.categories}
        people = report.default_people(s, peak)
    payload = report.week_payload(s, routing, week, target, people=people, rules=rules, seed=s.seed)
    payload["plan_seconds"] = round(seconds, 3)
    if as_json:
        echo_json(payload)
        return
    for d in payload["days"]:
        totals = " ".join(f"{h['hour']}:{h['total']}" for h in d["hours"])
        met = "达标" if d["target_met_every_hour"] else "未达标"
        typer.echo(f"{d['label']}  窗口·小时 {d['window_hours']:g}  {met}  每小时窗口数 {totals}")
    typer.echo(f"合计 {payload['window_hours']:g} 窗口·小时（目标：平均等待 ≤ {target.mean_min:g} 分钟），"
               f"用时 {seconds:.1f} 秒")


@bench_app.command("planner", help="排班基准：一周排班与全天固定窗口数的最优方案比较（30 个未参与排班的仿真日）")
@user_errors
def bench_planner(
    scenario: Annotated[Path, typer.Option("--scenario", help="大厅场景文件（JSON）")] = DEFAULT_SCENARIO,
    target_mean: Annotated[float, typer.Option("--target-mean", min=1, help="每小时平均等待目标（分钟）")] = 15.0,
    target_p90: Annotated[float | None, typer.Option("--target-p90", min=1, help="每小时 P90 等待目标（分钟）")] = None,
    policy: Annotated[str, typer.Option("--policy", help="分派策略")] = "smart",
    check_days: Annotated[int, typer.Option("--check-days", min=1, max=365, help="检验用仿真天数")] = 30,
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON")] = False,
) -> None:
    """Plan a week, then check it against the best constant staffing on unseen simulated days."""
    from onewindow.planning import bench
    from onewindow.planning import plan as planning
    from onewindow.planning.hall import load_hall

    hall = load_hall(scenario)
    routing = _policy(policy, hall.scenario.generalist_service_factor)
    result = bench.run(hall, routing, planning.Target(target_mean, target_p90), check_days=check_days)
    if as_json:
        echo_json(result)
        return
    met = "每小时均达标" if result["target_met_every_hour"] else "有时段未达标"
    typer.echo(f"{result['scenario']}：排班 {result['plan_window_hours']:g} 窗口·小时，全天固定 "
               f"{result['constant_window_hours']:g}，节省 {result['saving']:.1%}，{met}，"
               f"排班用时 {result['plan_seconds']} 秒")


@app.command("forecast")
@user_errors
def forecast(
    scenario: Annotated[Path, typer.Option("--scenario", help="大厅场景文件（JSON），用于生成模拟取号历史")]
    = DEFAULT_SCENARIO,
    until: Annotated[str, typer.Option("--until", help="历史的最后一天（YYYY-MM-DD）")] = "2025-10-31",
    weeks: Annotated[int, typer.Option("--weeks", min=4, max=260, help="历史周数")] = 26,
    held_out: Annotated[int, typer.Option("--held-out", min=1, max=52, help="留出检验的周数")] = 6,
    seed: Annotated[int, typer.Option("--seed", min=0, help="随机种子")] = 1,
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON")] = False,
) -> None:
    """Measure the arrival forecast on held-out weeks of a simulated ticket history (WAPE beside the naive one)."""
    import datetime as dt

    from onewindow.calendar.workdays import WorkCalendar
    from onewindow.core.errors import Problem, ValidationFailed
    from onewindow.planning import forecast as fc
    from onewindow.planning import plan as planning
    from onewindow.planning.hall import load_hall

    try:
        end = dt.date.fromisoformat(until)
    except ValueError as exc:
        raise ValidationFailed([Problem("until", "bad_date", f"日期格式应为 YYYY-MM-DD，实际为 {until!r}")]) from exc
    if held_out >= weeks:
        raise ValidationFailed([Problem("held_out", "out_of_range", "留出检验的周数必须少于历史周数")])
    hall = load_hall(scenario)
    calendar = WorkCalendar()
    expected = {wd: {(planning.hour_label(s), code): n for (s, _), t in zip(d.hours, d.tickets, strict=True)
                     for code, n in t.items()} for wd, d in hall.demands().items()}
    hours = sorted({h for cells in expected.values() for h, _ in cells})
    history = fc.synthetic_history(hours, expected, end - dt.timedelta(days=7 * weeks - 1), end,
                                   calendar.is_workday, seed=seed)
    result = fc.backtest(history, calendar.is_workday, held_out_weeks=held_out)
    payload = {"scenario": hall.scenario.name, "history_days": len(history), "held_out_days": result.days,
               "held_out_tickets": round(result.tickets), "wape": round(result.wape, 4),
               "naive_same_weekday_wape": round(result.naive_wape, 4),
               "by_day_type": {k: {"days": n, "wape": round(w, 4), "naive_wape": round(nw, 4)}
                               for k, (n, w, nw) in result.by_type.items()}}
    if as_json:
        echo_json(payload)
        return
    typer.echo(f"{payload['scenario']}：留出 {result.days} 天，预测 WAPE {result.wape:.1%}，"
               f"同星期朴素基线 WAPE {result.naive_wape:.1%}")
