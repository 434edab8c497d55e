"""Deadline arithmetic of a case (pure): legal and promised due dates, suspensions, extensions,
容缺 deadlines and the yellow/red warning.

Limits count in the item's unit from the day after acceptance (``WorkCalendar.due_date``); suspended
date ranges do not count. A case is ``yellow`` from the working day before its due date through the
due date itself (one working day left), ``red`` once the due date has passed, unless it is decided.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from onewindow.calendar.workdays import DueDate, Suspension, TimeUnit, WorkCalendar


class DeadlineWarning(StrEnum):
    """How close a case is to its deadline."""

    NONE = "none"
    YELLOW = "yellow"
    RED = "red"


@dataclass(frozen=True)
class Limits:
    """The limits a case was accepted under (copied from its item version)."""

    legal_days: int
    promised_days: int
    unit: TimeUnit = TimeUnit.WORKING_DAY


@dataclass(frozen=True)
class Deadlines:
    """Both due dates of a case; ``provisional`` when either rests on a provisional calendar."""

    legal: DueDate
    promised: DueDate

    @property
    def provisional(self) -> bool:
        """True when a date may move once the official holiday notice is loaded."""
        return self.legal.provisional or self.promised.provisional


def compute(calendar: WorkCalendar, *, accepted_on: dt.date, limits: Limits,
            suspensions: Sequence[Suspension] = (), extension_days: int = 0) -> Deadlines:
    """Legal and promised due dates; an approved extension adds working days to the legal limit."""
    if extension_days < 0:
        raise ValueError("extension_days must not be negative")
    legal = calendar.due_date(accepted_on, limits.legal_days + extension_days, limits.unit, suspensions)
    promised = calendar.due_date(accepted_on, limits.promised_days, limits.unit, suspensions)
    return Deadlines(legal=legal, promised=promised)


def deferral_due(calendar: WorkCalendar, *, accepted_on: dt.date, working_days: int,
                 promised: DueDate) -> DueDate:
    """When deferred (容缺) materials must be in: N working days, never past the promised due date."""
    due = calendar.add_working_days(accepted_on, working_days)
    return promised if due.date > promised.date else due


def warning(calendar: WorkCalendar, *, today: dt.date, due: dt.date,
            suspensions: Sequence[Suspension] = ()) -> DeadlineWarning:
    """``red`` after the due date, ``yellow`` when at most one working day is left, else ``none``."""
    if today > due:
        return DeadlineWarning.RED
    if calendar.working_days_between(today, due, suspensions) <= 1:
        return DeadlineWarning.YELLOW
    return DeadlineWarning.NONE
