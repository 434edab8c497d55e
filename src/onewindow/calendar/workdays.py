"""Working-day arithmetic (工作日计算): the one place that decides whether a day counts.

Pure: the standard library plus ``chinese_calendar`` and ``holidays``; no database. The service
builds a :class:`WorkCalendar` from the admin overrides and the loaded notices; every deadline in
the platform (cases, 容缺 supply dates, complaints, 差评 work orders) is computed here.

How one date is decided, first match wins:

1. an **override** (an admin's decision, or a row of a loaded notice): holiday or workday;
2. a year whose **official notice was loaded** (国务院办公厅通知): the notice's days are the
   overrides; every other weekday is a workday and every weekend day a rest day;
3. a year inside the **official table** of ``chinese_calendar`` (2004–2026 in 1.11.0):
   holidays and make-up working days (调休上班) as published;
4. otherwise the **provisional** calendar: weekends, plus the statutory festival days of
   ``holidays.China`` (lunar dates included: 除夕, 春节, 清明, 端午, 中秋 …) and the compensation
   days the law itself requires when a festival falls on a weekend (《全国年节及纪念日放假办法》
   第六条 “补假”), but no make-up working days, which only the yearly notice can set.
   Every date decided by this calendar is marked ``provisional``.

Counting rules (行政许可法 第四十二条、第八十二条):

* working-day limits count from the day after acceptance (the acceptance day does not count);
  ``n = 0`` (即办件) is the acceptance day itself;
* natural-day limits count calendar days from the day after acceptance; when the last day is a
  rest day the limit ends on the first working day after it (“期限的最后一日为法定节假日的，
  以节假日后的第一日为期限的最后一日”; 法定节假日 is read, as courts read 民法典 第二百零三条
  “法定休假日”, to include ordinary weekends, while a make-up Saturday is a working day);
* suspended days (特别程序: hearing, expert review, inspection) do not count at all; a
  suspension is an inclusive ``(first_day, last_day)`` range of dates;
* a computed due date is ``provisional`` when any day whose status decided it came from the
  provisional calendar.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

import chinese_calendar
import holidays

__all__ = [
    "DayInfo",
    "DayKind",
    "DayOverride",
    "DueDate",
    "SpecialDay",
    "Suspension",
    "TimeUnit",
    "WorkCalendar",
    "YearSource",
]


class DayKind(StrEnum):
    """What an override or a notice row makes of a date."""

    HOLIDAY = "holiday"  # 放假（休）
    WORKDAY = "workday"  # 上班（班），usually a make-up Saturday or Sunday (调休上班)


class TimeUnit(StrEnum):
    """Unit of a time limit (法定/承诺办结时限的单位)."""

    WORKING_DAY = "working_day"  # 工作日
    NATURAL_DAY = "natural_day"  # 自然日


class YearSource(StrEnum):
    """Where the calendar of a year comes from."""

    NOTICE = "notice"  # an official notice loaded by an admin
    OFFICIAL = "official"  # the official table shipped with chinese_calendar
    PROVISIONAL = "provisional"  # weekends + statutory festivals, no make-up days


@dataclass(frozen=True, slots=True)
class DayOverride:
    """An admin's decision (or a notice row) about one date."""

    kind: DayKind
    name: str = ""


@dataclass(frozen=True, slots=True)
class DayInfo:
    """Status of one date: does it count as a working day, is that certain, and its name."""

    workday: bool
    provisional: bool
    name: str


@dataclass(frozen=True, slots=True)
class DueDate:
    """A computed deadline; ``provisional`` when it rests on a not-yet-official calendar."""

    date: dt.date
    provisional: bool


@dataclass(frozen=True, slots=True)
class SpecialDay:
    """A named or non-default day of a year, for admin pages and ``onewindow calendar show``."""

    day_date: dt.date
    workday: bool
    name: str
    provisional: bool
    overridden: bool


Suspension = tuple[dt.date, dt.date]
"""An inclusive range of suspended dates (first day, last day) that do not count."""

WEEKEND_NAME = "周末"
DEFAULT_HOLIDAY_NAME = "节假日"
DEFAULT_WORKDAY_NAME = "调休上班"

# chinese_calendar names its holidays in English; the platform shows them in Chinese.
_OFFICIAL_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日",
}

_PLAIN_WORKDAY = {False: DayInfo(True, False, ""), True: DayInfo(True, True, "")}
_PLAIN_WEEKEND = {False: DayInfo(False, False, WEEKEND_NAME), True: DayInfo(False, True, WEEKEND_NAME)}


