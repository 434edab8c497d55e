"""``onewindow bench dashboard``: build (or reuse) a synthetic history and time the dashboard reads.

The reads are timed as a dashboard opens them by default, each repeated after one warm-up run: the overview,
the trend by day, the department league and the first page of a drill-down (按期办结率), all over the last 30
days, so that a small history and a ten-year one answer the same question (a read costs what its range holds,
not what the history holds). The overview over the last 365 days is reported beside them
(``overview_year_p95_ms``). A history is reused when its sidecar file
(``<database>.analytics-bench.json``) says it was built with the same number of cases and seed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event

from onewindow import db
from onewindow.analytics import listeners, service
from onewindow.analytics.generate import generate
from onewindow.analytics.service import Filters
from onewindow.core.access import Viewer, parse_role
from onewindow.core.clock import CHINA_TZ, FixedClock

CASES_PER_WORKDAY = 5000  # a city's centers together (the seeds' figure)
END = dt.date(2026, 11, 20)


def default_days(cases: int) -> int:
    """Calendar days a city needs for that many cases (at least four weeks)."""
    return max(28, round(cases / CASES_PER_WORKDAY * 365 / 250))


def build(engine: Engine, *, cases: int, days: int, seed: int,
          progress: Callable[[str, int, int], None] | None = None) -> dict[str, Any]:
    """The demo county, then the history (its rollups counted as it is written); returns the generator's
    report and seconds."""
    from onewindow.demo import load_demo

    factory = db.make_session_factory(engine)
    started = time.perf_counter()
    with db.transaction(factory) as session:
        session.info[listeners.DISABLED] = True
        clock = FixedClock(dt.datetime(END.year, END.month, END.day, 18, tzinfo=CHINA_TZ))
        load_demo(session, clock=clock)
    with db.transaction(factory) as session:
        session.info[listeners.DISABLED] = True
        report = generate(session, cases=cases, days=days, seed=seed, end=END,
                          progress=(lambda d, t: progress("generate", d, t)) if progress else None)
    return {"report": report.as_dict(), "build_seconds": round(time.perf_counter() - started, 1)}


def _build_engine(url: str) -> Engine:
    """The engine that writes the history. On SQLite it trades durability for speed, for this throw-away bench
    database only: the rollback journal in memory, no fsync, a 1 GB page cache (a crash mid-build leaves a
    database to delete; the reads are then timed through an ordinary engine)."""
    engine = db.make_engine(url)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _bulk_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=MEMORY")
            cursor.execute("PRAGMA synchronous=OFF")
            cursor.execute("PRAGMA cache_size=-1000000")
            cursor.close()

    return engine


def _p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] * 1000, 1)


def time_reads(engine: Engine, repeats: int = 30) -> dict[str, float]:
    """p95 milliseconds of each dashboard read."""
    factory = db.make_session_factory(engine)
    role = parse_role("admin")
    assert role is not None  # noqa: S101
    admin = Viewer(user_id=0, role=role)
    year = Filters(END - dt.timedelta(days=364), END)
    month = Filters(END - dt.timedelta(days=29), END)
    reads: dict[str, Callable[[Any], object]] = {
        "overview_p95_ms": lambda s: service.overview(s, admin, month, END),
        "trend_p95_ms": lambda s: service.trend(s, admin, month),
        "league_p95_ms": lambda s: service.league(s, admin, month),
        "drilldown_p95_ms": lambda s: service.drilldown(s, admin, "on_time_rate", month),
        "overview_year_p95_ms": lambda s: service.overview(s, admin, year, END),
    }
    out: dict[str, float] = {}
    with factory() as session:
        for name, read in reads.items():
            read(session)
            samples = []
            for _ in range(repeats):
                t0 = time.perf_counter()
                read(session)
                samples.append(time.perf_counter() - t0)
            out[name] = _p95(samples)
    return out


def sidecar(url: str, path_hint: Path | None) -> Path:
    """Where the build's facts are kept next to the database."""
    if path_hint is not None:
        return path_hint.with_name(path_hint.name + ".analytics-bench.json")
    digest = hashlib.sha256(url.encode()).hexdigest()[:12]
    return Path(f".analytics-bench-{digest}.json")


def run(url: str, *, cases: int, days: int, seed: int, sqlite_path: Path | None,
        progress: Callable[[str, int, int], None] | None = None) -> dict[str, Any]:
    """Build or reuse the history at ``url`` and time the reads."""
    engine = db.make_engine(url)
    marker = sidecar(url, sqlite_path)
    facts: dict[str, Any] | None = None
    if marker.exists() and not db.is_empty(engine):
        stored = json.loads(marker.read_text())
        if stored.get("cases") == cases and stored.get("seed") == seed and stored.get("days") == days:
            facts = stored
    reused = facts is not None
    if reused:
        db.upgrade(engine)  # a history built by an older revision gains the tables added since
    if facts is None:
        if not db.is_empty(engine):
            raise ValueError("database not empty")
        db.upgrade(engine)
        engine.dispose()  # the builder switches SQLite's journal mode, which needs no other connection open
        builder = _build_engine(url)
        try:
            built = build(builder, cases=cases, days=days, seed=seed, progress=progress)
        finally:
            builder.dispose()
        facts = {"cases": cases, "seed": seed, "days": days, **built}
        marker.write_text(json.dumps(facts, ensure_ascii=False))
    timings = time_reads(engine)
    engine.dispose()
    return {"cases": cases, "build_seconds": facts["build_seconds"], **timings,
            "backend": url.split(":", 1)[0], "days": days, "reused": reused, "generated": facts["report"]}
