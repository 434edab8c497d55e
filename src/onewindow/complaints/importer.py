"""Importing 12345 hotline orders: every row checked first, then written in bulk, or nothing at all.

:func:`import_orders` reads the center's departments and item codes, has :mod:`onewindow.complaints.hotline`
check every row (a single bad row raises the 422 naming every bad row and field, before anything is written),
skips the orders whose 12345 number is already in the database (counted, so a second import of the same file
adds nothing), and writes the rest with chunked Core ``insert()`` executemany: the orders, one ``imported``
event each and, for the orders the hotline already assigned to a department, the lead assignment (派单) waiting
to be signed for (签收).

The limit starts at the 12345 受理 time (the clock starts at 受理, whoever accepted it) and is computed by
:func:`onewindow.complaints.rules.due`, the one due function, memoised per (day, category) so that 100,000
orders cost one calendar walk per distinct day. The numbers follow the window's: ``YS`` + the day of 受理 + the
next free daily sequence. The overdue flag and 催办 are left to the sweep, which owns them.

The batch is audited once (``complaints.imported``: the file's SHA-256, how many rows, created, skipped and
dispatched, the first and last number): an entry per order would serialise 100,000 writes on the audit chain,
and each order's own timeline carries its ``imported`` event. The citizen is not messaged: 12345 has told
them already. The caller owns the transaction; a clash with a concurrent writer (a number or a 12345 order
number taken meanwhile) is a 409 and the caller's rollback leaves nothing behind.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.types.json import Json
from sqlalchemy import JSON, Table, func, insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from onewindow.calendar.service import build_calendar
from onewindow.calendar.workdays import WorkCalendar
from onewindow.catalog.models import Department, Item
from onewindow.complaints import rules
from onewindow.complaints.hotline import Directory, HotlineRow, RawFile, check_rows
from onewindow.complaints.models import Complaint, ComplaintAssignment, ComplaintEvent
from onewindow.complaints.rules import Limits
from onewindow.complaints.states import AssignmentRole, Category, Channel, ComplaintState
from onewindow.core import access, audit
from onewindow.core.access import Action
from onewindow.core.audit import Actor
from onewindow.core.clock import Clock
from onewindow.core.errors import Conflict, Problem, ValidationFailed
from onewindow.staff.models import User
from onewindow.staff.service import actor_of, viewer_of

CHUNK = 2000  # rows per executemany: large enough to amortise a round trip, small enough for SQLite's limits
LOOKUP_CHUNK = 900  # values per IN (...) when looking up numbers already imported
EVENT_KIND = "imported"


@dataclass(frozen=True)
class ImportResult:
    """What an import did: rows read, orders created (of them dispatched to a department), duplicates skipped."""

    rows: int
    created: int
    skipped: int
    dispatched: int
    first_number: str | None
    last_number: str | None
    digest: str

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape of the CLI and the upload page."""
        return {"rows": self.rows, "created": self.created, "skipped": self.skipped, "dispatched": self.dispatched,
                "first_number": self.first_number, "last_number": self.last_number, "sha256": self.digest}


def directory(session: Session) -> Directory:
    """The departments (by code, name and short name) and item codes the rows may name."""
    departments: dict[str, int] = {}
    for d in session.execute(select(Department.id, Department.code, Department.name, Department.short_name)):
        for key in (d.short_name, d.name, d.code.upper()):
            if key:
                departments[key] = d.id
    return Directory(departments=departments, item_codes=frozenset(session.scalars(select(Item.code))))


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def already_imported(session: Session, numbers: Sequence[str]) -> set[str]:
    """The 12345 order numbers among ``numbers`` that are in the database already."""
    found: set[str] = set()
    for part in _chunks(sorted(set(numbers)), LOOKUP_CHUNK):
        found.update(n for n in session.scalars(select(Complaint.external_number)
                                                .where(Complaint.external_number.in_(part))) if n)
    return found


def _last_sequences(session: Session, days: set[dt.date]) -> dict[dt.date, int]:
    """The highest daily sequence used so far on each of ``days`` (one grouped query)."""
    if not days:
        return {}
    low, high = rules.number_range(min(days))[0], rules.number_range(max(days))[1]
    prefix = func.substr(Complaint.number, 1, 10)
    query = (select(prefix, func.max(Complaint.number)).where(Complaint.number.between(low, high))
             .group_by(prefix))
    out: dict[dt.date, int] = {}
    for _prefix, last in session.execute(query):
        day = dt.datetime.strptime(last[2:10], "%Y%m%d").date()  # noqa: DTZ007 - a date, read from the number
        out[day] = int(last[10:])
    return out


