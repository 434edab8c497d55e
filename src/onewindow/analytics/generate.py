"""Synthetic history (``onewindow gen-data``): a realistic past of cases, tickets, visits, ratings and
complaints written straight to the
database driver, with the rollups counted as the records are made.

What makes it realistic: acceptances only on working days of the holiday calendar (holidays off, 调休 make-up
Saturdays on), more on Mondays than Fridays, two peaks a day (9–11 and 14–16); the catalog's items in a
long-tailed mix (a few items carry most cases); window, online and agent channels; county, town and village
halls; queue waits and service times; one to three visits for window cases; most cases decided within the
promised limit, a few overdue, the last days' still open; ratings for half the finished cases with a few 差评
and 默认好评; and a small share of complaints, most answered on time.

Records are written with explicit ids in chunks, as plain rows through the driver (one prepared INSERT run
with ``executemany`` on SQLite, ``COPY`` on PostgreSQL), values converted by the columns' own SQLAlchemy bind
processors. The ORM listener is off for the session (``listeners.DISABLED``); instead each record is counted
into its days' rollups as it is made, by the same per-record functions ``rollup.compute_day`` uses
(``rollup.count_ticket`` …), so the generated rollups equal a rebuild (a test checks it). A day's rollups are
final once acceptances have moved past it (every record counts on its acceptance day or later) and are written
then; days that also hold records from before the run are recomputed from the records at the end, and the
open-work gauges too.
"""

from __future__ import annotations

import bisect
import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, func, select
from sqlalchemy.orm import Session

from onewindow.analytics import rollup
from onewindow.analytics.models import fact, fact_dept, hourly, wait
from onewindow.calendar.service import build_calendar
from onewindow.cases.kinds import DeliveryMethod
from onewindow.cases.models import Case, CaseVisit
from onewindow.cases.visits import delivery_modes
from onewindow.catalog.models import Hall, Item, ItemVersion
from onewindow.complaints.models import Complaint
from onewindow.core import access
from onewindow.core.clock import CHINA_TZ
from onewindow.queue.models import Ticket, Window
from onewindow.ratings.models import Rating
from onewindow.staff.models import User

CHUNK = 20000
ROLLUP_DAYS = 31  # finished days written together
MAIL_EVERY = 7  # of the cases whose item allows mail, one in seven has its result mailed
Processors = list[tuple[int, Any]]  # (position, a column type's bind processor)
_UNSET = object()
NO_FORM: dict[str, Any] = {}  # shared empty JSON values (never changed)
NO_REASONS: list[str] = []
WEEKDAY_LOAD = (1.25, 1.1, 1.0, 0.95, 0.85, 0.8, 0.8)  # Monday … Sunday (a make-up working Sunday)
HOURS = (9, 10, 11, 12, 13, 14, 15, 16, 17)
HOUR_LOAD = (0.14, 0.18, 0.16, 0.05, 0.04, 0.12, 0.15, 0.11, 0.05)
LEVELS = ("very_satisfied", "satisfied", "basic", "unsatisfied", "very_unsatisfied")
LEVEL_LOAD = (0.80, 0.14, 0.035, 0.015, 0.01)
RATING_CHANNELS = ("sms", "online", "qr", "evaluator")


@dataclass(frozen=True)
class CatalogItem:
    """What the generator needs of an item."""

    item_id: int
    version_id: int
    code: str
    department_id: int
    category_id: int
    promised: int
    legal: int
    instant: bool
    online: bool
    mail: bool  # the item lets the result go by post (``cases.visits.delivery_modes``)


@dataclass
class Report:
    """What was generated."""

    cases: int = 0
    tickets: int = 0
    visits: int = 0
    ratings: int = 0
    complaints: int = 0
    days: int = 0

    def as_dict(self) -> dict[str, int]:
        """JSON shape."""
        return dict(self.__dict__)


class _Ids:
    def __init__(self, session: Session) -> None:
        self.next = {m.__tablename__: int(session.scalar(select(func.coalesce(func.max(m.id), 0))) or 0) + 1
                     for m in (Case, Ticket, CaseVisit, Rating, Complaint)}
        self.first = dict(self.next)

    def take(self, table: str) -> int:
        n = self.next[table]
        self.next[table] = n + 1
        return n


