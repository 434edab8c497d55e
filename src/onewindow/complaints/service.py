"""有诉即办 / 12345 work orders: the published service every edge (window, public page, API, CLI, wiring) calls.

受理 (:func:`file_complaint`) → 派单 (:func:`dispatch`, a 主办 and optional 协办) → 签收 (:func:`sign`) → 退单
(:func:`return_order`) → 改派 (:func:`dispatch` again) or the center's decision (:func:`decide_dispute`) → 答复
(:func:`reply`) → 回访 (:func:`record_callback`: 满意 / 基本满意 close, 不满意 reopens, 重办) → 办结归档.
Duplicates are merged (:func:`merge`), the supervisor sets a 督办 deadline (:func:`supervise`), and the overdue
sweep (:mod:`onewindow.complaints.sweep`) urges (催办) every open order past its limit.

Every write validates everything first (422 with the field and a Chinese reason, nothing written), locks the
order, checks the caller's ``expected_version`` (409 ``stale_version``), moves through
:func:`onewindow.complaints.states.check_transition` (409 ``illegal_complaint_transition``), bumps the version and
writes a timeline event and an audit entry. The access policy is asked with the order's departments (the
current 主办 and the active 协办). The citizen gets an SMS through the outbox at 受理, 答复 and 回访. Functions
flush, never commit: the edge owns the transaction.

The limit (``due_at``) comes from :func:`onewindow.complaints.rules.due` at 受理 and is never recomputed: a return
or a re-dispatch does not restart the clock.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from onewindow.calendar.service import build_calendar
from onewindow.catalog.models import Department, Hall
from onewindow.complaints import rules
from onewindow.complaints.models import Complaint, ComplaintAssignment, ComplaintEvent
from onewindow.complaints.rules import Limits
from onewindow.complaints.states import (
    AT_CENTER,
    CATEGORY_LABELS,
    OPEN,
    AssignmentRole,
    Category,
    Channel,
    ComplaintState,
    Verdict,
    after_callback,
    check_transition,
)
from onewindow.config import get_settings
from onewindow.core import access, audit
from onewindow.core.access import Action, Record
from onewindow.core.audit import Actor
from onewindow.core.clock import Clock, today
from onewindow.core.errors import Conflict, NotFound, PermissionDenied, Problem, ValidationFailed
from onewindow.core.ids import is_valid_id_number, mask_id_number, mask_phone
from onewindow.core.locking import lock_versioned, write_versioned
from onewindow.core.personal import mask_text
from onewindow.core.validation import clean
from onewindow.notifications import service as notifications
from onewindow.rectification.models import RectificationOrder
from onewindow.rectification.states import SourceKind as RectificationSource
from onewindow.staff.models import User
from onewindow.staff.service import actor_of, viewer_of

S = ComplaintState
TEXT_MAX = 4000
NUMBER_ATTEMPTS = 8
PUBLIC_ACTOR = Actor(None, "public")
SYSTEM_NAME = "系统"
PHONE_RE = re.compile(r"^(1\d{10}|0\d{2,3}-?\d{7,8})$")
SMS_TOPIC_ACCEPTED = "complaint.accepted"
SMS_TOPIC_REPLIED = "complaint.replied"
SMS_TOPIC_CALLBACK = "complaint.callback"

# Chinese names accepted for a category wherever people type one (the window, the 12345 file)
CATEGORY_BY_NAME: dict[str, Category] = {**{c.value: c for c in Category},
                                         **{label: c for c, label in CATEGORY_LABELS.items()}}


def limits(limits_: Limits | None = None) -> Limits:
    """The limits to use: the ones given, or the settings'."""
    return limits_ if limits_ is not None else rules.limits_from_settings(get_settings())


# ----- input ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ComplaintIn:
    """What is filed: the matter, the citizen (or anonymous), and where it came from."""

    category: str = ""
    subject: str = ""
    content: str = ""
    urgent: bool = False
    item_code: str = ""
    hall_id: int | None = None
    complainant_name: str = ""
    complainant_phone: str = ""
    complainant_id_number: str = ""
    anonymous: bool = False
    complainant_user_id: int | None = None


@dataclass(frozen=True)
class Checked:
    """A validated :class:`ComplaintIn`, cleaned."""

    category: Category
    subject: str
    content: str
    urgent: bool
    item_code: str | None
    hall_id: int | None
    name: str
    phone: str
    id_number: str | None
    anonymous: bool
    user_id: int | None



def parse_category(raw: str) -> Category | None:
    """The category named by a code (``complain``) or its Chinese label (投诉), or None."""
    return CATEGORY_BY_NAME.get(clean(raw, 20))


