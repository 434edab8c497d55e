"""The live-event bus: fan-out in one process, the NOTIFY envelope and its size limit, and the PostgreSQL bus's
publisher and listener (ordering, a bounded queue while the database is away, reconnecting) against an
in-memory stand-in for PostgreSQL; the same on a real PostgreSQL server when the suite runs on one."""

from __future__ import annotations

import asyncio
import itertools
import json
import queue
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import Engine, text
from tests.browser_wait import run_coroutine
from tests.conftest import BACKEND, DatabaseFactory

from onewindow import db
from onewindow.core import livebus
from onewindow.core.livebus import NOTIFY_MAX_BYTES, LocalBus, PostgresBus, envelope

FAST = {"backoff": (0.01, 0.05), "poll_seconds": 0.05}


def run(coro: Any) -> Any:
    return run_coroutine(coro)  # a fresh thread: a browser test in this worker leaves a loop running


async def collect(sub: livebus.Subscription, count: int, timeout: float = 3.0) -> list[livebus.Event]:
    """The next ``count`` events of a subscription (fewer if they do not come within ``timeout``)."""
    got: list[livebus.Event] = []
    deadline = time.monotonic() + timeout
    while len(got) < count and (left := deadline - time.monotonic()) > 0:
        item = await sub.get(timeout=left)
        if item is not None:
            got.append(item)
    return got


# ----- one process ----------------------------------------------------------------------------------------


def test_local_bus_delivers_to_the_topics_subscribers_from_any_thread() -> None:
    bus = LocalBus()

    async def scenario() -> tuple[list[livebus.Event], livebus.Event | None, bool]:
        with bus.subscribe("hall:A") as mine, bus.subscribe("hall:B") as other:
            ready = await mine.ready(0.1)
            thread = threading.Thread(target=bus.publish, args=("hall:A", {"type": "ticket.issued"}))
            thread.start()
            thread.join()
            return await collect(mine, 1), await other.get(timeout=0.05), ready

    got, not_mine, ready = run(scenario())
    assert ready and got == [{"type": "ticket.issued"}] and not_mine is None
    assert bus.subscriber_count("hall:A") == 0 and bus.state() == "process"


def test_a_slow_subscriber_loses_its_oldest_events_and_never_blocks_the_publisher() -> None:
    bus = LocalBus()

    async def scenario() -> list[livebus.Event]:
        with bus.subscribe("t") as sub:
            for n in range(livebus.SUBSCRIBER_MAXSIZE + 5):
                bus.publish("t", {"n": n})
            await asyncio.sleep(0.05)
            return await collect(sub, livebus.SUBSCRIBER_MAXSIZE, timeout=1)

    got = run(scenario())
    assert [e["n"] for e in got] == list(range(5, livebus.SUBSCRIBER_MAXSIZE + 5))


def test_a_subscriber_whose_loop_closed_is_forgotten() -> None:
    bus = LocalBus()
    loop = asyncio.new_event_loop()
    sub = livebus.Subscription("t", loop, bus)
    bus._subs["t"] = {sub}
    loop.close()
    assert bus.deliver("t", {"type": "x"}) == 0 and bus.subscriber_count("t") == 0


def test_an_engine_without_an_app_bus_uses_the_process_bus(tmp_path: Path) -> None:
    engine = db.make_engine(f"sqlite:///{tmp_path / 'one.db'}")
    assert livebus.for_engine(engine) is livebus.LOCAL
    with engine.connect() as conn:
        assert livebus.for_bind(conn) is livebus.LOCAL
    assert livebus.bus_for(engine) is None  # SQLite serves from one process: no bus of its own
    engine.dispose()


# ----- the NOTIFY envelope --------------------------------------------------------------------------------


def test_envelope_carries_origin_sequence_topic_and_event() -> None:
    event = {"type": "ticket.called", "announcement": "请A001号到3号窗口办理", "ticket": {"id": 1}}
    payload = envelope("abcd", 7, "hall:HJ", event)
    assert json.loads(payload) == {"o": "abcd", "n": 7, "t": "hall:HJ", "e": event}
    assert "请A001号" in payload  # UTF-8, not \\u escapes: fewer bytes under the limit
    assert envelope("abcd", 8, "hall:HJ", event) != payload  # equal events stay two notifications


