"""Keeping the rollups current as events happen.

Every domain change that a figure counts goes through the ORM: a ticket issued, called or done, a case
accepted, decided, reopened or visited, a rating given or voided, a complaint received, replied, called back
or closed, a 差评's 整改 order closed. Rather than one hook per flow in each domain (and a missed one per new
flow), one session listener (installed by ``wiring.py``) notes after each flush the days the flushed records
count on — before and after the change, so a decision moved to another day or cleared by a reopening fixes both
days — and which open-work gauges they touch; when the transaction commits, those days are recomputed from the
records (``rollup.recompute_days``) in the same transaction. Tickets, the busiest records (one a second in a
big hall, each issue its own transaction), take a fast path: their share of the rows is taken back with the
values before the flush and added with the values after it (``rollup.ticket_share``, the same rule the
recomputation uses), so issuing a ticket updates a handful of rollup rows instead of recounting its day; a
ticket whose earlier values are not known (expired attributes) falls back to the recomputation. A savepoint
released keeps what it noted for the transaction's commit (the tickets of a group commit, ``db.GroupCommit``,
update each rollup row once); a savepoint rolled back takes back exactly what was noted inside it. Bulk paths
(``gen-data``) write with Core and end with ``onewindow analytics rebuild``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import event, inspect, or_, select
from sqlalchemy.orm import InstanceState, Session, SessionTransaction, UOWTransaction
from sqlalchemy.orm.base import NO_VALUE

from onewindow.analytics import rollup
from onewindow.analytics.models import open_work
from onewindow.analytics.rules import NONE, OpenKind
from onewindow.cases.models import Case, CaseVisit
from onewindow.catalog.models import Item, ItemVersion
from onewindow.complaints.models import Complaint
from onewindow.queue import service as queue_service
from onewindow.queue.models import Ticket
from onewindow.ratings.models import Rating
from onewindow.rectification.models import RectificationOrder

DAYS = "analytics.days"
KINDS = "analytics.open_kinds"
BUSY = "analytics.busy"
DISABLED = "analytics.disabled"  # session.info flag: a bulk path that rebuilds afterwards
INCREMENTS = "analytics.increments"  # tickets' changes to rollup rows, applied at commit
SNAPSHOTS = "analytics.savepoints"  # what had been noted when each open savepoint began
ITEMS = "analytics.item_departments"  # item code -> (item id, department id), looked up once per session
TICKET_ATTRS = ("day", "hall_id", "item_code", "window_id", "clerk_id", "issued_at", "called_at", "serving_at",
                "done_at", "state")

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


def _ticket_values(state: InstanceState[Any], *, before: bool) -> dict[str, Any] | None:
    """A ticket's counted values before or after the flush; None when one of them is not known."""
    values: dict[str, Any] = {}
    for attr in TICKET_ATTRS:
        current = state.dict.get(attr, NO_VALUE)
        value = state.committed_state.get(attr, current) if before else current
        if value is NO_VALUE:
            return None
        values[attr] = value
    return values


def _item_department(session: Session, code: str | None) -> tuple[int, int]:
    if not code:
        return NONE, NONE
    known: dict[str, tuple[int, int]] = session.info.setdefault(ITEMS, {})
    if code not in known:
        row = session.execute(select(Item.id, ItemVersion.department_id)
                              .join(ItemVersion, ItemVersion.id == Item.current_version_id)
                              .where(Item.code == code)).first()
        known[code] = (row[0], row[1]) if row is not None else (NONE, NONE)
    return known[code]


def _ticket_increment(session: Session, obj: Ticket, *, new: bool, deleted: bool) -> bool:
    """Note the ticket's change as rollup increments; False when its earlier values are not known."""
    state = inspect(obj)
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    if new:
        after = {attr: state.dict.get(attr) for attr in TICKET_ATTRS}  # unset columns were inserted as NULL
        before = None
    else:
        before = _ticket_values(state, before=True)
        after = None if deleted else _ticket_values(state, before=False)
        if before is None or (after is None and not deleted):
            return False
    _note_ticket(session, before, after)
    return True


def _ticket_written(session: Session, before: dict[str, Any] | None, after: dict[str, Any] | None) -> None:
    """A ticket written with Core statements (``queue.service.TICKET_WRITTEN_LISTENERS``): the same increments as
    a flushed one."""
    if session.info.get(DISABLED):
        return
    _note_ticket(session, *({attr: values.get(attr) for attr in TICKET_ATTRS} if values is not None else None
                            for values in (before, after)))


def _note_ticket(session: Session, before: dict[str, Any] | None, after: dict[str, Any] | None) -> None:
    out: dict[rollup.RowKey, dict[str, int]] = session.info.setdefault(INCREMENTS, {})
    for values, sign in ((before, -1), (after, 1)):
        if values is None:
            continue
        item, dep = _item_department(session, values["item_code"])
        share = rollup.ticket_share(hall=values["hall_id"], item=item, dep=dep, window_id=values["window_id"],
                                    clerk=values["clerk_id"], issued=values["issued_at"],
                                    called=values["called_at"], serving=values["serving_at"],
                                    done=values["done_at"])
        rollup.add_share(out, values["day"], share, sign)
        if values["state"] == "waiting":
            acc = out.setdefault((open_work, (OpenKind.TICKET.value, values["hall_id"], dep, values["day"])), {})
            acc["count"] = acc.get("count", 0) + sign


