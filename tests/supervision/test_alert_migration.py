"""Migration 0010 folds the deadline sweep's ``case_alert`` rows into the one alert inbox and gives them back on
the way down: the case rules' alerts survive a downgrade to 0008 and an upgrade again."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import command

from onewindow import db
from onewindow.core.clock import FixedClock


def test_case_alerts_move_into_the_inbox_and_back(databases: object) -> None:
    from onewindow.demo import load_demo

    engine = databases.new_engine("alert_migration")  # type: ignore[attr-defined]
    with db.make_session_factory(engine)() as session, session.begin():
        load_demo(session, clock=FixedClock(dt.datetime(2026, 11, 23, 2, tzinfo=dt.UTC)), password="demo-pass-123")
    query = sa.text("SELECT rule, subject_id, episode, state FROM supervision_alert "
                    "WHERE subject_type = 'case' AND rule IN ('case_yellow', 'case_red', 'deferral_due') "
                    "ORDER BY rule, subject_id, episode")
    with engine.connect() as conn:
        before = [tuple(r) for r in conn.execute(query)]
    assert {r[0] for r in before} >= {"case_yellow", "case_red"}
    cfg = db.alembic_config(engine)
    command.downgrade(cfg, "0008")
    with engine.connect() as conn:
        kinds = dict(conn.execute(sa.text("SELECT kind, count(*) FROM case_alert GROUP BY kind")).all())
    assert kinds["yellow"] == sum(1 for r in before if r[0] == "case_yellow")
    assert kinds["red"] == sum(1 for r in before if r[0] == "case_red")
    command.upgrade(cfg, "head")
    with engine.connect() as conn:
        after = [tuple(r) for r in conn.execute(query)]
    assert after == before
    engine.dispose()
