"""Database engine, sessions, the declarative base and schema upgrades (Alembic)."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import contextvars
import datetime as dt
import json
import sqlite3
import threading
import weakref
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, overload

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import JSON, DateTime, Engine, MetaData, Table, create_engine, event, inspect
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Session, SessionTransaction, sessionmaker
from sqlalchemy.types import TypeDecorator

from onewindow.config import Settings

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


class AwareDateTime(TypeDecorator[dt.datetime]):
    """A timestamp that is always timezone-aware in Python (stored as UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: pass an aware datetime")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:  # SQLite returns naive values; they were stored as UTC
            return value.replace(tzinfo=dt.UTC)
        return value


class Base(DeclarativeBase):
    """Declarative base with explicit constraint names (needed for SQLite batch migrations)."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


SYNCHRONOUS_MODES = ("full", "normal")


SQLITE_BUSY_MS = 30_000  # how long a writer waits for another process's write lock on the file


def _sqlite_pragmas(synchronous: str) -> Any:
    if synchronous not in SYNCHRONOUS_MODES:
        raise ValueError(f"synchronous must be one of {SYNCHRONOUS_MODES}")

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous.upper()}")  # one of two known words
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
        cursor.close()

    return on_connect


SQLITE_BEGIN_OPTION = "sqlite_begin"
SQLITE_POOL_SIZE = 40  # connections kept open (anyio's default thread limiter lets 40 worker threads run)
SQLITE_POOL_OVERFLOW = 20  # beyond them (threads outside the limiter: the group commit's), closed after use
WRITER_WAIT_SECONDS = 30.0  # as long as SQLite's busy timeout: then "database is locked" (a retryable 409)
SQLITE_NOWAIT = "IMMEDIATE, NOWAIT"  # a writer's BEGIN that takes the turn only if it is free (else ``WriterBusy``)
_HOLDS_WRITER = "onewindow.holds_writer"  # on a pooled connection's info: it holds the process's writer lock


class WriterLock:
    """The one writer of a SQLite database in this process, handed over in arrival order.

    SQLite has a single writer. Left to itself, each waiting writer spins in SQLite's busy handler, sleeping
    1, 2, 5 … 100 ms between tries, so a late writer often wins and an early one may wait seconds (p99 in
    seconds under load). Here a writer takes this lock before ``BEGIN IMMEDIATE`` and gives it back when its
    connection returns to the pool (after COMMIT or ROLLBACK); the lock goes straight to the longest waiter,
    woken at once. Other processes on the same file (the CLI, a backup) still meet SQLite's busy timeout.
    """

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._held = False
        self._waiters: collections.deque[threading.Lock] = collections.deque()

    def acquire(self, timeout: float = WRITER_WAIT_SECONDS) -> bool:
        """Wait for the turn (FIFO); False after ``timeout`` seconds."""
        with self._mutex:
            if not self._held:
                self._held = True
                return True
            waiter = threading.Lock()
            waiter.acquire()
            self._waiters.append(waiter)
        if waiter.acquire(timeout=timeout):
            return True  # handed over by release()
        with self._mutex:
            try:
                self._waiters.remove(waiter)
            except ValueError:  # handed over between the timeout and here: the turn is ours
                return True
        return False

    def try_acquire(self) -> bool:
        """Take the turn if nobody holds it (and nobody waits for it); never waits."""
        with self._mutex:
            if self._held:
                return False
            self._held = True
            return True

    def release(self) -> None:
        """Hand the turn to the longest waiter, or free it."""
        with self._mutex:
            if self._waiters:
                self._waiters.popleft().release()
            else:
                self._held = False


def _sqlite_begin(writer: WriterLock) -> Any:
    def begin(conn: Connection) -> None:
        # Readers begin DEFERRED (WAL lets them run beside the writer); writers begin IMMEDIATE (a read lock
        # upgraded later could fail), after taking their turn in this process.
        option = conn.get_execution_options().get(SQLITE_BEGIN_OPTION, "DEFERRED")
        mode = "IMMEDIATE" if option == SQLITE_NOWAIT else option
        took = False
        if mode == "IMMEDIATE" and not conn.info.get(_HOLDS_WRITER):
            if option == SQLITE_NOWAIT:
                if not writer.try_acquire():
                    raise WriterBusy
            elif not writer.acquire():
                raise OperationalError("BEGIN IMMEDIATE", None, sqlite3.OperationalError("database is locked"))
            conn.info[_HOLDS_WRITER] = took = True
        try:
            if option == SQLITE_NOWAIT:  # nor for another process's writer (the CLI, a backup) on the same file
                conn.exec_driver_sql("PRAGMA busy_timeout=0")
                try:
                    conn.exec_driver_sql("BEGIN IMMEDIATE")
                except OperationalError as exc:
                    raise WriterBusy from exc
                finally:
                    conn.exec_driver_sql(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
            else:
                conn.exec_driver_sql(f"BEGIN {mode}")
        except BaseException:
            if took:
                conn.info.pop(_HOLDS_WRITER, None)
                writer.release()
            raise

    return begin


def _sqlite_give_back(writer: WriterLock) -> Any:
    def give_back(_dbapi_connection: Any, record: Any, *_exception: Any) -> None:
        # the connection is back in the pool (rolled back if it was still in a transaction) or invalidated
        if record is not None and record.info.pop(_HOLDS_WRITER, False):
            writer.release()

    return give_back


class WriterBusy(Exception):
    """``begin_write(session, wait=False)``: another writer of this process holds the turn."""


def within(transaction: SessionTransaction | None, ancestor: SessionTransaction) -> bool:
    """Whether a session transaction is ``ancestor`` or nested inside it (what a rolled-back savepoint takes along
    of what was noted in it: live events, tickets queued to be written)."""
    while transaction is not None:
        if transaction is ancestor:
            return True
        transaction = transaction.parent
    return False


def rows_insert(table: Table, columns: Sequence[str], name: str, where: str = "") -> str:
    """PostgreSQL: an ``INSERT`` of any number of rows given as ONE parameter (``:{name}``, a JSON array of objects
    that :func:`rows_params` makes; ``json_populate_recordset`` gives each value its column's type), rows inserted
    in the array's order. One text and one parameter for every batch size: the server prepares it once, and the
    driver converts one string instead of a typed array per column. A part of a statement of several
    (data-modifying CTEs) that writes a batch's rows of several tables in one round trip. ``where``: a condition
    on the rows (SQL)."""
    listed = ", ".join(columns)
    # a JSON column keeps None as JSON null, as the ORM's JSON type writes it (json_populate_recordset gives NULL)
    selected = ", ".join(f"COALESCE({column}, 'null'::json)" if _json_null(table.c[column].type) else column
                         for column in columns)
    filtered = f" WHERE {where}" if where else ""
    # names from the table's metadata; the values are one bound parameter
    return (f"INSERT INTO {table.name} ({listed}) SELECT {selected}"  # noqa: S608
            f" FROM json_populate_recordset(NULL::{table.name}, CAST(:{name} AS JSON)){filtered}")


def _json_null(kind: Any) -> bool:
    return isinstance(kind, JSON) and not kind.none_as_null


def rows_params(table: Table, columns: Sequence[str], name: str, rows: Sequence[dict[str, Any]]) -> dict[str, str]:
    """The parameter of :func:`rows_insert` for ``rows`` (the column values, as the ORM's types take them: aware
    datetimes, JSON as Python values)."""
    stamps = [column for column in columns if isinstance(table.c[column].type, AwareDateTime)]
    aware = AwareDateTime()
    out: list[dict[str, Any]] = []
    for row in rows:
        values = {column: row.get(column) for column in columns}
        for column in stamps:  # refused if naive, as the ORM's type refuses it
            values[column] = aware.process_bind_param(values[column], None)
        out.append(values)
    return {name: _json_dumps_rows(out)}


def _json_dumps_rows(rows: list[dict[str, Any]]) -> str:
    return json.dumps(rows, ensure_ascii=False, default=_json_scalar)


def _json_scalar(value: Any) -> str:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    raise TypeError(f"not JSON: {type(value).__name__}")


def begin_write(session: Session, *, wait: bool = True) -> None:
    """Declare that this session's transaction will write: on SQLite it takes this process's writer turn and
    SQLite's write lock now, in the calling thread (never later on the event loop, where waiting for the turn
    would stop the writer that holds it). With ``wait=False`` (a writer on the event loop itself, which must not
    wait for a worker thread's transaction) it raises ``WriterBusy`` at once when the turn is taken."""
    bind = session.get_bind()
    if bind.dialect.name == "sqlite" and not session.in_transaction():
        session.connection(execution_options={SQLITE_BEGIN_OPTION: "IMMEDIATE" if wait else SQLITE_NOWAIT})


class WriterSlots:
    """At most ``SLOTS`` writing requests of this process wait in worker threads; the rest wait on the event loop.

    A writer waiting for its turn (``WriterLock``) holds a worker thread, and the writer holding the turn needs
    a thread to commit; bounding the writers in threads keeps threads free (no pool exhaustion, however many
    clients write at once). One semaphore per event loop (the test client runs one loop per client).
    """

    SLOTS = 8

    def __init__(self) -> None:
        self._slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = \
            weakref.WeakKeyDictionary()

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold a writer's slot for the block."""
        loop = asyncio.get_running_loop()
        slots = self._slots.get(loop)
        if slots is None:
            slots = self._slots[loop] = asyncio.Semaphore(self.SLOTS)
        async with slots:
            yield


def writer_slots(engine: Engine) -> WriterSlots | None:
    """The writers' slots for an engine: SQLite only (PostgreSQL writers run side by side on row locks)."""
    return WriterSlots() if engine.dialect.name == "sqlite" else None


T = TypeVar("T")

GROUP_COMMIT_MAX = 32  # units of work in one transaction at most (the last one waits for all before it)
GROUP_COMMIT_IDLE_SECONDS = 5.0  # the writer thread stops after this long without work (started again on demand)
GROUP_COMMIT_RETRIES = 3  # PostgreSQL: a batch aborted by a deadlock runs again at most this many times
GROUP_COMMIT_CAREFUL_BATCHES = 16  # after a unit failed, this many batches keep a savepoint per unit

# PostgreSQL aborted the transaction because of another one (deadlock_detected, serialization_failure): running it
# again from the start may succeed
ABORTED_SQLSTATES = frozenset({"40P01", "40001"})


def sqlstate(exc: BaseException) -> str | None:
    """The SQLSTATE of a database error (PostgreSQL), else None."""
    orig = exc.orig if isinstance(exc, DBAPIError) else None
    state = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    return state if isinstance(state, str) else None


def is_aborted(exc: BaseException) -> bool:
    """True when PostgreSQL aborted the transaction for another one's sake (see ``ABORTED_SQLSTATES``)."""
    return sqlstate(exc) in ABORTED_SQLSTATES


def is_disconnect(exc: BaseException) -> bool:
    """True when the database connection was lost (the pool has let it go; a new checkout gets a new one)."""
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def _ends_batch(exc: BaseException) -> bool:
    # a unit's error that is the whole transaction's: it runs again from the start (``GroupCommit._run``)
    return is_aborted(exc) or is_disconnect(exc)


# ----- pinging a pooled connection before use (PostgreSQL) ------------------------------------------------------

_PING: contextvars.ContextVar[bool] = contextvars.ContextVar("onewindow_db_ping", default=True)


@contextmanager
def unpinged() -> Iterator[None]:
    """Connections checked out in this block are used without first being pinged: for the hot paths, which run
    again on a new connection when theirs turns out to be lost before anything was written (the group commit's
    batches, ``deps.read_unit``'s reads). Everywhere else a checkout pings first, so the first request after a
    PostgreSQL restart still works (the ping is a round trip: a tenth of a ticket batch's)."""
    token = _PING.set(False)
    try:
        yield
    finally:
        _PING.reset(token)


def _ping_on_checkout(dialect: Any) -> Callable[[Any, Any, Any], None]:
    # SQLAlchemy's pre-ping, unless ``unpinged``: a lost connection is replaced by a new one (DisconnectionError)
    def checkout(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        if not _PING.get():
            return
        try:
            dialect.do_ping(dbapi_connection)
        except Exception as exc:
            if dialect.is_disconnect(exc, dbapi_connection, None):
                raise DisconnectionError(str(exc)) from exc
            raise
    return checkout


V = TypeVar("V")


@dataclass(eq=False)
class _Unit:
    work: Callable[[Session], Any]
    answer: Callable[[Session, Any], Any] | None
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Any]
    flush: Callable[[Session], None] | None = None
    prepare: Callable[[Session], None] | None = None


class GroupCommit:
    """Group commit: units of work from concurrent requests run one after another in ONE write transaction and
    are acknowledged together after its single COMMIT.

    With SQLite's ``synchronous=FULL`` every commit is an fsync, and the writer holds the database's one write lock
    while it waits for the disk; committing each request alone caps the writes a second at one per fsync. Here a
    writer thread takes whatever units have queued up (at most ``GROUP_COMMIT_MAX``), runs them in one
    transaction, commits once, and only then answers every caller: an acknowledged write is as durable as before
    (DESIGN rule 4), the disk is waited for once per batch instead of once per request, and the per-transaction
    work (taking the writer's turn, the rollups' increments of ``analytics.listeners``, the audit chain's head
    row) is done once a batch.
    If the COMMIT fails, every unit of the batch gets the error: nothing of it was written.

    The units run without savepoints (a savepoint costs two statements a unit, and on PostgreSQL two round trips
    while the head is held): when one of them raises, the batch is rolled back and runs again from the start in a
    new session with a savepoint per unit (and so do the next ``GROUP_COMMIT_CAREFUL_BATCHES`` batches), where the
    failed unit is rolled back alone and its caller gets its exception. A unit can run again: it writes only
    through the session, and what it notes for the commit (live events, ``queue.events.publish_on_commit``; rollup
    increments, ``analytics.listeners``; the audit chain's tip) is dropped with the rolled-back transaction.

    On PostgreSQL the same, with one more step. Once its units have run and before its flushes write, the batch
    calls ``opening`` (the app passes ``core.audit.locked_head``: the audit chain's head row ``FOR UPDATE``, which
    every audited write holds until its COMMIT anyway), so the batches of several workers queue on that one row and
    never interleave, and a batch's row locks (ticket counters, rollup rows) are always taken after it. The units
    run before it, while another worker's batch may hold the head: they read, check and queue what the flush
    writes (``queue.service.take``), or take the head themselves before a row lock of theirs
    (``queue.service.spend_anonymous_ticket``), so the head is held for the writes alone. (A batch with a savepoint
    per unit takes it before its units: each savepoint writes its unit's ORM changes. A batch whose units left the
    ORM nothing to write and that has flushes leaves the head to them: each flush takes it before any row lock of
    its own, ``queue.service.write_taken`` with its first statement, a round trip less while it is held.) A
    writer outside the batches may still hold such a row while it waits for the head (an ORM write flushed before
    its audit entry); PostgreSQL then aborts one of the two (deadlock, SQLSTATE 40P01; or a serialization failure,
    40001). When the batch is the one aborted, in a unit or at the COMMIT, the whole transaction is rolled back
    (freeing the head for the other writer) and the batch runs again from the start in a new session, at most
    ``GROUP_COMMIT_RETRIES`` times, before its callers get the error.

    A unit may come with an ``answer``: what its caller is told, read from what the unit wrote (a ticket's place in
    the line). The answers are read after the COMMIT, in the same session, so the write lock (SQLite's, the
    PostgreSQL head row) is held only for the writes.

    Where the batches run depends on the database. On PostgreSQL in a writer thread (one per app, per process,
    started on demand): a batch waits on the network and on row locks another process holds, which must not stop
    the event loop. On SQLite on the event loop itself, when the process's writer turn (``WriterLock``) is free: a
    batch there waits for nothing (the statements are in-process, the fsync is the batch's own), and a process
    whose every hot path runs on the loop keeps the interpreter's lock to one thread. A writer thread that waits
    for the lock after each statement it sends to SQLite (which lets go of the lock while it works) waits up to a
    switch interval (5 ms) whenever the loop holds it: the batch stretches, and its callers wait. When a worker
    thread's transaction holds the turn (an ORM write of a sync handler), the batch goes to the writer thread
    instead, which waits for the turn there.
    """

    def __init__(self, factory: Callable[[], sessionmaker[Session]], *,
                 opening: Callable[[Session], object] | None = None) -> None:
        self._factory = factory  # read at each batch: tests swap the app's session factory after start-up
        self._opening = opening  # PostgreSQL: the first lock of every batch transaction
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._queue: collections.deque[_Unit] = collections.deque()  # for the writer thread
        self._running = False  # the writer thread is running
        self._inline: collections.deque[_Unit] = collections.deque()  # SQLite: for the event loop's next batch
        self._draining = False  # SQLite: a batch on the event loop is scheduled
        self._careful = 0  # PostgreSQL: batches still to run with a savepoint per unit (after a unit failed)

    @overload
    async def submit(self, work: Callable[[Session], T], *, flush: Callable[[Session], None] | None = None,
                     prepare: Callable[[Session], None] | None = None) -> T: ...

    @overload
    async def submit(self, work: Callable[[Session], V], answer: Callable[[Session, V], T], *,
                     flush: Callable[[Session], None] | None = None,
                     prepare: Callable[[Session], None] | None = None) -> T: ...

    async def submit(self, work: Callable[[Session], Any], answer: Callable[[Session, Any], Any] | None = None, *,
                     flush: Callable[[Session], None] | None = None,
                     prepare: Callable[[Session], None] | None = None) -> Any:
        """Run ``work(session)`` in the next batch; once the batch is committed, its result, or ``answer(session,
        result)`` when an answer is given (or the exception of either). ``flush``: what writes, once for the
        whole batch after its units and before the COMMIT, what the units have queued in the session (the
        tickets that ``queue.service.take`` queues, written in a few multi-row statements by
        ``queue.service.write_taken``); if it fails, the batch fails whole. A flush takes the audit chain's head
        before any row lock of its own: a batch whose units left the ORM nothing to write does not take it
        beforehand (``opening``). ``prepare``: what reads for the flush,
        once for the whole batch after its units and before the head is taken (on PostgreSQL while another worker's
        batch may hold it: ``queue.service.read_lines``)."""
        loop = asyncio.get_running_loop()
        unit = _Unit(work, answer, loop, loop.create_future(), flush, prepare)
        if self._factory().kw["bind"].dialect.name == "sqlite":
            self._inline.append(unit)
            if not self._draining:  # the batch runs once the loop has taken in what else has arrived
                self._draining = True
                loop.call_soon(self._drain)
        else:
            self._to_thread([unit])
        return await unit.future

    def _to_thread(self, units: list[_Unit]) -> None:
        with self._lock:
            self._queue.extend(units)
            if self._running:
                self._wake.notify()
            else:
                self._running = True
                threading.Thread(target=self._serve, name="group-commit", daemon=True).start()

    def _drain(self) -> None:
        """SQLite, on the event loop: run the units that have queued up as one batch, if the writer turn is free;
        else hand them to the writer thread."""
        batch = [self._inline.popleft() for _ in range(min(GROUP_COMMIT_MAX, len(self._inline)))]
        try:
            if not self._run(batch, wait=False):
                self._to_thread(batch)
        finally:
            if self._inline:
                asyncio.get_running_loop().call_soon(self._drain)
            else:
                self._draining = False

    def _serve(self) -> None:
        while True:
            with self._lock:
                while not self._queue:
                    if not self._wake.wait(GROUP_COMMIT_IDLE_SECONDS) and not self._queue:
                        self._running = False
                        return
                batch = [self._queue.popleft() for _ in range(min(GROUP_COMMIT_MAX, len(self._queue)))]
            self._run(batch)

    def _run(self, batch: list[_Unit], *, wait: bool = True) -> bool:
        """Run a batch and settle its units; False (nothing run, nothing settled) when ``wait`` is false and the
        SQLite writer turn is taken."""
        factory = self._factory()
        postgres = factory.kw["bind"].dialect.name != "sqlite"
        savepoints = self._careful > 0
        self._careful = max(0, self._careful - 1)
        attempt = 0
        while True:
            outcomes: list[tuple[Any, BaseException | None]] = []
            committing = committed = answered = False
            try:
                with unpinged(), factory() as session:
                    try:
                        begin_write(session, wait=wait)
                    except WriterBusy:
                        return False
                    opening = self._opening if postgres else None
                    if opening is not None and savepoints:  # a unit's savepoint flushes its ORM changes (a login's
                        opening(session)  # last use, say): their row locks come after the head, as in any batch
                    for unit in batch:
                        outcomes.append(_run_unit(session, unit, savepoint=savepoints))
                    for prepare in dict.fromkeys(u.prepare for u in batch if u.prepare is not None):
                        prepare(session)
                    if not savepoints:
                        # the head before the units' ORM writes; a batch that left the ORM nothing to write leaves it
                        # to its flushes, which take it first (``write_taken`` with its first statement)
                        if opening is not None and (session.new or session.dirty or session.deleted
                                                    or not any(u.flush for u in batch)):
                            opening(session)
                        _flush_units(session)
                    for flush in dict.fromkeys(u.flush for u in batch if u.flush is not None):
                        flush(session)
                    committing = True  # a connection lost from here on leaves the COMMIT's outcome unknown
                    session.commit()
                    committed = True
                    # the write lock is free for the next writer while the answers are read, in one snapshot: begun
                    # by the first answer that reads (an answer may know all it tells from the batch and caches)
                    bind = factory.kw["bind"]
                    if postgres and isinstance(bind, Engine) and any(u.answer for u in batch):
                        session.bind = bind.execution_options(isolation_level="REPEATABLE READ")
                    outcomes = [_answered(session, unit, outcome)
                                for unit, outcome in zip(batch, outcomes, strict=True)]
                    answered = True
            except _Failed:  # a unit failed in a batch without savepoints: all again, each in its own savepoint
                savepoints = True
                self._careful = GROUP_COMMIT_CAREFUL_BATCHES
                continue
            except Exception as exc:
                if committed:  # failed after the COMMIT: what was written stands; unanswered callers get the error
                    outcomes = [(None, exc) if not answered and unit.answer is not None and error is None
                                else (value, error) for unit, (value, error) in zip(batch, outcomes, strict=True)]
                elif (is_aborted(exc) or (is_disconnect(exc) and not committing)) and attempt < GROUP_COMMIT_RETRIES:
                    attempt += 1  # (PostgreSQL only: SQLite has one writer, in process)
                    continue  # the other writer has the head now, or the pool a new connection: run it again
                else:  # the transaction is gone: nothing of the batch was written
                    for index, unit in enumerate(batch):
                        own = outcomes[index][1] if index < len(outcomes) else None
                        _settle(unit, None, own or exc)
                    return True
            for unit, (value, error) in zip(batch, outcomes, strict=True):
                _settle(unit, value, error)
            return True


class _Failed(Exception):
    """A unit of a batch without savepoints raised: the batch cannot keep the others, it runs again."""


def _flush_units(session: Session) -> None:
    """Write the ORM changes the units of a batch without savepoints left pending (a login's last use), before
    the batch's own flushes: one that fails is a unit's failure, and the batch runs again with savepoints, where it
    stays that unit's."""
    try:
        session.flush()
    except Exception as exc:
        if _ends_batch(exc):
            raise
        raise _Failed from exc


def _run_unit(session: Session, unit: _Unit, *, savepoint: bool) -> tuple[Any, BaseException | None]:
    """Run one unit of a batch: its value, or its own error (rolled back alone, in its savepoint)."""
    if not savepoint:  # no unit failed lately
        try:
            return unit.work(session), None
        except Exception as exc:
            if _ends_batch(exc):
                raise
            raise _Failed from exc
    try:
        with session.begin_nested():
            return unit.work(session), None
    except Exception as exc:
        if _ends_batch(exc):
            raise  # the whole transaction must go: it holds a lock another writer waits for, or is lost
        return None, exc


def _answered(session: Session, unit: _Unit, outcome: tuple[Any, BaseException | None]) -> tuple[Any,
                                                                                            BaseException | None]:
    """A committed unit's answer, read in a transaction after the COMMIT; an error reading it is the
    caller's alone (its write stands, as when a caller went away)."""
    value, error = outcome
    if unit.answer is None or error is not None:
        return outcome
    try:
        return unit.answer(session, value), None
    except Exception as exc:
        return None, exc


def _settle(unit: _Unit, value: Any, error: BaseException | None) -> None:
    def settle() -> None:
        if unit.future.done():  # the caller went away (cancelled): its write stands, like any committed request
            return
        if error is not None:
            unit.future.set_exception(error)
        else:
            unit.future.set_result(value)

    with contextlib.suppress(RuntimeError):  # the caller's event loop is closed
        unit.loop.call_soon_threadsafe(settle)


def _json_dumps(value: Any) -> str:
    # Chinese stays readable in JSON columns, so LIKE filters and ad-hoc SQL can match it.
    return json.dumps(value, ensure_ascii=False)


def make_engine(url: str, *, synchronous: str = "full") -> Engine:
    """Create an engine; SQLite gets WAL, ``synchronous`` (FULL unless configured), foreign keys and immediate
    transactions for writers."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1] if "///" in url else ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # Enough pooled connections for every worker thread that reads at once (the framework runs up to 40):
        # with SQLAlchemy's default five, a busy server opened and closed a connection for every few requests
        # (the schema parsed again, the pragmas set again, the page cache cold).
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                               pool_size=SQLITE_POOL_SIZE, max_overflow=SQLITE_POOL_OVERFLOW,
                               json_serializer=_json_dumps)
        event.listen(engine, "connect", _sqlite_pragmas(synchronous))

        @event.listens_for(engine, "connect")
        def _no_pysqlite_begin(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None

        writer = WriterLock()
        event.listen(engine, "begin", _sqlite_begin(writer))
        event.listen(engine, "checkin", _sqlite_give_back(writer))
        event.listen(engine, "invalidate", _sqlite_give_back(writer))
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    engine = create_engine(url, pool_size=10, max_overflow=20, json_serializer=_json_dumps)
    event.listen(engine, "checkout", _ping_on_checkout(engine.dialect))  # pre-ping, except where ``unpinged``
    return engine


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit (views render after the write)."""
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)


@contextmanager
def transaction(factory: sessionmaker[Session], *, write: bool = True) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error (writers take SQLite's lock first)."""
    with factory() as session:
        if write:
            begin_write(session)
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def alembic_config(engine: Engine) -> Any:
    """The Alembic configuration for an engine (scripts inside the package)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("file_template", "%%(year)d-%%(month).2d-%%(day).2d_%%(slug)s")
    cfg.attributes["engine"] = engine
    return cfg


def current_revision(engine: Engine) -> str | None:
    """The schema revision the database is at, or None when it has never been migrated."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision(engine: Engine) -> str | None:
    """The newest schema revision this code knows."""
    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()


def upgrade(engine: Engine) -> bool:
    """Bring the schema to head; returns True when anything was applied."""
    if current_revision(engine) == head_revision(engine):
        return False
    command.upgrade(alembic_config(engine), "head")
    return True


def is_empty(engine: Engine) -> bool:
    """True when the database has no tables at all."""
    return not inspect(engine).get_table_names()


def engine_for(settings: Settings) -> Engine:
    """The engine for the configured database."""
    return make_engine(settings.database_url, synchronous=settings.sqlite_synchronous)