def check_intake(data: ComplaintIn, *, need_contact: bool = True) -> tuple[Checked | None, list[Problem]]:
    """Validate a filing: every problem at once (category, subject, content, name and phone unless anonymous)."""
    problems: list[Problem] = []
    category = parse_category(data.category)
    if not clean(data.category, TEXT_MAX):
        problems.append(Problem("category", "category_required", "请选择诉求类别：咨询、求助、建议、投诉或举报"))
    elif category is None:
        problems.append(Problem("category", "category_invalid", "诉求类别应为咨询、求助、建议、投诉或举报"))
    subject = clean(data.subject, 200)
    if not subject:
        problems.append(Problem("subject", "subject_required", "请填写诉求标题"))
    content = clean(data.content, TEXT_MAX)
    if not content:
        problems.append(Problem("content", "content_required", "请填写诉求内容"))
    name = clean(data.complainant_name, 100)
    phone = "".join(clean(data.complainant_phone, 40).split())
    if phone and not PHONE_RE.match(phone):
        problems.append(Problem("complainant_phone", "phone_invalid", "联系电话应为 11 位手机号码或带区号的固定电话"))
    if not data.anonymous and need_contact:
        if not name:
            problems.append(Problem("complainant_name", "name_required", "实名诉求请填写姓名（或选择匿名）"))
        if not phone:
            problems.append(Problem("complainant_phone", "phone_required", "实名诉求请填写联系电话（或选择匿名）"))
    id_number = clean(data.complainant_id_number, 18).upper() or None
    if id_number and not is_valid_id_number(id_number):
        problems.append(Problem("complainant_id_number", "id_number_invalid", "身份证号码不正确"))
    if problems or category is None:
        return None, problems
    return Checked(category=category, subject=subject, content=content, urgent=bool(data.urgent),
                   item_code=clean(data.item_code, 64) or None, hall_id=data.hall_id, name=name, phone=phone,
                   id_number=id_number, anonymous=bool(data.anonymous), user_id=data.complainant_user_id), []


# ----- helpers shared by the verbs -------------------------------------------------------------------------------


def active_assignments(session: Session, complaint_ids: Iterable[int]) -> dict[int, list[ComplaintAssignment]]:
    """The active assignments of many orders, by order id (one query)."""
    ids = sorted(set(complaint_ids))
    out: dict[int, list[ComplaintAssignment]] = {i: [] for i in ids}
    if not ids:
        return out
    for a in session.scalars(select(ComplaintAssignment).where(ComplaintAssignment.complaint_id.in_(ids),
                                                              ComplaintAssignment.active.is_(True))
                             .order_by(ComplaintAssignment.id)):
        out[a.complaint_id].append(a)
    return out


def record_of(session: Session, complaint: Complaint) -> Record:
    """What the access policy needs to know of an order: the current 主办 and every department taking part."""
    assists = frozenset(a.department_id for a in active_assignments(session, [complaint.id])[complaint.id])
    return Record(department=complaint.lead_department_id, departments=assists)


def snapshot(c: Complaint) -> dict[str, Any]:
    """The audited fields of an order (personal numbers masked)."""
    return {"number": c.number, "state": c.state, "version": c.version, "category": c.category,
            "lead_department_id": c.lead_department_id, "due_at": c.due_at, "overdue": c.overdue,
            "reopen_count": c.reopen_count, "return_count": c.return_count, "urge_count": c.urge_count,
            "supervised_due_on": c.supervised_due_on, "merged_into_id": c.merged_into_id, "solved": c.solved,
            "complainant_phone": mask_phone(c.complainant_phone) if c.complainant_phone else "",
            "complainant_id_number": mask_id_number(c.complainant_id_number) if c.complainant_id_number else ""}


def _actor_name(session: Session, actor: Actor) -> str:
    if actor.id is None:
        return SYSTEM_NAME if actor.label == "system" else ("群众" if actor.label == "public" else actor.label)
    person = session.get(User, actor.id)
    return (person.display_name if person else actor.label)[:64]


def _event(session: Session, c: Complaint, *, clock: Clock, actor: Actor, kind: str, state_from: str | None,
           state_to: str | None, note: str = "", data: Mapping[str, Any] | None = None) -> ComplaintEvent:
    ev = ComplaintEvent(complaint_id=c.id, at=clock.now(), actor=_actor_name(session, actor), actor_id=actor.id,
                        kind=kind, state_from=state_from, state_to=state_to, note=note[:TEXT_MAX],
                        data=audit.canonical(dict(data or {})))
    session.add(ev)
    return ev


def _write(session: Session, c: Complaint, target: ComplaintState | None, *, clock: Clock, actor: Actor, kind: str,
           note: str = "", data: Mapping[str, Any] | None = None, change: Callable[[], None] | None = None) -> None:
    """The one way an order changes (``core.locking.write_versioned``), with its timeline row."""
    def event(source: str, state_to: str | None) -> None:
        _event(session, c, clock=clock, actor=actor, kind=kind, state_from=source, state_to=state_to, note=note,
               data=data)

    write_versioned(session, c, target, clock=clock, actor=actor, action=f"complaints.{kind}",
                    entity_type="complaint", snapshot=snapshot, check=check_transition, event=event, change=change)


