"""Keeping the rollups current: a day's facts are recomputed from the records of that day, and the open-work
gauges from the open records.

One function computes a day (``compute_day``) for both paths: the listener (``listeners.py``) recomputes the
days an event touched when its transaction commits, and ``rebuild`` recomputes every day of the history. So
the rollups equal a full recomputation by construction, and a property test checks that the listener finds
every day an event touches.

Which day a record counts on: a ticket on its day (issued), a case's acceptance on ``accepted_on`` and its
completion (the decision) on ``decided_on``, a rating on ``rated_on``, a complaint on ``accepted_on`` (received,
replied, called back) and ``closed_on`` (closed, on time). Bundle parents are not counted (their sub-cases
are, each in its department). Voided 差评 and merged complaints are left out.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table, delete, func, insert, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from onewindow.analytics.models import fact, fact_dept, hourly, open_work, wait
from onewindow.analytics.rules import COUNTERS, HOURLY_COUNTERS, NONE, FactChannel, OpenKind, wait_bucket
from onewindow.cases.kinds import CaseKind, DeliveryMethod
from onewindow.cases.models import Case, CaseVisit
from onewindow.catalog.models import Item, ItemVersion
from onewindow.complaints.models import Complaint
from onewindow.core.clock import CHINA_TZ
from onewindow.db import rows_insert, rows_params
from onewindow.queue.models import Ticket
from onewindow.ratings.models import Rating
from onewindow.rectification.models import RectificationOrder

GOOD_LEVELS = frozenset({"very_satisfied", "satisfied"})
OPEN_CASE_STATES = ("accepted", "in_review", "suspended")
RECTIFIED_STATES = ("rectified", "closed")
INSERT_CHUNK = 2000

FineKey = tuple[int, int, int, int, int, str]  # hall, department, item, window, clerk, channel
HourKey = tuple[int, int, int]  # hour, hall, department
WaitKey = tuple[int, int, int]  # hall, department, bucket


@dataclass
class DayFacts:
    """The rollup rows of one day, before writing."""

    fine: dict[FineKey, dict[str, int]] = field(default_factory=dict)
    hours: dict[HourKey, dict[str, int]] = field(default_factory=dict)
    waits: dict[WaitKey, int] = field(default_factory=lambda: defaultdict(int))

    def add(self, key: FineKey, **counts: int) -> None:
        """Add counts to a fine row."""
        row = self.fine.get(key)
        if row is None:
            row = self.fine[key] = dict.fromkeys(COUNTERS, 0)
        for name, n in counts.items():
            row[name] += n

    def add_hour(self, key: HourKey, **counts: int) -> None:
        """Add counts to an hour row."""
        row = self.hours.get(key)
        if row is None:
            row = self.hours[key] = dict.fromkeys(HOURLY_COUNTERS, 0)
        for name, n in counts.items():
            row[name] += n


@dataclass(frozen=True)
class ItemIndex:
    """The catalog as the rollups need it: an item's id and department by code, an item's department by id."""

    by_code: dict[str, tuple[int, int]]
    department_of: dict[int, int]

    @classmethod
    def load(cls, session: Session) -> ItemIndex:
        """One query over the catalog (thousands of items, not cases)."""
        rows = session.execute(select(Item.id, Item.code, ItemVersion.department_id)
                               .join(ItemVersion, ItemVersion.id == Item.current_version_id)).all()
        return cls({code: (iid, dep) for iid, code, dep in rows}, {iid: dep for iid, _code, dep in rows})


def _hour(at: dt.datetime) -> int:
    return at.astimezone(CHINA_TZ).hour


def case_channel(channel: str, agent_user_id: int | None, result_delivery: str | None) -> str:
    """A case's channel in the mix (one per case, so the mix adds up to the total): 帮办代办 when an agent
    handled it; else 寄递 when its result is sent by post (``result_delivery`` mail, chosen at intake: the
    applicant does not come back for it); else where it came in, 网上 or 窗口."""
    if agent_user_id is not None:
        return FactChannel.AGENT.value
    if result_delivery == DeliveryMethod.MAIL.value:
        return FactChannel.MAIL.value
    return FactChannel.ONLINE.value if channel == "online" else FactChannel.WINDOW.value


def _case_clerk(channel: str, agent_user_id: int | None, created_by: int | None) -> int:
    """The clerk a case counts for: who took it in at a window (also when its result is mailed); none for an
    online or agent case."""
    return created_by if created_by and channel != "online" and agent_user_id is None else NONE


def _complaint_channel(channel: str) -> str:
    return {"window": FactChannel.WINDOW.value, "online": FactChannel.ONLINE.value,
            "hotline": FactChannel.HOTLINE.value}.get(channel, FactChannel.OTHER.value)


def compute_day(session: Session, day: dt.date, items: ItemIndex) -> DayFacts:
    """Every rollup row of ``day``, computed from the records (indexed by their day columns)."""
    out = DayFacts()
    _tickets(session, day, items, out)
    _cases_accepted(session, day, out)
    _cases_finished(session, day, out)
    _ratings(session, day, out)
    _complaints(session, day, items, out)
    return out


@dataclass(frozen=True)
class TicketShare:
    """What one ticket adds to its day's rollups (pure): a fine row, an hour row, a wait bucket if called."""

    fine: FineKey
    counts: dict[str, int]
    hour: HourKey
    hour_counts: dict[str, int]
    wait: WaitKey | None


