"""Live events reach a hall's subscribers only after the write commits; the call text is ready for speech."""

from __future__ import annotations

import asyncio
import threading

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from onewindow.core.audit import Actor
from onewindow.core.clock import FixedClock
from onewindow.queue import events, service
from onewindow.queue.models import Ticket, Window
from tests.browser_wait import run_coroutine as run

from .conftest import QueueHall


def test_announcement_text() -> None:
    assert service.announcement("A001", 3) == "请A001号到3号窗口办理"


def test_publish_from_another_thread_reaches_subscribers_of_that_hall_only() -> None:
    async def scenario() -> tuple[events.Event | None, events.Event | None]:
        with events.subscribe("H1") as mine, events.subscribe("H2") as other:
            thread = threading.Thread(target=events.publish, args=("H1", {"type": "ticket.issued"}))
            thread.start()
            thread.join()
            return await mine.get(timeout=2), await other.get(timeout=0.05)

    got, not_mine = run(scenario())
    assert got == {"type": "ticket.issued"} and not_mine is None
    assert events.subscriber_count("H1") == 0


def test_events_wait_for_commit_and_vanish_on_rollback(session_factory: sessionmaker[Session], qhall: QueueHall,
                                                       clock: FixedClock) -> None:
    async def scenario() -> list[events.Event]:
        received: list[events.Event] = []
        with events.subscribe(qhall.code) as sub:
            with session_factory() as s:
                service.issue_ticket(s, clock=clock, actor=Actor(None, "kiosk"), hall_code=qhall.code, category="A")
                assert events.pending_events(s)
                await asyncio.sleep(0.01)
                assert sub.queue.empty()  # not before the commit
                s.rollback()
            with session_factory() as s:
                service.issue_ticket(s, clock=clock, actor=Actor(None, "kiosk"), hall_code=qhall.code, category="C")
                s.commit()
            while (item := await sub.get(timeout=0.2)) is not None:
                received.append(item)
        return received

    received = run(scenario())
    assert [(e["type"], e["ticket"]["number"]) for e in received] == [("ticket.issued", "C001")]


def test_demo_hall_has_24_windows_with_skills_and_tickets(session: Session) -> None:
    windows = list(session.scalars(select(Window).join(Window.hall).where(Window.hall.has(code="HJ-ZWZX"))
                                   .order_by(Window.number)))
    assert len(windows) == 24
    assert all(w.home and w.skills[0] == w.home[0] and len(w.skills) == 8 for w in windows)
    assert {w.kind for w in windows} >= {"comprehensive", "department", "elderly", "bundle", "assisted"}
    states = {t.state for t in session.scalars(select(Ticket))}
    assert {"waiting", "done", "serving", "missed", "cancelled"} <= states
