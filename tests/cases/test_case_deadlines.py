"""Case deadlines on the real 2026 calendar: Spring Festival, make-up Saturdays, suspensions, warnings."""

from __future__ import annotations

import datetime as dt

from onewindow.calendar.workdays import TimeUnit, WorkCalendar
from onewindow.cases.deadlines import DeadlineWarning, Limits, compute, deferral_due, warning

CAL = WorkCalendar()
D = dt.date


def test_promised_limit_spans_the_spring_festival() -> None:
    # Accepted Thu 2026-02-12. Working days after it: Fri 2/13 (1), Sat 2/14 make-up (2), the holiday
    # 2/15–2/23, then Tue 2/24 (3), Wed 2/25 (4), Thu 2/26 (5) → due Thu 2026-02-26.
    d = compute(CAL, accepted_on=D(2026, 2, 12), limits=Limits(legal_days=20, promised_days=5))
    assert d.promised.date == D(2026, 2, 26)
    assert not d.provisional


def test_legal_limit_counts_the_make_up_saturday() -> None:
    # 20 working days after Thu 2026-02-12: 2/13 (1), 2/14 Sat make-up (2), 2/24–2/27 (3–6),
    # 2/28 Sat make-up (7), 3/2–3/6 (8–12), 3/9–3/13 (13–17), 3/16 (18), 3/17 (19), 3/18 (20).
    d = compute(CAL, accepted_on=D(2026, 2, 12), limits=Limits(legal_days=20, promised_days=5))
    assert d.legal.date == D(2026, 3, 18)


def test_suspension_pushes_both_dates() -> None:
    base = compute(CAL, accepted_on=D(2026, 6, 1), limits=Limits(10, 5))
    paused = compute(CAL, accepted_on=D(2026, 6, 1), limits=Limits(10, 5),
                     suspensions=[(D(2026, 6, 3), D(2026, 6, 5))])  # Wed–Fri: three working days
    assert CAL.working_days_between(base.promised.date, paused.promised.date) == 3
    assert CAL.working_days_between(base.legal.date, paused.legal.date) == 3


def test_extension_adds_to_the_legal_limit_only() -> None:
    base = compute(CAL, accepted_on=D(2026, 6, 1), limits=Limits(20, 5))
    ext = compute(CAL, accepted_on=D(2026, 6, 1), limits=Limits(20, 5), extension_days=10)
    assert ext.promised == base.promised
    assert CAL.working_days_between(base.legal.date, ext.legal.date) == 10


def test_natural_day_limit_moves_off_a_weekend() -> None:
    # 30 calendar days after Mon 2026-06-01 is Wed 2026-07-01 (a working day).
    d = compute(CAL, accepted_on=D(2026, 6, 1), limits=Limits(30, 15, TimeUnit.NATURAL_DAY))
    assert d.legal.date == D(2026, 7, 1)
    # 15 calendar days is Tue 2026-06-16.
    assert d.promised.date == D(2026, 6, 16)


def test_december_acceptance_is_provisional() -> None:
    d = compute(CAL, accepted_on=D(2026, 12, 25), limits=Limits(20, 10))
    assert d.legal.date.year == 2027
    assert d.provisional


def test_deferral_never_passes_the_promised_date() -> None:
    d = compute(CAL, accepted_on=D(2026, 6, 1), limits=Limits(20, 3))
    due = deferral_due(CAL, accepted_on=D(2026, 6, 1), working_days=10, promised=d.promised)
    assert due == d.promised
    short = deferral_due(CAL, accepted_on=D(2026, 6, 1), working_days=2, promised=d.promised)
    assert short.date == D(2026, 6, 3)


def test_warning_levels() -> None:
    due = D(2026, 6, 10)  # Wednesday
    assert warning(CAL, today=D(2026, 6, 5), due=due) is DeadlineWarning.NONE
    assert warning(CAL, today=D(2026, 6, 9), due=due) is DeadlineWarning.YELLOW   # eve: one working day left
    assert warning(CAL, today=due, due=due) is DeadlineWarning.YELLOW
    assert warning(CAL, today=D(2026, 6, 11), due=due) is DeadlineWarning.RED
    # Friday before a Monday due date: one working day left
    assert warning(CAL, today=D(2026, 6, 12), due=D(2026, 6, 15)) is DeadlineWarning.YELLOW
