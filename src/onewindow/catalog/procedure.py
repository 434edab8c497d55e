"""The procedure rules of a service item (pure): typed steps, who performs them, time limits,
特别程序 kinds, extension and 容缺 limits.

The catalog entry owns these rules (Open Zaak: the catalog entry owns the deadline rules); an item
version stores its :class:`Procedure` as JSON (``ItemVersion.procedure``) and a case copies it at
acceptance (``Case.procedure``), so the running case never reads Chinese step names to decide what a
step is. Step names stay what people see; :class:`StepKind` is what the code reads.

:func:`classify_step` types a legacy step name. It is meant for import and migration only: the
runtime reads ``StepRule.kind``. :func:`procedure_of` builds the procedure of an item version from
its stored fields (the legacy derivation reproduces today's steps exactly: a leading 受理 is added
when the item's list does not start with it, a lone step is followed by 办结).

The step that records the decision is the one of kind ``decide``; a procedure without one records
the decision on its last step (办结, 发证 … conclude the item), as before typed steps existed. Steps
between the acceptance step and the decision take an opinion; steps after it follow the decision.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from onewindow.calendar.workdays import TimeUnit
from onewindow.core.access import Role

__all__ = [
    "DEFAULT_DEFERRAL_WORKING_DAYS",
    "DEFAULT_MAX_EXTENSION_DAYS",
    "OPTIONAL_MARK",
    "PERFORMER_ROLES",
    "PROCEDURE_JSON_VERSION",
    "Procedure",
    "ProcedureError",
    "StepKind",
    "StepRule",
    "SuspensionKind",
    "UnknownStepName",
    "classify_step",
    "deferral_wording",
    "legacy_step_names",
    "procedure_of",
    "unknown_step_names",
]

PROCEDURE_JSON_VERSION = 1
DEFAULT_MAX_EXTENSION_DAYS = 30  # 行政许可法 第四十二条: 经本行政机关负责人批准，可以延长十日 … (kept at 30 as before)
DEFAULT_DEFERRAL_WORKING_DAYS = 10  # the ONEWINDOW_CASE_DEFERRAL_WORKING_DAYS default
OPTIONAL_MARK = "必要时"  # a step named 现场核查（必要时） may be skipped
PERFORMER_ROLES: tuple[Role, ...] = (Role.CLERK, Role.APPROVER, Role.DEPT_HEAD)


class StepKind(StrEnum):
    """What a step of a procedure is (办理环节类型)."""

    ACCEPT = "accept"  # 受理
    REVIEW = "review"  # 审查 / 审核 (including 现场核查, 公示, 核定 …)
    DECIDE = "decide"  # 决定
    ISSUE = "issue"  # 制证 / 发证 (producing the result: licence, card, certificate, register entry)
    COMPLETE = "complete"  # 送达 / 办结 (handing over, paying out, notifying)

    @property
    def label(self) -> str:
        """The Chinese name of the kind."""
        return _KIND_LABELS[self]


_KIND_LABELS = {StepKind.ACCEPT: "受理", StepKind.REVIEW: "审查", StepKind.DECIDE: "决定",
                StepKind.ISSUE: "制证发证", StepKind.COMPLETE: "送达办结"}


class SuspensionKind(StrEnum):
    """特别程序 that stop the clock (行政许可法 第四十五条)."""

    HEARING = "hearing"  # 听证
    EXPERT = "expert"  # 专家评审
    INSPECTION = "inspection"  # 现场核查
    OTHER = "other"  # 其他特别程序

    @property
    def label(self) -> str:
        """The Chinese name of the kind."""
        return _SUSPENSION_LABELS[self]


_SUSPENSION_LABELS = {SuspensionKind.HEARING: "听证", SuspensionKind.EXPERT: "专家评审",
                      SuspensionKind.INSPECTION: "现场核查", SuspensionKind.OTHER: "其他特别程序"}


class ProcedureError(ValueError):
    """A procedure (or its JSON) breaks a rule; ``field`` names the offending field."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name
        self.message = message


class UnknownStepName(ProcedureError):
    """A step name :func:`classify_step` cannot type; the item must say the kind explicitly."""

    def __init__(self, name: str) -> None:
        super().__init__("steps", f"无法识别办理环节“{name}”的类型，请在 procedure.steps 中指定 kind")
        self.name = name


