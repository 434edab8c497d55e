"""Each indicator on a small hand-made history against hand-computed values, with the edges: no cases, a
department all overdue, a department with no ratings, a case reopened, a default rating, a voided 差评."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from onewindow.analytics import listeners, metrics, rollup, service
from onewindow.analytics.models import TABLES
from onewindow.analytics.service import Filters
from onewindow.core.access import Role, Viewer
from onewindow.core.errors import PermissionDenied, ValidationFailed
from onewindow.queue.models import Window

from .history import MONDAY, World, case, complaint, rating, ticket

D = dt.timedelta
ADMIN = Viewer(user_id=1, role=Role.ADMIN)
WEEK = Filters(MONDAY, MONDAY + D(days=7))
TODAY = MONDAY + D(days=9)  # Wednesday of the next week


@pytest.fixture(autouse=True)
def _listening() -> Iterator[None]:
    listeners.install()
    yield


@pytest.fixture
def world(session: Session) -> World:
    return World(session)


@pytest.fixture
def history(session: Session, world: World) -> dict[str, Any]:
    """The week: three departments' cases, tickets, ratings and complaints (see the test for the sums)."""
    w = world
    rollup.recompute_open(session)
    session.commit()
    before = service.overview(session, ADMIN, Filters(MONDAY, MONDAY, department_id=w.dep_b), TODAY)
    before_a = service.overview(session, ADMIN, Filters(MONDAY, MONDAY, department_id=w.dep_a), TODAY)
    tue, wed, thu = MONDAY + D(days=1), MONDAY + D(days=2), MONDAY + D(days=3)
    # department A: 10 finished on Tuesday; visits 1×7, 2×2, 4×1; two past their promised day
    for i in range(10):
        visits = 1 if i < 7 else 2 if i < 9 else 4
        case(session, w, w.dep_a, accepted=MONDAY, decided=tue, visits=visits,
             promised=MONDAY if i in (0, 7) else None)
    # department B: 5 finished on Wednesday, all overdue, no ratings; one still open, overdue by TODAY
    for _ in range(5):
        case(session, w, w.dep_b, accepted=MONDAY, decided=wed, promised=MONDAY, visits=1)
    case(session, w, w.dep_b, accepted=MONDAY, promised=MONDAY + D(days=7), channel="online", hall=None)
    # department C: 3 finished (below the league's minimum sample)
    for _ in range(3):
        case(session, w, w.dep_c, accepted=MONDAY, decided=tue, visits=0, agent_user_id=None)
    win = session.execute(select(Window.id, Window.clerk_id).order_by(Window.id)).first()
    assert win is not None
    for wait_min in (5, 10, 15, 20):
        ticket(session, w, MONDAY, hour=9, wait_min=wait_min, service_min=10, code=w.code_a, window_id=win[0],
               clerk_id=win[1])
    ticket(session, w, MONDAY, hour=10, code=w.code_a)  # still waiting
    for level in ("very_satisfied", "very_satisfied", "very_satisfied", "basic", "unsatisfied"):
        rating(session, w, w.dep_a, tue, level)
    rating(session, w, w.dep_a, tue, "satisfied", default=True)  # 默认好评
    rating(session, w, w.dep_a, tue, "very_unsatisfied", voided=True)  # an upheld appeal: not counted
    fri = MONDAY + D(days=4)
    complaint(session, w, w.dep_a, MONDAY, due=fri, closed=thu, replied=True, verdict="satisfied")
    complaint(session, w, w.dep_a, MONDAY, due=fri, closed=thu, replied=True, verdict="satisfied")
    complaint(session, w, w.dep_a, MONDAY, due=fri, closed=MONDAY + D(days=7), replied=True, verdict="unsatisfied")
    complaint(session, w, w.dep_a, MONDAY, due=fri, replied=True)
    complaint(session, w, w.dep_a, MONDAY, due=fri)
    session.commit()
    return {"before_b": before, "before_a": before_a, "window": win[0], "clerk": win[1]}


