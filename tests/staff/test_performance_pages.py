"""The performance pages: the center sees every ranking, a department head their department, a clerk their own
score explained; the department's report downloads as Excel; only the center recomputes a month."""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests import staff_month as m
from tests.conftest import Browser

from onewindow import performance_month
from onewindow.config import Settings
from onewindow.core.clock import CHINA_TZ, FixedClock
from onewindow.staff.models import PerformanceScore, User

JUNE = "2026-06"


@pytest.fixture
def june(session: Session, clock: FixedClock) -> dict[str, PerformanceScore]:
    clock.set(dt.datetime(2026, 7, 1, 9, 0, tzinfo=CHINA_TZ))
    clerk = session.scalars(select(User).where(User.username == "clerk")).one()
    m.june(session, clock, jia=clerk)  # the demo's window clerk plays 甲
    performance_month.compute_month(session, clock=clock, month=m.JUNE,
                                    settings=Settings(secret_key="test-performance-secret"))
    session.commit()
    return {s.subject_name: s for s in session.scalars(select(PerformanceScore).where(
        PerformanceScore.month == m.JUNE, PerformanceScore.subject_kind == "clerk"))}


def _rows(html: str) -> list[str]:
    return re.findall(r'data-score="(\d+)"', html)


def test_the_supervisor_sees_every_ranking_with_its_honours(login: Callable[[str], Browser],
                                                             june: dict[str, PerformanceScore]) -> None:
    b = login("supervisor")
    page = b.client.get(f"/performance?month={JUNE}")
    assert page.status_code == 200
    assert len(_rows(page.text)) == 3 and "服务明星" in page.text and "流动红旗" in page.text
    assert "少于 20 件" in page.text  # 丙, unranked, says why
    windows = b.client.get(f"/performance?month={JUNE}&kind=window")
    assert "2号窗口" in windows.text and 'data-award="red_flag"' in windows.text
    assert b.client.get(f"/performance?month={JUNE}&kind=nobody").status_code == 422
    assert b.client.get("/performance?month=2026-13").status_code == 422


def test_a_department_head_sees_their_department_and_a_clerk_only_their_own_score_explained(
        login: Callable[[str], Browser], june: dict[str, PerformanceScore]) -> None:
    head = login("head_zwfw")
    assert len(_rows(head.client.get(f"/performance?month={JUNE}").text)) == 3
    other = login("head_scjg")
    assert _rows(other.client.get(f"/performance?month={JUNE}").text) == []
    yi = june["乙"]
    assert other.client.get(f"/performance/scores/{yi.id}").status_code == 403
    clerk = login("clerk")
    mine = next(s for s in june.values() if s.rank == 1)
    assert _rows(clerk.client.get(f"/performance?month={JUNE}").text) == [str(mine.id)]
    detail = clerk.client.get(f"/performance/scores/{mine.id}")
    assert detail.status_code == 200
    assert 'id="total">93.5<' in detail.text and "评价 10 次，满意及以上 9 次" in detail.text
    assert "每件扣 20 分" in detail.text and "在岗时长" in detail.text
    assert clerk.client.get(f"/performance/scores/{yi.id}").status_code == 403
    assert login("experiencer").client.get("/performance").status_code == 403


def test_the_department_report_downloads_as_excel_for_its_head_only(login: Callable[[str], Browser],
                                                                     june: dict[str, PerformanceScore],
                                                                     session: Session) -> None:
    head = login("head_zwfw")
    r = head.client.get(f"/performance/report.xlsx?month={JUNE}")
    assert r.status_code == 200
    book = load_workbook(io.BytesIO(r.content))
    sheet = book["考勤与绩效"]
    assert "2026年6月考勤与绩效月报" in str(sheet["A1"].value)
    names = [row[1] for row in sheet.iter_rows(min_row=3, values_only=True)]
    assert sorted(names) == sorted(june)
    assert book["得分明细"].max_row == 1 + sum(len(s.parts) for s in june.values())
    scjg = session.scalars(select(User).where(User.username == "head_scjg")).one()
    assert head.client.get(f"/performance/report.xlsx?month={JUNE}&department={scjg.department_id}").status_code == 403
    assert login("clerk").client.get(f"/performance/report.xlsx?month={JUNE}").status_code == 403
    assert login("supervisor").client.get(f"/performance/report.xlsx?month={JUNE}").status_code == 200


def test_only_the_center_recomputes_a_month_and_a_form_needs_its_token(login: Callable[[str], Browser],
                                                                        june: dict[str, PerformanceScore],
                                                                        client: TestClient) -> None:
    sup = login("supervisor")
    r = sup.post("/performance/compute", {"month": JUNE})
    assert r.status_code == 303 and r.headers["location"] == f"/performance?month={JUNE}"
    assert sup.post("/performance/compute", {"month": JUNE}, csrf=False).status_code == 403
    assert sup.post("/performance/compute", {"month": "2027-01"}).status_code == 422
    assert sup.post("/performance/compute", {"month": "六月"}).status_code == 422
    assert login("head_zwfw").post("/performance/compute", {"month": JUNE}).status_code == 403


def test_the_api_lists_the_scores_within_reach_with_their_parts(token_for: Callable[[str], dict[str, str]],
                                                                 client: TestClient,
                                                                 june: dict[str, PerformanceScore]) -> None:
    everyone = client.get(f"/api/v1/performance?month={JUNE}", headers=token_for("supervisor")).json()
    assert [s["name"] for s in everyone if s["ranked"]] == [s.subject_name for s in sorted(
        (s for s in june.values() if s.ranked), key=lambda s: s.rank or 0)]
    assert {p["key"] for p in everyone[0]["parts"]} == {"volume", "efficiency", "satisfaction", "complaints",
                                                        "overdue", "attendance"}
    mine = client.get(f"/api/v1/performance?month={JUNE}", headers=token_for("clerk")).json()
    assert [s["score"] for s in mine] == [93.5]
    other = next(s for s in june.values() if s.subject_name == "乙")
    assert client.get(f"/api/v1/performance/{other.id}", headers=token_for("clerk")).status_code == 403
    assert client.get(f"/api/v1/performance/{other.id}", headers=token_for("head_zwfw")).json()["score"] == 84.29
    assert client.get("/api/v1/performance", headers=token_for("experiencer")).status_code == 403
    assert client.get("/api/v1/performance?kind=x", headers=token_for("supervisor")).status_code == 422
