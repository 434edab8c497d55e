"""Calendar service: build the working-day calendar from the database, edit overrides, load notices.

Every change flushes, writes one audit entry and then calls the hooks in
:data:`on_calendar_changed` inside the same transaction, so a listener (the cases domain
recomputing the due dates of open cases) commits or rolls back together with the change.
The caller owns the transaction (commit or rollback), as everywhere in the platform.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from onewindow.calendar.models import CalendarNotice, HolidayOverride
from onewindow.calendar.workdays import DayKind, DayOverride, WorkCalendar
from onewindow.core import audit
from onewindow.core.audit import Actor
from onewindow.core.clock import Clock
from onewindow.core.errors import NotFound, Problem, ValidationFailed

__all__ = [
    "CalendarChange",
    "ImportedNotice",
    "NoticeFile",
    "NoticeRow",
    "build_calendar",
    "delete_override",
    "import_notice",
    "list_notices",
    "list_overrides",
    "on_calendar_changed",
    "parse_kind",
    "parse_notice_csv",
    "parse_notice_json",
    "read_notice_file",
    "set_override",
]

NAME_MAX = 60  # HolidayOverride.name
TITLE_MAX = 200  # CalendarNotice.title
YEAR_MIN, YEAR_MAX = 2000, 2100

_KINDS = {
    "休": DayKind.HOLIDAY, "假": DayKind.HOLIDAY, "放假": DayKind.HOLIDAY, "holiday": DayKind.HOLIDAY,
    "班": DayKind.WORKDAY, "上班": DayKind.WORKDAY, "workday": DayKind.WORKDAY,
}
_DATE_RE = re.compile(r"^\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*$")
_WEEKDAYS = "一二三四五六日"


@dataclass(frozen=True)
class CalendarChange:
    """What changed, for listeners: who and when (to audit their own follow-up), which dates and years.

    A listener should recompute every open deadline whose counting window contains one of
    ``dates``, and every provisional deadline that reaches into one of ``years`` (a loaded notice
    turns a whole year official).
    """

    clock: Clock
    actor: Actor
    action: str
    dates: frozenset[dt.date]
    years: frozenset[int] = field(default_factory=frozenset)


CalendarListener = Callable[[Session, CalendarChange], None]

on_calendar_changed: list[CalendarListener] = []
"""Listeners called after every calendar change, inside the caller's transaction."""


@dataclass(frozen=True)
class NoticeRow:
    """One raw row of a notice file; ``row`` is the number shown to the user in error messages.

    For CSV it is the spreadsheet line number (the header is row 1, so data starts at row 2);
    for JSON it is the 1-based position in ``days``.
    """

    row: int
    date: str
    kind: str
    name: str = ""


@dataclass(frozen=True)
class NoticeFile:
    """A parsed notice file; ``year`` and ``title`` are present only when the file states them (JSON)."""

    rows: list[NoticeRow]
    year: int | None = None
    title: str | None = None


@dataclass(frozen=True)
class ImportedNotice:
    """Result of :func:`import_notice`."""

    notice: CalendarNotice
    holidays: int
    workdays: int
    replaced: bool


# -- reading ---------------------------------------------------------------------------------


def build_calendar(session: Session) -> WorkCalendar:
    """The working-day calendar with every override and loaded notice in the database."""
    overrides = {
        o.day_date: DayOverride(DayKind(o.kind), o.name)
        for o in session.execute(select(HolidayOverride)).scalars()
    }
    years = session.execute(select(CalendarNotice.year)).scalars().all()
    return WorkCalendar(overrides, years)


def list_overrides(session: Session, year: int | None = None) -> list[HolidayOverride]:
    """Overrides in date order, optionally of one year."""
    stmt = select(HolidayOverride).order_by(HolidayOverride.day_date)
    if year is not None:
        stmt = stmt.where(HolidayOverride.day_date >= dt.date(year, 1, 1),
                          HolidayOverride.day_date <= dt.date(year, 12, 31))
    return list(session.execute(stmt).scalars())


def list_notices(session: Session) -> list[CalendarNotice]:
    """Loaded official notices, by year."""
    return list(session.execute(select(CalendarNotice).order_by(CalendarNotice.year)).scalars())


# -- parsing ---------------------------------------------------------------------------------


def parse_kind(raw: str) -> DayKind | None:
    """``休``/``holiday`` → holiday, ``班``/``workday`` → workday; None when unrecognised."""
    return _KINDS.get(raw.strip().lower())


def _parse_date(raw: str) -> dt.date | None:
    match = _DATE_RE.match(raw)
    if match is None:
        return None
    try:
        return dt.date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def _file_problem(code: str, message: str) -> ValidationFailed:
    return ValidationFailed([Problem(field="file", code=code, message=message)])