def fig(figures: dict[str, metrics.Figure], code: str) -> tuple[float | None, int, int | None]:
    f = figures[code]
    return f.value, f.numerator, f.denominator


def test_overview_of_one_department(session: Session, world: World, history: dict[str, Any]) -> None:
    o = service.overview(session, ADMIN, Filters(MONDAY, MONDAY + D(days=7), department_id=world.dep_a), TODAY)
    f = o.figures
    assert fig(f, "cases_accepted") == (10.0, 10, None)
    assert fig(f, "cases_finished") == (10.0, 10, None)
    assert fig(f, "one_visit_rate") == (70.0, 7, 10)
    assert fig(f, "two_visit_rate") == (90.0, 9, 10)
    assert fig(f, "three_visit_rate") == (90.0, 9, 10)
    assert fig(f, "on_time_rate") == (80.0, 8, 10)
    # tickets: 5 issued, 4 called after 5/10/15/20 minutes, each served 10 minutes
    assert fig(f, "tickets") == (5.0, 5, None)
    assert fig(f, "avg_wait") == (12.5, 750 * 4, 4)
    assert fig(f, "avg_service") == (10.0, 2400, 4)
    assert o.p90_wait == 20.0
    # ratings: the voided 差评 is left out; the default 满意 counts as good and as default
    assert fig(f, "ratings") == (6.0, 6, None)
    assert fig(f, "good_rate") == (66.67, 4, 6)
    assert fig(f, "negative") == (1.0, 1, None)
    assert fig(f, "default_rate") == (16.67, 1, 6)
    assert fig(f, "rectified_rate") == (0.0, 0, 1)
    # complaints: 5 received, 4 replied, 3 called back (2 satisfied), 3 closed in the week (2 on time)
    assert fig(f, "complaints") == (5.0, 5, None)
    assert fig(f, "complaint_reply_rate") == (80.0, 4, 5)
    assert fig(f, "complaint_satisfied_rate") == (None, 2, 3)  # below the minimum sample of 5
    assert fig(f, "complaint_on_time_rate") == (None, 2, 3)
    assert o.complaints_open - history["before_a"].complaints_open == 2
    assert o.complaints_overdue - history["before_a"].complaints_overdue == 2


def test_a_department_all_overdue_and_without_ratings(session: Session, world: World,
                                                      history: dict[str, Any]) -> None:
    o = service.overview(session, ADMIN, Filters(MONDAY, MONDAY + D(days=7), department_id=world.dep_b), TODAY)
    assert fig(o.figures, "on_time_rate") == (0.0, 0, 5)
    assert fig(o.figures, "one_visit_rate") == (100.0, 5, 5)
    assert fig(o.figures, "good_rate") == (None, 0, 0)
    assert fig(o.figures, "cases_accepted") == (6.0, 6, None)
    assert o.cases_open - history["before_b"].cases_open == 1
    assert o.cases_overdue - history["before_b"].cases_overdue == 1  # its promised day was the Monday before


def test_no_cases(session: Session) -> None:
    o = service.overview(session, ADMIN, Filters(dt.date(2032, 1, 1), dt.date(2032, 1, 31)), dt.date(2032, 2, 1))
    assert all(f.numerator == 0 for f in o.figures.values())
    assert all(f.value is None for f in o.figures.values() if f.denominator is not None)
    assert o.p90_wait is None and o.tickets_today == 0
    assert all(r.sums["cases_accepted"] == 0 for r in service.trend(session, ADMIN, Filters(dt.date(2032, 1, 1),
                                                                                            dt.date(2032, 1, 3))))


