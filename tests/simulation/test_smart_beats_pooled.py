"""The smart policy on halls it was not tuned on, and the reference goal on a shorter run.

The real measurement of the goal is ``onewindow simulate --json`` on 30 days.
"""

from __future__ import annotations

import numpy as np
import pytest

from onewindow.simulation import engine
from onewindow.simulation.scenario import load_scenario

from .conftest import SCENARIOS


@pytest.mark.parametrize("name", ["town-hall.json", "heavy-hall.json"])
def test_smart_beats_pooled_fifo_mean_wait(name: str) -> None:
    hall = load_scenario(SCENARIOS / name)
    runs = engine.simulate(hall, days=hall.days, seed=hall.seed, policies=("pooled", "smart"))
    smart, pooled = np.mean(runs["smart"].waits), np.mean(runs["pooled"].waits)
    assert smart < 0.95 * pooled


def test_reference_goal_on_ten_days() -> None:
    hall = load_scenario()
    runs = engine.simulate(hall, days=10, seed=hall.seed, policies=("dedicated", "pooled", "smart"))
    smart, pooled, dedicated = (np.asarray(runs[k].waits) for k in ("smart", "pooled", "dedicated"))
    assert smart.mean() <= 0.231 * dedicated.mean()
    assert np.percentile(smart, 95) <= np.percentile(pooled, 95)
    assert smart.max() <= 60
