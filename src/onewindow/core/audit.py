"""Append-only, hash-chained audit log: who did what, when, with the before and after."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import JSON, BigInteger, Integer, String, Table, bindparam, event, insert, select, update
from sqlalchemy.orm import Mapped, Session, SessionTransaction, mapped_column

from onewindow.core.clock import Clock
from onewindow.db import AwareDateTime, Base, rows_insert, rows_params

GENESIS_HASH = "0" * 64


class AuditEntry(Base):
    """One audited change. Rows are never updated or deleted (database triggers refuse it)."""

    __tablename__ = "audit_entry"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(AwareDateTime(), index=True)
    actor_id: Mapped[int | None] = mapped_column(Integer, index=True)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(80), index=True)
    entity_type: Mapped[str] = mapped_column(String(60))
    entity_id: Mapped[str] = mapped_column(String(120))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditHead(Base):
    """A single row holding the chain's tip; locking it serialises appends on PostgreSQL."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_hash: Mapped[str] = mapped_column(String(64))


@dataclass(frozen=True)
class Actor:
    """Who performed a change: a staff user, the system, or a CLI operator."""

    id: int | None
    label: str


SYSTEM = Actor(None, "system")


def _json_default(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)


def canonical(value: Any) -> Any:
    """A JSON-safe copy with stable key order (what is hashed is exactly what is stored)."""
    if value is None:
        return None
    return json.loads(json.dumps(value, sort_keys=True, ensure_ascii=False, default=_json_default))


