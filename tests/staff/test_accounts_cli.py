"""`onewindow users deactivate / reactivate / reset-password`: the way back for a locked-out administrator."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from onewindow import db
from onewindow.core.audit import SYSTEM
from onewindow.core.clock import SystemClock
from onewindow.staff import service
from onewindow.staff.cli import users_app
from onewindow.staff.models import User


@pytest.fixture
def db_url(databases: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh migrated database with one administrator, named by the environment as the CLI reads it."""
    url: str = databases.new_url("accounts-cli")
    engine = db.make_engine(url)
    databases.created.append((url, engine))
    db.upgrade(engine)
    with db.transaction(db.make_session_factory(engine)) as session:
        service.create_user(session, clock=SystemClock(), actor=SYSTEM, username="boss", password="Chief#2026x",
                            display_name="管理员", role="admin")
    monkeypatch.setenv("ONEWINDOW_DATABASE_URL", url)
    return url


def _active(url: str) -> bool:
    engine = db.make_engine(url)
    with db.make_session_factory(engine)() as session:
        active = session.scalar(select(User.is_active).where(User.username == "boss"))
    engine.dispose()
    return bool(active)


def test_deactivate_reactivate_and_reset_from_the_command_line(db_url: str) -> None:
    runner = CliRunner()
    result = runner.invoke(users_app, ["deactivate", "boss"])
    assert result.exit_code == 0, result.output
    assert not _active(db_url)
    result = runner.invoke(users_app, ["deactivate", "boss"])
    assert result.exit_code == 1
    assert result.stderr.strip() == "错误：账号已停用 [already_inactive]"
    assert runner.invoke(users_app, ["reactivate", "boss"]).exit_code == 0
    assert _active(db_url)
    result = runner.invoke(users_app, ["reset-password", "boss", "--password", "weakweak"])
    assert result.exit_code == 1
    assert "错误：password:" in result.stderr
    assert "Traceback" not in result.output
    assert runner.invoke(users_app, ["reset-password", "boss", "--password", "New#Pass2027"]).exit_code == 0
    result = runner.invoke(users_app, ["deactivate", "nobody"])
    assert result.exit_code == 1
    assert "账号不存在：nobody" in result.stderr
