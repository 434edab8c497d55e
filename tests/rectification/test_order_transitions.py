"""The rectification state machine, move by move: every pair of states is either in the table or refused (409)."""

from __future__ import annotations

import pytest

from onewindow.core.errors import Conflict
from onewindow.rectification.states import (
    STATE_LABELS,
    TRANSITIONS,
    OrderState,
    SourceKind,
    Verdict,
    after_callback,
    check_transition,
)

S = OrderState
ALLOWED = {
    (S.PENDING, S.VERIFIED),
    (S.VERIFIED, S.APPEALED), (S.VERIFIED, S.RECTIFYING),
    (S.APPEALED, S.VOIDED), (S.APPEALED, S.RECTIFYING),
    (S.RECTIFYING, S.RECTIFIED), (S.RECTIFYING, S.UNRECTIFIABLE_REVIEW),
    (S.UNRECTIFIABLE_REVIEW, S.UNRECTIFIABLE), (S.UNRECTIFIABLE_REVIEW, S.RECTIFYING),
    (S.RECTIFIED, S.CLOSED), (S.RECTIFIED, S.RECTIFYING), (S.RECTIFIED, S.ESCALATED),
    (S.UNRECTIFIABLE, S.CLOSED), (S.UNRECTIFIABLE, S.ESCALATED),
    (S.ESCALATED, S.CLOSED),
}


@pytest.mark.parametrize("current", list(OrderState))
@pytest.mark.parametrize("target", list(OrderState))
def test_every_move_is_allowed_exactly_when_the_table_says_so(current: OrderState, target: OrderState) -> None:
    if (current, target) in ALLOWED:
        assert check_transition(current.value, target.value) is target
    else:
        with pytest.raises(Conflict) as exc:
            check_transition(current, target)
        assert exc.value.status == 409 and exc.value.code == "illegal_order_transition"
        assert current.label in exc.value.message and target.label in exc.value.message


def test_the_table_names_every_state_and_voided_and_closed_are_final() -> None:
    assert set(TRANSITIONS) == set(OrderState) == set(STATE_LABELS)
    assert TRANSITIONS[S.VOIDED] == TRANSITIONS[S.CLOSED] == frozenset()
    assert {(a, b) for a, targets in TRANSITIONS.items() for b in targets} == ALLOWED


def test_labels_are_chinese() -> None:
    assert [s.label for s in OrderState] == ["待核实", "已核实", "申诉中", "无效（申诉成立）", "整改中", "整改完成",
                                             "无法整改审核", "无法整改", "升级督办", "办结"]
    assert [k.label for k in SourceKind] == ["差评", "回访不满意", "体验员反映", "投诉"]


@pytest.mark.parametrize(("state", "verdict", "reopens", "target"), [
    (S.RECTIFIED, Verdict.SATISFIED, 0, S.CLOSED),
    (S.RECTIFIED, Verdict.BASIC, 1, S.CLOSED),
    (S.RECTIFIED, Verdict.UNSATISFIED, 0, S.RECTIFYING),
    (S.RECTIFIED, Verdict.UNSATISFIED, 1, S.ESCALATED),
    (S.UNRECTIFIABLE, Verdict.SATISFIED, 0, S.CLOSED),
    (S.UNRECTIFIABLE, Verdict.UNSATISFIED, 0, S.ESCALATED),
])
def test_a_callback_closes_reopens_once_or_escalates(state: OrderState, verdict: Verdict, reopens: int,
                                                     target: OrderState) -> None:
    assert after_callback(state, verdict, reopens) is target


def test_a_callback_before_rectification_is_refused() -> None:
    with pytest.raises(Conflict):
        after_callback(S.RECTIFYING, Verdict.SATISFIED, 0)
