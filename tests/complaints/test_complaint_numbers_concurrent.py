"""Citizens file at the same moment (separate sessions and threads, committed database): every order gets its own
number of the day, in sequence, and nothing is lost. On PostgreSQL the loser of a number hits the unique
constraint inside a savepoint and takes the next one."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import select

from onewindow import db
from onewindow.complaints import service
from onewindow.complaints.models import Complaint
from onewindow.core.clock import FixedClock
from tests.complaints.support import complaint_in
from tests.conftest import START, DatabaseFactory

CALLERS = 4


def test_concurrent_filings_get_distinct_numbers_in_sequence(databases: DatabaseFactory) -> None:
    factory = db.make_session_factory(databases.new_engine("complaint_numbers"))
    barrier = threading.Barrier(CALLERS)

    def file_one(i: int) -> str:
        barrier.wait()
        with db.transaction(factory) as s:
            c = service.file_complaint(s, clock=FixedClock(START), channel="online",
                                       data=complaint_in(subject=f"同时提交{i}", anonymous=True))
            return c.number

    with ThreadPoolExecutor(CALLERS) as pool:
        numbers = list(pool.map(file_one, range(CALLERS)))

    assert sorted(numbers) == [f"YS20261123{n:04d}" for n in range(1, CALLERS + 1)]
    with factory() as s:
        assert sorted(s.scalars(select(Complaint.number))) == sorted(numbers)
