"""A ticket taken through the public API knows its place in the line without the line being counted again after
the COMMIT (``service.take`` with ``count_ahead``): the line as read when it was taken, plus the tickets another
writer issued in it before this transaction wrote, plus this transaction's own ahead of it; the figure a fresh count
gives when nothing else moved the line meanwhile. What the public calls read and seldom changes (halls and
categories by code, a wait estimate's open windows' skills and mean service times) is kept per worker for
``queue_cache_seconds`` (``service.QueueCache``)."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from onewindow.catalog.models import Hall, HallCategory
from onewindow.core.clock import CHINA_TZ, FixedClock
from onewindow.core.errors import NotFound, ValidationFailed
from onewindow.queue import service
from onewindow.queue.api import KIOSK_ACTOR
from onewindow.queue.models import TicketCounter
from tests.conftest import BACKEND

from .conftest import QueueHall


def test_a_ticket_knows_its_place_also_with_tickets_issued_by_another_writer_meanwhile(
        session: Session, qhall: QueueHall, clock: FixedClock) -> None:
    for _ in range(2):
        service.issue(session, clock=clock, actor=KIOSK_ACTOR, hall_code=qhall.code, category="A")
    session.commit()

    def take(category: str) -> service.Taken:
        return service.take(session, clock=clock, actor=KIOSK_ACTOR, hall_code=qhall.code, category=category,
                            count_ahead=True)

    first, second, other = take("A"), take("A"), take("B")
    service.read_lines(session)  # a batch's lines read before the head (PostgreSQL; on SQLite counted when written)
    # another writer issues two tickets in line A after this transaction read it and before it writes: set the
    # queued tickets aside, as another transaction's would be, and write the other two first
    queued = session.info.pop(service._TAKEN_KEY)
    for _ in range(2):
        service.issue(session, clock=clock, actor=KIOSK_ACTOR, hall_code=qhall.code, category="A")
    session.info[service._TAKEN_KEY] = queued
    service.write_taken(session)
    assert (first.ahead, second.ahead, other.ahead) == (4, 5, 0)
    for taken in (first, second, other):
        assert taken.row is not None
        assert service.status_of(session, clock=clock, row=taken.row).ahead == taken.ahead  # a fresh count


@pytest.mark.parametrize("read", [True, False], ids=["lines read before", "counted when written"])
def test_the_place_counts_tickets_taken_earlier_in_the_transaction_and_no_one_taken_later(
        session: Session, qhall: QueueHall, clock: FixedClock, read: bool) -> None:
    service.issue(session, clock=clock, actor=KIOSK_ACTOR, hall_code=qhall.code, category="A")
    first = service.take(session, clock=clock, actor=KIOSK_ACTOR, hall_code=qhall.code, category="A", count_ahead=True)
    if read:
        service.read_lines(session)
    service.write_taken(session)
    later = service.take(session, clock=clock, actor=KIOSK_ACTOR, hall_code=qhall.code, category="A", count_ahead=True)
    if read:
        service.read_lines(session)
    service.write_taken(session)
    assert (first.ahead, later.ahead) == (1, 2)


def test_tickets_taken_before_midnight_and_written_after_go_to_the_new_days_lines(
        session: Session, qhall: QueueHall, clock: FixedClock) -> None:
    """On PostgreSQL the batch takes the head with its counters' move, for the days its tickets were taken on, and
    reads their times after: a day gone by meanwhile has the counters moved back and the new day's used."""
    clock.set(dt.datetime(2026, 11, 30, 23, 59, 59, 900000, tzinfo=CHINA_TZ))
    service.issue(session, clock=clock, actor=KIOSK_ACTOR, hall_code=qhall.code, category="A")  # A001, the 30th
    session.commit()
    taken = [service.take(session, clock=clock, actor=KIOSK_ACTOR, hall_code=qhall.code, category=category,
                          count_ahead=True) for category in "AB"]
    service.read_lines(session)
    clock.advance(dt.timedelta(milliseconds=200))  # midnight, before the batch writes
    service.write_taken(session)
    session.commit()
    rows = [t.row for t in taken]
    assert [(r.number, r.day) for r in rows if r] == [("A001", dt.date(2026, 12, 1)), ("B001", dt.date(2026, 12, 1))]
    assert [t.ahead for t in taken] == [0, 0]
    lasts = {(code, day.day): last for code, day, last in session.execute(  # this hall's (the demo has others')
        select(HallCategory.code, TicketCounter.day, TicketCounter.last).join(HallCategory)
        .join(Hall, Hall.id == TicketCounter.hall_id)
        .where(Hall.code == qhall.code))}
    assert lasts["A", 30] == 1 and lasts.get(("B", 30), 0) == 0  # moved back, if moved
    if BACKEND == "postgres":  # moved with the head's lock, for the day taken on, then back
        assert ("B", 30) in lasts
    assert lasts["A", 1] == lasts["B", 1] == 1


