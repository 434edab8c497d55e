"""The dashboard pages, downloads and the open-data page over a stub reader (the read service's figures are
tested with the read service): who sees what, the filters in the URL, the files."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from onewindow.analytics import dashboard
from onewindow.core.clock import FixedClock, today
from onewindow.core.errors import ValidationFailed
from onewindow.staff.models import User
from tests.analytics.stub import StubReader
from tests.conftest import Browser

Login = Callable[[str], Browser]


@pytest.fixture
def reader(app: FastAPI) -> StubReader:
    stub = StubReader()
    app.state.analytics_reader = stub
    return stub


def test_overview_shows_the_tiles_charts_and_tables_for_the_range_in_the_url(reader: StubReader, login: Login) -> None:
    admin = login("admin")
    r = admin.client.get("/dashboard?date_from=2026-11-01&date_to=2026-11-10")
    assert r.status_code == 200, r.text
    assert 'data-code="tickets"' in r.text and ">100<" in r.text  # 10 days × 10
    assert 'id="dashboard-charts"' in r.text and "/static/vendor/echarts.min.js" in r.text
    for key in dashboard.TABLES:
        assert f'data-table="{key}"' in r.text and f"/dashboard/export/{key}.xlsx?" in r.text
    assert "样本不足" in r.text
    longer = admin.client.get("/dashboard?date_from=2026-11-01&date_to=2026-11-20")
    assert ">200<" in longer.text  # the filters change the figures
    assert all(q.department_id is None for _, q in reader.calls)


def test_a_department_head_sees_their_department_only(reader: StubReader, login: Login, session: Session) -> None:
    head = session.scalars(select(User).where(User.username == "head_scjg")).one()
    assert head.department_id is not None
    b = login("head_scjg")
    r = b.client.get("/dashboard")
    assert r.status_code == 200
    assert {q.department_id for _, q in reader.calls} == {head.department_id}
    other = head.department_id + 1
    assert b.client.get(f"/dashboard?department={other}").status_code == 403
    assert b.client.get(f"/dashboard/export/league.csv?department={other}").status_code == 403
    assert b.client.get(f"/dashboard?department={head.department_id}").status_code == 200


def test_roles_without_the_dashboard_are_refused(reader: StubReader, login: Login) -> None:
    for username in ("clerk", "approver_scjg", "agent", "experiencer"):
        b = login(username)
        for url in ("/dashboard", "/dashboard/screen", "/dashboard/screen.json", "/dashboard/export/items.csv",
                    "/dashboard/report.pdf", "/dashboard/drilldown/tickets"):
            assert b.client.get(url).status_code == 403, f"{username} {url}"
    assert not reader.calls


def test_bad_filters_are_a_422_naming_the_field(reader: StubReader, login: Login) -> None:
    admin = login("admin")
    r = admin.client.get("/dashboard?date_from=2026-13-01", headers={"Accept": "application/json"})
    assert r.status_code == 422 and "date_from" in r.text
    assert admin.client.get("/dashboard?date_from=2026-11-10&date_to=2026-11-01").status_code == 422
    assert admin.client.get("/dashboard?department=abc").status_code == 422
    assert admin.client.get("/dashboard/report.pdf?month=2026-1").status_code == 422


def test_every_table_downloads_as_csv_and_excel_with_the_page_filters(reader: StubReader, login: Login) -> None:
    admin = login("admin")
    for key, title in dashboard.TABLES.items():
        r = admin.client.get(f"/dashboard/export/{key}.csv?date_from=2026-11-01&date_to=2026-11-03")
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
        assert rows[0] == ["名称", "办件数", "按期办结率"]
        assert rows[1] == ["市场监管局", "30", "0.95"]
        assert rows[2][0].startswith("'=")  # a formula is written as text
        x = admin.client.get(f"/dashboard/export/{key}.xlsx?date_from=2026-11-01&date_to=2026-11-03")
        ws = load_workbook(io.BytesIO(x.content)).active
        assert ws is not None
        assert ws["A1"].value == f"{title}（2026-11-01 至 2026-11-03）"
        assert ws["B3"].value == 30
    assert admin.client.get("/dashboard/export/cases.csv").status_code == 404
    assert admin.client.get("/dashboard/export/league.pdf").status_code == 404


def test_the_monthly_report_is_a_pdf_of_the_month_against_the_last(reader: StubReader, login: Login,
                                                                   clock: FixedClock) -> None:
    admin = login("admin")
    r = admin.client.get("/dashboard/report.pdf?month=2026-10")
    assert r.status_code == 200 and r.content.startswith(b"%PDF")
    ranges = {(q.date_from, q.date_to) for name, q in reader.calls if name == "overview"}
    assert ranges == {(dt.date(2026, 10, 1), dt.date(2026, 10, 31)), (dt.date(2026, 9, 1), dt.date(2026, 9, 30))}
    future = today(clock).replace(day=1) + dt.timedelta(days=40)
    assert admin.client.get(f"/dashboard/report.pdf?month={future:%Y-%m}").status_code == 422


def test_the_large_screen_and_its_live_figures(reader: StubReader, login: Login, clock: FixedClock) -> None:
    sup = login("supervisor")
    page = sup.client.get("/dashboard/screen")
    assert page.status_code == 200 and 'data-source="/dashboard/screen.json?' in page.text
    data = sup.client.get("/dashboard/screen.json").json()
    assert data["tiles"][0] == {"code": "tickets", "label": "取号数", "text": "10", "low_sample": False}
    assert data["trend"]["categories"]
    assert {q.date_from for _, q in reader.calls} == {today(clock)}


def test_the_drilldown_lists_the_records_behind_a_figure(reader: StubReader, login: Login) -> None:
    admin = login("admin")
    r = admin.client.get("/dashboard/drilldown/tickets?page=2")
    assert r.status_code == 200 and "A002" in r.text and "共 40 条" in r.text
    assert "page=3" in r.text and "page=1" in r.text


def test_open_data_is_public_and_shows_the_catalog_figures(reader: StubReader, client: TestClient) -> None:
    r = client.get("/open-data", headers={"Accept": "text/html"})
    assert r.status_code == 200
    assert "99.95%" in r.text and "即办件占比" in r.text and "网上可办率" in r.text
    assert [name for name, _ in reader.calls] == ["public"]


def test_without_the_read_service_the_pages_say_so(app: FastAPI, login: Login, client: TestClient) -> None:
    app.state.analytics_reader = None
    assert login("admin").client.get("/dashboard").status_code == 503
    assert client.get("/open-data").status_code == 200


def test_query_parsing_defaults_to_the_last_thirty_days() -> None:
    q = dashboard.parse_query(today=dt.date(2026, 11, 30))
    assert (q.date_from, q.date_to, q.days) == (dt.date(2026, 11, 1), dt.date(2026, 11, 30), 30)
    assert dashboard.parse_month("", today=dt.date(2026, 3, 15)) == (dt.date(2026, 2, 1), dt.date(2026, 2, 28))
    with pytest.raises(ValidationFailed) as exc:
        dashboard.parse_query(today=dt.date(2026, 11, 30), date_from="x", hall="h")
    assert [p.field for p in exc.value.problems] == ["date_from", "hall"]
    with pytest.raises(ValidationFailed):
        dashboard.parse_query(today=dt.date(2026, 11, 30), date_from="2020-01-01")
