"""On SQLite a group commit's batch runs on the event loop's own thread (``db.GroupCommit``): nothing there waits for
another thread. When a worker thread's transaction holds the process's writer turn, the batch goes to the writer
thread instead, waits there for the turn, and is committed once it is free; the loop is never blocked meanwhile.
Public reads (``deps.read_unit``) run on the loop too. A file database with the app's own engine (its writer turn),
not the test fixtures' shared connection."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session
from tests.browser_wait import run_coroutine
from tests.conftest import BACKEND

from onewindow import db

pytestmark = pytest.mark.skipif(BACKEND != "sqlite", reason="SQLite's batches run on the event loop")


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    eng = db.make_engine(f"sqlite:///{tmp_path / 'loop.db'}")
    with eng.begin() as conn:
        conn.execute(text("CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT NOT NULL)"))
    yield eng
    eng.dispose()


def _note(body: str, seen: list[str]) -> Callable[[Session], str]:
    def unit(session: Session) -> str:
        seen.append(threading.current_thread().name)
        session.execute(text("INSERT INTO note (body) VALUES (:b)"), {"b": body})
        return body
    return unit


def _bodies(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.scalars(text("SELECT body FROM note ORDER BY id")))


def test_a_batch_runs_on_the_loop_thread_in_one_transaction(engine: Engine) -> None:
    factory = db.make_session_factory(engine)
    group = db.GroupCommit(lambda: factory)
    seen: list[str] = []

    async def take() -> tuple[list[str], str]:
        bodies = await asyncio.gather(*(group.submit(_note(f"n{i}", seen)) for i in range(5)))
        return list(bodies), threading.current_thread().name

    bodies, loop_thread = run_coroutine(take())
    assert bodies == ["n0", "n1", "n2", "n3", "n4"]
    assert set(seen) == {loop_thread}
    assert _bodies(engine) == bodies


def test_a_batch_waits_in_the_writer_thread_while_a_worker_thread_holds_the_turn(engine: Engine) -> None:
    factory = db.make_session_factory(engine)
    group = db.GroupCommit(lambda: factory)
    seen: list[str] = []
    holding, release = threading.Event(), threading.Event()

    def worker() -> None:  # a sync handler's write transaction in a worker thread
        with factory() as session:
            db.begin_write(session)
            session.execute(text("INSERT INTO note (body) VALUES ('worker')"))
            holding.set()
            release.wait(10)
            session.commit()

    async def take() -> tuple[str, str, int]:
        thread = threading.Thread(target=worker)
        thread.start()
        await asyncio.to_thread(holding.wait, 10)
        submitted = asyncio.ensure_future(group.submit(_note("batch", seen)))
        ticks = 0
        while not seen:  # the loop keeps turning while the batch waits for the turn elsewhere
            await asyncio.sleep(0.005)
            ticks += 1
            if ticks == 20:
                release.set()
        body = await submitted
        await asyncio.to_thread(thread.join, 10)
        return body, threading.current_thread().name, ticks

    body, loop_thread, ticks = run_coroutine(take())
    assert body == "batch" and ticks >= 20
    assert seen == ["group-commit"] and loop_thread != "group-commit"
    assert _bodies(engine) == ["worker", "batch"]  # in the order the turn was taken


def test_the_turn_is_free_again_after_a_batch_on_the_loop(engine: Engine) -> None:
    factory = db.make_session_factory(engine)
    group = db.GroupCommit(lambda: factory)
    seen: list[str] = []
    run_coroutine(group.submit(_note("first", seen)))
    done = threading.Event()

    def worker() -> None:
        with factory() as session:
            db.begin_write(session)
            session.execute(text("INSERT INTO note (body) VALUES ('after')"))
            session.commit()
        done.set()

    threading.Thread(target=worker).start()
    assert done.wait(5)  # the worker got the turn at once: the batch gave it back with its connection
    assert _bodies(engine) == ["first", "after"]


def test_another_process_holding_the_file_sends_the_batch_to_the_writer_thread(engine: Engine,
                                                                             tmp_path: Path) -> None:
    factory = db.make_session_factory(engine)
    group = db.GroupCommit(lambda: factory)
    seen: list[str] = []
    other = sqlite3.connect(tmp_path / "loop.db", isolation_level=None, check_same_thread=False)  # as the CLI
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO note (body) VALUES ('other')")

    async def take() -> tuple[str, int]:
        submitted = asyncio.ensure_future(group.submit(_note("batch", seen)))
        ticks = 0
        while not submitted.done():  # the loop is not stopped by SQLite's busy wait: it goes on turning
            await asyncio.sleep(0.005)
            ticks += 1
            if ticks == 20:
                other.execute("COMMIT")
        return await submitted, ticks

    try:
        body, ticks = run_coroutine(take())
    finally:
        other.close()
    assert body == "batch" and ticks > 20
    assert seen == ["group-commit"]
    assert _bodies(engine) == ["other", "batch"]