def _catalog(session: Session) -> list[CatalogItem]:
    stmt = (select(Item.id, ItemVersion.id, Item.code, ItemVersion.department_id, ItemVersion.hall_category_id,
                   ItemVersion.promised_limit_days, ItemVersion.legal_limit_days, ItemVersion.instant,
                   ItemVersion.online_depth, ItemVersion.max_visits)
            .join(ItemVersion, ItemVersion.id == Item.current_version_id).where(Item.status == "active")
            .order_by(Item.id))
    return [CatalogItem(iid, vid, code, dep, cat, promised, legal, instant, depth >= 3,
                        DeliveryMethod.MAIL in delivery_modes(max_visits=visits, online_depth=depth,
                                                              issues_certificate=False))
            for iid, vid, code, dep, cat, promised, legal, instant, depth, visits in session.execute(stmt)]


def generate(session: Session, *, cases: int, days: int, seed: int, end: dt.date,
             progress: Callable[[int, int], None] | None = None) -> Report:
    """Write ``cases`` cases (with their tickets, visits, ratings, complaints) accepted over the ``days``
    calendar days ending ``end``; the catalog, halls and windows must exist (the demo county)."""
    rng = random.Random(seed)  # noqa: S311  (a reproducible history, not a secret)
    items = _catalog(session)
    halls = [(hid, level) for hid, level in session.execute(select(Hall.id, Hall.level).order_by(Hall.id))]
    if not items or not halls:
        raise ValueError("the catalog and halls must be loaded first")
    agents = [uid for uid, account in session.execute(select(User.id, User.role).order_by(User.id))
              if (parsed := access.parse_role(account)) is not None and access.acts_for_others(parsed)]
    windows: dict[int, list[tuple[int, int | None]]] = {}
    for wid, hid, clerk in session.execute(select(Window.id, Window.hall_id, Window.clerk_id).order_by(Window.id)):
        windows.setdefault(hid, []).append((wid, clerk))
    # a long tail: the item at rank r draws 1/r^0.9 of the mix, ranks shuffled by the seed
    ranks = list(range(1, len(items) + 1))
    rng.shuffle(ranks)
    item_cum = _cumulative([1 / r ** 0.9 for r in ranks])
    hall_weights = [6.0 if level == "county" else 1.5 if level == "town" else 0.3 for _hid, level in halls]
    hall_cum = _cumulative(hall_weights)
    hour_cum = _cumulative(list(HOUR_LOAD))
    level_cum = _cumulative(list(LEVEL_LOAD))

    calendar = build_calendar(session)
    first = end - dt.timedelta(days=days - 1)
    workdays = [d for d in (first + dt.timedelta(days=i) for i in range(days + 120)) if calendar.is_workday(d)]
    open_days = [d for d in workdays if d <= end]
    if not open_days:
        raise ValueError("no working day in the range")
    loads = [WEEKDAY_LOAD[d.weekday()] * rng.uniform(0.9, 1.1) for d in open_days]
    total_load = sum(loads)
    ids = _Ids(session)
    report = Report(days=len(open_days))
    carry = 0.0
    done = 0
    batch = _Batch(session)
    for index, day in enumerate(open_days):
        exact = cases * loads[index] / total_load + carry
        n = int(exact) if index < len(open_days) - 1 else cases - done
        carry = exact - n
        batch.finish_days_before(day)
        seqs: dict[int, int] = {}
        for _ in range(n):
            item = items[bisect.bisect(item_cum, rng.random() * item_cum[-1])]
            _one_case(rng, batch, ids, report, item, day, end, workdays, halls, hall_cum, windows, hour_cum,
                      level_cum, seqs, agents)
        # consultations: tickets with no case (a quarter of the window load)
        for _ in range(n // 4):
            hall_id = halls[bisect.bisect(hall_cum, rng.random() * hall_cum[-1])][0]
            item = items[bisect.bisect(item_cum, rng.random() * item_cum[-1])]
            hour = HOURS[bisect.bisect(hour_cum, rng.random() * hour_cum[-1])]
            _ticket(rng, batch, ids, report, item, hall_id, windows, day, end, hour, seqs)
        done += n
        batch.flush_if_full()
        if progress is not None:
            progress(done, cases)
    batch.flush()
    batch.finish_days_before(None)
    _recount_older_days(session, ids.first)
    rollup.recompute_open(session, items=batch.items)
    report.cases = done
    return report


def _recount_older_days(session: Session, first: dict[str, int]) -> None:
    """Recompute from the records the days that also hold records from before this run (the demo county's)."""
    days: set[dt.date] = set()
    for model, columns in ((Ticket, (Ticket.day,)), (Case, (Case.accepted_on, Case.decided_on)),
                           (Rating, (Rating.rated_on,)), (Complaint, (Complaint.accepted_on, Complaint.closed_on))):
        for column in columns:
            days.update(d for d in session.scalars(select(column).distinct().where(
                model.id < first[model.__tablename__])) if d is not None)
    if days:
        rollup.recompute_days(session, sorted(days))


def _cumulative(weights: list[float]) -> list[float]:
    out, acc = [], 0.0
    for w in weights:
        acc += w
        out.append(acc)
    return out


class _Writer:
    """Plain rows straight to the driver, in the session's transaction: a prepared INSERT run with
    ``executemany`` (SQLite) or ``COPY … FROM STDIN`` (PostgreSQL). Values go through each column's SQLAlchemy
    bind processor, so they are stored exactly as an ORM insert would store them."""

    def __init__(self, session: Session) -> None:
        connection = session.connection()
        self.dialect = connection.dialect
        self.driver: Any = connection.connection.driver_connection
        self.plans: dict[tuple[str, tuple[str, ...]], tuple[str, tuple[Any, ...], Processors]] = {}

    def _plan(self, table: Table, columns: tuple[str, ...]) -> tuple[str, tuple[Any, ...], Processors]:
        """The statement, the constant values of the columns left to their scalar defaults, the processors."""
        key = (table.name, columns)
        plan = self.plans.get(key)
        if plan is None:
            defaults: dict[str, Any] = {}
            for column in table.columns:
                if column.name in columns or column.default is None:
                    continue
                if not column.default.is_scalar:
                    raise ValueError(f"{table.name}.{column.name}: a computed default, give a value")
                defaults[column.name] = column.default.arg  # type: ignore[attr-defined]
            names_all = (*columns, *defaults)
            names = ", ".join(f'"{c}"' for c in names_all)
            if self.dialect.name == "postgresql":
                sql = f'COPY "{table.name}" ({names}) FROM STDIN'
            else:
                marks = ", ".join("?" * len(names_all))
                sql = f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})'  # noqa: S608  (the schema's names)
            processors = [(i, proc) for i, name in enumerate(names_all)
                          if (proc := table.c[name].type._cached_bind_processor(self.dialect)) is not None]
            plan = self.plans[key] = (sql, tuple(defaults.values()), processors)
        return plan

    def write(self, table: Table, rows: list[dict[str, Any]]) -> None:
        """Insert these rows (all with the same keys)."""
        if not rows:
            return
        columns = tuple(rows[0])
        sql, constants, processors = self._plan(table, columns)
        values: list[list[Any]] = []
        # a column's last value is converted once while the same object repeats (a day's date, the shared
        # empty JSON values): the rows are not changed while they are written
        last: list[tuple[Any, Any]] = [(_UNSET, None)] * len(processors)
        for row in rows:
            vals = [row[c] for c in columns]
            vals.extend(constants)
            for k, (i, proc) in enumerate(processors):
                value = vals[i]
                before, after = last[k]
                if value is before:
                    vals[i] = after
                else:
                    vals[i] = after = proc(value)
                    last[k] = (value, after)
            values.append(vals)
        cursor = self.driver.cursor()
        try:
            if self.dialect.name == "postgresql":
                with cursor.copy(sql) as copy:
                    for vals in values:
                        copy.write_row(vals)
            else:
                cursor.executemany(sql, values)
        finally:
            cursor.close()


