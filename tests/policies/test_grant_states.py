"""The grant state machine: the legal path to payment, and every other move refused with 409."""

from __future__ import annotations

from itertools import pairwise

import pytest

from onewindow.core.errors import Conflict
from onewindow.policies.grants_states import FINAL, TRANSITIONS, GrantState, check_transition

HAPPY_PATH = [GrantState.PENDING, GrantState.CONFIRMED, GrantState.APPROVED, GrantState.PAID, GrantState.NOTIFIED]


def test_offer_goes_confirmed_approved_paid_notified() -> None:
    for current, target in pairwise(HAPPY_PATH):
        assert check_transition(current, target) is target


def test_declined_and_expired_are_final_and_kept() -> None:
    assert {GrantState.DECLINED, GrantState.EXPIRED, GrantState.NOTIFIED} == FINAL
    assert check_transition("pending", "declined") is GrantState.DECLINED
    assert check_transition("confirmed", "expired") is GrantState.EXPIRED


@pytest.mark.parametrize("current", list(GrantState))
def test_every_move_outside_the_table_is_a_409(current: GrantState) -> None:
    for target in GrantState:
        if target in TRANSITIONS[current]:
            continue
        with pytest.raises(Conflict) as info:
            check_transition(current, target)
        assert info.value.status == 409
        assert info.value.code == "illegal_transition"
        assert current.label in info.value.message


def test_payment_cannot_skip_the_department() -> None:
    with pytest.raises(Conflict):
        check_transition(GrantState.CONFIRMED, GrantState.PAID)
    with pytest.raises(Conflict):
        check_transition(GrantState.PENDING, GrantState.APPROVED)
