"""The plan page: generate a week, edit and re-check (version, 422, 409), who may see and edit, Excel roster."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi import FastAPI
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from onewindow.catalog.models import Hall
from onewindow.core.audit import AuditEntry
from onewindow.planning.models import PlanRecord
from tests.conftest import Browser

from .test_plan_meets_target import SMALL_HALL

WEEK = "2026-11-30"  # the Monday after the test clock's day


@pytest.fixture
def small_hall(app: FastAPI, tmp_path: Path) -> Path:
    path = tmp_path / "small-hall.json"
    path.write_text(json.dumps(SMALL_HALL, ensure_ascii=False), encoding="utf-8")
    app.state.settings = app.state.settings.model_copy(update={"planning_scenario_path": path})
    return path


def _hall_id(session: Session) -> int:
    return session.scalars(select(Hall.id).where(Hall.code == "HJ-ZWZX")).one()


def _generate(admin: Browser, hall_id: int) -> None:
    r = admin.post("/planning/generate", {"hall": str(hall_id), "week": WEEK, "target_mean": "12"})
    assert r.status_code == 303, r.text
    assert r.headers["location"] == f"/planning?hall={hall_id}&week={WEEK}&done=generated"


def test_admin_generates_a_week_and_sees_it_at_a_glance(login: Callable[[str], Browser], session: Session,
                                                        small_hall: Path) -> None:
    admin = login("admin")
    hall_id = _hall_id(session)
    assert "还没有排班计划" in admin.client.get(f"/planning?hall={hall_id}&week={WEEK}").text
    _generate(admin, hall_id)
    plan = session.scalars(select(PlanRecord).where(PlanRecord.hall_id == hall_id)).one()
    assert plan.source == "scenario" and plan.version == 1 and plan.target_mean_min == 12
    assert [d["weekday"] for d in plan.payload["days"]] == ["mon", "tue", "wed", "thu", "fri"]
    page = admin.client.get(f"/planning?hall={hall_id}&week=2026-12-02").text  # any day of the week
    assert 'id="week-glance"' in page and "潮汐窗口设置" in page and "保存并重新检验" in page
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "planning.generate")).one()
    assert entry.entity_id == str(plan.id)


def test_an_edit_is_rechecked_versioned_and_audited_and_a_stale_one_is_409(
        login: Callable[[str], Browser], session: Session, small_hall: Path) -> None:
    admin = login("admin")
    hall_id = _hall_id(session)
    _generate(admin, hall_id)
    plan = session.scalars(select(PlanRecord).where(PlanRecord.hall_id == hall_id)).one()
    form = {"version": "1", "weekday": "mon"}
    for h in plan.payload["days"][0]["hours"]:
        form |= {f"w-{h['hour']}-A": "1", f"w-{h['hour']}-B": "1"}  # far too few windows
    r = admin.post(f"/planning/{plan.id}/edit", form)
    assert r.status_code == 303, r.text
    session.expire_all()
    plan = session.get(PlanRecord, plan.id)
    assert plan is not None and plan.version == 2
    monday = plan.payload["days"][0]
    assert monday["edited"] and [h["total"] for h in monday["hours"]] == [2, 2, 2, 2]
    assert not monday["target_met_every_hour"]  # re-checked: the 10:00 peak now misses
    assert session.scalars(select(AuditEntry).where(AuditEntry.action == "planning.edit")).one()
    stale = admin.post(f"/planning/{plan.id}/edit", form)
    assert stale.status_code == 409 and "已被他人更新" in stale.text
    bad = admin.post(f"/planning/{plan.id}/edit", {**form, "version": "2", "w-10-A": "x"})
    assert bad.status_code == 422 and 'data-field="w-10-A"' in bad.text
    too_many = admin.post(f"/planning/{plan.id}/edit", {**form, "version": "2", "w-10-A": "50"})
    assert too_many.status_code == 422 and "超过大厅" in too_many.text
    session.expire_all()
    assert session.get(PlanRecord, plan.id).version == 2  # type: ignore[union-attr]  # nothing half-written
    assert admin.post("/planning/999999/edit", {**form, "version": "2"}).status_code == 404


def test_department_heads_view_but_do_not_edit_and_clerks_see_nothing(
        login: Callable[[str], Browser], session: Session, small_hall: Path) -> None:
    admin = login("admin")
    hall_id = _hall_id(session)
    _generate(admin, hall_id)
    plan = session.scalars(select(PlanRecord).where(PlanRecord.hall_id == hall_id)).one()
    head = login("head_scjg")
    page = head.client.get(f"/planning?hall={hall_id}&week={WEEK}")
    assert page.status_code == 200 and 'id="week-glance"' in page.text
    assert "保存并重新检验" not in page.text and 'action="/planning/generate"' not in page.text
    assert head.post("/planning/generate", {"hall": str(hall_id), "week": WEEK}).status_code == 403
    assert head.post(f"/planning/{plan.id}/edit", {"version": "1", "weekday": "mon"}).status_code == 403
    assert login("clerk").client.get("/planning").status_code == 403
    assert admin.post("/planning/generate", {"hall": str(hall_id), "week": WEEK}, csrf=False).status_code == 403


def test_the_roster_exports_as_excel_with_a_sheet_per_day(login: Callable[[str], Browser], session: Session,
                                                          small_hall: Path) -> None:
    admin = login("admin")
    hall_id = _hall_id(session)
    _generate(admin, hall_id)
    plan = session.scalars(select(PlanRecord).where(PlanRecord.hall_id == hall_id)).one()
    r = admin.client.get(f"/planning/{plan.id}/roster.xlsx")
    assert r.status_code == 200
    wb = load_workbook(io.BytesIO(r.content))
    assert wb.sheetnames[0] == "窗口计划" and "周一座位" in wb.sheetnames
    rows = list(wb["窗口计划"].iter_rows(values_only=True))
    assert rows[0][:3] == ("日期", "星期", "时段") and len(rows) == 1 + 5 * 4
    seats = list(wb["周一座位"].iter_rows(values_only=True))
    assert seats[0][0] == "时段" and re.fullmatch(r"\d\d:00", str(seats[1][0]))