def parse_notice_csv(text: str) -> NoticeFile:
    """Rows of a CSV notice with the header ``date,kind,name`` (``name`` may be empty)."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = next(reader, None)
    columns = [c.strip().lower() for c in header] if header else []
    if "date" not in columns or "kind" not in columns:
        raise _file_problem("bad_header", "CSV 文件第一行应为表头 date,kind,name")
    i_date, i_kind = columns.index("date"), columns.index("kind")
    i_name = columns.index("name") if "name" in columns else None
    rows: list[NoticeRow] = []
    for line_no, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue  # blank lines are common at the end of spreadsheet exports

        def cell(i: int | None, cells: list[str] = cells) -> str:
            return cells[i].strip() if i is not None and i < len(cells) else ""

        rows.append(NoticeRow(line_no, cell(i_date), cell(i_kind), cell(i_name)))
    return NoticeFile(rows)


def parse_notice_json(text: str) -> NoticeFile:
    """Rows of a JSON notice ``{"year": …, "title": …, "days": [{"date", "kind", "name"}]}``."""
    try:
        data = json.loads(text.lstrip("\ufeff"))
    except json.JSONDecodeError as exc:
        where = f"第 {exc.lineno} 行第 {exc.colno} 列"
        raise _file_problem("bad_json", f"JSON 格式错误（{where}）：{exc.msg}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("days"), list):
        raise _file_problem("bad_json", "JSON 应为对象，并包含 days 数组")
    year = data.get("year")
    if year is not None and (isinstance(year, bool) or not isinstance(year, int)):
        raise _file_problem("bad_json", "JSON 中的 year 应为整数年份")
    title = data.get("title")
    rows: list[NoticeRow] = []
    for i, item in enumerate(data["days"], start=1):
        if not isinstance(item, dict):
            rows.append(NoticeRow(i, "", "", ""))  # reported as a bad date and kind by validation
            continue
        rows.append(NoticeRow(i, str(item.get("date") or ""), str(item.get("kind") or ""),
                              str(item.get("name") or "")))
    return NoticeFile(rows, year, str(title) if title is not None else None)


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")  # CSV saved by Excel on a Chinese Windows
    except UnicodeDecodeError as exc:
        raise _file_problem("bad_encoding", "无法识别文件编码，请保存为 UTF-8") from exc


def read_notice_file(path: Path) -> NoticeFile:
    """Read a notice from a ``.json`` or ``.csv`` file (UTF-8, or GB18030 as Excel saves it)."""
    text = _decode(path.read_bytes())
    if path.suffix.lower() == ".json" or (path.suffix.lower() != ".csv" and text.lstrip("\ufeff \r\n\t")
                                          .startswith("{")):
        return parse_notice_json(text)
    return parse_notice_csv(text)


# -- validation ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Day:
    day_date: dt.date
    kind: DayKind
    name: str


def _as_rows(rows: Sequence[NoticeRow | Mapping[str, Any]]) -> list[NoticeRow]:
    out: list[NoticeRow] = []
    for i, row in enumerate(rows, start=1):
        if isinstance(row, NoticeRow):
            out.append(row)
        else:
            out.append(NoticeRow(i, str(row.get("date") or ""), str(row.get("kind") or ""),
                                 str(row.get("name") or "")))
    return out


def _validate_notice(year: int, title: str, rows: list[NoticeRow]) -> list[_Day]:
    problems: list[Problem] = []
    if not YEAR_MIN <= year <= YEAR_MAX:
        problems.append(Problem("year", "invalid_year", f"年份 {year} 无效，应在 {YEAR_MIN}–{YEAR_MAX} 之间"))
    if not title.strip():
        problems.append(Problem("title", "title_required", "请填写通知标题"))
    elif len(title.strip()) > TITLE_MAX:
        problems.append(Problem("title", "title_too_long", f"通知标题不能超过 {TITLE_MAX} 个字"))
    if not rows:
        problems.append(Problem("file", "empty_notice", "通知中没有任何日期"))
    days: list[_Day] = []
    seen: dict[dt.date, int] = {}
    for row in rows:
        where = f"row {row.row}"
        day = _parse_date(row.date)
        kind = parse_kind(row.kind)
        name = row.name.strip()
        if day is None:
            shown = row.date or "（空）"
            problems.append(Problem(where, "invalid_date",
                                    f"日期“{shown}”无效，应为 YYYY-MM-DD，例如 {year}-01-01"))
        elif day.year != year:
            problems.append(Problem(where, "date_outside_year", f"日期 {day.isoformat()} 不在 {year} 年内"))
        elif day in seen:
            problems.append(Problem(where, "duplicate_date",
                                    f"日期 {day.isoformat()} 与第 {seen[day]} 行重复"))
        if kind is None:
            shown = row.kind or "（空）"
            problems.append(Problem(where, "invalid_kind",
                                    f"类型“{shown}”无效，应为 休 或 班（也可写 holiday / workday）"))
        if len(name) > NAME_MAX:
            problems.append(Problem(where, "name_too_long", f"名称不能超过 {NAME_MAX} 个字"))
        if day is not None and day.year == year and kind is DayKind.WORKDAY and day.weekday() < 5:
            problems.append(Problem(
                where, "workday_not_weekend",
                f"{day.isoformat()} 是星期{_WEEKDAYS[day.weekday()]}，本就是工作日；调休上班日应为周六或周日",
            ))
        if day is not None and day not in seen:
            seen[day] = row.row
        if day is not None and kind is not None:
            days.append(_Day(day, kind, name))
    if rows and not problems and not any(d.kind is DayKind.HOLIDAY for d in days):
        problems.append(Problem("file", "no_holidays", "通知中没有任何放假日期（类型为 休）"))
    if problems:
        raise ValidationFailed(problems)
    return days


def _check_override(kind: DayKind | str, name: str) -> tuple[DayKind, str]:
    problems: list[Problem] = []
    parsed = kind if isinstance(kind, DayKind) else parse_kind(kind)
    if parsed is None:
        problems.append(Problem("kind", "invalid_kind",
                                f"类型“{kind}”无效，应为 休（holiday）或 班（workday）"))
    name = name.strip()
    if len(name) > NAME_MAX:
        problems.append(Problem("name", "name_too_long", f"名称不能超过 {NAME_MAX} 个字"))
    if problems or parsed is None:
        raise ValidationFailed(problems)
    return parsed, name


# -- writing ---------------------------------------------------------------------------------


def _notify(session: Session, change: CalendarChange) -> None:
    session.flush()
    for listener in list(on_calendar_changed):
        listener(session, change)


def _override_state(o: HolidayOverride) -> dict[str, Any]:
    return {"day_date": o.day_date.isoformat(), "kind": o.kind, "name": o.name}


def set_override(session: Session, *, clock: Clock, actor: Actor, day_date: dt.date,
                 kind: DayKind | str, name: str = "") -> HolidayOverride:
    """Make one date a holiday or a working day (creating or replacing its override), audited."""
    parsed, name = _check_override(kind, name)
    existing = session.execute(
        select(HolidayOverride).where(HolidayOverride.day_date == day_date)
    ).scalar_one_or_none()
    before = _override_state(existing) if existing is not None else None
    if existing is None:
        existing = HolidayOverride(day_date=day_date, kind=parsed.value, name=name, created_at=clock.now())
        session.add(existing)
    else:
        existing.kind = parsed.value
        existing.name = name
    session.flush()
    after = _override_state(existing)
    if before != after:
        audit.record(session, clock=clock, actor=actor, action="calendar.override_set",
                     entity_type="holiday_override", entity_id=day_date.isoformat(),
                     before=before, after=after)
        _notify(session, CalendarChange(clock, actor, "calendar.override_set", frozenset({day_date})))
    return existing


def delete_override(session: Session, *, clock: Clock, actor: Actor, day_date: dt.date) -> None:
    """Remove the override of one date (it falls back to the notice, official or provisional calendar)."""
    existing = session.execute(
        select(HolidayOverride).where(HolidayOverride.day_date == day_date)
    ).scalar_one_or_none()
    if existing is None:
        raise NotFound("节假日调整", day_date.isoformat(), field="day_date")
    before = _override_state(existing)
    session.delete(existing)
    session.flush()
    audit.record(session, clock=clock, actor=actor, action="calendar.override_deleted",
                 entity_type="holiday_override", entity_id=day_date.isoformat(), before=before, after=None)
    _notify(session, CalendarChange(clock, actor, "calendar.override_deleted", frozenset({day_date})))


def import_notice(session: Session, *, clock: Clock, actor: Actor, year: int, title: str,
                  rows: Sequence[NoticeRow | Mapping[str, Any]]) -> ImportedNotice:
    """Load a year's official notice: validate every row first, then replace that year's overrides.

    Nothing is written when any row is wrong; the error lists every problem with its row.
    Loading a notice again for the same year replaces the earlier one, and removes any
    manual override of that year (the notice is the complete arrangement of its year).
    """
    title = title.strip()
    days = _validate_notice(year, title, _as_rows(rows))
    first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
    old = list_overrides(session, year)
    old_dates = {o.day_date for o in old}
    notice = session.execute(select(CalendarNotice).where(CalendarNotice.year == year)).scalar_one_or_none()
    before: dict[str, Any] | None = None
    if notice is not None or old:
        before = {"title": notice.title if notice is not None else None,
                  "days": [_override_state(o) for o in old]}
    session.execute(delete(HolidayOverride).where(HolidayOverride.day_date >= first,
                                                  HolidayOverride.day_date <= last))
    now = clock.now()
    replaced = notice is not None
    if notice is None:
        notice = CalendarNotice(year=year, title=title, loaded_at=now)
        session.add(notice)
    else:
        notice.title = title
        notice.loaded_at = now
    new = [HolidayOverride(day_date=d.day_date, kind=d.kind.value, name=d.name, created_at=now)
           for d in sorted(days, key=lambda d: d.day_date)]
    session.add_all(new)
    session.flush()
    after = {"title": title, "days": [_override_state(o) for o in new]}
    audit.record(session, clock=clock, actor=actor, action="calendar.notice_imported",
                 entity_type="calendar_notice", entity_id=year, before=before, after=after)
    changed = old_dates | {d.day_date for d in days}
    _notify(session, CalendarChange(clock, actor, "calendar.notice_imported", frozenset(changed),
                                    frozenset({year})))
    holidays = sum(1 for d in days if d.kind is DayKind.HOLIDAY)
    return ImportedNotice(notice, holidays, len(days) - holidays, replaced)
