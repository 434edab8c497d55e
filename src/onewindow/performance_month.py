"""The monthly performance ranking (绩效考核): the month's facts gathered from the queue, ratings, rectification and
cases, scored by ``staff.performance``, stored by ``staff.performance_service``, reported to department heads.

Staff sits below the domains it is scored from (the queue needs staff accounts), so, like ``county_file.py`` and
``wiring.py``, this module plugs them together from outside. Every figure is one grouped query over the month:

- tickets finished (``queue_ticket.done_at`` in the month) per clerk and per window, with their service minutes
  and the norm of their category (the hall's ``default_service_min``, else ``performance_norm_minutes``);
- ratings given in the month (voided and default ratings left out) per clerk and per window, 好评 = 非常满意 + 满意;
- upheld complaints, from the registered counters (:func:`register_complaint_counter`): by default the 差评 work
  orders opened in the month that were verified and not voided on appeal, attributed to the rated clerk and window.
  The complaints domain registers its own counter here when it lands;
- overdue steps: review steps completed in the month after their case's promised deadline, per person who did them;
- attendance: the window shifts against the opening hours of the clerk's hall on working days (``staff.attendance``).
"""

from __future__ import annotations

import datetime as dt
import io
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from onewindow.calendar import service as calendar_service
from onewindow.cases.models import Case, CaseStep
from onewindow.catalog.models import Department, Hall, HallCategory
from onewindow.config import Settings, get_settings
from onewindow.core.audit import SYSTEM, Actor
from onewindow.core.clock import CHINA_TZ, Clock, today
from onewindow.notifications import service as notifications
from onewindow.queue.models import HallQueueSettings, Ticket, Window
from onewindow.ratings.models import Rating
from onewindow.ratings.rules import Level
from onewindow.rectification.models import RectificationOrder
from onewindow.rectification.states import OrderState, SourceKind
from onewindow.staff import performance_service as store
from onewindow.staff.attendance import MonthAttendance, Opening, Shift, month_attendance, parse_opening_hours
from onewindow.staff.models import PerformanceMonth, PerformanceScore, User
from onewindow.staff.performance import Award, Facts, Score, awards, combine, rank
from onewindow.staff.performance_service import Subject, SubjectKind

REPORT_TOPIC = "staff.performance.monthly"
GOOD_LEVELS = (Level.VERY_SATISFIED.value, Level.SATISFIED.value)
NOT_UPHELD = (OrderState.PENDING.value, OrderState.APPEALED.value, OrderState.VOIDED.value)


@dataclass(frozen=True)
class Period:
    """The month measured: [start, end) in China time, and ``now`` (the end, or the clock if sooner)."""

    month: dt.date
    start: dt.datetime
    end: dt.datetime
    now: dt.datetime

    @property
    def last_day(self) -> dt.date:
        """The month's last date."""
        return store.next_month(self.month) - dt.timedelta(days=1)

    @classmethod
    def of(cls, month: dt.date, now: dt.datetime) -> Period:
        """The period of ``month`` as seen at ``now``."""
        first = store.month_start(month)
        start = dt.datetime.combine(first, dt.time(), tzinfo=CHINA_TZ)
        end = dt.datetime.combine(store.next_month(first), dt.time(), tzinfo=CHINA_TZ)
        return cls(first, start, end, min(end, now))


@dataclass
class Counts:
    """A count per clerk (user id) and per window (window id)."""

    by_clerk: dict[int, int] = field(default_factory=dict)
    by_window: dict[int, int] = field(default_factory=dict)


ComplaintCounter = Callable[[Session, Period], Counts]


