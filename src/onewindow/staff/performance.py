"""Monthly staff performance (绩效考核), pure: the parts of a score, their weights, the ranking and its awards.

A clerk (or a window, or a department) is scored from the month's facts in six parts, each worth 0–100 points:

- 办件量 ``volume``: tickets served, against the best ranked subject of the month (100 × served / best);
- 办理时效 ``efficiency``: service time against the categories' norms (100 when within the norm, else
  100 × norm / actual);
- 群众满意度 ``satisfaction``: the share of 非常满意 and 满意 among the month's ratings (100 without ratings);
- 有效投诉 ``complaints``: 100 less a penalty per upheld complaint (a 差评 work order not voided on appeal, or a
  complaint of the complaints domain), never below 0;
- 办件超期 ``overdue``: 100 less a penalty per review step completed after its case's promised deadline;
- 出勤 ``attendance``: the share of the opening hours on working days covered by window sign-ins.

The score is the weighted mean of the parts present (a window has no overdue steps: that part is left out and the
other weights carry it). Below the minimum sample of served tickets a subject is scored and explained but not
ranked. Ranks run 1, 2, 3 … by score, then tickets served, then name; the top ranked clerks are 服务明星 and the
top ranked window carries the 流动红旗. Weights, penalties, the sample and the number of stars are settings.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Generic, TypeVar


class PartKey(StrEnum):
    """The parts of a performance score."""

    VOLUME = "volume"
    EFFICIENCY = "efficiency"
    SATISFACTION = "satisfaction"
    COMPLAINTS = "complaints"
    OVERDUE = "overdue"
    ATTENDANCE = "attendance"

    @property
    def label(self) -> str:
        """Chinese name shown to people."""
        return PART_LABELS[self]


PART_LABELS: dict[PartKey, str] = {
    PartKey.VOLUME: "办件量", PartKey.EFFICIENCY: "办理时效", PartKey.SATISFACTION: "群众满意度",
    PartKey.COMPLAINTS: "有效投诉", PartKey.OVERDUE: "办件超期", PartKey.ATTENDANCE: "出勤",
}


class Award(StrEnum):
    """Monthly honours."""

    STAR = "star"  # 服务明星: a top clerk
    RED_FLAG = "red_flag"  # 流动红旗: the best window

    @property
    def label(self) -> str:
        """Chinese name shown to people."""
        return {Award.STAR: "服务明星", Award.RED_FLAG: "流动红旗"}[self]


@dataclass(frozen=True)
class Rules:
    """The tunables of the scoring (from settings)."""

    weights: Mapping[PartKey, float] = field(default_factory=lambda: {
        PartKey.VOLUME: 25, PartKey.EFFICIENCY: 15, PartKey.SATISFACTION: 25, PartKey.COMPLAINTS: 15,
        PartKey.OVERDUE: 10, PartKey.ATTENDANCE: 10})
    min_sample: int = 20  # served tickets below which a subject is not ranked
    complaint_penalty: float = 20.0  # points off per upheld complaint
    overdue_penalty: float = 10.0  # points off per overdue step
    stars: int = 3  # 服务明星 per month

    def as_dict(self) -> dict[str, Any]:
        """For storage beside the month's scores (what the scores were computed with)."""
        return {"weights": {k.value: v for k, v in self.weights.items()}, "min_sample": self.min_sample,
                "complaint_penalty": self.complaint_penalty, "overdue_penalty": self.overdue_penalty,
                "stars": self.stars}


@dataclass(frozen=True)
class Facts:
    """What happened in the month for one subject (a clerk, a window or a department)."""

    served: int = 0  # tickets finished
    service_minutes: float = 0.0  # their total service time
    norm_minutes: float = 0.0  # the total of their categories' norms
    ratings: int = 0  # ratings given (voided and default ratings left out)
    good_ratings: int = 0  # 非常满意 + 满意
    complaints: int = 0  # upheld complaints
    overdue: int | None = 0  # review steps completed after the promised deadline (None: not applicable)
    attendance_rate: float | None = None  # covered / scheduled opening minutes (None: nothing scheduled)

    def as_dict(self) -> dict[str, Any]:
        """For storage and reports."""
        return {"served": self.served, "service_minutes": round(self.service_minutes, 1),
                "norm_minutes": round(self.norm_minutes, 1), "ratings": self.ratings,
                "good_ratings": self.good_ratings, "complaints": self.complaints, "overdue": self.overdue,
                "attendance_rate": None if self.attendance_rate is None else round(self.attendance_rate, 4)}


@dataclass(frozen=True)
class Part:
    """One part of a score: its points (0–100), weight, share of the total, and why."""

    key: PartKey
    points: float
    weight: float
    contribution: float  # points × weight / Σ weights of the parts present
    explanation: str

    @property
    def label(self) -> str:
        """Chinese name of the part."""
        return self.key.label

    def as_dict(self) -> dict[str, Any]:
        """For storage."""
        return {"key": self.key.value, "label": self.label, "points": self.points, "weight": self.weight,
                "contribution": self.contribution, "explanation": self.explanation}


