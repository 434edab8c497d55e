"""Live events (实时事件): topics, subscribers and the bus that carries events between server processes.

A bus fans an event published on a topic (``"hall:HJ-ZWZX"``) out to every subscriber of that topic. Each
subscriber owns an ``asyncio.Queue`` on its event loop, filled with ``call_soon_threadsafe``; a slow subscriber
loses its oldest events and never blocks the publisher. Publishing never waits on the network either.

- :class:`LocalBus`: one process (the embedded SQLite database, served by one process). ``publish`` delivers
  at once to this process's subscribers.
- :class:`PostgresBus`: several server processes on one PostgreSQL database (``onewindow serve --workers N``).
  ``publish`` queues the event; a publisher thread sends it with ``pg_notify`` on a connection of its own
  (``application_name`` ``onewindow-live-notify``) and one listener thread per process (``LISTEN`` on
  ``onewindow-live-listen``) receives every process's events, its own included, and fans them out to the
  local subscribers, so every process sees the same events in the order PostgreSQL delivered them. A lost
  connection (PostgreSQL restarted, the backend terminated) is reconnected with a growing pause (0.1 s up to
  5 s); after the listener comes back, every local subscriber gets a ``{"type": "resync"}`` event, since
  events sent while it was away are lost (live pages reload what they show on it). Events wait in a bounded
  queue while the publisher reconnects; the oldest are dropped beyond it.

The listener and the publisher start on first use (a subscriber, an event), so a process that neither
publishes nor serves live pages holds no extra connection. Events are sent after the writing transaction
commits (callers publish from SQLAlchemy's ``after_commit``), so a rolled-back write sends nothing.

``NOTIFY`` payloads must stay under 8000 bytes: events carry ids, numbers and short texts, never documents.
An event too large for that keeps its short top-level fields only (``"truncated": true``), with a warning in
the log.

Which bus serves an engine: :func:`for_engine` (``register`` / ``serving`` install a PostgreSQL bus for
the app's lifetime; anything else gets the process's local bus).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import os
import secrets
import socket
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine

log = logging.getLogger(__name__)

Event = dict[str, Any]

CHANNEL = "onewindow_live"
NOTIFY_MAX_BYTES = 7999  # PostgreSQL refuses a NOTIFY payload of 8000 bytes or more
SUBSCRIBER_MAXSIZE = 200
RESYNC: Event = {"type": "resync"}
SHORT_TEXT = 200  # characters of a text field an oversized event keeps


@dataclass(eq=False)
class Subscription:
    """One live listener of a topic: read events with ``await sub.get()``."""

    topic: str
    loop: asyncio.AbstractEventLoop
    bus: LocalBus
    queue: asyncio.Queue[Event] = field(default_factory=lambda: asyncio.Queue(SUBSCRIBER_MAXSIZE))

    async def get(self, timeout: float | None = None) -> Event | None:
        """The next event, or None after ``timeout`` seconds (send a keep-alive then)."""
        try:
            return await asyncio.wait_for(self.queue.get(), timeout)
        except TimeoutError:
            return None

    async def ready(self, timeout: float = 2.0) -> bool:
        """Wait (at most ``timeout`` seconds) until events of other processes reach this subscriber."""
        return await self.bus.ready(timeout)

    def _deliver(self, item: Event) -> None:
        # Runs on the subscriber's loop; drop the oldest event rather than block or fail.
        if self.queue.full():
            with contextlib.suppress(asyncio.QueueEmpty):
                self.queue.get_nowait()
        self.queue.put_nowait(item)


class LocalBus:
    """Fan-out of events to this process's subscribers, per topic (one server process)."""

    kind = "process"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subs: dict[str, set[Subscription]] = {}

    # ----- subscribers -----

    @contextlib.contextmanager
    def subscribe(self, topic: str) -> Iterator[Subscription]:
        """Listen to a topic inside a running event loop: ``with bus.subscribe(t) as sub: await sub.get(15)``."""
        sub = Subscription(topic, asyncio.get_running_loop(), self)
        with self._lock:
            self._subs.setdefault(topic, set()).add(sub)
        self._subscribed()
        try:
            yield sub
        finally:
            self._remove(sub)

    def _subscribed(self) -> None:
        """Hook: a subscriber arrived (the PostgreSQL bus starts listening)."""

    def _remove(self, sub: Subscription) -> None:
        with self._lock:
            subs = self._subs.get(sub.topic)
            if subs is not None:
                subs.discard(sub)
                if not subs:
                    del self._subs[sub.topic]

    def subscriber_count(self, topic: str) -> int:
        """How many listeners a topic has in this process."""
        with self._lock:
            return len(self._subs.get(topic, ()))

    async def ready(self, timeout: float = 2.0) -> bool:
        """True once events published anywhere reach this process's subscribers (at once for one process)."""
        return True

    # ----- events -----

    def publish(self, topic: str, item: Event) -> None:
        """Send an event to the topic's subscribers (from any thread; call only after the write committed)."""
        self.deliver(topic, item)

    def deliver(self, topic: str, item: Event) -> int:
        """Hand an event to this process's subscribers of the topic; returns how many got it."""
        with self._lock:
            subs = list(self._subs.get(topic, ()))
        sent = 0
        for sub in subs:
            try:
                sub.loop.call_soon_threadsafe(sub._deliver, item)
            except RuntimeError:  # the subscriber's loop is closed: it is gone
                self._remove(sub)
                continue
            sent += 1
        return sent

    def deliver_everywhere(self, item: Event) -> None:
        """Hand an event to every subscriber of every topic in this process."""
        with self._lock:
            topics = list(self._subs)
        for topic in topics:
            self.deliver(topic, item)

    # ----- lifetime -----

    def state(self) -> str:
        """How live events travel now (for ``/healthz``)."""
        return self.kind

    def stop(self) -> None:
        """Stop background work (nothing for one process)."""


