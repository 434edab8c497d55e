"""``onewindow bench cases`` runs end to end on a small workload and prints its JSON report."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from onewindow.cli import app


def test_bench_cases_prints_a_json_report() -> None:
    result = CliRunner().invoke(app, ["bench", "cases", "--cases", "300", "--intakes", "3", "--lookups", "3",
                                      "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["cases"] == 300 and report["open"] + report["closed"] == 300
    assert report["intake"]["n"] == 3 and report["track"]["n"] == 3
    assert report["sweep"]["checked"] >= report["open"]
    assert report["inbox"]["max_rows"] > 0


def test_bench_cases_refuses_a_bad_day() -> None:
    result = CliRunner().invoke(app, ["bench", "cases", "--on", "2026-13-01"])
    assert result.exit_code == 1
    assert "--on" in result.output
