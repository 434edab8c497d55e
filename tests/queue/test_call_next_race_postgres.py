"""Call-next on PostgreSQL with another writer in between: a window's pick is locked only if the ticket still
waits (a ticket another window took meanwhile is skipped, not called twice), a window's changes run one after
the other (a double click calls one ticket; a 特呼 meanwhile is refused), and a cancel of the ticket being called
waits for the call instead of deadlocking with it. PostgreSQL only (``ONEWINDOW_TEST_BACKEND=postgres``): on
SQLite a writer holds the database's lock from the start of its transaction, so nothing comes in between."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from onewindow import db
from onewindow.catalog import service as catalog_service
from onewindow.core import audit
from onewindow.core.audit import Actor
from onewindow.core.clock import FixedClock
from onewindow.core.errors import Conflict
from onewindow.demo import load_demo
from onewindow.queue import service
from onewindow.queue.api import KIOSK_ACTOR
from onewindow.queue.models import Ticket, TicketCase
from onewindow.staff import service as staff_service
from tests.conftest import BACKEND, START, DatabaseFactory
from tests.factories import DEMO_PASSWORD
from tests.queue.conftest import ADMIN, DAY, HALL

pytestmark = pytest.mark.skipif(BACKEND != "postgres", reason="PostgreSQL's concurrent transactions")


@dataclass
class Hall:
    """A committed hall with two signed-in windows serving A, two A tickets waiting."""

    factory: sessionmaker[Session]
    clock: FixedClock
    windows: list[int]
    clerks: list[Actor]
    tickets: list[int]


@pytest.fixture
def hall(databases: DatabaseFactory) -> Iterator[Hall]:
    engine = databases.new_engine("call_race")
    factory = db.make_session_factory(engine)
    clock = FixedClock(START)
    with factory() as s, s.begin():
        load_demo(s, clock=clock, password=DEMO_PASSWORD)
    clock.set(DAY)
    windows: list[int] = []
    clerks: list[Actor] = []
    with factory() as s, s.begin():
        service.hall_settings(s, catalog_service.hall_by_code(s, HALL).id)  # made on first use: now
        for n in (1, 2):
            window = service.save_window(s, clock=clock, actor=ADMIN, hall_code=HALL, number=n, kind="comprehensive",
                                         skills=["A"])
            user = staff_service.create_user(s, clock=clock, actor=ADMIN, username=f"race{n}", password=DEMO_PASSWORD,
                                             display_name=f"竞争{n}", role="clerk", department_code="ZWFW",
                                             hall_code=HALL, phone=None)
            service.set_qualifications(s, clock=clock, actor=ADMIN, username=user.username, categories=["A"])
            s.flush()
            clerk = Actor(user.id, user.username)
            service.sign_in_window(s, clock=clock, actor=clerk, window_id=window.id)
            windows.append(window.id)
            clerks.append(clerk)
        tickets = [service.issue_ticket(s, clock=clock, actor=KIOSK_ACTOR, hall_code=HALL, category="A").id
                   for _ in range(2)]
    yield Hall(factory, clock, windows, clerks, tickets)


def _meanwhile(monkeypatch: pytest.MonkeyPatch, pool: ThreadPoolExecutor, hall: Hall, other: Callable[[], Any], *,
               holding_the_ticket: bool = False) -> list[Future[Any]]:
    """Run ``other`` in its own thread and transaction when the first call-next is about to lock its picked ticket
    (or, ``holding_the_ticket``, has locked it), and let the call go on once ``other`` has ended or waits for a
    lock the call holds."""
    lock_waiting = service._lock_waiting
    started: list[Future[Any]] = []

    def locking(session: Session, ticket: Ticket) -> bool:
        if started:
            return lock_waiting(session, ticket)
        locked = lock_waiting(session, ticket) if holding_the_ticket else False
        started.append(pool.submit(other))
        _until_ended_or_waiting(hall, started[0])
        return locked if holding_the_ticket else lock_waiting(session, ticket)

    monkeypatch.setattr(service, "_lock_waiting", locking)
    return started


_WAITING = text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
               " AND wait_event_type = 'Lock'")  # a backend of this test's own database waits for a lock


def _until_ended_or_waiting(hall: Hall, future: Future[Any]) -> None:
    deadline = time.monotonic() + 10
    with hall.factory() as s:
        while not future.done() and not s.scalar(_WAITING):
            assert time.monotonic() < deadline, "the other transaction neither ended nor waits for a lock"
            s.rollback()
            time.sleep(0.02)  # polling another backend's state


def _call_next(hall: Hall, index: int) -> int | None:
    with hall.factory() as s, s.begin():
        ticket = service.call_next(s, clock=hall.clock, actor=hall.clerks[index], window_id=hall.windows[index])
        return ticket.id if ticket is not None else None


def _at_windows(hall: Hall) -> dict[int, int | None]:
    with hall.factory() as s:
        return {ticket_id: window_id for ticket_id, window_id in s.execute(
            select(Ticket.id, Ticket.window_id).where(Ticket.id.in_(hall.tickets)))}


def test_a_ticket_another_window_called_meanwhile_is_not_called_again(hall: Hall,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = hall.tickets
    with ThreadPoolExecutor(1) as pool:
        other = _meanwhile(monkeypatch, pool, hall, lambda: _call_next(hall, 1))
        assert _call_next(hall, 0) == second  # its pick was the first ticket, which window 2 called meanwhile
        assert other[0].result(10) == first
    assert _at_windows(hall) == {first: hall.windows[1], second: hall.windows[0]}


def test_a_window_calling_twice_at_once_calls_one_ticket(hall: Hall, monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = hall.tickets
    with ThreadPoolExecutor(1) as pool:
        other = _meanwhile(monkeypatch, pool, hall, lambda: _call_next(hall, 0))
        assert _call_next(hall, 0) == first
        with pytest.raises(Conflict) as caught:  # the second click waited for the first, then found its ticket
            other[0].result(10)
    assert caught.value.code == "ticket_at_window"
    assert _at_windows(hall) == {first: hall.windows[0], second: None}


def test_a_specific_call_from_a_window_calling_meanwhile_is_refused(hall: Hall,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = hall.tickets

    def call_specific() -> Ticket:
        with hall.factory() as s, s.begin():
            return service.call_specific(s, clock=hall.clock, actor=hall.clerks[0], window_id=hall.windows[0],
                                         ticket_id=second, reason="老人优先")

    with ThreadPoolExecutor(1) as pool:
        other = _meanwhile(monkeypatch, pool, hall, call_specific)
        assert _call_next(hall, 0) == first
        with pytest.raises(Conflict) as caught:
            other[0].result(10)
    assert caught.value.code == "ticket_at_window"
    assert _at_windows(hall) == {first: hall.windows[0], second: None}


def test_a_cancel_of_the_ticket_being_called_waits_for_the_call(hall: Hall, monkeypatch: pytest.MonkeyPatch) -> None:
    """The applicant cancels the very ticket a window is calling: the cancel waits for the call's lock on the
    ticket, then finds it called (and may still withdraw it). No deadlock: a writer of a ticket locks its row
    before the audit chain's head, never the head before the row."""
    first, _second = hall.tickets

    def cancel() -> str:
        with hall.factory() as s, s.begin():
            return service.cancel(s, clock=hall.clock, actor=audit.Actor(None, "applicant"), ticket_id=first,
                                  reason="申请人取消").state

    with ThreadPoolExecutor(1) as pool:
        other = _meanwhile(monkeypatch, pool, hall, cancel, holding_the_ticket=True)
        assert _call_next(hall, 0) == first
        assert other[0].result(10) == "cancelled"