class _Batch:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.writer = _Writer(session)
        self.items = rollup.ItemIndex.load(session)
        self.rows: dict[str, list[dict[str, Any]]] = {"case_record": [], "queue_ticket": [], "case_visit": [],
                                                      "rating": [], "complaint": []}
        self.tables = {m.__tablename__: cast(Table, m.__table__) for m in (Case, Ticket, CaseVisit, Rating, Complaint)}
        self.facts: dict[dt.date, rollup.DayFacts] = {}
        self.finished: dict[dt.date, rollup.DayFacts] = {}

    def add(self, table: str, row: dict[str, Any]) -> None:
        self.rows[table].append(row)

    def day(self, day: dt.date) -> rollup.DayFacts:
        """The rollups being counted for ``day``."""
        facts = self.facts.get(day)
        if facts is None:
            facts = self.facts[day] = rollup.DayFacts()
        return facts

    def flush_if_full(self) -> None:
        if len(self.rows["case_record"]) >= CHUNK:
            self.flush()

    def flush(self) -> None:
        # parents first: tickets and cases before the visits and ratings that name them
        for table in ("queue_ticket", "case_record", "case_visit", "rating", "complaint"):
            rows = self.rows[table]
            if rows:
                self.writer.write(self.tables[table], rows)
                rows.clear()

    def finish_days_before(self, day: dt.date | None) -> None:
        """Write the rollups of the days before ``day`` (all days when None): no later record counts on them."""
        for d in [d for d in self.facts if day is None or d < day]:
            self.finished[d] = self.facts.pop(d)
        if self.finished and (day is None or len(self.finished) >= ROLLUP_DAYS):
            rollup.delete_days(self.session, sorted(self.finished))
            rows = rollup.day_rows(self.finished)
            for table in (fact, fact_dept, hourly, wait):
                self.writer.write(table, rows[table.name])
            self.finished = {}


