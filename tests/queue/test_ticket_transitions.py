"""The ticket state machine: every legal move passes, every illegal one answers 409 in Chinese."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from onewindow.core.clock import CHINA_TZ
from onewindow.core.errors import Conflict, ValidationFailed
from onewindow.queue import states
from onewindow.queue.states import TRANSITIONS, TicketClass, TicketState

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=CHINA_TZ)


def at(minutes: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


LEGAL = [(a, b) for a in TicketState for b in TicketState if b in TRANSITIONS[a]]
ILLEGAL = [(a, b) for a, b in itertools.product(TicketState, TicketState) if b not in TRANSITIONS[a]]


def test_table_covers_every_state() -> None:
    assert set(TRANSITIONS) == set(TicketState)
    assert len(LEGAL) + len(ILLEGAL) == len(TicketState) ** 2


@pytest.mark.parametrize(("current", "target"), LEGAL, ids=str)
def test_legal_transition_passes(current: TicketState, target: TicketState) -> None:
    states.check_transition(current, target)
    assert states.can_transition(current, target)


@pytest.mark.parametrize(("current", "target"), ILLEGAL, ids=str)
def test_illegal_transition_is_a_409_conflict(current: TicketState, target: TicketState) -> None:
    with pytest.raises(Conflict) as caught:
        states.check_transition(current, target)
    exc = caught.value
    assert exc.status == 409
    assert exc.code == "illegal_ticket_transition"
    assert target.label in exc.message
    assert not states.can_transition(current, target)


def test_final_states_have_no_way_out() -> None:
    for state in states.FINAL_STATES:
        assert TRANSITIONS[state] == frozenset()
    with pytest.raises(Conflict, match="号票已办结"):
        states.check_transition(TicketState.DONE, TicketState.WAITING)


def new_ticket() -> states.Ticket:
    return states.issue_ticket(number="A001", category="A", ticket_class=TicketClass.NORMAL, at=at(0))


def test_happy_path_is_time_stamped_and_measures_wait_and_service() -> None:
    t = new_ticket()
    t = states.call_ticket(t, at=at(12), window="3")
    t = states.start_serving(t, at=at(13))
    t = states.finish_ticket(t, at=at(21.5))
    assert t.state is TicketState.DONE
    assert [c.state for c in t.history] == [TicketState.WAITING, TicketState.CALLED, TicketState.SERVING,
                                            TicketState.DONE]
    assert [c.at for c in t.history] == [at(0), at(12), at(13), at(21.5)]
    assert t.wait_minutes() == 12
    assert t.service_minutes() == 8.5


def test_no_show_is_recalled_then_missed_after_max_calls() -> None:
    t = states.call_ticket(new_ticket(), at=at(5))
    t = states.recall_ticket(t, at=at(6), max_calls=3)
    t = states.recall_ticket(t, at=at(7), max_calls=3)
    assert (t.state, t.calls) == (TicketState.CALLED, 3)
    t = states.recall_ticket(t, at=at(8), max_calls=3)
    assert t.state is TicketState.MISSED
    assert t.wait_minutes() == 5  # the first call ends the wait


def test_missed_ticket_is_requeued_once_at_the_back() -> None:
    t = states.mark_missed(states.call_ticket(new_ticket(), at=at(5)), at=at(7))
    t = states.requeue_missed(t, at=at(30))
    assert (t.state, t.queued_at, t.issued_at, t.calls, t.requeues) == (TicketState.WAITING, at(30), at(0), 0, 1)
    t = states.mark_missed(states.call_ticket(t, at=at(40)), at=at(42))
    with pytest.raises(Conflict) as caught:
        states.requeue_missed(t, at=at(50))
    assert caught.value.code == "requeue_exhausted"


def test_requeue_of_a_ticket_that_was_not_missed_is_refused() -> None:
    with pytest.raises(Conflict):
        states.requeue_missed(new_ticket(), at=at(1))


@pytest.mark.parametrize(("keep_time", "expected"), [(True, 0), (False, 20)])
def test_transfer_keeps_or_drops_the_original_time(keep_time: bool, expected: float) -> None:
    t = states.start_serving(states.call_ticket(new_ticket(), at=at(10)), at=at(11))
    t = states.transfer_ticket(t, at=at(20), to_category="B", keep_time=keep_time)
    assert (t.state, t.category, t.queued_at, t.transfers) == (TicketState.TRANSFERRED, "B", at(expected), 1)
    assert t.state in states.QUEUED_STATES
    t = states.start_serving(states.call_ticket(t, at=at(25)), at=at(26))
    t = states.finish_ticket(t, at=at(30))
    assert t.serving_at == at(26)  # the service that ended is the one after the transfer
    assert t.wait_minutes() == 10


def test_transfer_needs_a_target_category() -> None:
    t = states.call_ticket(new_ticket(), at=at(1))
    with pytest.raises(ValidationFailed):
        states.transfer_ticket(t, at=at(2), to_category="", keep_time=True)


def test_waiting_ticket_can_be_cancelled_but_a_served_one_cannot() -> None:
    assert states.cancel_ticket(new_ticket(), at=at(3), reason="离开").state is TicketState.CANCELLED
    serving = states.start_serving(states.call_ticket(new_ticket(), at=at(1)), at=at(2))
    with pytest.raises(Conflict):
        states.cancel_ticket(serving, at=at(3))


def test_calling_a_called_ticket_needs_a_recall() -> None:
    t = states.call_ticket(new_ticket(), at=at(1))
    with pytest.raises(Conflict) as caught:
        states.call_ticket(t, at=at(2))
    assert caught.value.code == "already_called"


def test_recall_of_a_ticket_that_is_not_called_is_refused() -> None:
    with pytest.raises(Conflict):
        states.recall_ticket(new_ticket(), at=at(1))


def test_illegal_verb_leaves_the_ticket_unchanged() -> None:
    t = new_ticket()
    with pytest.raises(Conflict):
        states.finish_ticket(t, at=at(1))
    assert t.state is TicketState.WAITING and len(t.history) == 1


def test_time_cannot_run_backwards() -> None:
    t = states.call_ticket(new_ticket(), at=at(10))
    with pytest.raises(Conflict) as caught:
        states.start_serving(t, at=at(5))
    assert caught.value.code == "ticket_time_backwards"


def test_naive_datetimes_are_refused() -> None:
    naive = dt.datetime(2026, 3, 2, 9, 0)  # noqa: DTZ001 - the point of the test
    with pytest.raises(ValueError, match="aware"):
        states.issue_ticket(number="A001", category="A", ticket_class=TicketClass.NORMAL, at=naive)


@pytest.mark.parametrize(("text", "expected"), [("vip", TicketClass.VIP), ("爱心绿色通道", TicketClass.GREEN),
                                                ("预约", TicketClass.APPOINTMENT), ("普通", TicketClass.NORMAL)])
def test_ticket_class_parses_code_or_chinese_label(text: str, expected: TicketClass) -> None:
    assert states.parse_ticket_class(text) is expected


def test_unknown_ticket_class_is_a_clear_error() -> None:
    with pytest.raises(ValidationFailed, match="未知的票种"):
        states.parse_ticket_class("黄金")