@dataclass(frozen=True)
class StepRule:
    """One step of a procedure: its kind, the name people see, and who performs it."""

    kind: StepKind
    name: str
    performer: Role
    distinct_from_previous: bool = False  # 审批分离: not the person who did the previous step
    optional: bool = False  # （必要时）: may be skipped

    def to_json(self) -> dict[str, Any]:
        """Plain dict (stable key order)."""
        return {"kind": self.kind.value, "name": self.name, "performer": self.performer.value,
                "distinct_from_previous": self.distinct_from_previous, "optional": self.optional}


@dataclass(frozen=True)
class Procedure:
    """The rules a case of an item runs under; copied onto the case at acceptance."""

    legal_days: int
    promised_days: int
    unit: TimeUnit
    steps: tuple[StepRule, ...]
    suspension_kinds: tuple[SuspensionKind, ...] = tuple(SuspensionKind)
    max_extension_days: int = DEFAULT_MAX_EXTENSION_DAYS
    deferral_working_days: int = DEFAULT_DEFERRAL_WORKING_DAYS
    separation_of_duties: bool = False  # 审批分离 enforced on the steps marked distinct_from_previous

    def __post_init__(self) -> None:
        if self.legal_days < 0 or self.promised_days < 0:
            raise ProcedureError("legal_limit_days", "办结时限不能为负数")
        if self.promised_days > self.legal_days:
            raise ProcedureError("promised_limit_days", "承诺时限不能超过法定时限")
        if not self.steps or self.steps[0].kind is not StepKind.ACCEPT:
            raise ProcedureError("steps", "办理流程的第一步必须是受理")
        if sum(1 for s in self.steps if s.kind is StepKind.DECIDE) > 1:
            raise ProcedureError("steps", "办理流程只能有一个决定环节")
        if not 0 <= self.max_extension_days <= DEFAULT_MAX_EXTENSION_DAYS:
            raise ProcedureError("max_extension_days", f"延期天数上限应在0到{DEFAULT_MAX_EXTENSION_DAYS}之间")
        if not 1 <= self.deferral_working_days <= 60:
            raise ProcedureError("deferral_working_days", "容缺补齐期限应在1到60个工作日之间")

    @property
    def decision_index(self) -> int:
        """Index of the step that records the decision: the ``decide`` step, else the last one."""
        for i, step in enumerate(self.steps):
            if step.kind is StepKind.DECIDE:
                return i
        return len(self.steps) - 1

    @property
    def kinds(self) -> tuple[StepKind, ...]:
        """The kind of every step, in order."""
        return tuple(s.kind for s in self.steps)

    def allows_suspension(self, kind: SuspensionKind | str) -> bool:
        """True when this 特别程序 kind may stop the clock of the item's cases."""
        try:
            return SuspensionKind(kind) in self.suspension_kinds
        except ValueError:
            return False

    def to_json(self) -> dict[str, Any]:
        """Plain, stable, versioned dict (``"v": 1``) for the item version and the case copy."""
        return {
            "v": PROCEDURE_JSON_VERSION,
            "legal_days": self.legal_days,
            "promised_days": self.promised_days,
            "unit": self.unit.value,
            "steps": [s.to_json() for s in self.steps],
            "suspension_kinds": [k.value for k in self.suspension_kinds],
            "max_extension_days": self.max_extension_days,
            "deferral_working_days": self.deferral_working_days,
            "separation_of_duties": self.separation_of_duties,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Procedure:
        """Read :meth:`to_json`'s dict back; raises :class:`ProcedureError` naming the bad field."""
        if not isinstance(data, Mapping):
            raise ProcedureError("procedure", "办理规则必须是 JSON 对象")
        if data.get("v") != PROCEDURE_JSON_VERSION:
            raise ProcedureError("procedure.v", f"不支持的办理规则版本：{data.get('v')!r}")
        try:
            steps = tuple(
                StepRule(kind=StepKind(s["kind"]), name=str(s["name"]), performer=Role(s["performer"]),
                         distinct_from_previous=bool(s.get("distinct_from_previous", False)),
                         optional=bool(s.get("optional", False)))
                for s in data["steps"]
            )
            return cls(
                legal_days=int(data["legal_days"]), promised_days=int(data["promised_days"]),
                unit=TimeUnit(data["unit"]), steps=steps,
                suspension_kinds=tuple(SuspensionKind(k) for k in data["suspension_kinds"]),
                max_extension_days=int(data["max_extension_days"]),
                deferral_working_days=int(data["deferral_working_days"]),
                separation_of_duties=bool(data.get("separation_of_duties", False)),
            )
        except (KeyError, TypeError) as exc:
            raise ProcedureError("procedure", f"办理规则缺少字段或字段类型错误：{exc}") from exc
        except ValueError as exc:
            if isinstance(exc, ProcedureError):
                raise
            raise ProcedureError("procedure", f"办理规则取值无效：{exc}") from exc


# ----- typing legacy step names (import and migration only) -----------------------------------------

# Every step name of the reference catalog, typed by hand. A step before the decision whose kind is
# not ``decide`` takes an opinion (核准登记, 签发, 审批 are approval stages of the review chain, and
# today's cases record their decision on the last step of such items: typing them ``decide`` would
# change running procedures; an item's ``procedure`` override may do so).
_KNOWN: dict[str, StepKind] = {
    **dict.fromkeys((
        "受理", "受理（含交易、缴税）", "申请", "申请受理", "网上报名", "预约", "名称自主申报", "乡镇受理",
        "村级受理审查", "村组申报核实", "乡镇受理审核",
    ), StepKind.ACCEPT),
    **dict.fromkeys((
        "审查", "审核", "材料审查", "资料审查", "资格审核", "档案审核", "现场核查", "现场核查（必要时）",
        "现场审查（必要时）", "现场检查", "现场勘查", "现场勘测", "现场踏勘", "实地踏勘", "现场评定", "现场确认",
        "伐前现场查验", "机动车查验", "查验询问", "查询核实", "调查取证", "调解", "公示", "公示（必要时）", "批前公示",
        "审核公示", "核定", "待遇核定", "复核", "县级复核", "核准", "核准登记", "核准变更", "核准注销", "审批",
        "县民政局审批", "签发", "审核签发", "认定", "专家认定", "残疾评定", "评估", "乡镇联审", "乡镇审核",
        "乡镇初审", "村级初审", "转出地审核", "担保机构审核", "银行审贷", "残联审核", "民政审定", "县级确认",
        "县民政局确认", "家庭经济状况调查核对", "离婚冷静期", "采集人像指纹", "刊发遗失声明", "信息推送",
        "企业办理", "转入地接续", "确定号牌", "确定定点康复机构", "学位分配", "签订合同",
    ), StepKind.REVIEW),
    **dict.fromkeys(("决定", "作出处理决定"), StepKind.DECIDE),
    **dict.fromkeys((
        "发证", "制证", "缮证发证", "颁证", "制卡", "发卡", "发放营业执照", "换发营业执照", "出具证明",
        "出具不动产登记证明", "发放号牌和行驶证", "发放宅基地批准书", "制证发放", "登簿", "注销登簿", "抵押登记",
        "迁入落户",
    ), StepKind.ISSUE),
    **dict.fromkeys((
        "办结", "送达", "发放", "按月发放", "领取或邮寄", "转账支付", "转账支付并销户", "支付", "放款", "拨付",
        "一卡通兑付", "发放奖金", "结果通知", "通知迁出地", "救助结算", "结算减免", "适配发放", "轮候配租",
    ), StepKind.COMPLETE),
}

# For names not in the table (new items, admin forms), first match wins; no match raises.
_KEYWORDS: tuple[tuple[re.Pattern[str], StepKind], ...] = (
    (re.compile(r"决定"), StepKind.DECIDE),
    (re.compile(r"受理|申请|申报|报名|预约"), StepKind.ACCEPT),
    (re.compile(r"审|核|查|勘|公示|评|认定|确认|调解"), StepKind.REVIEW),
    (re.compile(r"证|照|卡|登簿|登记|批准书"), StepKind.ISSUE),
    (re.compile(r"办结|送达|发放|支付|拨付|兑付|领取|邮寄|通知|结算|放款"), StepKind.COMPLETE),
)


def classify_step(name: str) -> StepKind:
    """The kind of a legacy step name (import and migration only); raises :class:`UnknownStepName`."""
    text = name.strip()
    known = _KNOWN.get(text)
    if known is not None:
        return known
    for pattern, kind in _KEYWORDS:
        if pattern.search(text):
            return kind
    raise UnknownStepName(text)


def unknown_step_names(names: Iterable[str]) -> list[str]:
    """The names :func:`classify_step` cannot type (to report at import)."""
    out: list[str] = []
    for name in names:
        try:
            classify_step(name)
        except UnknownStepName:
            out.append(name.strip())
    return out


def legacy_step_names(names: Sequence[str]) -> list[str]:
    """The steps a case of an item gets, as cases have always been given them (受理 first, two at least)."""
    out = [str(n).strip() for n in names if str(n).strip()] or ["受理", "审核", "办结"]
    if out[0] != "受理":
        out.insert(0, "受理")
    if len(out) < 2:
        out.append("办结")
    return out


def _performer(index: int) -> Role:
    # The window clerk accepts; every later step is the handling department's (today's cases let
    # its approvers record every opinion and the decision; a department head may act as approver).
    return Role.CLERK if index == 0 else Role.APPROVER


def _derived_steps(names: Sequence[str]) -> tuple[StepRule, ...]:
    rules: list[StepRule] = []
    for i, name in enumerate(legacy_step_names(names)):
        if i == 0:
            kind = StepKind.ACCEPT
        else:
            try:
                kind = classify_step(name)
            except UnknownStepName:
                # Reported at import (catalog.rules.item_warnings) and by the migration; a middle
                # step takes an opinion whatever it is called, so REVIEW keeps the case running.
                kind = StepKind.REVIEW
        rules.append(StepRule(kind=kind, name=name, performer=_performer(i),
                              optional=OPTIONAL_MARK in name))
    return tuple(rules)


def procedure_of(*, legal_days: int, promised_days: int, unit: TimeUnit | str, steps: Sequence[str],
                 override: Mapping[str, Any] | None = None,
                 deferral_working_days: int = DEFAULT_DEFERRAL_WORKING_DAYS) -> Procedure:
    """The procedure of an item version from its fields; ``override`` is the item's optional
    ``procedure`` object (see ``catalog.schemas.ProcedureIn``) and wins over the derived rules."""
    rules = _derived_steps(steps)
    over = {k: v for k, v in (override or {}).items() if v is not None}  # None: not overridden
    step_overrides = over.get("steps")
    if step_overrides is not None:
        given = [str(n).strip() for n in steps if str(n).strip()]
        if len(step_overrides) != len(given):
            raise ProcedureError("procedure.steps", f"办理规则的环节数（{len(step_overrides)}）应与办理流程的步骤数"
                                                    f"（{len(given)}）一致")
        offset = 0 if not given or given[0] == "受理" else 1  # the 受理 step cases get in front
        merged = list(rules)
        for j, raw in enumerate(step_overrides):
            base = merged[j + offset]
            one = {k: v for k, v in raw.items() if v is not None}
            try:
                merged[j + offset] = StepRule(
                    kind=StepKind(one.get("kind", base.kind)), name=base.name,
                    performer=Role(one.get("performer", base.performer)),
                    distinct_from_previous=bool(one.get("distinct_from_previous", base.distinct_from_previous)),
                    optional=bool(one.get("optional", base.optional)))
            except ValueError as exc:
                raise ProcedureError(f"procedure.steps[{j}]", f"环节类型或办理角色无效：{exc}") from exc
        rules = tuple(merged)
    for i, rule in enumerate(rules):
        if rule.performer not in PERFORMER_ROLES:
            raise ProcedureError(f"procedure.steps[{i}].performer", "办理角色应为窗口人员、审批人员或部门负责人")
    try:
        kinds = tuple(SuspensionKind(k) for k in over.get("suspension_kinds", tuple(SuspensionKind)))
    except ValueError as exc:
        raise ProcedureError("procedure.suspension_kinds", "特别程序类型应为听证、专家评审、现场核查或其他") from exc
    try:
        return Procedure(
            legal_days=legal_days, promised_days=promised_days, unit=TimeUnit(unit), steps=rules,
            suspension_kinds=kinds,
            max_extension_days=int(over.get("max_extension_days", DEFAULT_MAX_EXTENSION_DAYS)),
            deferral_working_days=int(over.get("deferral_working_days", deferral_working_days)),
            separation_of_duties=bool(over.get("separation_of_duties", False)),
        )
    except ProcedureError as exc:
        if override is not None and not exc.field.startswith(("procedure", "legal_", "promised_")):
            raise ProcedureError(f"procedure.{exc.field}", exc.message) from exc
        raise


def deferral_wording(procedure: Procedure) -> str:
    """The guide page's 容缺 sentence for an item with deferrable materials."""
    unit = "个工作日" if procedure.unit is TimeUnit.WORKING_DAY else "日"
    cap = f"（{procedure.promised_days}{unit}）" if procedure.promised_days else ""
    return (f"可容缺受理：主要材料齐全时，缺少可容缺材料可先行受理，书面承诺后须在受理后"
            f"{procedure.deferral_working_days}个工作日内补齐，且不晚于承诺办结时限{cap}")
