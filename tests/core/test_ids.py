"""公民身份号码 (GB 11643), 统一社会信用代码 (GB 32100) and masking, with checksums worked by hand."""

from __future__ import annotations

import datetime as dt

import pytest

from onewindow.core.errors import ValidationFailed
from onewindow.core.ids import (
    birth_date_from_id,
    credit_code_check_char,
    id_check_char,
    is_valid_credit_code,
    is_valid_id_number,
    mask_id_number,
    mask_phone,
    validate_credit_code,
    validate_id_number,
)

# -- 公民身份号码 ----------------------------------------------------------------------------
# weights 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2; check "10X98765432"[sum % 11]


def test_design_example_is_valid_and_normalised_to_upper_case_x() -> None:
    # 1 1 0 1 0 5 1 9 4 9 1 2 3 1 0 0 2
    # 7+9+0+5+0+20+2+9+24+27+7+18+30+5+0+0+4 = 167; 167 % 11 = 2 → "X"
    assert 7 + 9 + 0 + 5 + 0 + 20 + 2 + 9 + 24 + 27 + 7 + 18 + 30 + 5 + 0 + 0 + 4 == 167
    assert id_check_char("11010519491231002") == "X"
    assert validate_id_number("11010519491231002x") == "11010519491231002X"
    assert validate_id_number(" 110105 19491231 002X ") == "11010519491231002X"
    assert validate_id_number("１１０１０５１９４９１２３１００２Ｘ") == "11010519491231002X"  # full-width


def test_hand_computed_numbers_are_valid() -> None:
    # 410724 19900101 123: 28+9+0+35+16+16+2+9+54+0+0+9+0+5+8+8+6 = 205; 205 % 11 = 7 → "5"
    assert 28 + 9 + 0 + 35 + 16 + 16 + 2 + 9 + 54 + 0 + 0 + 9 + 0 + 5 + 8 + 8 + 6 == 205
    assert validate_id_number("410724199001011235") == "410724199001011235"
    # 440304 20000229 001 (a leap day): 28+36+0+15+0+16+4+0+0+0+0+18+20+45+0+0+2 = 184; 184 % 11 = 8 → "4"
    assert 28 + 36 + 0 + 15 + 0 + 16 + 4 + 0 + 0 + 0 + 0 + 18 + 20 + 45 + 0 + 0 + 2 == 184
    assert is_valid_id_number("440304200002290014")
    assert birth_date_from_id("440304200002290014") == dt.date(2000, 2, 29)
    assert birth_date_from_id("11010519491231002x") == dt.date(1949, 12, 31)


@pytest.mark.parametrize(("value", "code"), [
    ("", "id_number_required"),
    (None, "id_number_required"),
    ("410724900101123", "id_number_old_format"),
    ("41072419900101123", "id_number_length"),
    ("4107241990010112356", "id_number_length"),
    ("41072419900101123A", "id_number_characters"),
    ("4107241990O101123X", "id_number_characters"),
    ("001234199001011235", "id_number_region"),
    ("410724199002301234", "id_number_birth_date"),  # 30 February
    ("410724190002291234", "id_number_birth_date"),  # 1900 was not a leap year
    ("410724199001011234", "id_number_check_digit"),  # the masking example: its check is 5, not 4
    ("11010519491231002Y", "id_number_characters"),
    ("110105194912310021", "id_number_check_digit"),
])
def test_invalid_id_numbers_say_why(value: str | None, code: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        validate_id_number(value, field="applicant.id_number")
    problem = caught.value.problems[0]
    assert (problem.field, problem.code) == ("applicant.id_number", code)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in problem.message)  # a Chinese reason
    assert not is_valid_id_number(value)


def test_old_fifteen_digit_numbers_get_a_clear_message() -> None:
    with pytest.raises(ValidationFailed, match="15 位旧身份证号码已停止使用"):
        validate_id_number("410724900101123")


def test_future_birth_date_is_refused_when_today_is_given() -> None:
    # 110105 20300101 001: 7+9+0+5+0+20+4+0+18+0+0+9+0+5+0+0+2 = 79; 79 % 11 = 2 → "X"
    assert 7 + 9 + 0 + 5 + 0 + 20 + 4 + 0 + 18 + 0 + 0 + 9 + 0 + 5 + 0 + 0 + 2 == 79
    assert validate_id_number("11010520300101001X") == "11010520300101001X"
    with pytest.raises(ValidationFailed, match="晚于今天"):
        validate_id_number("11010520300101001X", today=dt.date(2026, 11, 23))


