"""The 7×24 rule of the self-service kiosk: tickets only while the hall is staffed (pure).

A hall takes walk-in tickets on a working day (holiday calendar with 调休) from the start of its first
opening period to the end of its last one; a break between periods (lunch) still takes tickets, since
they are called when the windows reopen. Outside that — nights, weekends, holidays — the kiosk offers
only what needs nobody at a window: booking, case tracking, certificate printing, self-service items.
The opening periods come from the hall's free-text hours, read by ``staff.attendance`` (one parser).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from onewindow.core.clock import CHINA_TZ
from onewindow.staff.attendance import DEFAULT_OPENING_HOURS, parse_opening_hours

LOOKAHEAD_DAYS = 31


def takes_tickets(opening_hours: str, at: dt.datetime, *, workday: bool,
                  default: str = DEFAULT_OPENING_HOURS) -> bool:
    """True when a walk-in ticket taken ``at`` will be called the same day."""
    if not workday:
        return False
    periods = parse_opening_hours(opening_hours, default)
    local = at.astimezone(CHINA_TZ).time()
    return periods[0].start <= local < periods[-1].end


def next_opening(opening_hours: str, at: dt.datetime, *, is_workday: Callable[[dt.date], bool],
                 default: str = DEFAULT_OPENING_HOURS) -> dt.datetime | None:
    """When the hall next starts taking tickets after ``at`` (None when no working day within a month)."""
    first = parse_opening_hours(opening_hours, default)[0].start
    local = at.astimezone(CHINA_TZ)
    for offset in range(LOOKAHEAD_DAYS + 1):
        day = local.date() + dt.timedelta(days=offset)
        opens = dt.datetime.combine(day, first, tzinfo=CHINA_TZ)
        if opens > local and is_workday(day):
            return opens
    return None


def within_opening(opening_hours: str, start: dt.time, end: dt.time, *,
                   default: str = DEFAULT_OPENING_HOURS) -> bool:
    """True when ``start``–``end`` lies inside one opening period (a bookable slot must: someone is there)."""
    return any(p.start <= start and end <= p.end for p in parse_opening_hours(opening_hours, default))


def periods_text(opening_hours: str, *, default: str = DEFAULT_OPENING_HOURS) -> str:
    """The opening periods as read (``9:00-12:00、13:00-17:00``): what a refusal tells the visitor."""
    return "、".join(f"{p.start.hour}:{p.start.minute:02d}-{p.end.hour}:{p.end.minute:02d}"
                    for p in parse_opening_hours(opening_hours, default))


def periods(opening_hours: str, *, default: str = DEFAULT_OPENING_HOURS) -> list[tuple[str, str]]:
    """The hall's opening periods as ``("09:00", "12:00")`` pairs (what the API publishes)."""
    return [(p.start.strftime("%H:%M"), p.end.strftime("%H:%M")) for p in parse_opening_hours(opening_hours, default)]


def hours_problem(opening_hours: str) -> str | None:
    """Why a hall's hours text cannot be read (None: it names at least one period, or is blank for the default)."""
    if not opening_hours.strip():
        return None
    try:
        parse_opening_hours(opening_hours, opening_hours)  # no fallback: text naming no period raises
    except ValueError:
        return "办公时间应写明时段，如“工作日 9:00-12:00，13:00-17:00”（留空则按默认办公时间）"
    return None
