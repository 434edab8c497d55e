"""The discrete-event engine: reproducible, loses nobody, same days for every policy."""

from __future__ import annotations

import numpy as np

from onewindow.queue.routing import PooledFifo
from onewindow.simulation import engine
from onewindow.simulation.scenario import load_scenario

from .conftest import SCENARIOS


def test_same_seed_same_result_and_another_seed_differs() -> None:
    hall = load_scenario()
    a = engine.simulate_policy(hall, "smart", days=2, seed=5)
    b = engine.simulate_policy(hall, "smart", days=2, seed=5)
    c = engine.simulate_policy(hall, "smart", days=2, seed=6)
    assert a.waits == b.waits and a.waits != c.waits


def test_every_arrival_is_served_by_every_policy() -> None:
    hall = load_scenario(SCENARIOS / "town-hall.json")
    arrivals = [engine.generate_day(hall, 3, d) for d in range(3)]
    total = sum(len(day) for day in arrivals)
    runs = {name: engine.simulate_policy(hall, name, days=3, seed=3, arrivals_by_day=arrivals)
            for name in engine.POLICY_NAMES}
    for run in runs.values():
        assert len(run.waits) == total
        assert min(run.waits) >= 0
        assert 0 < run.utilization <= 1


def test_arrivals_follow_the_hourly_weights() -> None:
    hall = load_scenario()
    days = [engine.generate_day(hall, 1, d) for d in range(20)]
    per_day = np.mean([len(d) for d in days])
    assert abs(per_day - 800) < 3 * np.sqrt(800 / 20)
    peak = np.mean([sum(10 * 60 <= a.ticket.queued_at < 11 * 60 for a in d) for d in days])
    assert abs(peak - 150) < 3 * np.sqrt(150 / 20)  # weight 1.5 of 8.0


def test_service_times_have_the_category_mean_and_the_policies_see_only_the_mean() -> None:
    hall = load_scenario()
    arrivals = [a for d in range(20) for a in engine.generate_day(hall, 2, d) if a.ticket.category == "B"]
    services = np.array([a.base_service_min for a in arrivals])
    assert abs(services.mean() - 18) < 0.05 * 18
    assert abs(services.std() / services.mean() - 0.7) < 0.1
    assert {a.ticket.expected_service_min for a in arrivals} == {18}


def test_dedicated_windows_work_at_specialist_speed_and_pooled_pays_the_generalist_factor() -> None:
    hall = load_scenario()
    arrivals = [engine.generate_day(hall, 4, 0)]
    base = np.mean([a.base_service_min for a in arrivals[0]])
    dedicated = engine.simulate_policy(hall, "dedicated", days=1, seed=4, arrivals_by_day=arrivals)
    pooled = engine.simulate_policy(hall, "pooled", days=1, seed=4, arrivals_by_day=arrivals)
    assert np.mean(dedicated.services) == base
    assert base < np.mean(pooled.services) <= base * hall.generalist_service_factor


def test_an_explicit_policy_instance_is_used() -> None:
    hall = load_scenario(SCENARIOS / "town-hall.json")
    by_name = engine.simulate_policy(hall, "pooled", days=2, seed=1)
    by_instance = engine.simulate_policy(hall, "pooled", days=2, seed=1, policy=PooledFifo())
    assert by_name.waits == by_instance.waits


def test_classes_and_appointments_are_generated_from_the_mix() -> None:
    hall = load_scenario(SCENARIOS / "town-hall.json")
    tickets = [a.ticket for d in range(30) for a in engine.generate_day(hall, 1, d)]
    share = {cls: sum(t.ticket_class is cls for t in tickets) / len(tickets) for cls, _ in hall.class_mix}
    for cls, expected in hall.class_mix:
        assert abs(share[cls] - expected) < 0.03
    assert all((t.appointment_at is not None) == (t.ticket_class.value == "appointment") for t in tickets)
