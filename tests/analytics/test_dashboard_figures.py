"""The dashboard's pages and files show the hand-computed figures of a small history (written far from the
demo's days), through the real reader and the rollups kept current by the listener."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from onewindow.analytics import rollup
from tests.conftest import Browser

from .history import MONDAY, World, case

Login = Callable[[str], Browser]
RANGE = f"date_from={MONDAY.isoformat()}&date_to={(MONDAY + dt.timedelta(days=7)).isoformat()}"


def _tile(html: str, code: str) -> str:
    m = re.search(rf'data-code="{code}">\s*<div class="tile-label">[^<]*</div>\s*<div class="tile-value">(.*?)</div>',
                  html, re.S)
    assert m, code
    return re.sub(r"<[^>]+>", "", m[1]).strip()


def test_pages_and_files_show_the_hand_computed_figures(session: Session, login: Login, client: TestClient) -> None:
    w = World(session)
    rollup.recompute_open(session)
    tue = MONDAY + dt.timedelta(days=1)
    # department A: 10 cases finished on Tuesday; 7 with one visit; 2 past their promised day (8 on time)
    for i in range(10):
        case(session, w, w.dep_a, accepted=MONDAY, decided=tue, visits=1 if i < 7 else 2,
             promised=MONDAY if i in (0, 7) else None)
    session.commit()

    admin = login("admin")
    page = admin.client.get(f"/dashboard?{RANGE}&department={w.dep_a}").text
    assert _tile(page, "cases_finished") == "10"
    assert _tile(page, "on_time_rate") == "80.00%"
    assert _tile(page, "one_visit_rate") == "70.00%"
    assert "8 / 10" in page and "7 / 10" in page

    rows = list(csv.reader(io.StringIO(admin.client.get(f"/dashboard/export/league.csv?{RANGE}").content
                                       .decode("utf-8-sig"))))
    assert rows[0][:3] == ["部门", "按期办结率（%）", "一次办结率（%）"]
    assert [r[1:3] for r in rows[1:] if r[1] != "—"] == [["80", "70"]]

    drill = admin.client.get(f"/dashboard/drilldown/cases_finished?{RANGE}&department={w.dep_a}").text
    assert drill.count("<tr>") == 11  # the header and the ten cases

    public = client.get(f"/open-data?{RANGE}", headers={"Accept": "text/html"}).text
    assert _tile(public, "on_time_rate") == "80.00%"
    assert "测试" not in public and "110101199001011234" not in public  # no person on the public page