def _at(day: dt.date, hour: int, minute: int, second: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=CHINA_TZ)


def _add_workdays(workdays: list[dt.date], day: dt.date, n: int) -> dt.date:
    i = bisect.bisect_left(workdays, day)
    j = min(i + n, len(workdays) - 1)
    return workdays[j]


def _ticket(rng: random.Random, batch: _Batch, ids: _Ids, report: Report, item: CatalogItem, hall_id: int,
            windows: dict[int, list[tuple[int, int | None]]], day: dt.date, end: dt.date, hour: int,
            seqs: dict[int, int]) -> tuple[int, dt.datetime]:
    tid = ids.take("queue_ticket")
    seq = seqs[hall_id] = seqs.get(hall_id, 0) + 1
    issued = _at(day, hour, rng.randrange(60), rng.randrange(60))
    wait = dt.timedelta(seconds=int(rng.expovariate(1 / 480)))  # eight minutes on average
    service = dt.timedelta(seconds=int(120 + rng.expovariate(1 / 480)))
    called = issued + wait
    done = called + service
    choice = rng.choice(windows[hall_id]) if windows.get(hall_id) else (None, None)
    batch.add("queue_ticket", {
        "id": tid, "hall_id": hall_id, "category_id": item.category_id, "day": day, "seq": seq,
        "number": f"G{seq:05d}", "token": f"gen{tid:029x}", "ticket_class": "normal", "state": "done",
        "channel": "kiosk", "issued_at": issued, "queued_at": issued, "called_at": called,
        "last_called_at": called, "serving_at": called, "done_at": done, "calls": 1, "requeued": False,
        "transfers": 0, "window_id": choice[0], "clerk_id": choice[1], "id_number": None, "phone": None,
        "item_code": item.code, "appointment_at": None})
    rollup.count_ticket(batch.day(day), batch.items, hall_id, item.code, choice[0], choice[1], issued, called,
                        called, done)
    report.tickets += 1
    return tid, done


