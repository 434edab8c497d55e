"""回访: the daily draw (rate, minimum, no person twice), outcomes, and an unsatisfied callback's work order closed
through 整改 and 回访; 应访尽访 figures."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onewindow import wiring
from onewindow.cases.models import Case
from onewindow.core.audit import Actor
from onewindow.core.clock import FixedClock
from onewindow.core.errors import Conflict, PermissionDenied, ValidationFailed
from onewindow.rectification import service as rectification
from onewindow.rectification.states import OrderState, SourceKind
from onewindow.staff import service as staff_service
from onewindow.staff.models import User
from onewindow.supervision import callbacks
from onewindow.supervision.callback_models import CallbackDraw, CallbackTask
from onewindow.supervision.callback_rules import Candidate, Outcome, SampleRules, draw, person_key, target_size
from tests.factories import CLAIM, at, make_case, make_person, staff

DAY = dt.date(2026, 12, 1)  # a Tuesday with no demo case finished on it
SATISFIED = {"overall": "satisfied", "efficiency": "very_satisfied", "attitude": "satisfied", "guide": "basic",
             "convenience": "satisfied"}
UNSATISFIED = {**SATISFIED, "overall": "unsatisfied", "attitude": "very_unsatisfied"}


def _candidates(n: int, *, start: int = 1) -> list[Candidate]:
    return [Candidate(i, person_key(f"P{i}"), True) for i in range(start, start + n)]


def test_sample_size_is_the_rate_rounded_up_with_a_minimum_and_never_more_than_finished() -> None:
    rules = SampleRules(rate=0.1, minimum=3)
    assert [target_size(n, rules) for n in (0, 1, 2, 3, 10, 30, 31, 45, 100)] == [0, 1, 2, 3, 3, 3, 4, 5, 10]


def test_draw_skips_no_phone_recently_called_and_repeats_of_one_person() -> None:
    rules = SampleRules(rate=0.5, minimum=2)
    cands = [*_candidates(10), Candidate(11, person_key("P1"), True), Candidate(12, person_key("X"), False)]
    recent = {person_key("P2"), person_key("P3")}
    picked = draw(cands, rules=rules, recently_called=recent, seed="2026-12-01:1")
    assert len(picked) == target_size(12, rules) == 6
    keys = [c.person_key for c in picked]
    assert len(set(keys)) == len(keys)  # nobody twice
    assert not set(keys) & recent and person_key("X") not in keys
    assert draw(cands, rules=rules, recently_called=recent, seed="2026-12-01:1") == picked  # reproducible
    # fewer eligible than wanted: every eligible one is drawn
    few = draw(_candidates(4), rules=SampleRules(rate=1.0, minimum=3), recently_called={person_key("P1")},
               seed="s")
    assert [c.case_id for c in few] == [2, 3, 4]


def _finished(session: Session, day: dt.date, n: int, **person: object) -> list[Case]:
    clock = at(day.year, day.month, day.day)
    return [make_case(session, clock, item_code=CLAIM, state="approved",
                      applicant=make_person(session, clock, account=False, **person)) for _ in range(n)]


def test_a_days_draw_respects_rate_minimum_and_no_repeat(session: Session) -> None:
    rules = SampleRules(rate=0.5, minimum=2, no_repeat_days=30)
    regular = make_person(session, at(2026, 11, 30), account=False)
    make_case(session, at(2026, 11, 30), item_code=CLAIM, state="approved", applicant=regular)
    first = callbacks.draw_day(session, clock=at(2026, 12, 1), day=dt.date(2026, 11, 30),
                               rules=SampleRules(rate=1.0, minimum=1))
    assert first.drawn == 1  # the regular was called on 12-01
    cases = _finished(session, DAY, 5)
    again = make_case(session, at(2026, 12, 1), item_code=CLAIM, state="approved", applicant=regular)
    no_phone = _finished(session, DAY, 1, phone="")
    record = callbacks.draw_day(session, clock=at(2026, 12, 2), day=DAY, rules=rules)
    tasks = list(session.scalars(select(CallbackTask).where(CallbackTask.day == DAY)))
    assert record.finished == 7 and record.drawn == len(tasks) == 4  # ceil(7 × 0.5)
    drawn = {t.case_id for t in tasks}
    assert again.id not in drawn and no_phone[0].id not in drawn and drawn <= {c.id for c in cases}
    assert all(t.due_on == dt.date(2026, 12, 4) and t.questions[0]["key"] == "opening" for t in tasks)
    # drawn once: a second run returns the first draw and adds nothing
    assert callbacks.draw_day(session, clock=at(2026, 12, 2), day=DAY, rules=rules).id == record.id
    assert session.scalar(select(func.count()).select_from(CallbackTask).where(CallbackTask.day == DAY)) == 4


def test_the_job_draws_every_undrawn_day_on_working_days_only(session: Session) -> None:
    _finished(session, DAY, 2)
    assert callbacks.sampling_job(session, clock=at(2026, 12, 5)) == {"days": 0, "tasks": 0}  # a Saturday
    counts = callbacks.sampling_job(session, clock=at(2026, 12, 2))
    assert counts["days"] == 7 and counts["tasks"] >= 2
    assert session.scalar(select(CallbackDraw.drawn).where(CallbackDraw.day == DAY)) == 2
    assert callbacks.sampling_job(session, clock=at(2026, 12, 2)) == {"days": 0, "tasks": 0}


@pytest.fixture
def tasks(session: Session) -> list[CallbackTask]:
    _finished(session, DAY, 3)
    callbacks.draw_day(session, clock=at(2026, 12, 2), day=DAY, rules=SampleRules(rate=1.0, minimum=1))
    return list(session.scalars(select(CallbackTask).where(CallbackTask.day == DAY).order_by(CallbackTask.id)))


def _head_of_ybj(session: Session, clock: FixedClock) -> User:
    return staff_service.create_user(session, clock=clock, actor=Actor(None, "test"), username="head_ybj_test",
                                     password="Demo@2026-x", display_name="医保首席", role="dept_head",
                                     department_code="YBJ")


def test_unsatisfied_callback_opens_a_work_order_that_closes_through_rectification_and_callback(
        session: Session, tasks: list[CallbackTask]) -> None:
    wiring.install()
    clock = at(2026, 12, 2, 15)
    supervisor = staff(session, "supervisor")
    task = callbacks.record_outcome(session, clock=clock, user=supervisor, task_id=tasks[0].id,
                                    expected_version=tasks[0].version, reached=True, scores=UNSATISFIED,
                                    remarks="等了三天才拿到结果，窗口说话不耐烦")
    assert task.outcome == Outcome.RECTIFYING and task.order_id is not None
    order = rectification.get_order(session, task.order_id)
    assert (order.source_kind, order.source_id, order.department_id) == (SourceKind.CALLBACK, task.id,
                                                                          task.department_id)
    assert order.raiser_name == task.case.applicant_name and "服务态度：非常不满意" in order.detail
    head = _head_of_ybj(session, clock)
    rectification.verify(session, clock=clock, user=head, order_id=order.id, expected_version=order.version,
                         note="核实属实")
    rectification.complete(session, clock=clock, user=head, order_id=order.id, expected_version=order.version,
                           measures="窗口人员批评教育，限时办结")
    rectification.record_callback(session, clock=clock, user=supervisor, order_id=order.id,
                                  expected_version=order.version, verdict="satisfied", note="满意")
    assert order.state == OrderState.CLOSED
    session.refresh(task)
    assert task.outcome == Outcome.RECTIFIED
    satisfied = callbacks.record_outcome(session, clock=clock, user=supervisor, task_id=tasks[1].id,
                                         expected_version=None, reached=True, scores=SATISFIED)
    assert satisfied.outcome == Outcome.SATISFIED and satisfied.order_id is None
    [rate] = callbacks.rates(session, viewer=supervisor, day_from=DAY, day_to=DAY)
    assert (rate.drawn, rate.called, rate.reached, rate.satisfied, rate.unsatisfied, rate.rectified) == \
        (3, 2, 2, 1, 1, 1)
    assert rate.callback_rate == 0.6667 and rate.satisfaction_rate == 0.5
    [row] = callbacks.daily_report(session, viewer=supervisor, day_from=DAY, day_to=DAY)
    assert row.finished == 3 and row.figures is not None and row.figures.called == 2
    assert callbacks.rates(session, viewer=staff(session, "head_scjg"), day_from=DAY, day_to=DAY) == []
    assert [r.department_id for r in callbacks.rates(session, viewer=head, day_from=DAY, day_to=DAY)] == \
        [task.department_id]


def test_unreached_calls_are_retried_until_the_attempts_run_out(session: Session, tasks: list[CallbackTask]) -> None:
    clock = at(2026, 12, 2, 15)
    admin = staff(session, "admin")
    rules = SampleRules(max_attempts=2)
    t = callbacks.record_outcome(session, clock=clock, user=admin, task_id=tasks[0].id, expected_version=None,
                                 reached=False, remarks="无人接听", rules=rules)
    assert (t.outcome, t.attempts) == (Outcome.PENDING, 1)
    t = callbacks.record_outcome(session, clock=clock, user=admin, task_id=tasks[0].id, expected_version=t.version,
                                 reached=False, rules=rules)
    assert (t.outcome, t.attempts) == (Outcome.UNREACHED, 2) and "无人接听" in t.remarks
    with pytest.raises(Conflict) as refused:
        callbacks.record_outcome(session, clock=clock, user=admin, task_id=t.id, expected_version=None,
                                 reached=True, scores=SATISFIED)
    assert refused.value.code == "callback_already_recorded"


def test_bad_outcomes_are_refused_before_anything_is_written(session: Session, tasks: list[CallbackTask]) -> None:
    clock = at(2026, 12, 2, 15)
    with pytest.raises(ValidationFailed) as missing:
        callbacks.record_outcome(session, clock=clock, user=staff(session, "supervisor"), task_id=tasks[0].id,
                                 expected_version=None, reached=True, scores={"overall": "satisfied"})
    assert {p.field for p in missing.value.problems} == {"scores.efficiency", "scores.attitude", "scores.guide",
                                                         "scores.convenience"}
    assert all("满意程度" in p.message for p in missing.value.problems)
    with pytest.raises(Conflict):
        callbacks.record_outcome(session, clock=clock, user=staff(session, "supervisor"), task_id=tasks[0].id,
                                 expected_version=99, reached=False)
    with pytest.raises(PermissionDenied):
        callbacks.record_outcome(session, clock=clock, user=_head_of_ybj(session, clock), task_id=tasks[0].id,
                                 expected_version=None, reached=False)
    session.refresh(tasks[0])
    assert (tasks[0].outcome, tasks[0].attempts) == (Outcome.PENDING, 0)
