"""默认评价: off by default; when set, unrated served visits and finished cases older than N days get 基本满意."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from onewindow.config import Settings
from onewindow.core.clock import FixedClock
from onewindow.jobs import find_job, resolve_target
from onewindow.ratings import service
from tests.factories import make_case
from tests.ratings.conftest import Serve


def _settings(days: int) -> Settings:
    return Settings(database_url="sqlite:///unused.db", secret_key="t" * 32, rating_default_after_days=days)


def test_defaults_are_off_unless_set(session: Session, day: FixedClock, serve: Serve) -> None:
    ticket = serve()
    later = FixedClock(day.now() + dt.timedelta(days=30))
    assert service.default_ratings(session, clock=later, settings=_settings(0)) == 0
    assert service.rating_for_ticket(session, ticket.id) is None


def test_unrated_visits_and_cases_older_than_n_days_get_a_default_rating(session: Session, day: FixedClock,
                                                                         serve: Serve) -> None:
    ticket = serve()
    case = make_case(session, day, state="delivered")
    rated = serve()
    service.rate_ticket(session, clock=day, settings=_settings(7), ticket_id=rated.id, channel="evaluator",
                        level="satisfied", scores=None)
    assert service.default_ratings(session, clock=FixedClock(day.now() + dt.timedelta(days=6)),
                                   settings=_settings(7)) >= 0
    assert service.rating_for_ticket(session, ticket.id) is None  # not yet 7 days
    later = FixedClock(day.now() + dt.timedelta(days=8))
    assert service.default_ratings(session, clock=later, settings=_settings(7)) >= 2
    default = service.rating_for_ticket(session, ticket.id)
    assert default is not None
    assert (default.level, default.channel, default.is_default, default.negative) == ("basic", "default", True, False)
    case_default = service.rating_for_case(session, case.id)
    assert case_default is not None and case_default.is_default
    assert service.rating_for_ticket(session, rated.id).channel == "evaluator"  # type: ignore[union-attr]
    assert service.default_ratings(session, clock=later, settings=_settings(7)) == 0  # safe to run twice


def test_the_rating_defaults_job_is_registered() -> None:
    job = find_job("rating-defaults")
    assert resolve_target(job.target) is service.run_default_ratings
