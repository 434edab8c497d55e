"""``core.locking.write_versioned``: the one way a work order changes, shared by 整改 and 诉求."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from onewindow.core.audit import Actor, AuditEntry
from onewindow.core.clock import FixedClock
from onewindow.core.errors import Conflict
from onewindow.core.locking import write_versioned


class S(StrEnum):
    OPEN = "open"
    DONE = "done"


@dataclass
class Order:
    number: str = "T-1"
    state: str = S.OPEN.value
    version: int = 3
    updated_at: dt.datetime = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    note: str = ""
    events: list[tuple[str, str | None]] = field(default_factory=list)


def _snapshot(order: Order) -> dict[str, Any]:
    return {"state": order.state, "version": order.version, "note": order.note}


def _check(source: str, target: S) -> S:
    if source == target.value:
        raise Conflict("不能重复办理", code="illegal_transition")
    return target


def _write(session: Session, clock: FixedClock, order: Order, target: S | None) -> None:
    def change() -> None:
        order.note = f"changed in {order.state}"

    write_versioned(session, order, target, clock=clock, actor=Actor(None, "system"), action="test.moved",
                    entity_type="test_order", snapshot=_snapshot, check=_check,
                    event=lambda source, to: order.events.append((source, to)), change=change)


def _audits(session: Session) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).where(AuditEntry.entity_type == "test_order")))


def test_a_move_applies_the_change_bumps_the_version_and_writes_timeline_and_audit(
        session: Session, clock: FixedClock) -> None:
    order = Order()
    _write(session, clock, order, S.DONE)
    assert (order.state, order.version, order.updated_at, order.note) == ("done", 4, clock.now(), "changed in open")
    assert order.events == [("open", "done")]
    [entry] = _audits(session)
    assert (entry.action, str(entry.entity_id)) == ("test.moved", "T-1")
    assert entry.before is not None and entry.after is not None
    assert (entry.before["version"], entry.after["version"], entry.after["state"]) == (3, 4, "done")

    _write(session, clock, order, None)  # a change in place: the state stays, the version still moves
    assert (order.state, order.version, order.events[-1]) == ("done", 5, ("done", None))


def test_an_illegal_move_changes_and_writes_nothing(session: Session, clock: FixedClock) -> None:
    order = Order(state=S.DONE.value)
    with pytest.raises(Conflict):
        _write(session, clock, order, S.DONE)
    assert (order.version, order.note, order.events) == (3, "", [])
    assert _audits(session) == []
