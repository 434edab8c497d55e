"""Work orders changed one writer at a time: the row locked for the write, the client's version checked.

Every work order (整改, 诉求, 预警, 回访, 体验报告) carries an integer ``version`` the forms echo back; a write
locks the row (``FOR UPDATE`` on PostgreSQL; SQLite serialises writers anyway) and refuses a stale version
with 409, so two people acting on the same order never both succeed. :func:`write_versioned` is the one way
such an order then changes: the move checked, the change applied, the version bumped, the timeline and the
audit log written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from enum import StrEnum
from typing import Any, Protocol, TypeVar

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from onewindow.core import audit
from onewindow.core.audit import Actor
from onewindow.core.clock import Clock
from onewindow.core.errors import Conflict, NotFound

Row = TypeVar("Row")


class WorkOrder(Protocol):
    """What :func:`write_versioned` needs of a work order row."""

    number: str
    state: str
    version: int
    updated_at: dt.datetime


Order = TypeVar("Order", bound=WorkOrder)
State = TypeVar("State", bound=StrEnum)


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


def write_versioned(session: Session, order: Order, target: State | None, *, clock: Clock, actor: Actor,
                    action: str, entity_type: str, snapshot: Callable[[Order], dict[str, Any]],
                    check: Callable[[str, State], object], event: Callable[[str, str | None], object],
                    change: Callable[[], None] | None = None) -> None:
    """The one way a (locked) work order changes: ``check(source, target)`` the move (it raises 409), apply
    ``change``, move to ``target`` (None: the state stays), bump the version, then ``event(source, new state
    or None)`` writes the domain's timeline row and the audit log records ``action`` with the order's
    ``snapshot`` before and after."""
    before = snapshot(order)
    source = order.state
    if target is not None:
        check(source, target)
    if change is not None:
        change()
    if target is not None:
        order.state = target.value
    order.version += 1
    order.updated_at = clock.now()
    session.flush()
    event(source, target.value if target is not None else None)
    audit.record(session, clock=clock, actor=actor, action=action, entity_type=entity_type,
                 entity_id=order.number, before=before, after=snapshot(order))
