"""Each 电子监察 rule raises its alert once while the cause holds and closes it by itself when the cause is gone,
with a frozen clock (no sleeps): a review step past its own limit in a case on time overall, yellow then red,
容缺 materials due, a ticket waiting too long, a queue too long with a qualified window unstaffed, a window
idle with people waiting, a scheduled clerk absent, a 差评 work order near its limit, and a rule another domain
registers.

2026-11-23 is a Monday; working days after it: 11-24 (1), 11-25 (2), 11-26 (3), 11-27 (4), 11-30 (5), 12-01 (6) …
Hall tests run on Tuesday 11-24, a day without the demo's tickets.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from onewindow.cases import service as cases
from onewindow.cases.sweep import sweep_deadlines
from onewindow.catalog.models import Hall
from onewindow.core.audit import Actor
from onewindow.core.clock import CHINA_TZ, FixedClock
from onewindow.notifications.models import OutboxMessage
from onewindow.queue import service as queue
from onewindow.queue.models import Window
from onewindow.rectification import service as rectification
from onewindow.rectification.states import Raiser, SourceKind
from onewindow.supervision import service
from onewindow.supervision.models import WindowDuty
from onewindow.supervision.rules import Context, Finding, Level, Rule, register_rule, unregister_rule
from tests import factories
from tests.factories import FENG, FOOD, at, material_keys
from tests.supervision.conftest import alerts_of, run, states

DRUGSTORE = "410724-SCJG-XK-008"  # 药品经营许可（零售）: 10 working days promised, five steps → 2 each


def hm(day: int, hour: int, minute: int = 0) -> FixedClock:
    """A clock on a November 2026 day, China time."""
    return FixedClock(dt.datetime(2026, 11, day, hour, minute, tzinfo=CHINA_TZ))


def test_a_step_past_its_own_limit_alerts_while_the_case_is_on_time_and_closes_when_the_step_is_done(
        session: Session) -> None:
    case = factories.make_case(session, at(2026, 11, 23), item_code=DRUGSTORE, applicant=FENG)
    assert case.promised_due == dt.date(2026, 12, 7)
    run(session, at(2026, 11, 25), "case_step_overdue")  # step 2 began on 11-23 and is due on 11-25
    step = next(s for s in case.steps if s.status == "pending")
    assert states(session, "case_step_overdue", "case_step", step.id) == []
    for _ in range(2):  # raised once, whatever the number of sweeps
        sweep_deadlines(session, clock=at(2026, 11, 26))
        run(session, at(2026, 11, 26), "case_step_overdue")
    assert case.warning == "none"  # the case as a whole is on time
    [alert] = alerts_of(session, "case_step_overdue", "case_step", step.id)
    assert alert.state == "open" and alert.department_id == case.department_id
    assert alert.evidence["step_due"] == "2026-11-25" and alert.evidence["step_limit_working_days"] == 2
    assert alert.evidence["case_promised_due"] == "2026-12-07" and alert.evidence["working_days_late"] == 1
    assert alert.link == f"/cases/{case.id}" and case.number in alert.title
    head = factories.staff(session, "head_scjg")
    notices = list(session.scalars(select(OutboxMessage).where(OutboxMessage.topic == service.ALERT_TOPIC,
                                                               OutboxMessage.recipient_user_id == head.id)))
    assert notices and any(case.number in m.body for m in notices)  # the department head was told

    factories.review_to_decision(session, factories.staff(session, "approver_scjg"), case, at(2026, 11, 26))
    run(session, at(2026, 11, 26, 15), "case_step_overdue")
    assert states(session, "case_step_overdue", "case_step", step.id) == ["closed"]
    assert alerts_of(session, "case_step_overdue", "case_step", step.id)[0].close_reason


def test_yellow_then_red_once_each_and_both_closed_by_the_decision(session: Session) -> None:
    case = factories.make_case(session, at(2026, 11, 23), item_code=FOOD, applicant=FENG)
    for day in (25, 25, 26):
        sweep_deadlines(session, clock=at(2026, 11, day))
        run(session, at(2026, 11, day), "case_yellow", "case_red")
    assert states(session, "case_yellow", "case", case.id) == ["open"]
    sweep_deadlines(session, clock=at(2026, 11, 27))
    run(session, at(2026, 11, 27), "case_yellow", "case_red")
    assert states(session, "case_yellow", "case", case.id) == ["closed"]  # yellow gave way to red
    [red] = alerts_of(session, "case_red", "case", case.id)
    assert red.level == "red" and red.evidence["promised_due"] == "2026-11-26"
    factories.approve(session, factories.staff(session, "approver_scjg"), case, at(2026, 11, 27, 11))
    run(session, at(2026, 11, 27, 12), "case_yellow", "case_red")
    assert states(session, "case_red", "case", case.id) == ["closed"]


def test_deferred_materials_due_alert_and_close_when_handed_in(session: Session) -> None:
    case = factories.make_case(session, at(2026, 11, 23), item_code=FOOD, applicant=FENG, deferred=True)
    assert case.deferral_due is not None
    before = case.deferral_due - dt.timedelta(days=14)
    run(session, FixedClock(dt.datetime.combine(before, dt.time(10), tzinfo=CHINA_TZ)), "deferral_due")
    assert states(session, "deferral_due", "case", case.id) == []
    due_day = FixedClock(dt.datetime.combine(case.deferral_due, dt.time(9), tzinfo=CHINA_TZ))
    run(session, due_day, "deferral_due")
    [alert] = alerts_of(session, "deferral_due", "case", case.id)
    assert alert.evidence["deferral_due"] == case.deferral_due.isoformat() and alert.level == "yellow"
    key = material_keys(session, FOOD)[factories.deferrable_material(session, FOOD)]
    cases.supply_deferred(session, clock=due_day, user=factories.staff(session, "clerk"), case_id=case.id,
                          expected_version=case.version, keys=[key])
    run(session, due_day, "deferral_due")
    assert states(session, "deferral_due", "case", case.id) == ["closed"]


KIOSK = Actor(None, "kiosk")


def _window(session: Session, hall: str, number: int) -> Window:
    return session.scalars(select(Window).join(Hall).where(Hall.code == hall, Window.number == number)).one()


def _agent(session: Session, clock: FixedClock) -> Actor:
    """The demo's 帮办代办员 (qualified for every category), signed out of the window the demo gave them."""
    agent = factories.staff(session, "agent")
    me = Actor(agent.id, agent.username)
    for window_id in session.scalars(select(Window.id).where(Window.clerk_id == agent.id)):
        queue.sign_out_window(session, clock=clock, actor=me, window_id=window_id)
    return me


