"""The FIFO policies against an independent calculation: one window, M/M/1 closed form."""

from __future__ import annotations

import numpy as np
import pytest

from onewindow.simulation import engine, theory
from onewindow.simulation.scenario import load_scenario

from .conftest import SCENARIOS

WARM_UP_MIN = 180  # each simulated day opens empty; the closed form is the steady state


@pytest.mark.parametrize("policy", ["dedicated", "pooled"])
def test_single_window_fifo_matches_mm1(policy: str) -> None:
    """λ = 0.1/min, mean service 6 min, CV 1 (M/G/1 with the exponential's moments): Wq = 9 min.

    300 days give about 43,000 tickets; the estimator's spread is about 3.5%, so 10% is a real check
    (a wrong service parametrisation or a lost ticket moves it far more) that a fixed seed keeps stable.
    """
    hall = load_scenario(SCENARIOS / "mm1.json")
    run = engine.simulate_policy(hall, policy, days=hall.days, seed=hall.seed)
    waits = np.asarray(run.waits)
    steady = waits[np.asarray(run.arrival_minutes) >= WARM_UP_MIN]
    expected = theory.mm1_wait(0.1, 1 / 6)
    assert expected == pytest.approx(9.0)
    assert steady.mean() == pytest.approx(expected, rel=0.10)
    assert (steady > 0).mean() == pytest.approx(0.6, abs=0.03)  # P(wait) = ρ
    assert np.mean(run.services) == pytest.approx(6.0, rel=0.03)
    assert run.utilization == pytest.approx(0.6, abs=0.03)


def test_three_fifo_windows_match_erlang_c() -> None:
    hall = load_scenario(SCENARIOS / "mm1.json")
    from dataclasses import replace

    cat = replace(hall.categories[0], daily_tickets=0.35 * 1440, dedicated_windows=3)
    hall3 = replace(hall, windows=3, categories=(cat,))
    run = engine.simulate_policy(hall3, "pooled", days=150, seed=hall.seed)
    waits = np.asarray(run.waits)[np.asarray(run.arrival_minutes) >= WARM_UP_MIN]
    assert waits.mean() == pytest.approx(theory.allen_cunneen_wait(0.35, 6.0, 1.0, 3), rel=0.12)
