"""Complaint limits and due dates (pure): one function every caller uses (service, import, sweep, pages, PDF).

A category's limit is counted in working days from the day after 受理 on the working-day calendar
(咨询 2, 求助 10, 建议 10, 投诉 15, 举报 15 by default: settings ``ONEWINDOW_COMPLAINT_LIMIT_*_DAYS``); an
urgent order is due by the end of the day it was accepted, or, with ``ONEWINDOW_COMPLAINT_URGENT_HOURS`` set,
that many hours after 受理. The limit ends at the end of the due day (23:59:59 China time). The clock starts
at 受理 and is never restarted: a return (退单) or a re-dispatch (改派) keeps the first due time, so bouncing
an order between departments does not buy time.

The lead department signs for (签收) an assignment within ``ONEWINDOW_COMPLAINT_SIGN_HOURS`` hours of the
派单 (default 24 natural hours: a department that is closed for a weekend answers for it on the Monday report,
which is simpler to explain to citizens than working hours).
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from onewindow.calendar.workdays import WorkCalendar
from onewindow.complaints.states import Category
from onewindow.config import Settings
from onewindow.core.clock import CHINA_TZ

# Unambiguous characters only (no 0/O, 1/I/L): read out over the phone, typed on a phone.
TRACKING_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
TRACKING_LENGTH = 10
NUMBER_PREFIX = "YS"
MAX_DAILY_SEQUENCE = 9999


@dataclass(frozen=True, slots=True)
class Limits:
    """The local limits (settings), in working days per category, and the urgent and signing limits in hours."""

    consult_days: int = 2
    help_days: int = 10
    suggest_days: int = 10
    complain_days: int = 15
    report_days: int = 15
    urgent_hours: int = 0  # 0: the end of the day of 受理
    sign_hours: int = 24  # 签收 within this many hours of 派单
    urge_every_hours: int = 24  # an overdue order is urged (催办) again after this many hours

    def days(self, category: Category | str) -> int:
        """Working days allowed for a category."""
        return {
            Category.CONSULT: self.consult_days,
            Category.HELP: self.help_days,
            Category.SUGGEST: self.suggest_days,
            Category.COMPLAIN: self.complain_days,
            Category.REPORT: self.report_days,
        }[Category(category)]


@dataclass(frozen=True, slots=True)
class Due:
    """An order's limit: the due day, the moment it ends, the working days it was given, and provisional."""

    on: dt.date
    at: dt.datetime
    limit_days: int
    provisional: bool


def local_date(at: dt.datetime) -> dt.date:
    """The China calendar date of an aware moment."""
    return at.astimezone(CHINA_TZ).date()


def end_of_day(day: dt.date) -> dt.datetime:
    """The last second of a China calendar day (a limit ends there)."""
    return dt.datetime.combine(day, dt.time(23, 59, 59), CHINA_TZ)


def due(calendar: WorkCalendar, *, accepted_at: dt.datetime, category: Category | str, urgent: bool,
        limits: Limits) -> Due:
    """The limit of an order accepted at ``accepted_at``: computed once at 受理, never restarted."""
    accepted_on = local_date(accepted_at)
    if urgent:
        if limits.urgent_hours > 0:
            at = accepted_at + dt.timedelta(hours=limits.urgent_hours)
            return Due(local_date(at), at, 0, False)
        return Due(accepted_on, end_of_day(accepted_on), 0, False)
    days = limits.days(category)
    computed = calendar.add_working_days(accepted_on, days)
    return Due(computed.date, end_of_day(computed.date), days, computed.provisional)


def sign_due(assigned_at: dt.datetime, limits: Limits) -> dt.datetime:
    """When a department must have signed for (签收) an assignment made at ``assigned_at``."""
    return assigned_at + dt.timedelta(hours=limits.sign_hours)


def is_overdue(due_at: dt.datetime, now: dt.datetime) -> bool:
    """True once the limit has passed."""
    return now > due_at


def urge_threshold(now: dt.datetime, limits: Limits) -> dt.datetime:
    """An overdue order last urged before this moment is urged again."""
    return now - dt.timedelta(hours=limits.urge_every_hours)


def colour(due_at: dt.datetime, now: dt.datetime) -> str:
    """The inbox colour of an open order: red past the limit, orange within a day of it, green otherwise."""
    if now > due_at:
        return "red"
    if due_at - now <= dt.timedelta(days=1):
        return "orange"
    return "green"


COLOUR_LABELS = {"red": "已超期", "orange": "临期", "green": "正常"}


def format_number(day: dt.date, sequence: int) -> str:
    """The order number: YS + yyyymmdd + 4-digit daily sequence."""
    if not 1 <= sequence <= MAX_DAILY_SEQUENCE:
        raise ValueError("daily sequence out of range")
    return f"{NUMBER_PREFIX}{day:%Y%m%d}{sequence:04d}"


def number_range(day: dt.date) -> tuple[str, str]:
    """The first and last possible order numbers of a day (to find the day's highest)."""
    return format_number(day, 1), format_number(day, MAX_DAILY_SEQUENCE)


def new_tracking_code() -> str:
    """A random tracking code (查询码) the citizen follows the order by."""
    return "".join(secrets.choice(TRACKING_ALPHABET) for _ in range(TRACKING_LENGTH))


def normalise_tracking_code(raw: str) -> str:
    """What a citizen typed, as stored: upper case, without spaces or dashes."""
    return "".join(raw.split()).replace("-", "").upper()


def limits_from_settings(settings: Settings) -> Limits:
    """The limits the settings (``ONEWINDOW_COMPLAINT_*``) give."""
    return Limits(
        consult_days=settings.complaint_limit_consult_days,
        help_days=settings.complaint_limit_help_days,
        suggest_days=settings.complaint_limit_suggest_days,
        complain_days=settings.complaint_limit_complain_days,
        report_days=settings.complaint_limit_report_days,
        urgent_hours=settings.complaint_urgent_hours,
        sign_hours=settings.complaint_sign_hours,
        urge_every_hours=settings.complaint_urge_every_hours,
    )
