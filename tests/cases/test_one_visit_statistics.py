"""跑动次数 feeds the statistics (一次办结率 and the like, analytics rollup ``finished_visits_1/2/3``): a bundle's
visits are its parent's, so its sub-cases finish with the bundle's count."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onewindow.analytics import rollup
from onewindow.analytics.models import fact
from onewindow.cases import service
from onewindow.cases.kinds import VisitKind
from onewindow.cases.service import ApplicantIn, ApplicationIn
from onewindow.core.clock import CHINA_TZ, FixedClock
from onewindow.staff.models import User
from tests.cases.conftest import FATHER, RULES

ACCEPTED = dt.datetime(2026, 2, 12, 10, 0, tzinfo=CHINA_TZ)


def _finished(session: Session, day: dt.date, item_ids: list[int]) -> tuple[int, int, int]:
    row = session.execute(select(func.sum(fact.c.cases_finished), func.sum(fact.c.finished_visits_1),
                                 func.sum(fact.c.finished_visits_2))
                          .where(fact.c.day == day, fact.c.item_id.in_(item_ids))).one()
    return int(row[0] or 0), int(row[1] or 0), int(row[2] or 0)


def test_sub_cases_finish_with_their_bundles_visits(
        session: Session, user: Callable[[str], User], parents: Callable[..., tuple[User, ApplicantIn]]) -> None:
    clock = FixedClock(ACCEPTED)
    clerk = user("clerk")
    _mother, applicant = parents()
    bundle = service.apply(session, clock=clock, user=clerk, rules_=RULES, online=False, data=ApplicationIn(
        applicant=applicant, bundle_code="YJS-NEWBORN", extra_holders=[FATHER],
        materials={"name:出生医学证明首次签发登记表": "paper"})).case
    decided = [s for s in service.sub_cases(session, bundle.id) if s.decided_on is not None]
    assert decided  # 秒批 sub-cases finished at once
    day = ACCEPTED.date()
    items = [s.item_id for s in decided if s.item_id is not None]
    rollup.recompute_days(session, [day])
    assert service.visit_count(session, decided[0]) == 1  # the bundle's intake
    assert _finished(session, day, items) == (len(decided), len(decided), len(decided))

    service.record_visit(session, clock=clock, user=clerk, case=bundle, kind=VisitKind.CONSULT)
    rollup.recompute_days(session, [day])
    assert service.visit_count(session, decided[0]) == 2
    assert _finished(session, day, items) == (len(decided), 0, len(decided))
