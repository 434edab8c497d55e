"""Case workload benchmark (``onewindow bench cases``): a county's year of cases, then the hot paths.

A fresh database gets the demo county and ``cases`` synthetic historical cases written in bulk
(plain inserts: the point is the size of the tables the hot paths read, not how they got there).
Then, each in its own transaction as in production: window intakes through the service, the
approver inboxes of every department, public tracking lookups, and one deadline sweep over all
open cases. Times are wall-clock on this machine; the JSON is the report.
"""

from __future__ import annotations

import datetime as dt
import random
import statistics
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from onewindow import db
from onewindow.calendar.service import build_calendar
from onewindow.calendar.workdays import TimeUnit
from onewindow.cases import service
from onewindow.cases.kinds import CaseKind, Channel, Decision
from onewindow.cases.models import Case
from onewindow.cases.numbers import format_case_number, parse_case_number
from onewindow.cases.service import ApplicantIn, ApplicationIn, CaseRules
from onewindow.cases.states import CaseState
from onewindow.cases.sweep import sweep_deadlines
from onewindow.catalog.models import Item, ItemVersion
from onewindow.core import access
from onewindow.core.access import Action
from onewindow.core.clock import CHINA_TZ, FixedClock
from onewindow.core.ids import id_check_char
from onewindow.staff.models import User

S = CaseState
OPEN_SHARE = 0.25  # of a year's cases, the ones still running on the day of the benchmark
PER_DAY_MAX = 99_000


def _person(rng: random.Random) -> str:
    born = f"{rng.randint(1950, 2005)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
    first17 = f"410724{born}{rng.randint(0, 999):03d}"
    return first17 + id_check_char(first17)


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"p50_ms": round(statistics.median(ordered), 2), "p95_ms": round(p95, 2), "n": len(ordered)}


def _timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def generate(session: Session, *, cases: int, on: dt.date, seed: int) -> dict[str, int]:
    """Write ``cases`` cases accepted over the year before ``on``; a quarter still open."""
    rng = random.Random(seed)  # noqa: S311 - synthetic data, reproducible by seed
    calendar = build_calendar(session)
    versions = list(session.execute(select(ItemVersion).join(Item, Item.current_version_id == ItemVersion.id))
                    .scalars())
    now = dt.datetime.combine(on, dt.time(9), tzinfo=CHINA_TZ)
    per_day: dict[dt.date, int] = {}
    for number in session.scalars(select(Case.number)):  # the demo's own cases keep their numbers
        day, seq = parse_case_number(number)
        per_day[day] = max(per_day.get(day, 0), seq)
    rows: list[dict[str, Any]] = []
    counts = {"open": 0, "closed": 0}
    for _ in range(cases):
        version = rng.choice(versions)
        open_ = rng.random() < OPEN_SHARE
        back = rng.randint(0, max(1, version.promised_limit_days * 2)) if open_ else rng.randint(10, 365)
        accepted_on = on - dt.timedelta(days=back)
        seq = per_day.get(accepted_on, 0) + 1
        if seq > PER_DAY_MAX:
            continue
        per_day[accepted_on] = seq
        legal = calendar.due_date(accepted_on, version.legal_limit_days, TimeUnit(version.limit_unit)).date
        promised = calendar.due_date(accepted_on, version.promised_limit_days, TimeUnit(version.limit_unit)).date
        state = rng.choice((S.ACCEPTED, S.IN_REVIEW)) if open_ else rng.choice((S.DELIVERED, S.ARCHIVED, S.DENIED))
        counts["open" if open_ else "closed"] += 1
        at = dt.datetime.combine(accepted_on, dt.time(10), tzinfo=CHINA_TZ)
        rows.append({
            "number": format_case_number(accepted_on, seq), "kind": CaseKind.SINGLE.value, "item_id": version.item_id,
            "item_version_id": version.id, "department_id": version.department_id, "channel": Channel.WINDOW.value,
            "state": state.value, "version": 3, "applicant_kind": "person", "applicant_name": "测试",
            "applicant_id": _person(rng), "applicant_phone": "", "form_data": {}, "commitment": False,
            "deferred": False, "submitted_at": at, "accepted_at": at, "accepted_on": accepted_on,
            "legal_days": version.legal_limit_days, "promised_days": version.promised_limit_days,
            "limit_unit": version.limit_unit, "extension_days": 0, "legal_due": legal, "promised_due": promised,
            "due_provisional": False, "warning": "none", "decision": None if open_ else Decision.APPROVED.value,
            "decision_reason": "", "decision_basis": "", "closed_reason": "", "closed_basis": "",
            "created_at": at, "updated_at": now, "proxy": False})
        if len(rows) >= 5000:
            session.execute(insert(Case), rows)
            rows.clear()
    if rows:
        session.execute(insert(Case), rows)
    return counts