class DueCache:
    """:func:`rules.due` memoised per (day of 受理, category, urgent): an import of 100,000 orders walks the
    calendar once per distinct day and category."""

    def __init__(self, calendar: WorkCalendar, limits: Limits) -> None:
        self.calendar, self.limits = calendar, limits
        self._found: dict[tuple[dt.date, Category, bool], rules.Due] = {}

    def due(self, accepted_at: dt.datetime, category: Category, urgent: bool) -> rules.Due:
        """The order's limit, as :func:`rules.due` computes it."""
        if urgent and self.limits.urgent_hours > 0:  # counted from the moment, not the day: nothing to share
            return rules.due(self.calendar, accepted_at=accepted_at, category=category, urgent=True,
                             limits=self.limits)
        key = (rules.local_date(accepted_at), category, urgent)
        found = self._found.get(key)
        if found is None:
            found = rules.due(self.calendar, accepted_at=accepted_at, category=category, urgent=urgent,
                              limits=self.limits)
            self._found[key] = found
        return found


def _numbers(session: Session, rows: Sequence[HotlineRow]) -> list[str]:
    days = [rules.local_date(r.accepted_at) for r in rows]
    last = _last_sequences(session, set(days))
    out: list[str] = []
    problems: list[Problem] = []
    for row, day in zip(rows, days, strict=True):
        sequence = last.get(day, 0) + 1
        last[day] = sequence
        if sequence > rules.MAX_DAILY_SEQUENCE:
            problems.append(Problem(f"rows[{row.row}].accepted_at", "number_exhausted",
                                    f"第 {row.row} 行（受理时间）：{day} 的工单编号已用尽（每日最多 "
                                    f"{rules.MAX_DAILY_SEQUENCE} 件）"))
            continue
        out.append(rules.format_number(day, sequence))
    if problems:
        raise ValidationFailed(problems[:50])
    return out


def _table(model: type[Any]) -> Table:
    table: Table = model.__table__  # a declarative model's table
    return table


class _CoreWriter:
    """Chunked Core ``insert()`` executemany on the session's connection (SQLite: fast, one prepared statement);
    none of the ORM's bookkeeping for rows no session holds."""

    def __init__(self, session: Session) -> None:
        self.connection = session.connection()

    def orders(self, rows: list[dict[str, Any]]) -> list[int]:
        """Insert orders; their new ids in the same order (found again by number: one SELECT a chunk)."""
        table = _table(Complaint)
        self.connection.execute(insert(table), rows)
        found = {number: complaint_id for number, complaint_id in self.connection.execute(
            select(table.c.number, table.c.id).where(table.c.number.in_([r["number"] for r in rows])))}
        return [found[r["number"]] for r in rows]

    def rows(self, model: type[Any], rows: list[dict[str, Any]]) -> None:
        """Insert rows of a table."""
        self.connection.execute(insert(_table(model)), rows)


class _CopyWriter(_CoreWriter):
    """PostgreSQL: ``COPY … FROM STDIN`` through psycopg, ids taken from the table's sequence beforehand.

    psycopg runs an executemany as one statement per row, which is several times slower for 100,000 orders than
    COPY. The values are the ones the Core path binds: aware datetimes (timestamptz), dates, booleans, JSON.
    """

    def orders(self, rows: list[dict[str, Any]]) -> list[int]:
        """Take ids from ``complaint``'s sequence, then COPY the orders with them."""
        ids = list(self.connection.execute(
            text("SELECT nextval(pg_get_serial_sequence('complaint', 'id')) FROM generate_series(1, :n)"),
            {"n": len(rows)}).scalars())
        self.rows(Complaint, [{**r, "id": i} for r, i in zip(rows, ids, strict=True)])
        return ids

    def rows(self, model: type[Any], rows: list[dict[str, Any]]) -> None:
        """COPY rows into a table (every row carries the same keys)."""
        if not rows:
            return
        table = _table(model)
        columns = list(rows[0])
        json_columns = {c for c in columns if isinstance(table.c[c].type, JSON)}
        raw = self.connection.connection.driver_connection
        assert raw is not None  # noqa: S101 - an open connection has its driver connection
        names = ", ".join(f'"{c}"' for c in columns)
        with raw.cursor() as cursor, cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
            for r in rows:
                copy.write_row([Json(r[c]) if c in json_columns and r[c] is not None else r[c] for c in columns])


