"""回访 pages and API: list with counts and rates, a task's questions and outcome form, the two Excel ledgers,
and who may open what."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from onewindow.supervision import callbacks
from onewindow.supervision.callback_models import CallbackTask
from onewindow.supervision.callback_rules import Outcome, SampleRules
from tests.conftest import Browser
from tests.factories import CLAIM, at, make_case, make_person

DAY = dt.date(2026, 11, 23)  # the test clock's Monday (the demo drew the week before it)


def _tasks(session: Session, n: int = 2) -> list[CallbackTask]:
    """The tasks of ``n`` fresh 医保 cases finished on DAY (first), then any demo case finished that day."""
    clock = at(2026, 11, 23)
    made = [make_case(session, clock, item_code=CLAIM, state="approved",
                      applicant=make_person(session, clock, account=False)).id for _ in range(n)]
    callbacks.draw_day(session, clock=at(2026, 11, 24), day=DAY, rules=SampleRules(rate=1.0, minimum=1))
    tasks = list(session.scalars(select(CallbackTask).where(CallbackTask.day == DAY).order_by(CallbackTask.id)))
    assert {t.case_id for t in tasks} >= set(made)
    return sorted(tasks, key=lambda t: t.case_id not in made)


def test_the_supervisor_calls_back_on_the_page_and_exports_both_ledgers(
        session: Session, login: Callable[[str], Browser]) -> None:
    tasks = _tasks(session)
    sup = login("supervisor")
    listing = sup.client.get("/supervision/callbacks?day_from=2026-11-01&day_to=2026-11-23")
    assert listing.status_code == 200 and tasks[0].case.number in listing.text and "应访" in listing.text
    page = sup.client.get(f"/supervision/callbacks/{tasks[0].id}")
    assert page.status_code == 200 and "您对这次办事总体是否满意" in page.text
    assert tasks[0].case.applicant_phone not in page.text  # the center's callers see it masked (access policy)
    form = {"version": str(tasks[0].version), "reached": "1", "remarks": "说窗口让跑了两趟",
            "score_overall": "unsatisfied", "score_efficiency": "basic", "score_attitude": "unsatisfied",
            "score_guide": "unsatisfied"}
    missing = sup.post(f"/supervision/callbacks/{tasks[0].id}/outcome", form)
    assert missing.status_code == 422 and "办事便捷度" in missing.text
    r = sup.post(f"/supervision/callbacks/{tasks[0].id}/outcome", {**form, "score_convenience": "unsatisfied"})
    assert r.status_code == 303
    session.refresh(tasks[0])
    assert tasks[0].outcome == Outcome.RECTIFYING and tasks[0].order_id is not None
    ledger = load_workbook(io.BytesIO(sup.client.get(
        "/supervision/callbacks/ledger.xlsx?day_from=2026-11-23&day_to=2026-11-23").content))
    rows = list(ledger.active.iter_rows(values_only=True))  # type: ignore[union-attr]
    assert rows[0][:3] == ("办结日期", "抽取日期", "办件编号") and len(rows) == len(tasks) + 1
    assert tasks[0].case.applicant_phone not in str(rows)
    daily = load_workbook(io.BytesIO(sup.client.get(
        "/supervision/callbacks/daily.xlsx?day_from=2026-11-23&day_to=2026-11-23").content))
    head, *lines = list(daily.active.iter_rows(values_only=True))  # type: ignore[union-attr]
    assert head[:4] == ("办结日期", "部门", "办结件数", "应访")
    [row] = [r for r in lines if r[1] == tasks[0].department.name]
    drawn_here = sum(1 for t in tasks if t.department_id == tasks[0].department_id)
    assert row[3:9] == (drawn_here, 1, 1, 0, 1, 0)  # 应访, 已访, 联系成功, 满意, 不满意, 已整改


def test_reach_and_api(session: Session, login: Callable[[str], Browser], client: TestClient,
                       token_for: Callable[[str], dict[str, str]]) -> None:
    tasks = _tasks(session, 1)
    assert login("head_scjg").client.get(f"/supervision/callbacks/{tasks[0].id}").status_code == 403
    assert login("experiencer").client.get("/supervision/callbacks").status_code == 403
    assert login("head_scjg").post(f"/supervision/callbacks/{tasks[0].id}/outcome",
                                   {"version": "1", "reached": "0"}).status_code == 403
    listed = client.get("/api/v1/supervision/callbacks?day_from=2026-11-23", headers=token_for("supervisor"))
    assert listed.status_code == 200 and {t["id"] for t in listed.json()} == {t.id for t in tasks}
    assert tasks[0].case.applicant_phone not in listed.text
    r = client.post(f"/api/v1/supervision/callbacks/{tasks[0].id}/outcome", headers=token_for("admin"),
                    json={"version": 1, "reached": False, "remarks": "无人接听"})
    assert r.status_code == 200 and r.json()["attempts"] == 1 and r.json()["outcome"] == "pending"
    drawn = sum(1 for t in tasks if t.department_id == tasks[0].department_id)
    stale = client.post(f"/api/v1/supervision/callbacks/{tasks[0].id}/outcome", headers=token_for("admin"),
                        json={"version": 1, "reached": False})
    assert stale.status_code == 409
    rates = client.get("/api/v1/supervision/callbacks/rates?day_from=2026-11-23&day_to=2026-11-23",
                       headers=token_for("supervisor"))
    [mine] = [x for x in rates.json() if x["department_id"] == tasks[0].department_id]
    assert mine["drawn"] == drawn and mine["called"] == 0
