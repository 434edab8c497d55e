"""In-process live events of the queue: per-hall subscriber queues for the hall display and workbench (SSE).

Publishing is thread-safe (sync request handlers run in worker threads); each subscriber owns an
``asyncio.Queue`` on its event loop, filled with ``call_soon_threadsafe``. A slow subscriber loses
its oldest events, never blocks the publisher. Events are published only after the unit of work
commits: service functions call :func:`publish_on_commit`, which holds the event in the session and
sends it from SQLAlchemy's ``after_commit`` hook (a rolled-back request publishes nothing).

One process only: several app workers need a shared channel (PostgreSQL LISTEN/NOTIFY, DESIGN
"Scale") behind the same :func:`publish` / :func:`subscribe` interface.

Event shape (a JSON-ready dict)::

    {"type": "ticket.called", "hall": "HJ-ZWZX", "at": "2026-11-23T10:00:00+08:00",
     "ticket": {"id": 1, "number": "A001", "category": "A", "state": "called", "window": 3},
     "window": {"id": 7, "number": 3, "status": "serving"}, "announcement": "请A001号到3号窗口办理"}

Types: ``ticket.issued``, ``ticket.called``, ``ticket.recalled``, ``ticket.serving``, ``ticket.done``,
``ticket.missed``, ``ticket.requeued``, ``ticket.transferred``, ``ticket.cancelled``,
``window.changed`` (sign-in, sign-out, pause, resume), ``settings.changed``.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

Event = dict[str, Any]

_PENDING_KEY = "onewindow.queue.pending_events"
DEFAULT_MAXSIZE = 200


@dataclass(eq=False)
class Subscription:
    """One live listener of a hall: read events with ``await sub.get()``."""

    hall_code: str
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[Event] = field(default_factory=lambda: asyncio.Queue(DEFAULT_MAXSIZE))

    async def get(self, timeout: float | None = None) -> Event | None:
        """The next event, or None after ``timeout`` seconds (send an SSE keep-alive then)."""
        try:
            return await asyncio.wait_for(self.queue.get(), timeout)
        except TimeoutError:
            return None

    def _deliver(self, item: Event) -> None:
        # Runs on the subscriber's loop; drop the oldest event rather than block or fail.
        if self.queue.full():
            with contextlib.suppress(asyncio.QueueEmpty):
                self.queue.get_nowait()
        self.queue.put_nowait(item)


class Broker:
    """Per-hall fan-out of events to subscribers."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subs: dict[str, set[Subscription]] = {}

    def add(self, sub: Subscription) -> None:
        """Register a subscription."""
        with self._lock:
            self._subs.setdefault(sub.hall_code, set()).add(sub)

    def remove(self, sub: Subscription) -> None:
        """Forget a subscription."""
        with self._lock:
            subs = self._subs.get(sub.hall_code)
            if subs is not None:
                subs.discard(sub)
                if not subs:
                    del self._subs[sub.hall_code]

    def subscriber_count(self, hall_code: str) -> int:
        """How many listeners a hall has."""
        with self._lock:
            return len(self._subs.get(hall_code, ()))

    def publish(self, hall_code: str, item: Event) -> int:
        """Send an event to every listener of the hall (from any thread); returns how many got it."""
        with self._lock:
            subs = list(self._subs.get(hall_code, ()))
        sent = 0
        for sub in subs:
            if sub.loop.is_closed():
                self.remove(sub)
                continue
            sub.loop.call_soon_threadsafe(sub._deliver, item)
            sent += 1
        return sent


BROKER = Broker()


def publish(hall_code: str, item: Event) -> int:
    """Publish an event to the hall's listeners now (call only after the write committed)."""
    return BROKER.publish(hall_code, item)


@contextlib.contextmanager
def subscribe(hall_code: str) -> Iterator[Subscription]:
    """Listen to a hall inside a running event loop: ``with subscribe(code) as sub: await sub.get(15)``."""
    sub = Subscription(hall_code, asyncio.get_running_loop())
    BROKER.add(sub)
    try:
        yield sub
    finally:
        BROKER.remove(sub)


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
    for hall_code, item, _savepoint in pending:
        publish(hall_code, item)


def _inside(transaction: Any, ancestor: Any) -> bool:
    while transaction is not None:
        if transaction is ancestor:
            return True
        transaction = transaction.parent
    return False


def _after_rollback(session: Session, previous_transaction: Any) -> None:
    if previous_transaction.parent is None:  # the outermost transaction rolled back
        session.info.pop(_PENDING_KEY, None)
        return
    pending: list[tuple[str, Event, Any]] | None = session.info.get(_PENDING_KEY)
    if pending:  # a savepoint rolled back: the events held inside it go with it
        pending[:] = [p for p in pending if not _inside(p[2], previous_transaction)]