def import_orders(session: Session, *, clock: Clock, user: User | None, raw: RawFile, content: bytes,
                  limits: Limits, source: str = "") -> ImportResult:
    """Check every row, skip 12345 numbers already imported, write the rest in bulk (or nothing: 422 / 409).

    ``user`` is the signed-in dispatcher (the access policy is asked), or None for the command line.
    ``content`` is the file as read (its SHA-256 names the batch in the audit log).
    """
    if user is not None:
        access.require(viewer_of(user), Action.COMPLAINT_IMPORT)
    actor = actor_of(user) if user is not None else Actor(None, "cli")
    now = clock.now()
    checked = check_rows(raw, directory(session), now=now)
    digest = hashlib.sha256(content).hexdigest()
    known = already_imported(session, [r.external_number for r in checked])
    fresh = [r for r in checked if r.external_number not in known]
    numbers = _numbers(session, fresh)
    cache = DueCache(build_calendar(session), limits)
    sign_due_at = rules.sign_due(now, limits)
    actor_name = (user.display_name if user is not None else "12345导入")[:64]
    orders: list[dict[str, Any]] = []
    for row, number in zip(fresh, numbers, strict=True):
        limit = cache.due(row.accepted_at, row.category, row.urgent)
        state = ComplaintState.DISPATCHED if row.department_id is not None else ComplaintState.ACCEPTED
        orders.append({
            "number": number, "tracking_code": rules.new_tracking_code(), "channel": Channel.HOTLINE.value,
            "external_number": row.external_number, "category": row.category.value, "urgent": row.urgent,
            "subject": row.subject, "content": row.content, "item_code": row.item_code,
            "complainant_name": row.complainant_name, "complainant_phone": row.complainant_phone,
            "complainant_id_number": row.complainant_id_number, "anonymous": row.anonymous,
            "state": state.value, "version": 1, "lead_department_id": row.department_id,
            "accepted_at": row.accepted_at, "accepted_on": rules.local_date(row.accepted_at),
            "limit_days": limit.limit_days, "due_on": limit.on, "due_at": limit.at,
            "due_provisional": limit.provisional, "overdue": False, "reply": "", "callback_note": "",
            "reopen_count": 0, "return_count": 0, "urge_count": 0, "created_by": actor.id, "updated_at": now})
    dispatched = 0
    writer = _CopyWriter(session) if session.get_bind().dialect.name == "postgresql" else _CoreWriter(session)
    try:
        for part in _chunks(orders, CHUNK):
            ids = writer.orders(list(part))
            events: list[dict[str, Any]] = []
            assignments: list[dict[str, Any]] = []
            for complaint_id, order in zip(ids, part, strict=True):
                events.append({"complaint_id": complaint_id, "at": now, "actor": actor_name, "actor_id": actor.id,
                               "kind": EVENT_KIND, "state_from": None, "state_to": order["state"],
                               "note": f"12345工单 {order['external_number']}",
                               "data": {"external_number": order["external_number"], "batch": digest[:16],
                                        "department_id": order["lead_department_id"]}})
                if order["lead_department_id"] is not None:
                    assignments.append({"complaint_id": complaint_id, "department_id": order["lead_department_id"],
                                        "role": AssignmentRole.LEAD.value, "assigned_at": now,
                                        "assigned_by": actor.id, "sign_due_at": sign_due_at, "return_reason": "",
                                        "active": True})
            writer.rows(ComplaintEvent, events)
            if assignments:
                writer.rows(ComplaintAssignment, assignments)
                dispatched += len(assignments)
    except (IntegrityError, psycopg.errors.IntegrityError):  # the COPY path raises the driver's own error
        raise Conflict("导入时工单编号或12345工单号被同时写入，请重新导入", code="import_conflict") from None
    result = ImportResult(rows=len(checked), created=len(orders), skipped=len(checked) - len(fresh),
                          dispatched=dispatched, first_number=min(numbers) if numbers else None,
                          last_number=max(numbers) if numbers else None, digest=digest)
    audit.record(session, clock=clock, actor=actor, action="complaints.imported", entity_type="complaint_import",
                 entity_id=digest[:16], after={**result.as_dict(), "source": source[:200]})
    return result