def test_a_ticket_waiting_longer_than_the_threshold_alerts_until_it_is_called(session: Session) -> None:
    window = _window(session, "HJ-ZWZX", 2)
    me = _agent(session, hm(24, 8))
    ticket = queue.issue_ticket(session, clock=hm(24, 9), actor=KIOSK, hall_code="HJ-ZWZX",
                                category=window.skills[0])
    run(session, hm(24, 9, 29), "ticket_wait")
    assert states(session, "ticket_wait", "ticket", ticket.id) == []
    run(session, hm(24, 9, 31), "ticket_wait")
    run(session, hm(24, 9, 40), "ticket_wait")
    [alert] = alerts_of(session, "ticket_wait", "ticket", ticket.id)
    assert alert.evidence["waited_min"] == 31 and alert.evidence["ticket"] == ticket.number
    assert "phone" not in alert.evidence and "id_number" not in alert.evidence
    queue.sign_in_window(session, clock=hm(24, 9, 41), actor=me, window_id=window.id)
    called = queue.call_specific(session, clock=hm(24, 9, 41), actor=me, window_id=window.id, ticket_id=ticket.id,
                                 reason="等候超时，优先叫号")
    assert called.id == ticket.id
    run(session, hm(24, 9, 42), "ticket_wait")
    assert states(session, "ticket_wait", "ticket", ticket.id) == ["closed"]


