"""Migrations build exactly the schema the models describe, on SQLite and PostgreSQL, and go back down."""

from __future__ import annotations

import json

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

import onewindow.models  # noqa: F401  (registers every table)
from onewindow import db


def test_models_and_migrations_agree(databases: object) -> None:
    engine = databases.new_engine("migrations")  # type: ignore[attr-defined]
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), db.Base.metadata)
    assert diff == []


def test_downgrade_to_base_and_up_again(databases: object) -> None:
    engine = databases.new_engine("downgrade")  # type: ignore[attr-defined]
    cfg = db.alembic_config(engine)
    command.downgrade(cfg, "base")
    assert db.current_revision(engine) is None
    assert db.upgrade(engine) is True
    assert db.current_revision(engine) == db.head_revision(engine)


def test_procedure_migration_types_existing_item_versions_and_case_steps(databases: object) -> None:
    import datetime as dt

    import sqlalchemy as sa

    from onewindow.catalog.procedure import Procedure, StepKind, classify_step, procedure_of
    from onewindow.core.clock import FixedClock
    from onewindow.demo import load_demo, reference_catalog

    engine = databases.new_engine("procedure_data")  # type: ignore[attr-defined]
    with db.make_session_factory(engine)() as session, session.begin():
        load_demo(session, clock=FixedClock(dt.datetime(2026, 11, 23, 2, tzinfo=dt.UTC)), password="demo-pass-123")
    cfg = db.alembic_config(engine)
    command.downgrade(cfg, "0006")  # item versions exist, with no procedure column
    command.upgrade(cfg, "head")
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT steps, legal_limit_days, promised_limit_days, limit_unit, procedure "
                                    "FROM item_version")).all()
        steps_rows = conn.execute(sa.text("SELECT name, position, kind FROM case_step")).all()
    assert len(rows) >= len(reference_catalog()["items"])
    assert steps_rows
    for name, position, kind in steps_rows:
        assert kind == (StepKind.ACCEPT if position == 1 else classify_step(name)).value
    for raw_steps, legal, promised, unit, raw_stored in rows:
        steps = json.loads(raw_steps) if isinstance(raw_steps, str) else raw_steps
        stored = json.loads(raw_stored) if isinstance(raw_stored, str) else raw_stored
        assert Procedure.from_json(stored) == procedure_of(legal_days=legal, promised_days=promised, unit=unit,
                                                           steps=steps)
