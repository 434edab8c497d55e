"""Attendance from window shifts against the hall's opening hours (pure; no database)."""

from __future__ import annotations

import datetime as dt

from onewindow.core.clock import CHINA_TZ
from onewindow.staff.attendance import Opening, Shift, day_attendance, month_attendance, parse_opening_hours

DAY = dt.date(2026, 11, 23)
HOURS = parse_opening_hours("工作日 9:00-12:00，13:00-17:00")


def t(hour: int, minute: int = 0, day: dt.date = DAY) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=CHINA_TZ)


def test_opening_hours_are_read_from_the_halls_text_and_fall_back_to_the_default() -> None:
    assert (Opening(dt.time(9), dt.time(12)), Opening(dt.time(13), dt.time(17))) == HOURS
    assert parse_opening_hours("周一至周五 8:30—11:30 14:30—17:30") == (
        Opening(dt.time(8, 30), dt.time(11, 30)), Opening(dt.time(14, 30), dt.time(17, 30)))
    assert parse_opening_hours("") == HOURS
    assert parse_opening_hours("全天", "8:00-16:00") == (Opening(dt.time(8), dt.time(16)),)


def test_a_full_day_covers_every_opening_minute() -> None:
    a = day_attendance(DAY, HOURS, [Shift(t(8, 50), t(17, 5))], now=t(20))
    assert (a.scheduled_minutes, a.covered_minutes, a.late, a.left_early, a.absent) == (420, 420, False, False, False)


def test_late_arrival_early_leave_and_overlapping_shifts_are_counted_once() -> None:
    shifts = [Shift(t(9, 30), t(11)), Shift(t(10, 30), t(12, 30)), Shift(t(13), t(16))]
    a = day_attendance(DAY, HOURS, shifts, now=t(20), grace_minutes=5)
    assert a.covered_minutes == 150 + 180  # 9:30–12:00 once, 13:00–16:00
    assert a.late and a.left_early
    within_grace = day_attendance(DAY, HOURS, [Shift(t(9, 4), t(16, 56))], now=t(20), grace_minutes=5)
    assert not within_grace.late and not within_grace.left_early


def test_a_day_in_progress_counts_up_to_now_and_an_open_shift_runs_to_now() -> None:
    a = day_attendance(DAY, HOURS, [Shift(t(9), None)], now=t(10, 30))
    assert (a.scheduled_minutes, a.covered_minutes, a.left_early) == (90, 90, False)


def test_a_month_counts_working_days_absences_and_skips_days_not_begun() -> None:
    days = [DAY + dt.timedelta(days=i) for i in range(3)]  # Mon, Tue, Wed
    shifts = [Shift(t(9), t(17)), Shift(t(9, 30, days[1]), t(17, 0, days[1]))]
    m = month_attendance(days, HOURS, shifts, now=t(8, 0, days[2]))  # Wednesday has not begun
    assert (m.working_days, m.present_days, m.absent_days, m.late_days) == (2, 2, 0, 1)
    assert m.rate == (420 + 390) / 840
    m2 = month_attendance(days, HOURS, shifts[:1], now=t(20, 0, days[2]))
    assert (m2.working_days, m2.absent_days) == (3, 2)
    assert m2.rate == 420 / 1260