def test_an_event_too_large_for_notify_keeps_its_short_fields() -> None:
    event = {"type": "ticket.called", "hall": "HJ", "ticket": {"id": 1, "note": "长" * 5000},
             "announcement": "请A001号到3号窗口办理", "note": "备注" * 3000}
    payload = envelope("abcd", 1, "hall:HJ", event)
    assert len(payload.encode()) <= NOTIFY_MAX_BYTES
    assert json.loads(payload)["e"] == {"type": "ticket.called", "hall": "HJ", "announcement": "请A001号到3号窗口办理",
                                        "truncated": True}
    huge = {"type": "x", **{f"k{n}": "短" * 100 for n in range(100)}}
    payload = envelope("abcd", 2, "hall:HJ", huge)
    assert len(payload.encode()) <= NOTIFY_MAX_BYTES and json.loads(payload)["e"] == {"type": "x", "truncated": True}


# ----- the PostgreSQL bus against an in-memory PostgreSQL ------------------------------------------------


class FakeServer:
    """LISTEN/NOTIFY between fake connections; can refuse connections and kill the ones it gave."""

    def __init__(self) -> None:
        self.listeners: list[FakeConn] = []
        self.connections: list[FakeConn] = []
        self.down = False
        self.pids = itertools.count(100)
        self.lock = threading.Lock()

    def connect(self, application_name: str) -> FakeConn:
        if self.down:
            raise OSError("connection refused")
        conn = FakeConn(self, application_name, next(self.pids))
        self.connections.append(conn)
        return conn

    def kill(self, name: str) -> None:
        for conn in self.connections:
            if conn.name == name and not conn.dead:
                conn.dead = True
                conn.inbox.put(None)

    def restart(self) -> None:
        self.down = True
        for conn in self.connections:
            if not conn.dead:
                conn.dead = True
                conn.inbox.put(None)


class FakeConn:
    def __init__(self, server: FakeServer, name: str, pid: int) -> None:
        self.server, self.name, self.dead = server, name, False
        self.info = SimpleNamespace(backend_pid=pid)
        self.inbox: queue.Queue[str | None] = queue.Queue()

    def execute(self, sql: str, params: list[str] | None = None) -> None:
        if self.dead:
            raise OSError("server closed the connection")
        if sql.startswith("LISTEN"):
            self.server.listeners.append(self)
        elif "pg_notify" in sql:
            assert params is not None and sql.count("pg_notify") * 2 == len(params)
            for payload in params[1::2]:
                for listener in self.server.listeners:
                    if not listener.dead:
                        listener.inbox.put(payload)

    def notifies(self, *, timeout: float) -> Iterator[SimpleNamespace]:
        try:
            payload = self.inbox.get(timeout=timeout)
        except queue.Empty:
            return
        if payload is None:
            raise OSError("terminating connection due to administrator command")
        yield SimpleNamespace(payload=payload)

    def fileno(self) -> int:
        raise OSError("no socket")

    def close(self) -> None:
        self.dead = True


@pytest.fixture
def fake() -> FakeServer:
    return FakeServer()


@pytest.fixture
def make_bus(fake: FakeServer) -> Iterator[Callable[..., PostgresBus]]:
    made: list[PostgresBus] = []

    def _make(**kwargs: Any) -> PostgresBus:
        bus = PostgresBus(fake.connect, **(FAST | kwargs))
        made.append(bus)
        return bus

    yield _make
    for bus in made:
        bus.stop()


def test_an_event_published_in_one_process_reaches_every_process_in_order(make_bus: Callable[..., PostgresBus],
                                                                          fake: FakeServer) -> None:
    one, two = make_bus(), make_bus()

    async def scenario() -> tuple[list[livebus.Event], list[livebus.Event], list[livebus.Event]]:
        with one.subscribe("hall:A") as here, two.subscribe("hall:A") as there, two.subscribe("hall:B") as other:
            assert await here.ready(2) and await there.ready(2)
            for n in range(5):
                one.publish("hall:A", {"n": n})
            return await collect(here, 5), await collect(there, 5), await collect(other, 1, timeout=0.1)

    here, there, other = run(scenario())
    assert [e["n"] for e in here] == [e["n"] for e in there] == [0, 1, 2, 3, 4] and other == []
    assert [c.name for c in fake.connections].count("onewindow-live-listen") == 2  # one per process
    assert [c.name for c in fake.connections].count("onewindow-live-notify") == 1  # only the one that published


def test_nothing_connects_before_a_subscriber_or_an_event(make_bus: Callable[..., PostgresBus],
                                                          fake: FakeServer) -> None:
    bus = make_bus()
    assert bus.state() == "idle" and fake.connections == []


