"""回访 rules (pure): how many of a department's finished cases are called back, which ones, what is asked, and
what an outcome means.

应访尽访: every working day a share of each department's finished cases (``rate``, at least ``minimum``) becomes
callback tasks; nobody is called twice within ``no_repeat_days`` days (a person with several finished cases is
one call), and a case without a phone number cannot be called. The draw is deterministic for a day and a
department (a seeded shuffle), so a rerun draws the same cases. An outcome is a level per dimension (the 好差评
levels); the overall level decides: 不满意 / 非常不满意 opens a rectification work order.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from onewindow.core.errors import Problem
from onewindow.ratings.rules import Level

REMARKS_MAX = 1000


@dataclass(frozen=True)
class SampleRules:
    """The local practice (settings ``ONEWINDOW_CALLBACK_*``)."""

    rate: float = 0.1
    minimum: int = 3
    no_repeat_days: int = 30
    due_working_days: int = 2
    max_attempts: int = 3


@dataclass(frozen=True)
class Candidate:
    """A finished case that may be called back: its id, the person (a key, never the number) and a phone."""

    case_id: int
    person_key: str
    has_phone: bool


def target_size(finished: int, rules: SampleRules) -> int:
    """How many of ``finished`` cases should be called: ``rate`` of them rounded up, at least ``minimum``, at most
    all of them."""
    if finished <= 0:
        return 0
    return min(finished, max(rules.minimum, math.ceil(finished * rules.rate - 1e-9)))


def person_key(identifier: str) -> str:
    """A stable key for a person (公民身份号码 / 统一社会信用代码) that does not store the number again."""
    return hashlib.sha256(identifier.strip().upper().encode()).hexdigest()


def draw(candidates: Sequence[Candidate], *, rules: SampleRules, recently_called: Iterable[str],
         seed: str) -> list[Candidate]:
    """The sample of one department's finished cases of one day.

    The size is :func:`target_size` of all finished cases; it is filled from the eligible ones (a phone, nobody
    called within ``no_repeat_days``, one case per person) in a shuffled order seeded by ``seed``; when fewer are
    eligible, all of them are drawn.
    """
    wanted = target_size(len(candidates), rules)
    excluded = set(recently_called)
    order = sorted(candidates, key=lambda c: c.case_id)
    random.Random(seed).shuffle(order)  # noqa: S311 - a reproducible sample, not a secret
    chosen: list[Candidate] = []
    for c in order:
        if len(chosen) == wanted:
            break
        if not c.has_phone or c.person_key in excluded:
            continue
        excluded.add(c.person_key)
        chosen.append(c)
    return sorted(chosen, key=lambda c: c.case_id)


class Dimension(StrEnum):
    """What the person is asked about (the 好差评 dimensions of a case, GB/T 39734)."""

    OVERALL = "overall"
    EFFICIENCY = "efficiency"
    ATTITUDE = "attitude"
    GUIDE = "guide"
    CONVENIENCE = "convenience"

    @property
    def label(self) -> str:
        """Chinese name shown to people."""
        return DIMENSION_LABELS[self]


DIMENSION_LABELS: dict[Dimension, str] = {
    Dimension.OVERALL: "整体满意度",
    Dimension.EFFICIENCY: "办事效率",
    Dimension.ATTITUDE: "服务态度",
    Dimension.GUIDE: "办事指南准确度",
    Dimension.CONVENIENCE: "办事便捷度",
}


def questions(*, item: str, finished_on: str, department: str) -> list[dict[str, str]]:
    """The questions to ask, one per dimension, plus the opening (stored on the task when it is drawn)."""
    opening = (f"您好，这里是获嘉县政务服务中心。您于{finished_on}在{department}办理的“{item}”已办结，"
               "想占用您一分钟了解办理情况。")
    asks = {
        Dimension.OVERALL: "您对这次办事总体是否满意？",
        Dimension.EFFICIENCY: "办理速度如何，是否在承诺时限内办结？",
        Dimension.ATTITUDE: "窗口和审批人员的服务态度如何？",
        Dimension.GUIDE: "办事指南和一次性告知是否准确、完整？",
        Dimension.CONVENIENCE: "办事是否方便，跑了几次？有没有要求提供指南以外的材料？",
    }
    return [{"key": "opening", "text": opening}] + [{"key": d.value, "text": asks[d]} for d in Dimension]


class Outcome(StrEnum):
    """Where a callback task stands."""

    PENDING = "pending"  # to call (again)
    UNREACHED = "unreached"  # not reached within the attempts allowed
    SATISFIED = "satisfied"  # reached: 非常满意 / 满意 / 基本满意
    RECTIFYING = "rectifying"  # reached, unsatisfied: a rectification work order is open
    RECTIFIED = "rectified"  # its work order was closed after 整改 and 回访
    VOIDED = "voided"  # its work order was voided (appeal upheld)

    @property
    def label(self) -> str:
        """Chinese name shown to people."""
        return OUTCOME_LABELS[self]


OUTCOME_LABELS: dict[Outcome, str] = {
    Outcome.PENDING: "待回访",
    Outcome.UNREACHED: "未联系上",
    Outcome.SATISFIED: "满意",
    Outcome.RECTIFYING: "不满意（整改中）",
    Outcome.RECTIFIED: "不满意（已整改）",
    Outcome.VOIDED: "不满意（申诉成立）",
}
# Reached outcomes (counted as 联系成功); every outcome but PENDING counts as 已回访 (应访尽访).
REACHED = frozenset({Outcome.SATISFIED, Outcome.RECTIFYING, Outcome.RECTIFIED, Outcome.VOIDED})
UNSATISFIED = frozenset({Outcome.RECTIFYING, Outcome.RECTIFIED, Outcome.VOIDED})


def check_scores(scores: Mapping[str, str]) -> tuple[dict[str, Level], list[Problem]]:
    """Every dimension needs a level; one Chinese problem per missing or unknown one."""
    out: dict[str, Level] = {}
    problems: list[Problem] = []
    for d in Dimension:
        raw = (scores.get(d.value) or "").strip()
        try:
            out[d.value] = Level(raw)
        except ValueError:
            problems.append(Problem(f"scores.{d.value}", "score_required", f"请选择“{d.label}”的满意程度"))
    return out, problems


def after_reached(levels: Mapping[str, Level]) -> Outcome:
    """The overall level decides: 差评 (不满意 / 非常不满意) opens a work order."""
    return Outcome.RECTIFYING if levels[Dimension.OVERALL.value].negative else Outcome.SATISFIED


def after_unreached(attempts: int, rules: SampleRules) -> Outcome:
    """An unanswered call: called again until ``max_attempts``, then closed as 未联系上."""
    return Outcome.UNREACHED if attempts >= rules.max_attempts else Outcome.PENDING


def rate(part: int, whole: int) -> float | None:
    """``part / whole`` rounded to 4 places, None when there is nothing to divide."""
    return round(part / whole, 4) if whole else None
