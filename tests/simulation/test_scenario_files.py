"""Scenario files: the shipped one loads; bad ones get every problem named in Chinese."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from onewindow.core.errors import ValidationFailed
from onewindow.queue.states import TicketClass
from onewindow.simulation.scenario import DEFAULT_SCENARIO, load_scenario, parse_scenario

from .conftest import SCENARIOS


def reference_raw() -> dict[str, Any]:
    raw: dict[str, Any] = json.loads(DEFAULT_SCENARIO.read_text(encoding="utf-8"))
    return raw


def test_shipped_reference_hall_loads() -> None:
    hall = load_scenario()
    assert (hall.windows, hall.days, hall.seed, hall.open_minutes) == (24, 30, 20231009, 480)
    assert hall.daily_tickets == 800
    assert [c.code for c in hall.categories] == list("ABCDEFGH")
    assert hall.class_mix == ((TicketClass.NORMAL, 1.0),)


@pytest.mark.parametrize("name", ["town-hall.json", "heavy-hall.json", "mm1.json"])
def test_test_halls_load(name: str) -> None:
    assert load_scenario(SCENARIOS / name).windows >= 1


def problems_of(raw: Any) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as caught:
        parse_scenario(raw)
    return {p.field: p.code for p in caught.value.problems}


def test_not_an_object() -> None:
    assert problems_of([1, 2]) == {"scenario": "not_object"}


def test_every_problem_is_reported_at_once() -> None:
    raw = reference_raw()
    raw["open"] = "9点"
    raw["windows"] = 0
    raw["categories"][1]["service_minutes_mean"] = 0
    raw["categories"][2]["service_cv"] = "高"
    raw["categories"][3]["code"] = "A"
    found = problems_of(raw)
    assert found == {"open": "bad_time", "windows": "out_of_range",
                     "categories[1].service_minutes_mean": "out_of_range",
                     "categories[2].service_cv": "not_number", "categories[3].code": "duplicate"}


def test_messages_are_in_chinese() -> None:
    raw = reference_raw()
    del raw["windows"]
    with pytest.raises(ValidationFailed) as caught:
        parse_scenario(raw)
    assert caught.value.problems[0].message == "缺少必填项"


@pytest.mark.parametrize(("change", "field", "code"), [
    ({"close": "08:00"}, "close", "before_open"),
    ({"arrival_weights_by_hour": {"20": 1}}, "arrival_weights_by_hour.20", "outside_hours"),
    ({"arrival_weights_by_hour": {"9a": 1}}, "arrival_weights_by_hour.9a", "bad_hour"),
    ({"arrival_weights_by_hour": {"09": 0}}, "arrival_weights_by_hour", "all_zero"),
    ({"arrival_weights_by_hour": {"09": -1}}, "arrival_weights_by_hour.09", "out_of_range"),
    ({"class_mix": {"黄金": 1}}, "class_mix.黄金", "unknown_ticket_class"),
    ({"class_mix": {"普通": 0}}, "class_mix", "all_zero"),
    ({"generalist_service_factor": 0.9}, "generalist_service_factor", "out_of_range"),
    ({"days": 1.5}, "days", "not_number"),
    ({"windows": True}, "windows", "not_number"),
    ({"flexible_windows": 24}, "flexible_windows", "out_of_range"),
    ({"categories": []}, "categories", "required"),
])
def test_bad_value_is_named(change: dict[str, Any], field: str, code: str) -> None:
    raw = reference_raw()
    raw.update(change)
    assert problems_of(raw).get(field) == code


def test_category_with_tickets_needs_a_dedicated_window() -> None:
    raw = reference_raw()
    raw["categories"][0]["dedicated_windows"] = 0
    assert problems_of(raw) == {"categories[0].dedicated_windows": "no_window"}


def test_broken_json_is_a_validation_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"open": "09:00",', encoding="utf-8")
    with pytest.raises(ValidationFailed, match="不是有效的 JSON"):
        load_scenario(path)


def test_class_mix_accepts_codes_and_labels_and_is_normalised() -> None:
    raw = reference_raw()
    raw["class_mix"] = {"normal": 3, "爱心绿色通道": 1}
    assert parse_scenario(raw).class_mix == ((TicketClass.NORMAL, 0.75), (TicketClass.GREEN, 0.25))


def test_half_hour_opening_clips_the_first_hour() -> None:
    hall = load_scenario(SCENARIOS / "town-hall.json")
    assert hall.hour_weights[0][:2] == (8.5 * 60, 9 * 60)


def test_shared_hall_keeps_the_dedicated_layout_when_the_counts_agree() -> None:
    hall = load_scenario()
    homes = Counter(hall.home_layout())
    assert homes == {c.code: c.dedicated_windows for c in hall.categories}
    windows = hall.shared_hall()
    assert all(w.skills[0] == w.home[0] and sorted(w.skills) == list("ABCDEFGH") for w in windows)


def test_shared_hall_spreads_a_different_window_count_in_proportion() -> None:
    hall = load_scenario(SCENARIOS / "heavy-hall.json")  # 16 windows, 17 dedicated
    homes = Counter(hall.home_layout())
    assert sum(homes.values()) == 16 and len(hall.dedicated_hall()) == 17
    assert all(homes[c.code] >= 1 for c in hall.categories)


def test_tidal_hall_has_a_quarter_flexible_windows_and_keeps_one_fixed_per_category() -> None:
    hall = load_scenario()
    windows = hall.shared_hall(tidal=True)
    assert sum(w.flexible for w in windows) == 6
    fixed = Counter(w.home[0] for w in windows if not w.flexible)
    assert all(fixed[c.code] >= 1 for c in hall.categories)
    assert fixed["B"] == 4 and fixed["C"] == 3  # the categories short of windows give none away
