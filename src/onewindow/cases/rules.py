"""Pure rules of intake: material statuses, the intake outcome, 容缺, 秒批 (who may see a case: core.access).

No database and no web framework here: the service feeds plain values in and acts on the answer, so
every rule can be tested on its own and is stated once.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from onewindow.core.errors import Problem


@dataclass(frozen=True)
class CaseRules:
    """Local settings of case handling (``ONEWINDOW_CASE_*``)."""

    deferral_working_days: int = 10
    auto_approve: bool = True


class MaterialStatus(StrEnum):
    """How one material of the checklist was supplied."""

    PAPER = "paper"
    ELECTRONIC = "electronic"
    LIBRARY = "library"  # 免提交: taken from the e-certificate library
    UPLOADED = "uploaded"  # 网上申报 attachment
    DEFERRED = "deferred"  # 容缺: to be supplied later
    PROMISED = "promised"  # 告知承诺: a written promise replaces the proof
    MISSING = "missing"

    @property
    def label(self) -> str:
        """Chinese name shown to people."""
        return MATERIAL_STATUS_LABELS[self]


MATERIAL_STATUS_LABELS: dict[MaterialStatus, str] = {
    MaterialStatus.PAPER: "纸质已收",
    MaterialStatus.ELECTRONIC: "电子已收",
    MaterialStatus.LIBRARY: "证照库调取（免提交）",
    MaterialStatus.UPLOADED: "网上已上传",
    MaterialStatus.DEFERRED: "容缺后补",
    MaterialStatus.PROMISED: "告知承诺",
    MaterialStatus.MISSING: "未提交",
}

SUPPLIED = frozenset({MaterialStatus.PAPER, MaterialStatus.ELECTRONIC, MaterialStatus.LIBRARY,
                      MaterialStatus.UPLOADED})


class Outcome(StrEnum):
    """What intake decides."""

    ACCEPT = "accept"
    CORRECTION = "correction"
    REFUSE = "refuse"


@dataclass(frozen=True)
class ChecklistLine:
    """One material as intake sees it."""

    key: str
    name: str
    required: bool
    deferrable: bool
    status: MaterialStatus


@dataclass(frozen=True)
class IntakeVerdict:
    """The outcome and the materials behind it."""

    outcome: Outcome
    missing: tuple[ChecklistLine, ...]  # required and not supplied: the one complete 补正 list
    deferred: tuple[ChecklistLine, ...]  # 容缺
    promised: tuple[ChecklistLine, ...]  # 告知承诺


def material_key(name: str, certificate_type_code: str | None) -> str:
    """The dedup key of a material across a bundle: its certificate type, else its normalised name."""
    if certificate_type_code:
        return f"cert:{certificate_type_code}"
    return "name:" + re.sub(r"[\s\u3000《》〈〉()（）“”\"']", "", name)


def verdict(lines: Sequence[ChecklistLine], *, refuse: bool = False) -> IntakeVerdict:
    """Accept when every required material is supplied, deferred (容缺) or promised (告知承诺)."""
    missing = tuple(ln for ln in lines if ln.required and ln.status is MaterialStatus.MISSING)
    deferred = tuple(ln for ln in lines if ln.status is MaterialStatus.DEFERRED)
    promised = tuple(ln for ln in lines if ln.status is MaterialStatus.PROMISED)
    if refuse:
        outcome = Outcome.REFUSE
    elif missing:
        outcome = Outcome.CORRECTION
    else:
        outcome = Outcome.ACCEPT
    return IntakeVerdict(outcome, missing, deferred, promised)


def status_problem(line: ChecklistLine, *, commitment: bool, has_certificate: bool) -> str | None:
    """Why a claimed status is not allowed for this material (Chinese), or None when it is."""
    if line.status is MaterialStatus.DEFERRED and not line.deferrable:
        return f"“{line.name}”不属于可容缺材料"
    if line.status is MaterialStatus.PROMISED and not commitment:
        return f"“{line.name}”以告知承诺替代须申请人签署承诺书（勾选告知承诺）"
    if line.status is MaterialStatus.LIBRARY and not has_certificate:
        return f"证照库中没有申请人有效的“{line.name}”，不能免提交"
    return None


def deferral_allowed(lines: Iterable[ChecklistLine]) -> bool:
    """容缺 only when the main materials are complete: at least one required material is supplied."""
    return any(ln.required and ln.status in SUPPLIED for ln in lines)


def auto_approvable(*, instant: bool, lines: Sequence[ChecklistLine]) -> bool:
    """秒批: an instant item whose every required material came from the certificate library.

    Then each condition was checked against authoritative data, nothing is left for a person to
    judge, and the approval can be recorded as made by the rule.
    """
    required = [ln for ln in lines if ln.required]
    return instant and bool(required) and all(ln.status is MaterialStatus.LIBRARY for ln in required)


_PASSED_ON_TAIL = "签发后内部流转，申请人无需提交"


def passed_on_note(issuer: str) -> str:
    """The note of a sub-case material another sub-case of the same bundle issues (never asked of the applicant)."""
    return f"由本一件事“{issuer}”{_PASSED_ON_TAIL}"


def is_passed_on(note: str) -> bool:
    """Whether a material's note says it is passed on inside its bundle."""
    return note.endswith(_PASSED_ON_TAIL)