def _lock(session: Session, complaint_id: int, expected_version: int | None) -> Complaint:
    return lock_versioned(session, Complaint, complaint_id, expected_version, label="诉求工单")


def _begin(session: Session, user: User, action: Action, complaint_id: int,
           expected_version: int | None) -> tuple[Complaint, Actor]:
    """Lock the order, check the version and the access policy; the actor for the audit."""
    c = _lock(session, complaint_id, expected_version)
    access.require(viewer_of(user), action, record_of(session, c))
    return c, actor_of(user)


def _required(value: str, name: str, what: str) -> str:
    text = clean(value, TEXT_MAX)
    if not text:
        raise ValidationFailed([Problem(name, f"{name}_required", f"请填写{what}")])
    return text


def _sms(session: Session, c: Complaint, *, clock: Clock, topic: str, subject: str, body: str) -> None:
    """An SMS-style notice to the citizen (only when they left a mobile number)."""
    phone = (c.complainant_phone or "").strip()
    if not phone.startswith("1"):
        return
    notifications.enqueue(session, clock=clock, topic=topic, channel="sms", recipient=phone, subject=subject,
                          body=body, payload={"complaint_id": c.id, "number": c.number, "state": c.state,
                                              "tracking_code": c.tracking_code},
                          recipient_user_id=c.complainant_user_id)


# ----- 受理 ------------------------------------------------------------------------------------------------------


def _next_number(session: Session, day: dt.date) -> str:
    first, last_possible = rules.number_range(day)
    last = session.scalar(select(func.max(Complaint.number)).where(Complaint.number.between(first, last_possible)))
    sequence = int(last[-4:]) + 1 if last else 1
    if sequence > rules.MAX_DAILY_SEQUENCE:
        raise Conflict("当日诉求工单编号已用尽", code="number_exhausted")
    return rules.format_number(day, sequence)


def complaint_for(session: Session, source_kind: str, source_id: int) -> Complaint | None:
    """The order raised by another domain's record (an escalated 差评, an experiencer report), if any."""
    return session.scalars(select(Complaint).where(Complaint.source_kind == source_kind,
                                                   Complaint.source_id == source_id)).first()


def file_complaint(session: Session, *, clock: Clock, data: ComplaintIn, channel: Channel | str,
                   user: User | None = None, actor: Actor | None = None, answer: str = "",
                   source_kind: str | None = None, source_id: int | None = None,
                   limits_: Limits | None = None) -> Complaint:
    """受理: validate, number, compute the limit and file the order (and answer a 咨询 on the spot when ``answer``).

    ``user`` is the window clerk (the access policy's ``complaints.file``); the public page passes none.
    An order raised by another domain's record (``source_kind`` + ``source_id``) is filed once (idempotent).
    """
    ch = Channel(channel)
    if user is not None:
        access.require(viewer_of(user), Action.COMPLAINT_FILE)
    elif ch is Channel.WINDOW:
        raise PermissionDenied("有诉即办窗口登记须由窗口人员办理")
    if source_kind is not None and source_id is not None:
        existing = complaint_for(session, source_kind, source_id)
        if existing is not None:
            return existing
    checked, problems = check_intake(data, need_contact=ch in (Channel.WINDOW, Channel.ONLINE))
    answer_text = clean(answer, TEXT_MAX)
    if answer_text and checked is not None and (checked.category is not Category.CONSULT or ch is not Channel.WINDOW):
        problems.append(Problem("answer", "answer_not_allowed", "只有窗口受理的咨询可以当场答复"))
    if checked is not None and checked.hall_id is not None and session.get(Hall, checked.hall_id) is None:
        problems.append(Problem("hall_id", "hall_unknown", "没有这个大厅"))
    if problems or checked is None:
        raise ValidationFailed(problems)
    who = actor or (actor_of(user) if user is not None else PUBLIC_ACTOR)
    now = clock.now()
    due = rules.due(build_calendar(session), accepted_at=now, category=checked.category, urgent=checked.urgent,
                    limits=limits(limits_))
    c = Complaint(
        channel=ch.value, source_kind=source_kind, source_id=source_id, category=checked.category.value,
        urgent=checked.urgent, subject=checked.subject, content=checked.content, item_code=checked.item_code,
        hall_id=checked.hall_id, complainant_name="" if checked.anonymous else checked.name,
        complainant_phone=checked.phone, complainant_id_number=None if checked.anonymous else checked.id_number,
        anonymous=checked.anonymous, complainant_user_id=checked.user_id, state=S.ACCEPTED.value, version=1,
        accepted_at=now, accepted_on=rules.local_date(now), limit_days=due.limit_days, due_on=due.on,
        due_at=due.at, due_provisional=due.provisional, overdue=False, reply="", callback_note="", reopen_count=0,
        return_count=0, urge_count=0, created_by=who.id, updated_at=now)
    for attempt in range(NUMBER_ATTEMPTS):
        c.number = _next_number(session, c.accepted_on)
        c.tracking_code = rules.new_tracking_code()
        try:
            # a savepoint per attempt: a concurrent caller may take the number (or the source) first
            with session.begin_nested():
                session.add(c)
                session.flush()
            break
        except IntegrityError:
            if source_kind is not None and source_id is not None:
                raced = complaint_for(session, source_kind, source_id)
                if raced is not None:
                    return raced
            if attempt == NUMBER_ATTEMPTS - 1:
                raise Conflict("诉求工单编号分配冲突，请重试", code="number_conflict") from None
    _event(session, c, clock=clock, actor=who, kind="accepted", state_from=None, state_to=S.ACCEPTED.value,
           note=c.subject, data={"channel": ch.value, "due_at": c.due_at, "limit_days": c.limit_days})
    audit.record(session, clock=clock, actor=who, action="complaints.accepted", entity_type="complaint",
                 entity_id=c.number, before=None, after=snapshot(c))
    _sms(session, c, clock=clock, topic=SMS_TOPIC_ACCEPTED, subject="诉求已受理",
         body=f"您的诉求（{c.subject[:30]}）已受理，编号{c.number}，查询码{c.tracking_code}，"
              f"将于{c.due_on:%Y年%m月%d日}前答复。")
    if answer_text:
        _write(session, c, S.REPLIED, clock=clock, actor=who, kind="answered_on_spot", note=answer_text,
               change=lambda: _set_reply(c, answer_text, clock, who))
        _reply_sms(session, c, clock)
    return c


