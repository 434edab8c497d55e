"""The rollup tables: daily facts and the open-work gauges, kept current by ``rollup.py``.

Written and read with SQLAlchemy Core (they are sums, never objects). Every dimension is a plain integer
with 0 for "does not apply" (``rules.NONE``) so the dimensions can make the primary key, and no foreign keys:
a rollup is rebuilt from the records, it does not own them.

- ``analytics_fact``: per day × hall × department × item × window × clerk × channel (items, windows, clerks).
- ``analytics_fact_dept``: the same counters per day × hall × department × channel (overview, trends by day,
  league, network, channels: a year of a county is tens of thousands of rows, not millions).
- ``analytics_hourly``: per day × hour × hall × department (the trend by hour of the week).
- ``analytics_wait``: per day × hall × department × wait minute (the wait's p90).
- ``analytics_open``: open cases, open complaints and waiting tickets per hall × department × due day
  (overdue now = the due day before today; no scan of cases).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Date, Index, Integer, SmallInteger, String, Table, text

from onewindow.analytics.rules import COUNTERS, HOURLY_COUNTERS
from onewindow.cases.models import Case
from onewindow.complaints.models import Complaint
from onewindow.db import Base
from onewindow.queue.models import Ticket
from onewindow.ratings.models import Rating


def _counters(names: tuple[str, ...]) -> list[Column[int]]:
    return [Column(name, BigInteger, nullable=False, server_default=text("0")) for name in names]


fact = Table(
    "analytics_fact", Base.metadata,
    Column("day", Date, primary_key=True),
    Column("hall_id", Integer, primary_key=True),
    Column("department_id", Integer, primary_key=True),
    Column("item_id", Integer, primary_key=True),
    Column("window_id", Integer, primary_key=True),
    Column("clerk_id", Integer, primary_key=True),
    Column("channel", String(8), primary_key=True),
    *_counters(COUNTERS),
    Index("ix_analytics_fact_department_day", "department_id", "day"),
    Index("ix_analytics_fact_hall_day", "hall_id", "day"),
)

fact_dept = Table(
    "analytics_fact_dept", Base.metadata,
    Column("day", Date, primary_key=True),
    Column("hall_id", Integer, primary_key=True),
    Column("department_id", Integer, primary_key=True),
    Column("channel", String(8), primary_key=True),
    *_counters(COUNTERS),
    Index("ix_analytics_fact_dept_department_day", "department_id", "day"),
    Index("ix_analytics_fact_dept_hall_day", "hall_id", "day"),
)

hourly = Table(
    "analytics_hourly", Base.metadata,
    Column("day", Date, primary_key=True),
    Column("hour", SmallInteger, primary_key=True),
    Column("hall_id", Integer, primary_key=True),
    Column("department_id", Integer, primary_key=True),
    *_counters(HOURLY_COUNTERS),
    Index("ix_analytics_hourly_department_day", "department_id", "day"),
)

wait = Table(
    "analytics_wait", Base.metadata,
    Column("day", Date, primary_key=True),
    Column("hall_id", Integer, primary_key=True),
    Column("department_id", Integer, primary_key=True),
    Column("bucket", SmallInteger, primary_key=True),  # whole minutes waited (rules.wait_bucket)
    Column("tickets", BigInteger, nullable=False, server_default=text("0")),
    Index("ix_analytics_wait_department_day", "department_id", "day"),
    # covering, bucket first: a period's histogram is read one bucket at a time, each an index range (SQLite
    # has no hash aggregation: a GROUP BY bucket sorts every row of the period; service._wait_buckets)
    Index("ix_analytics_wait_bucket_day", "bucket", "day", "hall_id", "department_id", "tickets"),
)

open_work = Table(
    "analytics_open", Base.metadata,
    Column("kind", String(10), primary_key=True),  # rules.OpenKind
    Column("hall_id", Integer, primary_key=True),
    Column("department_id", Integer, primary_key=True),
    Column("due_on", Date, primary_key=True),
    Column("count", BigInteger, nullable=False, server_default=text("0")),
    Index("ix_analytics_open_department", "kind", "department_id", "due_on"),
)

# the records' days, indexed so a day's facts are recomputed without a scan (on the domains' own tables)
Index("ix_case_record_accepted_on", Case.accepted_on)
Index("ix_queue_ticket_day", Ticket.day)
Index("ix_rating_rated_on", Rating.rated_on)
Index("ix_complaint_closed_on", Complaint.closed_on)

TABLES: tuple[Table, ...] = (fact, fact_dept, hourly, wait, open_work)
