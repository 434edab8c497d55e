"""SQLite writers of one process take turns in arrival order (``db.WriterLock``), give the turn back when their
connection returns to the pool, and the synchronous mode is the configured one."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from onewindow import db


def test_the_turn_goes_to_writers_in_arrival_order() -> None:
    lock = db.WriterLock()
    assert lock.acquire()
    order: list[int] = []

    def writer(n: int) -> None:
        assert lock.acquire()
        order.append(n)
        lock.release()

    threads = []
    for n in range(5):
        t = threading.Thread(target=writer, args=(n,))
        t.start()
        threads.append(t)
        time.sleep(0.05)  # each waiter queued before the next one arrives
    lock.release()
    for t in threads:
        t.join(5)
    assert order == [0, 1, 2, 3, 4]


def test_a_waiter_gives_up_after_the_timeout_and_leaves_the_queue() -> None:
    lock = db.WriterLock()
    assert lock.acquire()
    assert not lock.acquire(timeout=0.05)
    lock.release()
    assert lock.acquire(timeout=0.05)  # free again: the one who gave up is not owed the turn
    lock.release()


@pytest.mark.parametrize("mode", ["full", "normal"])
def test_writers_take_the_turn_and_give_it_back(tmp_path: Path, mode: str) -> None:
    engine = db.make_engine(f"sqlite:///{tmp_path / 'w.db'}", synchronous=mode)
    factory = db.make_session_factory(engine)
    try:
        for _ in range(3):  # a turn not given back would make the second writer wait 30 s and fail
            with db.transaction(factory) as session:
                session.execute(text("CREATE TABLE IF NOT EXISTS t (x INTEGER)"))
                session.execute(text("INSERT INTO t VALUES (1)"))
        with pytest.raises(RuntimeError), db.transaction(factory) as session:
            session.execute(text("INSERT INTO t VALUES (2)"))
            raise RuntimeError("rolled back")
        with db.transaction(factory, write=False) as session:
            assert session.scalar(text("SELECT count(*) FROM t")) == 3
            level = session.scalar(text("PRAGMA synchronous"))
        assert level == {"full": 2, "normal": 1}[mode]
    finally:
        engine.dispose()
