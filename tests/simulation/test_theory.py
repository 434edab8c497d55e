"""Queueing formulas against known values and against each other."""

from __future__ import annotations

import math

import pytest

from onewindow.simulation import theory
from onewindow.simulation.scenario import parse_scenario


def test_mm1_closed_form() -> None:
    # λ = 0.1, μ = 1/6: ρ = 0.6, Wq = ρ / (μ − λ) = 9 minutes
    assert theory.mm1_wait(0.1, 1 / 6) == pytest.approx(9.0)
    assert theory.mm1_wait(0.2, 0.2) == math.inf


def test_erlang_c_known_values() -> None:
    assert theory.erlang_c(1, 0.6) == pytest.approx(0.6)  # M/M/1: P(wait) = ρ
    assert theory.erlang_c(2, 1.0) == pytest.approx(1 / 3)
    assert theory.erlang_c(24, 24.0) == 1.0
    assert theory.erlang_c(3, 0.0) == 0.0


def test_allen_cunneen_is_erlang_c_for_exponential_service_and_reduces_with_less_variance() -> None:
    mmc = theory.allen_cunneen_wait(0.1, 6.0, 1.0, 1)
    assert mmc == pytest.approx(theory.mm1_wait(0.1, 1 / 6))
    assert theory.allen_cunneen_wait(0.1, 6.0, 0.0, 1) == pytest.approx(mmc / 2)  # M/D/1 is half of M/M/1
    assert theory.allen_cunneen_wait(1.0, 6.0, 1.0, 5) == math.inf


def constant_hall(windows: int, per_day: float, mean: float, hours: int = 24) -> dict[str, object]:
    return {"name": "constant", "open": "00:00", "close": f"{hours:02d}:00",
            "arrival_weights_by_hour": {f"{h:02d}": 1 for h in range(hours)}, "windows": windows,
            "generalist_service_factor": 1.0,
            "categories": [{"code": "A", "daily_tickets": per_day, "service_minutes_mean": mean, "service_cv": 1.0,
                            "dedicated_windows": windows}]}


def test_time_dependent_reference_settles_to_erlang_c_in_a_steady_hall() -> None:
    hall = parse_scenario(constant_hall(3, 0.35 * 1440, 6.0))  # ρ = 0.7
    ref = theory.pooled_reference(hall)
    stationary = theory.allen_cunneen_wait(0.35, 6.0, 1.0, 3)
    assert ref.hours[-1].wait_min == pytest.approx(stationary, rel=0.01)  # settled by the last hour
    assert ref.hours[0].wait_min < stationary  # the hall opens empty
    assert ref.hours[-1].stationary_wait_min == pytest.approx(stationary)


def test_overloaded_hour_has_no_stationary_value_but_a_finite_reference() -> None:
    raw = constant_hall(2, 0, 6.0, hours=3)
    raw["arrival_weights_by_hour"] = {"00": 1, "01": 3, "02": 1}
    raw["categories"][0]["daily_tickets"] = 100  # type: ignore[index]
    ref = theory.pooled_reference(parse_scenario(raw))
    peak = ref.hours[1]
    assert peak.utilization > 1 and peak.stationary_wait_min is None and peak.erlang_c == 1.0
    assert math.isfinite(ref.mean_wait_min) and ref.hours[2].wait_min > peak.wait_min  # backlog carried


def test_pooled_service_moments_of_one_exponential_category() -> None:
    hall = parse_scenario(constant_hall(1, 100, 6.0))
    assert theory.pooled_service_moments(hall) == pytest.approx((6.0, 1.0))
