"""Group commit (``db.GroupCommit``): tickets taken at the same moment are written in one transaction, each in its
own savepoint, through the same ``service.issue_ticket`` as any ticket; a unit that fails is rolled back alone,
publishes nothing and leaves no gap in the numbers; the others are committed, audited in one verifiable chain,
announced only once committed, and counted in the rollups exactly as a full recomputation counts them."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session

from onewindow.analytics import listeners, rollup
from onewindow.core import audit
from onewindow.core.clock import FixedClock
from onewindow.db import GroupCommit
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

    async def batch() -> list[Any]:
        units = [take("A"), take("B"), take("A", fail=True), take("A"), take("B")]
        if session.get_bind().dialect.name == "sqlite":  # one batch (or two) of the writer thread
            return await asyncio.gather(*(group.submit(u) for u in units), return_exceptions=True)
        # PostgreSQL: a transaction per unit in worker threads; the test's units share one connection, so in turn
        out: list[Any] = []
        for u in units:
            try:
                out.append(await group.submit(u))
            except Refused as exc:
                out.append(exc)
        return out

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
