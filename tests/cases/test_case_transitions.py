"""The case state machine: every legal move passes, every other move is a 409."""

from __future__ import annotations

import itertools

import pytest

from onewindow.cases.states import TRANSITIONS, CaseState, check_transition, is_withdrawable
from onewindow.core.errors import Conflict

LEGAL = [(a, b) for a, targets in TRANSITIONS.items() for b in sorted(targets)]  # sorted: one order in every process
ILLEGAL = [(a, b) for a, b in itertools.product(CaseState, CaseState) if b not in TRANSITIONS[a]]


@pytest.mark.parametrize(("current", "target"), LEGAL)
def test_legal_transition_passes(current: CaseState, target: CaseState) -> None:
    assert check_transition(current, target) is target


@pytest.mark.parametrize(("current", "target"), ILLEGAL)
def test_illegal_transition_is_409(current: CaseState, target: CaseState) -> None:
    with pytest.raises(Conflict) as err:
        check_transition(current, target)
    assert err.value.status == 409
    assert err.value.code == "illegal_case_transition"
    assert current.label in err.value.message


def test_every_state_can_reach_archived() -> None:
    reach = {CaseState.ARCHIVED}
    changed = True
    while changed:
        changed = False
        for state, targets in TRANSITIONS.items():
            if state not in reach and targets & reach:
                reach.add(state)
                changed = True
    assert reach == set(CaseState)


def test_instant_item_is_decided_at_acceptance() -> None:
    assert check_transition("accepted", "approved") is CaseState.APPROVED


def test_withdrawal_only_before_a_decision() -> None:
    assert is_withdrawable(CaseState.IN_REVIEW)
    assert not is_withdrawable(CaseState.APPROVED)
    with pytest.raises(Conflict):
        check_transition(CaseState.APPROVED, CaseState.WITHDRAWN)
