"""Cross-domain listeners, installed once by the app and the CLI.

Domains do not import each other to react to events; the listener owner registers here instead.
Today: case due dates follow calendar changes (``cases.sweep.recompute_on_calendar_change``).
"""

from __future__ import annotations


def install() -> None:
    """Register every cross-domain listener (idempotent)."""
    from onewindow.calendar import service as calendar_service
    from onewindow.cases import sweep

    if sweep.recompute_on_calendar_change not in calendar_service.on_calendar_changed:
        calendar_service.on_calendar_changed.append(sweep.recompute_on_calendar_change)