def ticket_share(*, hall: int, item: int, dep: int, window_id: int | None, clerk: int | None,
                 issued: dt.datetime, called: dt.datetime | None, serving: dt.datetime | None,
                 done: dt.datetime | None) -> TicketShare:
    """One ticket's counts: issued, its first call's wait, its service's length (the one rule for both the
    recomputation of a day and the listener's increments)."""
    counts = {"tickets": 1}
    hour = {"tickets": 1}
    bucket: WaitKey | None = None
    if called is not None:
        seconds = max(int((called - issued).total_seconds()), 0)
        counts |= {"waited": 1, "wait_seconds": seconds}
        hour |= {"waited": 1, "wait_seconds": seconds}
        bucket = (hall, dep, wait_bucket(seconds))
    if done is not None and serving is not None:
        counts |= {"served": 1, "service_seconds": max(int((done - serving).total_seconds()), 0)}
    return TicketShare((hall, dep, item, window_id or NONE, clerk or NONE, FactChannel.WINDOW.value), counts,
                       (_hour(issued), hall, dep), hour, bucket)


def count_ticket(out: DayFacts, items: ItemIndex, hall: int, code: str | None, window_id: int | None,
                 clerk: int | None, issued: dt.datetime, called: dt.datetime | None, serving: dt.datetime | None,
                 done: dt.datetime | None) -> None:
    """Count one ticket on its day (its share, by the one rule)."""
    item, dep = items.by_code.get(code or "", (NONE, NONE))
    share = ticket_share(hall=hall, item=item, dep=dep, window_id=window_id, clerk=clerk, issued=issued,
                         called=called, serving=serving, done=done)
    if share.wait is not None:
        out.waits[share.wait] += 1
    out.add(share.fine, **share.counts)
    out.add_hour(share.hour, **share.hour_counts)


def count_case_accepted(out: DayFacts, hall: int | None, dep: int, item: int | None, created_by: int | None,
                        channel: str, agent: int | None, delivery: str | None,
                        accepted_at: dt.datetime | None) -> None:
    """Count one case's acceptance on ``accepted_on`` (its channel: ``case_channel``)."""
    ch = case_channel(channel, agent, delivery)
    out.add((hall or NONE, dep, item or NONE, NONE, _case_clerk(channel, agent, created_by), ch), cases_accepted=1)
    if accepted_at is not None:
        out.add_hour((_hour(accepted_at), hall or NONE, dep), cases_accepted=1)


def count_case_finished(out: DayFacts, hall: int | None, dep: int, item: int | None, created_by: int | None,
                        channel: str, agent: int | None, delivery: str | None, decided: dt.date,
                        promised: dt.date | None, visits: int) -> None:
    """Count one case's completion on ``decided_on`` (``visits``: in-person visits recorded on it; its channel:
    ``case_channel``)."""
    ch = case_channel(channel, agent, delivery)
    on_time = promised is None or decided <= promised
    out.add((hall or NONE, dep, item or NONE, NONE, _case_clerk(channel, agent, created_by), ch), cases_finished=1,
            finished_on_time=int(on_time), finished_visits_1=int(visits <= 1), finished_visits_2=int(visits <= 2),
            finished_visits_3=int(visits <= 3))


