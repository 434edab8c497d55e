"""Injectable clock: everything that reads the time takes one, so tests and the simulator control it."""

from __future__ import annotations

import datetime as dt
from typing import Protocol

CHINA_TZ = dt.timezone(dt.timedelta(hours=8), name="Asia/Shanghai")


class Clock(Protocol):
    """Something that tells the current aware time."""

    def now(self) -> dt.datetime:
        """The current time, timezone-aware."""
        ...


class SystemClock:
    """The real wall clock, in China Standard Time."""

    def now(self) -> dt.datetime:
        """The current time in UTC+8."""
        return dt.datetime.now(CHINA_TZ)


class FixedClock:
    """A clock that stands still until moved; for tests and the simulator."""

    def __init__(self, at: dt.datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self._at = at

    def now(self) -> dt.datetime:
        """The frozen time."""
        return self._at

    def advance(self, delta: dt.timedelta) -> None:
        """Move the clock forward."""
        self._at += delta

    def set(self, at: dt.datetime) -> None:
        """Jump to a given aware time."""
        if at.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self._at = at


def today(clock: Clock) -> dt.date:
    """The local (China) calendar date of the clock."""
    return clock.now().astimezone(CHINA_TZ).date()
