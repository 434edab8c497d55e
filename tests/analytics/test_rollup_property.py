"""The rollups kept current by the listener agree with a full recomputation from the records after any
sequence of events (hypothesis): cases accepted, decided, reopened, visited and their result's delivery
changed (寄递), tickets issued and called, ratings given and voided, complaints received and closed — committed
one by one."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from onewindow.analytics import listeners, rollup
from onewindow.cases.models import CaseVisit

from .history import MONDAY, World, at, case, complaint, rating, ticket
from .test_indicators import snapshot

DAY = st.integers(min_value=0, max_value=9)
EVENT = st.one_of(
    st.tuples(st.just("case"), st.integers(0, 2), DAY, st.one_of(st.none(), st.integers(0, 6)), st.integers(0, 3)),
    st.tuples(st.just("decide"), st.integers(0, 30), DAY),
    st.tuples(st.just("reopen"), st.integers(0, 30)),
    st.tuples(st.just("visit"), st.integers(0, 30)),
    st.tuples(st.just("mail"), st.integers(0, 30), st.sampled_from(["mail", "pickup", "electronic"])),
    st.tuples(st.just("ticket"), DAY, st.one_of(st.none(), st.integers(0, 40))),
    st.tuples(st.just("call"), st.integers(0, 30), st.integers(0, 40)),
    st.tuples(st.just("rating"), st.integers(0, 2), DAY, st.sampled_from(
        ["very_satisfied", "satisfied", "basic", "unsatisfied", "very_unsatisfied"]), st.booleans()),
    st.tuples(st.just("void"), st.integers(0, 30)),
    st.tuples(st.just("complaint"), st.integers(0, 2), DAY, st.one_of(st.none(), st.integers(0, 8))),
    st.tuples(st.just("close"), st.integers(0, 30), DAY),
)


def day(n: int) -> dt.date:
    """The n-th day of the test weeks."""
    return MONDAY + dt.timedelta(days=n)


def apply(session: Session, w: World, made: dict[str, list[Any]], event: tuple[Any, ...]) -> None:
    """One event, through the ORM."""
    deps = (w.dep_a, w.dep_b, w.dep_c)
    kind = event[0]
    if kind == "case":
        _k, d, acc, dec, visits = event
        made["cases"].append(case(session, w, deps[d], accepted=day(acc),
                                  decided=day(acc + dec) if dec is not None else None, visits=visits))
    elif kind == "decide" and made["cases"]:
        c = made["cases"][event[1] % len(made["cases"])]
        c.state, c.decision, c.decided_on = "approved", "approved", max(day(event[2]), c.accepted_on)
    elif kind == "reopen" and made["cases"]:
        c = made["cases"][event[1] % len(made["cases"])]
        c.state, c.decision, c.decided_on, c.decided_at = "in_review", None, None, None
    elif kind == "mail" and made["cases"]:
        c = made["cases"][event[1] % len(made["cases"])]
        c.result_delivery = event[2]
    elif kind == "visit" and made["cases"]:
        c = made["cases"][event[1] % len(made["cases"])]
        session.add(CaseVisit(case_id=c.id, at=at(c.accepted_on, 11), kind="supplement", hall_id=w.hall))
    elif kind == "ticket":
        made["tickets"].append(ticket(session, w, day(event[1]), wait_min=event[2], code=w.code_a))
    elif kind == "call" and made["tickets"]:
        t = made["tickets"][event[1] % len(made["tickets"])]
        t.called_at = t.issued_at + dt.timedelta(minutes=event[2])
        t.state = "called"
    elif kind == "rating":
        _k, d, n, level, default = event
        made["ratings"].append(rating(session, w, deps[d], day(n), level, default=default))
    elif kind == "void" and made["ratings"]:
        r = made["ratings"][event[1] % len(made["ratings"])]
        r.voided_at = at(r.rated_on, 13)
    elif kind == "complaint":
        _k, d, n, closed = event
        made["complaints"].append(complaint(session, w, deps[d], day(n), due=day(n + 4),
                                            closed=day(n + closed) if closed is not None else None))
    elif kind == "close" and made["complaints"]:
        c = made["complaints"][event[1] % len(made["complaints"])]
        c.state, c.closed_on, c.closed_at = "closed", max(day(event[2]), c.accepted_on), at(day(event[2]), 17)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                HealthCheck.too_slow])
@given(events=st.lists(EVENT, min_size=1, max_size=20))
def test_rollups_agree_with_a_full_recomputation(session: Session, events: list[tuple[Any, ...]]) -> None:
    listeners.install()
    w = World(session)
    made: dict[str, list[Any]] = {"cases": [], "tickets": [], "ratings": [], "complaints": []}
    for event in events:
        apply(session, w, made, event)
        session.commit()
    kept = snapshot(session)
    rollup.rebuild(session)
    assert snapshot(session) == kept
    session.rollback()
