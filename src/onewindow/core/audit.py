"""Append-only, hash-chained audit log: who did what, when, with the before and after."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, BigInteger, Integer, String, event, inspect, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from onewindow.core.clock import Clock
from onewindow.db import AwareDateTime, Base

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


def record(session: Session, *, clock: Clock, actor: Actor, action: str, entity_type: str,
           entity_id: str | int, before: Any = None, after: Any = None) -> AuditEntry:
    """Append one entry to the chain inside the caller's transaction."""
    head = _locked_head(session)
    # Microsecond precision survives both SQLite and PostgreSQL, so the hash can be recomputed.
    at = clock.now().astimezone(dt.UTC)
    before_c, after_c = canonical(before), canonical(after)
    digest = entry_hash(head.last_hash, at, actor.id, actor.label, action, entity_type, str(entity_id),
                        before_c, after_c)
    entry = AuditEntry(at=at, actor_id=actor.id, actor=actor.label, action=action, entity_type=entity_type,
                       entity_id=str(entity_id), before=before_c, after=after_c, prev_hash=head.last_hash,
                       hash=digest)
    session.add(entry)
    head.last_hash = digest
    session.flush()
    return entry


_HEAD_KEY = "onewindow.audit.head"  # session.info: the head row this transaction has locked


def _locked_head(session: Session) -> AuditHead:
    """The chain's head row, locked for the rest of the transaction (``FOR UPDATE`` on PostgreSQL; on SQLite the
    writer holds the database's lock). Read once a transaction: the row cannot change under the lock, so the
    appends after the first one (several tickets of one group commit) reuse it; forgotten when the transaction
    or a savepoint ends in a rollback (the row's value may have gone back) and at commit."""
    head: AuditHead | None = session.info.get(_HEAD_KEY)
    if head is not None and head in session and not inspect(head).expired:
        return head
    head = session.execute(select(AuditHead).where(AuditHead.id == 1).with_for_update()).scalar_one_or_none()
    if head is None:
        head = AuditHead(id=1, last_hash=GENESIS_HASH)
        session.add(head)
        session.flush()
    session.info[_HEAD_KEY] = head
    if not event.contains(session, "after_commit", _forget_head):
        event.listen(session, "after_commit", _forget_head)
        event.listen(session, "after_rollback", _forget_head)
        event.listen(session, "after_soft_rollback", _forget_head_after)
    return head


def lock_head(session: Session) -> None:
    """Lock the chain's head row now, for the rest of the transaction (what the first append would do): a
    PostgreSQL group commit (``db.GroupCommit``) takes it before anything else, so its other row locks always
    come after it."""
    _locked_head(session)


def _forget_head(session: Session) -> None:
    if not session.in_nested_transaction():  # a savepoint released keeps the lock and the row's value
        session.info.pop(_HEAD_KEY, None)


def _forget_head_after(session: Session, _previous: Any) -> None:
    session.info.pop(_HEAD_KEY, None)


@dataclass(frozen=True)
class VerifyResult:
    """Outcome of walking the chain."""

    ok: bool
    checked: int
    broken_id: int | None = None
    reason: str = ""


def verify(session: Session, *, batch: int = 5000) -> VerifyResult:
    """Recompute every hash in order; report the first entry that does not match."""
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
                entity_id: str | int, detail: dict[str, Any] | None = None) -> AuditEntry:
    """Audit a read of whole personal data (a certificate or entity lookup by ID number, a case page with the
    numbers shown whole, an uploaded file): who looked at whose data, and through what (``what``). The caller
    passes identifiers masked; the entry is written in the request's transaction like any change."""
    return record(session, clock=clock, actor=actor, action=PERSONAL_READ, entity_type=entity_type,
                  entity_id=entity_id, after={"what": what, **(detail or {})})
