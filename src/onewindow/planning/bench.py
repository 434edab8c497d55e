"""The planner benchmark (``onewindow bench planner``): a week's plan against the best constant staffing.

Honest by construction: the planner simulates its own days (seeds offset by ``plan.PLAN_SEED_OFFSET``);
the floor is checked on ``check_days`` fresh days drawn from the hall file's ``seed``, and the
constant baseline is the fewest all-day windows that meet the same target on those very days (the
most favourable baseline the check allows).
"""

from __future__ import annotations

import time
from typing import Any

from onewindow.planning import plan as planning
from onewindow.planning.hall import PlanningHall
from onewindow.queue.routing import RoutingPolicy


def run(hall: PlanningHall, policy: RoutingPolicy, target: planning.Target, *, check_days: int = 30) -> dict[str, Any]:
    """Plan a week (timed), then check it and the best constant plan on ``check_days`` unseen days."""
    scenario = hall.scenario
    demands = hall.demands()
    started, cpu = time.perf_counter(), time.process_time()
    week = planning.plan_week(scenario, policy, demands, target, seed=scenario.seed)
    plan_seconds, plan_cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
    constant_hours = 0.0
    met_every_hour = True
    days: list[dict[str, Any]] = []
    for weekday, day_plan in week.days.items():
        demand = demands[weekday]
        sample = [planning.demand_arrivals(scenario, demand, scenario.seed, d) for d in range(check_days)]
        checks = planning.check_plan(scenario, policy, demand, day_plan.windows, target, days=check_days,
                                     seed=scenario.seed, arrivals_by_day=sample)
        constant, _ = planning.best_constant(scenario, policy, demand, target, arrivals_by_day=sample)
        hours = sum(end - start for start, end in demand.hours) / 60
        constant_hours += constant * hours
        met = all(c.met for c in checks)
        met_every_hour = met_every_hour and met
        days.append({"weekday": planning.WEEKDAY_KEYS[weekday], "plan_window_hours": round(day_plan.window_hours, 2),
                     "constant_windows": constant, "constant_window_hours": round(constant * hours, 2),
                     "target_met_every_hour": met,
                     "worst_hour": _worst(checks)})
    plan_hours = week.window_hours
    return {
        "scenario": scenario.name,
        "plan_window_hours": round(plan_hours, 2),
        "constant_window_hours": round(constant_hours, 2),
        "saving": round(1 - plan_hours / constant_hours, 4) if constant_hours else 0.0,
        "target_met_every_hour": met_every_hour,
        "plan_seconds": round(plan_seconds, 3),  # wall clock, on a machine others share
        "plan_cpu_seconds": round(plan_cpu_seconds, 3),
        "target_mean_min": target.mean_min,
        "target_p90_min": target.p90_min,
        "policy": policy.name,
        "check_days": check_days,
        "check_seed": scenario.seed,
        "plan_seed": scenario.seed + planning.PLAN_SEED_OFFSET,
        "days": days,
    }


def _worst(checks: list[planning.HourCheck]) -> dict[str, Any]:
    worst = max(checks, key=lambda c: c.mean_wait_min)
    return {"hour": worst.hour, "mean_wait_min": worst.mean_wait_min, "p90_wait_min": worst.p90_wait_min}
