"""Migrations build exactly the schema the models describe, on SQLite and PostgreSQL, and go back down."""

from __future__ import annotations

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