def test_a_long_queue_with_a_qualified_window_unstaffed_alerts_until_the_queue_shrinks(session: Session) -> None:
    window = _window(session, "HJ-CGZ", 2)  # the town center: offline, qualified for A
    tickets = [queue.issue_ticket(session, clock=hm(24, 9), actor=KIOSK, hall_code="HJ-CGZ", category="A")
               for _ in range(3)]
    category_id = tickets[0].category_id
    run(session, hm(24, 9, 5), "queue_backlog")
    [alert] = alerts_of(session, "queue_backlog", "queue", category_id)
    assert alert.evidence["waiting"] == 3 and alert.evidence["threshold"] == 2
    assert {w["window"] for w in alert.evidence["windows"]} >= {window.number}
    queue.cancel(session, clock=hm(24, 9, 6), actor=KIOSK, ticket_id=tickets[0].id, reason="离开")
    run(session, hm(24, 9, 7), "queue_backlog")
    assert states(session, "queue_backlog", "queue", category_id) == ["closed"]


def test_a_signed_in_window_that_calls_nobody_while_people_wait_alerts_until_it_calls(session: Session) -> None:
    window = _window(session, "HJ-ZWZX", 3)
    me = _agent(session, hm(24, 8))
    queue.sign_in_window(session, clock=hm(24, 9), actor=me, window_id=window.id)
    queue.issue_ticket(session, clock=hm(24, 9, 5), actor=KIOSK, hall_code="HJ-ZWZX", category=window.skills[0])
    run(session, hm(24, 9, 19), "window_idle")
    assert states(session, "window_idle", "window", window.id) == []
    run(session, hm(24, 9, 21), "window_idle")
    [alert] = alerts_of(session, "window_idle", "window", window.id)
    assert alert.evidence["idle_min"] == 21 and alert.evidence["since"] == "09:00"
    queue.call_next(session, clock=hm(24, 9, 22), actor=me, window_id=window.id)
    run(session, hm(24, 9, 23), "window_idle")
    assert states(session, "window_idle", "window", window.id) == ["closed"]


def test_a_scheduled_clerk_not_at_their_window_after_the_grace_minutes_alerts_until_they_sign_in(
        session: Session) -> None:
    window = _window(session, "HJ-CGZ", 1)  # the demo schedules clerk_town here (工作日 9:00-12:00，13:00-17:00)
    clerk = factories.staff(session, "clerk_town")
    assert session.scalars(select(WindowDuty.user_id).where(WindowDuty.window_id == window.id)).one() == clerk.id
    run(session, hm(24, 9, 10), "clerk_absent")
    episode = "2026-11-24 0900"
    assert [a for a in alerts_of(session, "clerk_absent", "user", clerk.id) if a.episode.startswith(episode)] == []
    run(session, hm(24, 9, 16), "clerk_absent")
    [alert] = [a for a in alerts_of(session, "clerk_absent", "user", clerk.id) if a.episode.startswith(episode)]
    assert alert.state == "open" and alert.evidence["opening"] == "09:00-12:00"
    assert alert.department_id == clerk.department_id
    queue.sign_in_window(session, clock=hm(24, 9, 20), actor=Actor(clerk.id, clerk.username), window_id=window.id)
    run(session, hm(24, 9, 21), "clerk_absent")
    assert alert.state == "closed"
    run(session, hm(24, 12, 30), "clerk_absent")  # the lunch break: nobody is expected
    assert [a.state for a in alerts_of(session, "clerk_absent", "user", clerk.id)
            if a.episode.startswith("2026-11-24")] == ["closed"]


