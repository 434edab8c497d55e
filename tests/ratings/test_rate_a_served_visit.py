"""一次一评: a served visit is rated once, tied to its item, department, hall, window and clerk."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onewindow.catalog import service as catalog_service
from onewindow.config import Settings
from onewindow.core.audit import AuditEntry
from onewindow.core.clock import FixedClock
from onewindow.core.errors import DomainError
from onewindow.ratings import service
from onewindow.ratings.models import Rating
from onewindow.ratings.rules import WINDOW_DIMENSIONS
from tests.factories import CLAIM, new_id_number, staff
from tests.ratings.conftest import Serve

ALL_GOOD = dict.fromkeys(WINDOW_DIMENSIONS, "very_satisfied")


def _ratings(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Rating)) or 0


def test_a_served_visit_is_rated_with_item_department_hall_window_and_clerk(
        session: Session, day: FixedClock, settings: Settings, serve: Serve) -> None:
    ticket = serve(item_code=CLAIM)
    rating = service.rate_ticket(session, clock=day, settings=settings, ticket_id=ticket.id, channel="evaluator",
                                 level="very_satisfied", scores=ALL_GOOD, reasons=[], comment="很快")
    item, version = catalog_service.get_item_version(session, CLAIM)
    assert (rating.item_id, rating.department_id) == (item.id, version.department_id)
    assert (rating.hall_id, rating.window_id, rating.clerk_id) == (ticket.hall_id, ticket.window_id,
                                                                  staff(session, "clerk").id)
    assert rating.served_at == ticket.done_at and rating.rated_on == dt.date(2026, 12, 2)
    assert (rating.subject, rating.channel, rating.negative, rating.identified) == ("ticket", "evaluator", False, False)
    assert service.rating_for_ticket(session, ticket.id) is rating
    assert session.scalars(select(AuditEntry.action).where(AuditEntry.entity_type == "rating",
                                                           AuditEntry.entity_id == str(rating.id))).all() == [
        "ratings.ticket.rate"]


def test_a_ticket_with_an_id_number_gives_a_named_rating(session: Session, day: FixedClock, settings: Settings,
                                                           serve: Serve) -> None:
    number = new_id_number()
    ticket = serve(id_number=number, phone="13912345678")
    rating = service.rate_ticket(session, clock=day, settings=settings, ticket_id=ticket.id, channel="qr",
                                 level="satisfied", scores=None)
    assert (rating.identified, rating.rater_id_number, rating.rater_phone) == (True, number, "13912345678")
    assert rating.scores == dict.fromkeys(WINDOW_DIMENSIONS, "satisfied")  # one tap rates every dimension


def test_rating_twice_answers_409_and_writes_nothing(session: Session, day: FixedClock, settings: Settings,
                                                     serve: Serve) -> None:
    ticket = serve()
    service.rate_ticket(session, clock=day, settings=settings, ticket_id=ticket.id, channel="evaluator",
                        level="satisfied", scores=None)
    before = _ratings(session)
    with pytest.raises(DomainError) as excinfo:
        service.rate_ticket(session, clock=day, settings=settings, ticket_id=ticket.id, channel="qr",
                            level="very_unsatisfied", scores=None, reasons=["long_wait"])
    assert (excinfo.value.status, excinfo.value.code) == (409, "already_rated")
    assert "已评价" in excinfo.value.message
    assert _ratings(session) == before


def test_a_visit_not_yet_served_cannot_be_rated(session: Session, day: FixedClock, settings: Settings,
                                                serve: Serve) -> None:
    ticket = serve(finish=False)
    with pytest.raises(DomainError) as excinfo:
        service.rate_ticket(session, clock=day, settings=settings, ticket_id=ticket.id, channel="evaluator",
                            level="satisfied", scores=None)
    assert (excinfo.value.status, excinfo.value.code) == (409, "ticket_not_served")
    assert "尚未办结" in excinfo.value.message


def test_the_rating_window_closes_days_after_the_visit(session: Session, day: FixedClock, settings: Settings,
                                                       serve: Serve) -> None:
    ticket = serve()
    later = FixedClock(day.now() + dt.timedelta(days=settings.rating_window_days, minutes=1))
    with pytest.raises(DomainError) as excinfo:
        service.rate_ticket(session, clock=later, settings=settings, ticket_id=ticket.id, channel="qr",
                            level="satisfied", scores=None)
    assert (excinfo.value.status, excinfo.value.code) == (422, "rating_window_closed")
    assert "评价期限" in excinfo.value.message


@pytest.mark.parametrize(("level", "scores", "reasons", "field", "code"), [
    ("superb", None, [], "level", "unknown_level"),
    ("satisfied", {k: "satisfied" for k in list(WINDOW_DIMENSIONS)[:3]}, [], "scores.attitude", "missing_dimension"),
    ("unsatisfied", None, [], "reasons", "reason_required"),
    ("satisfied", {**ALL_GOOD, "usability": "satisfied"}, [], "scores.usability", "unknown_dimension"),
])
def test_bad_input_answers_422_with_the_field_and_writes_nothing(
        session: Session, day: FixedClock, settings: Settings, serve: Serve, level: str,
        scores: dict[str, str] | None, reasons: list[str], field: str, code: str) -> None:
    ticket = serve()
    before = _ratings(session)
    with pytest.raises(DomainError) as excinfo:
        service.rate_ticket(session, clock=day, settings=settings, ticket_id=ticket.id, channel="evaluator",
                            level=level, scores=scores, reasons=reasons)
    assert excinfo.value.status == 422
    assert (field, code) in [(p.field, p.code) for p in excinfo.value.problems]
    assert _ratings(session) == before
