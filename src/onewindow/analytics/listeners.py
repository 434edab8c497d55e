"""Keeping the rollups current as events happen.

Every domain change that a figure counts goes through the ORM: a ticket issued, called or done, a case
accepted, decided, reopened or visited, a rating given or voided, a complaint received, replied, called back
or closed, a 差评's 整改 order closed. Rather than one hook per flow in each domain (and a missed one per new
flow), one session listener (installed by ``wiring.py``) notes after each flush the days the flushed records
count on — before and after the change, so a decision moved to another day or cleared by a reopening fixes both
days — and which open-work gauges they touch; when the transaction commits, those days are recomputed from the
records (``rollup.recompute_days``) in the same transaction. Bulk paths (``gen-data``) write with Core and end
with ``onewindow analytics rebuild``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import event, inspect, or_, select
from sqlalchemy.orm import Session, UOWTransaction

from onewindow.analytics import rollup
from onewindow.analytics.rules import OpenKind
from onewindow.cases.models import Case, CaseVisit
from onewindow.complaints.models import Complaint
from onewindow.queue.models import Ticket
from onewindow.ratings.models import Rating
from onewindow.rectification.models import RectificationOrder

DAYS = "analytics.days"
KINDS = "analytics.open_kinds"
BUSY = "analytics.busy"
DISABLED = "analytics.disabled"  # session.info flag: a bulk path that rebuilds afterwards

# the day columns each record counts on
DAY_ATTRS: dict[type, tuple[str, ...]] = {
    Ticket: ("day",),
    Case: ("accepted_on", "decided_on"),
    Rating: ("rated_on",),
    Complaint: ("accepted_on", "closed_on"),
}
OPEN_OF: dict[type, OpenKind] = {Ticket: OpenKind.TICKET, Case: OpenKind.CASE, Complaint: OpenKind.COMPLAINT}


def _values(obj: Any, attr: str) -> list[Any]:
    history = inspect(obj).attrs[attr].history
    return [*history.added, *history.unchanged, *history.deleted]


def _after_flush(session: Session, _flush: UOWTransaction) -> None:
    if session.info.get(BUSY) or session.info.get(DISABLED):
        return
    days: set[dt.date] = session.info.setdefault(DAYS, set())
    kinds: set[OpenKind] = session.info.setdefault(KINDS, set())
    visit_cases: set[int] = set()
    rating_ids: set[int] = set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        kind = type(obj)
        attrs = DAY_ATTRS.get(kind)
        if attrs is not None:
            for attr in attrs:
                days.update(v for v in _values(obj, attr) if isinstance(v, dt.date))
            if kind in OPEN_OF:
                kinds.add(OPEN_OF[kind])
        elif kind is CaseVisit:
            visit_cases.update(v for v in _values(obj, "case_id") if isinstance(v, int))
        elif kind is RectificationOrder and obj.source_kind == "rating":
            rating_ids.add(obj.source_id)
    if visit_cases:
        # a bundle's visits are its sub-cases' too (the rollup counts them on the parent)
        days.update(d for d in session.scalars(select(Case.decided_on).where(
            or_(Case.id.in_(visit_cases), Case.parent_id.in_(visit_cases)))) if d is not None)
    if rating_ids:
        days.update(session.scalars(select(Rating.rated_on).where(Rating.id.in_(rating_ids))))


def _before_commit(session: Session) -> None:
    if session.info.get(BUSY) or session.info.get(DISABLED):
        return
    session.flush()
    days: set[dt.date] = session.info.pop(DAYS, set())
    kinds: set[OpenKind] = session.info.pop(KINDS, set())
    if not days and not kinds:
        return
    session.info[BUSY] = True
    try:
        items = rollup.ItemIndex.load(session)
        if days:
            rollup.recompute_days(session, days, items)
        if kinds:
            rollup.recompute_open(session, kinds, items)
        session.flush()
    finally:
        session.info.pop(BUSY, None)


def install() -> None:
    """Listen on every session (idempotent)."""
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)
        event.listen(Session, "before_commit", _before_commit)


def uninstall() -> None:
    """Stop listening (tests that measure the bare domain)."""
    if event.contains(Session, "after_flush", _after_flush):
        event.remove(Session, "after_flush", _after_flush)
        event.remove(Session, "before_commit", _before_commit)
