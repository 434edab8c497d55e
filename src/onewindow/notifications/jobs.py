"""The ``notifications`` job: deliver the due outbox messages (every minute; ``onewindow jobs run-once``)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from onewindow.config import get_settings
from onewindow.core.clock import Clock
from onewindow.notifications import service
from onewindow.notifications.senders import sender_for


def deliver_outbox(session: Session, *, clock: Clock) -> dict[str, int]:
    """Send the due messages with the sender the process settings name; counts sent, retried, failed."""
    settings = get_settings()
    report = service.deliver_due(session, clock=clock, sender=sender_for(settings),
                                 max_attempts=settings.notify_max_attempts)
    return report.counts()
