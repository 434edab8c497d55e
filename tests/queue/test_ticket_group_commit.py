"""Group commit (``db.GroupCommit``): tickets taken at the same moment are written in one transaction (a savepoint
each once a unit failed), through the same ``service.issue`` as any ticket; a unit that fails is rolled back alone,
publishes nothing and leaves no gap in the numbers; the others are committed, audited in one verifiable chain,
announced only once committed, and counted in the rollups exactly as a full recomputation counts them."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import psycopg
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from onewindow.analytics import listeners, rollup
from onewindow.core import audit
from onewindow.core.clock import FixedClock
from onewindow.db import GROUP_COMMIT_RETRIES, GroupCommit
from onewindow.queue import events, service
from onewindow.queue.api import KIOSK_ACTOR
from onewindow.queue.models import Ticket
from tests.analytics.test_indicators import snapshot
from tests.browser_wait import run_coroutine

from .conftest import QueueHall


class Refused(Exception):
    """A unit of work that fails after writing its ticket."""


def test_a_batch_commits_its_units_and_rolls_back_the_one_that_failed(app: FastAPI, session: Session,
                                                                       qhall: QueueHall, clock: FixedClock,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    listeners.install()
    published: list[dict[str, Any]] = []
    monkeypatch.setattr(events, "publish", lambda _hall, item, bus=None: published.append(item) or 1)
    group: GroupCommit = app.state.group_commit

    def take(category: str, *, fail: bool = False) -> Any:
        def unit(s: Session) -> str:
            ticket = service.issue_ticket(s, clock=clock, actor=KIOSK_ACTOR, hall_code=qhall.code,
                                          category=category)
            if fail:
                raise Refused(ticket.number)
            return ticket.number
        return unit

    async def batch() -> list[Any]:  # one batch (or two) of the writer thread
        units = [take("A"), take("B"), take("A", fail=True), take("A"), take("B")]
        return await asyncio.gather(*(group.submit(u) for u in units), return_exceptions=True)

    results = run_coroutine(batch())
    assert results[:2] == ["A001", "B001"] and results[3:] == ["A002", "B002"]  # no gap where A002 failed once
    assert isinstance(results[2], Refused)
    stored = sorted(session.scalars(select(Ticket.number).where(Ticket.hall.has(code=qhall.code))))
    assert stored == ["A001", "A002", "B001", "B002"]
    assert sorted(e["ticket"]["number"] for e in published) == stored  # the failed unit announced nothing
    assert audit.verify(session).ok
    kept = snapshot(session)
    rollup.rebuild(session)
    assert snapshot(session) == kept  # increments applied once at the commit equal a recount


def test_the_api_answers_each_caller_after_the_commit(client: Any, qhall: QueueHall, session: Session) -> None:
    first = client.post(f"/api/v1/queue/halls/{qhall.code}/tickets", json={"category": "C"})
    bad = client.post(f"/api/v1/queue/halls/{qhall.code}/tickets", json={"category": "Z"})
    assert first.status_code == 201 and first.json()["number"] == "C001"
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "category"
    assert session.scalar(select(Ticket.number).where(Ticket.token == first.json()["token"])) == "C001"


def one_batch(group: GroupCommit, units: list[Callable[[Session], Any]], *, sqlite: bool) -> list[Any]:
    """Submit units so that they run in one batch, their results or exceptions. On SQLite, where a batch runs on
    the event loop, the units submitted in one turn of the loop are one batch; on PostgreSQL, queued while the
    writer thread waits in a batch before them."""
    if sqlite:
        async def together() -> list[Any]:
            return list(await asyncio.gather(*(group.submit(u) for u in units), return_exceptions=True))
        return run_coroutine(together())
    gate, holding = threading.Event(), threading.Event()

    def hold(_s: Session) -> None:
        holding.set()
        gate.wait(10)

    async def batch() -> list[Any]:
        held = asyncio.ensure_future(group.submit(hold))
        while not holding.is_set():
            await asyncio.sleep(0.01)
        queued = [asyncio.ensure_future(group.submit(u)) for u in units]
        await asyncio.sleep(0.05)
        gate.set()
        await held
        return list(await asyncio.gather(*queued, return_exceptions=True))

    return run_coroutine(batch())


def _deadlock() -> OperationalError:
    return OperationalError("SELECT ... FOR UPDATE", {}, psycopg.errors.DeadlockDetected("deadlock detected"))


@pytest.mark.parametrize("aborts", [1, GROUP_COMMIT_RETRIES + 1], ids=["once", "every-time"])
def test_a_batch_aborted_by_the_database_runs_again(app: FastAPI, session: Session, qhall: QueueHall,
                                                       clock: FixedClock, monkeypatch: pytest.MonkeyPatch,
                                                       aborts: int) -> None:
    listeners.install()
    published: list[dict[str, Any]] = []
    monkeypatch.setattr(events, "publish", lambda _hall, item, bus=None: published.append(item) or 1)
    group: GroupCommit = app.state.group_commit
    runs = {"first": 0, "second": 0}

    def first(s: Session) -> str:  # a whole ticket, then the database aborts the transaction (forced)
        runs["first"] += 1
        return service.issue_ticket(s, clock=clock, actor=KIOSK_ACTOR, hall_code=qhall.code, category="A").number

    def second(s: Session) -> str:
        runs["second"] += 1
        ticket = service.issue_ticket(s, clock=clock, actor=KIOSK_ACTOR, hall_code=qhall.code, category="B")
        if runs["second"] <= aborts:
            raise _deadlock()
        return ticket.number

    results = one_batch(group, [first, second], sqlite=session.get_bind().dialect.name == "sqlite")
    stored = sorted(session.scalars(select(Ticket.number).where(Ticket.hall.has(code=qhall.code))))
    if aborts <= GROUP_COMMIT_RETRIES:  # the whole batch ran again, its first run rolled back
        assert runs == {"first": 2, "second": 2}
        assert results == ["A001", "B001"] and stored == ["A001", "B001"]
    else:  # given up after the retries: every caller of the batch gets the error, nothing was written
        assert runs == {"first": aborts, "second": aborts}
        assert all(isinstance(r, OperationalError) for r in results) and stored == []
    assert sorted(e["ticket"]["number"] for e in published) == stored  # announced once, or not at all
    assert audit.verify(session).ok
    kept = snapshot(session)
    rollup.rebuild(session)
    assert snapshot(session) == kept  # the increments of a rolled-back run were dropped with it


def test_a_unit_that_fails_sends_its_batch_round_again_with_savepoints(
        app: FastAPI, session: Session, qhall: QueueHall, clock: FixedClock, monkeypatch: pytest.MonkeyPatch) -> None:
    listeners.install()
    published: list[dict[str, Any]] = []
    monkeypatch.setattr(events, "publish", lambda _hall, item, bus=None: published.append(item) or 1)
    group: GroupCommit = app.state.group_commit
    runs: Counter[str] = Counter()

    def take(category: str, *, fail: bool = False) -> Callable[[Session], str]:
        def unit(s: Session) -> str:
            runs[category] += 1
            number = service.issue_ticket(s, clock=clock, actor=KIOSK_ACTOR, hall_code=qhall.code,
                                          category=category).number
            if fail:
                raise Refused(number)
            return number
        return unit

    sqlite = session.get_bind().dialect.name == "sqlite"
    first = one_batch(group, [take("A"), take("B", fail=True), take("C")], sqlite=sqlite)
    assert first[0] == "A001" and isinstance(first[1], Refused) and first[2] == "C001"
    # the batch ran without savepoints up to B, was rolled back whole, and ran again with them
    assert runs == {"A": 2, "B": 2, "C": 1}
    runs.clear()
    second = one_batch(group, [take("A"), take("B", fail=True)], sqlite=sqlite)
    assert second[0] == "A002" and isinstance(second[1], Refused)
    assert runs == {"A": 1, "B": 1}  # the batches after a failure keep their savepoints
    stored = sorted(session.scalars(select(Ticket.number).where(Ticket.hall.has(code=qhall.code))))
    assert stored == ["A001", "A002", "C001"]
    assert sorted(e["ticket"]["number"] for e in published) == stored  # the rolled-back runs announced nothing
    assert audit.verify(session).ok
    kept = snapshot(session)
    rollup.rebuild(session)
    assert snapshot(session) == kept


def test_a_transaction_that_only_takes_tickets_counts_each_line_once_and_right(session: Session, qhall: QueueHall,
                                                                             clock: FixedClock) -> None:
    """``status_of(hold=True)`` counts a line once a transaction and adds one per ticket taken behind it; the
    figures are those of a fresh count, also after a unit rolled back and a later transaction."""

    def take(category: str) -> tuple[int | None, int | None]:
        row = service.issue(session, clock=clock, actor=KIOSK_ACTOR, hall_code=qhall.code, category=category)
        held = service.status_of(session, clock=clock, row=row, hold=True).ahead
        fresh = service.status_of(session, clock=clock, row=row).ahead
        return held, fresh

    seen = [take(c) for c in "AABAB"]
    with pytest.raises(Refused), session.begin_nested():
        take("A")
        raise Refused("the unit fails after its status")
    seen += [take(c) for c in "AB"]
    session.commit()
    seen += [take(c) for c in "BA"]
    assert [held for held, _fresh in seen] == [fresh for _held, fresh in seen] == [0, 1, 0, 2, 1, 3, 2, 3, 4]


def test_tickets_queued_by_a_unit_that_fails_are_not_written(
        app: FastAPI, session: Session, qhall: QueueHall, clock: FixedClock, monkeypatch: pytest.MonkeyPatch) -> None:
    """Units that queue their tickets (``service.take``) for the batch's flush (``service.write_taken``): a unit
    that fails after queueing one (the batch's first, so its savepoint is the session's first) leaves no ticket,
    no audit entry and no gap; the others' tickets are written once."""
    listeners.install()
    published: list[dict[str, Any]] = []
    monkeypatch.setattr(events, "publish", lambda _hall, item, bus=None: published.append(item) or 1)
    group: GroupCommit = app.state.group_commit

    def take(category: str, *, fail: bool = False) -> Callable[[Session], service.Taken]:
        def unit(s: Session) -> service.Taken:
            taken = service.take(s, clock=clock, actor=KIOSK_ACTOR, hall_code=qhall.code, category=category)
            if fail:
                raise Refused(category)
            return taken
        return unit

    async def batch(units: list[Callable[[Session], service.Taken]]) -> list[Any]:
        return list(await asyncio.gather(*(group.submit(u, lambda _s, t: t.row.number, flush=service.write_taken)
                                           for u in units), return_exceptions=True))

    first = run_coroutine(batch([take("A", fail=True), take("A"), take("B")]))
    assert isinstance(first[0], Refused) and first[1:] == ["A001", "B001"]
    second = run_coroutine(batch([take("A"), take("B", fail=True), take("A")]))  # a batch with savepoints again
    assert second[0] == "A002" and isinstance(second[1], Refused) and second[2] == "A003"
    stored = sorted(session.scalars(select(Ticket.number).where(Ticket.hall.has(code=qhall.code))))
    assert stored == ["A001", "A002", "A003", "B001"]
    assert sorted(e["ticket"]["number"] for e in published) == stored
    assert audit.verify(session).ok
    kept = snapshot(session)
    rollup.rebuild(session)
    assert snapshot(session) == kept


