"""Case numbers (办件编号): sort by date, read well over the phone, and catch a mistyped digit.

Shape: ``YYYYMMDD-NNNNN-C`` — the acceptance (or submission) date, the day's sequence and a Luhn
check digit over the other 13 digits, e.g. ``20261123-00042-8``. Digits only, so a caller can read it
out group by group; string order is date order; any single wrong digit or swap of neighbours is
caught by the check digit before a lookup is even made.
"""

from __future__ import annotations

import datetime as dt
import re

from onewindow.core.errors import Problem, ValidationFailed

_PATTERN = re.compile(r"^(\d{8})-?(\d{5})-?(\d)$")
MAX_SEQUENCE = 99_999


def luhn_check_digit(digits: str) -> str:
    """The Luhn check digit that completes ``digits``."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:  # doubled: every second digit counting from the (future) check digit's left
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def format_case_number(day: dt.date, sequence: int) -> str:
    """The case number of the ``sequence``-th case of ``day`` (1-based)."""
    if not 1 <= sequence <= MAX_SEQUENCE:
        raise ValueError(f"sequence out of range: {sequence}")
    body = f"{day:%Y%m%d}{sequence:05d}"
    return f"{day:%Y%m%d}-{sequence:05d}-{luhn_check_digit(body)}"


def parse_case_number(value: str, *, field: str = "case_number") -> tuple[dt.date, int]:
    """Date and sequence of a case number typed by a person (spaces and missing dashes tolerated)."""
    raw = re.sub(r"[\s\u3000]", "", value or "").replace("—", "-").replace("－", "-")
    match = _PATTERN.match(raw)
    if not match:
        raise ValidationFailed([Problem(field, "invalid_case_number",
                                        "办件编号格式应为“年月日-五位序号-校验位”，如 20261123-00042-8")])
    day_s, seq_s, check = match.groups()
    if luhn_check_digit(day_s + seq_s) != check:
        raise ValidationFailed([Problem(field, "case_number_checksum", "办件编号校验位不符，请核对是否输错")])
    try:
        day = dt.date(int(day_s[:4]), int(day_s[4:6]), int(day_s[6:]))
    except ValueError:
        raise ValidationFailed([Problem(field, "invalid_case_number", "办件编号中的日期无效")]) from None
    return day, int(seq_s)