def _ticket_rollups(session: Session) -> tuple[list[str], dict[str, Any]]:
    """PostgreSQL, for the statement that writes a batch of tickets (``queue.service.TICKET_STATEMENT_PARTS``): the
    upserts of the increments noted so far, which then no longer wait for the commit. Only when they all grow and
    no day is to be recomputed (else the commit writes them, as always)."""
    if (session.info.get(BUSY) or session.info.get(DISABLED) or session.in_nested_transaction()
            or session.info.get(DAYS) or session.info.get(KINDS)):
        return [], {}
    increments: dict[rollup.RowKey, dict[str, int]] = session.info.get(INCREMENTS, {})
    rows = [(table, key, changed) for (table, key), counts in increments.items()
            if (changed := {name: n for name, n in counts.items() if n})]
    if not rows or any(n < 0 for _table, _key, counts in rows for n in counts.values()):
        return [], {}
    session.info.pop(INCREMENTS)
    return rollup.pg_upserts(rows)


def _after_flush(session: Session, _flush: UOWTransaction) -> None:
    if session.info.get(BUSY) or session.info.get(DISABLED):
        return
    days: set[dt.date] = session.info.setdefault(DAYS, set())
    kinds: set[OpenKind] = session.info.setdefault(KINDS, set())
    visit_cases: set[int] = set()
    rating_ids: set[int] = set()
    new, deleted = set(session.new), set(session.deleted)
    for obj in (*new, *session.dirty, *deleted):
        kind = type(obj)
        if kind is Ticket and _ticket_increment(session, obj, new=obj in new, deleted=obj in deleted):
            continue
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
    if session.info.get(BUSY) or session.info.get(DISABLED) or session.in_nested_transaction():
        return  # a savepoint released: its increments wait for the transaction's commit (one upsert per row)
    session.info.pop(SNAPSHOTS, None)
    session.flush()
    days: set[dt.date] = session.info.pop(DAYS, set())
    kinds: set[OpenKind] = session.info.pop(KINDS, set())
    increments: dict[rollup.RowKey, dict[str, int]] = session.info.pop(INCREMENTS, {})
    if not days and not kinds and not increments:
        return
    session.info[BUSY] = True
    try:
        if days or kinds:
            items = rollup.ItemIndex.load(session)
            if days:
                rollup.recompute_days(session, days, items)
            if kinds:
                rollup.recompute_open(session, kinds, items)
        rows = []
        for (table, key), counts in increments.items():
            recomputed = OpenKind.TICKET in kinds if table is open_work else key[0] in days
            changed = {name: n for name, n in counts.items() if n}
            if changed and not recomputed:
                rows.append((table, key, changed))
        rollup.add_many(session, rows)
        session.flush()
    finally:
        session.info.pop(BUSY, None)


def _after_transaction_create(session: Session, transaction: SessionTransaction) -> None:
    if transaction.nested:  # what was noted before the savepoint, to go back to if it rolls back
        snapshots: dict[SessionTransaction, Any] = session.info.setdefault(SNAPSHOTS, {})
        snapshots[transaction] = (set(session.info.get(DAYS, ())), set(session.info.get(KINDS, ())),
                                  {key: dict(counts) for key, counts in session.info.get(INCREMENTS, {}).items()})


def _after_soft_rollback(session: Session, previous: SessionTransaction) -> None:
    if previous.parent is None:  # the whole transaction is gone: so is what it noted
        for key in (DAYS, KINDS, INCREMENTS, SNAPSHOTS):
            session.info.pop(key, None)
        return
    snapshot = session.info.get(SNAPSHOTS, {}).pop(previous, None)
    if snapshot is not None:  # a savepoint rolled back: exactly what was noted inside it goes with it
        session.info[DAYS], session.info[KINDS], session.info[INCREMENTS] = snapshot
        return
    # a savepoint rolled back took some flushed changes with it: recount the days the increments touch instead
    increments: dict[rollup.RowKey, dict[str, int]] = session.info.pop(INCREMENTS, {})
    if increments:
        days: set[dt.date] = session.info.setdefault(DAYS, set())
        days.update(key[3] if table is open_work else key[0] for table, key in increments)  # type: ignore[misc]
        session.info.setdefault(KINDS, set()).add(OpenKind.TICKET)


def install() -> None:
    """Listen on every session (idempotent)."""
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)
        event.listen(Session, "before_commit", _before_commit)
        event.listen(Session, "after_soft_rollback", _after_soft_rollback)
        event.listen(Session, "after_transaction_create", _after_transaction_create)
    if _ticket_written not in queue_service.TICKET_WRITTEN_LISTENERS:
        queue_service.TICKET_WRITTEN_LISTENERS.append(_ticket_written)
    if _ticket_rollups not in queue_service.TICKET_STATEMENT_PARTS:
        queue_service.TICKET_STATEMENT_PARTS.append(_ticket_rollups)


def uninstall() -> None:
    """Stop listening (tests that measure the bare domain)."""
    if event.contains(Session, "after_flush", _after_flush):
        event.remove(Session, "after_flush", _after_flush)
        event.remove(Session, "before_commit", _before_commit)
        event.remove(Session, "after_soft_rollback", _after_soft_rollback)
        event.remove(Session, "after_transaction_create", _after_transaction_create)
    if _ticket_written in queue_service.TICKET_WRITTEN_LISTENERS:
        queue_service.TICKET_WRITTEN_LISTENERS.remove(_ticket_written)
    if _ticket_rollups in queue_service.TICKET_STATEMENT_PARTS:
        queue_service.TICKET_STATEMENT_PARTS.remove(_ticket_rollups)
