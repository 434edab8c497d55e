"""``gen-data``'s generator on the demo county: what it writes adds up in the rebuilt rollups; the commands
refuse bad input with one Chinese line."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from onewindow.analytics import listeners, rollup, service
from onewindow.analytics.generate import generate
from onewindow.analytics.service import Filters
from onewindow.calendar.service import build_calendar
from onewindow.cases.models import Case
from onewindow.cli import app
from onewindow.config import get_settings
from onewindow.core.access import Role, Viewer
from onewindow.core.clock import FixedClock, today

END = dt.date(2031, 6, 30)
ADMIN = Viewer(user_id=1, role=Role.ADMIN)


def test_generated_history_adds_up_in_the_rollups(session: Session) -> None:
    session.info[listeners.DISABLED] = True
    seen: list[tuple[int, int]] = []
    report = generate(session, cases=300, days=21, seed=7, end=END, progress=lambda d, t: seen.append((d, t)))
    rollup.rebuild(session)
    assert report.cases == 300 and seen[-1] == (300, 300)
    calendar = build_calendar(session)  # holidays off (端午 2031), 调休 Saturdays on
    assert report.days == len([d for d in range(21) if calendar.is_workday(END - dt.timedelta(days=d))])
    assert not any(r.sums["cases_accepted"] for r in service.trend(session, ADMIN, Filters(
        END - dt.timedelta(days=20), END)) if not calendar.is_workday(dt.date.fromisoformat(r.key)))
    o = service.overview(session, ADMIN, Filters(END - dt.timedelta(days=20), END), END)
    assert o.figures["cases_accepted"].numerator == 300
    assert o.figures["tickets"].numerator == report.tickets
    assert o.figures["ratings"].numerator == report.ratings
    assert o.figures["complaints"].numerator == report.complaints
    assert 0 < (o.figures["on_time_rate"].value or 0) <= 100
    hours = {r.extra["hour"] for r in service.trend(session, ADMIN, Filters(END - dt.timedelta(days=20), END),
                                                    by="hour_of_week")}
    assert hours <= set(range(9, 19))
    channels = {r.key: r.sums["cases_accepted"] for r in service.channels(session, ADMIN, Filters(
        END - dt.timedelta(days=20), END))}
    assert channels["window"] > 0 and channels["online"] > 0
    # 寄递: one case in seven of the items that allow mail (counted by the same rule as the rebuild, above)
    mailed = session.scalar(select(func.count(Case.id)).where(
        Case.result_delivery == "mail", Case.accepted_on >= END - dt.timedelta(days=20), Case.accepted_on <= END,
        Case.agent_user_id.is_(None), Case.number.like("G%")))
    assert mailed and channels["mail"] == mailed
    # the same seed gives the same history
    first = session.scalars(select(Case.item_id).where(Case.accepted_on >= END - dt.timedelta(days=20))
                            .order_by(Case.id).limit(20)).all()
    assert len(first) == 20 and session.scalar(select(func.count(Case.id)).where(Case.number.like("G%"))) == 300


def test_gen_data_refuses_a_bad_end_day() -> None:
    result = CliRunner().invoke(app, ["gen-data", "--cases", "10", "--days", "5", "--end", "2031-13-01"])
    assert result.exit_code == 1 and "--end" in result.stderr and len(result.stderr.splitlines()) == 1


def test_rebuild_on_an_empty_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONEWINDOW_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["analytics", "rebuild", "--json"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["days"] == 0


def _rollup_rows(session: Session) -> dict[str, list[tuple[object, ...]]]:
    from onewindow.analytics.models import fact, fact_dept, hourly, open_work, wait

    return {t.name: sorted(tuple(r) for r in session.execute(select(t)).all())
            for t in (fact, fact_dept, hourly, wait, open_work)}


def test_rollups_counted_while_generating_equal_a_rebuild(session: Session, clock: FixedClock) -> None:
    # a few thousand cases over weeks that also hold the demo county's own records (recounted at the end)
    session.info[listeners.DISABLED] = True
    report = generate(session, cases=3000, days=60, seed=11, end=today(clock) + dt.timedelta(days=10))
    assert report.cases == 3000 and report.complaints > 0
    generated = _rollup_rows(session)
    assert generated["analytics_fact"] and generated["analytics_open"]
    rollup.rebuild(session)
    assert _rollup_rows(session) == generated