ESCALATED_CHANNELS: dict[str, Channel] = {RectificationSource.RATING.value: Channel.RATING,
                                          RectificationSource.EXPERIENCE.value: Channel.EXPERIENCER}


def file_escalated(session: Session, *, clock: Clock, actor: Actor, order: RectificationOrder,
                   note: str = "", limits_: Limits | None = None) -> Complaint | None:
    """An escalated 整改 order (a 差评 or an experiencer's report still unsatisfied after rectification) becomes a
    投诉 work order at the center, once per order; other sources are not complaints (None)."""
    channel = ESCALATED_CHANNELS.get(order.source_kind)
    if channel is None:
        return None
    content = "；".join(x for x in (order.detail, f"整改工单{order.number}回访仍不满意，已升级督办",
                                    f"回访记录：{note}" if note else "") if x)
    named = bool(order.raiser_name) and order.identified
    data = ComplaintIn(category=Category.COMPLAIN.value, subject=order.title, content=content,
                       complainant_name=order.raiser_name if named else "", complainant_phone=order.raiser_phone,
                       anonymous=not named, complainant_user_id=order.raiser_user_id)
    return file_complaint(session, clock=clock, data=data, channel=channel, actor=actor,
                          source_kind="rectification", source_id=order.id, limits_=limits_)


# ----- 派单 / 改派 ------------------------------------------------------------------------------------------------


def _department_ids(session: Session, ids: Sequence[int]) -> set[int]:
    if not ids:
        return set()
    return set(session.scalars(select(Department.id).where(Department.id.in_(sorted(set(ids))))))


def dispatch(session: Session, *, clock: Clock, user: User, complaint_id: int, expected_version: int | None,
             lead_department_id: int | None, assist_department_ids: Sequence[int] = (), note: str = "",
             limits_: Limits | None = None) -> Complaint:
    """派单 (or 改派): a lead department (主办) and optional 协办; each must sign within the setting's hours.

    The earlier assignments end; the limit (``due_at``) stays what 受理 made it.
    """
    problems: list[Problem] = []
    assists = sorted(set(assist_department_ids) - ({lead_department_id} if lead_department_id else set()))
    known = _department_ids(session, [*( [lead_department_id] if lead_department_id else []), *assists])
    if lead_department_id is None:
        problems.append(Problem("lead_department_id", "lead_required", "请选择主办部门"))
    elif lead_department_id not in known:
        problems.append(Problem("lead_department_id", "department_unknown", "没有这个部门"))
    unknown = [d for d in assists if d not in known]
    if unknown:
        problems.append(Problem("assist_department_ids", "department_unknown",
                                f"没有这个协办部门：{'、'.join(str(d) for d in unknown)}"))
    if problems:
        raise ValidationFailed(problems)
    assert lead_department_id is not None  # noqa: S101 - checked above
    c, actor = _lock(session, complaint_id, expected_version), actor_of(user)
    access.require(viewer_of(user), Action.COMPLAINT_DISPATCH, record_of(session, c))
    now = clock.now()
    sign_due = rules.sign_due(now, limits(limits_))
    earlier = list(session.scalars(select(ComplaintAssignment).where(ComplaintAssignment.complaint_id == c.id)))
    redispatch = bool(earlier)

    def change() -> None:
        for a in earlier:
            a.active = False
        c.lead_department_id = lead_department_id
        session.add(ComplaintAssignment(complaint_id=c.id, department_id=lead_department_id,
                                        role=AssignmentRole.LEAD.value, assigned_at=now, assigned_by=user.id,
                                        sign_due_at=sign_due, return_reason="", active=True))
        for d in assists:
            session.add(ComplaintAssignment(complaint_id=c.id, department_id=d, role=AssignmentRole.ASSIST.value,
                                            assigned_at=now, assigned_by=user.id, sign_due_at=sign_due,
                                            return_reason="", active=True))

    _write(session, c, S.DISPATCHED, clock=clock, actor=actor, kind="redispatched" if redispatch else "dispatched",
           note=clean(note, TEXT_MAX), change=change,
           data={"lead_department_id": lead_department_id, "assist_department_ids": assists,
                 "sign_due_at": sign_due})
    return c


