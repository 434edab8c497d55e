"""Orders written straight into the tables, in any state, for the figures, ledger and insight tests (the service's
own moves are tested with the service; these tests read what the tables hold)."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from onewindow.catalog.models import Department
from onewindow.complaints import rules
from onewindow.complaints.models import Complaint, ComplaintAssignment
from onewindow.core.clock import CHINA_TZ
from onewindow.staff.models import User

_serial = itertools.count(1)


def at(month: int, day: int, hour: int = 9, minute: int = 0) -> dt.datetime:
    """A moment of 2026, China time."""
    return dt.datetime(2026, month, day, hour, minute, tzinfo=CHINA_TZ)


def department_id(session: Session, code: str) -> int:
    """A demo department's id by its code."""
    found = session.scalar(select(Department.id).where(Department.code == code))
    assert found is not None
    return found


def user(session: Session, username: str) -> User:
    """A demo account."""
    return session.scalars(select(User).where(User.username == username)).one()


@dataclass(frozen=True)
class Lead:
    """A lead assignment (派单 to a 主办): to whom, when, by when to sign, signed / returned when."""

    code: str
    assigned_at: dt.datetime
    signed_at: dt.datetime | None = None
    returned_at: dt.datetime | None = None
    active: bool = True
    hours: int = 24


def make_order(session: Session, *, dept: str | None, accepted_at: dt.datetime, due_on: dt.date,
               category: str = "complain", state: str = "accepted", subject: str = "诉求",
               content: str = "", replied_at: dt.datetime | None = None, verdict: str | None = None,
               reopen: int = 0, solved: bool | None = None, urges: int = 0, leads: tuple[Lead, ...] = (),
               merged_into: int | None = None, phone: str = "13812345678", item_code: str | None = None,
               channel: str = "window", closed_at: dt.datetime | None = None) -> Complaint:
    """One order as the tables would hold it after its moves."""
    n = next(_serial)
    order = Complaint(
        number=f"YS{accepted_at:%Y%m%d}{9000 + n % 999:04d}", tracking_code=f"T{n:09d}", channel=channel,
        category=category, urgent=False, subject=subject, content=content, item_code=item_code,
        complainant_name="王先生", complainant_phone=phone, anonymous=False, state=state, version=1,
        lead_department_id=department_id(session, dept) if dept else None, accepted_at=accepted_at,
        accepted_on=accepted_at.date(), limit_days=15, due_on=due_on, due_at=rules.end_of_day(due_on),
        due_provisional=False, overdue=False, reply="已答复" if replied_at else "", replied_at=replied_at,
        callback_verdict=verdict, callback_note="", reopen_count=reopen, return_count=0, urge_count=urges,
        merged_into_id=merged_into, solved=solved, closed_at=closed_at,
        closed_on=closed_at.date() if closed_at else None, updated_at=accepted_at)
    session.add(order)
    session.flush()
    for lead in leads:
        session.add(ComplaintAssignment(
            complaint_id=order.id, department_id=department_id(session, lead.code), role="lead",
            assigned_at=lead.assigned_at, sign_due_at=lead.assigned_at + dt.timedelta(hours=lead.hours),
            signed_at=lead.signed_at, returned_at=lead.returned_at, return_reason="派错" if lead.returned_at else "",
            active=lead.active))
    session.flush()
    return order