def run(engine: Engine, *, cases: int, intakes: int, lookups: int, seed: int, on: dt.date) -> dict[str, Any]:
    """Fill the database and time the hot paths; returns the JSON report."""
    from onewindow.demo import load_demo

    factory: sessionmaker[Session] = db.make_session_factory(engine)
    clock = FixedClock(dt.datetime.combine(on, dt.time(10), tzinfo=CHINA_TZ))
    with db.transaction(factory) as s:
        load_demo(s, clock=clock)
    started = time.perf_counter()
    with db.transaction(factory) as s:
        counts = generate(s, cases=cases, on=on, seed=seed)
    generate_s = time.perf_counter() - started
    rng = random.Random(seed + 1)  # noqa: S311 - synthetic data, reproducible by seed
    rules = CaseRules()

    intake_ms: list[float] = []
    for i in range(intakes):
        def _intake(i: int = i) -> None:
            with db.transaction(factory) as s:
                clerk = s.scalars(select(User).where(User.username == "clerk")).one()
                applicant = ApplicantIn(kind="person", name="基准", id_number=_person(rng))
                service.apply(s, clock=clock, user=clerk, rules_=rules, online=False, data=ApplicationIn(
                    applicant=applicant, item_code="410724-SCJG-XK-001", idempotency_key=f"bench-{seed}-{i}",
                    materials={"name:个体工商户登记备案申请书": "paper", "cert:ID_CARD": "paper",
                               "name:经营场所使用证明租赁协议等": "paper"}))
        intake_ms.append(_timed(_intake))

    with factory() as s:
        # the people whose inbox is measured: every account the policy lets review cases
        reviewers = [r.value for r in access.roles_with(Action.CASE_REVIEW)]
        approvers = list(s.scalars(select(User).where(User.role.in_(reviewers))))
        numbers = list(s.scalars(select(Case.number).limit(lookups * 4)))
        tails = {n: a for n, a in s.execute(select(Case.number, Case.applicant_id).where(Case.number.in_(numbers)))}
    inbox_ms: list[float] = []
    inbox_rows = 0
    for _ in range(5):
        for user in approvers:
            with factory() as s:
                u = s.get(User, user.id)
                if u is None:
                    continue
                t0 = time.perf_counter()
                got = service.inbox(s, user=u)
                inbox_ms.append((time.perf_counter() - t0) * 1000)
                inbox_rows = max(inbox_rows, len(got))
    track_ms: list[float] = []
    for number in rng.sample(numbers, min(lookups, len(numbers))):
        with factory() as s:
            t0 = time.perf_counter()
            service.track(s, number=number, id_last4=tails[number][-4:])
            track_ms.append((time.perf_counter() - t0) * 1000)

    t0 = time.perf_counter()
    with db.transaction(factory) as s:
        swept = sweep_deadlines(s, clock=FixedClock(clock.now() + dt.timedelta(days=1)))
    sweep_s = time.perf_counter() - t0
    return {
        "backend": engine.dialect.name, "cases": cases, "open": counts["open"], "closed": counts["closed"],
        "generate_seconds": round(generate_s, 2),
        "intake": _percentiles(intake_ms), "inbox": {**_percentiles(inbox_ms), "max_rows": inbox_rows},
        "track": _percentiles(track_ms),
        "sweep": {"seconds": round(sweep_s, 2), "checked": swept["checked"], "yellow": swept["yellow"],
                  "red": swept["red"]},
    }
