"""体验员: registry, a report with photos checked by their bytes, 研判 into a work order, the department rectifies,
the experiencer follows the outcome; figures; who may see what."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
from httpx import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from onewindow import wiring
from onewindow.catalog.models import Department
from onewindow.config import Settings
from onewindow.core.clock import FixedClock
from onewindow.core.errors import Conflict, PermissionDenied, ValidationFailed
from onewindow.rectification import service as rectification
from onewindow.supervision import experiencers
from onewindow.supervision.experiencer_models import ExperiencePhoto, ExperienceReport
from onewindow.supervision.experiencer_rules import ReportState
from tests.conftest import DEMO_PASSWORD, START, Browser
from tests.factories import staff

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
HTML_AS_PNG = b"<html><script>alert(1)</script></html>"


def _department(session: Session, code: str) -> Department:
    found = session.scalars(select(Department).where(Department.code == code)).one()
    return found


def _file(browser: Browser, *, photos: list[tuple[str, bytes, str]], title: str = "叫号后窗口无人") -> Response:
    return browser.client.post(
        "/experience/reports", follow_redirects=False,
        data={"csrf_token": browser.csrf, "mode": "onsite", "hall": "HJ-ZWZX", "item_code": "",
              "visited_on": "2026-11-23", "title": title, "content": "A012号叫号后三号窗口十分钟无人，无人解释。"},
        files=[("photos", p) for p in photos])


def test_an_experiencer_files_a_report_the_center_assigns_it_and_the_experiencer_sees_the_outcome(
        login: Callable[[str], Browser], session: Session) -> None:
    wiring.install()
    me = login("experiencer")
    home = me.client.get("/experience")
    assert home.status_code == 200 and "提交体验报告" in home.text
    refused = _file(me, photos=[("窗口.png", HTML_AS_PNG, "image/png")])
    assert refused.status_code == 422 and "不是允许的类型" in refused.text
    assert session.scalar(select(ExperienceReport.id)) is None  # nothing half-written
    r = _file(me, photos=[("窗口.png", PNG, "image/png")])
    assert r.status_code == 303
    report = session.scalars(select(ExperienceReport)).one()
    [photo] = session.scalars(select(ExperiencePhoto)).all()
    assert me.client.get(f"/experience/photos/{photo.id}").content == PNG

    supervisor = login("supervisor")
    center = supervisor.client.get("/supervision/experience")
    assert center.status_code == 200 and report.title in center.text
    page = supervisor.client.get(f"/experience/reports/{report.id}")
    assert "研判" in page.text
    assert supervisor.post(f"/experience/reports/{report.id}/judgement",
                           {"version": str(report.version), "decision": "assign", "department_id": "",
                            "note": "属实"}).status_code == 422
    scjg = _department(session, "SCJG")
    r = supervisor.post(f"/experience/reports/{report.id}/judgement",
                        {"version": str(report.version), "decision": "assign", "department_id": str(scjg.id),
                         "note": "属实，交办整改"})
    assert r.status_code == 303
    session.refresh(report)
    assert report.state == ReportState.ASSIGNED and report.order_id is not None
    order = rectification.get_order(session, report.order_id)
    assert order.source_kind == "experience" and order.raiser_user_id == staff(session, "experiencer").id

    # the department rectifies, the center calls the experiencer back: the report is closed
    clock = FixedClock(START)
    head = staff(session, "head_scjg")
    rectification.verify(session, clock=clock, user=head, order_id=order.id, expected_version=order.version,
                         note="核实属实")
    rectification.complete(session, clock=clock, user=head, order_id=order.id, expected_version=order.version,
                           measures="窗口实行AB岗，离岗须挂牌")
    rectification.record_callback(session, clock=clock, user=staff(session, "supervisor"), order_id=order.id,
                                  expected_version=order.version, verdict="satisfied", note="体验员满意")
    session.refresh(report)
    assert report.state == ReportState.CLOSED
    mine = me.client.get("/experience")
    assert "已办结" in mine.text and "窗口实行AB岗" in mine.text
    detail = me.client.get(f"/experience/reports/{report.id}")
    assert "窗口实行AB岗，离岗须挂牌" in detail.text and "体验员满意" in detail.text
    figures = {f.name: f for f in experiencers.figures_by_experiencer(session, viewer=staff(session, "supervisor"))}
    assert any(f.filed == 1 and f.closed == 1 for f in figures.values())


def test_reach_of_reports_judgement_and_bad_reports(session: Session, clock: FixedClock, tmp_path: Path) -> None:
    clock_user = staff(session, "experiencer")
    settings = Settings(jobs_enabled=False, secret_key="x" * 20, upload_dir=tmp_path)
    report = experiencers.file_report(session, clock=clock, settings=settings, user=clock_user, mode="online",
                                      hall_code="", item_code="", visited_on=dt.date(2026, 11, 20),
                                      title="网上申报卡顿", content="提交按钮无响应")
    with pytest.raises(PermissionDenied):  # not assigned yet: no department sees it
        experiencers.get_report(session, viewer=staff(session, "head_scjg"), report_id=report.id)
    with pytest.raises(PermissionDenied):
        experiencers.judge(session, clock=clock, user=staff(session, "admin"), report_id=report.id,
                           expected_version=None, assign=False, note="重复反映")
    with pytest.raises(ValidationFailed):
        experiencers.judge(session, clock=clock, user=staff(session, "supervisor"), report_id=report.id,
                           expected_version=None, assign=False, note="")
    experiencers.judge(session, clock=clock, user=staff(session, "supervisor"), report_id=report.id,
                       expected_version=None, assign=False, note="系统已于当日修复")
    with pytest.raises(Conflict):
        experiencers.judge(session, clock=clock, user=staff(session, "supervisor"), report_id=report.id,
                           expected_version=None, assign=False, note="再次")
    assert [r.id for r in experiencers.list_reports(session, viewer=clock_user)] == [report.id]
    assert experiencers.list_reports(session, viewer=staff(session, "head_scjg")) == []
    with pytest.raises(ValidationFailed) as bad:
        experiencers.file_report(session, clock=clock, settings=settings, user=clock_user, mode="onsite",
                                 hall_code="", item_code="NOPE", visited_on=dt.date(2026, 12, 1), title="",
                                 content="")
    assert {p.field for p in bad.value.problems} == {"hall", "title", "content", "visited_on", "item_code"}
    with pytest.raises(PermissionDenied):
        experiencers.file_report(session, clock=clock, settings=settings, user=staff(session, "supervisor"),
                                 mode="online", hall_code="", item_code="", visited_on=dt.date(2026, 11, 20),
                                 title="x", content="y")


def test_the_center_registers_experiencers_and_only_within_their_term_may_they_report(
        session: Session, login: Callable[[str], Browser], tmp_path: Path) -> None:
    admin = login("admin")
    form = {"username": "tiyan_media", "password": DEMO_PASSWORD, "name": "孙记者", "category": "media",
            "organisation": "获嘉融媒体中心", "phone": "13700001111", "term_start": "2026-01-01",
            "term_end": "2026-06-30"}
    bad = admin.post("/supervision/experience/experiencers", {**form, "term_end": "2025-12-31", "category": "x"})
    assert bad.status_code == 422 and "聘期结束日期不能早于开始日期" in bad.text and "请选择体验员类别" in bad.text
    assert admin.post("/supervision/experience/experiencers", {**form, "username": "clerk"}).status_code == 422
    assert admin.post("/supervision/experience/experiencers", form).status_code == 303
    registry = admin.client.get("/supervision/experience")
    assert "孙记者" in registry.text and "13700001111" not in registry.text  # the phone masked
    assert admin.post("/supervision/experience/experiencers", form).status_code == 422  # registered once
    assert login("head_scjg").client.get("/supervision/experience").status_code == 403
    # the term ended in June: the new experiencer lands on their page but may not file
    media = staff(session, "tiyan_media")
    settings = Settings(jobs_enabled=False, secret_key="x" * 20, upload_dir=tmp_path)
    with pytest.raises(PermissionDenied) as out:
        experiencers.file_report(session, clock=FixedClock(START), settings=settings, user=media, mode="online",
                                 hall_code="", item_code="", visited_on=dt.date(2026, 11, 20), title="t",
                                 content="c")
    assert out.value.code == "out_of_term"
    page = login("tiyan_media").client.get("/experience")
    assert page.status_code == 200 and "聘期 2026-01-01 至 2026-06-30" in page.text
