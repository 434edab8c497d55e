"""Figures over a small hand-counted set: 好评率, 差评率, defaults and voided apart, rated shares."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session

from onewindow.config import Settings
from onewindow.core.clock import FixedClock, today
from onewindow.core.errors import DomainError
from onewindow.ratings import service
from onewindow.staff.service import viewer_of
from tests.factories import make_case, staff
from tests.ratings.conftest import KIOSK, Serve


def test_figures_by_hall_window_clerk_and_department_are_hand_checked(
        session: Session, day: FixedClock, settings: Settings, serve: Serve) -> None:
    admin = viewer_of(staff(session, "admin"))
    tickets = [serve() for _ in range(5)]  # five visits served at the clerk's window
    levels = [("very_satisfied", []), ("satisfied", []), ("basic", []), ("very_unsatisfied", ["long_wait"])]
    for ticket, (level, reasons) in zip(tickets, levels, strict=False):  # the fifth is not rated
        service.rate_ticket(session, clock=day, settings=settings, ticket_id=ticket.id, channel="evaluator",
                            level=level, scores=None, reasons=reasons)
    case = make_case(session, day, state="approved")  # a finished case, rated by default later
    unrated = make_case(session, day, state="approved")
    later = FixedClock(day.now() + dt.timedelta(days=10))
    on = today(day)
    defaults = service.default_ratings(session, clock=later, settings=Settings(
        database_url="sqlite:///unused.db", secret_key="t" * 32, rating_default_after_days=7))
    assert defaults >= 3  # the unrated visit and both cases (and older demo ones)

    [hall] = [g for g in service.figures(session, viewer=admin, date_from=on, date_to=on, by="hall")
              if g.key == tickets[0].hall_id]
    assert (hall.ratings, hall.counted, hall.defaults, hall.voided) == (4, 4, 0, 0)  # defaults are rated later
    assert (hall.good_rate.numerator, hall.good_rate.denominator, hall.good_rate.text) == (2, 4, "50.0%")
    assert (hall.bad_rate.numerator, hall.bad_rate.denominator) == (1, 4)
    assert hall.ticket_share is not None and (hall.ticket_share.numerator, hall.ticket_share.denominator) == (4, 5)
    assert hall.case_share is not None and (hall.case_share.numerator, hall.case_share.denominator) == (0, 2)

    [window] = service.figures(session, viewer=admin, date_from=on, date_to=on, by="window")
    assert window.key == tickets[0].window_id and window.label.endswith("1号窗口")
    assert window.case_share is None

    later_day = today(later)
    by_department = service.figures(session, viewer=admin, date_from=later_day, date_to=later_day, by="department")
    [dept] = [g for g in by_department if g.key == case.department_id]
    assert dept.defaults >= 2 and dept.counted == dept.ratings - dept.defaults
    assert dept.good_rate.denominator == dept.counted  # defaults never enter 好评率
    assert unrated.id != case.id


def test_a_department_head_sees_figures_of_their_department_only_and_a_clerk_none(
        session: Session, day: FixedClock, settings: Settings, serve: Serve) -> None:
    service.rate_ticket(session, clock=day, settings=settings, ticket_id=serve().id, channel="evaluator",
                        level="satisfied", scores=None)  # a 医保 item: not 市场监管's
    on = today(day)
    head = viewer_of(staff(session, "head_scjg"))
    assert service.figures(session, viewer=head, date_from=on, date_to=on, by="hall") == []
    with pytest.raises(DomainError) as excinfo:
        service.figures(session, viewer=viewer_of(staff(session, "clerk")), date_from=on, date_to=on, by="hall")
    assert excinfo.value.status == 403
    with pytest.raises(DomainError) as excinfo:
        service.figures(session, viewer=viewer_of(staff(session, "admin")), date_from=on, date_to=on, by="moon")
    assert excinfo.value.status == 422
    assert KIOSK.label == "kiosk"
