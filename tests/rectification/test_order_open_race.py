"""Two callers open the order of the same source at the same moment (two sessions, two threads, committed
database): exactly one order exists afterwards and both callers get it. Runs on SQLite and on PostgreSQL
(``ONEWINDOW_TEST_BACKEND=postgres``), where the loser's insert hits the unique constraint inside a savepoint."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import func, select

from onewindow import db
from onewindow.catalog.models import Department
from onewindow.core.clock import FixedClock
from onewindow.rectification import service
from onewindow.rectification.models import RectificationOrder
from onewindow.rectification.states import SourceKind
from tests.conftest import START, DatabaseFactory
from tests.rectification.support import RAISER, SYSTEM

CALLERS = 2


@pytest.mark.parametrize("both_looked_first", [False, True], ids=["free-race", "both-miss-the-first-lookup"])
def test_concurrent_opening_of_one_source_gives_one_order(databases: DatabaseFactory, monkeypatch: pytest.MonkeyPatch,
                                                          both_looked_first: bool) -> None:
    engine = databases.new_engine("race")
    factory = db.make_session_factory(engine)
    with db.transaction(factory) as s:
        dept = Department(code="RACE", name="竞态测试局", short_name="竞态")
        s.add(dept)
        s.flush()
        dept_id = dept.id
    barrier = threading.Barrier(CALLERS)
    if both_looked_first:
        # each caller's first lookup finds nothing, as when both looked before either inserted: the loser's
        # insert then hits the unique constraint and must answer with the winner's order from its savepoint
        real, seen = service.order_for, threading.local()

        def first_lookup_misses(*args: Any) -> Any:
            if not getattr(seen, "looked", False):
                seen.looked = True
                return None
            return real(*args)

        monkeypatch.setattr(service, "order_for", first_lookup_misses)

    def open_one(_: int) -> tuple[int, str]:
        barrier.wait()
        with db.transaction(factory) as s:
            order = service.open_order(s, clock=FixedClock(START), actor=SYSTEM, source_kind=SourceKind.EXPERIENCE,
                                       source_id=7, department_id=dept_id, title="同一来源", detail="", raiser=RAISER,
                                       rules=service.RectificationRules())
            return order.id, order.number

    with ThreadPoolExecutor(CALLERS) as pool:
        answers = list(pool.map(open_one, range(CALLERS)))

    assert len(set(answers)) == 1, answers
    with factory() as s:
        assert s.scalar(select(func.count()).select_from(RectificationOrder)) == 1