def upheld_negative_ratings(session: Session, period: Period) -> Counts:
    """差评 work orders opened in the month, verified and not voided on appeal, per rated clerk and window."""
    o, r = RectificationOrder, Rating
    rows = session.execute(
        select(r.clerk_id, r.window_id, func.count())
        .select_from(o).join(r, r.id == o.source_id)
        .where(o.source_kind == SourceKind.RATING.value, o.opened_on >= period.month, o.opened_on <= period.last_day,
               o.state.not_in(NOT_UPHELD))
        .group_by(r.clerk_id, r.window_id))
    counts = Counts()
    for clerk_id, window_id, n in rows:
        if clerk_id is not None:
            counts.by_clerk[clerk_id] = counts.by_clerk.get(clerk_id, 0) + int(n)
        if window_id is not None:
            counts.by_window[window_id] = counts.by_window.get(window_id, 0) + int(n)
    return counts


COMPLAINT_COUNTERS: list[ComplaintCounter] = [upheld_negative_ratings]


def register_complaint_counter(counter: ComplaintCounter) -> None:
    """Add a source of upheld complaints (the complaints domain's upheld 投诉), counted with the 差评 ones."""
    if counter not in COMPLAINT_COUNTERS:
        COMPLAINT_COUNTERS.append(counter)


# ----- gathering ---------------------------------------------------------------------------------------------


@dataclass
class _Tally:
    served: int = 0
    minutes: float = 0.0
    norm: float = 0.0
    ratings: int = 0
    good: int = 0


def _duration_minutes(session: Session) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", Ticket.done_at - Ticket.serving_at) / 60.0
    return (func.julianday(Ticket.done_at) - func.julianday(Ticket.serving_at)) * 1440.0


def _norms(session: Session, default: float) -> Callable[[int, int], float]:
    codes: dict[int, str] = {i: c for i, c in session.execute(select(HallCategory.id, HallCategory.code))}
    per_hall: dict[int, dict[str, float]] = {h: dict(m or {}) for h, m in session.execute(
        select(HallQueueSettings.hall_id, HallQueueSettings.default_service_min))}

    def norm(hall_id: int, category_id: int) -> float:
        value = per_hall.get(hall_id, {}).get(codes.get(category_id, ""))
        return float(value) if value else default

    return norm


@dataclass
class MonthInput:
    """Everything the month's ranking is computed from."""

    clerks: dict[int, Facts]
    windows: dict[int, Facts]
    clerk_attendance: dict[int, MonthAttendance]
    window_attendance: dict[int, MonthAttendance]
    users: dict[int, User]
    window_names: dict[int, str]
    departments: dict[int, str]


