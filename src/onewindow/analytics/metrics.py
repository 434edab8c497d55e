"""The indicators (指标), each defined once: code, Chinese name, formula, unit, direction and minimum sample,
computed from rollup sums (pure).

DESIGN.md ("Metrics") gives the definitions. A rate below its minimum sample is not shown as a figure
(``Figure.value`` is None, ``Figure.enough`` False) so that a department with three cases does not top the
league with 100%; the sums still are. The catalog indicators (即办件占比, 零跑动事项占比, 网上可办率 …) are
counted over the catalog, not the rollups, and are defined in ``catalog`` — the open data page shows both.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from onewindow.analytics.rules import COUNTERS, quantile_from_buckets


class Direction(StrEnum):
    """Which way is better."""

    HIGHER = "higher"
    LOWER = "lower"
    NEUTRAL = "neutral"


class Unit(StrEnum):
    """How a figure is shown."""

    PERCENT = "%"
    MINUTES = "分钟"
    COUNT = "件"


@dataclass(frozen=True)
class Metric:
    """One indicator: ``numerator`` / ``denominator`` (counter names) for a rate or an average; a count
    has no denominator. ``scale`` turns the ratio into the unit (100 for a percentage, 1/60 for seconds
    shown in minutes)."""

    code: str
    name: str
    formula: str
    unit: Unit
    direction: Direction
    numerator: str
    denominator: str | None = None
    min_sample: int = 0
    scale: float = 1.0


@dataclass(frozen=True)
class Figure:
    """A metric's value over some sums. ``value`` None: no sample, or below the minimum sample."""

    code: str
    name: str
    unit: str
    direction: str
    value: float | None
    numerator: int
    denominator: int | None
    enough: bool


P = Unit.PERCENT
H = Direction.HIGHER
L = Direction.LOWER
N = Direction.NEUTRAL

METRICS: tuple[Metric, ...] = (
    Metric("tickets", "取号量", "当日取号数", Unit.COUNT, N, "tickets"),
    Metric("avg_wait", "平均等待时长", "Σ(首次叫号时间 − 取号时间) / 已叫号数", Unit.MINUTES, L,
           "wait_seconds", "waited", min_sample=1, scale=1 / 60),
    Metric("avg_service", "平均办理时长", "Σ(办结时间 − 开始办理时间) / 办结数", Unit.MINUTES, L,
           "service_seconds", "served", min_sample=1, scale=1 / 60),
    Metric("cases_accepted", "受理量", "受理日期在区间内的办件数", Unit.COUNT, N, "cases_accepted"),
    Metric("cases_finished", "办结量", "办结（作出决定）日期在区间内的办件数", Unit.COUNT, N, "cases_finished"),
    Metric("one_visit_rate", "一次办结率", "跑动 ≤ 1 次的办结件 / 办结件", P, H,
           "finished_visits_1", "cases_finished", min_sample=5, scale=100),
    Metric("two_visit_rate", "两次内办结率", "跑动 ≤ 2 次的办结件 / 办结件", P, H,
           "finished_visits_2", "cases_finished", min_sample=5, scale=100),
    Metric("three_visit_rate", "三次内办结率", "跑动 ≤ 3 次的办结件 / 办结件", P, H,
           "finished_visits_3", "cases_finished", min_sample=5, scale=100),
    Metric("on_time_rate", "按期办结率", "承诺期限内办结件 / 办结件", P, H,
           "finished_on_time", "cases_finished", min_sample=5, scale=100),
    Metric("ratings", "评价量", "评价数（不含申诉成立作废的差评）", Unit.COUNT, N, "ratings"),
    Metric("good_rate", "好评率", "非常满意与满意 / 评价数", P, H, "ratings_good", "ratings", min_sample=5,
           scale=100),
    Metric("negative", "差评数", "不满意与非常不满意", Unit.COUNT, L, "ratings_negative"),
    Metric("default_rate", "默认好评占比", "默认好评 / 评价数", P, N, "ratings_default", "ratings", min_sample=5,
           scale=100),
    Metric("rectified_rate", "差评整改率", "整改完成的差评 / 差评", P, H, "negative_rectified", "ratings_negative",
           min_sample=1, scale=100),
    Metric("complaints", "诉求量", "受理日期在区间内的诉求数", Unit.COUNT, N, "complaints"),
    Metric("complaint_on_time_rate", "诉求按时办结率", "期限内办结的诉求 / 办结的诉求", P, H,
           "complaints_on_time", "complaints_closed", min_sample=5, scale=100),
    Metric("complaint_reply_rate", "诉求回复率", "已答复诉求 / 受理诉求", P, H,
           "complaints_replied", "complaints", min_sample=5, scale=100),
    Metric("complaint_satisfied_rate", "诉求满意率", "回访满意 / 已回访", P, H,
           "complaints_satisfied", "complaints_rated", min_sample=5, scale=100),
)

BY_CODE: dict[str, Metric] = {m.code: m for m in METRICS}



def unknown_counters() -> list[str]:
    """Counters named by a metric that the rollups do not have (a test keeps this empty)."""
    named = [m.numerator for m in METRICS] + [m.denominator for m in METRICS if m.denominator is not None]
    return [c for c in named if c not in COUNTERS]


def compute(metric: Metric, sums: Mapping[str, int], *, min_sample: int | None = None) -> Figure:
    """The metric's figure over counter sums (missing counters count 0)."""
    num = int(sums.get(metric.numerator, 0) or 0)
    floor = metric.min_sample if min_sample is None else min_sample
    if metric.denominator is None:
        return Figure(metric.code, metric.name, metric.unit.value, metric.direction.value, float(num), num, None,
                      True)
    den = int(sums.get(metric.denominator, 0) or 0)
    enough = den > 0 and den >= floor
    value = round(num / den * metric.scale, 2) if enough else None
    return Figure(metric.code, metric.name, metric.unit.value, metric.direction.value, value, num, den, enough)


def compute_all(sums: Mapping[str, int], codes: tuple[str, ...] | None = None,
                *, min_sample: int | None = None) -> dict[str, Figure]:
    """Figures of the named metrics (all when None), by code."""
    chosen = METRICS if codes is None else tuple(BY_CODE[c] for c in codes)
    return {m.code: compute(m, sums, min_sample=min_sample) for m in chosen}


def codes_over(counters: tuple[str, ...]) -> tuple[str, ...]:
    """The metrics computable from these counters alone (numerator and denominator among them)."""
    have = set(counters)
    return tuple(m.code for m in METRICS if m.numerator in have and (m.denominator is None or m.denominator in have))


def p90_wait(buckets: Mapping[int, int]) -> float | None:
    """The 90th percentile wait in minutes from the wait histogram (None: nobody called)."""
    return quantile_from_buckets(dict(buckets), 0.9)


def change(current: float | None, previous: float | None) -> float | None:
    """The relative change in percent (None when either side is missing or the previous is zero)."""
    if current is None or previous is None or previous == 0:
        return None
    return round((current - previous) / previous * 100, 2)