def test_a_rating_work_order_near_its_limit_alerts_until_it_is_rectified(session: Session) -> None:
    head = factories.staff(session, "head_scjg")
    order = rectification.open_order(session, clock=at(2026, 11, 23), actor=Actor(None, "test"),
                                     source_kind=SourceKind.RATING, source_id=990_001,
                                     department_id=head.department_id or 0, title="差评：等候时间长", detail="",
                                     raiser=Raiser(name="张三"))
    rectification.verify(session, clock=at(2026, 11, 23), user=head, order_id=order.id,
                         expected_version=order.version, note="属实")
    assert order.due_on == dt.date(2026, 11, 30)
    run(session, at(2026, 11, 26), "order_due")
    assert states(session, "order_due", "order", order.id) == []
    run(session, at(2026, 11, 27), "order_due")  # one working day left
    [alert] = alerts_of(session, "order_due", "order", order.id)
    assert alert.level == "yellow" and alert.link == f"/rectifications/{order.id}"
    rectification.complete(session, clock=at(2026, 11, 27, 11), user=head, order_id=order.id,
                           expected_version=order.version, measures="增开窗口")
    run(session, at(2026, 11, 27, 12), "order_due")
    assert alert.state == "closed"


def test_another_domain_registers_a_rule_whose_alerts_raise_once_and_close_by_themselves(session: Session) -> None:
    pending = {42}

    def complaints_near_limit(_session: object, ctx: Context) -> Iterable[Finding]:
        for complaint_id in pending:
            yield Finding("complaint", complaint_id, None, f"投诉 {complaint_id} 临近办理时限",
                          {"due": (ctx.today + dt.timedelta(days=1)).isoformat()}, level=Level.RED)

    register_rule(Rule("plugin_due", "插件规则", "另一领域登记的规则", complaints_near_limit))
    try:
        assert run(session, at(2026, 11, 24), "plugin_due")["raised"] == 1
        assert run(session, at(2026, 11, 24, 11), "plugin_due")["raised"] == 0
        pending.clear()
        assert run(session, at(2026, 11, 24, 12), "plugin_due")["closed"] == 1
        assert states(session, "plugin_due", "complaint", 42) == ["closed"]
    finally:
        unregister_rule("plugin_due")


def test_a_complaint_near_its_limit_alerts_its_lead_department_and_closes_once_answered(session: Session) -> None:
    from onewindow.complaints import service as complaints
    from tests.complaints.support import department, file_at_window

    # a 咨询 filed on Monday 11-23 is due in 2 working days: Wednesday 11-25
    complaint = file_at_window(session, hm(23, 9), category="consult", subject="个体户变更要带什么材料")
    assert complaint.due_on == dt.date(2026, 11, 25)
    run(session, hm(23, 10), "complaint_due")
    assert states(session, "complaint_due", "complaint", complaint.id) == []
    scjg = department(session, "SCJG")
    complaints.dispatch(session, clock=hm(23, 11), user=factories.staff(session, "admin"),
                        complaint_id=complaint.id, expected_version=complaint.version,
                        lead_department_id=scjg.id)
    for _ in range(2):  # one working day left: raised once, on the lead department
        run(session, hm(24, 9), "complaint_due")
    [alert] = alerts_of(session, "complaint_due", "complaint", complaint.id)
    assert alert.level == "yellow" and alert.department_id == scjg.id
    assert alert.link == f"/complaints/{complaint.id}" and alert.evidence["due_on"] == "2026-11-25"
    run(session, hm(26, 9), "complaint_due")  # past the limit: a new, red episode
    yellow, red = alerts_of(session, "complaint_due", "complaint", complaint.id)
    assert (yellow.level, yellow.state, red.level, red.state) == ("yellow", "closed", "red", "open")
    head = factories.staff(session, "head_scjg")
    complaints.sign(session, clock=hm(26, 10), user=head, complaint_id=complaint.id, expected_version=None)
    complaints.reply(session, clock=hm(26, 11), user=head, complaint_id=complaint.id, expected_version=None,
                     text="请携带营业执照正本和经营者身份证到市场监管窗口办理。")
    run(session, hm(26, 12), "complaint_due")
    assert set(states(session, "complaint_due", "complaint", complaint.id)) == {"closed"}