def gather(session: Session, *, period: Period, settings: Settings) -> MonthInput:
    """The month's facts per clerk and per window (a handful of grouped queries)."""
    clerk: dict[int, _Tally] = defaultdict(_Tally)
    window: dict[int, _Tally] = defaultdict(_Tally)
    norm = _norms(session, settings.performance_norm_minutes)
    t = Ticket
    for clerk_id, window_id, hall_id, category_id, n, minutes in session.execute(
            select(t.clerk_id, t.window_id, t.hall_id, t.category_id, func.count(),
                   func.coalesce(func.sum(_duration_minutes(session)), 0.0))
            .where(t.done_at >= period.start, t.done_at < period.end, t.serving_at.is_not(None))
            .group_by(t.clerk_id, t.window_id, t.hall_id, t.category_id)):
        for key, tallies in ((clerk_id, clerk), (window_id, window)):
            if key is not None:
                tally = tallies[key]
                tally.served += int(n)
                tally.minutes += float(minutes)
                tally.norm += norm(hall_id, category_id) * int(n)
    r = Rating
    for clerk_id, window_id, n, good in session.execute(
            select(r.clerk_id, r.window_id, func.count(), func.sum(case((r.level.in_(GOOD_LEVELS), 1), else_=0)))
            .where(r.rated_on >= period.month, r.rated_on <= period.last_day, r.voided_at.is_(None),
                   r.is_default.is_(False))
            .group_by(r.clerk_id, r.window_id)):
        for key, tallies in ((clerk_id, clerk), (window_id, window)):
            if key is not None:
                tallies[key].ratings += int(n)
                tallies[key].good += int(good or 0)
    complaints = Counts()
    for counter in COMPLAINT_COUNTERS:
        found = counter(session, period)
        for k, n in found.by_clerk.items():
            complaints.by_clerk[k] = complaints.by_clerk.get(k, 0) + n
        for k, n in found.by_window.items():
            complaints.by_window[k] = complaints.by_window.get(k, 0) + n
    overdue: dict[int, int] = defaultdict(int)
    for done_by, done_at, due in session.execute(
            select(CaseStep.done_by, CaseStep.done_at, Case.promised_due).join(Case, Case.id == CaseStep.case_id)
            .where(CaseStep.done_at >= period.start, CaseStep.done_at < period.end, CaseStep.done_by.is_not(None),
                   Case.promised_due.is_not(None), Case.promised_due < period.last_day)):
        if done_by is not None and done_at is not None and due is not None and \
                done_at.astimezone(CHINA_TZ).date() > due:
            overdue[done_by] += 1
    clerk_att, window_att = _attendance(session, period=period, settings=settings)
    ids = set(clerk) | set(clerk_att) | set(complaints.by_clerk)
    users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(ids)))} if ids else {}
    window_ids = set(window) | set(window_att)
    window_names = {w.id: f"{w.hall.name} {w.label}" for w in session.scalars(
        select(Window).where(Window.id.in_(window_ids)))} if window_ids else {}
    departments: dict[int, str] = {i: n for i, n in session.execute(select(Department.id, Department.name))}

    def facts(tally: _Tally, n_complaints: int, n_overdue: int | None, att: MonthAttendance | None) -> Facts:
        return Facts(tally.served, tally.minutes, tally.norm, tally.ratings, tally.good, n_complaints, n_overdue,
                     att.rate if att else None)

    return MonthInput(
        clerks={u: facts(clerk.get(u, _Tally()), complaints.by_clerk.get(u, 0), overdue.get(u, 0),
                         clerk_att.get(u)) for u in users},
        windows={w: facts(window.get(w, _Tally()), complaints.by_window.get(w, 0), None, window_att.get(w))
                 for w in window_names},
        clerk_attendance=clerk_att, window_attendance=window_att, users=users, window_names=window_names,
        departments=departments)


def _attendance(session: Session, *, period: Period,
                settings: Settings) -> tuple[dict[int, MonthAttendance], dict[int, MonthAttendance]]:
    shifts = store.shifts_between(session, period.start, period.now)
    if not shifts:
        return {}, {}
    calendar = calendar_service.build_calendar(session)
    days = [period.month + dt.timedelta(days=i) for i in range((period.last_day - period.month).days + 1)]
    workdays = [d for d in days if calendar.is_workday(d)]
    hours: dict[int, tuple[Opening, ...]] = {
        h.id: parse_opening_hours(h.opening_hours, settings.attendance_default_hours)
        for h in session.scalars(select(Hall))}
    default_hours = parse_opening_hours(settings.attendance_default_hours, settings.attendance_default_hours)
    user_ids = {s.user_id for s in shifts}
    user_hall: dict[int, int | None] = {i: h for i, h in session.execute(
        select(User.id, User.hall_id).where(User.id.in_(user_ids)))}
    by_user: dict[int, list[Shift]] = defaultdict(list)
    by_window: dict[int, list[Shift]] = defaultdict(list)
    first_hall: dict[int, int] = {}
    window_hall: dict[int, int] = {}
    for s in shifts:
        by_user[s.user_id].append(Shift(s.started_at, s.ended_at))
        by_window[s.window_id].append(Shift(s.started_at, s.ended_at))
        first_hall.setdefault(s.user_id, s.hall_id)
        window_hall[s.window_id] = s.hall_id
    grace = settings.attendance_grace_minutes

    def measure(items: Iterable[Shift], hall_id: int | None) -> MonthAttendance:
        opening = hours.get(hall_id, default_hours) if hall_id is not None else default_hours
        return month_attendance(workdays, opening, list(items), now=period.now, grace_minutes=grace)

    return ({u: measure(v, user_hall.get(u) or first_hall.get(u)) for u, v in by_user.items()},
            {w: measure(v, window_hall.get(w)) for w, v in by_window.items()})


