"""Group commit on PostgreSQL (``db.GroupCommit`` with ``opening=audit.locked_head``), on a committed database with
real concurrent connections: each batch locks the audit head before it writes (its units run before: they read and
queue), so the batches of two workers queue on that row and never deadlock with each other; a batch that PostgreSQL
aborts for another writer's sake (a ticket taken outside the batches: its counter row first, then the head) is rolled
back whole and runs again, announcing and counting each ticket once; a unit's own error stays that unit's. PostgreSQL
only (``ONEWINDOW_TEST_BACKEND=postgres``); what the batch does on SQLite is in ``test_ticket_group_commit.py``."""

from __future__ import annotations

import asyncio
import collections
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy import event as sqlalchemy_event
from sqlalchemy.orm import Session, sessionmaker

from onewindow import db
from onewindow.analytics import listeners, rollup
from onewindow.catalog.models import Hall, HallCategory, Region
from onewindow.core import audit
from onewindow.core.clock import FixedClock
from onewindow.db import GroupCommit
from onewindow.queue import events, service
from onewindow.queue.api import KIOSK_ACTOR
from onewindow.queue.models import Ticket, TicketCounter
from tests.analytics.test_indicators import snapshot
from tests.browser_wait import run_coroutine
from tests.conftest import BACKEND, START, DatabaseFactory

pytestmark = pytest.mark.skipif(BACKEND != "postgres", reason="PostgreSQL's row locks and deadlocks")

HALL = "PG-GC"


class Refused(Exception):
    """A unit of work that fails after writing its ticket."""


@pytest.fixture
def pg(databases: DatabaseFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Engine, list[Any]]]:
    """A committed database with one hall and categories A, B, C; the live events published (captured)."""
    engine = databases.new_engine("group_commit")
    with Session(engine) as s, s.begin():
        region = Region(code="410799", name="组提交测试县", level="county")
        s.add_all([region, Hall(code=HALL, name="组提交测试大厅", level="county", region=region),
                   *(HallCategory(code=code, name=f"{code}类业务") for code in "ABC")])
        # the chain's head row exists (as after any first audited change): two first appenders would both insert it
        audit.record(s, clock=FixedClock(START), actor=audit.SYSTEM, action="test.start", entity_type="hall",
                     entity_id=HALL)
    listeners.install()
    published: list[Any] = []
    lock = threading.Lock()

    def publish(_hall: str, item: Any, bus: Any = None) -> int:
        with lock:
            published.append(item)
        return 1

    monkeypatch.setattr(events, "publish", publish)
    yield engine, published


def _take(clock: FixedClock, category: str, runs: collections.Counter[str] | None = None, *,
          fail: bool = False, hold: float = 0.0) -> Callable[[Session], tuple[str, int]]:
    """A unit issuing one ticket; it answers the number and its transaction's id."""
    def unit(session: Session) -> tuple[str, int]:
        if runs is not None:
            runs[category] += 1
        ticket = service.issue_ticket(session, clock=clock, actor=KIOSK_ACTOR, hall_code=HALL, category=category)
        if fail:
            raise Refused(ticket.number)
        time.sleep(hold)  # the batch holds the head a little longer: the other worker's batch queues on it
        return ticket.number, int(session.scalar(text("SELECT txid_current()")) or 0)
    return unit


def _numbers(factory: sessionmaker[Session]) -> list[str]:
    with factory() as s:
        return sorted(s.scalars(select(Ticket.number)))


def _consistent(factory: sessionmaker[Session]) -> None:
    """The audit chain verifies and the rollups equal a full recount."""
    with factory() as s:
        assert audit.verify(s).ok
        kept = snapshot(s)
        rollup.rebuild(s)
        assert snapshot(s) == kept
        s.rollback()