def count_rating(out: DayFacts, hall: int | None, dep: int | None, item: int | None, window_id: int | None,
                 clerk: int | None, channel: str, level: str, negative: bool, default: bool,
                 rectified: int) -> None:
    """Count one (not voided) rating on ``rated_on`` (``rectified``: its rectified 整改 orders)."""
    ch = FactChannel.ONLINE.value if channel == "online" else FactChannel.WINDOW.value
    out.add((hall or NONE, dep or NONE, item or NONE, window_id or NONE, clerk or NONE, ch), ratings=1,
            ratings_good=int(level in GOOD_LEVELS), ratings_negative=int(bool(negative)),
            ratings_default=int(bool(default)), negative_rectified=int(bool(negative) and rectified > 0))


def count_complaint_received(out: DayFacts, items: ItemIndex, hall: int | None, dep: int | None,
                             code: str | None, channel: str, replied: dt.datetime | None,
                             verdict: str | None) -> None:
    """Count one (not merged) complaint on ``accepted_on``."""
    item = items.by_code.get(code or "", (NONE, NONE))[0]
    out.add((hall or NONE, dep or NONE, item, NONE, NONE, _complaint_channel(channel)), complaints=1,
            complaints_replied=int(replied is not None), complaints_rated=int(verdict is not None),
            complaints_satisfied=int(verdict == "satisfied"))


def count_complaint_closed(out: DayFacts, items: ItemIndex, hall: int | None, dep: int | None, code: str | None,
                           channel: str, closed_on: dt.date | None, due_on: dt.date) -> None:
    """Count one (not merged) complaint on ``closed_on``."""
    item = items.by_code.get(code or "", (NONE, NONE))[0]
    out.add((hall or NONE, dep or NONE, item, NONE, NONE, _complaint_channel(channel)), complaints_closed=1,
            complaints_on_time=int(closed_on is not None and closed_on <= due_on))


def _tickets(session: Session, day: dt.date, items: ItemIndex, out: DayFacts) -> None:
    stmt = select(Ticket.hall_id, Ticket.item_code, Ticket.window_id, Ticket.clerk_id, Ticket.issued_at,
                  Ticket.called_at, Ticket.serving_at, Ticket.done_at).where(Ticket.day == day)
    for row in session.execute(stmt):
        count_ticket(out, items, *row)


def _cases_accepted(session: Session, day: dt.date, out: DayFacts) -> None:
    stmt = select(Case.receiving_hall_id, Case.department_id, Case.item_id, Case.created_by, Case.channel,
                  Case.agent_user_id, Case.result_delivery, Case.accepted_at).where(Case.accepted_on == day,
                                                              Case.kind != CaseKind.BUNDLE.value)
    for row in session.execute(stmt):
        count_case_accepted(out, *row)


def _cases_finished(session: Session, day: dt.date, out: DayFacts) -> None:
    # 跑动次数 (cases.visits): the in-person visits recorded on the case, or on its bundle for a sub-case (a
    # bundle's visits are its parent's); online supply of 容缺 materials and mail or e-delivery record none
    visits = (select(func.count(CaseVisit.id)).where(CaseVisit.case_id == func.coalesce(Case.parent_id, Case.id))
              .correlate(Case).scalar_subquery())
    stmt = select(Case.receiving_hall_id, Case.department_id, Case.item_id, Case.created_by, Case.channel,
                  Case.agent_user_id, Case.result_delivery, Case.decided_on, Case.promised_due, visits).where(
        Case.decided_on == day, Case.kind != CaseKind.BUNDLE.value)
    for row in session.execute(stmt):
        count_case_finished(out, *row)


