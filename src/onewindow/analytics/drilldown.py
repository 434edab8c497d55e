"""The records behind a figure (下钻): which table a metric counts and the indexed query that lists them.

Each metric's numerator counter says what it counts (``rules.COUNTERS``); the list shows the records of its
denominator (the whole sample: a rate's drill-down lists every finished case, with the column that says
whether it counted). No personal numbers are listed, only record numbers, dates, departments and outcomes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.orm import Session

from onewindow.analytics.metrics import Metric
from onewindow.cases.kinds import CaseKind
from onewindow.cases.models import Case
from onewindow.catalog.models import Item, ItemVersion
from onewindow.complaints.models import Complaint
from onewindow.queue.models import Ticket
from onewindow.ratings.models import Rating

if TYPE_CHECKING:
    from onewindow.analytics.service import Filters

TICKET_COUNTERS = {"tickets", "waited", "wait_seconds", "served", "service_seconds"}
ACCEPTED_COUNTERS = {"cases_accepted"}
FINISHED_COUNTERS = {"cases_finished", "finished_on_time", "finished_visits_1", "finished_visits_2",
                     "finished_visits_3"}
RATING_COUNTERS = {"ratings", "ratings_good", "ratings_negative", "ratings_default", "negative_rectified"}
COMPLAINT_CLOSED = {"complaints_closed", "complaints_on_time"}


def source_of(metric: Metric) -> str:
    """Which records a metric's sample is: tickets, accepted or finished cases, ratings, complaints."""
    counter = metric.denominator or metric.numerator
    if counter in TICKET_COUNTERS:
        return "ticket"
    if counter in ACCEPTED_COUNTERS:
        return "case_accepted"
    if counter in FINISHED_COUNTERS:
        return "case_finished"
    if counter in RATING_COUNTERS:
        return "rating"
    if counter in COMPLAINT_CLOSED:
        return "complaint_closed"
    return "complaint"


def records(session: Session, metric: Metric, filters: Filters, *, offset: int, limit: int) -> list[dict[str, Any]]:
    """One page of the records behind the metric, newest first."""
    source = source_of(metric)
    if source == "ticket":
        return _tickets(session, filters, offset, limit)
    if source in ("case_accepted", "case_finished"):
        return _cases(session, filters, source == "case_finished", offset, limit)
    if source == "rating":
        return _ratings(session, filters, offset, limit)
    return _complaints(session, filters, source == "complaint_closed", offset, limit)


def _tickets(session: Session, f: Filters, offset: int, limit: int) -> list[dict[str, Any]]:
    conds: list[ColumnElement[bool]] = [Ticket.day >= f.date_from, Ticket.day <= f.date_to]
    if f.hall_id is not None:
        conds.append(Ticket.hall_id == f.hall_id)
    stmt = select(Ticket.id, Ticket.number, Ticket.day, Ticket.hall_id, Ticket.state, Ticket.channel,
                  Ticket.issued_at, Ticket.called_at, Ticket.serving_at, Ticket.done_at, Ticket.item_code)
    if f.department_id is not None:
        stmt = (stmt.join(Item, Item.code == Ticket.item_code)
                .join(ItemVersion, ItemVersion.id == Item.current_version_id))
        conds.append(ItemVersion.department_id == f.department_id)
    stmt = stmt.where(and_(*conds)).order_by(Ticket.day.desc(), Ticket.id.desc()).offset(offset).limit(limit)
    out = []
    for r in session.execute(stmt).mappings():
        wait_min = ((r["called_at"] - r["issued_at"]).total_seconds() / 60) if r["called_at"] else None
        service_min = ((r["done_at"] - r["serving_at"]).total_seconds() / 60) \
            if r["done_at"] and r["serving_at"] else None
        out.append({"kind": "ticket", "id": r["id"], "number": r["number"], "day": r["day"].isoformat(),
                    "hall_id": r["hall_id"], "state": r["state"], "channel": r["channel"],
                    "item_code": r["item_code"] or "",
                    "wait_minutes": round(wait_min, 1) if wait_min is not None else None,
                    "service_minutes": round(service_min, 1) if service_min is not None else None})
    return out


