"""Work orders changed one writer at a time: the row locked for the write, the client's version checked.

Every work order (整改, 诉求, 预警, 回访, 体验报告) carries an integer ``version`` the forms echo back; a write
locks the row (``FOR UPDATE`` on PostgreSQL; SQLite serialises writers anyway) and refuses a stale version
with 409, so two people acting on the same order never both succeed.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from onewindow.core.errors import Conflict, NotFound

Row = TypeVar("Row")


def lock_versioned(session: Session, model: type[Row], row_id: int, expected_version: int | None, *,
                   label: str, stale: str = "") -> Row:
    """The row of ``model`` with this id, locked and re-read; 404 when absent, 409 when the version moved on.

    ``label`` names the record in messages (``整改工单``); ``stale`` replaces the default 409 message.
    ``expected_version`` None skips the check (a job acting on the row as it is now).
    """
    key = inspect(model).primary_key[0]
    # OF <table>: PostgreSQL refuses FOR UPDATE on the nullable side of an eager join
    found: Any = session.scalars(select(model).where(key == row_id).with_for_update(of=model)
                                 .execution_options(populate_existing=True)).first()
    if found is None:
        raise NotFound(label, str(row_id))
    if expected_version is not None and expected_version != found.version:
        raise Conflict(stale or f"{label}已被他人更新，请刷新后重试", code="stale_version", field="version")
    row: Row = found
    return row
