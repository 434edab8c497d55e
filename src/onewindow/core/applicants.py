"""Who applies (pure): a person by 公民身份号码 or an enterprise by 统一社会信用代码, and the check of it.

Shared by the cases domain (applications) and the agents domain (authorisations), so it sits in the kernel.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from onewindow.core.errors import Problem, ValidationFailed
from onewindow.core.ids import validate_credit_code, validate_id_number


@dataclass(frozen=True)
class ApplicantIn:
    """Who applies: a person by 公民身份号码 or an enterprise by 统一社会信用代码."""

    kind: str
    name: str
    id_number: str
    phone: str = ""


def clean_text(value: Any, limit: int) -> str:
    """One line of text, whitespace collapsed, cut to ``limit`` characters."""
    return " ".join(str(value or "").split())[:limit]


def validate_applicant(a: ApplicantIn, *, on: dt.date) -> ApplicantIn:
    """The applicant with a checked, canonical ID number (all problems reported at once)."""
    problems: list[Problem] = []
    name = clean_text(a.name, 200)
    if not name:
        problems.append(Problem("applicant.name", "name_required", "请填写申请人姓名或名称"))
    number = ""
    try:
        if a.kind == "person":
            number = validate_id_number(a.id_number, field="applicant.id_number", today=on)
        elif a.kind == "enterprise":
            number = validate_credit_code(a.id_number, field="applicant.id_number")
        else:
            problems.append(Problem("applicant.kind", "invalid_applicant_kind", "申请人类型应为自然人或法人"))
    except ValidationFailed as exc:
        problems.extend(exc.problems)
    phone = clean_text(a.phone, 20)
    if phone and not ((phone.isdigit() and 7 <= len(phone) <= 12) or phone.startswith("+")):
        problems.append(Problem("applicant.phone", "invalid_phone", "联系电话格式不正确"))
    if problems:
        raise ValidationFailed(problems)
    return ApplicantIn(a.kind, name, number, phone)