def _plain(day: dt.date, provisional: bool) -> DayInfo:
    return _PLAIN_WEEKEND[provisional] if day.weekday() >= 5 else _PLAIN_WORKDAY[provisional]


def _year_dates(year: int) -> list[dt.date]:
    first = dt.date(year, 1, 1)
    count = (dt.date(year + 1, 1, 1) - first).days
    return [first + dt.timedelta(days=i) for i in range(count)]


@lru_cache(maxsize=4096)
def _in_official_table(year: int) -> bool:
    try:
        chinese_calendar.get_holiday_detail(dt.date(year, 1, 1))
    except NotImplementedError:
        return False
    return True


def _official_name(raw: str | None, workday: bool) -> str:
    name = _OFFICIAL_NAMES.get(raw or "", raw or "")
    if workday:
        return f"{name}调休上班" if name else DEFAULT_WORKDAY_NAME
    return name or DEFAULT_HOLIDAY_NAME


@lru_cache(maxsize=256)
def _base_year(year: int, source: YearSource) -> tuple[DayInfo, ...]:
    """Status of every date of a year before overrides (shared by every calendar instance)."""
    days = _year_dates(year)
    if source is YearSource.NOTICE:
        return tuple(_plain(d, False) for d in days)
    if source is YearSource.OFFICIAL:
        out: list[DayInfo] = []
        for d in days:
            rest, raw = chinese_calendar.get_holiday_detail(d)
            if raw is None:
                out.append(_plain(d, False))
            else:
                out.append(DayInfo(not rest, False, _official_name(raw, not rest)))
        return tuple(out)
    festivals = {
        day: name
        for day, name in holidays.country_holidays("CN", years=year, language="zh_CN", observed=True).items()
        # Substituted rest days (“休息日（由 … 调休）”) come paired with make-up working days that
        # only a notice can set; a provisional calendar keeps neither.
        if "调休" not in name
    }
    return tuple(
        DayInfo(False, True, festivals[d]) if d in festivals else _plain(d, True) for d in days
    )


class _Year:
    """The resolved days of one year, indexed by ``ordinal - first_ordinal``."""

    __slots__ = ("days", "first", "last", "overridden", "source")

    def __init__(self, year: int, source: YearSource, overrides: Mapping[dt.date, DayOverride]) -> None:
        self.source = source
        self.first = dt.date(year, 1, 1).toordinal()
        self.last = dt.date(year, 12, 31).toordinal()
        days = list(_base_year(year, source))
        self.overridden: set[dt.date] = set()
        for day, override in overrides.items():
            if day.year != year:
                continue
            workday = override.kind is DayKind.WORKDAY
            default = DEFAULT_WORKDAY_NAME if workday else DEFAULT_HOLIDAY_NAME
            days[day.toordinal() - self.first] = DayInfo(workday, False, override.name or default)
            self.overridden.add(day)
        self.days = days


def _normalise_pauses(suspensions: Iterable[Suspension]) -> list[tuple[int, int]]:
    pauses: list[tuple[int, int]] = []
    for first, last in suspensions:
        if last < first:
            raise ValueError(f"suspension ends before it starts: {first} .. {last}")
        pauses.append((first.toordinal(), last.toordinal()))
    pauses.sort()
    return pauses


def _paused(ordinal: int, pauses: Sequence[tuple[int, int]]) -> bool:
    return any(first <= ordinal <= last for first, last in pauses)


