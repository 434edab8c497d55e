"""Live queue service: issue tickets, staff windows, call, serve, finish, 过号, transfer, cancel; read models.

Every state change goes through the pure verbs of :mod:`onewindow.queue.states` (one transition
table, 409 on an illegal move), writes a :class:`TicketEvent` and an audit entry, and holds a live
event that is published after the unit of work commits (:func:`events.publish_on_commit`). The next
ticket of a window is always chosen by the hall's routing policy (:mod:`onewindow.queue.routing`).
Functions flush, never commit: the edge owns the transaction (ADR 1).
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import secrets
import time
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, TypeVar, cast

from sqlalchemy import Table, TextClause, bindparam, event, func, insert, or_, select, text
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, SessionTransaction

from onewindow.calendar import service as calendar_service
from onewindow.catalog import service as catalog_service
from onewindow.catalog.models import Hall, HallCategory
from onewindow.core import audit, ratebucket
from onewindow.core.audit import Actor
from onewindow.core.clock import CHINA_TZ, Clock, today
from onewindow.core.errors import Conflict, NotFound, PermissionDenied, Problem, ValidationFailed
from onewindow.core.ids import mask_id_number, mask_phone, validate_id_number
from onewindow.db import rows_insert, rows_params, within
from onewindow.queue import events, metrics, opening, routing, states
from onewindow.queue.models import (
    DEFAULT_ROUTING_POLICY,
    Channel,
    HallQueueSettings,
    StaffQualification,
    Ticket,
    TicketCase,
    TicketCounter,
    TicketEvent,
    Window,
    WindowStatus,
    window_label,
)
from onewindow.queue.states import QUEUED_STATES, TicketClass, TicketState
from onewindow.staff import performance_service as staff_performance
from onewindow.staff.models import User

DEFAULT_SERVICE_MIN = 10.0  # expected service time when a category has no history and no hall default
HISTORY_DAYS = 30
AT_WINDOW_STATES = (TicketState.CALLED.value, TicketState.SERVING.value)
_MOBILE = re.compile(r"^(?:\+?86)?(1[3-9]\d{9})$")


# The statements of the hottest paths (taking a ticket, a ticket's status), built once with bound parameters:
# building a statement costs more than running it on SQLite, and these run several times a ticket.
_QUEUED = [s.value for s in QUEUED_STATES]
_TICKET_COLUMNS = [attr.key for attr in sa_inspect(Ticket).column_attrs]
_TICKET_RELATIONS = [attr.key for attr in sa_inspect(Ticket).relationships]
_OPEN_WINDOW = [WindowStatus.IDLE.value, WindowStatus.SERVING.value]
_CATEGORY_BY_CODE = select(HallCategory).where(HallCategory.code == bindparam("code"))
_AHEAD = select(func.count()).select_from(Ticket).where(
    Ticket.hall_id == bindparam("hall"), Ticket.day == bindparam("day"), Ticket.category_id == bindparam("cat"),
    or_(*(Ticket.state == state for state in _QUEUED)),  # not IN: an IN list is re-rendered at every execution
    (Ticket.queued_at < bindparam("queued", type_=Ticket.queued_at.type))
    | ((Ticket.queued_at == bindparam("queued", type_=Ticket.queued_at.type)) & (Ticket.id < bindparam("id"))))
# The tickets waiting in a line as a batch of tickets is written (``write_taken``, for those taken with
# ``count_ahead`` whose line ``read_lines`` did not read): every waiting ticket (none waits from a later time than
# now).
_LINE_WAITING = select(func.count()).select_from(Ticket).where(
    Ticket.hall_id == bindparam("hall"), Ticket.day == bindparam("day"), Ticket.category_id == bindparam("cat"),
    or_(*(Ticket.state == state for state in _QUEUED)))
# PostgreSQL: the lines of a batch's tickets before the head is taken (``read_lines``), in one statement (one
# snapshot): each line's counter (tickets issued today) and its tickets waiting. Every waiting ticket: one filtered
# by a time read before the snapshot (another worker's, committed in between) would be in the counter and not in
# the count.
_PG_LINES = text(
    "SELECT line.hall_id, line.category_id, line.day, (SELECT queue_ticket_counter.last FROM queue_ticket_counter"
    " WHERE queue_ticket_counter.hall_id = line.hall_id AND queue_ticket_counter.category_id = line.category_id"
    " AND queue_ticket_counter.day = line.day), (SELECT count(*) FROM queue_ticket"
    " WHERE queue_ticket.hall_id = line.hall_id AND queue_ticket.day = line.day"
    " AND queue_ticket.category_id = line.category_id AND queue_ticket.state = ANY(CAST(:queued AS VARCHAR[])))"
    " FROM unnest(CAST(:hall AS INTEGER[]), CAST(:cat AS INTEGER[]), CAST(:day AS DATE[]))"
    " AS line (hall_id, category_id, day)")
_TICKET_BY_TOKEN = select(Ticket).where(Ticket.token == bindparam("token"))  # every status page and poll
_SERVING_SKILLS = select(Window.skills).where(Window.hall_id == bindparam("hall"),
                                              or_(*(Window.status == status for status in _OPEN_WINDOW)))
_DEFAULT_SERVICE = select(HallQueueSettings.default_service_min).where(HallQueueSettings.hall_id == bindparam("hall"))
T = TypeVar("T")
_STATEMENTS: dict[tuple[str, str], Any] = {}  # per dialect: the statements whose SQL differs


def _dialect_statement(session: Session, name: str, build: Callable[[str], Any]) -> Any:
    dialect = session.get_bind().dialect.name
    stmt = _STATEMENTS.get((name, dialect))
    if stmt is None:
        stmt = _STATEMENTS[(name, dialect)] = build(dialect)
    return stmt


def announcement(number: str, window_number: int) -> str:
    """The call text for the display and speech: ``请A001号到3号窗口办理``."""
    return f"请{number}号到{window_number}号窗口办理"


# ----- lookups ---------------------------------------------------------------------------------------


def _categories(session: Session) -> dict[int, HallCategory]:
    return {c.id: c for c in session.scalars(select(HallCategory))}


def category_by_code(session: Session, code: str) -> HallCategory:
    """A hall category by letter, or 422 naming the known ones."""
    row = session.scalars(_CATEGORY_BY_CODE, {"code": code.strip().upper()}).first()
    if row is None:
        raise _unknown_category(session, code)
    return row


class CategoryKey(NamedTuple):
    """A hall category's id, letter and name (no ORM object to load)."""

    id: int
    code: str
    name: str


_CATEGORY_KEY_BY_CODE = select(HallCategory.id, HallCategory.code, HallCategory.name).where(
    HallCategory.code == bindparam("code"))


def category_key(session: Session, code: str) -> CategoryKey:
    """A hall category's id, letter and name, or 422 (as :func:`category_by_code`)."""
    row = session.connection().execute(_CATEGORY_KEY_BY_CODE, {"code": code.strip().upper()}).first()
    if row is None:
        raise _unknown_category(session, code)
    return CategoryKey(*row)


def _unknown_category(session: Session, code: str) -> ValidationFailed:
    known = "、".join(c.code for c in catalog_service.list_hall_categories(session))
    return ValidationFailed([Problem("category", "unknown_category", f"未知的业务类别：{code}，可选：{known}")])


_TRANSACTION_KEY = "onewindow.queue.transaction_reads"


def _held(session: Session) -> dict[Any, Any]:
    """Reads kept for the rest of the session's transaction (a new transaction starts empty; so does one whose
    savepoint rolled back): the hall and category rows, and for :func:`status_of` with ``hold`` the open windows'
    skills, the means of service time and each line's last ticket. The tickets of one group commit
    (``db.GroupCommit``) share one transaction, so they look each of these up once."""
    session.connection()  # the transaction begins now, if it has not: what is held is keyed to it
    root = session.get_transaction()
    held: tuple[Any, dict[Any, Any]] | None = session.info.get(_TRANSACTION_KEY)
    if held is None or held[0] is not root:
        held = (root, {})
        session.info[_TRANSACTION_KEY] = held
        if not event.contains(session, "after_soft_rollback", _drop_held):
            event.listen(session, "after_soft_rollback", _drop_held)
    return held[1]


def _drop_held(session: Session, _previous: Any) -> None:
    session.info.pop(_TRANSACTION_KEY, None)  # a savepoint rolled back: what was read may be gone with it


_TAKEN_KEY = "onewindow.queue.taken"  # session.info: the tickets taken and not yet written (``take``)


def _taken(session: Session) -> list[Taken]:
    """The tickets taken in this session's transaction and not yet written; a savepoint rolled back takes those
    taken inside it along (each ticket knows the savepoint it was taken in), a transaction that ends takes them
    all."""
    if not event.contains(session, "after_soft_rollback", _taken_rolled_back):
        event.listen(session, "after_soft_rollback", _taken_rolled_back)
        event.listen(session, "after_transaction_end", _taken_ended)
    pending: list[Taken] = session.info.setdefault(_TAKEN_KEY, [])
    return pending


def _taken_rolled_back(session: Session, previous: SessionTransaction) -> None:
    pending: list[Taken] | None = session.info.get(_TAKEN_KEY)
    if previous.nested and pending:
        pending[:] = [t for t in pending if not within(t.savepoint, previous)]


