"""Case numbers sort by date, round-trip, and catch typing mistakes."""

from __future__ import annotations

import datetime as dt

import pytest

from onewindow.cases.numbers import format_case_number, luhn_check_digit, parse_case_number
from onewindow.core.errors import ValidationFailed


def test_known_luhn_digit() -> None:
    # The classic Luhn example: 7992739871 completes with 3.
    assert luhn_check_digit("7992739871") == "3"


def test_format_and_parse_round_trip() -> None:
    number = format_case_number(dt.date(2026, 11, 23), 42)
    assert number == "20261123-00042-8"
    assert parse_case_number(number) == (dt.date(2026, 11, 23), 42)
    # typed over the phone: spaces, no dashes
    assert parse_case_number(number.replace("-", " ")) == (dt.date(2026, 11, 23), 42)


def test_string_order_is_date_then_sequence_order() -> None:
    numbers = [format_case_number(dt.date(2026, 12, 31), 1), format_case_number(dt.date(2026, 2, 1), 99),
               format_case_number(dt.date(2026, 2, 1), 100), format_case_number(dt.date(2027, 1, 1), 1)]
    assert sorted(numbers) == [numbers[1], numbers[2], numbers[0], numbers[3]]


def test_every_single_digit_typo_is_caught() -> None:
    number = format_case_number(dt.date(2026, 11, 23), 42).replace("-", "")
    for i in range(len(number)):
        for d in "0123456789":
            if d == number[i]:
                continue
            typo = number[:i] + d + number[i + 1:]
            with pytest.raises(ValidationFailed):
                parse_case_number(typo)


def test_bad_shapes_are_refused_in_chinese() -> None:
    for bad in ["", "2026-11-23", "20261123-42-1", "abc"]:
        with pytest.raises(ValidationFailed) as err:
            parse_case_number(bad)
        assert "办件编号" in err.value.message
