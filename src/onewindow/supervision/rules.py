"""电子监察 rules (pure): the alert states and their moves, the thresholds, the registry of rules, and the
arithmetic the built-in rules decide by.

A rule is a code, a Chinese label, the settings its thresholds come from, and a finder: a function of
``(session, context)`` that returns the :class:`Finding` s whose cause holds *now*. The sweep
(``supervision.service.sweep``) raises an alert for every finding not yet raised and closes every open alert
whose rule no longer finds it: an alert closes by itself when its cause is gone. The built-in finders live in
``supervision.detectors``; another domain registers its own (a complaint near its limit …) with
:func:`register_rule` from ``onewindow.wiring``.

Nothing here touches the database or HTTP; finders receive the session as an opaque object.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from onewindow.calendar.workdays import WorkCalendar
from onewindow.core.errors import Conflict


class AlertState(StrEnum):
    """Where an alert is in its life."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    SUPERVISED = "supervised"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        """Chinese name shown to people."""
        return STATE_LABELS[self]


STATE_LABELS: dict[AlertState, str] = {
    AlertState.OPEN: "待签收",
    AlertState.ACKNOWLEDGED: "已签收",
    AlertState.SUPERVISED: "督办中",
    AlertState.CLOSED: "已关闭",
}

A = AlertState
TRANSITIONS: dict[AlertState, frozenset[AlertState]] = {
    # the department acknowledges (explains) it, the supervisor puts it under 督办, or its cause goes away
    A.OPEN: frozenset({A.ACKNOWLEDGED, A.SUPERVISED, A.CLOSED}),
    # acknowledged but the cause stays: the supervisor may still put it under 督办
    A.ACKNOWLEDGED: frozenset({A.SUPERVISED, A.CLOSED}),
    # under 督办 until the cause is gone (the department's answer is recorded without leaving the state)
    A.SUPERVISED: frozenset({A.CLOSED}),
    A.CLOSED: frozenset(),
}
LIVE: frozenset[AlertState] = frozenset({A.OPEN, A.ACKNOWLEDGED, A.SUPERVISED})
del A


def check_transition(source: AlertState | str, target: AlertState | str) -> None:
    """Raise 409 ``illegal_alert_transition`` unless the alert may move from ``source`` to ``target``."""
    src, dst = AlertState(source), AlertState(target)
    if dst not in TRANSITIONS[src]:
        raise Conflict(f"预警状态为“{src.label}”，不能改为“{dst.label}”", code="illegal_alert_transition",
                       field="state")


class Level(StrEnum):
    """How serious an alert is (the hall's yellow and red cards)."""

    YELLOW = "yellow"
    RED = "red"

    @property
    def label(self) -> str:
        """Chinese name shown to people."""
        return {Level.YELLOW: "黄色预警", Level.RED: "红色预警"}[self]


@dataclass(frozen=True)
class Thresholds:
    """The local limits of the built-in rules (``ONEWINDOW_SUPERVISION_*`` settings)."""

    step_min_working_days: int = 1
    deferral_warn_working_days: int = 1
    ticket_wait_min: int = 30
    queue_length: int = 15
    window_idle_min: int = 30
    absence_grace_min: int = 15
    order_warn_working_days: int = 1


@dataclass(frozen=True)
class Context:
    """What every finder is given: the instant, the local date, the working calendar and the thresholds."""

    now: dt.datetime
    today: dt.date
    local_time: dt.time
    calendar: WorkCalendar
    thresholds: Thresholds
    hall_department_id: int | None = None  # the department answering for hall alerts (综合窗口)
    memo: dict[Any, Any] = field(default_factory=dict, compare=False)  # finders' per-sweep arithmetic cache


@dataclass(frozen=True)
class Finding:
    """A cause that holds now: the subject, the episode that tells occurrences apart, and the evidence."""

    subject_type: str
    subject_id: int
    department_id: int | None
    title: str
    evidence: Mapping[str, Any]
    episode: str = ""
    level: Level = Level.YELLOW
    link: str = ""


Finder = Callable[[Any, Context], Iterable[Finding]]


@dataclass(frozen=True)
class Rule:
    """One 电子监察 rule: code, label, what it watches, the settings of its thresholds, its finder."""

    code: str
    label: str
    description: str
    finder: Finder = field(compare=False)
    settings: tuple[str, ...] = ()


_REGISTRY: dict[str, Rule] = {}


def register_rule(rule: Rule) -> None:
    """Add a rule (or replace the one of the same code: registering twice is harmless)."""
    if not rule.code or len(rule.code) > 32:
        raise ValueError("a rule code has 1 to 32 characters")
    _REGISTRY[rule.code] = rule


def unregister_rule(code: str) -> None:
    """Remove a rule (a plugin switched off; tests)."""
    _REGISTRY.pop(code, None)


def registered() -> list[Rule]:
    """Every registered rule, in registration order."""
    return list(_REGISTRY.values())


def rule_label(code: str) -> str:
    """The Chinese label of a rule code (the code itself when unknown)."""
    rule = _REGISTRY.get(code)
    return rule.label if rule else code


# ----- the arithmetic of the built-in rules --------------------------------------------------------------


def step_limit(promised_days: int, steps: int, minimum: int) -> int:
    """A review step's own limit in working days: its even share of the promised limit, at least ``minimum``."""
    if steps <= 0:
        return max(minimum, promised_days)
    return max(minimum, math.ceil(promised_days / steps))


_PERIOD = re.compile(r"(\d{1,2})[:：](\d{2})\s*[-–—~至]\s*(\d{1,2})[:：](\d{2})")


def opening_periods(text: str) -> list[tuple[dt.time, dt.time]]:
    """The opening periods of a hall's ``opening_hours`` text (``工作日 9:00-12:00，13:00-17:00``)."""
    periods = []
    for h1, m1, h2, m2 in _PERIOD.findall(text or ""):
        try:
            start, end = dt.time(int(h1), int(m1)), dt.time(int(h2), int(m2))
        except ValueError:
            continue
        if start < end:
            periods.append((start, end))
    return sorted(periods)


def current_period(periods: Iterable[tuple[dt.time, dt.time]], at: dt.time) -> tuple[dt.time, dt.time] | None:
    """The opening period ``at`` falls in, if any."""
    return next(((s, e) for s, e in periods if s <= at < e), None)


def minutes_between(start: dt.time, end: dt.time) -> int:
    """Whole minutes from ``start`` to ``end`` on the same day."""
    return (end.hour * 60 + end.minute) - (start.hour * 60 + start.minute)


def waited_minutes(since: dt.datetime, now: dt.datetime) -> int:
    """Whole minutes from ``since`` to ``now`` (never negative)."""
    return max(0, int((now - since).total_seconds() // 60))