def test_trends_by_day_and_hour_of_week(session: Session, world: World, history: dict[str, Any]) -> None:
    days = service.trend(session, ADMIN, WEEK)
    assert [r.key for r in days][:3] == ["2031-03-03", "2031-03-04", "2031-03-05"] and len(days) == 8
    assert [r.sums["cases_accepted"] for r in days[:3]] == [19, 0, 0]
    assert [r.sums["cases_finished"] for r in days[:3]] == [0, 13, 5]
    hours = {r.key: r for r in service.trend(session, ADMIN, WEEK, by="hour_of_week")}
    assert hours["0-09"].sums["tickets"] == 4 and hours["0-09"].sums["cases_accepted"] == 19
    assert hours["0-10"].sums["tickets"] == 1 and hours["0-10"].label == "周一 10时"
    with pytest.raises(ValidationFailed):
        service.trend(session, ADMIN, WEEK, by="month")  # type: ignore[arg-type]


def test_league_ranks_only_departments_with_the_minimum_sample(session: Session, world: World,
                                                               history: dict[str, Any]) -> None:
    rows = service.league(session, ADMIN, WEEK)
    ranks = {int(r.key): r.extra["rank"] for r in rows}
    assert ranks[world.dep_a] == 1 and ranks[world.dep_b] == 2 and ranks[world.dep_c] is None
    assert rows[-1].key == str(world.dep_c)
    assert next(r for r in rows if r.key == str(world.dep_a)).label == world.dep_names[world.dep_a]


def test_items_windows_clerks_network_channels(session: Session, world: World, history: dict[str, Any]) -> None:
    items = service.items(session, ADMIN, WEEK)
    a = next(r for r in items if r.key == str(world.item_a))
    assert a.sums["cases_accepted"] == 10 and a.sums["tickets"] == 5 and a.extra["overdue_share"] == 20.0
    by_overdue = service.items(session, ADMIN, WEEK, order="overdue")
    assert by_overdue[0].key == str(world.item_b)  # department B's item: all overdue
    windows = service.windows(session, ADMIN, WEEK)
    assert [(r.key, r.sums["served"]) for r in windows] == [(str(history["window"]), 4)]
    if history["clerk"] is not None:
        assert [r.sums["served"] for r in service.clerks(session, ADMIN, WEEK)
                if r.key == str(history["clerk"])] == [4]
    network = {r.key: r for r in service.network(session, ADMIN, WEEK)}
    assert network["0"].sums["cases_accepted"] == 1  # the online case came through no hall
    channels = {r.key: r.sums for r in service.channels(session, ADMIN, WEEK)}
    assert channels["online"]["cases_accepted"] == 1 and channels["hotline"]["complaints"] == 5
    assert channels["window"]["tickets"] == 5 and channels["mail"]["cases_accepted"] == 0


def test_a_department_head_sees_their_department_only(session: Session, world: World,
                                                      history: dict[str, Any]) -> None:
    head = Viewer(user_id=2, role=Role.DEPT_HEAD, department_id=world.dep_b)
    o = service.overview(session, head, Filters(MONDAY, MONDAY + D(days=7), department_id=world.dep_a), TODAY)
    assert o.filters.department_id == world.dep_b and o.figures["cases_finished"].numerator == 5
    assert [r.key for r in service.league(session, head, WEEK)] == [str(world.dep_b)]
    with pytest.raises(PermissionDenied):
        service.overview(session, Viewer(user_id=3, role=Role.CLERK, department_id=world.dep_a), WEEK, TODAY)
    with pytest.raises(ValidationFailed) as bad:
        service.overview(session, ADMIN, Filters(MONDAY, MONDAY - D(days=1)), TODAY)
    assert bad.value.field == "date_from"