def _ratings(session: Session, day: dt.date, out: DayFacts) -> None:
    rectified = (select(func.count(RectificationOrder.id))
                 .where(RectificationOrder.source_kind == "rating", RectificationOrder.source_id == Rating.id,
                        RectificationOrder.state.in_(RECTIFIED_STATES))
                 .correlate(Rating).scalar_subquery())
    stmt = select(Rating.hall_id, Rating.department_id, Rating.item_id, Rating.window_id, Rating.clerk_id,
                  Rating.channel, Rating.level, Rating.negative, Rating.is_default, rectified).where(
        Rating.rated_on == day, Rating.voided_at.is_(None))
    for row in session.execute(stmt):
        count_rating(out, *row)


def _complaints(session: Session, day: dt.date, items: ItemIndex, out: DayFacts) -> None:
    cols = (Complaint.hall_id, Complaint.lead_department_id, Complaint.item_code, Complaint.channel)
    received = select(*cols, Complaint.replied_at, Complaint.callback_verdict).where(
        Complaint.accepted_on == day, Complaint.merged_into_id.is_(None))
    for row in session.execute(received):
        count_complaint_received(out, items, *row)
    closed = select(*cols, Complaint.closed_on, Complaint.due_on).where(
        Complaint.closed_on == day, Complaint.merged_into_id.is_(None))
    for row2 in session.execute(closed):
        count_complaint_closed(out, items, *row2)


# ----- writing ---------------------------------------------------------------------------------------------------

def _chunks(rows: list[dict[str, object]]) -> Iterable[list[dict[str, object]]]:
    for start in range(0, len(rows), INSERT_CHUNK):
        yield rows[start:start + INSERT_CHUNK]


def day_rows(facts: dict[dt.date, DayFacts]) -> dict[str, list[dict[str, object]]]:
    """The rollup rows of these days by table name (the fine rows, their per-department sums, hours, waits)."""
    fine_rows: list[dict[str, object]] = []
    dept_rows: list[dict[str, object]] = []
    hour_rows: list[dict[str, object]] = []
    wait_rows: list[dict[str, object]] = []
    for day in sorted(facts):
        f = facts[day]
        coarse: dict[tuple[int, int, str], dict[str, int]] = {}
        for (hall, dep, item, window_id, clerk, ch), counts in f.fine.items():
            fine_rows.append({"day": day, "hall_id": hall, "department_id": dep, "item_id": item,
                              "window_id": window_id, "clerk_id": clerk, "channel": ch, **counts})
            acc = coarse.setdefault((hall, dep, ch), dict.fromkeys(COUNTERS, 0))
            for name, n in counts.items():
                acc[name] += n
        dept_rows.extend({"day": day, "hall_id": hall, "department_id": dep, "channel": ch, **counts}
                         for (hall, dep, ch), counts in coarse.items())
        hour_rows.extend({"day": day, "hour": hour, "hall_id": hall, "department_id": dep, **counts}
                         for (hour, hall, dep), counts in f.hours.items())
        wait_rows.extend({"day": day, "hall_id": hall, "department_id": dep, "bucket": bucket, "tickets": n}
                         for (hall, dep, bucket), n in f.waits.items())
    return {fact.name: fine_rows, fact_dept.name: dept_rows, hourly.name: hour_rows, wait.name: wait_rows}


def delete_days(session: Session, days: list[dt.date]) -> None:
    """Remove the rollup rows of these days."""
    for start in range(0, len(days), 500):
        batch = days[start:start + 500]
        for table in (fact, fact_dept, hourly, wait):
            session.execute(delete(table).where(table.c.day.in_(batch)))


def write_days(session: Session, facts: dict[dt.date, DayFacts]) -> None:
    """Replace the rollup rows of these days by the computed ones (delete, then bulk insert)."""
    delete_days(session, sorted(facts))
    rows = day_rows(facts)
    for table in (fact, fact_dept, hourly, wait):
        for chunk in _chunks(rows[table.name]):
            session.execute(insert(table), chunk)


def recompute_days(session: Session, days: Iterable[dt.date], items: ItemIndex | None = None) -> None:
    """Recompute and rewrite the rollups of these days."""
    index = items or ItemIndex.load(session)
    write_days(session, {day: compute_day(session, day, index) for day in set(days)})