def envelope(origin: str, seq: int, topic: str, item: Event) -> str:
    """The NOTIFY payload of an event: ``{"o": process, "n": sequence, "t": topic, "e": event}`` under the limit.

    The sequence keeps two equal events of one batch apart (PostgreSQL folds identical payloads of a
    transaction into one). An event too large keeps its type and short scalar fields (``"truncated": true``).
    """
    def dump(event: Event) -> str:
        return json.dumps({"o": origin, "n": seq, "t": topic, "e": event}, ensure_ascii=False,
                          separators=(",", ":"))

    payload = dump(item)
    if len(payload.encode()) <= NOTIFY_MAX_BYTES:
        return payload
    short: Event = {key: value for key, value in item.items()
                    if value is None or isinstance(value, bool | int | float)
                    or (isinstance(value, str) and len(value) <= SHORT_TEXT)}
    short["truncated"] = True
    log.warning("实时事件过大（%d 字节），只发送其简短字段：%s %s", len(payload.encode()), topic, item.get("type"))
    payload = dump(short)
    if len(payload.encode()) <= NOTIFY_MAX_BYTES:
        return payload
    return dump({"type": item.get("type"), "truncated": True})


Connect = Callable[[str], Any]  # application name -> an autocommit psycopg connection


class PostgresBus(LocalBus):
    """Events across the server processes of one PostgreSQL database (LISTEN/NOTIFY); see the module text."""

    kind = "postgresql"

    def __init__(self, connect: Connect, *, channel: str = CHANNEL, max_pending: int = 1000,
                 backoff: tuple[float, float] = (0.1, 5.0), batch: int = 50, poll_seconds: float = 1.0) -> None:
        super().__init__()
        self._connect = connect
        self.channel = channel
        self.origin = secrets.token_hex(4)
        self.max_pending = max_pending
        self.backoff = backoff
        self.batch = batch
        self.poll_seconds = poll_seconds  # the listener looks at the stop flag this often, at least
        self.dropped = 0  # events lost because the publisher could not keep up or reach the database
        self.listener_pid: int | None = None  # the listener's backend (pg_stat_activity, pg_terminate_backend)
        self.publisher_pid: int | None = None
        self._seq = itertools.count(1)
        self._pending: deque[str] = deque()
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._listening = threading.Event()
        self._start_lock = threading.Lock()
        self._listener: threading.Thread | None = None
        self._publisher: threading.Thread | None = None
        self._listen_conn: Any = None

    # ----- subscribers: one listener thread per process -----

    def _subscribed(self) -> None:
        self._start("_listener", self._listen_loop, "onewindow-live-listen")

    async def ready(self, timeout: float = 2.0) -> bool:
        """True once the listener listens (polls; never holds a thread of the event loop)."""
        deadline = time.monotonic() + timeout
        while not self._listening.is_set():
            if self._stop.is_set() or time.monotonic() >= deadline:
                return False
            await asyncio.sleep(0.01)
        return True

    def _start(self, attribute: str, target: Callable[[], None], name: str) -> None:
        if getattr(self, attribute) is not None or self._stop.is_set():
            return
        with self._start_lock:
            if getattr(self, attribute) is None and not self._stop.is_set():
                thread = threading.Thread(target=target, name=name, daemon=True)
                setattr(self, attribute, thread)
                thread.start()

    def _pause(self, delay: float) -> float:
        """Wait ``delay`` seconds (or until stopped); the next, longer pause."""
        self._stop.wait(delay)
        return min(delay * 2, self.backoff[1])

    def _listen_loop(self) -> None:
        delay, lost = self.backoff[0], False
        while not self._stop.is_set():
            conn: Any = None
            try:
                conn = self._connect("onewindow-live-listen")
                conn.execute(f"LISTEN {self.channel}")  # a constant identifier, never user input
                self._listen_conn, self.listener_pid = conn, conn.info.backend_pid
                self._listening.set()
                delay = self.backoff[0]
                if lost:
                    log.info("实时事件：监听连接已恢复")
                    self.deliver_everywhere(dict(RESYNC))  # events sent meanwhile are lost: reload
                while not self._stop.is_set():
                    for note in conn.notifies(timeout=self.poll_seconds):
                        self._receive(note.payload)
            except Exception as exc:
                if not self._stop.is_set():
                    log.warning("实时事件：监听连接中断（%s），%.1f 秒后重连", exc.__class__.__name__, delay)
                lost = True
            finally:
                self._listening.clear()
                self._listen_conn = None
                _close_quietly(conn)
            if not self._stop.is_set():
                delay = self._pause(delay)

    def _receive(self, payload: str) -> None:
        try:
            message = json.loads(payload)
            topic, item = message["t"], message["e"]
        except (ValueError, KeyError, TypeError):
            log.debug("实时事件：忽略无法识别的通知 %r", payload[:100])
            return
        if isinstance(topic, str) and isinstance(item, dict):
            self.deliver(topic, item)

    # ----- events: one publisher thread per process -----

    def publish(self, topic: str, item: Event) -> None:
        """Queue the event for NOTIFY (never waits on the database); every process's listener delivers it."""
        if self._stop.is_set():
            self.deliver(topic, item)  # shutting down: this process's subscribers at least
            return
        payload = envelope(self.origin, next(self._seq), topic, item)
        with self._cond:
            if len(self._pending) >= self.max_pending:
                self._pending.popleft()
                self.dropped += 1
            self._pending.append(payload)
            self._cond.notify()
        self._start("_publisher", self._publish_loop, "onewindow-live-notify")

    def _publish_loop(self) -> None:
        conn: Any = None
        delay = self.backoff[0]
        while True:
            with self._cond:
                while not self._pending and not self._stop.is_set():
                    self._cond.wait()
                if not self._pending:
                    break  # stopped with nothing left to send
                batch = [self._pending.popleft() for _ in range(min(self.batch, len(self._pending)))]
            try:
                if conn is None:
                    conn = self._connect("onewindow-live-notify")
                    self.publisher_pid = conn.info.backend_pid
                calls = ", ".join(["pg_notify(%s, %s)"] * len(batch))  # evaluated left to right: in order
                conn.execute(f"SELECT {calls}", [value for payload in batch for value in (self.channel, payload)])
                delay = self.backoff[0]
            except Exception as exc:
                _close_quietly(conn)
                conn = None
                with self._cond:  # send them again once reconnected, within the bound
                    self._pending.extendleft(reversed(batch))
                    while len(self._pending) > self.max_pending:
                        self._pending.popleft()
                        self.dropped += 1
                if self._stop.is_set():
                    self.dropped += len(self._pending)
                    self._pending.clear()
                    break
                log.warning("实时事件：发送失败（%s），%.1f 秒后重试", exc.__class__.__name__, delay)
                delay = self._pause(delay)
        _close_quietly(conn)

    # ----- lifetime -----

    def state(self) -> str:
        """``listening``, ``reconnecting`` (the listener lost its connection), ``idle`` (nobody listened yet) or
        ``stopped``."""
        if self._stop.is_set():
            return "stopped"
        if self._listening.is_set():
            return "listening"
        return "reconnecting" if self._listener is not None else "idle"

    def wait_listening(self, timeout: float) -> bool:
        """Block until the listener listens (tests and diagnostics; never on the event loop)."""
        return self._listening.wait(timeout)

    def stop(self, timeout: float = 5.0) -> None:
        """Send what is queued, then stop both threads and close their connections."""
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        _interrupt(self._listen_conn)  # wakes the listener out of its wait at once
        for thread in (self._publisher, self._listener):
            if thread is not None:
                thread.join(timeout)