def test_without_count_ahead_the_place_is_left_to_a_count(session: Session, qhall: QueueHall,
                                                          clock: FixedClock) -> None:
    taken = service.take(session, clock=clock, actor=KIOSK_ACTOR, hall_code=qhall.code, category="A")
    service.write_taken(session)
    assert taken.ahead is None and taken.row is not None
    assert service.status_of(session, clock=clock, row=taken.row).ahead == 0


def test_the_public_answer_gives_the_place_a_status_read_gives(client: Any, qhall: QueueHall) -> None:
    answers = [client.post(f"/api/v1/queue/halls/{qhall.code}/tickets", json={"category": c}).json()
               for c in "AABA"]
    assert [a["ahead"] for a in answers] == [0, 1, 0, 2]
    for answer in answers:
        status = client.get(answer["status_url"]).json()
        assert (status["ahead"], status["estimated_wait_min"]) == (answer["ahead"], answer["estimated_wait_min"])


def test_what_seldom_changes_is_read_once_within_the_cache_time(session: Session, qhall: QueueHall,
                                                                 clock: FixedClock,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    reads: list[str] = []
    monkeypatch.setattr(service, "_serving_skills", lambda _s, _hall: reads.append("skills") or [["A"], ["A"]])
    monkeypatch.setattr(service, "expected_service_minutes",
                        lambda _s, *, clock, hall_id: reads.append("means") or {"A": 6.0})
    now = [1000.0]
    monkeypatch.setattr(service, "time", SimpleNamespace(monotonic=lambda: now[0]))
    cache = service.QueueCache(1.0)
    row = service.issue(session, clock=clock, actor=KIOSK_ACTOR, hall_code=qhall.code, category="A")
    assert cache.estimate_inputs(session, clock=clock, hall_id=row.hall.id) == ([["A"], ["A"]], {"A": 6.0})
    now[0] += 0.5
    status = service.status_of(session, clock=clock, row=row, ahead=3, cache=cache)
    assert (status.ahead, status.estimated_wait_min) == (3, 9.0)  # 3 ahead × 6 minutes ÷ 2 windows
    assert reads == ["skills", "means"]
    now[0] += 0.6
    cache.estimate_inputs(session, clock=clock, hall_id=row.hall.id)
    assert reads == ["skills", "means"] * 2  # read again once the second has passed
    off = service.QueueCache(0)
    off.estimate_inputs(session, clock=clock, hall_id=row.hall.id)
    off.estimate_inputs(session, clock=clock, hall_id=row.hall.id)
    assert reads == ["skills", "means"] * 4  # 0: read each time, nothing kept


def test_halls_and_categories_are_kept_but_not_what_is_unknown(session: Session, qhall: QueueHall, clock: FixedClock,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    reads: list[str] = []
    real_hall, real_category = service.catalog_service.hall_key, service.category_key
    monkeypatch.setattr(service.catalog_service, "hall_key", lambda s, code: reads.append(code) or real_hall(s, code))
    monkeypatch.setattr(service, "category_key", lambda s, code: reads.append(code) or real_category(s, code))
    cache = service.QueueCache(60)
    for _ in range(3):
        service.take(session, clock=clock, actor=KIOSK_ACTOR, hall_code=qhall.code, category="A", cache=cache)
        session.rollback()  # a new transaction each time: nothing held by the session
    assert reads == [qhall.code, "A"]
    for _ in range(2):
        with pytest.raises(ValidationFailed):
            service.take(session, clock=clock, actor=KIOSK_ACTOR, hall_code=qhall.code, category="Z", cache=cache)
        session.rollback()
        with pytest.raises(NotFound):
            service.take(session, clock=clock, actor=KIOSK_ACTOR, hall_code="NO-SUCH", category="A", cache=cache)
        session.rollback()
    assert reads == [qhall.code, "A", "Z", "NO-SUCH", "Z", "NO-SUCH"]
