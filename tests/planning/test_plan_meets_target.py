"""The planner (pure): theory start, simulation correction, the plan meets the target on unseen days."""

from __future__ import annotations

import math

import pytest

from onewindow.core.errors import ValidationFailed
from onewindow.planning import plan as planning
from onewindow.queue.routing import make_policy
from onewindow.simulation.scenario import parse_scenario
from onewindow.simulation.theory import allen_cunneen_wait

SMALL_HALL = {
    "name": "small", "open": "09:00", "close": "13:00",
    "arrival_weights_by_hour": {"09": 1.0, "10": 3.0, "11": 1.5, "12": 0.5},
    "windows": 8, "generalist_service_factor": 1.1,
    "categories": [
        {"code": "A", "name": "社保", "daily_tickets": 80, "service_minutes_mean": 6, "service_cv": 0.8,
         "dedicated_windows": 3},
        {"code": "B", "name": "不动产", "daily_tickets": 30, "service_minutes_mean": 15, "service_cv": 0.6,
         "dedicated_windows": 2},
    ],
    "days": 10, "seed": 7,
}


@pytest.fixture
def hall() -> planning.Scenario:
    return parse_scenario(SMALL_HALL)


def test_theory_windows_are_the_fewest_that_meet_the_stationary_target(hall: planning.Scenario) -> None:
    tickets = {"A": 30.0, "B": 10.0}
    c = planning.theory_windows(hall, tickets, 60, planning.Target(10), margin=1.0)
    mean_s, scv = planning._moments(hall, tickets)
    assert allen_cunneen_wait(40 / 60, mean_s, scv, c) <= 10 < allen_cunneen_wait(40 / 60, mean_s, scv, c - 1)


def test_split_by_load_gives_every_window_to_a_category_in_proportion(hall: planning.Scenario) -> None:
    split = planning.split_by_load(hall, {"A": 30.0, "B": 10.0}, 5)  # loads 180 and 150
    assert split == {"A": 3, "B": 2}
    assert sum(planning.split_by_load(hall, {"A": 1.0, "B": 0.0}, 3).values()) == 3


def test_a_plan_meets_the_target_every_hour_on_days_it_did_not_see(hall: planning.Scenario) -> None:
    policy = make_policy("smart", {"generalist_factor": 1.1})
    demand = planning.scenario_demand(hall)
    target = planning.Target(10)
    plan = planning.plan_day(hall, policy, demand, target, plan_days=16, seed=hall.seed)
    assert plan.met
    assert plan.totals()[1] > plan.totals()[3]  # more windows at the 10:00 peak than in the quiet last hour
    checks = planning.check_plan(hall, policy, demand, plan.windows, target, days=20, seed=hall.seed)
    assert all(c.met for c in checks), checks
    constant, _ = planning.best_constant(hall, policy, demand, target, arrivals_by_day=[
        planning.demand_arrivals(hall, demand, hall.seed, d) for d in range(20)])
    assert plan.window_hours < constant * 4


def test_windows_closing_on_the_hour_finish_the_ticket_in_hand_and_open_ones_call_at_once(
        hall: planning.Scenario) -> None:
    policy = make_policy("pooled")
    demand = planning.DayDemand(hours=((540, 600), (600, 660)), tickets=({"A": 0.0}, {"A": 0.0}))
    views, flags = planning.plan_windows(hall, [{"A": 1}, {"B": 1}])
    assert [v.key for v in views] == ["A1", "B1"] and flags == [[True, False], [False, True]]
    arrivals = [(planning.WaitingTicket(key="1", category="A", queued_at=590, expected_service_min=6), 20.0),
                (planning.WaitingTicket(key="2", category="A", queued_at=595, expected_service_min=6), 5.0)]
    waits = planning.run_schedule_day(policy, views, flags, demand.hours, arrivals, 1.0)
    # ticket 1 starts at once on A1 (which closes at 10:00 but finishes it); ticket 2 goes to B1 at 10:00
    assert [(a, w) for a, _, w in waits] == [(590, 0.0), (595, 5.0)]


def test_tidal_settings_keep_the_all_day_windows_fixed_and_the_peak_windows_flexible() -> None:
    plan = planning.DayPlan(hours=((540, 600), (600, 660), (660, 720)),
                            windows=({"A": 2, "B": 1}, {"A": 4, "B": 1}, {"A": 3, "B": 1}), theory_windows=(3, 5, 4))
    fixed, flexible = planning.tidal_settings(plan)
    assert fixed == {"A": 2, "B": 1}
    assert [(f.key, f.hours) for f in flexible] == [("A3", ("10", "11")), ("A4", ("10",))]
    assert plan.window_hours == 12


def test_weekday_factors_are_validated_in_chinese() -> None:
    assert planning.parse_weekday_factors({}) == {0: 1.0, 1: 1.0, 2: 1.0, 3: 1.0, 4: 1.0}
    assert planning.parse_weekday_factors({"weekday_factors": {"mon": 1.2, "sat": 0.5, "sun": 0}}) == {0: 1.2, 5: 0.5}
    with pytest.raises(ValidationFailed) as err:
        planning.parse_weekday_factors({"weekday_factors": {"monday": 1, "tue": -1}})
    fields = {p.field for p in err.value.problems}
    assert fields == {"weekday_factors.monday", "weekday_factors.tue"}


def test_stagger_advice_names_the_hour_over_target_and_the_slots_to_move(hall: planning.Scenario) -> None:
    policy = make_policy("smart", {"generalist_factor": 1.1})
    demand = planning.scenario_demand(hall)
    target = planning.Target(10)
    staffed = [{"A": 2, "B": 1}, {"A": 3, "B": 2}, {"A": 3, "B": 1}, {"A": 2, "B": 1}]  # short at the 10:00 peak
    advice = planning.stagger_advice(hall, policy, demand, staffed, target, seed=hall.seed, days=6, step=4)
    assert advice and advice[0].hour in {"10", "11"}
    first = advice[0]
    assert first.over_by_min > 0 and math.isclose(first.over_by_min, first.mean_wait_min - 10, abs_tol=0.01)
    assert first.to_hour is not None and first.to_hour != first.hour