def test_drilldown_lists_the_records_behind_a_figure(session: Session, world: World,
                                                     history: dict[str, Any]) -> None:
    f = Filters(MONDAY, MONDAY + D(days=7), department_id=world.dep_a)
    first = service.drilldown(session, ADMIN, "on_time_rate", f, page=1, page_size=6)
    second = service.drilldown(session, ADMIN, "on_time_rate", f, page=2, page_size=6)
    rows = first.rows + second.rows
    assert first.has_next and not second.has_next and len(rows) == 10
    assert sum(1 for r in rows if r["on_time"]) == 8
    assert len(service.drilldown(session, ADMIN, "avg_wait", f).rows) == 5
    assert len(service.drilldown(session, ADMIN, "good_rate", f).rows) == 6
    assert len(service.drilldown(session, ADMIN, "complaint_on_time_rate", f).rows) == 3
    assert not any("applicant_id" in r or "complainant_phone" in r for r in rows)
    with pytest.raises(ValidationFailed):
        service.drilldown(session, ADMIN, "nope", f)


def test_a_reopened_case_leaves_its_first_day(session: Session, world: World) -> None:
    thu, fri = MONDAY + D(days=3), MONDAY + D(days=4)
    c = case(session, world, world.dep_a, accepted=MONDAY, decided=thu)
    session.commit()

    def finished(day: dt.date) -> int:
        return service.overview(session, ADMIN, Filters(day, day, department_id=world.dep_a),
                                TODAY).figures["cases_finished"].numerator

    assert finished(thu) == 1
    c.state, c.decision, c.decided_at, c.decided_on = "in_review", None, None, None  # reopened
    session.commit()
    assert finished(thu) == 0
    c.state, c.decision, c.decided_on = "approved", "approved", fri
    session.commit()
    assert (finished(thu), finished(fri)) == (0, 1)


def test_rollups_equal_a_rebuild(session: Session, history: dict[str, Any]) -> None:
    before = snapshot(session)
    rollup.rebuild(session)
    assert snapshot(session) == before


def snapshot(session: Session) -> dict[str, list[tuple[Any, ...]]]:
    """Every rollup row (zero rows left out: a day recomputed empty has none)."""
    out = {}
    for table in TABLES:
        rows = session.execute(select(table)).all()
        out[table.name] = sorted(tuple(r) for r in rows)
    return out


def test_every_metric_names_known_counters() -> None:
    assert metrics.unknown_counters() == []
    assert len({m.code for m in metrics.METRICS}) == len(metrics.METRICS)


def test_the_pages_shared_reads_equal_the_single_reads(session: Session, world: World,
                                                       history: dict[str, Any]) -> None:
    """The dashboard page's grouping sets (``Period(shared=True)``) give every table the same rows as its own
    grouped query, and the overview the same figures; the wait histogram read bucket by bucket through its index
    equals the GROUP BY."""
    for filters in (WEEK, Filters(MONDAY, MONDAY + D(days=7), department_id=world.dep_a),
                    Filters(MONDAY, MONDAY + D(days=7), hall_id=world.hall), Filters(dt.date(2032, 1, 1),
                                                                                     dt.date(2032, 1, 31))):
        shared = service.Period(session, ADMIN, filters, shared=True)
        single = service.Period(session, ADMIN, filters)
        for name in ("league", "items", "windows", "clerks", "network", "channels"):
            a, b = getattr(shared, name)(), getattr(single, name)()
            assert [(r.key, r.label, r.sums, r.figures, r.extra) for r in a] == \
                   [(r.key, r.label, r.sums, r.figures, r.extra) for r in b], name
        assert shared.overview(TODAY) == single.overview(TODAY)
        assert shared.totals() == single.totals()
    # the histogram of the week: 4 waits of 5, 10, 15 and 20 minutes, read both ways
    params = {"date_from": MONDAY, "date_to": MONDAY + D(days=7)}
    shape = (False, False)
    by_bucket = {int(b): int(n) for b, n in session.execute(service._wait_statement(shape, True), params) if n}
    grouped = {int(b): int(n) for b, n in session.execute(service._wait_statement(shape, False), params) if n}
    assert by_bucket == grouped == {5: 1, 10: 1, 15: 1, 20: 1}