@dataclass(frozen=True)
class BundleField:
    """A question a 一件事's form asks beyond the applicant (e.g. the child's name for 新生儿出生)."""

    name: str
    label: str
    kind: str  # "text" | "date"
    max_length: int = 20


BUNDLE_FIELDS: dict[str, tuple[BundleField, ...]] = {
    "YJS-NEWBORN": (BundleField("baby_name", "新生儿姓名", "text"), BundleField("birth_date", "出生日期", "date")),
}


def bundle_field_problems(bundle_code: str, values: dict[str, str], on: dt.date) -> list[Problem]:
    """What is wrong with the answers to a bundle's questions (all required; a birth date not in the future and
    within the last year)."""
    problems: list[Problem] = []
    for f in BUNDLE_FIELDS.get(bundle_code, ()):
        raw = values.get(f.name, "").strip()
        if not raw:
            problems.append(Problem(f.name, "required", f"请填写{f.label}"))
        elif len(raw) > f.max_length:
            problems.append(Problem(f.name, "too_long", f"{f.label}不能超过 {f.max_length} 个字符"))
        elif f.kind == "date":
            try:
                day = dt.date.fromisoformat(raw)
            except ValueError:
                problems.append(Problem(f.name, "invalid_date", f"{f.label}应为日期，如 2026-02-10"))
                continue
            if day > on:
                problems.append(Problem(f.name, "future_date", f"{f.label}不能晚于今天"))
            elif day < on - dt.timedelta(days=366):
                problems.append(Problem(f.name, "too_old", f"{f.label}早于一年前，请到窗口办理"))
    return problems


# ----- 服务对象: who an item is for -----------------------------------------------------------------------

AUDIENCE_LABELS = {"person": "个人", "enterprise": "企业", "both": "个人和企业"}


def audience_allows(audience: str, applicant_kind: str) -> bool:
    """True when an item for ``audience`` (person, enterprise, both) is open to this kind of applicant."""
    return audience in ("both", applicant_kind)


def audience_problem(audiences: Iterable[tuple[str, str]], applicant_kind: str) -> Problem | None:
    """The refusal when one of the (item name, 服务对象) applied for is not open to the applicant's kind."""
    for name, audience in audiences:
        if audience_allows(audience, applicant_kind):
            continue
        if applicant_kind == "enterprise":
            return Problem("applicant.kind", "item_not_for_enterprises",
                           f"“{name}”的服务对象为个人，不能以企业名义申请；请以本人身份申报")
        return Problem("applicant.kind", "item_not_for_persons",
                       f"“{name}”的服务对象为企业，请选择“为企业申请”并填写所代表企业的统一社会信用代码")
    return None
