"""``onewindow simulate``: JSON shape, readable table with a chart, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

import onewindow.simulation.cli  # noqa: F401 - registers the command on the root app
from onewindow.cli_support import app

from .conftest import SCENARIOS

runner = CliRunner()
METRICS = {"served", "mean_wait_min", "p50_wait_min", "p90_wait_min", "p95_wait_min", "max_wait_min",
           "mean_service_min", "utilization"}


def test_json_output_has_every_policy_and_the_reference() -> None:
    result = runner.invoke(app, ["simulate", "--scenario", str(SCENARIOS / "town-hall.json"), "--days", "2",
                                 "--seed", "3", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert set(report["policies"]) == {"dedicated", "pooled", "smart", "tidal"}
    for metrics in report["policies"].values():
        assert set(metrics) >= METRICS
        assert metrics["served"] > 0
        assert metrics["p50_wait_min"] <= metrics["p90_wait_min"] <= metrics["p95_wait_min"] <= metrics["max_wait_min"]
    assert report["reference"]["pooled_mean_wait_min"] > 0
    assert (report["days"], report["seed"]) == (2, 3)


def test_default_scenario_is_the_shipped_reference_hall() -> None:
    result = runner.invoke(app, ["simulate", "--days", "1", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["scenario"] == "county-hall-reference"


def test_without_json_a_table_and_a_png_chart(tmp_path: Path) -> None:
    chart = tmp_path / "waits.png"
    result = runner.invoke(app, ["simulate", "--scenario", str(SCENARIOS / "town-hall.json"), "--days", "1",
                                 "--chart", str(chart)])
    assert result.exit_code == 0, result.output
    assert "智能分派" in result.stdout and "理论参考" in result.stdout
    assert chart.read_bytes().startswith(b"\x89PNG")


def test_missing_scenario_file_is_one_line_and_exit_1(tmp_path: Path) -> None:
    result = runner.invoke(app, ["simulate", "--scenario", str(tmp_path / "nope.json"), "--json"])
    assert result.exit_code == 1
    assert result.stderr.strip().count("\n") == 0
    assert result.stderr.startswith("错误：文件不存在")


def test_invalid_scenario_names_the_problem_and_exits_1(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"open": "09:00", "close": "08:00"}), encoding="utf-8")
    result = runner.invoke(app, ["simulate", "--scenario", str(path), "--json"])
    assert result.exit_code == 1
    assert "关门时间必须晚于开门时间" in result.stderr
    assert result.stdout == ""