def test_the_listener_reconnects_and_tells_subscribers_to_resync(make_bus: Callable[..., PostgresBus],
                                                                 fake: FakeServer) -> None:
    bus = make_bus()

    async def scenario() -> tuple[list[livebus.Event], list[livebus.Event], str]:
        with bus.subscribe("hall:A") as sub, bus.subscribe("hall:B") as other:
            assert await sub.ready(2)
            first_pid = bus.listener_pid
            fake.restart()  # every connection dies, and connecting fails for a while
            await asyncio.sleep(0.1)
            state = bus.state()
            fake.down = False
            got = await collect(sub, 1)  # the resync, once it listens again
            assert bus.listener_pid != first_pid
            bus.publish("hall:A", {"type": "ticket.called"})
            got += await collect(sub, 1)
            return got, await collect(other, 1), state

    got, other, state = run(scenario())
    assert state == "reconnecting"
    assert got == [{"type": "resync"}, {"type": "ticket.called"}] and other == [{"type": "resync"}]


def test_events_wait_while_the_database_is_away_within_a_bound(make_bus: Callable[..., PostgresBus],
                                                               fake: FakeServer) -> None:
    sender, receiver = make_bus(max_pending=3), make_bus()

    async def scenario() -> list[livebus.Event]:
        with receiver.subscribe("t") as sub:
            assert await sub.ready(2)
            sender.publish("t", {"n": 0})
            assert [e["n"] for e in await collect(sub, 1)] == [0]
            fake.kill("onewindow-live-notify")
            fake.down = True  # the sender cannot reconnect for now
            started = time.monotonic()
            for n in range(1, 6):
                sender.publish("t", {"n": n})  # never waits on the database
            assert time.monotonic() - started < 0.5
            await asyncio.sleep(0.1)
            fake.down = False
            return await collect(sub, 3)

    got = run(scenario())
    assert [e["n"] for e in got] == [3, 4, 5] and sender.dropped == 2  # the oldest were dropped, order kept


def test_stop_sends_what_is_queued_then_delivers_locally(make_bus: Callable[..., PostgresBus]) -> None:
    bus = make_bus()

    async def scenario() -> list[livebus.Event]:
        with bus.subscribe("t") as sub:
            assert await sub.ready(2)
            bus.stop()
            bus.publish("t", {"type": "after-stop"})  # a request finishing during shutdown
            return await collect(sub, 1)

    assert run(scenario()) == [{"type": "after-stop"}]
    assert bus.state() == "stopped"


# ----- the PostgreSQL bus on PostgreSQL ---------------------------------------------------------------------

postgres_only = pytest.mark.skipif(BACKEND != "postgres", reason="LISTEN/NOTIFY is PostgreSQL's")


@pytest.fixture
def pg_engine(databases: DatabaseFactory) -> Engine:
    return databases.new_engine("livebus")


@postgres_only
def test_two_buses_on_one_database_hear_each_other_and_recover_terminated_backends(pg_engine: Engine) -> None:
    one = PostgresBus(livebus.psycopg_connect(pg_engine), **FAST)
    two = PostgresBus(livebus.psycopg_connect(pg_engine), **FAST)

    def terminate(pid: int | None) -> None:
        with pg_engine.connect() as conn:
            assert conn.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})

    async def scenario() -> list[livebus.Event]:
        with two.subscribe("hall:A") as sub:
            assert await sub.ready(5)
            with pg_engine.connect() as conn:
                names = conn.scalars(text("SELECT application_name FROM pg_stat_activity "
                                          "WHERE datname = current_database()")).all()
            assert "onewindow-live-listen" in names
            one.publish("hall:A", {"type": "ticket.issued", "note": "长" * 5000})  # over NOTIFY's limit
            got = await collect(sub, 1)
            terminate(two.listener_pid)  # PostgreSQL restarted under the listener
            got += await collect(sub, 1)  # resync once it listens again
            terminate(one.publisher_pid)  # and under the publisher: the next event is sent again after reconnecting
            one.publish("hall:A", {"type": "ticket.called"})
            return got + await collect(sub, 1, timeout=5)

    try:
        got = run(scenario())
    finally:
        one.stop()
        two.stop()
    assert got == [{"type": "ticket.issued", "truncated": True}, {"type": "resync"}, {"type": "ticket.called"}]
