"""``onewindow plan`` and ``onewindow bench planner``: JSON shape, one-line errors in Chinese."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

import onewindow.planning.cli  # noqa: F401 - registers the commands on the root app
from onewindow.cli_support import app

from .test_plan_meets_target import SMALL_HALL

runner = CliRunner()


def _hall(tmp_path: Path, **extra: object) -> Path:
    path = tmp_path / "hall.json"
    path.write_text(json.dumps({**SMALL_HALL, **extra}, ensure_ascii=False), encoding="utf-8")
    return path


def test_plan_prints_a_week_with_windows_waits_tidal_settings_and_roster(tmp_path: Path) -> None:
    hall = _hall(tmp_path, weekday_factors={"mon": 1.2, "tue": 1.0})
    result = runner.invoke(app, ["plan", "--scenario", str(hall), "--target-mean", "12", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert [d["weekday"] for d in report["days"]] == ["mon", "tue"]
    monday = report["days"][0]
    assert [h["hour"] for h in monday["hours"]] == ["09", "10", "11", "12"]
    assert all(h["total"] == sum(h["windows"].values()) for h in monday["hours"])
    assert report["target"] == {"mean_min": 12.0, "p90_min": None}
    assert monday["tidal"]["flexible_windows"] == len(monday["tidal"]["flexible"])
    assert monday["roster"]["seats"][1]["windows"]  # someone sits at the peak's windows
    assert report["window_hours"] == sum(d["window_hours"] for d in report["days"])


def test_staff_too_few_gives_the_hours_that_miss_and_the_stagger_advice(tmp_path: Path) -> None:
    staff = tmp_path / "staff.json"
    staff.write_text(json.dumps([{"name": f"甲{i}", "skills": ["A", "B"]} for i in range(5)]), encoding="utf-8")
    result = runner.invoke(app, ["plan", "--scenario", str(_hall(tmp_path)), "--staff", str(staff), "--day", "mon",
                                 "--json"])
    assert result.exit_code == 0, result.output
    day = json.loads(result.stdout)["days"][0]
    assert day["roster"]["shortfalls"]
    assert day["stagger"] and day["stagger"][0]["over_by_min"] > 0


def test_far_too_few_staff_are_told_to_add_people_not_to_move_bookings(tmp_path: Path) -> None:
    staff = tmp_path / "staff.json"
    staff.write_text(json.dumps([{"name": "甲", "skills": ["A", "B"]}, {"name": "乙", "skills": ["A"]}]),
                     encoding="utf-8")
    result = runner.invoke(app, ["plan", "--scenario", str(_hall(tmp_path)), "--staff", str(staff), "--day", "mon",
                                 "--json"])
    assert result.exit_code == 0, result.output
    day = json.loads(result.stdout)["days"][0]
    assert "stagger" not in day
    assert day["understaffed"]["staffed_window_hours"] < day["understaffed"]["planned_window_hours"]


def test_bench_planner_prints_the_floor_figures(tmp_path: Path) -> None:
    result = runner.invoke(app, ["bench", "planner", "--scenario", str(_hall(tmp_path)), "--target-mean", "12",
                                 "--check-days", "8", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert {"plan_window_hours", "constant_window_hours", "saving", "target_met_every_hour",
            "plan_seconds"} <= set(report)
    assert report["plan_seed"] != report["check_seed"]
    assert 0 < report["plan_window_hours"] <= report["constant_window_hours"] * 1.05


def test_a_closed_day_and_a_broken_file_are_one_line_errors(tmp_path: Path) -> None:
    result = runner.invoke(app, ["plan", "--scenario", str(_hall(tmp_path)), "--day", "sun"])
    assert result.exit_code == 1
    assert "开放日" in result.stderr
    broken = tmp_path / "broken.json"
    broken.write_text("{", encoding="utf-8")
    result = runner.invoke(app, ["plan", "--scenario", str(broken)])
    assert result.exit_code == 1 and "JSON" in result.stderr