class WorkCalendar:
    """Working-day calendar: overrides, then loaded notices, then the official table, then provisional."""

    def __init__(self, overrides: Mapping[dt.date, DayOverride] | None = None,
                 notice_years: Iterable[int] = ()) -> None:
        self._overrides: dict[dt.date, DayOverride] = dict(overrides or {})
        self._notice_years = frozenset(notice_years)
        self._years: dict[int, _Year] = {}

    # -- one year ----------------------------------------------------------------------------

    def year_source(self, year: int) -> YearSource:
        """Where the calendar of ``year`` comes from: a loaded notice, the official table, or provisional."""
        if year in self._notice_years:
            return YearSource.NOTICE
        if _in_official_table(year):
            return YearSource.OFFICIAL
        return YearSource.PROVISIONAL

    def is_official_year(self, year: int) -> bool:
        """True when no date of ``year`` is provisional (outside any override)."""
        return self.year_source(year) is not YearSource.PROVISIONAL

    def _year(self, year: int) -> _Year:
        table = self._years.get(year)
        if table is None:
            by_year = {d: o for d, o in self._overrides.items() if d.year == year}
            table = _Year(year, self.year_source(year), by_year)
            self._years[year] = table
        return table

    def _info(self, ordinal: int) -> DayInfo:
        day = dt.date.fromordinal(ordinal)
        table = self._year(day.year)
        return table.days[ordinal - table.first]

    def special_days(self, year: int) -> list[SpecialDay]:
        """Holidays (named rest days, weekend ones included) and make-up working days of ``year``."""
        table = self._year(year)
        out: list[SpecialDay] = []
        for offset, info in enumerate(table.days):
            day = dt.date.fromordinal(table.first + offset)
            weekend = day.weekday() >= 5
            named_rest = not info.workday and info.name not in ("", WEEKEND_NAME)
            makeup = info.workday and weekend
            overridden = day in table.overridden
            if named_rest or makeup or overridden:
                out.append(SpecialDay(day, info.workday, info.name, info.provisional, overridden))
        return out

    # -- one date ----------------------------------------------------------------------------

    def day_info(self, day: dt.date) -> DayInfo:
        """Whether ``day`` is a working day, whether that is provisional, and its name."""
        return self._info(day.toordinal())

    def is_workday(self, day: dt.date) -> bool:
        """True when ``day`` counts as a working day."""
        return self._info(day.toordinal()).workday

    # -- arithmetic --------------------------------------------------------------------------

    def _walk(self, ordinal: int, pauses: Sequence[tuple[int, int]]) -> tuple[int, DayInfo | None]:
        """Step one day forward; the info is None when the day is suspended."""
        ordinal += 1
        if pauses and _paused(ordinal, pauses):
            return ordinal, None
        return ordinal, self._info(ordinal)

    def add_working_days(self, start: dt.date, n: int, suspensions: Iterable[Suspension] = ()) -> DueDate:
        """The ``n``-th working day after ``start`` (acceptance day excluded; ``n=0`` is ``start``)."""
        if n < 0:
            raise ValueError("n must not be negative")
        pauses = _normalise_pauses(suspensions)
        ordinal = start.toordinal()
        provisional = False
        remaining = n
        while remaining:
            ordinal, info = self._walk(ordinal, pauses)
            if info is None:
                continue
            provisional = provisional or info.provisional
            if info.workday:
                remaining -= 1
        return DueDate(dt.date.fromordinal(ordinal), provisional)

    def add_natural_days(self, start: dt.date, n: int, suspensions: Iterable[Suspension] = ()) -> DueDate:
        """``start`` plus ``n`` calendar days (suspended days skipped), moved off a final rest day."""
        if n < 0:
            raise ValueError("n must not be negative")
        pauses = _normalise_pauses(suspensions)
        ordinal = start.toordinal()
        remaining = n
        while remaining:
            ordinal += 1
            if not (pauses and _paused(ordinal, pauses)):
                remaining -= 1
        if n == 0:
            return DueDate(start, False)
        # The last day falls on a rest day: the limit ends on the next working day (行政许可法 §82).
        info = self._info(ordinal)
        provisional = info.provisional
        while not info.workday:
            ordinal, next_info = self._walk(ordinal, pauses)
            if next_info is None:
                continue
            info = next_info
            provisional = provisional or info.provisional
        return DueDate(dt.date.fromordinal(ordinal), provisional)

    def due_date(self, start: dt.date, n: int, unit: TimeUnit | str = TimeUnit.WORKING_DAY,
                 suspensions: Iterable[Suspension] = ()) -> DueDate:
        """Deadline of an ``n``-unit limit accepted on ``start`` (unit ``working_day`` or ``natural_day``)."""
        unit = TimeUnit(unit)
        if unit is TimeUnit.WORKING_DAY:
            return self.add_working_days(start, n, suspensions)
        return self.add_natural_days(start, n, suspensions)

    def working_days_between(self, start: dt.date, end: dt.date,
                             suspensions: Iterable[Suspension] = ()) -> int:
        """Working days after ``start`` up to and including ``end``; negative when ``end`` is earlier.

        ``working_days_between(today, due)`` is the number of working days left: 1 on the eve of
        the last day, 0 on the last day itself, negative once overdue.
        """
        if end < start:
            return -self.working_days_between(end, start, suspensions)
        pauses = _normalise_pauses(suspensions)
        count = 0
        for ordinal in range(start.toordinal() + 1, end.toordinal() + 1):
            if pauses and _paused(ordinal, pauses):
                continue
            if self._info(ordinal).workday:
                count += 1
        return count

    def next_workday(self, day: dt.date) -> dt.date:
        """The first working day on or after ``day``."""
        ordinal = day.toordinal()
        while not self._info(ordinal).workday:
            ordinal += 1
        return dt.date.fromordinal(ordinal)
