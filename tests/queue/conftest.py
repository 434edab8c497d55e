"""Queue fixtures: a staffed town hall on a day without demo tickets, clerks with qualifications."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from sqlalchemy.orm import Session

from onewindow.core.audit import Actor
from onewindow.core.clock import CHINA_TZ, FixedClock
from onewindow.queue import service
from onewindow.queue.models import Window
from onewindow.staff import service as staff_service
from tests.factories import DEMO_PASSWORD

HALL = "HJ-ZJZ"  # a town center without demo windows or tickets
DAY = dt.datetime(2026, 11, 24, 9, 0, tzinfo=CHINA_TZ)  # Tuesday, the day after the demo's tickets
ADMIN = Actor(None, "test-admin")
PASSWORD = DEMO_PASSWORD  # test accounts (the demo password)


@dataclass
class Clerk:
    """A test clerk: the audit actor and the username for ``token_for``."""

    username: str
    actor: Actor


@dataclass
class QueueHall:
    """The staffed test hall."""

    code: str
    windows: dict[int, Window]
    make_clerk: Callable[[str, list[str]], Clerk]


@pytest.fixture
def qhall(session: Session, clock: FixedClock) -> QueueHall:
    """Town hall HJ-ZJZ with window 1 (A home, also B), 2 (B home, also A), 3 (C only); clock on Tuesday 9:00."""
    clock.set(DAY)
    windows = {
        1: service.save_window(session, clock=clock, actor=ADMIN, hall_code=HALL, number=1, kind="department",
                               skills=["A", "B"], home=["A"]),
        2: service.save_window(session, clock=clock, actor=ADMIN, hall_code=HALL, number=2, kind="department",
                               skills=["B", "A"], home=["B"]),
        3: service.save_window(session, clock=clock, actor=ADMIN, hall_code=HALL, number=3, kind="comprehensive",
                               skills=["C"]),
    }

    def make_clerk(username: str, categories: list[str]) -> Clerk:
        user = staff_service.create_user(session, clock=clock, actor=ADMIN, username=username, password=PASSWORD,
                                         display_name=f"测试{username[-1]}", role="clerk", department_code="ZWFW",
                                         hall_code=HALL, phone=None)
        service.set_qualifications(session, clock=clock, actor=ADMIN, username=username, categories=categories)
        session.commit()
        return Clerk(username, Actor(user.id, username))

    session.commit()
    return QueueHall(HALL, windows, make_clerk)


def at(minutes: float) -> dt.datetime:
    """Tuesday 9:00 plus minutes."""
    return DAY + dt.timedelta(minutes=minutes)