def test_batches_of_two_workers_queue_on_the_audit_head(pg: tuple[Engine, list[Any]]) -> None:
    engine, published = pg
    factory = db.make_session_factory(engine)
    clock = FixedClock(START)
    workers = [GroupCommit(lambda: factory, opening=audit.locked_head) for _ in range(2)]
    categories = "AABCAABBCA"  # the same categories and different ones in both workers' batches
    start = threading.Barrier(2)

    def worker(group: GroupCommit) -> list[Any]:
        async def batch() -> list[Any]:
            units = [_take(clock, c, fail=i == 3, hold=0.005) for i, c in enumerate(categories)]
            return await asyncio.gather(*(group.submit(u) for u in units), return_exceptions=True)
        start.wait()
        return run_coroutine(batch())

    results: list[list[Any]] = [[], []]
    threads = [threading.Thread(target=lambda i=i: results.__setitem__(i, worker(workers[i]))) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    for answers in results:
        assert isinstance(answers[3], Refused)  # that unit alone is rolled back; the others committed
        committed = [a for i, a in enumerate(answers) if i != 3]
        assert all(isinstance(a, tuple) for a in committed), answers
        assert len({txid for _n, txid in committed}) < len(committed)  # batches of several units
    numbers = [a[0] for answers in results for i, a in enumerate(answers) if i != 3]
    for c in "ABC":  # every number once, no gap where the refused C was rolled back
        taken = sorted(n for n in numbers if n[0] == c)
        assert taken == [f"{c}{k:03d}" for k in range(1, len(taken) + 1)]
    assert _numbers(factory) == sorted(numbers)
    assert sorted(e["ticket"]["number"] for e in published) == sorted(numbers)  # announced once, after commit
    _consistent(factory)


def _lock_waiters(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                    "AND wait_event_type = 'Lock'")) or 0)