def test_a_clerk_finishing_a_ticket_an_intake_refers_to_does_not_deadlock_with_it(hall: Hall) -> None:
    """An intake at the window records its visit under the ticket (a row that refers to it: KEY SHARE on the
    ticket's row) while it holds the audit head (taken to number the case); the clerk finishes the ticket
    meanwhile. The finish locks the ticket FOR NO KEY UPDATE, which that share does not wait for: it waits for
    the head, and both go through. (With FOR UPDATE, the intake waited for the finish's row lock while the
    finish waited for the intake's head: PostgreSQL aborted one after a second.)"""
    first, _second = hall.tickets
    clerk, window = hall.clerks[0], hall.windows[0]
    with hall.factory() as s, s.begin():
        service.call_specific(s, clock=hall.clock, actor=clerk, window_id=window, ticket_id=first, reason="测试")
        service.start_serving(s, clock=hall.clock, actor=clerk, window_id=window, ticket_id=first)

    def finish() -> str:
        with hall.factory() as s, s.begin():
            return service.finish(s, clock=hall.clock, actor=clerk, window_id=window, ticket_id=first).state

    with hall.factory() as intake, ThreadPoolExecutor(1) as pool:
        db.begin_write(intake)
        audit.locked_head(intake)  # as ``insert_numbered`` does
        finishing = pool.submit(finish)
        _until_ended_or_waiting(hall, finishing)
        intake.add(TicketCase(ticket_id=first, case_number="20261124-00001-0", linked_at=hall.clock.now(),
                              linked_by=clerk.id))  # as ``record_visit`` does
        intake.commit()
        assert finishing.result(10) == "done"
