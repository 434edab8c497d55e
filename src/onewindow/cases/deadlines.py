"""Deadline arithmetic of a case (pure): every date of a case and its warning, in one function.

:func:`schedule` is the public API: from the limits the case was accepted under (copied from the
item's procedure, ``catalog/procedure.py``), its acceptance date, suspensions, extension, 容缺 and
its state, it answers the legal, promised and 容缺 due dates, whether they are provisional, the
yellow/red warning and the remaining time as people read it. Every page, API, sweep and PDF shows
or stores its answer (STYLE.md habit 11); nothing else computes a due date or a warning.

Limits count in the item's unit from the day after acceptance (``WorkCalendar.due_date``); suspended
date ranges do not count. A running case is ``yellow`` from the working day before its due date
through the due date itself (one working day left), ``red`` once the due date has passed; a
suspended, closed or not yet accepted case never warns. ``compute``, ``deferral_due`` and
``warning`` are the building blocks :func:`schedule` is made of.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from onewindow.calendar.workdays import DueDate, Suspension, TimeUnit, WorkCalendar
from onewindow.cases.states import CLOCK_RUNNING, DECIDED, CaseState


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


# ----- one answer for every date of a case -------------------------------------------------------------


class RemainingStatus(StrEnum):
    """What the remaining-time text of a case says."""

    NOT_STARTED = "not_started"  # not accepted (yet): no clock
    RUNNING = "running"  # 剩 N 个工作日
    DUE_TODAY = "due_today"  # 今天到期
    OVERDUE = "overdue"  # 已超期 N 个工作日
    PAUSED = "paused"  # 暂停计时 (特别程序)
    ON_TIME = "on_time"  # 按期办结: decided by the promised date
    LATE = "late"  # 超期 N 个工作日办结
    ENDED = "ended"  # closed without a decision: 已撤回 / 已终止 / 不予受理 / 已归档


@dataclass(frozen=True)
class Remaining:
    """The remaining time as people read it; ``days`` is the working-day count the text names."""

    status: RemainingStatus
    text: str
    days: int | None = None


@dataclass(frozen=True)
class Schedule:
    """Every date of a case and its warning; what a case stores and every page shows."""

    legal_due: dt.date | None
    promised_due: dt.date | None
    deferral_due: dt.date | None
    provisional: bool
    warning: DeadlineWarning
    remaining: Remaining


_ENDED_TEXT = {CaseState.WITHDRAWN: "已撤回", CaseState.TERMINATED: "已终止", CaseState.REFUSED: "不予受理",
               CaseState.ARCHIVED: "已归档"}


def _remaining_open(calendar: WorkCalendar, today: dt.date, promised: dt.date) -> tuple[Remaining, DeadlineWarning]:
    if today > promised:
        over = calendar.working_days_between(promised, today)
        # the due date passed on a rest day: overdue, though no working day has been lost yet
        text = f"已超期 {over} 个工作日" if over else "已超期"
        return Remaining(RemainingStatus.OVERDUE, text, over), DeadlineWarning.RED
    if today == promised:
        return Remaining(RemainingStatus.DUE_TODAY, "今天到期", 0), DeadlineWarning.YELLOW
    left = calendar.working_days_between(today, promised)
    level = DeadlineWarning.YELLOW if left <= 1 else DeadlineWarning.NONE
    return Remaining(RemainingStatus.RUNNING, f"剩 {left} 个工作日", left), level


def _remaining_closed(calendar: WorkCalendar, state: CaseState, promised: dt.date | None,
                      finished: dt.date | None) -> Remaining:
    if state in DECIDED and finished is not None and promised is not None:
        if finished <= promised:
            return Remaining(RemainingStatus.ON_TIME, "按期办结", 0)
        late = calendar.working_days_between(promised, finished)
        return Remaining(RemainingStatus.LATE, f"超期 {late} 个工作日办结" if late else "超期办结", late)
    if state in DECIDED and finished is not None:  # decided with no promise (never accepted: data repair)
        return Remaining(RemainingStatus.ON_TIME, "已办结", None)
    return Remaining(RemainingStatus.ENDED, _ENDED_TEXT.get(state, "已办结"), None)


def schedule(calendar: WorkCalendar, *, limits: Limits, state: CaseState | str, today: dt.date,
             accepted_on: dt.date | None, suspensions: Sequence[Suspension] = (), extension_days: int = 0,
             deferred: bool = False, deferral_days: int = 0, parent_promised_due: dt.date | None = None,
             decided_on: dt.date | None = None) -> Schedule:
    """Every date of a case and its warning, for any state, on ``today``.

    * ``limits``: the legal and promised limits and their unit the case was accepted under.
    * ``suspensions``: inclusive ranges that do not count (a running suspension up to ``today``).
    * ``extension_days``: approved extensions; they move the legal date only.
    * ``deferred`` / ``deferral_days``: 容缺受理 and its N working days; the 容缺 date never passes
      the promised date the case had at acceptance (bundle cap included).
    * ``parent_promised_due``: a sub-case's bundle promise; the sub-case's promised date never
      passes it unless the sub-case's own clock was stopped (a suspension or an extension).
    * ``decided_on``: for a decided case the answer is how it ended (按期 / 超期办结), not today; a case
      closed without a decision (withdrawn, terminated, refused, archived undecided) has no time left.
    """
    state = CaseState(state)
    if accepted_on is None:
        status_text = _ENDED_TEXT.get(state) if state not in (CaseState.SUBMITTED, CaseState.CORRECTION_REQUESTED) \
            else None
        remaining = (Remaining(RemainingStatus.ENDED, status_text) if status_text
                     else Remaining(RemainingStatus.NOT_STARTED, "未开始计时"))
        return Schedule(None, None, None, False, DeadlineWarning.NONE, remaining)
    dates = compute(calendar, accepted_on=accepted_on, limits=limits, suspensions=suspensions,
                    extension_days=extension_days)
    promised = dates.promised.date
    own_pause = bool(extension_days) or bool(suspensions)
    if parent_promised_due is not None and not own_pause and promised > parent_promised_due:
        promised = parent_promised_due  # a sub-case never runs past its bundle's promise
    deferral: dt.date | None = None
    if deferred:
        at_acceptance = calendar.due_date(accepted_on, limits.promised_days, limits.unit).date
        if parent_promised_due is not None and at_acceptance > parent_promised_due:
            at_acceptance = parent_promised_due
        deferral = min(calendar.add_working_days(accepted_on, deferral_days).date, at_acceptance)
    if state in CLOCK_RUNNING:
        remaining, level = _remaining_open(calendar, today, promised)
    elif state is CaseState.SUSPENDED:
        remaining, level = Remaining(RemainingStatus.PAUSED, "暂停计时"), DeadlineWarning.NONE
    else:
        remaining, level = _remaining_closed(calendar, state, promised, decided_on), DeadlineWarning.NONE
    return Schedule(legal_due=dates.legal.date, promised_due=promised, deferral_due=deferral,
                    provisional=dates.provisional, warning=level, remaining=remaining)