def test_a_batch_aborted_by_a_deadlock_runs_again_and_counts_once(pg: tuple[Engine, list[Any]]) -> None:
    engine, published = pg
    with engine.connect() as conn:
        if not conn.scalar(text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")):
            pytest.skip("setting deadlock_timeout needs a superuser")
    factory = db.make_session_factory(engine)
    clock = FixedClock(START)
    with db.transaction(factory) as s:  # A001: the counter row of A exists
        service.issue_ticket(s, clock=clock, actor=KIOSK_ACTOR, hall_code=HALL, category="A")
    group = GroupCommit(lambda: factory, opening=audit.locked_head)
    runs: collections.Counter[str] = collections.Counter()
    holds_counter, gate, gate_running = threading.Event(), threading.Event(), threading.Event()
    outsider: list[str] = []

    def outside() -> None:
        # a ticket taken outside the batches (the kiosk page): its counter row first, then the audit head
        with db.transaction(factory) as s:
            # PostgreSQL looks for a deadlock once, deadlock_timeout after a wait begins, and aborts the one that
            # finds it: the batch (1 s) must find it, not this one
            s.execute(text("SET LOCAL deadlock_timeout = '20s'"))
            s.execute(select(TicketCounter).where(TicketCounter.last == 1).with_for_update(of=TicketCounter))
            holds_counter.set()
            deadline = time.monotonic() + 20
            while _lock_waiters(engine) < 1:  # the batch holds the head and waits for this counter row
                assert time.monotonic() < deadline, "the batch never waited for the counter row"
                time.sleep(0.005)
            ticket = service.issue_ticket(s, clock=clock, actor=KIOSK_ACTOR, hall_code=HALL, category="A")
            outsider.append(ticket.number)

    thread = threading.Thread(target=outside)
    thread.start()
    assert holds_counter.wait(10)

    def hold_the_writer(_session: Session) -> None:
        gate_running.set()
        gate.wait(10)

    async def scenario() -> list[Any]:
        first = asyncio.ensure_future(group.submit(hold_the_writer))
        while not gate_running.is_set():  # B and A are queued behind it: they run in one batch
            await asyncio.sleep(0.01)
        rest = [asyncio.ensure_future(group.submit(_take(clock, c, runs))) for c in "BA"]
        await asyncio.sleep(0.05)
        gate.set()
        await first
        return [(await r)[0] for r in rest]

    results = run_coroutine(scenario())
    thread.join(20)
    assert outsider == ["A002"]  # the outsider went on once the aborted batch let the head go
    assert results == ["B001", "A003"]
    assert runs == {"B": 2, "A": 2}  # the whole batch ran again, B too (its first run was rolled back)
    assert _numbers(factory) == ["A001", "A002", "A003", "B001"]
    assert sorted(e["ticket"]["number"] for e in published) == ["A001", "A002", "A003", "B001"]  # each once
    _consistent(factory)  # B's rollup increments of the aborted run were dropped with it


def test_a_batch_of_tickets_takes_the_head_with_its_first_statement_and_writes_with_its_second(
        pg: tuple[Engine, list[Any]]) -> None:
    """The other workers' batches wait for the head while a batch writes: its first statement takes the head
    (``FOR UPDATE``) and moves the counters with the tickets' ids taken; then come the tickets, their events, their
    audit entries, the rollups and the head's move in one statement, then the COMMIT. The lines were read before
    (``read_lines``), once a batch. Ids rise with the numbers; the chain and the rollups are those a statement per
    table would write."""
    engine, published = pg
    factory = db.make_session_factory(engine)
    clock = FixedClock(START)
    group = GroupCommit(lambda: factory, opening=audit.locked_head)
    sent: list[str] = []

    counted: list[Any] = []

    def note(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_args: Any) -> None:
        sent.append(statement)
        if isinstance(parameters, dict) and "counted_hall_id" in parameters:
            counted.append(parameters["counted_hall_id"])

    def unit(category: str) -> Callable[[Session], service.Taken]:
        return lambda s: service.take(s, clock=clock, actor=KIOSK_ACTOR, hall_code=HALL, category=category,
                                      count_ahead=True)

    async def batch() -> list[service.Taken]:
        return list(await asyncio.gather(*(group.submit(unit(c), flush=service.write_taken, prepare=service.read_lines)
                                           for c in "ABAAC")))

    def committed(_conn: Any) -> None:
        sent.append("COMMIT")

    places = iter([[0, 0, 1, 2, 0], [3, 1, 4, 5, 1]])  # the tickets waiting ahead, however the units were batched
    for _ in range(2):  # the second round finds every counter and rollup row there: updates, not inserts
        sent.clear()
        listening = [(engine, "before_cursor_execute", note), (engine, "commit", committed)]
        for args in listening:
            sqlalchemy_event.listen(*args)
        try:
            taken = run_coroutine(batch())
        finally:
            for args in listening:
                sqlalchemy_event.remove(*args)
        locks = [i for i, statement in enumerate(sent) if "FOR UPDATE" in statement]
        assert locks
        assert sum(statement.startswith("SELECT line.hall_id") for statement in sent) == len(locks)
        for lock in locks:  # each batch (the first unit may go alone, the others after it)
            assert sent[lock].startswith("WITH head AS (SELECT last_hash FROM audit_head WHERE id = 1 FOR UPDATE),"
                                         " moved AS (INSERT INTO queue_ticket_counter")
            held = sent[lock + 1:sent.index("COMMIT", lock)]
            assert len(held) == 1, held
            assert "INSERT INTO audit_entry" in held[0] and "INSERT INTO analytics_fact" in held[0]
            assert "UPDATE audit_head" in held[0]
        assert all(lines == [] for lines in counted)  # no line counted under the head
        counted.clear()
        assert len({t.row.id for t in taken if t.row}) == 5
        assert [t.ahead for t in taken] == next(places)
    with factory() as s:
        tickets = s.scalars(select(Ticket).order_by(Ticket.id)).all()
        assert [t.number for t in tickets] == ["A001", "B001", "A002", "A003", "C001",
                                               "A004", "B002", "A005", "A006", "C002"]
        assert [t.issued_at for t in tickets] == sorted(t.issued_at for t in tickets)
        entries = s.scalars(select(audit.AuditEntry).where(audit.AuditEntry.action == "queue.ticket.issue")
                            .order_by(audit.AuditEntry.id)).all()
        assert [e.entity_id for e in entries] == [str(t.id) for t in tickets]
        assert entries[0].after is not None and entries[0].after["number"] == "A001"
        assert entries[0].before is None
        # JSON null, as the ORM writes None to a JSON column (not SQL NULL)
        assert set(s.scalars(text("SELECT json_typeof(before) FROM audit_entry"
                                  " WHERE action = 'queue.ticket.issue'"))) == {"null"}
    assert len(published) == 10
    _consistent(factory)