def _own_assignment(session: Session, c: Complaint, user: User) -> ComplaintAssignment:
    department = viewer_of(user).department_id
    mine = [a for a in active_assignments(session, [c.id])[c.id] if a.department_id == department]
    if not mine:
        raise PermissionDenied("本部门没有这张工单的有效派单", code="not_assigned")
    return mine[0]


def sign(session: Session, *, clock: Clock, user: User, complaint_id: int,
         expected_version: int | None) -> Complaint:
    """签收: the lead's signature starts handling (办理中); a 协办's is recorded. Late when past ``sign_due_at``."""
    c, actor = _begin(session, user, Action.COMPLAINT_SIGN, complaint_id, expected_version)
    mine = _own_assignment(session, c, user)
    if mine.signed_at is not None:
        raise Conflict("本部门已签收这张工单", code="already_signed", field="state")
    now = clock.now()
    lead = mine.is_lead
    if lead and S(c.state) is not S.DISPATCHED:
        check_transition(c.state, S.HANDLING)  # raises the 409 with its reason

    def change() -> None:
        mine.signed_at = now
        mine.signed_by = user.id

    _write(session, c, S.HANDLING if lead else None, clock=clock, actor=actor, kind="signed", change=change,
           data={"department_id": mine.department_id, "role": mine.role, "on_time": now <= mine.sign_due_at})
    return c


def return_order(session: Session, *, clock: Clock, user: User, complaint_id: int, expected_version: int | None,
                 reason: str) -> Complaint:
    """退单: a wrongly assigned department hands the order back to the center with a reason (before signing).

    The lead's return moves the order to 已退单 for the center to re-dispatch or decide; a 协办's ends its part.
    """
    text = _required(reason, "reason", "退单理由")
    c, actor = _begin(session, user, Action.COMPLAINT_RETURN, complaint_id, expected_version)
    mine = _own_assignment(session, c, user)
    lead = mine.is_lead
    if mine.signed_at is not None:
        raise Conflict("已签收的工单不能退单，请办理后答复或联系中心改派", code="illegal_complaint_transition",
                       field="state")
    if lead:
        check_transition(c.state, S.RETURNED)
    now = clock.now()

    def change() -> None:
        mine.returned_at = now
        mine.return_reason = text
        mine.active = False
        if lead:
            c.return_count += 1

    _write(session, c, S.RETURNED if lead else None, clock=clock, actor=actor, kind="returned", note=text,
           change=change, data={"department_id": mine.department_id, "role": mine.role})
    return c


def decide_dispute(session: Session, *, clock: Clock, user: User, complaint_id: int, expected_version: int | None,
                   note: str, limits_: Limits | None = None) -> Complaint:
    """The center decides a returned order belongs to the department that returned it: it handles it now."""
    text = _required(note, "note", "裁定意见")
    c, actor = _begin(session, user, Action.COMPLAINT_DISPATCH, complaint_id, expected_version)
    check_transition(c.state, S.HANDLING)
    department = c.lead_department_id
    if department is None:
        raise Conflict("工单没有主办部门，请改派", code="no_lead_department", field="lead_department_id")
    now = clock.now()

    def change() -> None:
        # the center's decision stands for the signature: the department handles it from now
        session.add(ComplaintAssignment(complaint_id=c.id, department_id=department, role=AssignmentRole.LEAD.value,
                                        assigned_at=now, assigned_by=user.id,
                                        sign_due_at=rules.sign_due(now, limits(limits_)), signed_at=now,
                                        signed_by=user.id, return_reason="", active=True))

    _write(session, c, S.HANDLING, clock=clock, actor=actor, kind="dispute_decided", note=text, change=change,
           data={"lead_department_id": department})
    return c