# ----- computing, storing, reporting ---------------------------------------------------------------------------


def compute_month(session: Session, *, clock: Clock, month: dt.date, settings: Settings | None = None,
                  actor: Actor = SYSTEM) -> PerformanceMonth:
    """Gather, score, rank and store the month (replacing an earlier computation of it)."""
    settings = settings or get_settings()
    rules = store.rules_from(settings)
    period = Period.of(month, clock.now())
    data = gather(session, period=period, settings=settings)
    clerks = rank({u: (data.users[u].display_name, f) for u, f in data.clerks.items()}, rules)
    windows = rank({w: (data.window_names[w], f) for w, f in data.windows.items()}, rules)
    members: dict[int, list[int]] = defaultdict(list)
    for u, user in data.users.items():
        if user.department_id is not None:
            members[user.department_id].append(u)
    dept_facts: dict[int, tuple[str, Facts]] = {}
    dept_att: dict[int, MonthAttendance] = {}
    for d, ids in members.items():
        att = sum((data.clerk_attendance.get(u, MonthAttendance()) for u in ids), MonthAttendance())
        dept_att[d] = att
        dept_facts[d] = (data.departments.get(d, str(d)), combine([data.clerks[u] for u in ids],
                                                                attendance_rate=att.rate))
    departments = rank(dept_facts, rules)
    stars = {s.subject for s in awards(clerks, count=rules.stars)}
    to_departments = settings.performance_red_flag_to == SubjectKind.DEPARTMENT.value
    flags = {s.subject for s in awards(departments if to_departments else windows, count=1)}
    scored: list[tuple[Subject, Score[Any], Award | None, dict[str, Any] | None]] = []
    for s in clerks:
        user = data.users[s.subject]
        mine = data.clerk_attendance.get(s.subject)
        scored.append((Subject(SubjectKind.CLERK, s.subject, user_id=user.id, department_id=user.department_id),
                       s, Award.STAR if s.subject in stars else None, mine.as_dict() if mine else None))
    for s in windows:
        its = data.window_attendance.get(s.subject)
        scored.append((Subject(SubjectKind.WINDOW, s.subject), s,
                       Award.RED_FLAG if s.subject in flags and not to_departments else None,
                       its.as_dict() if its else None))
    for s in departments:
        scored.append((Subject(SubjectKind.DEPARTMENT, s.subject, department_id=s.subject), s,
                       Award.RED_FLAG if s.subject in flags and to_departments else None,
                       dept_att[s.subject].as_dict()))
    return store.store_month(session, clock=clock, month=period.month, rules=rules, scored=scored, actor=actor)


def send_reports(session: Session, *, clock: Clock, month: dt.date, base_url: str = "") -> int:
    """Put each department's monthly attendance and performance report into the outbox for its heads (once)."""
    month = store.month_start(month)
    rows = session.scalars(select(PerformanceScore).where(
        PerformanceScore.month == month, PerformanceScore.subject_kind == SubjectKind.DEPARTMENT.value))
    departments = {r.subject_id: r for r in rows}
    sent = 0
    label = f"{month.year}年{month.month}月"
    for head in store.report_recipients(session, sorted(departments)):
        dept = departments[head.department_id] if head.department_id is not None else None
        if dept is None:
            continue
        key = f"{month.isoformat()}:{dept.subject_id}:{head.id}"
        if notifications.enqueued(session, topic=REPORT_TOPIC, key="report_key", value=key):
            continue
        attendance = dept.facts.get("attendance") or {}
        rate = attendance.get("rate")
        url = f"{base_url.rstrip('/')}/performance?month={month:%Y-%m}&kind=clerk"
        body = (f"{dept.subject_name}{label}考勤与绩效月报：部门得分 {dept.score:g}"
                f"{f'（第 {dept.rank} 名）' if dept.rank else '（未排名）'}，办结 {dept.facts.get('served', 0)} 件，"
                f"在岗率 {'—' if rate is None else f'{rate * 100:.1f}%'}，"
                f"迟到 {attendance.get('late_days', 0)} 人次，缺勤 {attendance.get('absent_days', 0)} 人天。详见 {url}")
        notifications.enqueue(session, clock=clock, topic=REPORT_TOPIC, channel="sms",
                              recipient=head.phone or head.username, subject=f"{label}考勤与绩效月报", body=body,
                              payload={"report_key": key, "month": f"{month:%Y-%m}", "department_id": dept.subject_id,
                                       "score": dept.score, "rank": dept.rank, "url": url},
                              recipient_user_id=head.id)
        sent += 1
    store.mark_reported(session, clock=clock, month=month)
    return sent


