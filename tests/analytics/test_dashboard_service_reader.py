"""The dashboard pages over the real reader (the read service on the rollups of the demo county): every page
and download opens for the center and for a department head, within their reach."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from onewindow.analytics import dashboard
from tests.conftest import Browser

Login = Callable[[str], Browser]


def test_every_page_and_download_opens_on_the_rollups(login: Login) -> None:
    for username in ("admin", "head_scjg"):
        b = login(username)
        r = b.client.get("/dashboard?date_from=2026-01-01&date_to=2026-12-31")
        assert r.status_code == 200, r.text
        assert 'data-code="on_time_rate"' in r.text and 'data-table="channels"' in r.text
        assert b.client.get("/dashboard/screen").status_code == 200
        assert b.client.get("/dashboard/screen.json").json()["tiles"]
        for key in dashboard.TABLES:
            assert b.client.get(f"/dashboard/export/{key}.csv").status_code == 200
        assert b.client.get("/dashboard/export/league.xlsx").status_code == 200
        pdf = b.client.get("/dashboard/report.pdf?month=2026-10")
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        assert b.client.get("/dashboard/drilldown/cases_accepted?date_from=2026-01-01").status_code == 200
    assert login("admin").client.get("/dashboard/drilldown/nonsense").status_code == 422


def test_open_data_publishes_the_center_figures(client: TestClient) -> None:
    r = client.get("/open-data?date_from=2026-01-01&date_to=2026-12-31", headers={"Accept": "text/html"})
    assert r.status_code == 200
    assert "按期办结率" in r.text and "好评率" in r.text and "即办件占比" in r.text
