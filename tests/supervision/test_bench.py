"""``onewindow bench supervision`` runs end to end on a small county and prints the two timings the issue asks for."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from onewindow.cli import app


def test_bench_supervision_prints_sweep_and_ranking_seconds() -> None:
    result = CliRunner().invoke(app, ["bench", "supervision", "--cases", "300", "--tickets", "60", "--windows", "30",
                                      "--staff", "40", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert set(report) == {"sweep_seconds", "ranking_seconds"}
    assert report["sweep_seconds"] > 0 and report["ranking_seconds"] > 0


def test_bench_supervision_refuses_a_bad_day() -> None:
    result = CliRunner().invoke(app, ["bench", "supervision", "--on", "2026-02-30"])
    assert result.exit_code == 1 and "--on" in result.output