def _interrupt(conn: Any) -> None:
    """Shut the connection's socket down from another thread, so a thread waiting on it wakes up."""
    if conn is None:
        return
    with contextlib.suppress(Exception), socket.socket(fileno=os.dup(conn.fileno())) as sock:
        sock.shutdown(socket.SHUT_RDWR)


def _close_quietly(conn: Any) -> None:
    if conn is not None:
        with contextlib.suppress(Exception):
            conn.close()


def psycopg_connect(engine: Engine) -> Connect:
    """Connections of their own (outside the pool) to the engine's PostgreSQL database, in autocommit mode,
    with TCP keep-alives so a silently lost server is noticed within about a minute. The driver is the engine's
    own (psycopg, already imported by its dialect)."""
    driver: Any = engine.dialect.loaded_dbapi
    url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)

    def connect(application_name: str) -> Any:
        return driver.connect(url, autocommit=True, connect_timeout=5, application_name=application_name,
                               keepalives=1, keepalives_idle=30, keepalives_interval=10, keepalives_count=3)

    return connect


# ----- which bus an engine uses ------------------------------------------------------------------------

LOCAL = LocalBus()
_BUSES: dict[Engine, LocalBus] = {}
_BUSES_LOCK = threading.Lock()


def for_engine(engine: Engine) -> LocalBus:
    """The bus of the app serving this engine, or the process's local bus."""
    return _BUSES.get(engine, LOCAL)


def for_bind(bind: Any) -> LocalBus:
    """The bus of a session's bind (an engine, or a connection of one)."""
    engine = getattr(bind, "engine", None)
    return for_engine(engine) if isinstance(engine, Engine) else LOCAL


def bus_for(engine: Engine) -> LocalBus | None:
    """A new bus for an app on this engine: PostgreSQL's across processes; None for SQLite (one process)."""
    if engine.dialect.name == "postgresql":
        return PostgresBus(psycopg_connect(engine))
    return None


@contextlib.asynccontextmanager
async def serving(engine: Engine) -> AsyncIterator[LocalBus]:
    """While an app serves: the engine's events travel on its own bus (PostgreSQL), stopped afterwards."""
    bus = bus_for(engine)
    if bus is None:
        yield for_engine(engine)
        return
    with _BUSES_LOCK:
        previous = _BUSES.get(engine)
        _BUSES[engine] = bus
    try:
        yield bus
    finally:
        with _BUSES_LOCK:
            if previous is None:
                _BUSES.pop(engine, None)
            else:
                _BUSES[engine] = previous
        await asyncio.to_thread(bus.stop)
