"""Call-next on PostgreSQL when another call commits between a window's pick and its lock on the hall: the pick is
made again under the lock, so a ticket another window took is not called twice and a window called twice at once
(a double click) calls one ticket. PostgreSQL only (``ONEWINDOW_TEST_BACKEND=postgres``): on SQLite a writer holds
the database's lock from the start of its transaction, so nothing commits in between."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
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
from onewindow.queue.models import Ticket
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


def _between_pick_and_lock(monkeypatch: pytest.MonkeyPatch, other: Callable[[], Any]) -> list[Any]:
    """Run ``other`` once, committed, when the first call-next is about to lock its hall's row (after its pick)."""
    locking = service.hall_settings
    ran: list[Any] = []

    def hall_settings(session: Session, hall_id: int, *, for_update: bool = False) -> Any:
        if for_update and not ran:
            ran.append(None)
            ran[0] = other()
        return locking(session, hall_id, for_update=for_update)

    monkeypatch.setattr(service, "hall_settings", hall_settings)
    return ran


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
    other = _between_pick_and_lock(monkeypatch, lambda: _call_next(hall, 1))
    assert _call_next(hall, 0) == second  # its pick was the first ticket, which window 2 called meanwhile
    assert other == [first]
    assert _at_windows(hall) == {first: hall.windows[1], second: hall.windows[0]}


def test_a_window_calling_twice_at_once_calls_one_ticket(hall: Hall, monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = hall.tickets
    other = _between_pick_and_lock(monkeypatch, lambda: _call_next(hall, 0))
    with pytest.raises(Conflict) as caught:
        _call_next(hall, 0)
    assert caught.value.code == "ticket_at_window"
    assert other == [first]
    assert _at_windows(hall) == {first: hall.windows[0], second: None}


def test_a_specific_call_from_a_window_that_called_meanwhile_is_refused(hall: Hall,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = hall.tickets
    other = _between_pick_and_lock(monkeypatch, lambda: _call_next(hall, 0))
    with hall.factory() as s, s.begin(), pytest.raises(Conflict) as caught:
        service.call_specific(s, clock=hall.clock, actor=hall.clerks[0], window_id=hall.windows[0], ticket_id=second,
                              reason="老人优先")
    assert caught.value.code == "ticket_at_window"
    assert other == [first]
    assert _at_windows(hall) == {first: hall.windows[0], second: None}


def test_a_cancel_of_the_ticket_being_called_waits_for_the_call(hall: Hall, monkeypatch: pytest.MonkeyPatch) -> None:
    """The applicant cancels the very ticket a window is calling: the cancel waits for the audit head the call
    holds, then finds the ticket called (and may still withdraw it). Before, the cancel wrote the ticket's row
    first and then waited for the head, while the call held the head and waited for the row: PostgreSQL's
    deadlock detector aborted one of them after a second, every other writer stalled behind the head meanwhile."""
    first, _second = hall.tickets
    locked, go_on = threading.Event(), threading.Event()
    lock_hall = service._locked_ready_window

    def locked_ready_window(session: Session, actor: Actor, window: Any) -> Any:
        result = lock_hall(session, actor, window)  # the call holds the head and the hall now
        locked.set()
        go_on.wait(10)
        return result

    monkeypatch.setattr(service, "_locked_ready_window", locked_ready_window)

    def cancel() -> str:
        with hall.factory() as s, s.begin():
            return service.cancel(s, clock=hall.clock, actor=audit.Actor(None, "applicant"), ticket_id=first,
                                  reason="申请人取消").state

    with ThreadPoolExecutor(2) as pool:
        calling = pool.submit(_call_next, hall, 0)
        assert locked.wait(10)
        cancelling = pool.submit(cancel)
        _until_a_lock_is_waited_for(hall)
        go_on.set()
        assert calling.result(10) == first
        assert cancelling.result(10) == "cancelled"


def _until_a_lock_is_waited_for(hall: Hall) -> None:
    deadline = time.monotonic() + 10
    with hall.factory() as s:
        while not s.scalar(text("SELECT count(*) FROM pg_locks WHERE NOT granted")):
            assert time.monotonic() < deadline, "nothing waits for a lock"
            s.rollback()
            time.sleep(0.02)  # polling another process's state: the cancel's backend