def _cases(session: Session, f: Filters, finished: bool, offset: int, limit: int) -> list[dict[str, Any]]:
    day = Case.decided_on if finished else Case.accepted_on
    conds: list[ColumnElement[bool]] = [day >= f.date_from, day <= f.date_to, Case.kind != CaseKind.BUNDLE.value]
    if f.hall_id is not None:
        conds.append(Case.receiving_hall_id == f.hall_id)
    if f.department_id is not None:
        conds.append(Case.department_id == f.department_id)
    stmt = (select(Case.id, Case.number, Case.state, Case.channel, Case.department_id, Case.receiving_hall_id,
                   Case.accepted_on, Case.decided_on, Case.promised_due, Case.item_id)
            .where(and_(*conds)).order_by(day.desc(), Case.id.desc()).offset(offset).limit(limit))
    out = []
    for r in session.execute(stmt).mappings():
        on_time = (r["decided_on"] is not None and r["promised_due"] is not None
                   and r["decided_on"] <= r["promised_due"])
        out.append({"kind": "case", "id": r["id"], "number": r["number"], "state": r["state"],
                    "channel": r["channel"], "department_id": r["department_id"],
                    "hall_id": r["receiving_hall_id"], "item_id": r["item_id"],
                    "accepted_on": r["accepted_on"].isoformat() if r["accepted_on"] else None,
                    "decided_on": r["decided_on"].isoformat() if r["decided_on"] else None,
                    "promised_due": r["promised_due"].isoformat() if r["promised_due"] else None,
                    "on_time": on_time if r["decided_on"] else None})
    return out


def _ratings(session: Session, f: Filters, offset: int, limit: int) -> list[dict[str, Any]]:
    conds: list[ColumnElement[bool]] = [Rating.rated_on >= f.date_from, Rating.rated_on <= f.date_to,
                                        Rating.voided_at.is_(None)]
    if f.hall_id is not None:
        conds.append(Rating.hall_id == f.hall_id)
    if f.department_id is not None:
        conds.append(Rating.department_id == f.department_id)
    stmt = (select(Rating.id, Rating.subject, Rating.level, Rating.negative, Rating.is_default, Rating.channel,
                   Rating.rated_on, Rating.department_id, Rating.hall_id, Rating.item_id)
            .where(and_(*conds)).order_by(Rating.rated_on.desc(), Rating.id.desc()).offset(offset).limit(limit))
    return [{"kind": "rating", "id": r["id"], "subject": r["subject"], "level": r["level"],
             "negative": r["negative"], "is_default": r["is_default"], "channel": r["channel"],
             "rated_on": r["rated_on"].isoformat(), "department_id": r["department_id"], "hall_id": r["hall_id"],
             "item_id": r["item_id"]} for r in session.execute(stmt).mappings()]


def _complaints(session: Session, f: Filters, closed: bool, offset: int, limit: int) -> list[dict[str, Any]]:
    day = Complaint.closed_on if closed else Complaint.accepted_on
    conds: list[ColumnElement[bool]] = [day >= f.date_from, day <= f.date_to, Complaint.merged_into_id.is_(None)]
    if f.hall_id is not None:
        conds.append(Complaint.hall_id == f.hall_id)
    if f.department_id is not None:
        conds.append(Complaint.lead_department_id == f.department_id)
    stmt = (select(Complaint.id, Complaint.number, Complaint.state, Complaint.channel, Complaint.category,
                   Complaint.accepted_on, Complaint.due_on, Complaint.closed_on, Complaint.lead_department_id,
                   Complaint.hall_id, Complaint.replied_at, Complaint.callback_verdict)
            .where(and_(*conds)).order_by(day.desc(), Complaint.id.desc()).offset(offset).limit(limit))
    out = []
    for r in session.execute(stmt).mappings():
        out.append({"kind": "complaint", "id": r["id"], "number": r["number"], "state": r["state"],
                    "channel": r["channel"], "category": r["category"],
                    "accepted_on": r["accepted_on"].isoformat(),
                    "due_on": r["due_on"].isoformat(),
                    "closed_on": r["closed_on"].isoformat() if r["closed_on"] else None,
                    "department_id": r["lead_department_id"], "hall_id": r["hall_id"],
                    "replied": r["replied_at"] is not None, "callback_verdict": r["callback_verdict"],
                    "on_time": (r["closed_on"] <= r["due_on"]) if r["closed_on"] else None})
    return out
