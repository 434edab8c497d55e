"""Demo 电子监察: the window schedule of two clerks (one at their window, one not signed in at the town
center) and one sweep over the demo county, so the inbox opens with case, hall and 差评 alerts."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from onewindow.catalog.models import Hall
from onewindow.core.audit import Actor
from onewindow.core.clock import Clock
from onewindow.queue.models import Window
from onewindow.staff.models import User
from onewindow.supervision import service
from onewindow.supervision.models import WindowDuty

SCHEDULE = (("clerk", "HJ-ZWZX", 1), ("clerk_town", "HJ-CGZ", 1))


def load_demo_alerts(session: Session, clock: Clock, actor: Actor) -> dict[str, int]:
    """Schedule the demo clerks at their windows (once) and run one sweep; the sweep's counts."""
    if session.scalars(select(WindowDuty.id)).first() is None:
        for username, hall, number in SCHEDULE:
            user = session.scalars(select(User).where(User.username == username)).first()
            window = session.scalars(select(Window).join(Hall)
                                     .where(Hall.code == hall, Window.number == number)).first()
            if user is not None and window is not None:
                service.assign_duty(session, clock=clock, actor=actor, window_id=window.id, clerk_id=user.id)
    return service.sweep(session, clock=clock)
