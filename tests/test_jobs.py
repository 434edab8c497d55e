"""Background jobs: the registry, ``onewindow jobs run-once|list``, and a runner that outlives failing jobs."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from onewindow import jobs
from onewindow.cli_support import app
from onewindow.config import get_settings
from onewindow.core.clock import Clock, FixedClock
from onewindow.core.errors import ValidationFailed
from onewindow.jobs import (
    JOBS,
    Job,
    JobRunner,
    LeaderLock,
    find_job,
    job_lock_key,
    resolve_target,
    run_all_once,
    run_job,
)
from onewindow.jobs_cli import jobs_app  # noqa: F401  (registers ``jobs`` on ``app``)

calls: list[str] = []
recovered = threading.Event()


def counting_target(session: Session, *, clock: Clock) -> Mapping[str, int]:
    """A fake job: proves it got a usable session in a transaction and the clock."""
    seen = session.scalar(text("SELECT 1")) or 0  # PostgreSQL begins the transaction at the first statement
    assert session.in_transaction()
    calls.append(clock.now().isoformat())
    return {"seen": seen}


def failing_target(session: Session, *, clock: Clock) -> Mapping[str, int]:
    """A fake job that always breaks."""
    calls.append("boom")
    raise RuntimeError("boom")


def flaky_target(session: Session, *, clock: Clock) -> Mapping[str, int]:
    """A fake job that breaks the first time and works afterwards."""
    calls.append("flaky")
    if calls.count("flaky") == 1:
        raise RuntimeError("first run breaks")
    recovered.set()
    return {"ok": 1}


HERE = __name__
COUNTING = Job("counting", f"{HERE}:counting_target", 60, "计数")
FAILING = Job("failing", f"{HERE}:failing_target", 60, "总是失败")
FLAKY = Job("flaky", f"{HERE}:flaky_target", 0, "第一次失败")


@pytest.fixture(autouse=True)
def _reset() -> None:
    calls.clear()
    recovered.clear()


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("ONEWINDOW_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def test_the_registry_names_the_deadline_sweep_every_five_minutes() -> None:
    job = find_job("case-deadlines")
    assert job.every_seconds == 300 and job.target == "onewindow.cases.sweep:sweep_deadlines"
    assert callable(resolve_target(job.target))
    assert len({j.name for j in JOBS}) == len(JOBS)


def test_an_unknown_job_name_is_a_validation_problem() -> None:
    with pytest.raises(ValidationFailed) as excinfo:
        find_job("nightly")
    assert excinfo.value.code == "unknown_job" and "case-deadlines" in excinfo.value.message


def test_run_job_passes_session_and_clock_and_returns_counts(session_factory: sessionmaker[Session],
                                                             clock: FixedClock) -> None:
    assert run_job(session_factory, clock, COUNTING) == {"seen": 1}
    assert calls == [clock.now().isoformat()]
    assert run_all_once(session_factory, clock, [COUNTING, COUNTING]) == {"counting": {"seen": 1}}


def test_run_once_runs_every_job_on_a_fresh_database(runner: CliRunner) -> None:
    result = runner.invoke(app, ["jobs", "run-once", "--json"])
    assert result.exit_code == 0, result.output
    counts = json.loads(result.stdout)
    assert set(counts) == {j.name for j in JOBS}
    assert all(isinstance(v, int) for c in counts.values() for v in c.values())
    plain = runner.invoke(app, ["jobs", "run-once", "--job", "case-deadlines"])
    assert plain.exit_code == 0, plain.output
    assert plain.stdout.startswith("case-deadlines：")


def test_run_once_with_an_unknown_job_exits_1_with_one_line(runner: CliRunner) -> None:
    result = runner.invoke(app, ["jobs", "run-once", "--job", "nightly"])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"错误：--job: 没有名为“nightly”的定时任务，可选：{'、'.join(j.name for j in JOBS)} [unknown_job]"]
    assert "Traceback" not in result.output


def test_list_shows_each_job_with_its_interval(runner: CliRunner) -> None:
    result = runner.invoke(app, ["jobs", "list"])
    assert result.exit_code == 0
    assert "case-deadlines\t每 300 秒\t办件时限预警" in result.stdout
    as_json = json.loads(runner.invoke(app, ["jobs", "list", "--json"]).stdout)
    assert as_json[0]["name"] == "case-deadlines"


def test_the_runner_logs_a_failing_job_and_runs_the_others(session_factory: sessionmaker[Session],
                                                          clock: FixedClock,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    now = [1000.0]
    job_runner = JobRunner(session_factory, clock, jobs=[FAILING, COUNTING], monotonic=lambda: now[0])
    with caplog.at_level(logging.ERROR, logger="onewindow.jobs"):
        assert job_runner.run_due() == {"counting": {"seen": 1}}
    assert "定时任务 failing 运行失败" in caplog.text and "RuntimeError: boom" in caplog.text
    now[0] += 30  # neither is due again before its interval
    assert job_runner.run_due() == {}
    now[0] += 30
    assert job_runner.run_due() == {"counting": {"seen": 1}}
    assert calls.count("boom") == 2


def test_the_runner_thread_survives_an_exception_and_stops_cleanly(session_factory: sessionmaker[Session],
                                                                   clock: FixedClock) -> None:
    job_runner = JobRunner(session_factory, clock, jobs=[FLAKY], tick_seconds=0.01)
    job_runner.start()
    try:
        assert recovered.wait(5), "the job did not run again after failing"
    finally:
        job_runner.stop(timeout=5)
    assert job_runner._thread is None
    assert calls[:2] == ["flaky", "flaky"]


def test_the_app_starts_and_stops_the_runner_only_when_jobs_are_enabled(app: FastAPI,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[str] = []
    monkeypatch.setattr(jobs.JobRunner, "start", lambda self: started.append("start"))
    monkeypatch.setattr(jobs.JobRunner, "stop", lambda self, timeout=10.0: started.append("stop"))
    with TestClient(app):
        pass
    assert started == []  # the test settings turn jobs off
    app.state.settings.jobs_enabled = True
    with TestClient(app) as client:
        assert started == ["start"]
        assert client.get("/healthz").status_code == 200
    assert started == ["start", "stop"]


def test_only_the_leader_process_runs_the_jobs_and_another_takes_over(engine: Engine,
                                                                      session_factory: sessionmaker[Session],
                                                                      clock: FixedClock) -> None:
    first, second = LeaderLock(engine), LeaderLock(engine)  # two server processes on one database
    follower = JobRunner(session_factory, clock, jobs=[COUNTING], leader=second)
    try:
        assert first.acquire()
        if engine.dialect.name == "postgresql":
            assert not second.acquire()
            assert follower.run_due() == {} and calls == []  # the follower runs nothing
            assert first.acquire()  # the leader keeps leading
            first.release()  # the leader stops (or dies: the server drops its lock)
        assert follower.run_due() == {"counting": {"seen": 1}}
    finally:
        first.release()
        second.release()


def test_job_lock_keys_are_stable_and_distinct() -> None:
    keys = {job_lock_key(job.name) for job in JOBS}
    assert len(keys) == len(JOBS) and job_lock_key("case-deadlines") == job_lock_key("case-deadlines")
    assert all(0 <= key < 2**63 for key in keys)


def test_the_login_throttle_purge_keeps_open_windows_and_running_lockouts(session_factory: sessionmaker[Session],
                                                                          clock: FixedClock) -> None:
    import datetime as dt

    from sqlalchemy import select

    from onewindow.staff.models import LoginThrottle
    from onewindow.staff.service import Throttle, purge_login_throttle

    now = clock.now()
    minutes = dt.timedelta(minutes=1)
    rows = {  # key: (window started, locked until)
        "user:old": (now - 16 * minutes, None),
        "user:lock-over": (now - 40 * minutes, now - 10 * minutes),
        "user:locked": (now - 20 * minutes, now + 5 * minutes),
        "addr:counting": (now - 14 * minutes, None),
    }
    with session_factory() as session:
        session.add_all(LoginThrottle(key=k, failures=3, window_started_at=w, locked_until=u)
                        for k, (w, u) in rows.items())
        session.flush()
        assert purge_login_throttle(session, clock=clock, throttle=Throttle(window_minutes=15)) == 2
        left = set(session.scalars(select(LoginThrottle.key)))
        assert left == {"user:locked", "addr:counting"}
        assert purge_login_throttle(session, clock=clock, throttle=Throttle(window_minutes=15)) == 0
    job = find_job("login-throttle-purge")
    assert job.target == "onewindow.staff.service:purge_login_throttle_job" and callable(resolve_target(job.target))


def test_the_rate_bucket_purge_drops_buckets_older_than_the_longest_window(session_factory: sessionmaker[Session],
                                                                           clock: FixedClock) -> None:
    import datetime as dt

    from sqlalchemy import select

    from onewindow.core import ratebucket
    from onewindow.core.ratebucket import MAX_WINDOW_SECONDS, RateBucket

    now = clock.now()
    longest = dt.timedelta(seconds=MAX_WINDOW_SECONDS)
    with session_factory() as session:
        session.add_all([RateBucket(key="ticket:old", window_start=now - longest - dt.timedelta(seconds=1), count=9),
                         RateBucket(key="ticket:today", window_start=now - dt.timedelta(hours=2), count=9)])
        session.flush()
        assert ratebucket.purge_job(session, clock=clock) == {"purged": 1}
        assert list(session.scalars(select(RateBucket.key))) == ["ticket:today"]
        with pytest.raises(ValueError):  # a window longer than the purge keeps would be forgotten too soon
            ratebucket.spend(session, "k", limit=1, window_seconds=MAX_WINDOW_SECONDS + 1, now=now, message="")
    assert find_job("rate-bucket-purge").target == "onewindow.core.ratebucket:purge_job"
