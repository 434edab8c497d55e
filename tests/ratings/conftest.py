"""Ratings fixtures: a day after the demo's (so figures see only what a test makes) and served visits."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from sqlalchemy.orm import Session

from onewindow.catalog import service as catalog_service
from onewindow.config import Settings
from onewindow.core.audit import Actor
from onewindow.core.clock import CHINA_TZ, FixedClock
from onewindow.queue import service as queue_service
from onewindow.queue.models import Ticket
from onewindow.queue.states import TicketState
from onewindow.staff.service import actor_of
from tests.factories import CLAIM, staff

HALL = "HJ-ZWZX"
DAY = dt.datetime(2026, 12, 2, 10, 0, tzinfo=CHINA_TZ)  # a Wednesday after every demo rating
KIOSK = Actor(None, "kiosk")

Serve = Callable[..., Ticket]


@pytest.fixture
def day() -> FixedClock:
    """A clock on a day without demo ratings, tickets or decisions."""
    return FixedClock(DAY)


@pytest.fixture
def settings() -> Settings:
    """Settings with a known secret and the default rating window."""
    return Settings(database_url="sqlite:///unused.db", secret_key="t" * 32, jobs_enabled=False)


def serve_ticket(session: Session, clock: FixedClock, *, item_code: str | None = CLAIM, id_number: str | None = None,
                 phone: str | None = None, username: str = "clerk", finish: bool = True) -> Ticket:
    """Issue a ticket and have the clerk serve (and finish) it at their window, clearing the window first."""
    clerk = staff(session, username)
    me = actor_of(clerk)
    window = queue_service.window_of_clerk(session, clerk.id)
    assert window is not None, "the demo clerk is signed into window 1"
    current = queue_service.current_ticket(session, window.id)
    if current is not None:
        if current.state == TicketState.CALLED.value:
            queue_service.start_serving(session, clock=clock, actor=me, window_id=window.id, ticket_id=current.id)
        queue_service.finish(session, clock=clock, actor=me, window_id=window.id, ticket_id=current.id)
    category = "A"
    if item_code:
        category = catalog_service.get_item_version(session, item_code)[1].hall_category.code
    ticket = queue_service.issue_ticket(session, clock=clock, actor=KIOSK, hall_code=HALL, category=category,
                                        item_code=item_code, id_number=id_number, phone=phone)
    queue_service.call_specific(session, clock=clock, actor=me, window_id=window.id, ticket_id=ticket.id,
                                reason="测试特呼")
    queue_service.start_serving(session, clock=clock, actor=me, window_id=window.id, ticket_id=ticket.id)
    if finish:
        clock.advance(dt.timedelta(minutes=3))
        queue_service.finish(session, clock=clock, actor=me, window_id=window.id, ticket_id=ticket.id)
    return ticket


@pytest.fixture
def serve(session: Session, day: FixedClock) -> Serve:
    """``serve(item_code=..., id_number=...)``: a visit served by the demo clerk on ``day``."""

    def _serve(**kwargs: object) -> Ticket:
        return serve_ticket(session, day, **kwargs)  # type: ignore[arg-type]

    return _serve
