"""好差评 rules (pure): levels, dimensions per channel, 差评 reasons, channels and one ``validate``.

GB/T 39734-2020 (一次一评、一事一评): five levels, the last two are 差评; at a window the service is rated
on 整体满意度, 服务效率, 服务水平, 服务态度, online on 整体满意度, 办事效率, 办事指南精确度, 办事便捷度,
平台操作性. Every dimension of the channel is required; a 差评 needs at least one reason.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum

from onewindow.core.errors import Problem

COMMENT_MAX = 500


class Level(StrEnum):
    """A satisfaction level (评价等级)."""

    VERY_SATISFIED = "very_satisfied"
    SATISFIED = "satisfied"
    BASIC = "basic"
    UNSATISFIED = "unsatisfied"
    VERY_UNSATISFIED = "very_unsatisfied"

    @property
    def label(self) -> str:
        """Chinese name shown to people."""
        return LEVEL_LABELS[self]

    @property
    def negative(self) -> bool:
        """差评: 不满意 or 非常不满意."""
        return self in NEGATIVE_LEVELS

    @property
    def positive(self) -> bool:
        """好评 as counted in 好评率: 非常满意 or 满意."""
        return self in POSITIVE_LEVELS


LEVEL_LABELS: dict[Level, str] = {
    Level.VERY_SATISFIED: "非常满意",
    Level.SATISFIED: "满意",
    Level.BASIC: "基本满意",
    Level.UNSATISFIED: "不满意",
    Level.VERY_UNSATISFIED: "非常不满意",
}
NEGATIVE_LEVELS = frozenset({Level.UNSATISFIED, Level.VERY_UNSATISFIED})
POSITIVE_LEVELS = frozenset({Level.VERY_SATISFIED, Level.SATISFIED})
DEFAULT_LEVEL = Level.BASIC  # 默认评价 after N days without a rating


class Channel(StrEnum):
    """Where a rating was given (评价渠道)."""

    EVALUATOR = "evaluator"  # the window's 评价器
    QR = "qr"  # a QR code (ticket slip, receipt, notice)
    ONLINE = "online"  # signed in, "my cases"
    SMS = "sms"  # the link in the SMS sent when a case is done
    KIOSK = "kiosk"  # a self-service terminal
    DEFAULT = "default"  # 默认评价: none given within N days

    @property
    def label(self) -> str:
        """Chinese name shown to people."""
        return CHANNEL_LABELS[self]


CHANNEL_LABELS: dict[Channel, str] = {
    Channel.EVALUATOR: "窗口评价器",
    Channel.QR: "扫码评价",
    Channel.ONLINE: "网上评价",
    Channel.SMS: "短信评价",
    Channel.KIOSK: "自助终端",
    Channel.DEFAULT: "默认评价",
}


class Setting(StrEnum):
    """What is rated: a visit at a window (一次一评) or a case (一事一评), each with its dimensions."""

    WINDOW = "window"
    ONLINE = "online"


WINDOW_DIMENSIONS: dict[str, str] = {
    "overall": "整体满意度",
    "efficiency": "服务效率",
    "skill": "服务水平",
    "attitude": "服务态度",
}
ONLINE_DIMENSIONS: dict[str, str] = {
    "overall": "整体满意度",
    "efficiency": "办事效率",
    "guide_accuracy": "办事指南精确度",
    "convenience": "办事便捷度",
    "usability": "平台操作性",
}
DIMENSIONS: dict[Setting, dict[str, str]] = {Setting.WINDOW: WINDOW_DIMENSIONS, Setting.ONLINE: ONLINE_DIMENSIONS}

REASONS: dict[str, str] = {
    "long_wait": "等候时间长",
    "attitude": "态度不好",
    "unclear_notice": "一次性告知不清",
    "many_trips": "多次跑动",
    "unreasonable_materials": "材料要求不合理",
    "system_hard": "系统操作不便",
    "overdue": "超期办理",
    "other": "其他",
}

# The channels through which each subject may be rated by a person (default is the job's alone).
TICKET_CHANNELS = frozenset({Channel.EVALUATOR, Channel.QR, Channel.KIOSK})
CASE_CHANNELS = frozenset({Channel.ONLINE, Channel.SMS, Channel.QR})


def dimensions_for(setting: Setting) -> dict[str, str]:
    """The dimensions (key → Chinese name) rated in that setting."""
    return DIMENSIONS[setting]


def default_scores(setting: Setting, level: Level = DEFAULT_LEVEL) -> dict[str, str]:
    """Every dimension of the setting at one level (a default rating, or a one-tap evaluator rating)."""
    return dict.fromkeys(DIMENSIONS[setting], level.value)


def parse_level(value: str) -> Level | None:
    """The level named by its key or its Chinese name, or None."""
    for level in Level:
        if value in (level.value, level.label):
            return level
    return None


def validate(*, setting: Setting, level: str, scores: Mapping[str, str], reasons: Sequence[str],
             comment: str = "") -> list[Problem]:
    """Everything wrong with a rating (field + Chinese message); empty when it may be stored."""
    problems: list[Problem] = []
    parsed = parse_level(level)
    if parsed is None:
        known = "、".join(LEVEL_LABELS.values())
        problems.append(Problem("level", "unknown_level", f"未知的评价等级：{level}，可选：{known}"))
    dims = DIMENSIONS[setting]
    for key in scores:
        if key not in dims:
            problems.append(Problem(f"scores.{key}", "unknown_dimension", f"未知的评价维度：{key}"))
    for key, name in dims.items():
        value = scores.get(key)
        if value is None or value == "":
            problems.append(Problem(f"scores.{key}", "missing_dimension", f"请为“{name}”选择评价等级"))
        elif parse_level(value) is None:
            problems.append(Problem(f"scores.{key}", "unknown_level", f"“{name}”的评价等级无效：{value}"))
    for reason in reasons:
        if reason not in REASONS:
            problems.append(Problem("reasons", "unknown_reason", f"未知的差评原因：{reason}"))
    if parsed is not None and parsed.negative and not reasons:
        problems.append(Problem("reasons", "reason_required", "差评请至少选择一项原因，便于核实整改"))
    if len(comment) > COMMENT_MAX:
        problems.append(Problem("comment", "comment_too_long", f"评价内容不能超过{COMMENT_MAX}字"))
    return problems


def normalised_scores(scores: Mapping[str, str]) -> dict[str, str]:
    """Scores with each level as its key (a Chinese name is accepted on input); call after ``validate``."""
    out: dict[str, str] = {}
    for key, value in scores.items():
        parsed = parse_level(value)
        out[key] = parsed.value if parsed is not None else value
    return out

