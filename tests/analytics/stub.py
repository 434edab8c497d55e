"""A tiny reader for the page tests only: figures that follow the filters, so a test can see the filters reach
the reader and change what is drawn. Never used by the app itself."""

from __future__ import annotations

import datetime as dt
from typing import Any

from onewindow.analytics.dashboard import TABLES, TREND_BY, Chart, Column, Query, Series, Table, Tile
from onewindow.core.access import Viewer


class StubReader:
    """Figures computed from the query alone; every call is recorded."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Query]] = []

    def _tickets(self, query: Query) -> int:
        return query.days * 10 + (query.department_id or 0) + 1000 * (query.hall_id or 0)

    def overview(self, session: Any, viewer: Viewer | None, query: Query) -> list[Tile]:
        self.calls.append(("overview", query))
        tickets = self._tickets(query)
        return [Tile("tickets", "取号数", str(tickets), float(tickets), drilldown=True),
                Tile("first_time_rate", "一次办结率", "50.00%", 50.0, "1 / 2", low_sample=True),
                Tile("good_rate", "好评率", "—", None)]

    def trend(self, session: Any, viewer: Viewer | None, query: Query, by: str) -> Chart:
        self.calls.append((f"trend:{by}", query))
        if by == "day":
            days = [query.date_from + dt.timedelta(days=i) for i in range(query.days)]
            return Chart("按日", [d.isoformat() for d in days],
                         [Series("取号", [float(10 + i % 7) for i in range(len(days))])])
        hours = [f"周{'一二三四五'[d]} {h:02d}时" for d in range(5) for h in range(8, 18)]
        return Chart("按时段", hours, [Series("取号", [float((i * 7) % 13) for i in range(len(hours))])])

    def table(self, session: Any, viewer: Viewer | None, query: Query, key: str) -> Table:
        self.calls.append((f"table:{key}", query))
        return Table(key, {"league": "部门排行", "items": "事项排行", "windows": "窗口", "clerks": "窗口人员",
                           "network": "县乡村三级网络", "channels": "办理渠道"}[key],
                     [Column("name", "名称", numeric=False), Column("cases", "办件数"), Column("rate", "按期办结率")],
                     [{"name": "市场监管局", "cases": self._tickets(query), "rate": 0.95},
                      {"name": "=cmd|' /C calc'!A0", "cases": 3, "rate": None}])

    def board(self, session: Any, viewer: Viewer | None, query: Query) -> tuple[list[Tile], dict[str, Chart],
                                                                             dict[str, Table]]:
        tables = {key: self.table(session, viewer, query, key) for key in TABLES}
        charts = {by: self.trend(session, viewer, query, by) for by in TREND_BY}
        return self.overview(session, viewer, query), charts, tables

    def drilldown(self, session: Any, viewer: Viewer | None, metric: str, query: Query, page: int) -> Table:
        self.calls.append((f"drilldown:{metric}", query))
        return Table(metric, "取号明细", [Column("number", "号码", numeric=False), Column("wait", "等待（分钟）")],
                     [{"number": f"A{page:03d}", "wait": 12}], total=40, has_next=True)

    def choices(self, session: Any, viewer: Viewer | None) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
        return [(1, "县政务服务中心")], [(1, "市场监管局"), (2, "卫健委")]

    def public(self, session: Any, query: Query) -> list[Tile]:
        self.calls.append(("public", query))
        return [Tile("good_rate", "好评率", "99.95%", 99.95)]
