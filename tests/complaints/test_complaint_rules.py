"""Complaint limits and due dates, hand-computed on the 2026 calendar (National Day, make-up Saturday)."""

from __future__ import annotations

import datetime as dt

import pytest

from onewindow.calendar.workdays import WorkCalendar
from onewindow.complaints import rules
from onewindow.complaints.states import (
    Category,
    ComplaintState,
    Verdict,
    after_callback,
    allowed_targets,
    check_transition,
)
from onewindow.core.clock import CHINA_TZ
from onewindow.core.errors import Conflict

CAL = WorkCalendar()
LIMITS = rules.Limits()


def at(y: int, m: int, d: int, h: int = 10) -> dt.datetime:
    return dt.datetime(y, m, d, h, tzinfo=CHINA_TZ)


def test_a_complaint_gets_fifteen_working_days_across_national_day_and_the_make_up_saturday() -> None:
    # accepted Mon 28 Sep: 29, 30 Sep (2); 1–7 Oct off; 8, 9 Oct (4); Sat 10 Oct make-up (5);
    # 12–16 Oct (10); 19–23 Oct (15)
    due = rules.due(CAL, accepted_at=at(2026, 9, 28), category=Category.COMPLAIN, urgent=False, limits=LIMITS)
    assert due.on == dt.date(2026, 10, 23)
    assert due.at == dt.datetime(2026, 10, 23, 23, 59, 59, tzinfo=CHINA_TZ)
    assert due.limit_days == 15 and not due.provisional


def test_a_consultation_gets_two_working_days_and_urgent_ends_the_same_day() -> None:
    consult = rules.due(CAL, accepted_at=at(2026, 9, 30), category="consult", urgent=False, limits=LIMITS)
    assert consult.on == dt.date(2026, 10, 9)  # 1–7 Oct off: Thu 8 and Fri 9 Oct
    urgent = rules.due(CAL, accepted_at=at(2026, 10, 3), category="complain", urgent=True, limits=LIMITS)
    assert urgent.on == dt.date(2026, 10, 3) and urgent.limit_days == 0
    hours = rules.due(CAL, accepted_at=at(2026, 10, 3, 20), category="help", urgent=True,
                      limits=rules.Limits(urgent_hours=6))
    assert hours.at == at(2026, 10, 4, 2) and hours.on == dt.date(2026, 10, 4)


def test_limits_per_category_follow_the_settings() -> None:
    limits = rules.Limits(consult_days=1, report_days=20)
    assert [limits.days(c) for c in Category] == [1, 10, 10, 15, 20]


def test_colours_and_overdue() -> None:
    due_at = at(2026, 10, 9, 23)
    assert rules.colour(due_at, at(2026, 10, 7)) == "green"
    assert rules.colour(due_at, at(2026, 10, 9, 1)) == "orange"
    assert rules.colour(due_at, at(2026, 10, 10)) == "red"
    assert rules.is_overdue(due_at, at(2026, 10, 10)) and not rules.is_overdue(due_at, due_at)


def test_numbers_and_tracking_codes() -> None:
    assert rules.format_number(dt.date(2026, 12, 4), 7) == "YS202612040007"
    code = rules.new_tracking_code()
    assert len(code) == 10 and set(code) <= set(rules.TRACKING_ALPHABET)
    assert rules.normalise_tracking_code(" ab-cd 23 ") == "ABCD23"


def test_the_transition_table() -> None:
    s = ComplaintState
    assert check_transition(s.ACCEPTED, s.DISPATCHED) is s.DISPATCHED
    assert s.DISPATCHED in allowed_targets(s.RETURNED) and s.HANDLING in allowed_targets(s.RETURNED)
    assert after_callback(s.REPLIED, Verdict.UNSATISFIED) is s.HANDLING
    assert after_callback(s.REPLIED, Verdict.BASIC) is s.CLOSED
    with pytest.raises(Conflict) as err:
        check_transition(s.ACCEPTED, s.CLOSED)
    assert err.value.status == 409
    with pytest.raises(Conflict):
        after_callback(s.HANDLING, Verdict.SATISFIED)
    for final in (s.CLOSED, s.MERGED):
        assert allowed_targets(final) == frozenset()
