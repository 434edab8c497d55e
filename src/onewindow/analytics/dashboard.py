"""What the dashboard pages show (pure): the query kept in the URL, the tiles, charts and tables they draw, and
the reader that fills them from the read service.

The pages, the large screen, the exports and the monthly report all draw from these few shapes, so a table has
one definition whether it is shown, downloaded as Excel or CSV, or printed in the PDF. The figures themselves
come from the read service (``analytics.service``, daily rollups only); a ``Reader`` turns its answers into
these shapes. Who sees which department is the access policy's answer (``scoped_query``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol
from urllib.parse import urlencode

from onewindow.core import access
from onewindow.core.access import Action, Record, Viewer
from onewindow.core.errors import Problem, ValidationFailed

MAX_RANGE_DAYS = 366 * 3  # a range longer than three years is refused (the trend would be unreadable)
DEFAULT_RANGE_DAYS = 30
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MONTH = re.compile(r"^\d{4}-\d{2}$")

# the tables of the dashboard, in the order shown; each is exported to Excel and CSV under its key
TABLES: dict[str, str] = {
    "league": "部门排行",
    "items": "事项排行",
    "windows": "窗口",
    "clerks": "窗口人员",
    "network": "县乡村三级网络",
    "channels": "办理渠道",
}
TREND_BY: dict[str, str] = {"day": "按日", "hour_of_week": "按星期与时段"}


@dataclass(frozen=True)
class Query:
    """The dashboard's filters, kept in the URL: a date range (inclusive), a hall and a department."""

    date_from: dt.date
    date_to: dt.date
    hall_id: int | None = None
    department_id: int | None = None

    @property
    def days(self) -> int:
        """Number of days in the range."""
        return (self.date_to - self.date_from).days + 1

    def params(self, **extra: str) -> str:
        """The query string that reproduces these filters (and ``extra``)."""
        pairs: dict[str, str] = {"date_from": self.date_from.isoformat(), "date_to": self.date_to.isoformat()}
        if self.hall_id is not None:
            pairs["hall"] = str(self.hall_id)
        if self.department_id is not None:
            pairs["department"] = str(self.department_id)
        pairs.update(extra)
        return urlencode(pairs)


