"""The load benchmark: its CPU figure (the CPU seconds of a process group, read from /proc), a short run of the
working-day mix, and the invariant checker catching a planted violation."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from onewindow import db, loadbench
from tests.conftest import DatabaseFactory


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="/proc is Linux")
def test_group_cpu_seconds_counts_this_process_group() -> None:
    before = loadbench._group_cpu_seconds(os.getpgrp())
    end = time.process_time() + 0.2
    while time.process_time() < end:  # burn a little CPU
        pass
    after = loadbench._group_cpu_seconds(os.getpgrp())
    assert before is not None and after is not None
    assert after - before >= 0.1
    assert loadbench._group_cpu_seconds(2**22 + 12345) == 0  # a group with no process


def test_a_short_working_day_runs_every_operation_without_errors(databases: DatabaseFactory) -> None:
    """``bench api --mix day`` for a few seconds with three clients: every operation of the mix answered, none
    with an error, and the invariants hold (acknowledged tickets, cases and ratings stored; the audit chain)."""
    report = loadbench.run(database_url=databases.new_url("bench-day"), workers=1, clients=3, seconds=3,
                           mix="day")
    assert report["mix"] == "day"
    operations = report["operations"]
    ran = {op for op, figures in operations.items() if figures["count"]}
    assert {op for op, _weight in loadbench.DAY_WEIGHTS} <= ran, operations
    assert {"ticket_start", "ticket_finish"} <= ran, operations
    assert report["errors"] == {}, report.get("error_samples")
    assert all(figures["errors"] == 0 for figures in operations.values())
    assert report["invariant_violations"] == []
    for figures in operations.values():
        if figures["count"]:
            assert figures["per_second"] > 0 and figures["p50_ms"] <= figures["p99_ms"]


def test_the_invariants_report_what_was_acknowledged_but_not_stored(databases: DatabaseFactory) -> None:
    """A planted violation: a case and a rating the server acknowledged that the database does not hold."""
    url = databases.new_url("bench-planted")
    engine = db.make_engine(url)
    db.upgrade(engine)
    engine.dispose()
    assert loadbench._invariants(url, [], [], []) == []
    problems = loadbench._invariants(url, [("no-such-token", "A001")], [(987654, "HJ-2026-000001")], [876543])
    assert problems == ["1 acknowledged cases missing (e.g. HJ-2026-000001)",
                        "1 acknowledged ratings missing (e.g. 876543)", "1 acknowledged tickets missing"]


def test_the_mix_must_be_rush_or_day() -> None:
    with pytest.raises(ValueError, match="unknown mix"):
        loadbench.run(database_url=None, workers=1, clients=1, seconds=1, mix="night")


class _Answers:
    """A connection that answers each request with the next (status, body)."""

    def __init__(self, *answers: tuple[int, bytes]) -> None:
        self.answers = list(answers)

    def request(self, _method: str, _path: str, _body: object = None, _token: str | None = None) -> tuple[int, bytes]:
        return self.answers.pop(0)


def test_refusals_and_errors_are_counted_apart_with_their_first_answers() -> None:
    conflict = '{"errors":[{"field":"","code":"number_conflict","message":"办件编号分配冲突，请重试"}]}'.encode()
    client = _Answers((201, b'{"id": 1}'), (409, conflict), (500, b"Internal Server Error"))
    tally = loadbench.Tally()
    calls = [loadbench._call(client, tally, "case_intake", "POST", "/api/v1/cases", {}, expect=201)  # type: ignore[arg-type]
             for _ in range(3)]
    assert calls == [{"id": 1}, None, None]
    assert tally.rejected == {"case_intake": 1} and tally.errors == {"case_intake": 1}
    assert tally.rejected_samples == [f"case_intake: POST /api/v1/cases 409 {conflict.decode()}"]
    assert tally.samples == ["case_intake: POST /api/v1/cases 500 Internal Server Error"]