def test_check_digit_error_does_not_reveal_the_right_character() -> None:
    with pytest.raises(ValidationFailed) as caught:
        validate_id_number("410724199001011234")
    assert "5" not in caught.value.message


# -- 统一社会信用代码 ------------------------------------------------------------------------
# alphabet 0-9 A-H J-N P-R T U W X Y (A=10 … M=21 … Y=30);
# weights 1 3 9 27 19 26 16 17 20 29 25 13 8 24 10 30 28; check 31 - sum % 31, 31 → "0"


def test_design_example_credit_code_is_valid() -> None:
    # 9 1 3 5 0 1 0 0 M 0 0 0 1 0 0 Y 4
    # 9+3+27+135+0+26+0+0+21*20+0+0+0+8+0+0+30*30+4*28 = 1640; 1640 % 31 = 28; 31 - 28 = 3
    assert 9 + 3 + 27 + 135 + 0 + 26 + 0 + 0 + 420 + 0 + 0 + 0 + 8 + 0 + 0 + 900 + 112 == 1640
    assert credit_code_check_char("91350100M000100Y4") == "3"
    assert validate_credit_code("91350100m000100y43") == "91350100M000100Y43"
    assert is_valid_credit_code("91350100M000100Y43")


def test_hand_computed_credit_codes_are_valid() -> None:
    # 9 2 4 1 0 7 2 4 M A 3 X 0 B 7 K 0 (A=10, X=29, B=11, K=19):
    # 9+6+36+27+0+182+32+68+420+290+75+377+0+264+70+570+0 = 2426; 2426 % 31 = 8; 31 - 8 = 23 → "P"
    assert 9 + 6 + 36 + 27 + 0 + 182 + 32 + 68 + 420 + 290 + 75 + 377 + 0 + 264 + 70 + 570 + 0 == 2426
    assert validate_credit_code("92410724MA3X0B7K0P") == "92410724MA3X0B7K0P"
    # 1 2 1 0 0 0 0 0 4 0 0 0 0 0 6 2 A: 1+6+9+0+0+0+0+0+80+0+0+0+0+0+60+60+280 = 496 = 16 × 31,
    # so 31 - 0 = 31, which is written "0".
    assert 1 + 6 + 9 + 80 + 60 + 60 + 280 == 496 == 16 * 31
    assert credit_code_check_char("1210000040000062A") == "0"
    assert is_valid_credit_code("1210000040000062A0")


@pytest.mark.parametrize(("value", "code"), [
    ("", "credit_code_required"),
    ("91350100M000100Y4", "credit_code_length"),
    ("91350100M000100Y4O", "credit_code_characters"),
    ("91350100I000100Y43", "credit_code_characters"),
    ("9135A100M000100Y43", "credit_code_region"),
    ("91350100M000100Y44", "credit_code_check_digit"),
])
def test_invalid_credit_codes_say_why(value: str, code: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        validate_credit_code(value, field="enterprise.credit_code")
    assert (caught.value.field, caught.value.code) == ("enterprise.credit_code", code)
    assert not is_valid_credit_code(value)


def test_credit_code_letters_never_used_are_named() -> None:
    with pytest.raises(ValidationFailed, match="不含 I、O、Z、S、V") as caught:
        validate_credit_code("91350100S000100Z43")
    assert "S、Z" in caught.value.message


# -- masking ---------------------------------------------------------------------------------


def test_mask_id_number() -> None:
    assert mask_id_number("410724199001011234") == "410724********1234"
    assert mask_id_number("11010519491231002x") == "110105********002X"
    assert mask_id_number("") == ""
    assert mask_id_number(None) == ""
    assert mask_id_number("12345") == "****5"  # not an ID number: nothing useful is left


def test_mask_phone_masks_mobiles_only() -> None:
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("+86 138-1234-5678") == "138****5678"
    assert mask_phone("0373-4502316") == "0373-4502316"  # an office landline is public
    assert mask_phone("12345") == "12345"  # hotline
    assert mask_phone("手机13812345678，办公0373-4502316") == "手机138****5678，办公0373-4502316"
    assert mask_phone(None) == ""