def _date(value: str, name: str) -> dt.date | None:
    if not value:
        return None
    if _DATE.match(value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise ValidationFailed([Problem(name, "date_format", "日期格式应为 YYYY-MM-DD")])


def _id(value: str, name: str) -> int | None:
    if not value:
        return None
    if not value.isdigit() or len(value) > 9:
        raise ValidationFailed([Problem(name, f"{name}_invalid", "应为编号（数字）")])
    return int(value)


def parse_query(*, today: dt.date, date_from: str = "", date_to: str = "", hall: str = "",
                department: str = "") -> Query:
    """The filters of a request; 422 naming the field for a bad date, a reversed or too long range, a bad id."""
    problems: list[Problem] = []
    parsed: dict[str, Any] = {}
    for name, value, parse in (("date_from", date_from, _date), ("date_to", date_to, _date), ("hall", hall, _id),
                               ("department", department, _id)):
        try:
            parsed[name] = parse(value, name)
        except ValidationFailed as exc:
            problems.extend(exc.problems)
    if problems:
        raise ValidationFailed(problems)
    end: dt.date = parsed["date_to"] or today
    start: dt.date = parsed["date_from"] or end - dt.timedelta(days=DEFAULT_RANGE_DAYS - 1)
    if start > end:
        raise ValidationFailed([Problem("date_from", "range_reversed", "开始日期不能晚于结束日期")])
    if (end - start).days + 1 > MAX_RANGE_DAYS:
        raise ValidationFailed([Problem("date_from", "range_too_long", "统计期间最长三年")])
    return Query(date_from=start, date_to=end, hall_id=parsed["hall"], department_id=parsed["department"])


def parse_month(value: str, *, today: dt.date) -> tuple[dt.date, dt.date]:
    """First and last day of ``YYYY-MM`` (default: last month); 422 for a bad or future month."""
    if not value:
        first = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    else:
        try:
            if not _MONTH.match(value):
                raise ValueError(value)
            first = dt.date.fromisoformat(value + "-01")
        except ValueError:
            raise ValidationFailed([Problem("month", "month_format", "月份格式应为 YYYY-MM")]) from None
        if first > today:
            raise ValidationFailed([Problem("month", "month_future", "不能生成未来月份的报告")])
    last = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
    return first, last


def scoped_query(viewer: Viewer, query: Query, action: Action = Action.DASHBOARD_VIEW) -> Query:
    """The query narrowed to the viewer's reach: 403 without the action, or for another department's figures;
    a viewer whose grant reaches their department only gets it filled in."""
    access.require(viewer, action)
    own = access.department_scoped(viewer, action)
    if own is None:
        return query
    if query.department_id is not None:
        access.require(viewer, action, Record(department=query.department_id))
    return replace(query, department_id=own)


# ----- what is drawn ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tile:
    """One indicator as shown: its code, name, value as text, the parts behind it, and whether the sample is
    large enough to be compared (``low_sample``)."""

    code: str
    label: str
    text: str
    value: float | None = None
    parts: str = ""
    low_sample: bool = False
    drilldown: bool = False


@dataclass(frozen=True)
class Series:
    """A named line or bar series over the chart's categories."""

    name: str
    values: Sequence[float | None]


@dataclass(frozen=True)
class Chart:
    """A chart: its categories (days, hours of the week …) and its series."""

    title: str
    categories: Sequence[str]
    series: Sequence[Series]
    kind: str = "line"  # line | bar | heatmap

    def as_json(self) -> dict[str, Any]:
        """The data the page's script hands to ECharts."""
        return {"title": self.title, "kind": self.kind, "categories": list(self.categories),
                "series": [{"name": s.name, "values": list(s.values)} for s in self.series]}


@dataclass(frozen=True)
class Column:
    """A column of a table: the key of its cells and its Chinese header."""

    key: str
    label: str
    numeric: bool = True


@dataclass(frozen=True)
class Table:
    """A table of the dashboard; each is also an Excel and CSV download and a table of the monthly report."""

    key: str
    title: str
    columns: Sequence[Column]
    rows: Sequence[Mapping[str, Any]]
    note: str = ""
    total: int | None = None  # rows in all (a drill-down page shows a slice)
    has_next: bool = False  # a drill-down page with more after it
    chart_key: str = ""  # the column its bar chart shows (default: the first numeric one)

    def cells(self) -> list[list[str]]:
        """Every row as the texts of its columns."""
        return [[_text(row.get(c.key)) for c in self.columns] for row in self.rows]

    def chart(self, value_key: str, label_key: str, limit: int = 15) -> Chart:
        """A bar chart of one numeric column, first ``limit`` rows."""
        label = next((c.label for c in self.columns if c.key == value_key), value_key)
        rows = list(self.rows)[:limit]
        values: list[float | None] = []
        for r in rows:
            v = r.get(value_key)
            values.append(float(v) if isinstance(v, int | float) else None)
        return Chart(self.title, [_text(r.get(label_key)) for r in rows], [Series(label, values)], kind="bar")


def percent(value: float | None) -> str:
    """A share in [0, 1] as a percentage with two decimals ('—' without a value)."""
    return "—" if value is None else f"{value * 100:.2f}%"


def catalog_tiles(ind: Any) -> list[tuple[str, str, str, str]]:
    """The catalog's published figures (code, name, value, formula) from ``catalog_service.catalog_indicators``."""
    return [
        ("instant_share", "即办件占比", percent(ind.instant_share), "即办件 / 在用事项"),
        ("zero_visit_share", "零跑动事项占比", percent(ind.zero_visit_share), "到现场 0 次的事项 / 在用事项"),
        ("online_share", "网上可办率", percent(ind.online_share), "网办深度三级及以上 / 在用事项"),
        ("full_online_share", "全程网办率", percent(ind.full_online_share), "网办深度四级 / 在用事项"),
        ("limit_reduction", "承诺时限提速率", percent(ind.limit_reduction), "1 − Σ承诺时限 / Σ法定时限"),
    ]


def _text(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".")
    return str(value)


@dataclass
class Board:
    """Everything the overview page draws."""

    query: Query
    tiles: list[Tile]
    charts: dict[str, Chart]
    tables: dict[str, Table]
    halls: list[tuple[int, str]] = field(default_factory=list)
    departments: list[tuple[int, str]] = field(default_factory=list)


class Reader(Protocol):
    """The read service as the pages need it; every method reads rollups only, except ``drilldown``."""

    def overview(self, session: Any, viewer: Viewer, query: Query) -> list[Tile]:
        """The center overview's indicators."""
        ...

    def trend(self, session: Any, viewer: Viewer, query: Query, by: str) -> Chart:
        """Tickets, cases and ratings by day or by hour of the week."""
        ...

    def table(self, session: Any, viewer: Viewer, query: Query, key: str) -> Table:
        """One of ``TABLES``."""
        ...

    def board(self, session: Any, viewer: Viewer, query: Query) -> tuple[list[Tile], dict[str, Chart],
                                                                      dict[str, Table]]:
        """The overview's tiles, the charts of ``TREND_BY`` and every table of ``TABLES`` for one query, the
        period's rollups read once for all of them."""
        ...

    def drilldown(self, session: Any, viewer: Viewer, metric: str, query: Query, page: int) -> Table:
        """The records behind one indicator, a page at a time."""
        ...

    def choices(self, session: Any, viewer: Viewer | None) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
        """The halls and departments the filters offer the viewer."""
        ...

    def public(self, session: Any, query: Query) -> list[Tile]:
        """The indicators published on the open-data page (no personal data)."""
        ...


def build_board(reader: Reader, session: Any, viewer: Viewer, query: Query) -> Board:
    """The overview page's tiles, charts and tables for a scoped query."""
    tiles, trends, tables = reader.board(session, viewer, query)
    charts = dict(trends)
    charts["league"] = tables["league"].chart(*chart_columns(tables["league"]))
    charts["channels"] = tables["channels"].chart(*chart_columns(tables["channels"]))
    halls, departments = reader.choices(session, viewer)
    return Board(query=query, tiles=tiles, charts=charts, tables=tables,
                 halls=halls, departments=departments)


def chart_columns(table: Table) -> tuple[str, str]:
    """The value and label columns of a table's bar chart."""
    label = table.columns[0].key if table.columns else ""
    value = table.chart_key or next((c.key for c in table.columns[1:] if c.numeric), label)
    return value, label
