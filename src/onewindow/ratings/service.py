"""好差评 service: rate a served visit (一次一评) or a finished case (一事一评), default ratings, void, read, figures.

Every verb takes keyword-only arguments, runs inside the caller's transaction (flushes, never commits) and
writes an audit entry. A second rating of the same ticket or case is refused with 409 ``already_rated``:
first by a lookup, and when two raters submit at the same moment by the unique constraint, hit inside a
savepoint, so exactly one rating is stored.

A new 差评 calls every function in :data:`NEGATIVE_RATING_LISTENERS` inside the same transaction; the
composition root (``onewindow.wiring``) installs the rectification (整改) work-order opener there, so this
domain does not import the one that reacts to it. That domain calls :func:`void_rating` when an appeal
(申诉) against a malicious rating is upheld: a voided rating stays on record, shown apart, and leaves 好评率.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, false, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from onewindow.cases import service as cases_service
from onewindow.cases.models import Case, CaseEvent
from onewindow.cases.states import CaseState
from onewindow.catalog import service as catalog_service
from onewindow.catalog.models import Department, Hall, Item
from onewindow.config import Settings, get_settings
from onewindow.core import access, audit
from onewindow.core.access import Action, Record, Scope, Viewer
from onewindow.core.audit import Actor
from onewindow.core.clock import CHINA_TZ, Clock, today
from onewindow.core.errors import Conflict, DomainError, NotFound, Problem, ValidationFailed
from onewindow.core.ids import mask_id_number, mask_phone
from onewindow.queue import service as queue_service
from onewindow.queue.models import Ticket, Window
from onewindow.queue.states import TicketState
from onewindow.ratings import links, rules
from onewindow.ratings.models import Rating
from onewindow.ratings.rules import Channel, Level, Setting
from onewindow.rectification import service as rectification_service
from onewindow.rectification.states import SourceKind
from onewindow.staff.models import User
from onewindow.staff.service import actor_of, viewer_of

NegativeRatingListener = Callable[[Session, Rating, Clock, Actor], None]

# Called for every new 差评 inside the rating's transaction (wiring.py installs the 整改 opener).
NEGATIVE_RATING_LISTENERS: list[NegativeRatingListener] = []

FINISHED_CASE_STATES = (CaseState.APPROVED.value, CaseState.DENIED.value, CaseState.DELIVERED.value,
                        CaseState.ARCHIVED.value)
SUBJECT_TICKET = "ticket"
SUBJECT_CASE = "case"
RATER_ACTOR = Actor(None, "rater")
DEFAULT_ACTOR = Actor(None, "rating-defaults")
DEFAULT_BATCH = 500
ALREADY_RATED = "该{what}已评价，每{unit}只能评价一次（一{unit}一评），感谢您的反馈"


# ----- input -------------------------------------------------------------------------------------------


def _channel(value: str, allowed: frozenset[Channel]) -> Channel:
    try:
        chosen = Channel(value)
    except ValueError:
        chosen = None
    if chosen is None or chosen not in allowed:
        names = "、".join(f"{c.value}（{c.label}）" for c in sorted(allowed))
        raise ValidationFailed([Problem("channel", "unknown_channel", f"评价渠道无效：{value}，可选：{names}")])
    return chosen


def _checked(setting: Setting, level: str, scores: Mapping[str, str] | None, reasons: Sequence[str],
             comment: str) -> tuple[Level, dict[str, str], list[str], str]:
    """Validate; a missing score map means one tap on the overall level (every dimension at that level)."""
    comment = (comment or "").strip()
    parsed = rules.parse_level(level)
    given = dict(scores) if scores else (rules.default_scores(setting, parsed) if parsed is not None else {})
    problems = rules.validate(setting=setting, level=level, scores=given, reasons=reasons, comment=comment)
    if problems:
        raise ValidationFailed(problems)
    assert parsed is not None  # noqa: S101  (validate refused an unknown level)
    return parsed, rules.normalised_scores(given), list(dict.fromkeys(reasons)), comment


def rating_snapshot(rating: Rating) -> dict[str, Any]:
    """What the audit log keeps of a rating (personal numbers masked)."""
    return {"subject": rating.subject, "ticket_id": rating.ticket_id, "case_id": rating.case_id,
            "level": rating.level, "negative": rating.negative, "reasons": rating.reasons,
            "channel": rating.channel, "identified": rating.identified, "is_default": rating.is_default,
            "rater_id_number": mask_id_number(rating.rater_id_number) or None,
            "rater_phone": mask_phone(rating.rater_phone) or None,
            "voided": rating.voided_at is not None, "void_reason": rating.void_reason}


def _store(session: Session, *, clock: Clock, actor: Actor, rating: Rating, duplicate: str) -> Rating:
    """Insert in a savepoint (a concurrent twin hits the unique constraint: 409), audit, tell listeners."""
    try:
        with session.begin_nested():
            session.add(rating)
            session.flush()
    except IntegrityError:
        raise Conflict(duplicate, code="already_rated") from None
    audit.record(session, clock=clock, actor=actor, action=f"ratings.{rating.subject}.rate", entity_type="rating",
                 entity_id=rating.id, after=rating_snapshot(rating))
    if rating.negative and not rating.is_default:
        for listener in list(NEGATIVE_RATING_LISTENERS):
            listener(session, rating, clock, actor)
    return rating


# ----- a served visit (一次一评) ---------------------------------------------------------------------------


def rating_for_ticket(session: Session, ticket_id: int) -> Rating | None:
    """The rating of a visit, if any."""
    return session.scalars(select(Rating).where(Rating.ticket_id == ticket_id)).first()


def rating_for_case(session: Session, case_id: int) -> Rating | None:
    """The rating of a case, if any."""
    return session.scalars(select(Rating).where(Rating.case_id == case_id)).first()


def _item_of_code(session: Session, code: str | None) -> tuple[int | None, int | None]:
    """(item id, department id) of an item code, (None, None) when there is none or it is unknown."""
    if not code:
        return None, None
    try:
        item, version = catalog_service.get_item_version(session, code)
    except DomainError:
        return None, None
    return item.id, version.department_id


def ticket_rating_open(ticket: Ticket, *, clock: Clock, settings: Settings) -> bool:
    """True while the served visit may still be rated (its window has not closed)."""
    if ticket.state != TicketState.DONE.value or ticket.done_at is None:
        return False
    return clock.now() <= ticket.done_at + dt.timedelta(days=settings.rating_window_days)


def rate_ticket(session: Session, *, clock: Clock, settings: Settings, ticket_id: int, channel: str, level: str,
                scores: Mapping[str, str] | None, reasons: Sequence[str] = (), comment: str = "",
                rater: User | None = None) -> Rating:
    """Rate a served visit (评价器, the slip's QR, a kiosk): within the rating window, once."""
    chosen = _channel(channel, rules.TICKET_CHANNELS)
    parsed, clean, why, text = _checked(Setting.WINDOW, level, scores, reasons, comment)
    ticket = queue_service.get_ticket(session, ticket_id)
    if ticket.state != TicketState.DONE.value or ticket.done_at is None:
        raise Conflict("该号票尚未办结，办结后才能评价", code="ticket_not_served", field="ticket_id")
    if not ticket_rating_open(ticket, clock=clock, settings=settings):
        raise DomainError(code="rating_window_closed", field="ticket_id", status=422,
                          message=f"已超过评价期限（办结后{settings.rating_window_days}日内可评价）")
    duplicate = ALREADY_RATED.format(what="次办事", unit="次")
    if rating_for_ticket(session, ticket.id) is not None:
        raise Conflict(duplicate, code="already_rated", field="ticket_id")
    item_id, department_id = _item_of_code(session, ticket.item_code)
    if department_id is None and ticket.clerk_id is not None:
        clerk = session.get(User, ticket.clerk_id)
        department_id = clerk.department_id if clerk is not None else None
    now = clock.now()
    identified = bool(ticket.id_number or ticket.phone or rater is not None)
    rating = Rating(
        subject=SUBJECT_TICKET, ticket_id=ticket.id, level=parsed.value, negative=parsed.negative, scores=clean,
        reasons=why, comment=text, channel=chosen.value, identified=identified, is_default=False,
        rater_user_id=rater.id if rater is not None else None,
        rater_name=rater.display_name if rater is not None else "",
        rater_id_number=ticket.id_number or (rater.id_number or "" if rater is not None else ""),
        rater_phone=ticket.phone or "", item_id=item_id, department_id=department_id, hall_id=ticket.hall_id,
        window_id=ticket.window_id, clerk_id=ticket.clerk_id, served_at=ticket.done_at, rated_at=now,
        rated_on=today(clock))
    return _store(session, clock=clock, actor=actor_of(rater) if rater is not None else RATER_ACTOR,
                  rating=rating, duplicate=duplicate)


def rate_ticket_by_token(session: Session, *, clock: Clock, settings: Settings, token: str, channel: str,
                         level: str, scores: Mapping[str, str] | None, reasons: Sequence[str] = (),
                         comment: str = "", rater: User | None = None) -> Rating:
    """Rate a visit named by its opaque ticket token (the evaluator and the my-ticket page never post ids)."""
    ticket = queue_service.ticket_by_token(session, token)
    return rate_ticket(session, clock=clock, settings=settings, ticket_id=ticket.id, channel=channel, level=level,
                       scores=scores, reasons=reasons, comment=comment, rater=rater)


# ----- a finished case (一事一评) -------------------------------------------------------------------------


def case_finished(case: Case) -> bool:
    """A case may be rated once it is decided (approved / denied) or delivered / archived."""
    return case.state in FINISHED_CASE_STATES


def rated_case_of(session: Session, case_id: int) -> Case:
    """The case a rating of ``case_id`` is about: the case itself, or the 一件事 a sub-case belongs to."""
    case = cases_service.get_case(session, case_id)
    if case.parent_id is not None:
        case = cases_service.get_case(session, case.parent_id)
    return case


def _accepting_clerk(session: Session, case: Case) -> int | None:
    """The staff member who accepted the case at the window (受理), else the one who created it."""
    accepted = session.scalars(select(CaseEvent.actor_id).where(CaseEvent.case_id == case.id,
                                                               CaseEvent.kind == CaseState.ACCEPTED.value)
                               .order_by(CaseEvent.id)).first()
    return accepted if accepted is not None else case.created_by


def rate_case(session: Session, *, clock: Clock, settings: Settings, case_id: int, channel: str, level: str,
              scores: Mapping[str, str] | None, reasons: Sequence[str] = (), comment: str = "",
              user: User | None = None, token: str | None = None) -> Rating:
    """Rate a finished case, once: a signed-in applicant or agent their own case (channel online), or the
    holder of a valid ``/r/`` link naming it (``token``, no account; channel sms or qr)."""
    if user is not None:
        chosen = _channel(channel, frozenset({Channel.ONLINE, Channel.QR}))
    else:
        chosen = _channel(channel, frozenset({Channel.SMS, Channel.QR}))
    parsed, clean, why, text = _checked(Setting.ONLINE, level, scores, reasons, comment)
    case = rated_case_of(session, case_id)
    if user is not None:
        access.require(viewer_of(user), Action.RATING_GIVE, cases_service.record_of(session, case))
    else:
        target = links.read_token(settings.secret_key, token or "")
        if target is None or target.subject is not links.Subject.CASE or \
                rated_case_of(session, target.subject_id).id != case.id:
            raise NotFound("评价链接", "（链接无效）", "token")
    if not case_finished(case):
        raise Conflict("该办件尚未办结，办结后才能评价", code="case_not_finished", field="case_id")
    duplicate = ALREADY_RATED.format(what="办件", unit="事")
    if rating_for_case(session, case.id) is not None:
        raise Conflict(duplicate, code="already_rated", field="case_id")
    now = clock.now()
    rating = Rating(
        subject=SUBJECT_CASE, case_id=case.id, level=parsed.value, negative=parsed.negative, scores=clean,
        reasons=why, comment=text, channel=chosen.value, identified=True, is_default=False,
        rater_user_id=user.id if user is not None else None,
        rater_name=user.display_name if user is not None else case.applicant_name,
        rater_id_number=case.applicant_id if case.applicant_kind == "person" else "",
        rater_phone=case.applicant_phone or "", item_id=case.item_id, department_id=case.department_id,
        hall_id=case.receiving_hall_id, window_id=None, clerk_id=_accepting_clerk(session, case),
        served_at=case.decided_at or case.updated_at, rated_at=now, rated_on=today(clock))
    return _store(session, clock=clock, actor=actor_of(user) if user is not None else RATER_ACTOR, rating=rating,
                  duplicate=duplicate)


def case_from_token(session: Session, *, settings: Settings, token: str) -> Case | None:
    """The (rated) case a ``/r/`` token names, or None."""
    target = links.read_token(settings.secret_key, token)
    if target is None or target.subject is not links.Subject.CASE:
        return None
    try:
        return rated_case_of(session, target.subject_id)
    except NotFound:
        return None


def ticket_from_token(session: Session, *, settings: Settings, token: str) -> Ticket | None:
    """The ticket a ``/r/`` token names, or None."""
    target = links.read_token(settings.secret_key, token)
    if target is None or target.subject is not links.Subject.TICKET:
        return None
    return session.get(Ticket, target.subject_id)


def ticket_link(settings: Settings, ticket: Ticket) -> str:
    """The absolute ``/r/`` link that rates this visit (the slip's QR code)."""
    return links.rating_url(settings.base_url, settings.secret_key, links.Subject.TICKET, ticket.id)


def case_link(settings: Settings, case: Case) -> str:
    """The absolute ``/r/`` link that rates this case (the SMS when it is done)."""
    return links.rating_url(settings.base_url, settings.secret_key, links.Subject.CASE, case.id)


# ----- 默认评价 and voiding -------------------------------------------------------------------------------


def _default_rating(*, clock: Clock, subject: str, **tied: Any) -> Rating:
    setting = Setting.WINDOW if subject == SUBJECT_TICKET else Setting.ONLINE
    return Rating(subject=subject, level=rules.DEFAULT_LEVEL.value, negative=False,
                  scores=rules.default_scores(setting), reasons=[], comment="", channel=Channel.DEFAULT.value,
                  identified=False, is_default=True, rated_at=clock.now(), rated_on=today(clock), **tied)


def default_ratings(session: Session, *, clock: Clock, settings: Settings, batch: int = DEFAULT_BATCH) -> int:
    """默认评价: served visits and finished cases older than N days without a rating get 基本满意 (channel
    default, ``is_default``); off while ``rating_default_after_days`` is 0. Returns how many were written."""
    days = settings.rating_default_after_days
    if days <= 0:
        return 0
    cutoff = clock.now() - dt.timedelta(days=days)
    made = 0
    tickets = session.scalars(
        select(Ticket).outerjoin(Rating, Rating.ticket_id == Ticket.id)
        .where(Ticket.state == TicketState.DONE.value, Ticket.done_at < cutoff, Rating.id.is_(None))
        .order_by(Ticket.id).limit(batch)).all()
    item_codes = {t.item_code for t in tickets if t.item_code}
    items = {code: _item_of_code(session, code) for code in item_codes}
    for t in tickets:
        item_id, department_id = items.get(t.item_code or "", (None, None))
        rating = _default_rating(clock=clock, subject=SUBJECT_TICKET, ticket_id=t.id, item_id=item_id,
                                 department_id=department_id, hall_id=t.hall_id, window_id=t.window_id,
                                 clerk_id=t.clerk_id, served_at=t.done_at)
        session.add(rating)
        made += 1
    cases = session.scalars(
        select(Case).outerjoin(Rating, Rating.case_id == Case.id)
        .where(Case.state.in_(FINISHED_CASE_STATES), Case.parent_id.is_(None), Case.decided_at < cutoff,
               Rating.id.is_(None))
        .order_by(Case.id).limit(batch)).all()
    for c in cases:
        rating = _default_rating(clock=clock, subject=SUBJECT_CASE, case_id=c.id, item_id=c.item_id,
                                 department_id=c.department_id, hall_id=c.receiving_hall_id,
                                 clerk_id=_accepting_clerk(session, c), served_at=c.decided_at)
        session.add(rating)
        made += 1
    if made:
        session.flush()
        audit.record(session, clock=clock, actor=DEFAULT_ACTOR, action="ratings.defaults", entity_type="rating",
                     entity_id="batch", after={"tickets": len(tickets), "cases": len(cases), "after_days": days})
    return made


def run_default_ratings(session: Session, *, clock: Clock) -> dict[str, int]:
    """The ``rating-defaults`` job (settings from the environment)."""
    return {"defaults": default_ratings(session, clock=clock, settings=get_settings())}


def void_rating(session: Session, *, rating_id: int, clock: Clock, actor: Actor, reason: str) -> Rating:
    """无效差评: an upheld appeal voids a rating; it stays on record, shown apart, out of 好评率."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed([Problem("reason", "reason_required", "请填写认定无效评价的理由")])
    rating = session.get(Rating, rating_id)
    if rating is None:
        raise NotFound("评价", str(rating_id), "rating_id")
    if rating.voided_at is not None:
        raise Conflict("该评价已被认定无效", code="already_voided", field="rating_id")
    before = rating_snapshot(rating)
    rating.voided_at = clock.now()
    rating.void_reason = reason
    session.flush()
    audit.record(session, clock=clock, actor=actor, action="ratings.void", entity_type="rating", entity_id=rating.id,
                 before=before, after=rating_snapshot(rating))
    return rating


# ----- reads ---------------------------------------------------------------------------------------------


def _scoped(viewer: Viewer, action: Action, query: Select[Any]) -> Select[Any]:
    """Narrow a rating query to what the viewer may see (403 when they may see none)."""
    access.require(viewer, action)
    scope = access.list_scope(viewer, action)
    if scope is Scope.OWN:
        return query.where(Rating.clerk_id == viewer.user_id)
    department = access.department_scoped(viewer, action)
    if scope is Scope.DEPARTMENT:
        return query.where(Rating.department_id == department) if department is not None else query.where(false())
    return query


def record_of(rating: Rating) -> Record:
    """A rating as the access policy sees it: its department, and its clerk as the "own" person."""
    return Record(department=rating.department_id,
                  owner_user_ids=frozenset({rating.clerk_id}) if rating.clerk_id is not None else frozenset())


def require_view(viewer: Viewer, rating: Rating) -> None:
    """403 unless the viewer may see this rating."""
    access.require(viewer, Action.RATING_VIEW, record_of(rating))


def may_view(viewer: Viewer, rating: Rating) -> bool:
    """True when the viewer may see this rating."""
    return access.can(viewer, Action.RATING_VIEW, record_of(rating))


@dataclass(frozen=True)
class RatingPage:
    """One page of ratings and the total count."""

    rows: list[Rating]
    total: int


def list_ratings(session: Session, *, viewer: Viewer, date_from: dt.date | None = None,
                 date_to: dt.date | None = None, department_id: int | None = None, hall_id: int | None = None,
                 clerk_id: int | None = None, negative: bool | None = None, limit: int = 50,
                 offset: int = 0) -> RatingPage:
    """Ratings the viewer may see (a clerk their own, a department head their department's), newest first."""
    query = _scoped(viewer, Action.RATING_VIEW, select(Rating))
    if date_from is not None:
        query = query.where(Rating.rated_on >= date_from)
    if date_to is not None:
        query = query.where(Rating.rated_on <= date_to)
    if department_id is not None:
        query = query.where(Rating.department_id == department_id)
    if hall_id is not None:
        query = query.where(Rating.hall_id == hall_id)
    if clerk_id is not None:
        query = query.where(Rating.clerk_id == clerk_id)
    if negative is not None:
        query = query.where(Rating.negative.is_(negative))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = list(session.scalars(query.order_by(Rating.rated_at.desc(), Rating.id.desc())
                                .limit(max(1, min(limit, 500))).offset(max(0, offset))))
    return RatingPage(rows, int(total))


# ----- figures -------------------------------------------------------------------------------------------

BY_OPTIONS: dict[str, str] = {"hall": "大厅", "department": "部门", "item": "事项", "window": "窗口",
                              "clerk": "工作人员"}


@dataclass(frozen=True)
class Figure:
    """A share with what it is made of: ``numerator / denominator`` (None when the denominator is 0)."""

    numerator: int
    denominator: int

    @property
    def value(self) -> float | None:
        """The share, or None when nothing was counted."""
        return self.numerator / self.denominator if self.denominator else None

    @property
    def text(self) -> str:
        """``92.3%`` or ``—``."""
        return "—" if self.value is None else f"{self.value * 100:.1f}%"


@dataclass(frozen=True)
class GroupFigures:
    """The figures of one hall / department / item / window / clerk over the range.

    ``ratings`` counts every rating; ``counted`` those in 好评率 and 差评率 (neither a default nor voided).
    ``ticket_share`` / ``case_share``: visits and cases rated by a person among those served / finished in
    the range (None where the group does not apply, e.g. cases by window). The closed loop, over the 差评 of
    the range that are not voided: ``rectified_rate`` 差评整改率 (its order closed as rectified ÷ 差评),
    ``on_time_rate`` 差评按期整改率 (closed as rectified and never overdue ÷ 差评) and ``callback_rate``
    实名差评回访整改率 (identified 差评 whose order closed as rectified after a 回访 ÷ identified 差评).
    """

    key: int | None
    label: str
    ratings: int
    counted: int
    defaults: int
    voided: int
    good_rate: Figure
    bad_rate: Figure
    ticket_share: Figure | None
    case_share: Figure | None
    rectified_rate: Figure
    on_time_rate: Figure
    callback_rate: Figure


def _group_column(by: str) -> Any:
    columns = {"hall": Rating.hall_id, "department": Rating.department_id, "item": Rating.item_id,
               "window": Rating.window_id, "clerk": Rating.clerk_id}
    if by not in columns:
        known = "、".join(f"{k}（{v}）" for k, v in BY_OPTIONS.items())
        raise ValidationFailed([Problem("by", "unknown_grouping", f"未知的统计维度：{by}，可选：{known}")])
    return columns[by]


def _labels(session: Session, by: str, keys: set[int]) -> dict[int, str]:
    if not keys:
        return {}
    if by == "hall":
        return {h.id: h.name for h in session.scalars(select(Hall).where(Hall.id.in_(keys)))}
    if by == "department":
        return {d.id: d.name for d in session.scalars(select(Department).where(Department.id.in_(keys)))}
    if by == "item":
        return {i: v.name for i, v in catalog_service.current_versions(session, sorted(keys)).items()}
    if by == "window":
        return {w.id: f"{w.hall.name} {w.label}" for w in session.scalars(select(Window).where(Window.id.in_(keys)))}
    return {u.id: u.display_name for u in session.scalars(select(User).where(User.id.in_(keys)))}


def _served_tickets(session: Session, by: str, date_from: dt.date, date_to: dt.date,
                    department: int | None) -> dict[int | None, int] | None:
    columns: dict[str, Any] = {"hall": Ticket.hall_id, "window": Ticket.window_id, "clerk": Ticket.clerk_id,
                               "item": Item.id}
    if by not in columns or department is not None:
        return None  # a visit has no department of its own until it is rated
    column = columns[by]
    query = select(column, func.count()).select_from(Ticket)
    if by == "item":
        query = query.join(Item, Item.code == Ticket.item_code)
    query = query.where(Ticket.state == TicketState.DONE.value, Ticket.day >= date_from, Ticket.day <= date_to)
    return {key: int(n) for key, n in session.execute(query.group_by(column))}


def _finished_cases(session: Session, by: str, date_from: dt.date, date_to: dt.date,
                    department: int | None) -> dict[int | None, int] | None:
    columns: dict[str, Any] = {"hall": Case.receiving_hall_id, "department": Case.department_id, "item": Case.item_id}
    if by not in columns:
        return None
    column = columns[by]
    query = select(column, func.count()).where(Case.state.in_(FINISHED_CASE_STATES), Case.parent_id.is_(None),
                                               Case.decided_on >= date_from, Case.decided_on <= date_to)
    if department is not None:
        query = query.where(Case.department_id == department)
    return {key: int(n) for key, n in session.execute(query.group_by(column))}


def _count(condition: ColumnElement[bool]) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def figures(session: Session, *, viewer: Viewer, date_from: dt.date, date_to: dt.date,
            by: str = "hall") -> list[GroupFigures]:
    """好评率, 差评率, defaults, voided and rated shares per group over ``date_from``..``date_to`` (inclusive).

    好评率 = (非常满意 + 满意) / ratings counted; 差评率 = (不满意 + 非常不满意) / ratings counted; a default
    rating or a voided one is not counted there, only shown apart. The closed-loop rates (差评整改率, 差评按期
    整改率, 实名差评回访整改率) come from the same grouped query, outer-joined to the 差评's work orders
    (``rectification.service.source_outcomes``). One more query each for the served visits and finished cases.
    """
    column = _group_column(by)
    access.require(viewer, Action.RATING_FIGURES)
    department = access.department_scoped(viewer, Action.RATING_FIGURES)
    live = and_(Rating.is_default.is_(False), Rating.voided_at.is_(None))
    is_bad = and_(live, Rating.negative.is_(True))
    is_named = and_(is_bad, Rating.identified.is_(True))
    loop = rectification_service.source_outcomes(SourceKind.RATING)  # one row per 差评's work order
    query = select(
        column, func.count(),
        _count(live),
        _count(Rating.is_default.is_(True)),
        _count(Rating.voided_at.is_not(None)),
        _count(and_(live, Rating.level.in_([lv.value for lv in rules.POSITIVE_LEVELS]))),
        _count(is_bad),
        _count(and_(Rating.is_default.is_(False), Rating.subject == SUBJECT_TICKET)),
        _count(and_(Rating.is_default.is_(False), Rating.subject == SUBJECT_CASE)),
        _count(and_(is_bad, loop.c.rectified == 1)),
        _count(and_(is_bad, loop.c.on_time == 1)),
        _count(is_named),
        _count(and_(is_named, loop.c.called_back == 1)),
    ).select_from(Rating).outerjoin(loop, loop.c.source_id == Rating.id) \
        .where(Rating.rated_on >= date_from, Rating.rated_on <= date_to)
    if department is not None:
        query = query.where(Rating.department_id == department)
    rows = {key: [int(v) for v in rest] for key, *rest in session.execute(query.group_by(column))}
    tickets = _served_tickets(session, by, date_from, date_to, department)
    cases = _finished_cases(session, by, date_from, date_to, department)
    keys: set[int | None] = set(rows) | set(tickets or {}) | set(cases or {})
    labels = _labels(session, by, {k for k in keys if k is not None})
    out: list[GroupFigures] = []
    for key in keys:
        total, counted, defaults, voided, good, bad, by_ticket, by_case, fixed, in_time, named, called = \
            rows.get(key, [0] * 12)
        out.append(GroupFigures(
            key=key, label=labels.get(key, f"#{key}") if key is not None else "（未归属）", ratings=total,
            counted=counted, defaults=defaults, voided=voided, good_rate=Figure(good, counted),
            bad_rate=Figure(bad, counted),
            ticket_share=Figure(by_ticket, tickets.get(key, 0)) if tickets is not None else None,
            case_share=Figure(by_case, cases.get(key, 0)) if cases is not None else None,
            rectified_rate=Figure(fixed, bad), on_time_rate=Figure(in_time, bad), callback_rate=Figure(called, named)))
    return sorted(out, key=lambda g: (-g.ratings, g.label))


# ----- display -------------------------------------------------------------------------------------------


def level_label(value: str) -> str:
    """``非常满意`` for ``very_satisfied`` (the key itself when unknown)."""
    parsed = rules.parse_level(value)
    return parsed.label if parsed is not None else value


def channel_text(value: str) -> str:
    """``窗口评价器`` for ``evaluator`` (the key itself when unknown)."""
    return next((c.label for c in Channel if c.value == value), value)


def reason_labels(reasons: Sequence[str]) -> list[str]:
    """The Chinese names of 差评 reasons."""
    return [rules.REASONS.get(r, r) for r in reasons]


def rated_at_text(rating: Rating) -> str:
    """``2026-11-23 10:05`` in China time."""
    return rating.rated_at.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M")


def ticket_to_rate_at(session: Session, *, clock: Clock, window_id: int, within_minutes: int) -> Ticket | None:
    """The visit finished at the window in the last minutes and not yet rated (what its evaluator offers)."""
    now = clock.now()
    ticket = session.scalars(
        select(Ticket).where(Ticket.window_id == window_id, Ticket.state == TicketState.DONE.value,
                             Ticket.done_at >= now - dt.timedelta(minutes=within_minutes), Ticket.done_at <= now)
        .order_by(Ticket.done_at.desc(), Ticket.id.desc())).first()
    if ticket is None or rating_for_ticket(session, ticket.id) is not None:
        return None
    return ticket


@dataclass(frozen=True)
class Names:
    """Display names for a page of ratings, looked up in one query per kind (no N+1)."""

    subjects: dict[int, str]  # rating id → "号票 A001" / "办件 HJ2026…"
    halls: dict[int, str]
    departments: dict[int, str]
    clerks: dict[int, str]


def names_of(session: Session, ratings: Sequence[Rating]) -> Names:
    """The names a list of ratings shows."""
    ticket_ids = {r.ticket_id for r in ratings if r.ticket_id is not None}
    case_ids = {r.case_id for r in ratings if r.case_id is not None}
    tickets: dict[int, str] = {}
    if ticket_ids:
        tickets = {i: n for i, n in session.execute(select(Ticket.id, Ticket.number).where(Ticket.id.in_(ticket_ids)))}
    cases: dict[int, str] = {}
    if case_ids:
        cases = {i: n for i, n in session.execute(select(Case.id, Case.number).where(Case.id.in_(case_ids)))}
    subjects = {r.id: f"号票 {tickets.get(r.ticket_id, '')}" if r.ticket_id is not None
                else f"办件 {cases.get(r.case_id or 0, '')}" for r in ratings}
    return Names(subjects=subjects,
                 halls=_labels(session, "hall", {r.hall_id for r in ratings if r.hall_id is not None}),
                 departments=_labels(session, "department",
                                     {r.department_id for r in ratings if r.department_id is not None}),
                 clerks=_labels(session, "clerk", {r.clerk_id for r in ratings if r.clerk_id is not None}))


def rated_cases(session: Session, case_ids: Sequence[int]) -> set[int]:
    """Which of these cases have a rating (one query, for lists)."""
    if not case_ids:
        return set()
    return set(session.scalars(select(Rating.case_id).where(Rating.case_id.in_(list(case_ids)))))


def clerks_rated(session: Session, *, viewer: Viewer) -> dict[int, str]:
    """The staff whose service the viewer may see ratings of (for the list's filter), by name."""
    query = _scoped(viewer, Action.RATING_VIEW, select(Rating.clerk_id).where(Rating.clerk_id.is_not(None))
                    .distinct())
    ids = {i for i in session.scalars(query) if i is not None}
    return dict(sorted(_labels(session, "clerk", ids).items(), key=lambda kv: kv[1]))