def _taken_ended(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # committed or rolled back whole
        session.info.pop(_TAKEN_KEY, None)


def get_window(session: Session, window_id: int, *, lock: bool = False) -> Window:
    """A window, or 404. ``lock``: its row locked for the transaction (``FOR NO KEY UPDATE``, as every row a
    writer of the queue locks) and read as committed."""
    window = (session.get(Window, window_id, with_for_update={"of": Window, "key_share": True}, populate_existing=True)
              if lock else session.get(Window, window_id))
    if window is None:
        raise NotFound("窗口", str(window_id), "window_id")
    return window


def list_windows(session: Session, hall_code: str) -> list[Window]:
    """The hall's windows by number."""
    hall = catalog_service.hall_by_code(session, hall_code)
    return list(session.scalars(select(Window).where(Window.hall_id == hall.id).order_by(Window.number)))


def get_ticket(session: Session, ticket_id: int) -> Ticket:
    """A ticket, or 404."""
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        raise NotFound("号票", str(ticket_id), "ticket_id")
    return ticket


def ticket_by_token(session: Session, token: str) -> Ticket:
    """A ticket by its opaque token, or 404."""
    ticket = session.scalars(_TICKET_BY_TOKEN, {"token": token}).first()
    if ticket is None:
        raise _no_ticket_with_token()
    return ticket


def _no_ticket_with_token() -> NotFound:
    return NotFound("号票", "（令牌无效）", "token")


def _no_ticket_numbered(number: str, day: dt.date) -> NotFound:
    return NotFound("号票", f"{day.isoformat()} {number}", "number")


def ticket_by_number(session: Session, *, hall_code: str, number: str, day: dt.date) -> Ticket:
    """A ticket by hall, number and day, or 404."""
    hall = catalog_service.hall_by_code(session, hall_code)
    ticket = session.scalars(select(Ticket).where(Ticket.hall_id == hall.id, Ticket.day == day,
                                                  Ticket.number == number.strip().upper())).first()
    if ticket is None:
        raise _no_ticket_numbered(number, day)
    return ticket


def ticket_at_my_window(session: Session, *, clock: Clock, user_id: int, number: str) -> Ticket:
    """Today's ticket ``number`` (e.g. ``C004``) called or served at the window this staff member is signed into:
    the ticket a window intake belongs to. 409 when not signed in, 404 when the number is not at that window."""
    window = window_of_clerk(session, user_id)
    if window is None:
        raise Conflict("请先在叫号工作台签到窗口，再按号票受理", code="not_signed_in", field="ticket_id")
    number = (number or "").strip().upper()
    ticket = session.scalars(select(Ticket).where(
        Ticket.hall_id == window.hall_id, Ticket.day == today(clock),
        Ticket.number == number, Ticket.window_id == window.id)).first()
    if ticket is None or ticket.state not in (TicketState.CALLED.value, TicketState.SERVING.value,
                                              TicketState.DONE.value):
        raise NotFound("号票", f"{number}（不是本窗口今天呼叫或办理的号）", "ticket_id")
    return ticket


def qualified_categories(session: Session, user_id: int) -> list[str]:
    """The hall category codes a staff member may serve (一岗多能)."""
    rows = session.scalars(select(HallCategory.code).join(StaffQualification,
                                                          StaffQualification.category_id == HallCategory.id)
                           .where(StaffQualification.user_id == user_id).order_by(HallCategory.code))
    return list(rows)


def hall_settings(session: Session, hall_id: int, *, for_update: bool = False) -> HallQueueSettings:
    """The hall's queue settings (created with defaults on first use); ``for_update`` locks the row."""
    stmt = select(HallQueueSettings).where(HallQueueSettings.hall_id == hall_id)
    if for_update:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    row = session.scalars(stmt).first()
    if row is None:
        ins = _insert(session, HallQueueSettings).values(
            hall_id=hall_id, routing_policy=DEFAULT_ROUTING_POLICY, policy_params={},
            max_calls=states.DEFAULT_MAX_CALLS, transfer_keep_time=True, overtime_wait_min=15, default_service_min={})
        session.execute(ins.on_conflict_do_nothing(index_elements=[HallQueueSettings.hall_id]))
        row = session.scalars(stmt.execution_options(populate_existing=True)).one()
    return row


def settings_for_hall(session: Session, hall_code: str) -> HallQueueSettings:
    """The queue settings of a hall by code."""
    return hall_settings(session, catalog_service.hall_by_code(session, hall_code).id)


def _insert(session: Session, model: type[Any]) -> Any:
    dialect = session.get_bind().dialect.name
    return postgresql.insert(model) if dialect == "postgresql" else sqlite.insert(model)


# ----- settings, windows, qualifications (admin) ---------------------------------------------------


def update_settings(session: Session, *, clock: Clock, actor: Actor, hall_code: str,
                    routing_policy: str | None = None, policy_params: dict[str, Any] | None = None,
                    max_calls: int | None = None, transfer_keep_time: bool | None = None,
                    overtime_wait_min: int | None = None,
                    default_service_min: dict[str, float] | None = None) -> HallQueueSettings:
    """Change a hall's queue settings (the policy and its parameters are validated by building it)."""
    hall = catalog_service.hall_by_code(session, hall_code)
    row = hall_settings(session, hall.id, for_update=True)
    before = settings_snapshot(row)
    name = routing_policy if routing_policy is not None else row.routing_policy
    params = policy_params if policy_params is not None else (row.policy_params if routing_policy is None else {})
    routing.make_policy(name, params)  # 422 on an unknown policy or parameter
    problems = []
    if max_calls is not None and not 1 <= max_calls <= 10:
        problems.append(Problem("max_calls", "out_of_range", "过号前呼叫次数应在 1 到 10 之间"))
    if overtime_wait_min is not None and not 1 <= overtime_wait_min <= 600:
        problems.append(Problem("overtime_wait_min", "out_of_range", "等待超时阈值应在 1 到 600 分钟之间"))
    if default_service_min is not None:
        codes = {c.code for c in _categories(session).values()}
        for code, minutes in default_service_min.items():
            if code not in codes or not 0 < minutes <= 480:
                problems.append(Problem(f"default_service_min.{code}", "out_of_range",
                                        f"类别 {code} 的默认办理时长无效（应为已有类别，0 到 480 分钟）"))
    if problems:
        raise ValidationFailed(problems)
    row.routing_policy, row.policy_params = name, dict(params)
    if max_calls is not None:
        row.max_calls = max_calls
    if transfer_keep_time is not None:
        row.transfer_keep_time = transfer_keep_time
    if overtime_wait_min is not None:
        row.overtime_wait_min = overtime_wait_min
    if default_service_min is not None:
        row.default_service_min = {k: float(v) for k, v in default_service_min.items()}
    row.updated_at = clock.now()
    session.flush()
    audit.record(session, clock=clock, actor=actor, action="queue.settings.update", entity_type="hall_queue_settings",
                 entity_id=hall.code, before=before, after=settings_snapshot(row))
    events.publish_on_commit(session, hall.code, {"type": "settings.changed", "hall": hall.code,
                                                  "at": clock.now().isoformat(), "routing_policy": name})
    return row


def settings_snapshot(row: HallQueueSettings) -> dict[str, Any]:
    """The settings as a plain dict (API and audit)."""
    return {"routing_policy": row.routing_policy, "routing_policy_label": routing.POLICY_LABELS.get(row.routing_policy,
                                                                                                     row.routing_policy),
            "policy_params": dict(row.policy_params or {}), "max_calls": row.max_calls,
            "transfer_keep_time": row.transfer_keep_time, "overtime_wait_min": row.overtime_wait_min,
            "default_service_min": dict(row.default_service_min or {})}


def save_window(session: Session, *, clock: Clock, actor: Actor, hall_code: str, number: int, kind: str,
                skills: Sequence[str], home: Sequence[str] = (), flexible: bool = False, note: str = "") -> Window:
    """Create or update a hall window by number (type, skills preferred first, home categories, 潮汐)."""
    hall = catalog_service.hall_by_code(session, hall_code)
    try:
        window_kind = routing.WindowKind(kind)
    except ValueError:
        allowed = "、".join(f"{k.value}（{k.label}）" for k in routing.WindowKind)
        problem = Problem("kind", "unknown_window_kind", f"未知的窗口类型：{kind}，可选：{allowed}")
        raise ValidationFailed([problem]) from None
    codes = {c.code for c in _categories(session).values()}
    skill_list = [s.strip().upper() for s in skills]
    home_list = [s.strip().upper() for s in home]
    problems = [Problem("skills", "unknown_category", f"未知的业务类别：{s}") for s in skill_list + home_list
                if s not in codes]
    if not skill_list:
        problems.append(Problem("skills", "required", "窗口至少要能办理一个业务类别"))
    if len(set(skill_list)) != len(skill_list):
        problems.append(Problem("skills", "duplicate", "业务类别不能重复"))
    if any(h not in skill_list for h in home_list):
        problems.append(Problem("home", "not_in_skills", "本部门类别必须在窗口可办类别之中"))
    if number < 1:
        problems.append(Problem("number", "out_of_range", "窗口号应为正整数"))
    if problems:
        raise ValidationFailed(problems)
    window = session.scalars(select(Window).where(Window.hall_id == hall.id, Window.number == number)).first()
    before = window_snapshot(window) if window else None
    if window is None:
        window = Window(hall_id=hall.id, number=number, status=WindowStatus.OFFLINE.value)
        session.add(window)
    window.kind, window.skills, window.home, window.flexible, window.note = (
        window_kind.value, skill_list, home_list, flexible, note)
    session.flush()
    audit.record(session, clock=clock, actor=actor, action="queue.window.save", entity_type="queue_window",
                 entity_id=window.id, before=before, after=window_snapshot(window))
    return window


def window_snapshot(window: Window) -> dict[str, Any]:
    """A window as a plain dict (audit)."""
    return {"hall_id": window.hall_id, "number": window.number, "kind": window.kind, "skills": list(window.skills),
            "home": list(window.home), "flexible": window.flexible, "status": window.status,
            "clerk_id": window.clerk_id}


def set_qualifications(session: Session, *, clock: Clock, actor: Actor, username: str,
                       categories: Sequence[str]) -> list[str]:
    """Replace the hall categories a staff member may serve; returns the new list."""
    user = session.scalars(select(User).where(User.username == username)).first()
    if user is None:
        raise NotFound("工作人员", username, "username")
    wanted = {category_by_code(session, c).id: c.strip().upper() for c in categories}
    before = qualified_categories(session, user.id)
    existing = {q.category_id: q for q in session.scalars(select(StaffQualification)
                                                          .where(StaffQualification.user_id == user.id))}
    for category_id, row in existing.items():
        if category_id not in wanted:
            session.delete(row)
    for category_id in wanted:
        if category_id not in existing:
            session.add(StaffQualification(user_id=user.id, category_id=category_id, granted_at=clock.now()))
    session.flush()
    after = qualified_categories(session, user.id)
    if after != before:
        audit.record(session, clock=clock, actor=actor, action="queue.qualifications.set", entity_type="staff_user",
                     entity_id=user.id, before={"categories": before}, after={"categories": after})
    return after


# ----- tickets ---------------------------------------------------------------------------------------


def _move_counters(session: Session, counts: dict[tuple[int, int, dt.date], int]) -> dict[tuple[int, int, dt.date],
                                                                                          int]:
    """Move each line's counter (hall, category, day: the per-hall, per-category, per-day sequence numbers) on by
    its count, atomically, all in one upsert … RETURNING; each line's last number now."""
    def build(dialect: str) -> Any:
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        stmt = insert(TicketCounter).values(hall_id=bindparam("hall"), category_id=bindparam("cat"),
                                            day=bindparam("day"), last=bindparam("n"))
        return stmt.on_conflict_do_update(
            index_elements=[TicketCounter.hall_id, TicketCounter.category_id, TicketCounter.day],
            set_={"last": TicketCounter.last + stmt.excluded.last},
        ).returning(TicketCounter.hall_id, TicketCounter.category_id, TicketCounter.day, TicketCounter.last)

    stmt = _dialect_statement(session, "move_counters", build)
    params = [{"hall": hall, "cat": cat, "day": day, "n": n} for (hall, cat, day), n in counts.items()]
    rows = session.connection().execute(stmt, params if len(params) > 1 else params[0])
    return {(hall, cat, day): last for hall, cat, day, last in rows}


def validate_phone(value: str, field: str = "phone") -> str:
    """A mainland mobile number in canonical 11-digit form, or 422."""
    # core.ids masks phones but has no validator: a ticket takes mainland mobile numbers only (SMS).
    compact = re.sub(r"[\s\-]+", "", unicodedata.normalize("NFKC", value))
    match = _MOBILE.match(compact)
    if match is None:
        raise ValidationFailed([Problem(field, "phone_invalid", "手机号码应为 11 位中国大陆手机号，如 13803731234")])
    return match[1]


def _parse_channel(value: str) -> Channel:
    for channel in Channel:
        if value in (channel.value, channel.label):
            return channel
    allowed = "、".join(f"{c.value}（{c.label}）" for c in Channel)
    raise ValidationFailed([Problem("channel", "unknown_channel", f"未知的取号渠道：{value}，可选：{allowed}")])


def spend_anonymous_ticket(session: Session, *, clock: Clock, client: str | None, per_hour: int,
                           exempt: Sequence[str]) -> None:
    """Count a ticket taken without signing in against the client address's hourly budget (shared by every
    worker through the database); a hall kiosk's address is exempt. 429 once the budget is used up."""
    if per_hour <= 0 or (client or "") in exempt:
        return
    audit.locked_head(session)  # the head before the budget's row: the lock order of every ticket writer
    ratebucket.spend(session, f"ticket:{client or 'unknown'}", limit=per_hour, window_seconds=3600, now=clock.now(),
                     message=f"取号过于频繁：同一设备每小时最多取 {per_hour} 个号，请到大厅取号机取号或稍后再试")


# Listeners told of a ticket written with Core statements, which no ORM flush (and so no session listener) sees:
# ``(session, column values before or None, after or None)``. ``analytics.listeners`` keeps the rollups with it.
TicketWritten = Callable[[Session, dict[str, Any] | None, dict[str, Any] | None], None]
TICKET_WRITTEN_LISTENERS: list[TicketWritten] = []
# PostgreSQL: what else goes into the statement that writes a batch of tickets (:func:`write_taken`), asked after the
# listeners above have heard of them: parts of the statement (data-modifying CTEs) and their parameters (named so
# as not to clash: ``analytics.listeners`` gives the rollups' upserts, ``r{n}_…``), or nothing.
TicketStatementParts = Callable[[Session], tuple[list[str], dict[str, Any]]]
TICKET_STATEMENT_PARTS: list[TicketStatementParts] = []

_TICKET_TABLE = cast(Table, Ticket.__table__)
_INSERT_TICKETS = insert(_TICKET_TABLE).returning(_TICKET_TABLE.c.id, sort_by_parameter_order=True)
_EVENT_TABLE = cast(Table, TicketEvent.__table__)
# RETURNING: one multi-row INSERT for a batch's events (``audit._INSERT_ENTRIES`` tells why)
_INSERT_EVENTS = insert(_EVENT_TABLE).returning(_EVENT_TABLE.c.id)

# PostgreSQL: a batch's tickets are written in two statements while the audit chain's head is held (each one a round
# trip that every other ticket writer waits for): the counters moved, with the tickets' ids taken from their
# sequence (under the head, so ids rise with the order of writing, across the workers too), in the statement that
# takes the head if the transaction does not hold it yet; then the tickets, their events, their audit entries
# (chained here in Python: an entry's hash covers its ticket's id and number), the rollups and the head's move, as
# data-modifying CTEs of one statement. Rows are given as one JSON parameter a table: one text for every batch.
_COUNTER_TABLE = cast(Table, TicketCounter.__table__)
_COUNTER_COLUMNS = ("hall_id", "category_id", "day", "last")
_COUNTERS_MOVED = (" ON CONFLICT (hall_id, category_id, day) DO UPDATE SET last = queue_ticket_counter.last"
                   " + excluded.last RETURNING hall_id, category_id, day, last")
_PG_MOVE_COUNTERS = rows_insert(_COUNTER_TABLE, _COUNTER_COLUMNS, "counter") + _COUNTERS_MOVED
_NEW_IDS = ("(SELECT array_agg(nextval(pg_get_serial_sequence('queue_ticket', 'id')))"
            " FROM generate_series(1, :tickets))")
# The same with the head's lock first: the counters are moved once the head's row is locked (the condition on
# the rows is a one-time filter, evaluated before the first row); the head's tip comes back with them.
_PG_HEAD_COUNTERS_AND_IDS = text(
    f"WITH head AS ({audit.PG_LOCK_HEAD}), moved AS ("  # noqa: S608
    + rows_insert(_COUNTER_TABLE, _COUNTER_COLUMNS, "counter", where="(SELECT count(*) FROM head) >= 0")
    + f"{_COUNTERS_MOVED}) SELECT hall_id, category_id, day, last, {_NEW_IDS},"  # noqa: S608
    " (SELECT last_hash FROM head) FROM moved")
_PG_COUNTERS_AND_IDS = text(  # the counters' upsert: text from the table's metadata
    f"WITH moved AS ({_PG_MOVE_COUNTERS}) SELECT hall_id, category_id, day, last,"  # noqa: S608
    " CASE WHEN (hall_id, category_id, day) IN (SELECT * FROM unnest(CAST(:counted_hall_id AS INTEGER[]),"
    " CAST(:counted_category_id AS INTEGER[]), CAST(:counted_day AS DATE[]))) THEN (SELECT count(*) FROM queue_ticket"
    " WHERE queue_ticket.hall_id = moved.hall_id AND queue_ticket.day = moved.day"
    " AND queue_ticket.category_id = moved.category_id AND queue_ticket.state = ANY(CAST(:queued AS VARCHAR[])))"
    f" END AS waiting, {_NEW_IDS} FROM moved")
_PG_TICKET_COLUMNS = ("id", "hall_id", "category_id", "day", "seq", "number", "token", "ticket_class", "state",
                      "channel", "issued_at", "queued_at", "calls", "requeued", "transfers", "id_number", "phone",
                      "item_code", "appointment_at")
_PG_EVENT_COLUMNS = ("ticket_id", "hall_id", "from_state", "to_state", "at", "window_id", "user_id", "note")


@functools.lru_cache(maxsize=64)  # by the parts of TICKET_STATEMENT_PARTS: a few shapes of rollup rows
def _pg_write(head: bool, others: tuple[str, ...]) -> TextClause:
    parts = [rows_insert(_TICKET_TABLE, _PG_TICKET_COLUMNS, "ticket"),
             rows_insert(_EVENT_TABLE, _PG_EVENT_COLUMNS, "event"), audit.PG_INSERT_ENTRIES, *others]
    if head:
        parts.append(audit.PG_MOVE_HEAD)
    return text("WITH " + ", ".join(f"w{index} AS ({part})" for index, part in enumerate(parts)) + " SELECT 1")


Line = tuple[int, int, dt.date]  # hall, category, day


def _move_counters_taking_ids(session: Session, counts: dict[Line, int], counted: set[Line]) -> tuple[
        dict[Line, int], dict[Line, int], list[int]]:
    """PostgreSQL, in one statement: :func:`_move_counters`, the tickets waiting in the ``counted`` lines (the
    statement begins once the head is held: it sees every ticket written before), and as many ticket ids as
    tickets, rising."""
    asked = list(counted)
    rows = session.connection().execute(_PG_COUNTERS_AND_IDS, {
        **_counter_rows(counts),
        "counted_hall_id": [k[0] for k in asked], "counted_category_id": [k[1] for k in asked],
        "counted_day": [k[2] for k in asked], "queued": _QUEUED, "tickets": sum(counts.values())}).all()
    return ({(hall, cat, day): last for hall, cat, day, last, _waiting, _ids in rows},
            {(hall, cat, day): waiting for hall, cat, day, _last, waiting, _ids in rows if waiting is not None},
            sorted(rows[0][5]))


@dataclass(frozen=True)
class TicketRow:
    """The plain values of a ticket that its status and the answer to taking it need."""

    id: int
    token: str
    hall: catalog_service.HallKey
    category: CategoryKey
    day: dt.date
    number: str
    ticket_class: str
    state: str
    issued_at: dt.datetime
    queued_at: dt.datetime
    window_number: int | None = None


@dataclass
class Taken:
    """A ticket taken in this transaction and not yet written: :func:`write_taken` writes it with the others (and
    reads its time, and so its day, then) and sets ``row``."""

    clock: Clock
    actor: Actor
    hall: catalog_service.HallKey
    category: CategoryKey
    ticket_class: TicketClass
    channel: Channel
    token: str
    id_number: str | None
    phone: str | None
    item_code: str | None
    appointment_at: dt.datetime | None
    savepoint: SessionTransaction | None = None  # the innermost savepoint it was taken in (rolled back: dropped)
    row: TicketRow | None = None
    count_ahead: bool = False  # its place is counted as it is written
    day: dt.date | None = None  # the day it was taken on (written on the day it is written on)
    ahead: int | None = None  # taken with ``count_ahead``: the tickets waiting ahead of it when it was written


def take(session: Session, *, clock: Clock, actor: Actor, hall_code: str, category: str,
         ticket_class: str = TicketClass.NORMAL.value, channel: str = Channel.KIOSK.value,
         id_number: str | None = None, phone: str | None = None, item_code: str | None = None,
         appointment_at: dt.datetime | None = None, count_ahead: bool = False,
         cache: QueueCache | None = None) -> Taken:
    """Take a ticket (取号) in this transaction: checked and queued to be written by :func:`write_taken` with the
    transaction's other tickets (its number and its time are given there). Reads only: a group commit runs its
    units before it takes the audit chain's head (``db.GroupCommit``), so that what they read and check is not done
    while the other workers' batches wait for the head. :func:`issue` takes one and writes it.

    ``count_ahead``: :func:`write_taken` gives the ticket its place (``Taken.ahead``), so that the line is not
    counted again after the COMMIT: the tickets waiting in its line as it is written, plus this transaction's own
    ahead of it. The line is read by :func:`read_lines` before the head is taken, if the transaction calls it (a
    group commit's batch on PostgreSQL: those waiting then, plus those another writer issued since, which its
    counter tells); else it is counted as the tickets are written, while the audit chain's head is held, which
    every writer of tickets holds until its COMMIT. (A call, cancellation or requeue between the read and the write
    is not seen; the count after the COMMIT was as old when its answer arrived.)
    ``cache``: the hall and the category from there."""
    held = _held(session)
    hall: catalog_service.HallKey = held.get(("hall", hall_code)) or held.setdefault(
        ("hall", hall_code), cache.hall(session, hall_code) if cache else catalog_service.hall_key(session, hall_code))
    cat: CategoryKey = held.get(("category", category)) or held.setdefault(
        ("category", category), cache.category(session, category) if cache else category_key(session, category))
    cls = states.parse_ticket_class(ticket_class)
    chan = _parse_channel(channel)
    day = today(clock)
    problems: list[Problem] = []
    id_clean: str | None = None
    phone_clean: str | None = None
    if id_number:
        try:
            id_clean = validate_id_number(id_number, today=day)
        except ValidationFailed as exc:
            problems += exc.problems
    if phone:
        try:
            phone_clean = validate_phone(phone)
        except ValidationFailed as exc:
            problems += exc.problems
    if item_code is not None and item_code.strip():
        item_code = item_code.strip()
        catalog_service.get_item_row(session, item_code)
    else:
        item_code = None
    if problems:
        raise ValidationFailed(problems)
    taken = Taken(clock=clock, actor=actor, hall=hall, category=cat, ticket_class=cls, channel=chan,
                  token=secrets.token_urlsafe(18), id_number=id_clean, phone=phone_clean, item_code=item_code,
                  appointment_at=appointment_at, savepoint=session.get_nested_transaction(), count_ahead=count_ahead,
                  day=day)
    _taken(session).append(taken)
    return taken


def read_lines(session: Session) -> None:
    """PostgreSQL: read the lines of the tickets taken with ``count_ahead`` in this transaction, in one statement,
    for :func:`write_taken` (a group commit's ``prepare``: while another worker's batch holds the audit chain's head,
    so that the writes under it count nothing). Elsewhere nothing: on SQLite the writer holds the database's one
    write lock from the start, and :func:`write_taken` counts."""
    if session.get_bind().dialect.name != "postgresql" or audit.head_held(session):
        return  # (the head held already: counted as they are written, in a statement sent anyway)
    held = _held(session)
    lines = list(dict.fromkeys((t.hall.id, t.category.id, t.day) for t in session.info.get(_TAKEN_KEY) or ()
                               if t.count_ahead and t.day is not None and ("line-now", t.hall.id, t.category.id,
                                                                           t.day) not in held))
    if not lines:
        return
    rows = session.connection().execute(_PG_LINES, {
        "hall": [line[0] for line in lines], "cat": [line[1] for line in lines], "day": [line[2] for line in lines],
        "queued": _QUEUED})
    for hall, cat, day, last, waiting in rows:
        held["line-now", hall, cat, day] = (last or 0, waiting or 0)


def write_taken(session: Session) -> None:
    """Write the tickets taken in this transaction and not yet written (:func:`take`), in the order taken, with a
    statement or two for all of them: each line's counter moved once by its tickets, the tickets, their first
    events and their audit entries (the busiest write of a hall, hundreds a second at a county hall's opening: a
    group commit's tickets share the statements). The rollups hear of them through ``TICKET_WRITTEN_LISTENERS``."""
    pending: list[Taken] = session.info.pop(_TAKEN_KEY, None) or []
    if not pending:
        return
    # the audit chain's head first, then the counters: the lock order of every writer that takes a ticket, so
    # ticket writers never deadlock each other; the time read once the head is held, so that tickets queue in the
    # order they are written (numbers and times rise together, across the workers too)
    connection = session.connection()
    postgres = connection.dialect.name == "postgresql"
    moved = _take_head_moving_counters(session, pending) if postgres and not audit.head_held(session) else None
    if moved is not None:
        issued, lines, lasts, waiting, ids = moved
    else:
        audit.locked_head(session)
        issued = _issue(pending)
        lines = _lines(pending, _days(issued))
        counts = {key: len(line) for key, line in lines.items()}
        counted = _counted(session, lines)
        if postgres:
            lasts, waiting, ids = _move_counters_taking_ids(session, counts, counted)
        else:
            lasts, ids = _move_counters(session, counts), []
            waiting = {(hall, cat, day): int(connection.execute(
                _LINE_WAITING, {"hall": hall, "cat": cat, "day": day}).scalar_one()) for hall, cat, day in counted}
    held = _held(session)
    seen: dict[Line, tuple[int, int]] = {key: held["line-now", *key] for key in lines if ("line-now", *key) in held}
    days = _days(issued)
    seqs: dict[int, int] = {}
    for key, line in lines.items():
        for index, taken in enumerate(line):
            seqs[id(taken)] = lasts[key] - len(line) + 1 + index
            if not taken.count_ahead:
                continue
            if key in seen:  # waiting then + issued by others since (the counter moved) + this line's before it
                taken.ahead = seen[key][1] + max(0, lasts[key] - len(line) - seen[key][0]) + index
            else:  # waiting now (the head is held: no other writer's come in) + this line's before it
                taken.ahead = waiting[key] + index
    values: list[dict[str, Any]] = []
    for taken, pure, day in zip(pending, issued, days, strict=True):
        seq = seqs[id(taken)]
        values.append({
            "hall_id": taken.hall.id, "category_id": taken.category.id, "day": day, "seq": seq,
            "number": f"{taken.category.code}{seq:03d}", "token": taken.token, "ticket_class": taken.ticket_class.value,
            "state": pure.state.value, "channel": taken.channel.value, "issued_at": pure.issued_at,
            "queued_at": pure.queued_at, "calls": 0, "requeued": False, "transfers": 0, "id_number": taken.id_number,
            "phone": taken.phone, "item_code": taken.item_code, "appointment_at": taken.appointment_at})
    if not postgres:
        ids = [int(i) for i in connection.execute(_INSERT_TICKETS, values).scalars()]
    ticket_events = [
        {"ticket_id": ticket_id, "hall_id": taken.hall.id, "from_state": None, "to_state": v["state"],
         "at": v["issued_at"], "window_id": None, "user_id": taken.actor.id, "note": taken.channel.label}
        for taken, ticket_id, v in zip(pending, ids, values, strict=True)]
    changes = [
        audit.Change(at=v["issued_at"], actor=taken.actor, action="queue.ticket.issue", entity_type="queue_ticket",
                     entity_id=ticket_id, after={
                         "number": v["number"], "day": v["day"].isoformat(), "state": v["state"],
                         "category_id": taken.category.id, "ticket_class": taken.ticket_class.value, "calls": 0,
                         "window_id": None, "clerk_id": None, "id_number": mask_id_number(taken.id_number) or None,
                         "phone": mask_phone(taken.phone) or None})
        for taken, ticket_id, v in zip(pending, ids, values, strict=True)]
    if postgres:  # the tickets, their events, their audit entries and the chain's head: one statement
        for v, ticket_id in zip(values, ids, strict=True):
            v["id"] = ticket_id
        session.flush()  # what the entries follow (a caller's ORM changes) is written before them
        entries = audit.chain(audit.locked_head(session), changes)
        tip = entries[-1]["hash"]
        head = not session.in_nested_transaction()  # a savepoint's appends may yet be rolled back: moved at commit
        params = (rows_params(_TICKET_TABLE, _PG_TICKET_COLUMNS, "ticket", values)
                  | rows_params(_EVENT_TABLE, _PG_EVENT_COLUMNS, "event", ticket_events)
                  | audit.pg_params(entries, tip))
        _tell_written(session, ids, values)
        others: list[str] = []
        for parts in TICKET_STATEMENT_PARTS:
            texts, more = parts(session)
            others += texts
            params |= more
        connection.execute(_pg_write(head, tuple(others)), params)
        audit.appended(session, tip, head_written=head)
    else:
        connection.execute(_INSERT_EVENTS, ticket_events)
        audit.record_many(session, changes)
        _tell_written(session, ids, values)
    for taken, ticket_id, v in zip(pending, ids, values, strict=True):
        events.publish_on_commit(session, taken.hall.code, {
            "type": "ticket.issued", "hall": taken.hall.code, "at": v["issued_at"].isoformat(),
            "ticket": {"id": ticket_id, "number": v["number"], "category": taken.category.code,
                       "ticket_class": taken.ticket_class.value, "state": v["state"], "window": None},
            "note": taken.channel.label})
        taken.row = TicketRow(id=ticket_id, token=taken.token, hall=taken.hall, category=taken.category,
                              day=v["day"], number=v["number"], ticket_class=taken.ticket_class.value,
                              state=v["state"], issued_at=v["issued_at"], queued_at=v["queued_at"])


def _issue(pending: list[Taken]) -> list[states.Ticket]:
    return [states.issue_ticket(number="", category=t.category.code, ticket_class=t.ticket_class, at=t.clock.now())
            for t in pending]


def _days(issued: list[states.Ticket]) -> list[dt.date]:
    """The day each ticket is issued on (its line's)."""
    return [pure.issued_at.astimezone(CHINA_TZ).date() for pure in issued]


def _lines(pending: list[Taken], days: list[dt.date]) -> dict[Line, list[Taken]]:
    """The batch's tickets by line: hall, category and the given day of each."""
    lines: dict[Line, list[Taken]] = {}
    for taken, day in zip(pending, days, strict=True):
        lines.setdefault((taken.hall.id, taken.category.id, day), []).append(taken)
    return lines


def _counted(session: Session, lines: dict[Line, list[Taken]]) -> set[Line]:
    """The lines to count as the tickets are written: those with a ticket taken with ``count_ahead`` that
    :func:`read_lines` did not read."""
    held = _held(session)
    return {key for key, line in lines.items()
            if ("line-now", *key) not in held and any(taken.count_ahead for taken in line)}


def _take_head_moving_counters(session: Session, pending: list[Taken]) -> tuple[
        list[states.Ticket], dict[Line, list[Taken]], dict[Line, int], dict[Line, int], list[int]] | None:
    """PostgreSQL, when the transaction does not hold the audit chain's head yet: take it with the counters' move,
    in one statement (a round trip less while it is held). The lines are those of the days the tickets were
    taken on, and the times are read once the statement is back (the head held), so numbers and times still rise
    together. None if the batch is to be written the usual way: before anything is done, if a line must be
    counted as it is written (the statement's snapshot is older than the head's lock, and such a count would miss
    the last holder's tickets); with the head held and the counters moved back, if a ticket's time falls on a
    later day than it was taken on (a batch over midnight)."""
    days = [t.day or today(t.clock) for t in pending]
    lines = _lines(pending, days)
    if _counted(session, lines):
        return None
    counts = {key: len(line) for key, line in lines.items()}
    row = session.connection().execute(_PG_HEAD_COUNTERS_AND_IDS, {
        **_counter_rows(counts), "tickets": len(pending)}).all()
    audit.hold_head(session, row[0][5] if row else None)
    issued = _issue(pending)
    if _days(issued) != days:
        # a day went by meanwhile: the counters back (a row made now stays, at 0), then the usual way
        _move_counters(session, {key: -n for key, n in counts.items()})
        return None
    return (issued, lines, {(hall, cat, day): last for hall, cat, day, last, _ids, _tip in row}, {},
            sorted(row[0][4]))


def _counter_rows(counts: dict[Line, int]) -> dict[str, str]:
    return rows_params(_COUNTER_TABLE, _COUNTER_COLUMNS, "counter", [
        {"hall_id": hall, "category_id": cat, "day": day, "last": n} for (hall, cat, day), n in counts.items()])


def _tell_written(session: Session, ids: list[int], values: list[dict[str, Any]]) -> None:
    for ticket_id, v in zip(ids, values, strict=True):
        for listener in TICKET_WRITTEN_LISTENERS:
            listener(session, None, v | {"id": ticket_id})


def issue(session: Session, *, clock: Clock, actor: Actor, hall_code: str, category: str,
          ticket_class: str = TicketClass.NORMAL.value, channel: str = Channel.KIOSK.value,
          id_number: str | None = None, phone: str | None = None, item_code: str | None = None,
          appointment_at: dt.datetime | None = None) -> TicketRow:
    """Take a ticket (取号) and write it now: the next number of the category today, waiting from now
    (:func:`take`, :func:`write_taken`). :func:`issue_ticket` gives the ORM object to callers that go on with
    it."""
    taken = take(session, clock=clock, actor=actor, hall_code=hall_code, category=category,
                 ticket_class=ticket_class, channel=channel, id_number=id_number, phone=phone, item_code=item_code,
                 appointment_at=appointment_at)
    write_taken(session)
    assert taken.row is not None  # written just now  # noqa: S101
    return taken.row


def issue_ticket(session: Session, *, clock: Clock, actor: Actor, hall_code: str, category: str,
                 ticket_class: str = TicketClass.NORMAL.value, channel: str = Channel.KIOSK.value,
                 id_number: str | None = None, phone: str | None = None, item_code: str | None = None,
                 appointment_at: dt.datetime | None = None) -> Ticket:
    """Take a ticket (:func:`issue`) and load it, for callers that go on with the ticket."""
    row = issue(session, clock=clock, actor=actor, hall_code=hall_code, category=category,
                ticket_class=ticket_class, channel=channel, id_number=id_number, phone=phone, item_code=item_code,
                appointment_at=appointment_at)
    ticket = session.get(Ticket, row.id)
    assert ticket is not None  # written just now in this transaction  # noqa: S101
    return ticket


def _pure(ticket: Ticket, categories: dict[int, HallCategory] | None = None) -> states.Ticket:
    code = categories[ticket.category_id].code if categories else ticket.category.code
    return states.Ticket(number=ticket.number, category=code, ticket_class=TicketClass(ticket.ticket_class),
                         state=TicketState(ticket.state), issued_at=ticket.issued_at, queued_at=ticket.queued_at,
                         calls=ticket.calls, requeues=1 if ticket.requeued else 0, transfers=ticket.transfers)


def ticket_snapshot(ticket: Ticket) -> dict[str, Any]:
    """What the audit log keeps of a ticket (personal data masked)."""
    return {"number": ticket.number, "day": ticket.day.isoformat(), "state": ticket.state,
            "category_id": ticket.category_id, "ticket_class": ticket.ticket_class, "calls": ticket.calls,
            "window_id": ticket.window_id, "clerk_id": ticket.clerk_id,
            "id_number": mask_id_number(ticket.id_number) or None, "phone": mask_phone(ticket.phone) or None}


def _record(session: Session, *, clock: Clock, actor: Actor, ticket: Ticket, before: dict[str, Any] | None,
            window: Window | None, action: str, note: str, event_type: str,
            extra: dict[str, Any] | None = None) -> None:
    now = clock.now()
    session.add(TicketEvent(ticket_id=ticket.id, hall_id=ticket.hall_id,
                            from_state=before["state"] if before else None, to_state=ticket.state, at=now,
                            window_id=window.id if window else None, user_id=actor.id, note=note))
    after = ticket_snapshot(ticket) | (extra or {})
    audit.record(session, clock=clock, actor=actor, action=f"queue.ticket.{action}", entity_type="queue_ticket",
                 entity_id=ticket.id, before=before, after=after)
    payload: dict[str, Any] = {
        "type": event_type, "hall": ticket.hall.code if ticket.hall else "", "at": now.isoformat(),
        "ticket": {"id": ticket.id, "number": ticket.number, "category": ticket.category.code,
                   "ticket_class": ticket.ticket_class, "state": ticket.state,
                   "window": window.number if window else None},
    }
    if window is not None:
        payload["window"] = {"id": window.id, "number": window.number, "status": window.status}
    if event_type in ("ticket.called", "ticket.recalled") and window is not None:
        payload["announcement"] = announcement(ticket.number, window.number)
    if note:
        payload["note"] = note
    session.flush()
    events.publish_on_commit(session, payload["hall"], payload)


def _apply(session: Session, *, clock: Clock, actor: Actor, ticket: Ticket, window: Window | None,
           verb: Callable[[states.Ticket], states.Ticket], action: str, event_type: str, note: str = "",
           extra: dict[str, Any] | None = None) -> Ticket:
    """Run a pure verb on the ticket, copy the result back and record it. The ticket's row is locked and read
    again first, so the verb checks its transition against what is committed (a ticket a window has just called
    is not cancelled as if it still waited); the audit chain's head comes after, with the entry, as for every
    writer of a row."""
    # the row alone, FOR NO KEY UPDATE: a writer of a row that refers to the ticket (an intake's visit, holding
    # the audit head) takes KEY SHARE on it, which FOR UPDATE would wait for, while this waits for the head
    session.refresh(ticket, attribute_names=_TICKET_COLUMNS, with_for_update={"of": Ticket, "key_share": True})
    session.expire(ticket, _TICKET_RELATIONS)  # its hall, category, window: again from the session, by their ids
    if window is not None and ticket.state in AT_WINDOW_STATES and ticket.window_id != window.id:
        raise Conflict(f"号票{ticket.number}不在{window.label}", code="ticket_elsewhere", field="ticket_id")
    before = ticket_snapshot(ticket)
    new = verb(_pure(ticket))
    if new.category != ticket.category.code:
        target = category_by_code(session, new.category)
        ticket.category, ticket.category_id = target, target.id
    ticket.state = new.state.value
    ticket.queued_at = new.queued_at
    ticket.calls = new.calls
    ticket.requeued = new.requeues > 0
    ticket.transfers = new.transfers
    _record(session, clock=clock, actor=actor, ticket=ticket, before=before, window=window, action=action,
            note=note or (new.history[-1].note if new.history else ""), event_type=event_type, extra=extra)
    return ticket


# ----- windows ---------------------------------------------------------------------------------------


def _window_event(session: Session, *, clock: Clock, window: Window) -> None:
    events.publish_on_commit(session, window.hall.code, {
        "type": "window.changed", "hall": window.hall.code, "at": clock.now().isoformat(),
        "window": {"id": window.id, "number": window.number, "status": window.status,
                   "clerk": window.clerk.display_name if window.clerk else None}})


def _window_audit(session: Session, *, clock: Clock, actor: Actor, window: Window, action: str,
                  before: dict[str, Any]) -> None:
    session.flush()
    audit.record(session, clock=clock, actor=actor, action=f"queue.window.{action}", entity_type="queue_window",
                 entity_id=window.id, before=before, after=window_snapshot(window))
    _window_event(session, clock=clock, window=window)


def current_ticket(session: Session, window_id: int) -> Ticket | None:
    """The ticket called to or being served at the window, if any."""
    return session.scalars(select(Ticket).where(Ticket.window_id == window_id, Ticket.state.in_(AT_WINDOW_STATES))
                           .order_by(Ticket.id.desc())).first()


def may_sign_in(window: Window, qualified: Sequence[str]) -> bool:
    """A clerk may staff a window when qualified for all its home categories (all skills if no home)."""
    needed = window.home or window.skills
    return all(c in qualified for c in needed)


def sign_in_window(session: Session, *, clock: Clock, actor: Actor, window_id: int) -> Window:
    """The clerk takes the window (签到); 403 when not qualified, 409 when it is taken or they sit elsewhere."""
    window = get_window(session, window_id, lock=True)  # one clerk wins
    if actor.id is None:
        raise PermissionDenied("只有工作人员可以签到窗口")
    user = session.get(User, actor.id)
    if user is None or not user.is_active:
        raise PermissionDenied("只有工作人员可以签到窗口")
    if user.hall_id is not None and user.hall_id != window.hall_id:
        raise PermissionDenied("只能在本人所在大厅的窗口签到", code="other_hall")
    qualified = qualified_categories(session, user.id)
    if not may_sign_in(window, qualified):
        needed = "、".join(window.home or window.skills)
        raise PermissionDenied(f"您不具备{window.label}的业务资质（需要：{needed}）", code="not_qualified")
    if window.clerk_id == user.id and window.status != WindowStatus.OFFLINE.value:
        return window
    if window.clerk_id is not None and window.status != WindowStatus.OFFLINE.value:
        raise Conflict(f"{window.label}已由其他工作人员签到", code="window_taken", field="window_id")
    elsewhere = session.scalars(select(Window).where(Window.clerk_id == user.id, Window.id != window.id,
                                                    Window.status != WindowStatus.OFFLINE.value)).first()
    if elsewhere is not None:
        raise Conflict(f"您已在{elsewhere.label}签到，请先签退", code="signed_in_elsewhere", field="window_id")
    before = window_snapshot(window)
    window.clerk = user
    window.clerk_id = user.id
    window.signed_in_at = clock.now()
    window.status = WindowStatus.SERVING.value if current_ticket(session, window.id) else WindowStatus.IDLE.value
    staff_performance.shift_started(session, user_id=user.id, window_id=window.id, hall_id=window.hall_id,
                                    at=clock.now())  # attendance (考勤) is measured from the shifts
    _window_audit(session, clock=clock, actor=actor, window=window, action="sign_in", before=before)
    return window


def _my_window(session: Session, actor: Actor, window_id: int) -> Window:
    """The clerk's own window, its row locked for the transaction (read as committed): every change a clerk makes
    at a window begins here, so two of them at once (a double click) run one after the other, and the window's
    row is always locked before a ticket's and before the audit chain's head."""
    window = get_window(session, window_id, lock=True)
    if actor.id is None or window.clerk_id != actor.id or window.status == WindowStatus.OFFLINE.value:
        raise PermissionDenied(f"您未在{window.label}签到，不能操作该窗口", code="not_signed_in")
    return window


def sign_out_window(session: Session, *, clock: Clock, actor: Actor, window_id: int) -> Window:
    """The clerk leaves the window (签退); refused while a ticket is at the window."""
    window = _my_window(session, actor, window_id)
    if current_ticket(session, window.id) is not None:
        raise Conflict("当前号票尚未办结，请先办结、过号或转移后再签退", code="ticket_at_window", field="window_id")
    before = window_snapshot(window)
    if window.clerk_id is not None:
        staff_performance.shift_ended(session, user_id=window.clerk_id, window_id=window.id, at=clock.now())
    window.status = WindowStatus.OFFLINE.value
    window.clerk = None
    window.clerk_id = None
    window.signed_in_at = None
    _window_audit(session, clock=clock, actor=actor, window=window, action="sign_out", before=before)
    return window


def pause_window(session: Session, *, clock: Clock, actor: Actor, window_id: int, paused: bool = True) -> Window:
    """Pause (暂停服务) or resume the window; a paused window calls no one."""
    window = _my_window(session, actor, window_id)
    before = window_snapshot(window)
    if paused:
        window.status = WindowStatus.PAUSED.value
    else:
        window.status = WindowStatus.SERVING.value if current_ticket(session, window.id) else WindowStatus.IDLE.value
    _window_audit(session, clock=clock, actor=actor, window=window, action="pause" if paused else "resume",
                  before=before)
    return window


def window_view(session: Session, window: Window) -> routing.WindowView:
    """The routing view of a window: its skills narrowed to what the signed-in clerk is qualified for."""
    skills: tuple[str, ...] = tuple(window.skills)
    home: tuple[str, ...] = tuple(window.home)
    if window.clerk_id is not None:
        qualified = set(qualified_categories(session, window.clerk_id))
        skills = tuple(c for c in skills if c in qualified)
        home = tuple(c for c in home if c in qualified)
    return routing.WindowView(key=str(window.id), skills=skills, home=home, kind=routing.WindowKind(window.kind),
                              flexible=window.flexible)


def expected_service_minutes(session: Session, *, clock: Clock, hall_id: int,
                             category: HallCategory | CategoryKey | None = None) -> dict[str, float]:
    """Mean service time per category over the last 30 days; the hall default or 10 minutes without history.
    With ``category``, that category's only (one indexed average instead of every category's)."""
    # the hall's defaults alone (a hall without a settings row has none; no row is created for a read)
    defaults: dict[str, float] = session.scalar(_DEFAULT_SERVICE, {"hall": hall_id}) or {}
    categories: dict[int, HallCategory | CategoryKey] = (
        {category.id: category} if category is not None else dict(_categories(session)))
    since = clock.now() - dt.timedelta(days=HISTORY_DAYS)

    def build(one: bool) -> Callable[[str], Any]:
        def statement(dialect: str) -> Any:
            minutes = (func.extract("epoch", Ticket.done_at - Ticket.serving_at) / 60.0 if dialect == "postgresql"
                       else (func.julianday(Ticket.done_at) - func.julianday(Ticket.serving_at)) * 1440.0)
            stmt = (select(Ticket.category_id, func.avg(minutes))
                    .where(Ticket.hall_id == bindparam("hall"), Ticket.state == TicketState.DONE.value,
                           Ticket.done_at >= bindparam("since", type_=Ticket.done_at.type),
                           Ticket.serving_at.is_not(None))
                    .group_by(Ticket.category_id))
            return stmt.where(Ticket.category_id == bindparam("cat")) if one else stmt
        return statement

    params: dict[str, Any] = {"hall": hall_id, "since": since}
    if category is not None:
        params["cat"] = category.id
    stmt = _dialect_statement(session, "service_minutes_one" if category is not None else "service_minutes",
                              build(category is not None))
    history = {categories[cid].code: float(avg) for cid, avg in session.execute(stmt, params) if avg is not None}
    return {c.code: history.get(c.code) or float(defaults.get(c.code, DEFAULT_SERVICE_MIN))
            for c in categories.values()}


def _queued(session: Session, *, hall_id: int, day: dt.date) -> list[Ticket]:
    return list(session.scalars(select(Ticket).where(Ticket.hall_id == hall_id, Ticket.day == day,
                                                     Ticket.state.in_([s.value for s in QUEUED_STATES]))
                                .order_by(Ticket.queued_at, Ticket.id)))


def _ready_window(session: Session, actor: Actor, window_id: int) -> Window:
    window = _my_window(session, actor, window_id)
    if window.status == WindowStatus.PAUSED.value:
        raise Conflict(f"{window.label}已暂停服务，请先恢复", code="window_paused", field="window_id")
    if current_ticket(session, window.id) is not None:
        raise Conflict("当前号票尚未办结，请先办结、过号或转移", code="ticket_at_window", field="window_id")
    return window


def _call(session: Session, *, clock: Clock, actor: Actor, window: Window, ticket: Ticket, action: str,
          extra: dict[str, Any] | None = None) -> Ticket:
    now = clock.now()
    _apply(session, clock=clock, actor=actor, ticket=ticket, window=window,
           verb=lambda t: states.call_ticket(t, at=now, window=window.label), action=action,
           event_type="ticket.called", extra=extra)
    ticket.window = window
    ticket.window_id = window.id
    ticket.clerk_id = actor.id
    ticket.called_at = ticket.called_at or now
    ticket.last_called_at = now
    window.status = WindowStatus.SERVING.value
    session.flush()
    return ticket


def call_next(session: Session, *, clock: Clock, actor: Actor, window_id: int) -> Ticket | None:
    """Call the ticket the hall's routing policy picks for this window; None when nothing it may serve waits.

    The window's row is locked first (``_my_window``: a window calling twice at once calls once). The pick is made
    from the waiting tickets as committed, and the picked ticket's row is then locked only if it still waits in
    the same line and no other transaction holds it (``SKIP LOCKED``: another window calling it, the applicant
    cancelling it); else the policy picks again without it. So the windows of a hall never wait for each other,
    and a call holds no lock while it waits for the audit chain's head but its window's and its ticket's. A
    ticket whose row another transaction holds at that moment (a cancel of it, a clerk's change to it) is passed
    over: the next one is called, or none if it was the only one (the clerk calls again)."""
    window = _ready_window(session, actor, window_id)
    queued = _queued(session, hall_id=window.hall_id, day=today(clock))
    if not queued:
        return None
    line = _Line.read(session, clock=clock, window=window)
    now = clock.now()
    while (picked := line.pick(queued, now)) is not None:
        if _lock_waiting(session, picked):
            return _call(session, clock=clock, actor=actor, window=window, ticket=picked, action="call_next",
                         extra={"policy": line.policy.name})
        queued = [t for t in queued if t.id != picked.id]
    return None


def _lock_waiting(session: Session, ticket: Ticket) -> bool:
    """Lock the ticket's row if it still waits in the line it was picked from and no other transaction holds it;
    False (at once, without waiting) if not."""
    return session.scalar(select(Ticket.id).where(Ticket.id == ticket.id, Ticket.state.in_(_QUEUED),
                                                  Ticket.category_id == ticket.category_id)
                          .with_for_update(skip_locked=True, key_share=True)) is not None


@dataclass(frozen=True)
class _Line:
    """What a window's pick needs besides the waiting tickets: the hall's policy, the window's view, the categories
    and their expected service times (read once a call, also for a pick made again without a ticket passed over)."""

    policy: routing.RoutingPolicy
    view: routing.WindowView
    categories: dict[int, HallCategory]
    expected: dict[str, float]

    @classmethod
    def read(cls, session: Session, *, clock: Clock, window: Window) -> _Line:
        settings = hall_settings(session, window.hall_id)
        return cls(routing.make_policy(settings.routing_policy, settings.policy_params),
                   window_view(session, window), _categories(session),
                   expected_service_minutes(session, clock=clock, hall_id=window.hall_id))

    def pick(self, queued: list[Ticket], now: dt.datetime) -> Ticket | None:
        """The ticket the policy picks from these waiting tickets (``_queued``), or None."""
        by_key = {str(t.id): t for t in queued}
        waiting = [routing.WaitingTicket(
            key=str(t.id), category=self.categories[t.category_id].code, queued_at=routing.to_minutes(t.queued_at),
            expected_service_min=self.expected.get(self.categories[t.category_id].code, DEFAULT_SERVICE_MIN),
            ticket_class=TicketClass(t.ticket_class),
            appointment_at=routing.to_minutes(t.appointment_at) if t.appointment_at else None,
            item_code=t.item_code or "") for t in queued]
        picked = self.policy.pick(self.view, waiting, routing.to_minutes(now)) if waiting else None
        return by_key[picked.key] if picked is not None else None


def call_specific(session: Session, *, clock: Clock, actor: Actor, window_id: int, ticket_id: int,
                  reason: str) -> Ticket:
    """Call a chosen ticket out of policy order (特呼); an exception, so a reason is required and logged."""
    reason = (reason or "").strip()
    if len(reason) < 2:
        raise ValidationFailed([Problem("reason", "reason_required", "指定呼叫须填写原因")])
    window = _ready_window(session, actor, window_id)
    ticket = get_ticket(session, ticket_id)
    if ticket.hall_id != window.hall_id:
        raise NotFound("号票", str(ticket_id), "ticket_id")
    if ticket.category.code not in window_view(session, window).skills:
        raise PermissionDenied(f"{window.label}不能办理{ticket.category.name}业务", code="not_qualified")
    return _call(session, clock=clock, actor=actor, window=window, ticket=ticket, action="call_specific",
                 extra={"reason": reason[:200]})


def _ticket_at(session: Session, actor: Actor, window_id: int, ticket_id: int) -> tuple[Window, Ticket]:
    window = _my_window(session, actor, window_id)
    ticket = get_ticket(session, ticket_id)
    if ticket.hall_id != window.hall_id:
        raise NotFound("号票", str(ticket_id), "ticket_id")
    if ticket.window_id != window.id and ticket.state in AT_WINDOW_STATES:
        raise Conflict(f"号票{ticket.number}不在{window.label}", code="ticket_elsewhere", field="ticket_id")
    return window, ticket


def _free(session: Session, window: Window) -> None:
    if window.status == WindowStatus.SERVING.value and current_ticket(session, window.id) is None:
        window.status = WindowStatus.IDLE.value
    session.flush()


def recall(session: Session, *, clock: Clock, actor: Actor, window_id: int, ticket_id: int) -> Ticket:
    """Call the ticket again (重呼); past the hall's calls limit it becomes 过号."""
    window, ticket = _ticket_at(session, actor, window_id, ticket_id)
    max_calls = hall_settings(session, window.hall_id).max_calls
    now = clock.now()
    new_state = _pure(ticket)
    missed = new_state.state is TicketState.CALLED and new_state.calls >= max_calls
    _apply(session, clock=clock, actor=actor, ticket=ticket, window=window,
           verb=lambda t: states.recall_ticket(t, at=now, max_calls=max_calls), action="missed" if missed else "recall",
           event_type="ticket.missed" if missed else "ticket.recalled")
    if not missed:
        ticket.last_called_at = now
    _free(session, window)
    return ticket


def start_serving(session: Session, *, clock: Clock, actor: Actor, window_id: int, ticket_id: int) -> Ticket:
    """The applicant is at the window: service begins."""
    window, ticket = _ticket_at(session, actor, window_id, ticket_id)
    now = clock.now()
    _apply(session, clock=clock, actor=actor, ticket=ticket, window=window,
           verb=lambda t: states.start_serving(t, at=now), action="serve", event_type="ticket.serving")
    ticket.serving_at = now
    ticket.clerk_id = actor.id
    session.flush()
    return ticket


def finish(session: Session, *, clock: Clock, actor: Actor, window_id: int, ticket_id: int) -> Ticket:
    """Service is finished (办结)."""
    window, ticket = _ticket_at(session, actor, window_id, ticket_id)
    now = clock.now()
    _apply(session, clock=clock, actor=actor, ticket=ticket, window=window,
           verb=lambda t: states.finish_ticket(t, at=now), action="finish", event_type="ticket.done")
    ticket.done_at = now
    _free(session, window)
    return ticket


def mark_missed(session: Session, *, clock: Clock, actor: Actor, window_id: int, ticket_id: int) -> Ticket:
    """The called applicant did not come (过号); the ticket may be re-queued once with :func:`requeue`."""
    window, ticket = _ticket_at(session, actor, window_id, ticket_id)
    now = clock.now()
    _apply(session, clock=clock, actor=actor, ticket=ticket, window=window,
           verb=lambda t: states.mark_missed(t, at=now), action="missed", event_type="ticket.missed")
    _free(session, window)
    return ticket


def requeue(session: Session, *, clock: Clock, actor: Actor, window_id: int, ticket_id: int) -> Ticket:
    """A missed applicant came back: the ticket goes to the back of the line, once (过号重排)."""
    window = _my_window(session, actor, window_id)
    ticket = get_ticket(session, ticket_id)
    if ticket.hall_id != window.hall_id:
        raise NotFound("号票", str(ticket_id), "ticket_id")
    if ticket.day != today(clock):
        raise Conflict("只能重排当天的号票", code="ticket_not_today", field="ticket_id")
    now = clock.now()
    _apply(session, clock=clock, actor=actor, ticket=ticket, window=window,
           verb=lambda t: states.requeue_missed(t, at=now), action="requeue", event_type="ticket.requeued")
    ticket.window_id = None
    session.flush()
    return ticket


def transfer(session: Session, *, clock: Clock, actor: Actor, window_id: int, ticket_id: int,
             to_category: str) -> Ticket:
    """Send the ticket to another category's queue; its place follows the hall's transfer setting."""
    window, ticket = _ticket_at(session, actor, window_id, ticket_id)
    target = category_by_code(session, to_category) if to_category else None
    keep_time = hall_settings(session, window.hall_id).transfer_keep_time
    now = clock.now()
    _apply(session, clock=clock, actor=actor, ticket=ticket, window=window,
           verb=lambda t: states.transfer_ticket(t, at=now, to_category=target.code if target else "",
                                                 keep_time=keep_time),
           action="transfer", event_type="ticket.transferred", extra={"keep_time": keep_time})
    ticket.window_id = None
    _free(session, window)
    return ticket


def cancel(session: Session, *, clock: Clock, actor: Actor, ticket_id: int, window_id: int | None = None,
           reason: str = "") -> Ticket:
    """Withdraw a ticket before service (取消); at a window the clerk must be signed in there."""
    window: Window | None = None
    if window_id is not None:
        window, ticket = _ticket_at(session, actor, window_id, ticket_id)
    else:
        ticket = get_ticket(session, ticket_id)
    now = clock.now()
    _apply(session, clock=clock, actor=actor, ticket=ticket, window=window,
           verb=lambda t: states.cancel_ticket(t, at=now, reason=reason[:200]), action="cancel",
           event_type="ticket.cancelled")
    if window is not None:
        _free(session, window)
    return ticket


def cancel_by_token(session: Session, *, clock: Clock, token: str) -> Ticket:
    """The applicant withdraws their own ticket with its token."""
    ticket = ticket_by_token(session, token)
    return cancel(session, clock=clock, actor=audit.Actor(None, "applicant"), ticket_id=ticket.id, reason="申请人取消")


def link_case(session: Session, *, clock: Clock, actor: Actor, window_id: int, ticket_id: int,
              case_number: str) -> TicketCase:
    """Record that a case was handled under this ticket (one visit, 跑动次数); idempotent."""
    case_number = (case_number or "").strip()
    if not case_number or len(case_number) > 40:
        raise ValidationFailed([Problem("case_number", "case_number_invalid", "请填写办件编号（不超过 40 个字符）")])
    window, ticket = _ticket_at(session, actor, window_id, ticket_id)
    if ticket.window_id != window.id or ticket.state not in (TicketState.SERVING.value, TicketState.DONE.value):
        raise Conflict("只能为本窗口正在办理或已办结的号票关联办件", code="ticket_not_served", field="ticket_id")
    existing = session.scalars(select(TicketCase).where(TicketCase.ticket_id == ticket.id,
                                                        TicketCase.case_number == case_number)).first()
    if existing is not None:
        return existing
    link = TicketCase(ticket_id=ticket.id, case_number=case_number, linked_at=clock.now(), linked_by=actor.id)
    session.add(link)
    session.flush()
    audit.record(session, clock=clock, actor=actor, action="queue.ticket.link_case", entity_type="queue_ticket",
                 entity_id=ticket.id, before=None, after={"case_number": case_number, "number": ticket.number})
    return link


def cases_of_ticket(session: Session, ticket_id: int) -> list[str]:
    """Case numbers handled under a ticket."""
    return list(session.scalars(select(TicketCase.case_number).where(TicketCase.ticket_id == ticket_id)
                                .order_by(TicketCase.id)))


# ----- read models -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TicketStatus:
    """What an applicant may see of a ticket (no personal data)."""

    hall: str
    hall_name: str
    day: dt.date
    number: str
    category: str
    category_name: str
    ticket_class: str
    ticket_class_label: str
    state: str
    state_label: str
    issued_at: dt.datetime
    ahead: int | None
    estimated_wait_min: float | None
    window_number: int | None
    announcement: str | None


def _serving_skills(session: Session, hall_id: int) -> list[list[str]]:
    # the skills of the windows open now (plain values: no window, hall and clerk objects to build)
    return list(session.scalars(_SERVING_SKILLS, {"hall": hall_id}))


def ticket_status(session: Session, *, clock: Clock, ticket: Ticket) -> TicketStatus:
    """Position and a rough wait estimate: tickets ahead × mean service time ÷ windows that serve the category."""
    window_number = ticket.window.number if ticket.window and ticket.state in AT_WINDOW_STATES else None
    row = TicketRow(id=ticket.id, token=ticket.token,
                    hall=catalog_service.HallKey(ticket.hall.id, ticket.hall.code, ticket.hall.name),
                    category=CategoryKey(ticket.category.id, ticket.category.code, ticket.category.name),
                    day=ticket.day, number=ticket.number, ticket_class=ticket.ticket_class, state=ticket.state,
                    issued_at=ticket.issued_at, queued_at=ticket.queued_at, window_number=window_number)
    return status_of(session, clock=clock, row=row)


# A ticket's status read as plain values in one statement (the public status page polls it): no ORM ticket with
# its hall, category, window and clerk to build.
_ROW_COLUMNS = (select(Ticket.id, Ticket.token, Hall.id, Hall.code, Hall.name, HallCategory.id, HallCategory.code,
                       HallCategory.name, Ticket.day, Ticket.number, Ticket.ticket_class, Ticket.state,
                       Ticket.issued_at, Ticket.queued_at, Window.number)
                .join(Hall, Hall.id == Ticket.hall_id).join(HallCategory, HallCategory.id == Ticket.category_id)
                .outerjoin(Window, Window.id == Ticket.window_id))
_ROW_BY_TOKEN = _ROW_COLUMNS.where(Ticket.token == bindparam("token"))
_ROW_BY_NUMBER = _ROW_COLUMNS.where(Hall.code == bindparam("hall"), Ticket.day == bindparam("day"),
                                   Ticket.number == bindparam("number"))


def _ticket_row(values: Any) -> TicketRow:
    (ticket_id, token, hall_id, hall_code, hall_name, cat_id, cat_code, cat_name, day, number, ticket_class, state,
     issued_at, queued_at, window_number) = values
    return TicketRow(id=ticket_id, token=token, hall=catalog_service.HallKey(hall_id, hall_code, hall_name),
                     category=CategoryKey(cat_id, cat_code, cat_name), day=day, number=number,
                     ticket_class=ticket_class, state=state, issued_at=issued_at, queued_at=queued_at,
                     window_number=window_number if state in AT_WINDOW_STATES else None)


def status_by_token(session: Session, *, clock: Clock, token: str,
                    cache: QueueCache | None = None) -> TicketStatus:
    """:func:`ticket_status` of the ticket with this token (404 without one), read as plain values."""
    values = session.connection().execute(_ROW_BY_TOKEN, {"token": token}).first()
    if values is None:
        raise _no_ticket_with_token()
    return status_of(session, clock=clock, row=_ticket_row(values), cache=cache)


def status_by_number(session: Session, *, clock: Clock, hall_code: str, number: str, day: dt.date,
                     cache: QueueCache | None = None) -> TicketStatus:
    """:func:`ticket_status` of a ticket by hall, number and day (404 for an unknown hall or ticket)."""
    values = session.connection().execute(_ROW_BY_NUMBER, {"hall": hall_code, "day": day,
                                                           "number": number.strip().upper()}).first()
    if values is None:
        catalog_service.hall_key(session, hall_code)  # 404 naming the hall when it is the hall that is unknown
        raise _no_ticket_numbered(number, day)
    return status_of(session, clock=clock, row=_ticket_row(values), cache=cache)


class QueueCache:
    """What the public queue calls read and seldom changes, kept per process (worker) for ``seconds``
    (``queue_cache_seconds``; 0: read each time): halls and categories by code, and per hall what a wait estimate
    needs besides its line (the open windows' skills, each category's mean service time). Every ticket taken and
    every status poll needs them, and halls, categories, open windows and means change far slower than that. What
    is not found is not kept (the 404 or 422 comes each time); a read older than the one kept never replaces it."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._kept: dict[tuple[Any, ...], tuple[float, Any]] = {}

    def _get(self, key: tuple[Any, ...], read: Callable[[], T]) -> T:
        now = time.monotonic()
        kept = self._kept.get(key)
        if kept is not None and now - kept[0] < self.seconds:
            return cast(T, kept[1])
        value = read()
        kept = self._kept.get(key)
        if self.seconds > 0 and (kept is None or kept[0] < now):
            self._kept[key] = (now, value)
        return value

    def hall(self, session: Session, code: str) -> catalog_service.HallKey:
        """:func:`catalog_service.hall_key`."""
        return self._get(("hall", code), lambda: catalog_service.hall_key(session, code))

    def category(self, session: Session, code: str) -> CategoryKey:
        """:func:`category_key`."""
        return self._get(("category", code), lambda: category_key(session, code))

    def estimate_inputs(self, session: Session, *, clock: Clock,
                        hall_id: int) -> tuple[list[list[str]], dict[str, float]]:
        """The hall's open windows' skills and its means of service time per category code."""
        return self._get(("estimate", hall_id), lambda: (_serving_skills(session, hall_id),
                                                        expected_service_minutes(session, clock=clock,
                                                                                 hall_id=hall_id)))


def status_of(session: Session, *, clock: Clock, row: TicketRow, hold: bool = False, ahead: int | None = None,
              cache: QueueCache | None = None) -> TicketStatus:
    """:func:`ticket_status` of a ticket's plain values (a ticket just taken: :func:`issue`). ``ahead``: its place,
    when known (a ticket taken with ``count_ahead``); else the line is counted. ``cache``: the hall's skills and
    means from there. ``hold``: in a transaction that only takes tickets (a group commit's), the open windows'
    skills and the means of service time are read once, as the tickets it takes move neither, and a line is counted
    once: a ticket taken behind the transaction's previous one of its line has one more ahead of it."""
    code = row.category.code
    if row.state not in _QUEUED:
        return bare_status(row)
    held = _held(session) if hold and (ahead is None or cache is None) else {}
    if ahead is None:
        line = ("line", row.hall.id, row.day, row.category.id)
        last: tuple[int, dt.datetime, int] | None = held.get(line)
        if last is not None and row.id > last[0] and row.queued_at >= last[1]:
            ahead = last[2] + 1  # taken behind the transaction's previous ticket of the line: one more ahead
        else:  # counting the line costs as much as it is long: once a transaction and line when holding
            params = {"hall": row.hall.id, "day": row.day, "cat": row.category.id, "queued": row.queued_at,
                      "id": row.id}
            ahead = (session.connection().execute(_AHEAD, params).scalar() if hold
                     else session.scalar(_AHEAD, params)) or 0
        held[line] = (row.id, row.queued_at, ahead)
    if cache is not None:
        skills, means = cache.estimate_inputs(session, clock=clock, hall_id=row.hall.id)
    else:
        cached: list[list[str]] | None = held.get(("skills", row.hall.id))
        skills = cached if cached is not None else held.setdefault(("skills", row.hall.id),
                                                                   _serving_skills(session, row.hall.id))
        if hold:  # every category's mean in one query a transaction
            kept: dict[str, float] | None = held.get(("means", row.hall.id))
            means = kept if kept is not None else held.setdefault(
                ("means", row.hall.id), expected_service_minutes(session, clock=clock, hall_id=row.hall.id))
        else:
            means = expected_service_minutes(session, clock=clock, hall_id=row.hall.id, category=row.category)
    servers = sum(1 for window_skills in skills if code in window_skills) or 1
    estimate = round(ahead * means.get(code, DEFAULT_SERVICE_MIN) / servers, 1)
    return bare_status(row, ahead=ahead, estimate=estimate)


def bare_status(row: TicketRow, *, ahead: int | None = None, estimate: float | None = None) -> TicketStatus:
    """A ticket's status from its values alone (the place in the line as given: unknown by default)."""
    cls = TicketClass(row.ticket_class)
    state = TicketState(row.state)
    return TicketStatus(hall=row.hall.code, hall_name=row.hall.name, day=row.day, number=row.number,
                        category=row.category.code, category_name=row.category.name, ticket_class=cls.value,
                        ticket_class_label=cls.label, state=state.value, state_label=state.label,
                        issued_at=row.issued_at, ahead=ahead, estimated_wait_min=estimate,
                        window_number=row.window_number,
                        announcement=announcement(row.number, row.window_number) if row.window_number else None)


@dataclass(frozen=True)
class TicketLine:
    """A ticket as lists show it (personal data masked)."""

    id: int
    number: str
    category: str
    ticket_class: str
    state: str
    state_label: str
    issued_at: dt.datetime
    queued_at: dt.datetime
    calls: int
    requeued: bool
    window_number: int | None
    id_number: str
    phone: str
    item_code: str | None


def ticket_line(ticket: Ticket) -> TicketLine:
    """The masked list view of a ticket."""
    return TicketLine(id=ticket.id, number=ticket.number, category=ticket.category.code,
                      ticket_class=ticket.ticket_class, state=ticket.state,
                      state_label=TicketState(ticket.state).label, issued_at=ticket.issued_at,
                      queued_at=ticket.queued_at, calls=ticket.calls, requeued=ticket.requeued,
                      window_number=ticket.window.number if ticket.window else None,
                      id_number=ticket.id_number or "", phone=ticket.phone or "",  # masked at the edge
                      item_code=ticket.item_code)


@dataclass(frozen=True)
class WindowState:
    """A window on the hall display and the workbench."""

    id: int
    number: int
    label: str
    kind: str
    kind_label: str
    skills: list[str]
    home: list[str]
    flexible: bool
    status: str
    status_label: str
    clerk: str | None
    current: TicketLine | None


def window_state(session: Session, window: Window) -> WindowState:
    """The display view of one window with its current ticket."""
    return _window_state(window, current_ticket(session, window.id))


def _window_state(window: Window, current: Ticket | None) -> WindowState:
    kind = routing.WindowKind(window.kind)
    status = WindowStatus(window.status)
    return WindowState(id=window.id, number=window.number, label=window.label, kind=kind.value, kind_label=kind.label,
                       skills=list(window.skills), home=list(window.home), flexible=window.flexible,
                       status=status.value, status_label=status.label,
                       clerk=window.clerk.display_name if window.clerk else None,
                       current=ticket_line(current) if current else None)


@dataclass(frozen=True)
class CategoryQueue:
    """Waiting line of one category."""

    code: str
    name: str
    waiting: int
    oldest_wait_min: float | None


@dataclass(frozen=True)
class RecentCall:
    """A recent call, for the display's list."""

    number: str
    window_number: int
    at: dt.datetime
    announcement: str


@dataclass(frozen=True)
class HallQueueState:
    """The live state of a hall's queue (display, workbench, API)."""

    hall: str
    hall_name: str
    day: dt.date
    now: dt.datetime
    routing_policy: str
    routing_policy_label: str
    categories: list[CategoryQueue]
    windows: list[WindowState]
    recent_calls: list[RecentCall]
    waiting_total: int


# The hall state's statements, built once (the display and the API poll it): plain columns, no ORM objects.
_HALL_HEAD = (select(Hall.id, Hall.code, Hall.name, HallQueueSettings.routing_policy)
              .outerjoin(HallQueueSettings, HallQueueSettings.hall_id == Hall.id).where(Hall.code == bindparam("code")))
_CATEGORY_ROWS = select(HallCategory.id, HallCategory.code, HallCategory.name).order_by(HallCategory.code)
# counted in the database from ix_queue_ticket_line alone (the line may be thousands long; the display wants a
# count and the oldest per category); the category named through IN lets SQLite seek each category's queued
# entries instead of stepping over every ticket of the day (most of them done by the afternoon)
_WAITING = (select(Ticket.category_id, func.count(), func.min(Ticket.issued_at))
            .where(Ticket.hall_id == bindparam("hall"), Ticket.day == bindparam("day"),
                   Ticket.category_id.in_(select(HallCategory.id)),
                   or_(*(Ticket.state == state for state in _QUEUED)))
            .group_by(Ticket.category_id))
_WINDOW_ROWS = (select(Window.id, Window.number, Window.kind, Window.skills, Window.home, Window.flexible,
                       Window.status, User.display_name)
                .outerjoin(User, User.id == Window.clerk_id)
                .where(Window.hall_id == bindparam("hall")).order_by(Window.number))
# ``current_ticket`` of every window of the hall: the newest ticket called to or served at each
_CURRENT_ROWS = (select(Ticket.window_id, Ticket.id, Ticket.number, HallCategory.code, Ticket.ticket_class,
                        Ticket.state, Ticket.issued_at, Ticket.queued_at, Ticket.calls, Ticket.requeued, Window.number,
                        Ticket.id_number, Ticket.phone, Ticket.item_code)
                 .join(HallCategory, HallCategory.id == Ticket.category_id)
                 .join(Window, Window.id == Ticket.window_id)
                 .where(Ticket.id.in_(select(func.max(Ticket.id)).join(Window, Window.id == Ticket.window_id)
                                      .where(Window.hall_id == bindparam("hall"),
                                             or_(*(Ticket.state == state for state in AT_WINDOW_STATES)))
                                      .group_by(Ticket.window_id))))
_RECENT_CALLS = (select(Ticket.number, Window.number, TicketEvent.at)
                 .join(Ticket, Ticket.id == TicketEvent.ticket_id).join(Window, Window.id == TicketEvent.window_id)
                 .where(TicketEvent.hall_id == bindparam("hall"), TicketEvent.to_state == TicketState.CALLED.value,
                        TicketEvent.at >= bindparam("start", type_=TicketEvent.at.type),
                        TicketEvent.at < bindparam("end", type_=TicketEvent.at.type))
                 .order_by(TicketEvent.at.desc(), TicketEvent.id.desc()).limit(bindparam("n")))


def _line_of_row(row: Any) -> TicketLine:
    """``ticket_line`` of a row of ``_CURRENT_ROWS``."""
    (_window_id, ticket_id, number, code, ticket_class, state, issued_at, queued_at, calls, requeued, window_number,
     id_number, phone, item_code) = row
    return TicketLine(id=ticket_id, number=number, category=code, ticket_class=ticket_class, state=state,
                      state_label=TicketState(state).label, issued_at=issued_at, queued_at=queued_at, calls=calls,
                      requeued=requeued, window_number=window_number, id_number=id_number or "", phone=phone or "",
                      item_code=item_code)


def hall_queue_state(session: Session, *, clock: Clock, hall_code: str, recent: int = 8) -> HallQueueState:
    """Waiting per category, windows with their current tickets and the latest calls of today."""
    conn = session.connection()  # plain rows: a handful of cheap statements, no ORM objects to build
    head = conn.execute(_HALL_HEAD, {"code": hall_code}).first()
    if head is None:
        raise NotFound("大厅", hall_code, "code")
    hall_id, code, name, policy = head
    policy = policy or DEFAULT_ROUTING_POLICY  # a hall whose settings were never written: the defaults
    day = today(clock)
    now = clock.now()
    waiting = {cid: (n, oldest) for cid, n, oldest in conn.execute(_WAITING, {"hall": hall_id, "day": day})}
    lines: list[CategoryQueue] = []
    for cid, cat_code, cat_name in conn.execute(_CATEGORY_ROWS):
        count, oldest = waiting.get(cid, (0, None))
        if oldest is not None and oldest.tzinfo is None:  # SQLite gives an aggregate's timestamp without its zone
            oldest = oldest.replace(tzinfo=dt.UTC)
        lines.append(CategoryQueue(cat_code, cat_name, count,
                                   round((now - oldest).total_seconds() / 60, 1) if oldest else None))
    at_windows = {row[0]: _line_of_row(row) for row in conn.execute(_CURRENT_ROWS, {"hall": hall_id})}
    windows: list[WindowState] = []
    for wid, number, kind_value, skills, home, flexible, status_value, clerk in conn.execute(_WINDOW_ROWS,
                                                                                           {"hall": hall_id}):
        kind = routing.WindowKind(kind_value)
        status = WindowStatus(status_value)
        windows.append(WindowState(id=wid, number=number, label=window_label(number), kind=kind.value,
                                   kind_label=kind.label, skills=list(skills), home=list(home), flexible=flexible,
                                   status=status.value, status_label=status.label, clerk=clerk,
                                   current=at_windows.get(wid)))
    calls: list[RecentCall] = []
    if recent > 0:
        day_start = dt.datetime.combine(day, dt.time(0), tzinfo=CHINA_TZ)
        calls = [RecentCall(number, wnum, at, announcement(number, wnum)) for number, wnum, at in conn.execute(
            _RECENT_CALLS, {"hall": hall_id, "start": day_start, "end": day_start + dt.timedelta(days=1),
                            "n": recent})]
    return HallQueueState(hall=code, hall_name=name, day=day, now=now, routing_policy=policy,
                          routing_policy_label=routing.POLICY_LABELS.get(policy, policy),
                          categories=lines, windows=windows, recent_calls=calls,
                          waiting_total=sum(n for n, _oldest in waiting.values()))


def waiting_tickets(session: Session, *, clock: Clock, hall_code: str) -> list[TicketLine]:
    """Today's queued tickets of a hall in line order (masked; for the workbench's 特呼 list)."""
    hall = catalog_service.hall_by_code(session, hall_code)
    return [ticket_line(t) for t in _queued(session, hall_id=hall.id, day=today(clock))]


def windows_for_clerk(session: Session, *, user_id: int, hall_id: int) -> list[Window]:
    """The hall's windows a staff member is qualified to sign into."""
    qualified = qualified_categories(session, user_id)
    return [w for w in session.scalars(select(Window).where(Window.hall_id == hall_id).order_by(Window.number))
            if may_sign_in(w, qualified)]


def window_of_clerk(session: Session, user_id: int) -> Window | None:
    """The window a staff member is signed into, if any."""
    return session.scalars(select(Window).where(Window.clerk_id == user_id,
                                                Window.status != WindowStatus.OFFLINE.value)).first()


# ----- metrics ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HallMetrics:
    """Queue metrics of a hall for a day range, with labels for windows and clerks."""

    hall: str
    start_date: dt.date
    end_date: dt.date
    overtime_wait_min: int
    figures: metrics.QueueMetrics
    window_labels: dict[int, str]
    clerk_labels: dict[int, str]

    def as_dict(self) -> dict[str, Any]:
        """JSON shape for the API."""
        f = self.figures
        return {
            "hall": self.hall, "start_date": self.start_date.isoformat(), "end_date": self.end_date.isoformat(),
            "overtime_wait_min": self.overtime_wait_min, "hall_figures": f.hall.as_dict(),
            "by_category": {k: v.as_dict() for k, v in f.by_category.items()},
            "by_window": [{"window_id": k, "window": self.window_labels.get(k, str(k))} | v.as_dict()
                          for k, v in f.by_window.items()],
            "by_clerk": [{"user_id": k, "clerk": self.clerk_labels.get(k, str(k))} | v.as_dict()
                         for k, v in f.by_clerk.items()],
        }


def queue_metrics(session: Session, *, clock: Clock, hall_code: str, start_date: dt.date | None = None,
                  end_date: dt.date | None = None) -> HallMetrics:
    """Metrics of the hall over ``[start_date, end_date]`` (local days; today by default)."""
    hall = catalog_service.hall_by_code(session, hall_code)
    start_date = start_date or today(clock)
    end_date = end_date or start_date
    if end_date < start_date:
        raise ValidationFailed([Problem("end_date", "bad_range", "结束日期不能早于开始日期")])
    if (end_date - start_date).days > 366:
        raise ValidationFailed([Problem("end_date", "range_too_long", "统计区间不能超过一年")])
    start = dt.datetime.combine(start_date, dt.time(0), tzinfo=CHINA_TZ)
    end = dt.datetime.combine(end_date + dt.timedelta(days=1), dt.time(0), tzinfo=CHINA_TZ)
    settings = hall_settings(session, hall.id)
    categories = _categories(session)
    tickets = list(session.scalars(select(Ticket).where(Ticket.hall_id == hall.id, Ticket.day >= start_date,
                                                        Ticket.day <= end_date)))
    ev_rows = session.execute(
        select(TicketEvent.ticket_id, TicketEvent.to_state, TicketEvent.from_state, TicketEvent.at,
               TicketEvent.window_id, TicketEvent.user_id, Ticket.category_id)
        .join(Ticket, Ticket.id == TicketEvent.ticket_id)
        .where(TicketEvent.hall_id == hall.id, TicketEvent.at >= start, TicketEvent.at < end,
               TicketEvent.to_state.in_([TicketState.CALLED.value, TicketState.MISSED.value]))
        .order_by(TicketEvent.at, TicketEvent.id)).all()
    first_call: dict[int, tuple[int | None, int | None]] = {}
    ev_records: list[metrics.EventRecord] = []
    for ticket_id, to_state, from_state, at, window_id, user_id, category_id in ev_rows:
        if to_state == TicketState.CALLED.value and ticket_id not in first_call:
            first_call[ticket_id] = (window_id, user_id)
        ev_records.append(metrics.EventRecord(TicketState(to_state), categories[category_id].code, at, window_id,
                                              user_id, recall=from_state == TicketState.CALLED.value))
    records = [metrics.TicketRecord(
        category=categories[t.category_id].code, state=TicketState(t.state), issued_at=t.issued_at,
        called_at=t.called_at, serving_at=t.serving_at, done_at=t.done_at,
        first_window=first_call.get(t.id, (t.window_id, t.clerk_id))[0],
        first_clerk=first_call.get(t.id, (t.window_id, t.clerk_id))[1],
        window=t.window_id, clerk=t.clerk_id) for t in tickets]
    figures = metrics.compute(records, ev_records, now=clock.now(), overtime_min=settings.overtime_wait_min,
                              start=start, end=end)
    windows = {w.id: w.label for w in session.scalars(select(Window).where(Window.hall_id == hall.id))}
    clerk_ids = list(figures.by_clerk)
    clerks = {u.id: u.display_name for u in session.scalars(select(User).where(User.id.in_(clerk_ids)))} \
        if clerk_ids else {}
    return HallMetrics(hall=hall.code, start_date=start_date, end_date=end_date,
                       overtime_wait_min=settings.overtime_wait_min, figures=figures, window_labels=windows,
                       clerk_labels=clerks)


def halls_serving(session: Session, category: str) -> list[Hall]:
    """Halls where some window serves a hall category (one query over the windows)."""
    hall_ids = {hall_id for hall_id, skills in session.execute(select(Window.hall_id, Window.skills))
                if category in (skills or [])}
    return [h for h in catalog_service.list_halls(session) if h.id in hall_ids]


@dataclass(frozen=True)
class KioskHours:
    """Whether a hall's kiosk issues tickets now, and when it next does."""

    takes_tickets: bool
    next_opening: dt.datetime | None


def kiosk_hours(session: Session, *, clock: Clock, hall: Hall, default_hours: str) -> KioskHours:
    """The 7×24 rule for a hall now (its opening hours on the holiday calendar)."""
    calendar = calendar_service.build_calendar(session)
    now = clock.now()
    open_now = opening.takes_tickets(hall.opening_hours, now, workday=calendar.is_workday(today(clock)),
                                     default=default_hours)
    return KioskHours(open_now, None if open_now else opening.next_opening(
        hall.opening_hours, now, is_workday=calendar.is_workday, default=default_hours))