def recompute_open(session: Session, kinds: Iterable[OpenKind] = tuple(OpenKind),
                   items: ItemIndex | None = None) -> None:
    """Recompute the open-work gauges of these kinds (open records only, through their state indexes)."""
    index = items or ItemIndex.load(session)
    rows: list[dict[str, object]] = []
    for kind in set(kinds):
        session.execute(delete(open_work).where(open_work.c.kind == kind.value))
        counts: dict[tuple[int, int, dt.date], int] = defaultdict(int)
        if kind is OpenKind.CASE:
            stmt = (select(Case.receiving_hall_id, Case.department_id, Case.promised_due, func.count())
                    .where(Case.state.in_(OPEN_CASE_STATES), Case.kind != CaseKind.BUNDLE.value,
                           Case.promised_due.is_not(None))
                    .group_by(Case.receiving_hall_id, Case.department_id, Case.promised_due))
            for hall, dep, due, n in session.execute(stmt):
                if due is not None:
                    counts[(hall or NONE, dep, due)] += n
        elif kind is OpenKind.COMPLAINT:
            stmt2 = (select(Complaint.hall_id, Complaint.lead_department_id, Complaint.due_on, func.count())
                     .where(Complaint.state.not_in(("closed", "merged")))
                     .group_by(Complaint.hall_id, Complaint.lead_department_id, Complaint.due_on))
            for c_hall, c_dep, c_due, c_n in session.execute(stmt2):
                counts[(c_hall or NONE, c_dep or NONE, c_due)] += c_n
        else:
            stmt3 = (select(Ticket.hall_id, Ticket.item_code, Ticket.day, func.count())
                     .where(Ticket.state == "waiting").group_by(Ticket.hall_id, Ticket.item_code, Ticket.day))
            for hall, code, day, n in session.execute(stmt3):
                dep_of_item: int = index.by_code.get(code or "", (NONE, NONE))[1]
                counts[(hall, dep_of_item, day)] += n
        rows.extend({"kind": kind.value, "hall_id": h, "department_id": d, "due_on": due, "count": n}
                    for (h, d, due), n in counts.items())
    for chunk in _chunks(rows):
        session.execute(insert(open_work), chunk)


# ----- increments (the listener's fast path for tickets) -----------------------------------------------------

KEY_COLUMNS: dict[Table, tuple[str, ...]] = {
    fact: ("day", "hall_id", "department_id", "item_id", "window_id", "clerk_id", "channel"),
    fact_dept: ("day", "hall_id", "department_id", "channel"),
    hourly: ("day", "hour", "hall_id", "department_id"),
    wait: ("day", "hall_id", "department_id", "bucket"),
    open_work: ("kind", "hall_id", "department_id", "due_on"),
}
COUNTER_COLUMNS: dict[Table, tuple[str, ...]] = {fact: COUNTERS, fact_dept: COUNTERS, hourly: HOURLY_COUNTERS,
                                                 wait: ("tickets",), open_work: ("count",)}
RowKey = tuple[Table, tuple[object, ...]]


def add_share(out: dict[RowKey, dict[str, int]], day: dt.date, share: TicketShare, sign: int) -> None:
    """Add (sign 1) or take back (sign -1) a ticket's share of its day's rollup rows."""
    hall, dep, _item, _window, _clerk, channel = share.fine
    rows: list[tuple[RowKey, dict[str, int]]] = [((fact, (day, *share.fine)), share.counts),
                                                 ((fact_dept, (day, hall, dep, channel)), share.counts),
                                                 ((hourly, (day, *share.hour)), share.hour_counts)]
    if share.wait is not None:
        rows.append(((wait, (day, *share.wait)), {"tickets": 1}))
    for row, counts in rows:
        acc = out.setdefault(row, {})
        for name, n in counts.items():
            acc[name] = acc.get(name, 0) + sign * n


@functools.cache
def _upsert(dialect: str, table: Table, names: tuple[str, ...]) -> Any:
    # built once per table and set of counters (``excluded`` is costly to build); the values are parameters
    maker = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = maker(table)
    return stmt.on_conflict_do_update(index_elements=list(KEY_COLUMNS[table]),
                                      set_={name: table.c[name] + stmt.excluded[name] for name in names})


