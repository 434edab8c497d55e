"""Request budgets shared by every server process: a fixed-window counter per key in the database.

``spend(session, key, limit=, window_seconds=, now=)`` counts one request of ``key`` (say
``"ticket:203.0.113.7"``) in the current window with a single upsert, so several workers (or a restarted
one) see the same count; past ``limit`` it raises a 429 with a Chinese reason. The count is written in the
caller's transaction: a request that fails (and rolls back) does not use up the budget. Windows are at most
``MAX_WINDOW_SECONDS`` long, so the ``rate-bucket-purge`` job (:func:`purge_job`) may delete every bucket whose
window started longer ago than that: a request would open a new window in it anyway.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Integer, String, delete, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from onewindow.core.clock import Clock
from onewindow.core.errors import DomainError
from onewindow.db import AwareDateTime, Base

MAX_WINDOW_SECONDS = 24 * 3600  # the longest window a budget may have (the purge keeps buckets this long)


class RateBucket(Base):
    """One key's window: when it started and how many requests it has counted."""

    __tablename__ = "rate_bucket"

    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    window_start: Mapped[dt.datetime] = mapped_column(AwareDateTime())
    count: Mapped[int] = mapped_column(Integer)


class TooManyRequests(DomainError):
    """A client used up its budget (HTTP 429)."""

    def __init__(self, message: str) -> None:
        super().__init__(code="too_many_requests", status=429, message=message)


def spend(session: Session, key: str, *, limit: int, window_seconds: int, now: dt.datetime, message: str) -> int:
    """Count one request of ``key``; raise ``TooManyRequests(message)`` once more than ``limit`` came in the
    window. Returns the count so far. ``limit`` 0 means no limit (nothing is written)."""
    if window_seconds > MAX_WINDOW_SECONDS:
        raise ValueError(f"a budget window is at most {MAX_WINDOW_SECONDS} s, got {window_seconds}")
    if limit <= 0:
        return 0
    key = key[:120]
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    stmt = insert(RateBucket).values(key=key, window_start=now, count=1)
    # one statement that also locks the row (PostgreSQL) until the caller's transaction ends
    stmt = stmt.on_conflict_do_update(index_elements=[RateBucket.key], set_={"count": RateBucket.count + 1})
    count, started = session.execute(stmt.returning(RateBucket.count, RateBucket.window_start)).one()
    if started.tzinfo is None:  # SQLite's RETURNING gives the stored UTC value without its zone
        started = started.replace(tzinfo=dt.UTC)
    if now - started >= dt.timedelta(seconds=window_seconds):  # the window is over: this request opens the next
        session.execute(update(RateBucket).where(RateBucket.key == key).values(count=1, window_start=now))
        count = 1
    if count > limit:
        raise TooManyRequests(message)
    return count


def purge(session: Session, *, now: dt.datetime) -> int:
    """Delete the buckets whose window is over whatever its length (older than ``MAX_WINDOW_SECONDS``)."""
    old = delete(RateBucket).where(RateBucket.window_start <= now - dt.timedelta(seconds=MAX_WINDOW_SECONDS))
    return int(getattr(session.execute(old), "rowcount", 0) or 0)


def purge_job(session: Session, *, clock: Clock) -> dict[str, int]:
    """The ``rate-bucket-purge`` job."""
    return {"purged": purge(session, now=clock.now())}
