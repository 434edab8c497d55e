"""``onewindow bench policies`` prints the promised JSON and its evaluators agree."""

from __future__ import annotations

import datetime as dt
import json

from typer.testing import CliRunner

from onewindow.cli_support import app
from onewindow.policies.cli import run_benchmark


def test_the_benchmark_reports_time_matches_and_speedup() -> None:
    out = run_benchmark(entities=5000, policies=40, seed=1, kind="mixed", runs=2, sample=300,
                        on=dt.date(2026, 12, 1))
    assert {"entities", "policies", "seconds", "matches", "naive_seconds_per_1000", "speedup", "runs"} <= set(out)
    assert out["entities"] == 5000 and out["policies"] == 40 and out["runs"] == 2
    assert out["matches"] > 0 and out["seconds"] > 0 and out["agree"] is True
    assert out["pairs"] == 1500 * 19 + 3500 * 21  # each policy is checked against its own audience


def test_the_cli_prints_json() -> None:
    result = CliRunner().invoke(app, ["bench", "policies", "--entities", "2000", "--policies", "20",
                                      "--kind", "enterprise", "--sample", "100", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["entities"] == 2000 and payload["policies"] == 20 and payload["kind"] == "enterprise"


def test_the_cli_refuses_an_unknown_kind() -> None:
    result = CliRunner().invoke(app, ["bench", "policies", "--entities", "10", "--kind", "company"])
    assert result.exit_code == 2
