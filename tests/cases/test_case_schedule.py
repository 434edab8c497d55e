"""One pure answer for every date of a case and its warning, in every state (the real 2026 calendar)."""

from __future__ import annotations

import datetime as dt

import pytest

from onewindow.calendar.workdays import WorkCalendar
from onewindow.cases.deadlines import DeadlineWarning, Limits, RemainingStatus, compute, schedule
from onewindow.cases.states import CaseState

CAL = WorkCalendar()
D = dt.date
S = CaseState
W = DeadlineWarning

# Accepted Mon 2026-06-01 with a promise of 5 working days: Tue 2 … Mon 8 June (promised due).
ACCEPTED = D(2026, 6, 1)
LIMITS = Limits(legal_days=20, promised_days=5)
PROMISED = D(2026, 6, 8)


def test_promised_due_is_the_fifth_working_day() -> None:
    s = schedule(CAL, limits=LIMITS, state=S.ACCEPTED, today=ACCEPTED, accepted_on=ACCEPTED)
    assert s.promised_due == PROMISED
    assert s.legal_due == compute(CAL, accepted_on=ACCEPTED, limits=LIMITS).legal.date
    assert not s.provisional


@pytest.mark.parametrize(("state", "today", "text", "warning", "status"), [
    (S.ACCEPTED, D(2026, 6, 1), "剩 5 个工作日", W.NONE, RemainingStatus.RUNNING),
    (S.IN_REVIEW, D(2026, 6, 4), "剩 2 个工作日", W.NONE, RemainingStatus.RUNNING),
    (S.IN_REVIEW, D(2026, 6, 5), "剩 1 个工作日", W.YELLOW, RemainingStatus.RUNNING),  # Friday eve of Monday
    (S.IN_REVIEW, D(2026, 6, 6), "剩 1 个工作日", W.YELLOW, RemainingStatus.RUNNING),  # the weekend between
    (S.IN_REVIEW, PROMISED, "今天到期", W.YELLOW, RemainingStatus.DUE_TODAY),  # never red on the due day
    (S.IN_REVIEW, D(2026, 6, 9), "已超期 1 个工作日", W.RED, RemainingStatus.OVERDUE),
    (S.ACCEPTED, D(2026, 6, 17), "已超期 7 个工作日", W.RED, RemainingStatus.OVERDUE),
    (S.SUSPENDED, D(2026, 6, 17), "暂停计时", W.NONE, RemainingStatus.PAUSED),
    # closed: how it ended, never today's distance, never a warning
    (S.APPROVED, D(2026, 6, 17), "按期办结", W.NONE, RemainingStatus.ON_TIME),
    (S.DENIED, D(2026, 6, 17), "按期办结", W.NONE, RemainingStatus.ON_TIME),
    (S.DELIVERED, D(2026, 6, 17), "按期办结", W.NONE, RemainingStatus.ON_TIME),
    (S.ARCHIVED, D(2026, 6, 17), "按期办结", W.NONE, RemainingStatus.ON_TIME),
    (S.WITHDRAWN, D(2026, 6, 17), "已撤回", W.NONE, RemainingStatus.ENDED),
    (S.TERMINATED, D(2026, 6, 5), "已终止", W.NONE, RemainingStatus.ENDED),
])
def test_remaining_time_and_warning_by_state(state: CaseState, today: dt.date, text: str, warning: DeadlineWarning,
                                              status: RemainingStatus) -> None:
    decided = D(2026, 6, 8) if state in (S.APPROVED, S.DENIED, S.DELIVERED, S.ARCHIVED) else None
    s = schedule(CAL, limits=LIMITS, state=state, today=today, accepted_on=ACCEPTED, decided_on=decided)
    assert (s.remaining.text, s.warning, s.remaining.status) == (text, warning, status)


def test_an_archived_case_decided_on_time_is_not_overdue_weeks_later() -> None:
    s = schedule(CAL, limits=LIMITS, state=S.ARCHIVED, today=D(2026, 6, 17), accepted_on=ACCEPTED,
                 decided_on=D(2026, 6, 5))
    assert s.remaining.text == "按期办结"
    assert s.warning is W.NONE


