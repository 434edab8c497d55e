"""The built-in 电子监察 rules: each a finder over plain rows (set-based: one or two grouped queries per rule,
no ORM objects, nothing per record but arithmetic), registered on import.

Case rules read what the deadline sweep (``cases.sweep``) stores (the yellow / red warning, the due dates) and
the review steps; hall rules read the live queue (tickets, windows, the window schedule); the 差评 rule reads
rectification work orders. Which department answers for an alert: the case's or the order's department, the
clerk's department for a person's absence or an idle window, the hall department (a setting) for the queue.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from onewindow.cases.kinds import CaseKind
from onewindow.cases.models import Case, CaseStep
from onewindow.cases.states import CaseState
from onewindow.catalog.models import Hall, HallCategory, ItemVersion
from onewindow.complaints.models import Complaint
from onewindow.complaints.states import STATE_LABELS as COMPLAINT_STATE_LABELS
from onewindow.complaints.states import ComplaintState
from onewindow.core.clock import CHINA_TZ
from onewindow.queue.models import Ticket, Window, WindowStatus
from onewindow.queue.states import TicketState
from onewindow.rectification.models import RectificationOrder
from onewindow.rectification.states import CLOCK_RUNNING, SourceKind
from onewindow.staff.models import User
from onewindow.supervision.models import WindowDuty
from onewindow.supervision.rules import (
    Context,
    Finding,
    Level,
    Rule,
    current_period,
    opening_periods,
    register_rule,
    step_limit,
    waited_minutes,
)

RUNNING = (CaseState.ACCEPTED.value, CaseState.IN_REVIEW.value)
OPEN = (*RUNNING, CaseState.SUSPENDED.value)
_CHUNK = 500


def _title(name: str | None) -> str:
    return name or "一件事"


def _between(ctx: Context, start: dt.date, end: dt.date) -> int:
    """Working days from ``start`` to ``end``, remembered for the sweep (many records share their dates)."""
    key = (start, end)
    found = ctx.memo.get(key)
    if found is None:
        found = ctx.memo[key] = ctx.calendar.working_days_between(start, end)
    return found


_CHINA_OFFSET = dt.timedelta(hours=8)  # CHINA_TZ: UTC+8 all year (no daylight saving)


def _local_date(at: dt.datetime | str) -> dt.date:
    """The China date of a stored instant (SQLite's aggregate answers it as UTC text)."""
    if isinstance(at, str):
        return (dt.datetime.fromisoformat(at[:19]) + _CHINA_OFFSET).date()
    return at.astimezone(CHINA_TZ).date()


# ----- cases ------------------------------------------------------------------------------------------------


def _warned(session: Session, ctx: Context, level: Level) -> Iterable[Finding]:
    rows = session.connection().execute(
        select(Case.id, Case.number, Case.department_id, Case.promised_due, Case.legal_due, Case.accepted_on,
               ItemVersion.name)
        .join(ItemVersion, ItemVersion.id == Case.item_version_id, isouter=True)
        .where(Case.warning == level.value, Case.state.in_(RUNNING), Case.kind != CaseKind.BUNDLE.value))
    text = "距承诺办结期限仅剩 1 个工作日" if level is Level.YELLOW else "已超过承诺办结期限"
    for case_id, number, department_id, promised, legal, accepted, name in rows:
        if promised is None:
            continue
        late = max(0, _between(ctx, promised, ctx.today)) if level is Level.RED else 0
        yield Finding("case", case_id, department_id, f"{number}（{_title(name)}）{text}（{promised:%Y-%m-%d}）",
                      {"case_number": number, "item": _title(name), "accepted_on": accepted.isoformat() if accepted
                       else None, "promised_due": promised.isoformat(), "legal_due": legal.isoformat() if legal
                       else None, "working_days_late": late},
                      episode=promised.isoformat(), level=level, link=f"/cases/{case_id}")


def find_case_yellow(session: Session, ctx: Context) -> Iterable[Finding]:
    """办件临期: a running case on the last working day before its promised date (the sweep's yellow)."""
    return _warned(session, ctx, Level.YELLOW)


def find_case_red(session: Session, ctx: Context) -> Iterable[Finding]:
    """办件超期: a running case past its promised date (the sweep's red)."""
    return _warned(session, ctx, Level.RED)


def find_step_overdue(session: Session, ctx: Context) -> Iterable[Finding]:
    """环节超时: the current review step of a running case past its own limit (its share of the promised days),
    whether or not the case as a whole is on time."""
    running = Case.state.in_(RUNNING)
    # one grouped pass over the steps of every running case: the first pending step, the number of steps, the
    # last done; then that step's row (plain rows through the connection: no ORM objects)
    per_case = (select(CaseStep.case_id,
                       func.min(case((CaseStep.status == "pending", CaseStep.position))).label("position"),
                       func.count().label("steps"),
                       func.max(case((CaseStep.status == "done", CaseStep.done_at))).label("done_at"))
                .join(Case, Case.id == CaseStep.case_id).where(running).group_by(CaseStep.case_id).subquery())
    rows = session.connection().execute(
        select(Case.id, Case.number, Case.department_id, Case.accepted_on, Case.promised_days, Case.promised_due,
               Case.warning, per_case.c.position, per_case.c.steps, per_case.c.done_at, CaseStep.id, CaseStep.name)
        .join(per_case, per_case.c.case_id == Case.id)
        .join(CaseStep, (CaseStep.case_id == Case.id) & (CaseStep.position == per_case.c.position))
        .where(running, Case.kind != CaseKind.BUNDLE.value, Case.accepted_on.is_not(None)))
    dues: dict[tuple[dt.date, int], dt.date] = {}
    minimum = ctx.thresholds.step_min_working_days
    for (case_id, number, department_id, accepted_on, promised_days, promised_due, warning, position, steps,
         done_at, step_id, step_name) in rows:
        started = _local_date(done_at) if done_at is not None else accepted_on
        limit = step_limit(promised_days or 0, steps, minimum)
        due = dues.get((started, limit))
        if due is None:
            due = dues[(started, limit)] = ctx.calendar.add_working_days(started, limit).date
        if ctx.today <= due:
            continue
        yield Finding("case_step", step_id, department_id,
                      f"{number} 的“{step_name}”环节超过本环节时限（{limit} 个工作日，应于 {due:%Y-%m-%d} 前完成）",
                      {"case_number": number, "step": step_name, "position": position, "steps": steps,
                       "started_on": started.isoformat(), "step_limit_working_days": limit,
                       "step_due": due.isoformat(), "working_days_late": _between(ctx, due, ctx.today),
                       "case_promised_due": promised_due.isoformat() if promised_due else None,
                       "case_warning": warning},
                      episode=due.isoformat(), level=Level.YELLOW, link=f"/cases/{case_id}")


def find_deferral_due(session: Session, ctx: Context) -> Iterable[Finding]:
    """容缺逾期: deferred materials still outstanding within the warning days of their date, or past it."""
    horizon = ctx.calendar.add_working_days(ctx.today, ctx.thresholds.deferral_warn_working_days).date
    rows = session.execute(
        select(Case.id, Case.number, Case.department_id, Case.deferral_due, ItemVersion.name)
        .join(ItemVersion, ItemVersion.id == Case.item_version_id, isouter=True)
        .where(Case.deferred.is_(True), Case.deferral_due <= horizon, Case.kind != CaseKind.SUB.value,
               Case.state.in_((*OPEN, CaseState.APPROVED.value))))
    for case_id, number, department_id, due, name in rows:
        if due is None:
            continue
        late = due < ctx.today
        text = "已逾期" if late else "即将到期"
        yield Finding("case", case_id, department_id,
                      f"{number}（{_title(name)}）容缺材料{text}仍未补齐（补齐期限 {due:%Y-%m-%d}）",
                      {"case_number": number, "item": _title(name), "deferral_due": due.isoformat(),
                       "working_days_left": _between(ctx, ctx.today, due)},
                      episode=due.isoformat(), level=Level.RED if late else Level.YELLOW, link=f"/cases/{case_id}")


# ----- the hall -------------------------------------------------------------------------------------------------


def find_ticket_wait(session: Session, ctx: Context) -> Iterable[Finding]:
    """等候超时: a ticket of today waiting longer than the threshold."""
    limit = ctx.now - dt.timedelta(minutes=ctx.thresholds.ticket_wait_min)
    rows = session.execute(
        select(Ticket.id, Ticket.number, Ticket.queued_at, Ticket.issued_at, Hall.name, HallCategory.name)
        .join(Hall, Hall.id == Ticket.hall_id).join(HallCategory, HallCategory.id == Ticket.category_id)
        .where(Ticket.day == ctx.today, Ticket.state == TicketState.WAITING.value, Ticket.queued_at <= limit))
    for ticket_id, number, queued_at, issued_at, hall, category in rows:
        minutes = waited_minutes(queued_at, ctx.now)
        yield Finding("ticket", ticket_id, ctx.hall_department_id,
                      f"{hall} {number}（{category}）已等候 {minutes} 分钟",
                      {"hall": hall, "ticket": number, "category": category, "waited_min": minutes,
                       "threshold_min": ctx.thresholds.ticket_wait_min,
                       "queued_at": queued_at.astimezone(CHINA_TZ).strftime("%H:%M"),
                       "issued_at": issued_at.astimezone(CHINA_TZ).strftime("%H:%M")},
                      episode=queued_at.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%S"),
                      level=Level.RED if minutes >= 2 * ctx.thresholds.ticket_wait_min else Level.YELLOW)


def find_queue_backlog(session: Session, ctx: Context) -> Iterable[Finding]:
    """排队积压: more tickets of a category waiting than the threshold while a window qualified for it is
    paused or unstaffed."""
    waiting = session.execute(
        select(Ticket.hall_id, Ticket.category_id, func.count())
        .where(Ticket.day == ctx.today, Ticket.state == TicketState.WAITING.value)
        .group_by(Ticket.hall_id, Ticket.category_id)
        .having(func.count() > ctx.thresholds.queue_length)).all()
    if not waiting:
        return
    halls = {h for h, _c, _n in waiting}
    categories = dict(session.execute(select(HallCategory.id, HallCategory.code)).all())
    names = dict(session.execute(select(HallCategory.id, HallCategory.name)).all())
    hall_names = dict(session.execute(select(Hall.id, Hall.name).where(Hall.id.in_(halls))).all())
    windows = session.execute(select(Window.hall_id, Window.number, Window.skills, Window.status)
                              .where(Window.hall_id.in_(halls))).all()
    for hall_id, category_id, count in waiting:
        code = categories.get(category_id)
        idle = sorted((number, status) for h, number, skills, status in windows
                      if h == hall_id and code in (skills or [])
                      and status in (WindowStatus.PAUSED.value, WindowStatus.OFFLINE.value))
        if not idle:
            continue
        listed = [{"window": n, "status": WindowStatus(s).label} for n, s in idle]
        yield Finding("queue", category_id, ctx.hall_department_id,
                      f"{hall_names.get(hall_id, '')} {names.get(category_id, '')} 排队 {count} 人，"
                      f"{len(idle)} 个可办窗口暂停或无人",
                      {"hall": hall_names.get(hall_id, ""), "category": names.get(category_id, ""),
                       "waiting": count, "threshold": ctx.thresholds.queue_length, "windows": listed},
                      episode=f"{hall_id}:{ctx.today.isoformat()}", level=Level.RED)


def _last_calls(session: Session, ctx: Context) -> dict[int, dt.datetime]:
    return {w: at for w, at in session.execute(
        select(Ticket.window_id, func.max(Ticket.last_called_at))
        .where(Ticket.day == ctx.today, Ticket.window_id.is_not(None), Ticket.last_called_at.is_not(None))
        .group_by(Ticket.window_id)) if w is not None and at is not None}


def find_window_idle(session: Session, ctx: Context) -> Iterable[Finding]:
    """窗口空闲不叫号: a window signed in and idle, with tickets of its skills waiting, and no call for longer than
    the threshold since it signed in or last called."""
    windows = session.execute(
        select(Window.id, Window.hall_id, Window.number, Window.skills, Window.signed_in_at, Window.clerk_id,
               User.display_name, User.department_id, Hall.name)
        .join(User, User.id == Window.clerk_id, isouter=True).join(Hall, Hall.id == Window.hall_id)
        .where(Window.status == WindowStatus.IDLE.value, Window.signed_in_at.is_not(None))).all()
    if not windows:
        return
    last = _last_calls(session, ctx)
    codes = dict(session.execute(select(HallCategory.id, HallCategory.code)).all())
    waiting: dict[int, set[str]] = defaultdict(set)
    for hall_id, category_id in session.execute(
            select(Ticket.hall_id, Ticket.category_id).distinct()
            .where(Ticket.day == ctx.today, Ticket.state == TicketState.WAITING.value)):
        waiting[hall_id].add(codes.get(category_id, ""))
    for window_id, hall_id, number, skills, signed_in_at, _clerk_id, name, department_id, hall in windows:
        since = max(x for x in (signed_in_at, last.get(window_id)) if x is not None)
        minutes = waited_minutes(since, ctx.now)
        if minutes < ctx.thresholds.window_idle_min or not (set(skills or []) & waiting[hall_id]):
            continue
        yield Finding("window", window_id, department_id or ctx.hall_department_id,
                      f"{hall} {number} 号窗口（{name or '未知人员'}）已 {minutes} 分钟未叫号，仍有群众等候",
                      {"hall": hall, "window": number, "clerk": name, "idle_min": minutes,
                       "threshold_min": ctx.thresholds.window_idle_min,
                       "since": since.astimezone(CHINA_TZ).strftime("%H:%M")},
                      episode=since.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%S"))


def find_clerk_absent(session: Session, ctx: Context) -> Iterable[Finding]:
    """人员离岗: during the hall's opening hours on a working day, the clerk scheduled at a window
    (``WindowDuty``) is not signed in there, the grace minutes after the period opened having passed."""
    if not ctx.calendar.is_workday(ctx.today):
        return
    rows = session.execute(
        select(WindowDuty.user_id, User.display_name, User.department_id, Window.id, Window.number,
               Window.clerk_id, Window.status, Hall.name, Hall.opening_hours)
        .join(Window, Window.id == WindowDuty.window_id).join(Hall, Hall.id == Window.hall_id)
        .join(User, User.id == WindowDuty.user_id).where(User.is_active.is_(True))).all()
    for user_id, name, department_id, window_id, number, clerk_id, status, hall, hours in rows:
        period = current_period(opening_periods(hours), ctx.local_time)
        if period is None:
            continue
        opened = dt.datetime.combine(ctx.today, period[0], tzinfo=CHINA_TZ)
        if ctx.now < opened + dt.timedelta(minutes=ctx.thresholds.absence_grace_min):
            continue
        if clerk_id == user_id and status != WindowStatus.OFFLINE.value:
            continue
        yield Finding("user", user_id, department_id or ctx.hall_department_id,
                      f"{name} 未在排定的 {hall} {number} 号窗口在岗",
                      {"clerk": name, "hall": hall, "window": number, "opening": f"{period[0]:%H:%M}-{period[1]:%H:%M}",
                       "window_status": WindowStatus(status).label,
                       "minutes_since_opening": waited_minutes(opened, ctx.now)},
                      episode=f"{ctx.today.isoformat()} {period[0]:%H%M} {window_id}")


# ----- 差评 work orders ------------------------------------------------------------------------------------------


def find_order_due(session: Session, ctx: Context) -> Iterable[Finding]:
    """差评整改临期: a rectification order of a 差评 being rectified, due within the warning days or overdue."""
    horizon = ctx.calendar.add_working_days(ctx.today, ctx.thresholds.order_warn_working_days).date
    rows = session.execute(
        select(RectificationOrder.id, RectificationOrder.number, RectificationOrder.department_id,
               RectificationOrder.title, RectificationOrder.due_on)
        .where(RectificationOrder.state.in_([s.value for s in CLOCK_RUNNING]),
               RectificationOrder.source_kind == SourceKind.RATING.value, RectificationOrder.due_on <= horizon))
    for order_id, number, department_id, title, due in rows:
        if due is None:
            continue
        late = due < ctx.today
        yield Finding("order", order_id, department_id,
                      f"差评整改工单 {number} {'已超过' if late else '临近'}整改期限（{due:%Y-%m-%d}）",
                      {"order": number, "title": title, "due_on": due.isoformat(),
                       "working_days_left": ctx.calendar.working_days_between(ctx.today, due)},
                      episode=due.isoformat(), level=Level.RED if late else Level.YELLOW,
                      link=f"/rectifications/{order_id}")


# ----- 有诉即办 work orders ---------------------------------------------------------------------------------------

UNANSWERED = (ComplaintState.ACCEPTED, ComplaintState.DISPATCHED, ComplaintState.RETURNED, ComplaintState.HANDLING)


def find_complaint_due(session: Session, ctx: Context) -> Iterable[Finding]:
    """诉求临期: a complaint not yet answered (答复), due within the warning days or past its limit.

    It answers to its lead department (主办) or, before 派单, to the center (综合窗口)."""
    horizon = ctx.calendar.add_working_days(ctx.today, ctx.thresholds.order_warn_working_days).date
    rows = session.execute(
        select(Complaint.id, Complaint.number, Complaint.lead_department_id, Complaint.subject, Complaint.state,
               Complaint.due_on)
        .where(Complaint.state.in_([s.value for s in UNANSWERED]), Complaint.due_on <= horizon))
    for complaint_id, number, department_id, subject, state, due in rows:
        late = due < ctx.today
        yield Finding("complaint", complaint_id, department_id or ctx.hall_department_id,
                      f"诉求工单 {number} {'已超过' if late else '临近'}办理时限（{due:%Y-%m-%d}）",
                      {"complaint": number, "subject": subject,
                       "state": COMPLAINT_STATE_LABELS[ComplaintState(state)], "due_on": due.isoformat(),
                       "working_days_left": ctx.calendar.working_days_between(ctx.today, due)},
                      episode=f"{due.isoformat()} {'late' if late else 'near'}",  # yellow, then red
                      level=Level.RED if late else Level.YELLOW, link=f"/complaints/{complaint_id}")


BUILT_IN: tuple[Rule, ...] = (
    Rule("case_step_overdue", "环节超时",
         "在办件的当前审查环节超过本环节时限（承诺时限按环节平均分配），即使整个办件未超期", find_step_overdue,
         ("supervision_step_min_working_days",)),
    Rule("case_yellow", "办件临期（黄牌）", "在办件距承诺办结期限仅剩 1 个工作日", find_case_yellow),
    Rule("case_red", "办件超期（红牌）", "在办件已超过承诺办结期限", find_case_red),
    Rule("deferral_due", "容缺材料逾期", "容缺受理的材料临近或超过补齐期限仍未补齐", find_deferral_due,
         ("supervision_deferral_warn_working_days",)),
    Rule("ticket_wait", "等候超时", "群众取号后等候时间超过阈值", find_ticket_wait, ("supervision_ticket_wait_min",)),
    Rule("queue_backlog", "排队积压", "某类业务排队人数超过阈值，且有可办该业务的窗口暂停服务或无人签到",
         find_queue_backlog, ("supervision_queue_length",)),
    Rule("window_idle", "窗口长时间未叫号", "窗口已签到空闲、仍有可办群众等候，但长时间未叫号", find_window_idle,
         ("supervision_window_idle_min",)),
    Rule("clerk_absent", "人员离岗", "办公时间内，排定在窗口的工作人员未在该窗口签到", find_clerk_absent,
         ("supervision_absence_grace_min",)),
    Rule("order_due", "差评整改临期", "差评整改工单临近或超过整改期限仍未整改完成", find_order_due,
         ("supervision_order_warn_working_days",)),
    Rule("complaint_due", "诉求临期", "有诉即办诉求工单临近或超过办理时限仍未答复", find_complaint_due,
         ("supervision_order_warn_working_days",)),
)

for _rule in BUILT_IN:
    register_rule(_rule)
