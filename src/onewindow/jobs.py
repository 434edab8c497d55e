"""Background jobs (定时任务): a registry, one-shot runs for the CLI, and the in-app runner.

A job's target is named by a dotted path ``"module:function"`` and imported only when the job runs,
so the registry can name a domain's function without importing that domain (or failing when it is
not written yet). A target has the shape ``fn(session, *, clock) -> dict[str, int]``: it does its
work in the session it is given and returns what it counted; ``run_job`` owns the transaction.

Every process started with ``ONEWINDOW_JOBS_ENABLED=true`` (the default) starts the runner thread; with
several server processes on PostgreSQL (``onewindow serve --workers N``) only the one holding the jobs'
advisory lock (:class:`LeaderLock`) runs them, and another takes over when it dies. Each job's run also
holds a per-job transaction-level advisory lock, so ``onewindow jobs run-once`` from cron never overlaps
the server's run of the same job. SQLite serves from one process. Targets must be safe to run twice.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import threading
import time
import zlib
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from sqlalchemy import Connection, Engine, text
from sqlalchemy.orm import Session, sessionmaker

from onewindow import db
from onewindow.config import Settings
from onewindow.core.clock import Clock
from onewindow.core.errors import Problem, ValidationFailed

if TYPE_CHECKING:
    from fastapi import FastAPI

log = logging.getLogger(__name__)

JobTarget = Callable[..., Mapping[str, int]]


@dataclass(frozen=True)
class Job:
    """A named periodic task: what to call (``"module:function"``), how often, and what it is for."""

    name: str
    target: str
    every_seconds: int
    description: str


JOBS: tuple[Job, ...] = (
    Job(name="case-deadlines", target="onewindow.cases.sweep:sweep_deadlines", every_seconds=300,
        description="办件时限预警：为在办件标记黄牌、红牌预警（电子监察据此预警）"),
    Job(name="notifications", target="onewindow.notifications.jobs:deliver_outbox", every_seconds=60,
        description="消息发送：发送发件箱中到期的短信和接口推送，失败的按退避间隔重试"),
    Job(name="ratings-push", target="onewindow.ratings.exchange:push_job", every_seconds=300,
        description="好差评推送：把尚未推送的评价写入发件箱，推送至省级好差评系统（未配置地址时不推送）"),
    Job(name="rectification-overdue", target="onewindow.rectification.service:overdue_job", every_seconds=600,
        description="整改超期：标记超过整改期限仍在整改中的工单（期限延后则取消标记）"),
    Job(name="rating-defaults", target="onewindow.ratings.service:run_default_ratings", every_seconds=3600,
        description="默认评价：办结（办事）后超过设定天数仍未评价的，记为“基本满意”（默认评价，单独统计）"),
    Job(name="staff-performance", target="onewindow.performance_month:monthly_job", every_seconds=3600,
        description="月度绩效：上月结束后计算窗口人员、窗口和部门的绩效排名（服务明星、流动红旗），向各部门首席代表发送考勤与绩效月报"),
    Job(name="guide-embeddings", target="onewindow.guide.service:embed_job", every_seconds=60,
        description="智能导办语义向量：为目录中新增或修改的事项和一件事计算并保存语义向量（关闭语义检索时不计算）"),
    Job(name="callback-sampling", target="onewindow.supervision.callbacks:sampling_job", every_seconds=3600,
        description="回访抽样：每个工作日按比例（不少于最低数）抽取各部门前一日办结的办件生成回访任务，同一人设定天数内不重复回访"),
    # after the deadline sweep and the rectification sweep, whose marks its rules read
    Job(name="supervision-alerts", target="onewindow.supervision.service:sweep_job", every_seconds=120,
        description="电子监察：按监察规则发现新预警（推送责任部门首席代表），原因消除的预警自动关闭"),
    Job(name="complaints-urge", target="onewindow.complaints.sweep:urge_job", every_seconds=600,
        description="诉求催办：超过办理时限仍未答复的诉求工单标记超期并自动催办（每隔设定小时数再催一次）"),
    Job(name="login-throttle-purge", target="onewindow.staff.service:purge_login_throttle_job", every_seconds=3600,
        description="登录限制清理：删除统计窗口已过且不在锁定期内的登录失败计数（仍在锁定期内的保留）"),
    Job(name="rate-bucket-purge", target="onewindow.core.ratebucket:purge_job", every_seconds=3600,
        description="请求限额清理：删除统计窗口已结束超过一天的请求计数（如取号限额）"),
)


def find_job(name: str, jobs: Sequence[Job] = JOBS) -> Job:
    """The registered job of that name, or ``ValidationFailed`` naming the ones there are."""
    for job in jobs:
        if job.name == name:
            return job
    known = "、".join(j.name for j in jobs)
    raise ValidationFailed([Problem("--job", "unknown_job", f"没有名为“{name}”的定时任务，可选：{known}")])


def resolve_target(target: str) -> JobTarget:
    """Import the function a dotted ``"module:function"`` path names."""
    module_name, sep, attribute = target.partition(":")
    if not sep or not module_name or not attribute:
        raise ValueError(f"job target must look like 'module:function', got {target!r}")
    function = getattr(importlib.import_module(module_name), attribute)
    if not callable(function):
        raise TypeError(f"job target {target!r} is not callable")
    return cast(JobTarget, function)


def run_job(session_factory: sessionmaker[Session], clock: Clock, job: Job) -> dict[str, int]:
    """Run one job in one write transaction (committed when it returns) and give back its counts."""
    function = resolve_target(job.target)
    with db.transaction(session_factory, write=True) as session:
        if session.get_bind().dialect.name == "postgresql":  # one run of a job at a time across processes
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": job_lock_key(job.name)})
        counts = function(session, clock=clock)
    return {str(key): int(value) for key, value in counts.items()}


def run_all_once(session_factory: sessionmaker[Session], clock: Clock,
                 jobs: Sequence[Job] = JOBS) -> dict[str, dict[str, int]]:
    """Run every job once, in registry order; the first failure propagates."""
    return {job.name: run_job(session_factory, clock, job) for job in jobs}


LEADER_LOCK_KEY = 0x4F57_4A42  # "OWJB": held by the one server process that runs the background jobs


def job_lock_key(name: str) -> int:
    """The PostgreSQL advisory lock key of one job (stable across processes and releases)."""
    return zlib.crc32(f"onewindow-job:{name}".encode())


class LeaderLock:
    """Which of several server processes runs the jobs: the holder of a session-level advisory lock.

    On PostgreSQL the lock lives on a connection of its own, kept for as long as the process leads; when
    the process dies, the server drops the lock and the next process to ask becomes the leader. On SQLite
    (one server process) every process leads.
    """

    def __init__(self, engine: Engine, key: int = LEADER_LOCK_KEY) -> None:
        self.engine = engine
        self.key = key
        self._conn: Connection | None = None

    def acquire(self) -> bool:
        """True when this process leads (asks again after a lost connection); never blocks."""
        if self.engine.dialect.name != "postgresql":
            return True
        if self._conn is not None:
            try:
                self._conn.execute(text("SELECT 1"))
                return True
            except Exception:  # the connection (and with it the lock) is gone: ask again below
                self.release()
        try:
            conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        except Exception:
            log.warning("定时任务：无法连接数据库，本轮不运行")
            return False
        if conn.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key}):
            self._conn = conn
            return True
        conn.close()
        return False

    def release(self) -> None:
        """Give up leadership (closing the connection drops the lock on the server)."""
        if self._conn is None:
            return
        try:
            self._conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self.key})
        except Exception:  # a dead connection holds no lock any more
            log.debug("advisory unlock on a lost connection", exc_info=True)
        try:
            self._conn.close()
        except Exception:
            log.debug("closing a lost connection", exc_info=True)
        self._conn = None


class JobRunner:
    """Runs due jobs in a daemon thread every ``tick_seconds``; a failing job is logged, never fatal.

    The first check comes one tick after ``start()`` (not at once), so a server that starts and stops
    quickly, as tests do, never runs a job; thereafter each job runs when ``every_seconds`` have
    passed since its last start.
    """

    def __init__(self, session_factory: sessionmaker[Session], clock: Clock, *, jobs: Sequence[Job] = JOBS,
                 tick_seconds: float = 30.0, monotonic: Callable[[], float] = time.monotonic,
                 leader: LeaderLock | None = None) -> None:
        self.session_factory = session_factory
        self.clock = clock
        self.jobs = tuple(jobs)
        self.tick_seconds = tick_seconds
        self._monotonic = monotonic
        self.leader = leader
        self._last_started: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the background thread (once)."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="onewindow-jobs", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the thread to stop and wait for the job in progress, if any, to finish."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("定时任务线程在 %.0f 秒内未结束", timeout)
            self._thread = None
        if self.leader is not None:
            self.leader.release()

    def run_due(self) -> dict[str, dict[str, int]]:
        """Run each job whose interval has passed; returns the counts of those that succeeded."""
        results: dict[str, dict[str, int]] = {}
        if self.leader is not None and not self.leader.acquire():
            return results  # another server process runs the jobs
        for job in self.jobs:
            if self._stop.is_set():
                break
            now = self._monotonic()
            last = self._last_started.get(job.name)
            if last is not None and now - last < job.every_seconds:
                continue
            # Counted as started even when it fails, so a broken job retries on its interval, not every tick.
            self._last_started[job.name] = now
            try:
                results[job.name] = run_job(self.session_factory, self.clock, job)
            except Exception:
                log.exception("定时任务 %s 运行失败", job.name)
                continue
            log.info("定时任务 %s 完成：%s", job.name, results[job.name])
        return results

    def _loop(self) -> None:
        while not self._stop.wait(self.tick_seconds):
            try:
                self.run_due()
            except Exception:  # the loop itself must outlive any bug below it
                log.exception("定时任务调度出错")


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """FastAPI lifespan: run the jobs in the background while the app serves, if the settings allow."""
    settings: Settings = app.state.settings
    runner: JobRunner | None = None
    if settings.jobs_enabled:
        runner = JobRunner(app.state.session_factory, app.state.clock, leader=LeaderLock(app.state.engine))
        runner.start()
    try:
        yield
    finally:
        if runner is not None:
            await asyncio.to_thread(runner.stop)  # a job in progress may hold it a moment
