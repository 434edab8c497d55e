"""A 差评 tells its listeners (the 整改 opener) once; a voided rating leaves 好评率 and is counted apart."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from onewindow.config import Settings
from onewindow.core.audit import Actor
from onewindow.core.clock import Clock, FixedClock, today
from onewindow.core.errors import DomainError
from onewindow.ratings import service
from onewindow.ratings.models import Rating
from onewindow.staff.service import viewer_of
from tests.factories import staff
from tests.ratings.conftest import Serve

SUPERVISOR = Actor(None, "test-supervisor")


@pytest.fixture
def heard() -> Iterator[list[tuple[int, bool]]]:
    calls: list[tuple[int, bool]] = []

    def listener(session: Session, rating: Rating, clock: Clock, actor: Actor) -> None:
        calls.append((rating.id, rating.negative))

    service.NEGATIVE_RATING_LISTENERS.append(listener)
    try:
        yield calls
    finally:
        service.NEGATIVE_RATING_LISTENERS.remove(listener)


def test_listeners_are_called_once_per_negative_rating(session: Session, day: FixedClock, settings: Settings,
                                                       serve: Serve, heard: list[tuple[int, bool]]) -> None:
    good = service.rate_ticket(session, clock=day, settings=settings, ticket_id=serve().id, channel="evaluator",
                               level="satisfied", scores=None)
    bad = service.rate_ticket(session, clock=day, settings=settings, ticket_id=serve().id, channel="evaluator",
                              level="unsatisfied", scores=None, reasons=["long_wait", "attitude"])
    assert heard == [(bad.id, True)]
    assert good.id != bad.id


def test_a_voided_rating_is_excluded_from_the_good_rate(session: Session, day: FixedClock, settings: Settings,
                                                        serve: Serve) -> None:
    admin = viewer_of(staff(session, "admin"))
    service.rate_ticket(session, clock=day, settings=settings, ticket_id=serve().id, channel="evaluator",
                        level="very_satisfied", scores=None)
    bad = service.rate_ticket(session, clock=day, settings=settings, ticket_id=serve().id, channel="evaluator",
                              level="very_unsatisfied", scores=None, reasons=["other"], comment="恶意")
    on = today(day)
    [hall] = service.figures(session, viewer=admin, date_from=on, date_to=on, by="hall")
    assert (hall.good_rate.numerator, hall.good_rate.denominator, hall.voided) == (1, 2, 0)
    service.void_rating(session, rating_id=bad.id, clock=day, actor=SUPERVISOR, reason="申诉成立：恶意差评")
    [hall] = service.figures(session, viewer=admin, date_from=on, date_to=on, by="hall")
    assert (hall.good_rate.numerator, hall.good_rate.denominator, hall.voided, hall.ratings) == (1, 1, 1, 2)
    assert hall.bad_rate.numerator == 0
    with pytest.raises(DomainError) as excinfo:
        service.void_rating(session, rating_id=bad.id, clock=day, actor=SUPERVISOR, reason="再次")
    assert excinfo.value.status == 409