def test_a_terminated_case_has_no_time_left() -> None:
    s = schedule(CAL, limits=LIMITS, state=S.TERMINATED, today=D(2026, 6, 5), accepted_on=ACCEPTED)
    assert s.remaining.text == "已终止"
    assert s.remaining.days is None
    assert s.warning is W.NONE


def test_overdue_on_a_weekend_after_the_due_date_is_red_and_says_so() -> None:
    # Due Fri 2026-06-05 (4 working days); on Saturday no working day is lost yet, but the date has passed:
    # the badge and the text agree (today a red 已超期 badge sat next to 今天到期).
    s = schedule(CAL, limits=Limits(20, 4), state=S.IN_REVIEW, today=D(2026, 6, 6), accepted_on=ACCEPTED)
    assert s.promised_due == D(2026, 6, 5)
    assert (s.warning, s.remaining.status, s.remaining.text) == (W.RED, RemainingStatus.OVERDUE, "已超期")
    for day in (D(2026, 6, 1), D(2026, 6, 4), D(2026, 6, 5), D(2026, 6, 6), D(2026, 6, 8)):
        r = schedule(CAL, limits=Limits(20, 4), state=S.IN_REVIEW, today=day, accepted_on=ACCEPTED)
        assert (r.warning is W.RED) == (r.remaining.status is RemainingStatus.OVERDUE)
        assert not (r.warning is W.RED and r.remaining.text == "今天到期")


def test_decided_late_counts_working_days_past_the_promise() -> None:
    s = schedule(CAL, limits=LIMITS, state=S.DELIVERED, today=D(2026, 7, 1), accepted_on=ACCEPTED,
                 decided_on=D(2026, 6, 10))
    assert (s.remaining.status, s.remaining.text, s.remaining.days) == (RemainingStatus.LATE, "超期 2 个工作日办结", 2)


@pytest.mark.parametrize(("state", "text", "status"), [
    (S.SUBMITTED, "未开始计时", RemainingStatus.NOT_STARTED),
    (S.CORRECTION_REQUESTED, "未开始计时", RemainingStatus.NOT_STARTED),
    (S.REFUSED, "不予受理", RemainingStatus.ENDED),
    (S.WITHDRAWN, "已撤回", RemainingStatus.ENDED),
])
def test_a_case_never_accepted_has_no_dates(state: CaseState, text: str, status: RemainingStatus) -> None:
    s = schedule(CAL, limits=LIMITS, state=state, today=ACCEPTED, accepted_on=None)
    assert (s.legal_due, s.promised_due, s.deferral_due, s.warning) == (None, None, None, W.NONE)
    assert (s.remaining.text, s.remaining.status) == (text, status)


def test_suspension_moves_both_dates_and_stops_the_warning() -> None:
    pause = [(D(2026, 6, 3), D(2026, 6, 5))]  # Wed–Fri: three working days do not count
    s = schedule(CAL, limits=LIMITS, state=S.SUSPENDED, today=D(2026, 6, 5), accepted_on=ACCEPTED, suspensions=pause)
    assert s.promised_due == D(2026, 6, 11)
    assert CAL.working_days_between(compute(CAL, accepted_on=ACCEPTED, limits=LIMITS).legal.date, s.legal_due) == 3
    assert s.warning is W.NONE


def test_extension_moves_the_legal_date_only() -> None:
    base = schedule(CAL, limits=LIMITS, state=S.IN_REVIEW, today=ACCEPTED, accepted_on=ACCEPTED)
    ext = schedule(CAL, limits=LIMITS, state=S.IN_REVIEW, today=ACCEPTED, accepted_on=ACCEPTED, extension_days=10)
    assert ext.promised_due == base.promised_due
    assert base.legal_due is not None and ext.legal_due is not None
    assert CAL.working_days_between(base.legal_due, ext.legal_due) == 10