def add_counts(session: Session, table: Table, key: tuple[object, ...], counts: dict[str, int]) -> None:
    """Add counts (negative ones take back) to one rollup row in one statement, creating the row; a row left
    counting nothing is removed, as a recomputation would not write it."""
    columns = KEY_COLUMNS[table]
    stmt = _upsert(session.get_bind().dialect.name, table, tuple(sorted(counts)))
    session.execute(stmt, dict(zip(columns, key, strict=True)) | counts)
    if any(n < 0 for n in counts.values()):
        session.execute(delete(table).where(*(table.c[c] == v for c, v in zip(columns, key, strict=True)),
                                            *(table.c[name] == 0 for name in COUNTER_COLUMNS[table])))


def add_many(session: Session, rows: Iterable[tuple[Table, tuple[object, ...], dict[str, int]]]) -> None:
    """:func:`add_counts` for several rows. On PostgreSQL the rows that only grow are written in one statement (an
    upsert each, as data-modifying CTEs): a transaction's rollup rows are written while the audit chain's head is
    held (a group commit of tickets moves four), and each statement there is a round trip the other writers wait
    for."""
    growing: list[tuple[Table, tuple[object, ...], dict[str, int]]] = []
    for table, key, counts in rows:
        if all(n >= 0 for n in counts.values()):
            growing.append((table, key, counts))
        else:
            add_counts(session, table, key, counts)
    if len(growing) < 2 or session.get_bind().dialect.name != "postgresql":
        for table, key, counts in growing:
            add_counts(session, table, key, counts)
        return
    parts, params = pg_upserts(growing)
    session.execute(text("WITH " + ", ".join(f"up{i} AS ({part})" for i, part in enumerate(parts)) + " SELECT 1"),
                    params)


def pg_upserts(rows: Sequence[tuple[Table, tuple[object, ...], dict[str, int]]]) -> tuple[list[str], dict[str, Any]]:
    """PostgreSQL: the upserts that add growing counts to rollup rows, as parts of one statement (data-modifying
    CTEs: :func:`add_many`'s, or a writer's own, ``queue.service``'s tickets) and their parameters. The rows of a
    table that count the same columns go in one upsert, given as one parameter (``db.rows_insert``): one text for any
    number of rows."""
    groups: dict[tuple[Table, tuple[str, ...]], list[dict[str, Any]]] = {}
    for table, key, counts in rows:
        groups.setdefault((table, tuple(sorted(counts))), []).append(
            dict(zip(KEY_COLUMNS[table], key, strict=True)) | counts)
    parts: list[str] = []
    params: dict[str, Any] = {}
    for index, ((table, names), values) in enumerate(groups.items()):
        columns = (*KEY_COLUMNS[table], *names)
        parts.append(_pg_upsert(table, names, f"r{index}"))
        params |= rows_params(table, columns, f"r{index}", values)
    return parts, params


@functools.cache
def _pg_upsert(table: Table, names: tuple[str, ...], prefix: str) -> str:
    increments = ", ".join(f"{name} = {table.name}.{name} + excluded.{name}" for name in names)
    return (rows_insert(table, (*KEY_COLUMNS[table], *names), prefix)
            + f" ON CONFLICT ({', '.join(KEY_COLUMNS[table])}) DO UPDATE SET {increments}")


# ----- the whole history ---------------------------------------------------------------------------------------

def history_days(session: Session) -> list[dt.date]:
    """Every day some record counts on, in order (distinct values of the indexed day columns)."""
    days: set[dt.date] = set()
    for column in (Ticket.day, Case.accepted_on, Case.decided_on, Rating.rated_on, Complaint.accepted_on,
                   Complaint.closed_on):
        days.update(d for d in session.scalars(select(column).distinct()) if d is not None)
    return sorted(days)


def rebuild(session: Session, progress: Callable[[int, int], None] | None = None, batch_days: int = 31) -> int:
    """Recompute every rollup from the records (idempotent); returns the number of days with records.
    ``progress`` is called with (days done, days in all)."""
    for table in (fact, fact_dept, hourly, wait):
        session.execute(delete(table))
    items = ItemIndex.load(session)
    recompute_open(session, items=items)
    days = history_days(session)
    for start in range(0, len(days), batch_days):
        chunk = days[start:start + batch_days]
        write_days(session, {day: compute_day(session, day, items) for day in chunk})
        if progress is not None:
            progress(start + len(chunk), len(days))
    return len(days)
