"""Live events of the queue: per-hall topics on the live bus (``core.livebus``) for the hall display, the
clerk workbench and the window evaluator (server-sent events, ``/halls/{code}/events``).

Events are published only after the unit of work commits: service functions call
:func:`publish_on_commit`, which holds the event in the session and hands it to the bus from SQLAlchemy's
``after_commit`` hook (a rolled-back request publishes nothing). The bus is the one of the session's
database: in one process (SQLite) it delivers at once; on PostgreSQL it goes through LISTEN/NOTIFY, so a
display served by one worker hears a call made through another.

Event shape (a JSON-ready dict, small: it travels as a NOTIFY payload)::

    {"type": "ticket.called", "hall": "HJ-ZWZX", "at": "2026-11-23T10:00:00+08:00",
     "ticket": {"id": 1, "number": "A001", "category": "A", "state": "called", "window": 3},
     "window": {"id": 7, "number": 3, "status": "serving"}, "announcement": "请A001号到3号窗口办理"}

Types: ``ticket.issued``, ``ticket.called``, ``ticket.recalled``, ``ticket.serving``, ``ticket.done``,
``ticket.missed``, ``ticket.requeued``, ``ticket.transferred``, ``ticket.cancelled``,
``window.changed`` (sign-in, sign-out, pause, resume), ``settings.changed``; and ``resync`` from the bus
itself (events may have been lost while it reconnected: reload what the page shows).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from onewindow.core import livebus
from onewindow.core.livebus import Event, LocalBus, Subscription
from onewindow.db import within

__all__ = ["Event", "Subscription", "bus_of", "pending_events", "publish", "publish_on_commit", "subscribe",
           "subscriber_count", "topic"]

_PENDING_KEY = "onewindow.queue.pending_events"


def topic(hall_code: str) -> str:
    """The bus topic of a hall's events."""
    return f"hall:{hall_code}"


def bus_of(session: Session) -> LocalBus:
    """The live bus of the session's database."""
    return livebus.for_bind(session.get_bind())


def publish(hall_code: str, item: Event, *, bus: LocalBus | None = None) -> None:
    """Publish an event to the hall's listeners now (call only after the write committed)."""
    (bus or livebus.LOCAL).publish(topic(hall_code), item)


@contextlib.contextmanager
def subscribe(hall_code: str, *, bus: LocalBus | None = None) -> Iterator[Subscription]:
    """Listen to a hall inside a running event loop: ``with subscribe(code) as sub: await sub.get(15)``."""
    with (bus or livebus.LOCAL).subscribe(topic(hall_code)) as sub:
        yield sub


def subscriber_count(hall_code: str, *, bus: LocalBus | None = None) -> int:
    """How many listeners a hall has in this process."""
    return (bus or livebus.LOCAL).subscriber_count(topic(hall_code))


def publish_on_commit(session: Session, hall_code: str, item: Event) -> None:
    """Hold an event until the session commits, then publish it (dropped on rollback, also when only the
    savepoint it was held in rolls back: a unit of work of ``db.GroupCommit`` that failed publishes nothing)."""
    pending: list[tuple[str, Event, Any]] | None = session.info.get(_PENDING_KEY)
    if pending is None:
        pending = []
        session.info[_PENDING_KEY] = pending
        if not event.contains(session, "after_commit", _after_commit):
            event.listen(session, "after_commit", _after_commit)
            event.listen(session, "after_soft_rollback", _after_rollback)
    pending.append((hall_code, item, session.get_nested_transaction()))


def pending_events(session: Session) -> list[tuple[str, Event]]:
    """Events held for the session's next commit (for tests and diagnostics)."""
    return [(hall, item) for hall, item, _savepoint in session.info.get(_PENDING_KEY) or []]


def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint released: the transaction is not committed yet
        return
    pending: list[tuple[str, Event, Any]] = session.info.pop(_PENDING_KEY, None) or []
    if pending:
        bus = bus_of(session)
        for hall_code, item, _savepoint in pending:
            publish(hall_code, item, bus=bus)


def _after_rollback(session: Session, previous_transaction: Any) -> None:
    if previous_transaction.parent is None:  # the outermost transaction rolled back
        session.info.pop(_PENDING_KEY, None)
        return
    pending: list[tuple[str, Event, Any]] | None = session.info.get(_PENDING_KEY)
    if pending:  # a savepoint rolled back: the events held inside it go with it
        pending[:] = [p for p in pending if not within(p[2], previous_transaction)]