def test_a_sub_case_never_passes_its_bundle_promise() -> None:
    s = schedule(CAL, limits=Limits(20, 15), state=S.IN_REVIEW, today=ACCEPTED, accepted_on=ACCEPTED,
                 parent_promised_due=PROMISED)
    assert s.promised_due == PROMISED
    earlier = schedule(CAL, limits=Limits(20, 2), state=S.IN_REVIEW, today=ACCEPTED, accepted_on=ACCEPTED,
                       parent_promised_due=PROMISED)
    assert earlier.promised_due == D(2026, 6, 3)  # its own promise is sooner: kept


def test_a_sub_case_whose_own_clock_stopped_may_pass_the_bundle_promise() -> None:
    paused = schedule(CAL, limits=Limits(20, 5), state=S.IN_REVIEW, today=D(2026, 6, 10), accepted_on=ACCEPTED,
                      parent_promised_due=PROMISED, suspensions=[(D(2026, 6, 3), D(2026, 6, 4))])
    assert paused.promised_due == D(2026, 6, 10)
    extended = schedule(CAL, limits=Limits(20, 10), state=S.IN_REVIEW, today=ACCEPTED, accepted_on=ACCEPTED,
                        parent_promised_due=PROMISED, extension_days=5)
    assert extended.promised_due == D(2026, 6, 15)


@pytest.mark.parametrize(("days", "expected"), [(2, D(2026, 6, 3)), (10, PROMISED)])
def test_deferral_never_passes_the_promised_date(days: int, expected: dt.date) -> None:
    s = schedule(CAL, limits=LIMITS, state=S.ACCEPTED, today=ACCEPTED, accepted_on=ACCEPTED, deferred=True,
                 deferral_days=days)
    assert s.deferral_due == expected


def test_deferral_stays_put_when_a_suspension_moves_the_promise() -> None:
    s = schedule(CAL, limits=LIMITS, state=S.IN_REVIEW, today=D(2026, 6, 9), accepted_on=ACCEPTED, deferred=True,
                 deferral_days=10, suspensions=[(D(2026, 6, 3), D(2026, 6, 5))])
    assert s.promised_due == D(2026, 6, 11)
    assert s.deferral_due == PROMISED  # capped by the promise the case had at acceptance


def test_deferral_of_a_sub_case_is_capped_by_the_bundle_promise() -> None:
    s = schedule(CAL, limits=Limits(20, 15), state=S.ACCEPTED, today=ACCEPTED, accepted_on=ACCEPTED, deferred=True,
                 deferral_days=10, parent_promised_due=PROMISED)
    assert s.deferral_due == PROMISED


def test_no_deferral_date_without_deferred_materials() -> None:
    s = schedule(CAL, limits=LIMITS, state=S.ACCEPTED, today=ACCEPTED, accepted_on=ACCEPTED, deferral_days=10)
    assert s.deferral_due is None


def test_december_acceptance_gives_provisional_2027_dates() -> None:
    s = schedule(CAL, limits=Limits(20, 10), state=S.ACCEPTED, today=D(2026, 12, 25), accepted_on=D(2026, 12, 25))
    assert s.legal_due is not None and s.legal_due.year == 2027
    assert s.provisional
    assert s.remaining.text == "剩 10 个工作日"


def test_spring_festival_matches_the_hand_computed_date() -> None:
    # Thu 2026-02-12 + 5 working days, the make-up Saturday counted, the holiday skipped → Thu 2026-02-26.
    s = schedule(CAL, limits=Limits(20, 5), state=S.ACCEPTED, today=D(2026, 2, 12), accepted_on=D(2026, 2, 12))
    assert (s.promised_due, s.legal_due) == (D(2026, 2, 26), D(2026, 3, 18))
    eve = schedule(CAL, limits=Limits(20, 5), state=S.IN_REVIEW, today=D(2026, 2, 20), accepted_on=D(2026, 2, 12))
    assert (eve.remaining.text, eve.warning) == ("剩 3 个工作日", W.NONE)  # holiday days do not count


def test_instant_item_is_due_on_the_acceptance_day() -> None:
    s = schedule(CAL, limits=Limits(0, 0), state=S.ACCEPTED, today=ACCEPTED, accepted_on=ACCEPTED)
    assert (s.promised_due, s.remaining.text, s.warning) == (ACCEPTED, "今天到期", W.YELLOW)
