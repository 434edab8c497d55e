"""Attendance (考勤), pure: a clerk's window shifts (签到 → 签退) against the hall's opening hours.

The queue domain records a shift when a clerk signs into a window and closes it when they sign out; this module
only measures them. For each working day (the holiday calendar decides which) the hall's opening intervals are the
scheduled time; the minutes a shift covers inside them are the attended time. A day is *late* when the first covered
minute comes more than ``grace`` after the opening, *left early* when the last covered minute ends more than
``grace`` before the closing (judged only once the day has closed), *absent* when nothing is covered. Time still to
come (later today, later this month) is not scheduled yet, so a month in progress is measured up to ``now``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from onewindow.core.clock import CHINA_TZ

_RANGE = re.compile(r"(\d{1,2})[:：](\d{2})\s*[-—–~至到]+\s*(\d{1,2})[:：](\d{2})")
DEFAULT_OPENING_HOURS = "9:00-12:00，13:00-17:00"


@dataclass(frozen=True)
class Opening:
    """One opening interval of a day (local time), e.g. 9:00–12:00."""

    start: dt.time
    end: dt.time


@dataclass(frozen=True)
class Shift:
    """One stay at a window: signed in at ``start``, signed out at ``end`` (None: still signed in)."""

    start: dt.datetime
    end: dt.datetime | None


@dataclass(frozen=True)
class DayAttendance:
    """One working day of one clerk."""

    day: dt.date
    scheduled_minutes: float
    covered_minutes: float
    late: bool
    left_early: bool

    @property
    def absent(self) -> bool:
        """Scheduled time passed and not a minute of it covered."""
        return self.scheduled_minutes > 0 and self.covered_minutes <= 0


@dataclass(frozen=True)
class MonthAttendance:
    """A clerk's (or a window's) attendance over the working days of a month, up to now."""

    working_days: int = 0
    present_days: int = 0
    absent_days: int = 0
    late_days: int = 0
    early_days: int = 0
    scheduled_minutes: float = 0.0
    covered_minutes: float = 0.0

    @property
    def rate(self) -> float | None:
        """Covered / scheduled minutes (None when nothing was scheduled yet)."""
        if self.scheduled_minutes <= 0:
            return None
        return min(1.0, self.covered_minutes / self.scheduled_minutes)

    def __add__(self, other: MonthAttendance) -> MonthAttendance:
        return MonthAttendance(self.working_days + other.working_days, self.present_days + other.present_days,
                               self.absent_days + other.absent_days, self.late_days + other.late_days,
                               self.early_days + other.early_days, self.scheduled_minutes + other.scheduled_minutes,
                               self.covered_minutes + other.covered_minutes)

    def as_dict(self) -> dict[str, float | int | None]:
        """The figures, for storage and reports."""
        return {"working_days": self.working_days, "present_days": self.present_days,
                "absent_days": self.absent_days, "late_days": self.late_days, "early_days": self.early_days,
                "scheduled_minutes": round(self.scheduled_minutes, 1),
                "covered_minutes": round(self.covered_minutes, 1),
                "rate": None if self.rate is None else round(self.rate, 4)}


def parse_opening_hours(text: str, default: str = DEFAULT_OPENING_HOURS) -> tuple[Opening, ...]:
    """The intervals named in a hall's free-text opening hours ("工作日 9:00-12:00，13:00-17:00").

    Text that names no interval falls back to ``default``; intervals are sorted and must run forward.
    """
    found = [Opening(dt.time(int(a), int(b)), dt.time(int(c), int(d)))
             for a, b, c, d in _RANGE.findall(text or "")
             if int(a) < 24 and int(c) < 24 and int(b) < 60 and int(d) < 60]
    found = [o for o in found if o.start < o.end]
    if not found:
        if text == default:
            raise ValueError(f"default opening hours name no interval: {default!r}")
        return parse_opening_hours(default, default)
    return tuple(sorted(found, key=lambda o: o.start))


def _at(day: dt.date, t: dt.time) -> dt.datetime:
    return dt.datetime.combine(day, t, tzinfo=CHINA_TZ)


def _minutes(a: dt.datetime, b: dt.datetime) -> float:
    return max(0.0, (b - a).total_seconds() / 60.0)


def day_attendance(day: dt.date, opening: Sequence[Opening], shifts: Iterable[Shift], *, now: dt.datetime,
                   grace_minutes: int = 5) -> DayAttendance:
    """How much of one day's opening hours the shifts covered, and whether the clerk came late or left early."""
    spans = [(s.start, min(s.end or now, now)) for s in shifts]
    scheduled = covered = 0.0
    first: dt.datetime | None = None
    last: dt.datetime | None = None
    for o in opening:
        start, end = _at(day, o.start), min(_at(day, o.end), now)
        if end <= start:
            continue
        scheduled += _minutes(start, end)
        pieces = sorted((max(a, start), min(b, end)) for a, b in spans if a < end and b > start)
        cursor = start
        for a, b in pieces:  # union of the overlapping shifts
            begin = max(a, cursor)
            if b > begin:
                covered += _minutes(begin, b)
                first = begin if first is None else min(first, begin)
                last = b if last is None else max(last, b)
                cursor = b
    grace = dt.timedelta(minutes=grace_minutes)
    late = bool(opening) and first is not None and first > _at(day, opening[0].start) + grace
    closing = _at(day, opening[-1].end) if opening else now
    early = now >= closing and last is not None and last < closing - grace
    return DayAttendance(day, scheduled, covered, late, early)


def month_attendance(days: Iterable[dt.date], opening: Sequence[Opening], shifts: Sequence[Shift], *,
                     now: dt.datetime, grace_minutes: int = 5) -> MonthAttendance:
    """Attendance over the given working days (those not begun by ``now`` are left out)."""
    by_day: dict[dt.date, list[Shift]] = {}
    for s in shifts:
        first = s.start.astimezone(CHINA_TZ).date()
        last = (s.end or now).astimezone(CHINA_TZ).date()
        d = first
        while d <= last:  # a shift left open overnight counts on every day it spans
            by_day.setdefault(d, []).append(s)
            d += dt.timedelta(days=1)
    total = MonthAttendance()
    for day in days:
        if not opening or _at(day, opening[0].start) >= now:
            continue
        a = day_attendance(day, opening, by_day.get(day, ()), now=now, grace_minutes=grace_minutes)
        total += MonthAttendance(1, 0 if a.absent else 1, 1 if a.absent else 0, int(a.late), int(a.left_early),
                                 a.scheduled_minutes, a.covered_minutes)
    return total
