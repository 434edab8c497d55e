"""The alert inbox: the department head acknowledges their department's alerts (only theirs), the supervisor
puts an alert under 督办 with a deadline and the head is told, stale and illegal moves are 409, bad input 422
in Chinese; the pages and the API show each viewer their reach with counts and filters."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from onewindow.core.audit import AuditEntry
from onewindow.core.clock import FixedClock
from onewindow.core.errors import Conflict, PermissionDenied, ValidationFailed
from onewindow.notifications.models import OutboxMessage
from onewindow.queue.models import Window
from onewindow.supervision import service
from onewindow.supervision.models import WindowDuty
from onewindow.supervision.rules import Context, Finding, Rule, register_rule, unregister_rule
from tests import factories
from tests.conftest import HTML, Browser
from tests.factories import at
from tests.supervision.conftest import make_alert, run


def test_the_head_acknowledges_their_departments_alert_once_and_never_another_departments(
        session: Session, clock: FixedClock) -> None:
    mine = make_alert(session, clock, department_code="SCJG")
    theirs = make_alert(session, clock, department_code="WJW", subject_id=990_002)
    head = factories.staff(session, "head_scjg")
    with pytest.raises(ValidationFailed) as empty:
        service.acknowledge(session, clock=clock, user=head, alert_id=mine.id, expected_version=1, note=" ")
    assert empty.value.problems[0].field == "note" and "签收说明" in empty.value.problems[0].message
    with pytest.raises(Conflict) as stale:
        service.acknowledge(session, clock=clock, user=head, alert_id=mine.id, expected_version=7, note="已处理")
    assert stale.value.code == "stale_version"
    with pytest.raises(PermissionDenied):
        service.acknowledge(session, clock=clock, user=head, alert_id=theirs.id, expected_version=1, note="不是我的")
    service.acknowledge(session, clock=clock, user=head, alert_id=mine.id, expected_version=1, note="已加派人手")
    assert (mine.state, mine.version, mine.acknowledge_note) == ("acknowledged", 2, "已加派人手")
    with pytest.raises(Conflict):
        service.acknowledge(session, clock=clock, user=head, alert_id=mine.id, expected_version=2, note="再签一次")
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "supervision.alert_acknowledged",
                                                     AuditEntry.entity_id == str(mine.id))).one()
    assert entry.actor == "head_scjg" and entry.after is not None and entry.after["state"] == "acknowledged"
    assert [a.id for a in service.list_alerts(session, viewer=head)] == [
        a.id for a in service.list_alerts(session, viewer=head) if a.department_id == head.department_id]


def test_the_supervisor_supervises_with_a_deadline_the_head_is_told_and_the_alert_closes_with_its_cause(
        session: Session, clock: FixedClock) -> None:
    causes = {990_101}

    def finder(_session: object, ctx: Context) -> Iterable[Finding]:
        department = factories.staff(session, "head_scjg").department_id
        return [Finding("case", i, department, f"测试原因 {i}", {"since": "09:00"}) for i in causes]

    register_rule(Rule("test_cause", "测试规则", "测试", finder))
    try:
        run(session, clock, "test_cause")
        [alert] = [a for a in service.list_alerts(session, viewer=factories.staff(session, "supervisor"),
                                                  filters=service.Filters(rule="test_cause"))]
        supervisor, head = factories.staff(session, "supervisor"), factories.staff(session, "head_scjg")
        with pytest.raises(ValidationFailed) as bad:
            service.supervise(session, clock=clock, user=supervisor, alert_id=alert.id, expected_version=1,
                              note="", due=dt.date(2026, 11, 20))
        assert {p.field for p in bad.value.problems} == {"note", "due"}
        with pytest.raises(PermissionDenied):
            service.supervise(session, clock=clock, user=head, alert_id=alert.id, expected_version=1, note="督办",
                              due=dt.date(2026, 11, 25))
        service.supervise(session, clock=clock, user=supervisor, alert_id=alert.id, expected_version=1,
                          note="请两日内整改", due=dt.date(2026, 11, 25))
        assert alert.state == "supervised" and alert.supervise_due == dt.date(2026, 11, 25)
        told = session.scalars(select(OutboxMessage).where(OutboxMessage.topic == service.SUPERVISE_TOPIC,
                                                           OutboxMessage.recipient_user_id == head.id)).one()
        assert "请两日内整改" in told.body and "2026-11-25" in told.body
        assert not service.overdue_supervision(alert, dt.date(2026, 11, 25))
        assert service.overdue_supervision(alert, dt.date(2026, 11, 26))
        service.acknowledge(session, clock=clock, user=head, alert_id=alert.id, expected_version=alert.version,
                            note="已整改")
        assert alert.state == "supervised"  # the answer is recorded; 督办 stays until the cause is gone
        causes.clear()
        run(session, at(2026, 11, 23, 11), "test_cause")
        assert alert.state == "closed" and alert.closed_at is not None
        with pytest.raises(Conflict) as closed:
            service.supervise(session, clock=clock, user=supervisor, alert_id=alert.id,
                              expected_version=alert.version, note="再督办", due=dt.date(2026, 11, 30))
        assert closed.value.code == "illegal_alert_transition"
    finally:
        unregister_rule("test_cause")


def test_the_inbox_pages_show_each_viewer_their_reach_with_counts_and_filters(
        session: Session, clock: FixedClock, login: Callable[[str], Browser]) -> None:
    mine = make_alert(session, clock, department_code="SCJG", title="市场监管局的预警")
    make_alert(session, clock, department_code="WJW", title="卫健委的预警", subject_id=990_002)
    supervisor = login("supervisor")
    page = supervisor.client.get("/supervision/alerts", headers=HTML)
    assert page.status_code == 200 and "市场监管局的预警" in page.text and "卫健委的预警" in page.text
    assert 'data-rule-count="case_step_overdue"' in page.text and 'name="department"' in page.text
    filtered = supervisor.client.get("/supervision/alerts?rule=case_step_overdue", headers=HTML)
    assert "市场监管局的预警" not in filtered.text
    assert supervisor.client.get("/supervision/alerts?state=bogus", headers=HTML).status_code == 422

    head = login("head_scjg")
    own = head.client.get("/supervision/alerts", headers=HTML)
    assert "市场监管局的预警" in own.text and "卫健委的预警" not in own.text and 'name="department"' not in own.text
    detail = head.client.get(f"/supervision/alerts/{mine.id}", headers=HTML)
    assert 'data-evidence="case_number"' in detail.text and 'id="action-acknowledge"' in detail.text
    assert 'id="action-supervise"' not in detail.text
    refused = head.post(f"/supervision/alerts/{mine.id}/acknowledge", {"version": "1", "note": ""})
    assert refused.status_code == 422 and "请填写签收说明" in refused.text
    done = head.post(f"/supervision/alerts/{mine.id}/acknowledge", {"version": "1", "note": "已安排专人跟进"})
    assert done.status_code == 303 and done.headers["location"].endswith("?done=acknowledge")
    assert "已安排专人跟进" in head.client.get(f"/supervision/alerts/{mine.id}", headers=HTML).text
    assert head.post(f"/supervision/alerts/{mine.id}/acknowledge", {"version": "2", "note": "x"},
                     csrf=False).status_code == 403
    sup = supervisor.post(f"/supervision/alerts/{mine.id}/supervise",
                          {"version": "2", "note": "限期整改", "due": "2026-11-27"})
    assert sup.status_code == 303
    other = head.client.get(f"/supervision/alerts/{mine.id + 1}", headers=HTML)
    assert other.status_code == 403

    clerk = login("clerk")
    assert clerk.client.get("/supervision/alerts", headers=HTML).status_code == 403
    assert "电子监察" in re.sub(r"\s+", "", supervisor.client.get("/", headers=HTML).text)


def test_the_api_lists_counts_details_and_acknowledges_with_the_version(
        session: Session, clock: FixedClock, client: TestClient, token_for: Callable[[str], dict[str, str]]) -> None:
    alert = make_alert(session, clock, department_code="SCJG", title="接口预警")
    head = token_for("head_scjg")
    listed = client.get("/api/v1/supervision/alerts?rule=case_red", headers=head).json()
    assert any(a["id"] == alert.id for a in listed["items"])
    assert listed["counts"]["state"]["open"] >= 1 and "case_step_overdue" in listed["counts"]["rule"]
    detail = client.get(f"/api/v1/supervision/alerts/{alert.id}", headers=head).json()
    assert detail["allowed_actions"] == ["acknowledge"] and detail["rule_label"] == "办件超期（红牌）"
    supervisor = client.get(f"/api/v1/supervision/alerts/{alert.id}", headers=token_for("supervisor")).json()
    assert "supervise" in supervisor["allowed_actions"]
    stale = client.post(f"/api/v1/supervision/alerts/{alert.id}/acknowledge", headers=head,
                        json={"version": 5, "note": "已处理"})
    assert stale.status_code == 409
    ok = client.post(f"/api/v1/supervision/alerts/{alert.id}/acknowledge", headers=head,
                     json={"version": 1, "note": "已处理"})
    assert ok.status_code == 200 and ok.json()["state"] == "acknowledged" and ok.json()["allowed_actions"] == []
    assert client.get("/api/v1/supervision/alerts?state=nope", headers=head).status_code == 422
    assert client.get("/api/v1/supervision/alerts", headers=token_for("clerk")).status_code == 403
    rules = client.get("/api/v1/supervision/rules", headers=head).json()
    assert {"code": "ticket_wait", "label": "等候超时"}.items() <= rules[4].items()
    assert rules[4]["thresholds"] == {"supervision_ticket_wait_min": 30}


def test_the_administrator_schedules_a_window_and_only_staff_who_work_windows(
        session: Session, client: TestClient, token_for: Callable[[str], dict[str, str]]) -> None:
    window = session.scalars(select(Window.id).order_by(Window.id).limit(1)).one()
    clerk, approver = factories.staff(session, "clerk"), factories.staff(session, "approver_scjg")
    admin = token_for("admin")
    ok = client.put(f"/api/v1/supervision/windows/{window}/duty", headers=admin, json={"clerk_id": clerk.id})
    assert ok.status_code == 200 and ok.json() == {"window_id": window, "clerk_id": clerk.id}
    bad = client.put(f"/api/v1/supervision/windows/{window}/duty", headers=admin, json={"clerk_id": approver.id})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "clerk_id"
    assert client.put(f"/api/v1/supervision/windows/{window}/duty", headers=token_for("supervisor"),
                      json={"clerk_id": None}).status_code == 403
    assert client.put("/api/v1/supervision/windows/999999/duty", headers=admin, json={}).status_code == 404


def test_the_schedule_page_lets_the_administrator_schedule_a_clerk_at_a_window(
        session: Session, login: Callable[[str], Browser]) -> None:
    window = session.scalars(select(Window).order_by(Window.id).limit(1)).one()
    clerk = factories.staff(session, "clerk")
    admin = login("admin")
    page = admin.client.get("/supervision/windows", headers=HTML)
    assert page.status_code == 200 and f'data-window="{window.id}"' in page.text and "李综窗（clerk）" in page.text
    assert 'id="duty-link"' in admin.client.get("/supervision/alerts", headers=HTML).text
    saved = admin.post(f"/supervision/windows/{window.id}/duty", {"clerk_id": str(clerk.id)})
    assert saved.status_code == 303
    assert session.scalars(select(WindowDuty.user_id).where(WindowDuty.window_id == window.id)).one() == clerk.id
    assert admin.post(f"/supervision/windows/{window.id}/duty", {"clerk_id": "x1"}).status_code == 422
    supervisor = login("supervisor")
    assert supervisor.client.get("/supervision/windows", headers=HTML).status_code == 403
    assert 'id="duty-link"' not in supervisor.client.get("/supervision/alerts", headers=HTML).text
