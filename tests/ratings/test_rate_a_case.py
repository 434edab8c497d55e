"""一事一评: the applicant rates their own finished case once; a link holder without an account too."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from onewindow.config import Settings
from onewindow.core.clock import FixedClock
from onewindow.core.errors import DomainError
from onewindow.ratings import links, service
from onewindow.ratings.rules import ONLINE_DIMENSIONS
from tests.factories import make_case, make_person, staff

GOOD = dict.fromkeys(ONLINE_DIMENSIONS, "satisfied")


def test_the_applicant_rates_their_finished_case_tied_to_item_department_hall_and_accepting_clerk(
        session: Session, day: FixedClock, settings: Settings) -> None:
    person = make_person(session, day)
    case = make_case(session, day, state="approved", applicant=person)
    assert person.user is not None
    rating = service.rate_case(session, clock=day, settings=settings, case_id=case.id, channel="online",
                               level="satisfied", scores=GOOD, user=person.user)
    assert (rating.subject, rating.case_id, rating.item_id, rating.department_id, rating.hall_id) == (
        "case", case.id, case.item_id, case.department_id, case.receiving_hall_id)
    assert rating.clerk_id == staff(session, "clerk").id  # the clerk who accepted it at the window
    assert (rating.identified, rating.rater_user_id, rating.rater_id_number) == (True, person.user.id,
                                                                                 person.id_number)
    assert service.rating_for_case(session, case.id) is rating


def test_someone_elses_case_is_refused_with_403(session: Session, day: FixedClock, settings: Settings) -> None:
    case = make_case(session, day, state="delivered")
    other = make_person(session, day)
    assert other.user is not None
    with pytest.raises(DomainError) as excinfo:
        service.rate_case(session, clock=day, settings=settings, case_id=case.id, channel="online",
                          level="satisfied", scores=GOOD, user=other.user)
    assert excinfo.value.status == 403
    assert service.rating_for_case(session, case.id) is None


def test_staff_cannot_rate_a_case(session: Session, day: FixedClock, settings: Settings) -> None:
    case = make_case(session, day, state="approved")
    with pytest.raises(DomainError) as excinfo:
        service.rate_case(session, clock=day, settings=settings, case_id=case.id, channel="online",
                          level="satisfied", scores=GOOD, user=staff(session, "clerk"))
    assert excinfo.value.status == 403


def test_an_unfinished_case_cannot_be_rated(session: Session, day: FixedClock, settings: Settings) -> None:
    person = make_person(session, day)
    case = make_case(session, day, state="in_review", applicant=person)
    with pytest.raises(DomainError) as excinfo:
        service.rate_case(session, clock=day, settings=settings, case_id=case.id, channel="online",
                          level="satisfied", scores=GOOD, user=person.user)
    assert (excinfo.value.status, excinfo.value.code) == (409, "case_not_finished")


def test_a_link_holder_rates_once_and_a_link_for_another_case_does_not_work(
        session: Session, day: FixedClock, settings: Settings) -> None:
    case = make_case(session, day, state="denied")
    other = make_case(session, day, state="approved")
    token = links.make_token(settings.secret_key, links.Subject.CASE, case.id)
    with pytest.raises(DomainError) as excinfo:
        service.rate_case(session, clock=day, settings=settings, case_id=other.id, channel="sms",
                          level="satisfied", scores=GOOD, token=token)
    assert excinfo.value.status == 404
    rating = service.rate_case(session, clock=day, settings=settings, case_id=case.id, channel="sms",
                               level="very_unsatisfied", scores=None, reasons=["many_trips"], token=token)
    assert (rating.channel, rating.negative, rating.rater_user_id) == ("sms", True, None)
    with pytest.raises(DomainError) as excinfo:
        service.rate_case(session, clock=day, settings=settings, case_id=case.id, channel="sms",
                          level="satisfied", scores=None, token=token)
    assert (excinfo.value.status, excinfo.value.code) == (409, "already_rated")