def test_a_units_pending_orm_change_that_fails_is_that_units_failure(
        app: FastAPI, session: Session, qhall: QueueHall, clock: FixedClock) -> None:
    """A unit's ORM changes left for the flush (a login's last use, say) are written before the batch's own flush:
    one that fails there is that unit's failure alone, after the batch runs again with savepoints."""
    group: GroupCommit = app.state.group_commit

    def take(category: str, *, bad: bool = False) -> Callable[[Session], service.Taken]:
        def unit(s: Session) -> service.Taken:
            taken = service.take(s, clock=clock, actor=KIOSK_ACTOR, hall_code=qhall.code, category=category)
            if bad:
                s.add(audit.AuditHead(id=1, last_hash=audit.GENESIS_HASH))  # the head row exists: fails at flush
            return taken
        return unit

    async def batch() -> list[Any]:
        units = [take("A"), take("A", bad=True), take("B")]
        return list(await asyncio.gather(*(group.submit(u, lambda _s, t: t.row.number, flush=service.write_taken)
                                           for u in units), return_exceptions=True))

    results = run_coroutine(batch())
    assert results[0] == "A001" and isinstance(results[1], IntegrityError) and results[2] == "B001"
    stored = sorted(session.scalars(select(Ticket.number).where(Ticket.hall.has(code=qhall.code))))
    assert stored == ["A001", "B001"]
    assert audit.verify(session).ok