def entry_hash(prev_hash: str, at: dt.datetime, actor_id: int | None, actor: str, action: str,
               entity_type: str, entity_id: str, before: Any, after: Any) -> str:
    """SHA-256 over the previous hash and this entry's fields."""
    payload = json.dumps(
        [prev_hash, at.astimezone(dt.UTC).isoformat(timespec="microseconds"), actor_id, actor, action,
         entity_type, entity_id, before, after],
        sort_keys=True, ensure_ascii=False, separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Recorded:
    """An entry just appended: its id and hash."""

    id: int
    hash: str


# Built once: the chain is appended to on every audited change (several times a second in a busy hall), and
# building a statement costs more than running it on SQLite. Core statements, not ORM objects: an entry is
# written once and never read back in the transaction that writes it.
_ENTRY_TABLE = cast(Table, AuditEntry.__table__)
_HEAD_TABLE = cast(Table, AuditHead.__table__)
_INSERT_ENTRY = insert(_ENTRY_TABLE)
# several rows: RETURNING has SQLAlchemy send them as one multi-row INSERT ("insertmanyvalues"); without it psycopg
# runs one INSERT a row (in a pipeline), each parsed, planned and executed by PostgreSQL on its own
_INSERT_ENTRIES = insert(_ENTRY_TABLE).returning(_ENTRY_TABLE.c.id, sort_by_parameter_order=True)  # ids in chain order
_LOCK_HEAD = select(_HEAD_TABLE.c.last_hash).where(_HEAD_TABLE.c.id == 1).with_for_update()
_INSERT_HEAD = insert(_HEAD_TABLE).values(id=1, last_hash=GENESIS_HASH)
_MOVE_HEAD = update(_HEAD_TABLE).where(_HEAD_TABLE.c.id == 1).values(last_hash=bindparam("tip"))


def record(session: Session, *, clock: Clock, actor: Actor, action: str, entity_type: str,
           entity_id: str | int, before: Any = None, after: Any = None) -> Recorded:
    """Append one entry to the chain inside the caller's transaction (the caller's pending changes are flushed
    first, so the entry follows what it describes)."""
    session.flush()
    row = _entry_row(locked_head(session), Change(at=clock.now(), actor=actor, action=action,
                                                  entity_type=entity_type, entity_id=entity_id, before=before,
                                                  after=after))
    result = session.connection().execute(_INSERT_ENTRY, row)
    session.info[_HEAD_KEY] = row["hash"]
    session.info[_MOVED_KEY] = True
    key = result.inserted_primary_key
    assert key is not None  # an INSERT of one row  # noqa: S101
    return Recorded(int(key[0]), row["hash"])


@dataclass(frozen=True)
class Change:
    """One change to append with others (:func:`record_many`): who did what to which entity, when."""

    at: dt.datetime
    actor: Actor
    action: str
    entity_type: str
    entity_id: str | int
    before: Any = None
    after: Any = None


def record_many(session: Session, changes: Sequence[Change]) -> None:
    """Append several entries, in the given order, with one multi-row statement (the entries are chained here,
    before the statement: no entry's hash needs its row id). For a batch of writes of one kind: the tickets of a
    group commit."""
    if not changes:
        return
    session.flush()
    rows = chain(locked_head(session), changes)
    session.connection().execute(_INSERT_ENTRIES, rows)
    appended(session, rows[-1]["hash"])


def chain(prev: str, changes: Sequence[Change]) -> list[dict[str, Any]]:
    """The column values of entries for ``changes``, chained in the given order after ``prev`` (the locked tip,
    :func:`locked_head`): the caller inserts them in this order (ids rising with it), as :func:`record_many` does,
    or within a statement of its own (``queue.service``'s tickets on PostgreSQL), then calls :func:`appended`."""
    rows: list[dict[str, Any]] = []
    for change in changes:
        rows.append(_entry_row(prev, change))
        prev = rows[-1]["hash"]
    return rows


def appended(session: Session, tip: str, *, head_written: bool = False) -> None:
    """The entries up to ``tip`` are in the chain (inserted in this transaction). ``head_written``: the statement
    that inserted them also moved the head row to it (:data:`PG_MOVE_HEAD`; never inside a savepoint, whose
    appends may still be rolled back), so the commit has nothing left to write."""
    session.info[_HEAD_KEY] = tip
    session.info[_MOVED_KEY] = not head_written


_ENTRY_COLUMNS = ("at", "actor_id", "actor", "action", "entity_type", "entity_id", "before", "after", "prev_hash",
                  "hash")
# PostgreSQL, parts of a caller's statement of several (data-modifying CTEs): the entries of :func:`chain` (ids rising
# in the array's order: the chain's), the head row moved to the last of them, and the head's lock
PG_INSERT_ENTRIES = rows_insert(_ENTRY_TABLE, _ENTRY_COLUMNS, "audit")
PG_MOVE_HEAD = "UPDATE audit_head SET last_hash = :audit_tip WHERE id = 1"
PG_LOCK_HEAD = "SELECT last_hash FROM audit_head WHERE id = 1 FOR UPDATE"


def pg_params(rows: Sequence[dict[str, Any]], tip: str) -> dict[str, Any]:
    """The parameters of :data:`PG_INSERT_ENTRIES` and :data:`PG_MOVE_HEAD`."""
    return rows_params(_ENTRY_TABLE, _ENTRY_COLUMNS, "audit", rows) | {"audit_tip": tip}


def _entry_row(prev: str, change: Change) -> dict[str, Any]:
    """The column values of an entry that follows ``prev`` in the chain, its hash among them."""
    # Microsecond precision survives both SQLite and PostgreSQL, so the hash can be recomputed.
    at = change.at.astimezone(dt.UTC)
    before, after = canonical(change.before), canonical(change.after)
    entity_id = str(change.entity_id)
    digest = entry_hash(prev, at, change.actor.id, change.actor.label, change.action, change.entity_type, entity_id,
                        before, after)
    return {"at": at, "actor_id": change.actor.id, "actor": change.actor.label, "action": change.action,
            "entity_type": change.entity_type, "entity_id": entity_id, "before": before, "after": after,
            "prev_hash": prev, "hash": digest}


# session.info: the chain's tip as this transaction has locked and moved it; whether the head row still has to be
# moved to it (once, when the transaction commits: the appends of a group commit's tickets write it once); the
# tip when each open savepoint began (a savepoint rolled back takes its appends with it, and the tip goes back)
_HEAD_KEY = "onewindow.audit.head"
_MOVED_KEY = "onewindow.audit.head_moved"
_SAVEPOINTS_KEY = "onewindow.audit.savepoints"


def locked_head(session: Session) -> str:
    """The chain's tip, its row locked for the rest of the transaction (``FOR UPDATE`` on PostgreSQL; on SQLite
    the writer holds the database's lock). Read once a transaction: the row cannot change under the lock, so the
    appends after the first one reuse the tip this session moved it to, and the row itself is written once, at
    commit. A writer that appends later in a long transaction may call it first, to take the lock early."""
    tip: str | None = session.info.get(_HEAD_KEY)
    if tip is not None:
        return tip
    return hold_head(session, session.connection().execute(_LOCK_HEAD).scalar_one_or_none())


def head_held(session: Session) -> bool:
    """Whether this transaction holds the chain's head (:func:`locked_head`, :func:`hold_head`)."""
    return session.info.get(_HEAD_KEY) is not None


def hold_head(session: Session, tip: str | None) -> str:
    """The chain's tip as a caller's own statement read it with the head row's lock (:data:`PG_LOCK_HEAD` within
    it: a round trip less while the head is held), now held as :func:`locked_head` holds it; None if there was
    no head row (the first append ever: it is inserted now)."""
    if tip is None:
        session.connection().execute(_INSERT_HEAD)
        tip = GENESIS_HASH
    session.info[_HEAD_KEY] = tip
    if not event.contains(session, "before_commit", _write_head):
        event.listen(session, "before_commit", _write_head)
        event.listen(session, "after_commit", _forget_head)
        event.listen(session, "after_rollback", _forget_head)
        event.listen(session, "after_transaction_create", _savepoint_begun)
        event.listen(session, "after_soft_rollback", _rolled_back)
    return tip


def _write_head(session: Session) -> None:
    """Move the head row to the tip (before the transaction commits; ``verify`` in the same transaction too)."""
    if session.in_nested_transaction() or not session.info.get(_MOVED_KEY):
        return
    session.connection().execute(_MOVE_HEAD, {"tip": session.info[_HEAD_KEY]})
    session.info[_MOVED_KEY] = False


def _forget_head(session: Session) -> None:
    if not session.in_nested_transaction():  # a savepoint released keeps the lock, the tip and the pending move
        for key in (_HEAD_KEY, _MOVED_KEY, _SAVEPOINTS_KEY):
            session.info.pop(key, None)


def _savepoint_begun(session: Session, transaction: SessionTransaction) -> None:
    if transaction.nested:
        tips: dict[SessionTransaction, tuple[str | None, bool]] = session.info.setdefault(_SAVEPOINTS_KEY, {})
        tips[transaction] = (session.info.get(_HEAD_KEY), bool(session.info.get(_MOVED_KEY)))


def _rolled_back(session: Session, previous: SessionTransaction) -> None:
    if previous.parent is None:  # the whole transaction is gone
        for key in (_HEAD_KEY, _MOVED_KEY, _SAVEPOINTS_KEY):
            session.info.pop(key, None)
        return
    # a savepoint rolled back: the tip goes back to where it was when the savepoint began; a savepoint begun
    # before this session first read the tip in this transaction leaves it unread (the row has not moved since)
    tip, moved = session.info.get(_SAVEPOINTS_KEY, {}).pop(previous, (None, False))
    if tip is None:
        session.info.pop(_HEAD_KEY, None)
        session.info.pop(_MOVED_KEY, None)
    else:
        session.info[_HEAD_KEY], session.info[_MOVED_KEY] = tip, moved


@dataclass(frozen=True)
class VerifyResult:
    """Outcome of walking the chain."""

    ok: bool
    checked: int
    broken_id: int | None = None
    reason: str = ""


def verify(session: Session, *, batch: int = 5000) -> VerifyResult:
    """Recompute every hash in order; report the first entry that does not match."""
    _write_head(session)  # appends of this very transaction: the row moves at commit
    prev = GENESIS_HASH
    checked = 0
    last_id = 0
    while True:
        rows = session.execute(
            select(AuditEntry).where(AuditEntry.id > last_id).order_by(AuditEntry.id).limit(batch)
        ).scalars().all()
        if not rows:
            break
        for e in rows:
            if e.prev_hash != prev:
                return VerifyResult(False, checked, e.id, "链接断开：上一条哈希不符（可能有记录被删除或插入）")
            expected = entry_hash(e.prev_hash, e.at, e.actor_id, e.actor, e.action, e.entity_type,
                                  e.entity_id, e.before, e.after)
            if expected != e.hash:
                return VerifyResult(False, checked, e.id, "内容被篡改：哈希与记录内容不符")
            prev = e.hash
            checked += 1
            last_id = e.id
        session.expunge_all()
    head = session.get(AuditHead, 1)
    if head is not None and head.last_hash != prev:
        return VerifyResult(False, checked, None, "链尾哈希不符：最后的记录可能被删除")
    return VerifyResult(True, checked)


PERSONAL_READ = "personal.read"


def record_read(session: Session, *, clock: Clock, actor: Actor, what: str, entity_type: str,
                entity_id: str | int, detail: dict[str, Any] | None = None) -> Recorded:
    """Audit a read of whole personal data (a certificate or entity lookup by ID number, a case page with the
    numbers shown whole, an uploaded file): who looked at whose data, and through what (``what``). The caller
    passes identifiers masked; the entry is written in the request's transaction like any change."""
    return record(session, clock=clock, actor=actor, action=PERSONAL_READ, entity_type=entity_type,
                  entity_id=entity_id, after={"what": what, **(detail or {})})
