"""`onewindow users deactivate / reactivate / reset-password`: the way back for a locked-out administrator."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import pytest
from sqlalchemy import select

from onewindow import db
from onewindow.core.audit import SYSTEM
from onewindow.core.clock import SystemClock
from onewindow.staff import service
from onewindow.staff.models import User


@pytest.fixture
def db_url(databases: Any) -> str:
    """A fresh migrated database with one administrator."""
    url: str = databases.new_url("accounts-cli")
    engine = db.make_engine(url)
    databases.created.append((url, engine))
    db.upgrade(engine)
    with db.transaction(db.make_session_factory(engine)) as session:
        service.create_user(session, clock=SystemClock(), actor=SYSTEM, username="boss", password="Chief#2026x",
                            display_name="管理员", role="admin")
    engine.dispose()
    return url


def _run(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    # a process of its own, as an operator runs it (nothing of the test process's state leaks in)
    env = {**os.environ, "ONEWINDOW_DATABASE_URL": url}
    return subprocess.run([sys.executable, "-c", "from onewindow.cli import main; main()", "users", *args],
                          env=env, capture_output=True, text=True, timeout=120, check=False)


def _active(url: str) -> bool:
    engine = db.make_engine(url)
    with db.make_session_factory(engine)() as session:
        active = session.scalar(select(User.is_active).where(User.username == "boss"))
    engine.dispose()
    return bool(active)


def test_deactivate_reactivate_and_reset_from_the_command_line(db_url: str) -> None:
    result = _run(db_url, "deactivate", "boss")
    assert result.returncode == 0, result.stderr
    assert not _active(db_url)
    result = _run(db_url, "deactivate", "boss")
    assert result.returncode == 1
    assert result.stderr.strip() == "错误：账号已停用 [already_inactive]"
    result = _run(db_url, "reset-password", "boss", "--password", "weakweak")
    assert result.returncode == 1
    assert "错误：password:" in result.stderr
    assert "Traceback" not in result.stderr
    assert _run(db_url, "reactivate", "boss").returncode == 0
    assert _active(db_url)