# ----- 答复, 回访 --------------------------------------------------------------------------------------------------


def _set_reply(c: Complaint, text: str, clock: Clock, actor: Actor) -> None:
    now = clock.now()
    c.reply = text
    c.replied_at = now
    c.replied_by = actor.id
    c.overdue = rules.is_overdue(c.due_at, now)  # stays as the record of a late answer


def _reply_sms(session: Session, c: Complaint, clock: Clock) -> None:
    _sms(session, c, clock=clock, topic=SMS_TOPIC_REPLIED, subject="诉求已答复",
         body=f"您的诉求{c.number}已答复：{c.reply[:60]}（凭查询码{c.tracking_code}可查看全文）。")


def reply(session: Session, *, clock: Clock, user: User, complaint_id: int, expected_version: int | None,
          text: str) -> Complaint:
    """答复: the lead department's answer, which the citizen reads (by tracking code and by SMS)."""
    answer = _required(text, "reply", "答复内容")
    c, actor = _begin(session, user, Action.COMPLAINT_REPLY, complaint_id, expected_version)
    _write(session, c, S.REPLIED, clock=clock, actor=actor, kind="replied", note=answer,
           change=lambda: _set_reply(c, answer, clock, actor))
    _reply_sms(session, c, clock)
    return c


def record_callback(session: Session, *, clock: Clock, user: User, complaint_id: int, expected_version: int | None,
                    verdict: Verdict | str, note: str = "", reopen: bool = True) -> Complaint:
    """回访: 满意 / 基本满意 close the order (solved); 不满意 reopens it (重办, counted), or, with ``reopen``
    off, the center closes it as not solved (办结未解决, e.g. a demand beyond any policy)."""
    try:
        v = Verdict(verdict)
    except ValueError:
        raise ValidationFailed([Problem("verdict", "verdict_invalid",
                                        "请选择回访意见：满意、基本满意或不满意")]) from None
    text = clean(note, TEXT_MAX)
    if v is Verdict.UNSATISFIED and not reopen and not text:
        raise ValidationFailed([Problem("note", "note_required", "不满意而不重办的，请填写原因")])
    c, actor = _begin(session, user, Action.COMPLAINT_CALLBACK, complaint_id, expected_version)
    if S(c.state) is not S.REPLIED:
        raise Conflict(f"工单当前状态为“{S(c.state).label}”，尚未答复，不能回访", code="illegal_complaint_transition",
                       field="state")
    target = after_callback(c.state, v) if reopen else check_transition(c.state, S.CLOSED)
    now = clock.now()

    def change() -> None:
        c.callback_verdict = v.value
        c.callback_note = text
        c.callback_at = now
        if target is S.CLOSED:
            c.closed_at = now
            c.closed_on = today(clock)
            c.solved = v is not Verdict.UNSATISFIED
        else:
            c.reopen_count += 1
            c.solved = None

    kind = "closed" if target is S.CLOSED else "reopened"
    _write(session, c, target, clock=clock, actor=actor, kind=kind, note=text, change=change,
           data={"verdict": v.value})
    body = (f"感谢您对诉求{c.number}的评价（{v.label}），工单已办结归档。" if target is S.CLOSED
            else f"您对诉求{c.number}的答复不满意，已转回承办部门重新办理。")
    _sms(session, c, clock=clock, topic=SMS_TOPIC_CALLBACK, subject="诉求回访", body=body)
    return c


# ----- 合并, 督办 --------------------------------------------------------------------------------------------------


def merge(session: Session, *, clock: Clock, user: User, complaint_id: int, expected_version: int | None,
          into_id: int, note: str = "") -> Complaint:
    """合并: a duplicate of the same person's matter joins another open order and ends (已合并), linked to it."""
    if into_id == complaint_id:
        raise ValidationFailed([Problem("into_id", "merge_self", "不能合并到工单本身")])
    target = session.get(Complaint, into_id)
    if target is None:
        raise ValidationFailed([Problem("into_id", "complaint_unknown", "没有要合并到的工单")])
    c, actor = _begin(session, user, Action.COMPLAINT_MERGE, complaint_id, expected_version)
    if S(target.state) not in OPEN | {S.REPLIED}:
        raise Conflict(f"目标工单当前状态为“{S(target.state).label}”，不能合并到它", code="merge_target_closed",
                       field="into_id")
    same_person = ((c.complainant_phone and c.complainant_phone == target.complainant_phone)
                   or (c.complainant_user_id is not None and c.complainant_user_id == target.complainant_user_id)
                   or (c.complainant_id_number and c.complainant_id_number == target.complainant_id_number))
    if not same_person:
        raise ValidationFailed([Problem("into_id", "not_same_person", "只能合并同一诉求人的重复诉求")])
    ended = list(session.scalars(select(ComplaintAssignment).where(ComplaintAssignment.complaint_id == c.id,
                                                                  ComplaintAssignment.active.is_(True))))

    def change() -> None:
        c.merged_into_id = target.id
        c.closed_at = clock.now()
        c.closed_on = today(clock)
        for a in ended:
            a.active = False

    _write(session, c, S.MERGED, clock=clock, actor=actor, kind="merged", note=clean(note, TEXT_MAX), change=change,
           data={"into": target.number})
    _write(session, target, None, clock=clock, actor=actor, kind="merged_in", note=clean(note, TEXT_MAX),
           data={"from": c.number})
    return c


