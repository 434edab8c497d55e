"""Identity numbers: 公民身份号码 (GB 11643), 统一社会信用代码 (GB 32100), and masking for display.

Pure (standard library only). Validators normalise what people actually type (full-width
digits, lower-case ``x``, spaces) and return the canonical form to store; errors are
:class:`~onewindow.core.errors.ValidationFailed` naming the caller's field, with a stable code
and a Chinese reason.

Masking (DESIGN rule 8): numbers are stored whole and shown masked. ``mask_phone`` masks mobile
numbers only; landlines (``0373-4502316``), short hotlines (``12345``) and anything that is not a
mainland mobile number are returned unchanged, because in this platform they are the public
numbers of offices and windows, printed on every 办事指南.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from onewindow.core.errors import Problem, ValidationFailed

__all__ = [
    "birth_date_from_id",
    "credit_code_check_char",
    "id_check_char",
    "is_valid_credit_code",
    "is_valid_id_number",
    "mask_id_number",
    "mask_phone",
    "validate_credit_code",
    "validate_id_number",
]

# GB 11643-1999: weights of the first 17 digits and the check character for ``sum % 11``.
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"
# Provincial codes (GB/T 2260) incl. 71 台湾, 81 香港, 82 澳门, 83 台湾居民居住证;
# 9 opens the 18-digit 外国人永久居留身份证 (2023), which follows the same layout and check.
ID_PROVINCES = frozenset({
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
    "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65",
    "71", "81", "82", "83",
})

# GB 32100-2015: 31 characters (no I, O, Z, S, V), weights, check value 31 - sum % 31 (31 → 0).
CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_CREDIT_VALUE = {c: i for i, c in enumerate(CREDIT_ALPHABET)}

_SPACES = re.compile(r"[\s\-]+")
_MOBILE = re.compile(r"^(?:\+?86)?(1[3-9]\d{9})$")
_MOBILE_IN_TEXT = re.compile(r"(?<!\d)(1[3-9]\d)(\d{4})(\d{4})(?!\d)")


def _normalise(value: str) -> str:
    # NFKC turns full-width digits and letters (常见于中文输入法) into ASCII.
    return _SPACES.sub("", unicodedata.normalize("NFKC", value)).upper()


def _fail(field: str, code: str, message: str) -> ValidationFailed:
    return ValidationFailed([Problem(field=field, code=code, message=message)])


# -- 公民身份号码 ----------------------------------------------------------------------------


def id_check_char(first17: str) -> str:
    """The GB 11643 check character of the first 17 digits."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise ValueError("need exactly 17 digits")
    return ID_CHECK_CHARS[sum(int(c) * w for c, w in zip(first17, ID_WEIGHTS, strict=True)) % 11]


def _birth_date(number: str) -> dt.date | None:
    try:
        born = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return None
    return born if born.year >= 1900 else None


def validate_id_number(value: str | None, *, field: str = "id_number", today: dt.date | None = None) -> str:
    """The normalised 18-character 公民身份号码 (upper-case X), or ValidationFailed with the reason."""
    number = _normalise(value or "")
    if not number:
        raise _fail(field, "id_number_required", "请填写公民身份号码")
    if len(number) == 15 and number.isascii() and number.isdigit():
        raise _fail(field, "id_number_old_format", "15 位旧身份证号码已停止使用，请填写 18 位公民身份号码")
    if len(number) != 18:
        raise _fail(field, "id_number_length", f"公民身份号码应为 18 位，当前为 {len(number)} 位")
    body, check = number[:17], number[17]
    if not (body.isascii() and body.isdigit()) or check not in "0123456789X":
        raise _fail(field, "id_number_characters", "公民身份号码前 17 位应为数字，最后一位为数字或 X")
    if number[:2] not in ID_PROVINCES and number[0] != "9":
        raise _fail(field, "id_number_region", f"公民身份号码开头的行政区划代码 {number[:6]} 无效")
    born = _birth_date(number)
    if born is None:
        raise _fail(field, "id_number_birth_date", f"公民身份号码中的出生日期 {number[6:14]} 不是有效日期")
    if today is not None and born > today:
        raise _fail(field, "id_number_birth_date", f"公民身份号码中的出生日期 {born.isoformat()} 晚于今天")
    if id_check_char(body) != check:
        # Never say which character would be right: that invites "fixing" a mistyped number.
        raise _fail(field, "id_number_check_digit", "公民身份号码校验码不符，请逐位核对是否输错")
    return number


def is_valid_id_number(value: str | None) -> bool:
    """True when ``value`` is a valid 18-character 公民身份号码."""
    try:
        validate_id_number(value)
    except ValidationFailed:
        return False
    return True


def birth_date_from_id(value: str, *, field: str = "id_number") -> dt.date:
    """The date of birth encoded in a valid 公民身份号码."""
    number = validate_id_number(value, field=field)
    return dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))


# -- 统一社会信用代码 ------------------------------------------------------------------------


def credit_code_check_char(first17: str) -> str:
    """The GB 32100 check character of the first 17 characters."""
    if len(first17) != 17 or any(c not in _CREDIT_VALUE for c in first17):
        raise ValueError("need exactly 17 characters of the credit-code alphabet")
    total = sum(_CREDIT_VALUE[c] * w for c, w in zip(first17, CREDIT_WEIGHTS, strict=True))
    return CREDIT_ALPHABET[(31 - total % 31) % 31]


def validate_credit_code(value: str | None, *, field: str = "credit_code") -> str:
    """The normalised 18-character 统一社会信用代码, or ValidationFailed with the reason."""
    code = _normalise(value or "")
    if not code:
        raise _fail(field, "credit_code_required", "请填写统一社会信用代码")
    if len(code) != 18:
        raise _fail(field, "credit_code_length", f"统一社会信用代码应为 18 位，当前为 {len(code)} 位")
    bad = sorted({c for c in code if c not in _CREDIT_VALUE})
    if bad:
        shown = "、".join(bad)
        raise _fail(field, "credit_code_characters",
                    f"统一社会信用代码含有不允许的字符：{shown}（只用数字和大写字母，不含 I、O、Z、S、V）")
    if not code[2:8].isdigit():
        raise _fail(field, "credit_code_region", "统一社会信用代码第 3–8 位应为行政区划代码（6 位数字）")
    if credit_code_check_char(code[:17]) != code[17]:
        raise _fail(field, "credit_code_check_digit", "统一社会信用代码校验码不符，请逐位核对是否输错")
    return code


def is_valid_credit_code(value: str | None) -> bool:
    """True when ``value`` is a valid 统一社会信用代码."""
    try:
        validate_credit_code(value)
    except ValidationFailed:
        return False
    return True


# -- masking ---------------------------------------------------------------------------------


def mask_id_number(value: str | None) -> str:
    """``410724199001011234`` → ``410724********1234``: region and last four kept, birth date hidden."""
    if not value:
        return ""
    number = _normalise(value)
    if len(number) <= 10:
        # Too short to be an ID number: hide all but the last character rather than guess.
        return "*" * (len(number) - 1) + number[-1:]
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


def mask_phone(value: str | None) -> str:
    """``13812345678`` → ``138****5678``; landlines and hotlines (public office numbers) unchanged."""
    if not value:
        return ""
    compact = _normalise(value)
    whole = _MOBILE.match(compact)
    if whole is not None:
        mobile = whole[1]
        return f"{mobile[:3]}****{mobile[7:]}"
    # Free text such as "13812345678 / 0373-4502316": mask the mobile numbers inside it.
    return _MOBILE_IN_TEXT.sub(lambda m: f"{m[1]}****{m[3]}", value)
