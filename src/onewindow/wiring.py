"""Cross-domain listeners, installed once by each composition root (the app and the CLI).

Domains do not import each other to react to events; the listener owner is wired here instead.
Today: case due dates follow calendar changes (``cases.sweep.recompute_on_calendar_change``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from onewindow.calendar.service import CalendarChange


def _case_deadlines(session: Session, change: CalendarChange) -> None:
    from onewindow.cases.sweep import recompute_on_calendar_change  # imported on first use: the CLI starts fast

    recompute_on_calendar_change(session, change)


def install() -> None:
    """Register every cross-domain listener (idempotent)."""
    from onewindow.calendar import service as calendar_service

    if _case_deadlines not in calendar_service.on_calendar_changed:
        calendar_service.on_calendar_changed.append(_case_deadlines)
