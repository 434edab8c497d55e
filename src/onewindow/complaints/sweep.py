"""The overdue sweep (催办): set-based, so 100,000 open orders take well under a second or two.

Every open order (受理 … 办理中) past its limit (``due_at``), or past a 督办 deadline (``supervised_due_on``), that
was never urged, or was last urged at least ``ONEWINDOW_COMPLAINT_URGE_EVERY_HOURS`` ago, is urged once more (and
flagged overdue when past its limit): one ``UPDATE`` stamps
``last_urged_at`` with the sweep's own instant, and one ``INSERT … SELECT`` writes an ``urged`` timeline event for
exactly the rows that carry that stamp. No ORM objects are loaded. The version is not bumped: the sweep only
touches its own columns (``overdue``, ``urge_count``, ``last_urged_at``) with atomic SQL, so it cannot overwrite a
handler's concurrent change, and a form opened before the sweep still posts. One audit entry records each run
that urged something.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Integer, Select, String, and_, func, insert, literal, or_, select, update
from sqlalchemy.orm import Session

from onewindow.complaints import rules
from onewindow.complaints.models import Complaint, ComplaintEvent
from onewindow.complaints.rules import Limits
from onewindow.complaints.service import SYSTEM_NAME, limits
from onewindow.complaints.states import OPEN
from onewindow.core import audit
from onewindow.core.clock import Clock, today

URGE_NOTE = "超过办理时限，系统自动催办"


def _due_for_urging(now: Any, day: Any, threshold: Any) -> Any:
    # past the limit, or past the supervisor's 督办 deadline (which may come before the limit)
    late = or_(Complaint.due_at < now, Complaint.supervised_due_on < day)
    return and_(Complaint.state.in_(sorted(s.value for s in OPEN)), late,
                or_(Complaint.last_urged_at.is_(None), Complaint.last_urged_at <= threshold))


def _event_rows(now: Any, complaint_id: Any, state: Any) -> Select[Any]:
    return select(complaint_id, literal(now, Complaint.__table__.c.last_urged_at.type),
                  literal(SYSTEM_NAME, String(64)), literal(None, Integer), literal("urged", String(24)), state,
                  literal(None, String(16)), literal(URGE_NOTE), literal({"auto": True}, JSON))


def sweep_overdue(session: Session, *, clock: Clock, limits_: Limits | None = None) -> int:
    """Flag and urge (催办) every open order past its limit; how many were urged."""
    now = clock.now()
    threshold = rules.urge_threshold(now, limits(limits_))
    urge = (update(Complaint).where(_due_for_urging(now, today(clock), threshold))
            .values(overdue=or_(Complaint.overdue, Complaint.due_at < now), urge_count=Complaint.urge_count + 1,
                    last_urged_at=now))
    columns = ["complaint_id", "at", "actor", "actor_id", "kind", "state_from", "state_to", "note", "data"]
    if session.get_bind().dialect.name == "postgresql":
        # one statement: the UPDATE's RETURNING feeds the INSERT (no second scan of the table)
        urged_rows = urge.returning(Complaint.id, Complaint.state).cte("urged")
        events = insert(ComplaintEvent).from_select(
            columns, _event_rows(now, urged_rows.c.id, urged_rows.c.state)).cte("events")
        urged = int(session.scalar(select(func.count()).select_from(urged_rows).add_cte(events)) or 0)
    else:
        result = session.execute(urge.execution_options(synchronize_session=False))
        urged = int(getattr(result, "rowcount", 0) or 0)
        if urged:
            # exactly the rows this UPDATE stamped with the sweep's own instant
            session.execute(insert(ComplaintEvent).from_select(
                columns, _event_rows(now, Complaint.id, Complaint.state).where(
                    Complaint.last_urged_at == now, Complaint.state.in_(sorted(s.value for s in OPEN)))))
    if not urged:
        return 0
    audit.record(session, clock=clock, actor=audit.SYSTEM, action="complaints.urged", entity_type="complaint",
                 entity_id="sweep", before=None, after={"urged": urged, "at": now})
    # the ORM objects of this session (if any) must not keep stale flags
    session.expire_all()
    return urged


def urge_job(session: Session, *, clock: Clock) -> dict[str, int]:
    """The ``complaints-urge`` background job: :func:`sweep_overdue` with its count."""
    return {"urged": sweep_overdue(session, clock=clock)}