def _one_case(rng: random.Random, batch: _Batch, ids: _Ids, report: Report, item: CatalogItem, day: dt.date,
              end: dt.date, workdays: list[dt.date], halls: list[tuple[int, str]], hall_cum: list[float],
              windows: dict[int, list[tuple[int, int | None]]], hour_cum: list[float], level_cum: list[float],
              seqs: dict[int, int], agents: list[int]) -> None:
    cid = ids.take("case_record")
    roll = rng.random()
    channel = "online" if item.online and roll < 0.4 else "window"
    agent = agents[cid % len(agents)] if agents and channel == "window" and roll > 0.95 else None
    # one case in seven of the items that allow it has its result mailed (寄递); drawn from the id, not the
    # random stream, so the rest of a seeded history is the same as before mail was generated
    delivery = DeliveryMethod.MAIL.value if item.mail and cid % MAIL_EVERY == 0 else DeliveryMethod.PICKUP.value
    hall_id: int | None = None
    hour = HOURS[bisect.bisect(hour_cum, rng.random() * hour_cum[-1])]
    accepted_at = _at(day, hour, rng.randrange(60), rng.randrange(60))
    ticket_id = None
    if channel == "window":
        hall_id = halls[bisect.bisect(hall_cum, rng.random() * hall_cum[-1])][0]
        ticket_id, accepted_at = _ticket(rng, batch, ids, report, item, hall_id, windows, day, end, hour, seqs)
    promised = item.promised if item.promised >= 0 else 0
    legal = max(item.legal, promised)
    promised_due = _add_workdays(workdays, day, promised)
    legal_due = _add_workdays(workdays, day, legal)
    if item.instant or promised == 0:
        decided_on: dt.date | None = day
    else:
        late = rng.random() < 0.04
        took = promised + rng.randint(1, 5) if late else rng.randint(max(promised // 3, 0), promised)
        decided_on = _add_workdays(workdays, day, took)
    if decided_on is not None and decided_on > end:
        decided_on = None
    decided_at = _at(decided_on, 16, rng.randrange(60)) if decided_on else None
    if decided_on == day and decided_at is not None and decided_at < accepted_at:
        decided_at = accepted_at + dt.timedelta(minutes=5)
    state = ("archived" if decided_on and (end - decided_on).days > 30 else "approved" if decided_on
             else "in_review")
    batch.add("case_record", {
        "id": cid, "number": f"G{cid:012d}", "kind": "single", "parent_id": None, "item_id": item.item_id,
        "item_version_id": item.version_id, "bundle_id": None, "department_id": item.department_id,
        "receiving_hall_id": hall_id, "proxy": False, "channel": channel, "state": state, "version": 1,
        "applicant_kind": "person", "applicant_name": "模拟申请人", "applicant_id": f"41072419{cid % 10**10:010d}",
        "applicant_phone": "", "applicant_user_id": None, "agent_user_id": agent, "authorization_id": None,
        "form_data": NO_FORM, "commitment": False, "verified_at": None, "deferred": False, "deferral_due": None,
        "submitted_at": accepted_at if channel == "online" else None, "accepted_at": accepted_at,
        "accepted_on": day, "legal_days": legal, "promised_days": promised, "limit_unit": "working_day",
        "extension_days": 0, "legal_due": legal_due, "promised_due": promised_due, "due_provisional": False,
        "warning": "none", "procedure": None, "decision": "approved" if decided_on else None,
        "decision_reason": "", "decision_basis": "", "decided_by_rule": None, "decided_at": decided_at,
        "decided_on": decided_on, "closed_reason": "", "closed_basis": "", "result_certificate_id": None,
        "delivered_at": None, "result_delivery": delivery,
        "delivery_address": "模拟县政务服务中心转" if delivery == DeliveryMethod.MAIL.value else "",
        "idempotency_key": None, "request_hash": None, "created_by": None,
        "created_at": accepted_at, "updated_at": decided_at or accepted_at})
    rollup.count_case_accepted(batch.day(day), hall_id, item.department_id, item.item_id, None, channel, agent,
                               delivery, accepted_at)
    # visits: a window case's intake, sometimes a supplement and a pickup; an online case rarely one
    visits = (1 + (rng.random() < 0.3) + (rng.random() < 0.06)) if channel == "window" else int(rng.random() < 0.2)
    for v in range(visits):
        batch.add("case_visit", {"id": ids.take("case_visit"), "case_id": cid,
                                 "at": accepted_at + dt.timedelta(days=v * 2),
                                 "kind": "intake" if v == 0 else "supplement" if delivery == "mail" else "pickup",
                                 "hall_id": hall_id, "ticket_id": ticket_id if v == 0 else None, "recorded_by": None})
        report.visits += 1
    if decided_on is not None:
        rollup.count_case_finished(batch.day(decided_on), hall_id, item.department_id, item.item_id, None,
                                   channel, agent, delivery, decided_on, promised_due, visits)
    if decided_on is not None and decided_at is not None and rng.random() < 0.5:
        rated_on = decided_on + dt.timedelta(days=rng.choice((0, 0, 1, 2)))
        if rated_on <= end:
            default = rng.random() < 0.08
            level = "satisfied" if default else LEVELS[bisect.bisect(level_cum, rng.random() * level_cum[-1])]
            rating_channel = "default" if default else rng.choice(RATING_CHANNELS)
            negative = level in ("unsatisfied", "very_unsatisfied")
            batch.add("rating", {
                "id": ids.take("rating"), "subject": "case", "ticket_id": None, "case_id": cid, "level": level,
                "negative": negative, "scores": NO_FORM, "reasons": NO_REASONS,
                "comment": "", "channel": rating_channel,
                "identified": False, "is_default": default, "rater_user_id": None, "rater_name": "",
                "rater_id_number": "", "rater_phone": "", "item_id": item.item_id,
                "department_id": item.department_id, "hall_id": hall_id, "window_id": None, "clerk_id": None,
                "served_at": decided_at, "rated_at": _at(rated_on, 18, 0), "rated_on": rated_on, "voided_at": None,
                "void_reason": "", "pushed_at": None})
            rollup.count_rating(batch.day(rated_on), hall_id, item.department_id, item.item_id, None, None,
                                rating_channel, level, negative, default, 0)
            report.ratings += 1
    if rng.random() < 0.004:
        _complaint(rng, batch, ids, report, item, hall_id, day, end, workdays)


def _complaint(rng: random.Random, batch: _Batch, ids: _Ids, report: Report, item: CatalogItem,
               hall_id: int | None, day: dt.date, end: dt.date, workdays: list[dt.date]) -> None:
    kid = ids.take("complaint")
    due = _add_workdays(workdays, day, 5)
    took = rng.randint(1, 5) if rng.random() > 0.08 else rng.randint(6, 9)
    closed = _add_workdays(workdays, day, took)
    closed_on = closed if closed <= end else None
    verdict = (("satisfied" if rng.random() < 0.9 else "unsatisfied") if closed_on else None)
    accepted_at = _at(day, 10, rng.randrange(60))
    batch.add("complaint", {
        "id": kid, "number": f"YSG{kid:012d}", "tracking_code": f"G{kid:011d}", "channel": "hotline",
        "external_number": None, "source_kind": None, "source_id": None, "category": "complain", "urgent": False,
        "subject": "办事体验诉求（模拟）", "content": "", "item_code": item.code, "hall_id": hall_id,
        "complainant_name": "模拟诉求人", "complainant_phone": f"1380000{kid % 10000:04d}",
        "complainant_id_number": None, "anonymous": False, "complainant_user_id": None,
        "state": "closed" if closed_on else "handling", "version": 1, "lead_department_id": item.department_id,
        "accepted_at": accepted_at, "accepted_on": day, "limit_days": 5, "due_on": due,
        "due_at": _at(due, 23, 59), "due_provisional": False, "overdue": closed_on is not None and closed_on > due,
        "reply": "已答复" if closed_on else "", "replied_at": _at(closed_on, 15, 0) if closed_on else None,
        "replied_by": None, "callback_verdict": verdict, "callback_note": "",
        "callback_at": _at(closed_on, 17, 0) if closed_on else None, "reopen_count": 0, "return_count": 0,
        "urge_count": 0, "last_urged_at": None, "supervised_due_on": None, "merged_into_id": None,
        "closed_at": _at(closed_on, 17, 30) if closed_on else None, "closed_on": closed_on,
        "solved": True if closed_on else None, "created_by": None, "updated_at": accepted_at})
    replied_at = _at(closed_on, 15, 0) if closed_on else None
    rollup.count_complaint_received(batch.day(day), batch.items, hall_id, item.department_id, item.code, "hotline",
                                    replied_at, verdict)
    if closed_on is not None:
        rollup.count_complaint_closed(batch.day(closed_on), batch.items, hall_id, item.department_id, item.code,
                                      "hotline", closed_on, due)
    report.complaints += 1