def supervise(session: Session, *, clock: Clock, user: User, complaint_id: int, expected_version: int | None,
              due_on: dt.date | None, note: str) -> Complaint:
    """督办: the supervisor sets a deadline for an open order (not before today) with a note."""
    problems = []
    if due_on is None:
        problems.append(Problem("due_on", "due_on_required", "请填写督办期限"))
    elif due_on < today(clock):
        problems.append(Problem("due_on", "due_on_past", "督办期限不能早于今天"))
    if not clean(note, TEXT_MAX):
        problems.append(Problem("note", "note_required", "请填写督办意见"))
    if problems:
        raise ValidationFailed(problems)
    c, actor = _begin(session, user, Action.COMPLAINT_SUPERVISE, complaint_id, expected_version)
    if S(c.state) not in OPEN:
        raise Conflict(f"工单当前状态为“{S(c.state).label}”，不能督办", code="illegal_complaint_transition",
                       field="state")
    _write(session, c, None, clock=clock, actor=actor, kind="supervised", note=clean(note, TEXT_MAX),
           change=lambda: setattr(c, "supervised_due_on", due_on), data={"due_on": due_on})
    return c


# ----- reads -----------------------------------------------------------------------------------------------------


def get_complaint(session: Session, complaint_id: int) -> Complaint:
    """One order, or 404."""
    c = session.get(Complaint, complaint_id)
    if c is None:
        raise NotFound("诉求工单", str(complaint_id))
    return c


def require_view(session: Session, user: User, c: Complaint) -> None:
    """403 unless the user may see this order."""
    access.require(viewer_of(user), Action.COMPLAINT_VIEW, record_of(session, c))


def _involves(department_id: int) -> Any:
    return or_(Complaint.lead_department_id == department_id,
               exists().where(ComplaintAssignment.complaint_id == Complaint.id,
                              ComplaintAssignment.department_id == department_id,
                              ComplaintAssignment.active.is_(True)))


def _scoped(user: User, action: Action = Action.COMPLAINT_VIEW) -> int | None:
    viewer = viewer_of(user)
    if access.list_scope(viewer, action) is None:
        access.require(viewer, action)  # raises the 403 with its reason
        raise PermissionDenied()  # pragma: no cover - require raised
    return access.department_scoped(viewer, action)


@dataclass(frozen=True)
class Filters:
    """What a list of orders is narrowed by."""

    states: tuple[ComplaintState, ...] = ()
    category: Category | None = None
    overdue: bool | None = None
    department_id: int | None = None
    channel: Channel | None = None
    text: str = ""


def list_complaints(session: Session, *, viewer: User, filters: Filters = Filters(), order_by_due: bool = False,
                    limit: int = 50, offset: int = 0) -> list[Complaint]:
    """The orders the viewer may see, newest first (or by limit), narrowed by the filters."""
    query = select(Complaint)
    scope = _scoped(viewer)
    if scope is not None:
        query = query.where(_involves(scope))
    if filters.states:
        query = query.where(Complaint.state.in_([s.value for s in filters.states]))
    if filters.category is not None:
        query = query.where(Complaint.category == filters.category.value)
    if filters.overdue is not None:
        query = query.where(Complaint.overdue.is_(filters.overdue))
    if filters.department_id is not None:
        query = query.where(Complaint.lead_department_id == filters.department_id)
    if filters.channel is not None:
        query = query.where(Complaint.channel == filters.channel.value)
    if filters.text:
        like = f"%{filters.text}%"
        query = query.where(or_(Complaint.number == filters.text, Complaint.subject.like(like)))
    order = (Complaint.due_at, Complaint.id) if order_by_due else (Complaint.id.desc(),)
    return list(session.scalars(query.order_by(*order).limit(limit).offset(offset)))


@dataclass(frozen=True)
class InboxRow:
    """One line of a department's inbox: the order and the department's assignment on it."""

    complaint: Complaint
    assignment: ComplaintAssignment


