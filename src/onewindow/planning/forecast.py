"""Arrival forecast (pure): tickets per hall category and hour for a day, from the ticket history.

* **Day types** from the working-day calendar: a normal working day; a make-up working day on a
  weekend (调休上班); the first working day after three or more days off (节后高峰); a closed day.
* **Model**: the mean of the last ``weeks`` normal days of the same weekday, cell by cell (hour ×
  category). A make-up day takes the mean of recent normal days of any weekday (it has no weekday
  of its own). A day of a special type is scaled by the factor that type showed in the history
  (actual over the model's plain forecast on past days of that type), or a default when the
  history holds none (``DEFAULT_FACTORS``).
* **Bookings already made** are a floor: a cell is never forecast below its booked tickets.
* **Measured** on held-out weeks (each day forecast from the history before it only) by WAPE
  (Σ|actual − forecast| / Σ actual over all cells) beside the naive baseline, the same weekday of
  the week before.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

Cell = tuple[str, str]  # (hour "09", category code)
Counts = Mapping[Cell, float]
IsWorkday = Callable[[dt.date], bool]


class DayType(StrEnum):
    """What kind of day a date is for the hall."""

    NORMAL = "normal"
    MAKEUP = "makeup"  # 调休上班: a weekend working day
    AFTER_HOLIDAY = "after_holiday"  # the first working day after 3+ days off
    CLOSED = "closed"

    @property
    def label(self) -> str:
        """Chinese name shown to people."""
        return {DayType.NORMAL: "工作日", DayType.MAKEUP: "调休上班", DayType.AFTER_HOLIDAY: "节后首日",
                DayType.CLOSED: "休息日"}[self]


DEFAULT_FACTORS: dict[DayType, float] = {DayType.AFTER_HOLIDAY: 1.4, DayType.MAKEUP: 1.0}
LONG_BREAK_DAYS = 3


def day_type(day: dt.date, is_workday: IsWorkday) -> DayType:
    """The type of ``day`` by the calendar."""
    if not is_workday(day):
        return DayType.CLOSED
    off = 0
    before = day - dt.timedelta(days=1)
    while not is_workday(before) and off < 30:
        off += 1
        before -= dt.timedelta(days=1)
    if off >= LONG_BREAK_DAYS:
        return DayType.AFTER_HOLIDAY
    if day.weekday() >= 5:
        return DayType.MAKEUP
    return DayType.NORMAL


def _mean(days: Sequence[Counts]) -> dict[Cell, float]:
    cells: dict[Cell, float] = {}
    for counts in days:
        for cell, n in counts.items():
            cells[cell] = cells.get(cell, 0.0) + n
    return {cell: n / len(days) for cell, n in cells.items()} if days else {}


def _plain(day: dt.date, history: Mapping[dt.date, Counts], is_workday: IsWorkday, weeks: int) -> dict[Cell, float]:
    past = sorted((d for d in history if d < day), reverse=True)
    normal = [d for d in past if day_type(d, is_workday) is DayType.NORMAL]
    same = [d for d in normal if d.weekday() == day.weekday()][:weeks]
    if day.weekday() >= 5 or not same:
        same = normal[: weeks * 5]
    return _mean([history[d] for d in same])


def type_factor(kind: DayType, before: dt.date, history: Mapping[dt.date, Counts], is_workday: IsWorkday,
                weeks: int) -> float:
    """How much busier days of ``kind`` were than the plain forecast, in the history before ``before``."""
    actual = expected = 0.0
    for d in history:
        if d < before and day_type(d, is_workday) is kind:
            plain = _plain(d, history, is_workday, weeks)
            if plain:
                actual += sum(history[d].values())
                expected += sum(plain.values())
    if expected <= 0:
        return DEFAULT_FACTORS.get(kind, 1.0)
    return actual / expected


def forecast_day(day: dt.date, history: Mapping[dt.date, Counts], is_workday: IsWorkday, *, weeks: int = 4,
                 bookings: Counts | None = None) -> dict[Cell, float]:
    """Expected tickets per (hour, category) on ``day`` from the history before it (and bookings made)."""
    kind = day_type(day, is_workday)
    if kind is DayType.CLOSED:
        return {}
    plain = _plain(day, history, is_workday, weeks)
    factor = 1.0 if kind is DayType.NORMAL else type_factor(kind, day, history, is_workday, weeks)
    out = {cell: n * factor for cell, n in plain.items()}
    for cell, booked in (bookings or {}).items():
        out[cell] = max(out.get(cell, 0.0), float(booked))
    return out


def naive_forecast(day: dt.date, history: Mapping[dt.date, Counts]) -> dict[Cell, float]:
    """The naive baseline: the same weekday a week before (or the latest open one within five weeks)."""
    for weeks in range(1, 6):
        earlier = day - dt.timedelta(days=7 * weeks)
        if earlier in history:
            return dict(history[earlier])
    return {}


def wape(actual: Sequence[Counts], forecast: Sequence[Counts]) -> float:
    """Weighted absolute percentage error: Σ|actual − forecast| / Σ actual over every cell of every day."""
    error = total = 0.0
    for a, f in zip(actual, forecast, strict=True):
        for cell in set(a) | set(f):
            error += abs(a.get(cell, 0.0) - f.get(cell, 0.0))
        total += sum(a.values())
    return error / total if total else math.nan


@dataclass(frozen=True, slots=True)
class Backtest:
    """The forecast and the naive baseline on held-out days."""

    days: int
    tickets: float
    wape: float
    naive_wape: float
    by_type: dict[str, tuple[int, float, float]]  # day type → (days, wape, naive wape)


def backtest(history: Mapping[dt.date, Counts], is_workday: IsWorkday, *, held_out_weeks: int,
             weeks: int = 4) -> Backtest:
    """Forecast each open day of the last ``held_out_weeks`` weeks from the history before it; WAPE of both."""
    last = max(history)
    first = last - dt.timedelta(days=7 * held_out_weeks - 1)
    days = sorted(d for d in history if d >= first)
    actual = [history[d] for d in days]
    model = [forecast_day(d, history, is_workday, weeks=weeks) for d in days]
    naive = [naive_forecast(d, history) for d in days]
    by_type: dict[str, tuple[int, float, float]] = {}
    for kind in DayType:
        idx = [i for i, d in enumerate(days) if day_type(d, is_workday) is kind]
        if idx:
            by_type[kind.value] = (len(idx), wape([actual[i] for i in idx], [model[i] for i in idx]),
                                   wape([actual[i] for i in idx], [naive[i] for i in idx]))
    return Backtest(days=len(days), tickets=sum(sum(a.values()) for a in actual), wape=wape(actual, model),
                    naive_wape=wape(actual, naive), by_type=by_type)


def synthetic_history(hours: Sequence[str], expected: Mapping[int, Counts], start: dt.date, end: dt.date,
                      is_workday: IsWorkday, *, seed: int,
                      type_factors: Mapping[DayType, float] | None = None) -> dict[dt.date, dict[Cell, float]]:
    """Poisson ticket counts for every open day in [start, end]: ``expected`` per weekday (a make-up day
    like an average weekday), × the day type's factor (节后高峰 1.5 and 调休 0.9 unless given)."""
    factors = {DayType.AFTER_HOLIDAY: 1.5, DayType.MAKEUP: 0.9, **(type_factors or {})}
    rng = np.random.default_rng(seed)
    average = _mean(list(expected.values()))
    out: dict[dt.date, dict[Cell, float]] = {}
    day = start
    while day <= end:
        kind = day_type(day, is_workday)
        if kind is not DayType.CLOSED:
            base = expected.get(day.weekday(), average) if day.weekday() < 5 else average
            scale = factors.get(kind, 1.0)
            out[day] = {cell: float(rng.poisson(n * scale)) for cell, n in sorted(base.items())
                        if cell[0] in hours}
        day += dt.timedelta(days=1)
    return out