def monthly_job(session: Session, *, clock: Clock) -> dict[str, int]:
    """The ``staff-performance`` job: once a month has ended, rank it and send its reports (once).

    A month ranked while it was still running (the demo, a recomputation from the page) is ranked again once it has
    ended; its reports go out once.
    """
    last_month = store.previous_month(today(clock))
    record = store.get_month(session, last_month)
    ended = Period.of(last_month, clock.now()).end
    computed = 0
    settings = get_settings()
    if record is None or record.computed_at < ended:
        record = compute_month(session, clock=clock, month=last_month, settings=settings)
        computed = 1
    reports = 0
    if record.reported_at is None:
        reports = send_reports(session, clock=clock, month=last_month, base_url=settings.base_url)
    return {"computed": computed, "ranked": record.ranked, "reports": reports}


# ----- the department's report (Excel) --------------------------------------------------------------------------

REPORT_COLUMNS = ("排名", "姓名", "得分", "服务明星", "办结件数", "平均办理（分钟）", "标准（分钟）", "评价次数",
                  "满意率", "有效投诉", "超期环节", "应出勤天数", "出勤天数", "缺勤天数", "迟到", "早退", "在岗率",
                  "说明")


def report_workbook(scores: list[PerformanceScore], *, title: str) -> bytes:
    """The monthly attendance and performance report of a department (or the center) as .xlsx."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None  # a new workbook has its sheet  # noqa: S101
    ws.title = "考勤与绩效"
    ws.append([title])
    ws["A1"].font = Font(bold=True, size=14)
    ws.append(list(REPORT_COLUMNS))
    for c in ws[2]:
        c.font = Font(bold=True)
    for s in scores:
        f = s.facts
        att = f.get("attendance") or {}
        served = int(f.get("served") or 0)
        ratings = int(f.get("ratings") or 0)
        rate = att.get("rate")
        ws.append([s.rank or "未排名", s.subject_name, s.score, "是" if s.award == Award.STAR.value else "",
                   served, round(f.get("service_minutes", 0) / served, 1) if served else 0,
                   round(f.get("norm_minutes", 0) / served, 1) if served else 0, ratings,
                   f"{int(f.get('good_ratings') or 0) / ratings * 100:.1f}%" if ratings else "—",
                   f.get("complaints", 0), f.get("overdue") if f.get("overdue") is not None else "—",
                   att.get("working_days", "—"), att.get("present_days", "—"), att.get("absent_days", "—"),
                   att.get("late_days", "—"), att.get("early_days", "—"),
                   "—" if rate is None else f"{rate * 100:.1f}%", s.note])
    parts = wb.create_sheet("得分明细")
    parts.append(["姓名", "项目", "权重", "得分", "折算", "说明"])
    for c in parts[1]:
        c.font = Font(bold=True)
    for s in scores:
        for p in s.parts:
            parts.append([s.subject_name, p.get("label"), p.get("weight"), p.get("points"), p.get("contribution"),
                          p.get("explanation")])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def load_demo_performance(session: Session, clock: Clock) -> PerformanceMonth:
    """The demo's month so far, ranked (the demo's windows, visits and ratings), so the pages have figures."""
    return compute_month(session, clock=clock, month=store.month_start(today(clock)), settings=get_settings())