def inbox(session: Session, *, viewer: User, limit: int = 200) -> list[InboxRow]:
    """A department's work: orders with an active assignment of its own, waiting to be signed or handled, by
    limit (the earliest first)."""
    department = viewer_of(viewer).department_id
    access.require(viewer_of(viewer), Action.COMPLAINT_SIGN, Record(department=department))
    rows = session.execute(
        select(Complaint, ComplaintAssignment)
        .join(ComplaintAssignment, ComplaintAssignment.complaint_id == Complaint.id)
        .where(ComplaintAssignment.department_id == department, ComplaintAssignment.active.is_(True),
               Complaint.state.in_([S.DISPATCHED.value, S.HANDLING.value]))
        .order_by(Complaint.due_at, Complaint.id).limit(limit)).all()
    return [InboxRow(c, a) for c, a in rows]


@dataclass(frozen=True)
class DispatchBoard:
    """The center dispatcher's board: to dispatch (new and returned), awaiting the callback."""

    to_dispatch: list[Complaint] = field(default_factory=list)
    to_call_back: list[Complaint] = field(default_factory=list)
    overdue_open: int = 0


def dispatch_board(session: Session, *, viewer: User, limit: int = 200) -> DispatchBoard:
    """What waits for the center: orders to dispatch or decide (by limit) and replies to call back."""
    access.require(viewer_of(viewer), Action.COMPLAINT_DISPATCH)
    to_dispatch = list(session.scalars(select(Complaint).where(Complaint.state.in_([s.value for s in AT_CENTER]))
                                       .order_by(Complaint.due_at, Complaint.id).limit(limit)))
    to_call_back = list(session.scalars(select(Complaint).where(Complaint.state == S.REPLIED.value)
                                        .order_by(Complaint.replied_at, Complaint.id).limit(limit)))
    overdue_open = session.scalar(select(func.count()).select_from(Complaint).where(
        Complaint.state.in_([s.value for s in OPEN]), Complaint.overdue.is_(True))) or 0
    return DispatchBoard(to_dispatch, to_call_back, int(overdue_open))


def assignments(session: Session, c: Complaint) -> list[ComplaintAssignment]:
    """Every assignment of an order, oldest first (the 派单 history)."""
    return list(session.scalars(select(ComplaintAssignment).where(ComplaintAssignment.complaint_id == c.id)
                                .order_by(ComplaintAssignment.id)))


def timeline(session: Session, c: Complaint) -> list[ComplaintEvent]:
    """The order's events, oldest first."""
    return list(session.scalars(select(ComplaintEvent).where(ComplaintEvent.complaint_id == c.id)
                                .order_by(ComplaintEvent.id)))


def duplicates(session: Session, c: Complaint, limit: int = 20) -> list[Complaint]:
    """Other open orders of the same person (by phone), candidates for 合并."""
    if not c.complainant_phone:
        return []
    return list(session.scalars(select(Complaint).where(
        Complaint.complainant_phone == c.complainant_phone, Complaint.id != c.id,
        Complaint.state.in_([s.value for s in OPEN | {S.REPLIED}])).order_by(Complaint.id).limit(limit)))


def halls(session: Session) -> list[Hall]:
    """Every hall (the county center, town centers, village points): where an order may be filed."""
    return list(session.scalars(select(Hall).order_by(Hall.id)))


def hall_by_code(session: Session, code: str) -> Hall | None:
    """The hall with this code (a public page's QR code names its hall), or None."""
    text = clean(code, 30)
    return session.scalars(select(Hall).where(Hall.code == text)).first() if text else None


def departments(session: Session) -> list[Department]:
    """Every department (the dispatcher picks the 主办 and 协办 among them)."""
    return list(session.scalars(select(Department).order_by(Department.id)))


@dataclass(frozen=True)
class Tracking:
    """What a citizen sees by tracking code: nothing personal."""

    number: str
    category: str
    subject: str
    state: str
    state_label: str
    accepted_on: dt.date
    due_on: dt.date
    department: str
    reply: str
    replied_at: dt.datetime | None
    closed_on: dt.date | None
    merged_into: str | None


def track(session: Session, code: str) -> Tracking | None:
    """The public view of the order with this tracking code, or None."""
    normal = rules.normalise_tracking_code(code)
    if not normal or len(normal) > rules.TRACKING_LENGTH:
        return None
    c = session.scalars(select(Complaint).where(Complaint.tracking_code == normal)).first()
    if c is None:
        return None
    merged = session.get(Complaint, c.merged_into_id) if c.merged_into_id else None
    return Tracking(number=c.number, category=Category(c.category).label, subject=mask_text(c.subject), state=c.state,
                    state_label=S(c.state).label, accepted_on=c.accepted_on, due_on=c.due_on,
                    department=c.lead_department.name if c.lead_department else "有诉即办中心",
                    reply=mask_text(c.reply) if c.replied_at else "", replied_at=c.replied_at, closed_on=c.closed_on,
                    merged_into=merged.number if merged else None)