K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class Score(Generic[K]):
    """A subject's score for the month, its parts, and its rank (None: not ranked, ``note`` says why)."""

    subject: K
    name: str
    score: float
    parts: tuple[Part, ...]
    facts: Facts
    ranked: bool
    rank: int | None = None
    note: str = ""


def combine(many: Sequence[Facts], *, attendance_rate: float | None) -> Facts:
    """The facts of a group (a department: its clerks), with the group's own attendance rate."""
    overdue = [f.overdue for f in many if f.overdue is not None]
    return Facts(sum(f.served for f in many), sum(f.service_minutes for f in many),
                 sum(f.norm_minutes for f in many), sum(f.ratings for f in many), sum(f.good_ratings for f in many),
                 sum(f.complaints for f in many), sum(overdue) if overdue else None, attendance_rate)


def _r(x: float) -> float:
    return round(x + 1e-9, 2)


def parts_of(facts: Facts, *, best_served: int, rules: Rules) -> list[Part]:
    """The parts of one subject's score with their explanations (``best_served``: the month's best volume)."""
    raw: list[tuple[PartKey, float, str]] = []
    best = max(best_served, facts.served, 1)
    raw.append((PartKey.VOLUME, 100.0 * facts.served / best,
                f"本月办结 {facts.served} 件，本月最多 {best} 件"))
    if facts.served == 0 or facts.service_minutes <= facts.norm_minutes:
        raw.append((PartKey.EFFICIENCY, 100.0, f"平均办理 {_avg(facts)} 分钟，未超过标准 {_norm(facts)} 分钟"))
    else:
        raw.append((PartKey.EFFICIENCY, 100.0 * facts.norm_minutes / facts.service_minutes,
                    f"平均办理 {_avg(facts)} 分钟，标准 {_norm(facts)} 分钟"))
    if facts.ratings == 0:
        raw.append((PartKey.SATISFACTION, 100.0, "本月无评价，按满分计"))
    else:
        raw.append((PartKey.SATISFACTION, 100.0 * facts.good_ratings / facts.ratings,
                    f"评价 {facts.ratings} 次，满意及以上 {facts.good_ratings} 次"))
    raw.append((PartKey.COMPLAINTS, max(0.0, 100.0 - rules.complaint_penalty * facts.complaints),
                f"有效投诉（含经核实的差评）{facts.complaints} 件，每件扣 {rules.complaint_penalty:g} 分"))
    if facts.overdue is not None:
        raw.append((PartKey.OVERDUE, max(0.0, 100.0 - rules.overdue_penalty * facts.overdue),
                    f"超期办理环节 {facts.overdue} 个，每个扣 {rules.overdue_penalty:g} 分"))
    if facts.attendance_rate is not None:
        raw.append((PartKey.ATTENDANCE, 100.0 * facts.attendance_rate,
                    f"办公时间在岗率 {facts.attendance_rate * 100:.1f}%"))
    present = [(k, p, e) for k, p, e in raw if rules.weights.get(k, 0) > 0]
    total_weight = sum(rules.weights[k] for k, _, _ in present) or 1.0
    return [Part(k, _r(p), rules.weights[k], _r(p * rules.weights[k] / total_weight), e) for k, p, e in present]


def _avg(facts: Facts) -> str:
    return f"{facts.service_minutes / facts.served:.1f}" if facts.served else "0"


def _norm(facts: Facts) -> str:
    return f"{facts.norm_minutes / facts.served:.1f}" if facts.served else "0"


def total(parts: Sequence[Part]) -> float:
    """The score: the weighted mean of the parts (the sum of their contributions)."""
    weight = sum(p.weight for p in parts) or 1.0
    return _r(sum(p.points * p.weight for p in parts) / weight)


def rank(subjects: Mapping[K, tuple[str, Facts]], rules: Rules) -> list[Score[K]]:
    """Score every subject and rank those with the minimum sample; ranked first (best first), then the rest."""
    eligible = {k for k, (_, f) in subjects.items() if f.served >= rules.min_sample}
    best = max((subjects[k][1].served for k in eligible), default=0)
    scored: list[Score[K]] = []
    for k, (name, facts) in subjects.items():
        parts = tuple(parts_of(facts, best_served=best, rules=rules))
        ok = k in eligible
        note = "" if ok else f"样本不足：本月办结 {facts.served} 件，少于 {rules.min_sample} 件，不参加排名"
        scored.append(Score(k, name, total(parts), parts, facts, ok, None, note))
    scored.sort(key=lambda s: (not s.ranked, -s.score, -s.facts.served, s.name, str(s.subject)))
    out: list[Score[K]] = []
    n = 0
    for s in scored:
        if s.ranked:
            n += 1
            out.append(Score(s.subject, s.name, s.score, s.parts, s.facts, True, n, s.note))
        else:
            out.append(s)
    return out


def awards(scores: Sequence[Score[K]], *, count: int) -> list[Score[K]]:
    """The top ``count`` ranked subjects (服务明星 among clerks, 流动红旗 with ``count=1`` among windows)."""
    return [s for s in scores if s.ranked and s.rank is not None and s.rank <= count][:count]
