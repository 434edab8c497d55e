"""Who sees which ratings: a clerk their own service's, a department head their department's, others 403."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from onewindow.config import Settings
from onewindow.core.clock import FixedClock, today
from onewindow.core.errors import DomainError
from onewindow.ratings import service
from onewindow.staff.service import viewer_of
from tests.factories import SOLE_TRADER, staff
from tests.ratings.conftest import Serve


def _rate(session: Session, day: FixedClock, settings: Settings, ticket_id: int) -> int:
    return service.rate_ticket(session, clock=day, settings=settings, ticket_id=ticket_id, channel="evaluator",
                               level="satisfied", scores=None).id


def test_a_clerk_sees_only_the_ratings_of_their_own_service(session: Session, day: FixedClock, settings: Settings,
                                                            serve: Serve) -> None:
    mine = _rate(session, day, settings, serve().id)
    on = today(day)
    seen = service.list_ratings(session, viewer=viewer_of(staff(session, "clerk")), date_from=on, date_to=on)
    assert [r.id for r in seen.rows] == [mine]
    other = service.list_ratings(session, viewer=viewer_of(staff(session, "clerk_town")), date_from=on, date_to=on)
    assert other.rows == [] and other.total == 0


def test_a_department_head_sees_their_department_and_admins_see_all(session: Session, day: FixedClock,
                                                                     settings: Settings, serve: Serve) -> None:
    scjg = _rate(session, day, settings, serve(item_code=SOLE_TRADER).id)  # 市场监管局's item
    ybj = _rate(session, day, settings, serve().id)  # 医保局's item
    on = today(day)
    head = service.list_ratings(session, viewer=viewer_of(staff(session, "head_scjg")), date_from=on, date_to=on)
    assert [r.id for r in head.rows] == [scjg]
    everyone = service.list_ratings(session, viewer=viewer_of(staff(session, "supervisor")), date_from=on,
                                    date_to=on)
    assert {scjg, ybj} <= {r.id for r in everyone.rows}
    negative = service.list_ratings(session, viewer=viewer_of(staff(session, "admin")), date_from=on, date_to=on,
                                    negative=True)
    assert negative.rows == []


@pytest.mark.parametrize("username", ["approver_scjg", "experiencer", "zhangwei", "agent"])
def test_other_roles_are_refused_with_403(session: Session, username: str) -> None:
    with pytest.raises(DomainError) as excinfo:
        service.list_ratings(session, viewer=viewer_of(staff(session, username)))
    assert excinfo.value.status == 403
