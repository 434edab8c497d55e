"""Tickets take the listener's fast path: their changes add to and take back from a few rollup rows instead of
recounting their day, and the rows still equal a full recomputation (issue, call, serve, move window, change
item, delete; a rolled-back savepoint takes back exactly what it noted, a released one keeps it for the commit)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from onewindow.analytics import listeners, rollup
from onewindow.queue.models import Window
from onewindow.staff.models import User

from .history import MONDAY, World, at, ticket
from .test_indicators import snapshot


def _no_recount(*_args: object, **_kwargs: object) -> None:
    raise AssertionError("a ticket's change recounted its whole day")


def test_ticket_changes_are_increments_equal_to_a_recomputation(session: Session,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    listeners.install()
    w = World(session)
    window_id = session.scalars(select(Window.id)).first()
    clerk_id = session.scalars(select(User.id)).first()
    monkeypatch.setattr(rollup, "recompute_days", _no_recount)
    monkeypatch.setattr(rollup, "recompute_open", _no_recount)
    waiting = ticket(session, w, MONDAY)
    coded = ticket(session, w, MONDAY, hour=10, code=w.code_a)
    session.commit()
    waiting.called_at, waiting.state = at(MONDAY, 9, 12), "called"
    waiting.window_id, waiting.clerk_id = window_id, clerk_id
    session.commit()
    waiting.serving_at, waiting.done_at, waiting.state = at(MONDAY, 9, 13), at(MONDAY, 9, 25), "done"
    coded.item_code = w.code_b
    session.commit()
    coded.day, coded.issued_at = MONDAY + dt.timedelta(days=1), at(MONDAY + dt.timedelta(days=1), 8)
    session.commit()
    gone = ticket(session, w, MONDAY, hour=11, wait_min=3)
    session.commit()
    session.delete(gone)
    session.commit()
    kept = snapshot(session)
    monkeypatch.undo()
    rollup.rebuild(session)
    assert snapshot(session) == kept
    session.rollback()


def test_a_rolled_back_savepoint_takes_back_what_it_noted(session: Session,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    listeners.install()
    w = World(session)
    monkeypatch.setattr(rollup, "recompute_days", _no_recount)
    monkeypatch.setattr(rollup, "recompute_open", _no_recount)
    t = ticket(session, w, MONDAY)
    with session.begin_nested():  # released: kept for the commit
        kept_ticket = ticket(session, w, MONDAY, hour=10)
    try:
        with session.begin_nested():
            t.called_at, t.state = at(MONDAY, 9, 30), "called"
            ticket(session, w, MONDAY, hour=11)
            session.flush()
            raise RuntimeError("undo")
    except RuntimeError:
        pass
    session.commit()
    monkeypatch.undo()
    assert kept_ticket.id is not None
    kept = snapshot(session)
    rollup.rebuild(session)
    assert snapshot(session) == kept
    session.rollback()
