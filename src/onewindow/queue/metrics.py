"""Queue metrics (pure): waiting now, average and p90 wait, average service time, 过号, calls, over-time waits.

Definitions (DESIGN "Metrics" and "Facts: Tickets"):

* wait = ``called_at − issued_at`` (first call) of each ticket called in the period; service time =
  ``done_at − serving_at`` of each ticket done in the period; minutes.
* p90 wait: nearest rank, the ``ceil(0.9 · n)``-th smallest wait.
* waiting now (实时等待人数): tickets in a queued state (waiting, transferred) at ``now``.
* calls (呼叫次数): call events (first calls and 重呼) in the period; missed (过号数): events into
  ``missed`` in the period.
* over-time waits (等待超时数): called tickets whose wait exceeded the hall threshold, plus tickets
  still queued at ``now`` that have already waited longer than it.

A ticket's wait counts for the window and clerk of its first call; its service time for the window
and clerk that finished it; calls and 过号 for the window and clerk of the event.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from onewindow.queue.states import QUEUED_STATES, TicketState

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True, slots=True)
class TicketRecord:
    """What the metrics need of one ticket."""

    category: str
    state: TicketState
    issued_at: dt.datetime
    called_at: dt.datetime | None = None
    serving_at: dt.datetime | None = None
    done_at: dt.datetime | None = None
    first_window: int | None = None  # window and clerk of the first call
    first_clerk: int | None = None
    window: int | None = None  # window and clerk that served it last
    clerk: int | None = None


@dataclass(frozen=True, slots=True)
class EventRecord:
    """A call or 过号 event."""

    to_state: TicketState
    category: str
    at: dt.datetime
    window: int | None = None
    clerk: int | None = None
    recall: bool = False


@dataclass
class Figures:
    """The metric set for one slice (hall, category, window or clerk)."""

    waiting_now: int = 0
    called: int = 0
    done: int = 0
    avg_wait_min: float | None = None
    p90_wait_min: float | None = None
    avg_service_min: float | None = None
    missed: int = 0
    calls: int = 0
    overtime_waits: int = 0
    _waits: list[float] = field(default_factory=list, repr=False)
    _services: list[float] = field(default_factory=list, repr=False)

    def as_dict(self) -> dict[str, float | int | None]:
        """JSON shape (minutes rounded to 0.1)."""
        return {"waiting_now": self.waiting_now, "called": self.called, "done": self.done,
                "avg_wait_min": _round(self.avg_wait_min), "p90_wait_min": _round(self.p90_wait_min),
                "avg_service_min": _round(self.avg_service_min), "missed": self.missed, "calls": self.calls,
                "overtime_waits": self.overtime_waits}

    def _close(self) -> None:
        self.called = len(self._waits)
        self.done = len(self._services)
        self.avg_wait_min = mean(self._waits)
        self.p90_wait_min = percentile(self._waits, 0.9)
        self.avg_service_min = mean(self._services)


@dataclass
class QueueMetrics:
    """Metrics of a hall for a period, sliced by category, window (id) and clerk (user id)."""

    hall: Figures
    by_category: dict[str, Figures]
    by_window: dict[int, Figures]
    by_clerk: dict[int, Figures]


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def mean(values: Sequence[float]) -> float | None:
    """Arithmetic mean, None when empty."""
    return sum(values) / len(values) if values else None


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (``q`` in 0..1), None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q * len(ordered)))
    return ordered[rank - 1]


def _minutes(later: dt.datetime, earlier: dt.datetime) -> float:
    return (later - earlier).total_seconds() / 60


def compute(tickets: Iterable[TicketRecord], events: Iterable[EventRecord], *, now: dt.datetime,
            overtime_min: float, start: dt.datetime, end: dt.datetime) -> QueueMetrics:
    """Metrics over the period ``[start, end)``; ``now`` decides what is still waiting."""
    hall = Figures()
    by_category: dict[str, Figures] = {}
    by_window: dict[int, Figures] = {}
    by_clerk: dict[int, Figures] = {}

    def slices(category: str, window: int | None, clerk: int | None) -> list[Figures]:
        out = [hall, _get(by_category, category)]
        if window is not None:
            out.append(_get(by_window, window))
        if clerk is not None:
            out.append(_get(by_clerk, clerk))
        return out

    for t in tickets:
        if t.state in QUEUED_STATES and t.issued_at <= now:
            for f in slices(t.category, None, None):
                f.waiting_now += 1
                if _minutes(now, t.issued_at) > overtime_min:
                    f.overtime_waits += 1
        if t.called_at is not None and start <= t.called_at < end:
            wait = _minutes(t.called_at, t.issued_at)
            for f in slices(t.category, t.first_window, t.first_clerk):
                f._waits.append(wait)
                if wait > overtime_min:
                    f.overtime_waits += 1
        if (t.state is TicketState.DONE and t.done_at is not None and t.serving_at is not None
                and start <= t.done_at < end):
            service = _minutes(t.done_at, t.serving_at)
            for f in slices(t.category, t.window, t.clerk):
                f._services.append(service)
    for e in events:
        if not start <= e.at < end:
            continue
        for f in slices(e.category, e.window, e.clerk):
            if e.to_state is TicketState.CALLED:
                f.calls += 1
            elif e.to_state is TicketState.MISSED:
                f.missed += 1
    for f in (hall, *by_category.values(), *by_window.values(), *by_clerk.values()):
        f._close()
    return QueueMetrics(hall, dict(sorted(by_category.items())), dict(sorted(by_window.items())),
                        dict(sorted(by_clerk.items())))


def _get(table: dict[K, Figures], key: K) -> Figures:
    figures = table.get(key)
    if figures is None:
        figures = table[key] = Figures()
    return figures
