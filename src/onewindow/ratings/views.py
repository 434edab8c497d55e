"""Rating pages: ``/r/{token}`` (SMS / QR link), the window's evaluator (评价器), and staff ``/ratings``.

Thin edges: parse, authorise, call :mod:`onewindow.ratings.service`, render. Citizens' pages need no
account and work without JavaScript (plain forms, big tap targets); the evaluator listens to its hall's
live queue events (``static/ratings.js``) and turns into the rating form the moment the clerk finishes a
ticket at its window. Forms carry the ticket's opaque token or the signed link token, never an id.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from onewindow.cases import service as cases_service
from onewindow.cases.models import Case
from onewindow.catalog import service as catalog_service
from onewindow.config import Settings
from onewindow.core.access import Action
from onewindow.core.clock import CHINA_TZ, Clock, today
from onewindow.core.errors import DomainError, NotFound, Problem
from onewindow.deps import CSRF_COOKIE, Auth, ClockDep, CurrentAuth, DbSession, OptionalAuth, SettingsDep, check_csrf
from onewindow.queue import service as queue_service
from onewindow.queue.models import Ticket
from onewindow.ratings import links, rules, service
from onewindow.ratings.models import Rating
from onewindow.ratings.rules import Channel, Level, Setting
from onewindow.web import FormDep, form_text, render

router = APIRouter(include_in_schema=False)

THANKS_SECONDS = 6
EVALUATOR_RECENT_MINUTES = 5  # a visit finished this recently at the window is offered for rating
LIST_LIMIT = 100


async def _public_csrf(request: Request, auth: OptionalAuth) -> Auth | None:
    """Anonymous posts echo the pre-login CSRF cookie (signed-in callers were checked with their session)."""
    if auth is None:
        await check_csrf(request, request.cookies.get(CSRF_COOKIE))
    return auth


PublicAuth = Annotated[Auth | None, Depends(_public_csrf)]


# ----- page models ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Option:
    """A choice of a form (value, label)."""

    value: str
    label: str


LEVEL_OPTIONS = [Option(lv.value, lv.label) for lv in Level]
REASON_OPTIONS = [Option(k, v) for k, v in rules.REASONS.items()]


@dataclass(frozen=True)
class RatingView:
    """A given rating as pages show it."""

    level: str
    level_text: str
    negative: bool
    scores: list[tuple[str, str]]
    reasons: list[str]
    comment: str
    channel_text: str
    rated_at_text: str
    is_default: bool
    voided: bool
    void_reason: str


def rating_view(rating: Rating) -> RatingView:
    """What a page shows of a rating."""
    setting = Setting.WINDOW if rating.subject == service.SUBJECT_TICKET else Setting.ONLINE
    names = rules.dimensions_for(setting)
    return RatingView(
        level=rating.level, level_text=service.level_label(rating.level), negative=rating.negative,
        scores=[(names.get(k, k), service.level_label(v)) for k, v in rating.scores.items()],
        reasons=service.reason_labels(rating.reasons), comment=rating.comment,
        channel_text=service.channel_text(rating.channel),
        rated_at_text=service.rated_at_text(rating), is_default=rating.is_default,
        voided=rating.voided_at is not None, void_reason=rating.void_reason)


@dataclass
class RateForm:
    """The rating form of one subject: what is rated, its dimensions, posted values and errors."""

    action: str
    setting: Setting
    what: list[tuple[str, str]]
    level: str = ""
    scores: dict[str, str] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)
    comment: str = ""
    errors: dict[str, str] = field(default_factory=dict)
    ticket_token: str = ""  # the evaluator's form names the visit by its opaque token

    @property
    def dimensions(self) -> list[Option]:
        """The setting's dimensions."""
        return [Option(k, v) for k, v in rules.dimensions_for(self.setting).items()]


def _item_name(session: Session, code: str | None) -> str:
    if not code:
        return ""
    try:
        return catalog_service.get_item_version(session, code)[1].name
    except DomainError:
        return code


def _ticket_facts(session: Session, ticket: Ticket) -> list[tuple[str, str]]:
    facts = [("号票", ticket.number), ("大厅", ticket.hall.name)]
    if ticket.window is not None:
        facts.append(("窗口", ticket.window.label))
    name = _item_name(session, ticket.item_code)
    if name:
        facts.append(("办理事项", name))
    if ticket.done_at is not None:
        facts.append(("办结时间", ticket.done_at.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M")))
    return facts


def _case_facts(case: Case) -> list[tuple[str, str]]:
    name = case.item_version.name if case.item_version is not None else (case.bundle.name if case.bundle else "")
    facts = [("办件编号", case.number), ("办理事项", name), ("办理部门", case.department.name)]
    if case.receiving_hall is not None:
        facts.append(("受理大厅", case.receiving_hall.name))
    return facts


def _posted(form: FormData, setting: Setting) -> tuple[str, dict[str, str], list[str], str]:
    """Level, scores (a dimension left blank takes the overall level), reasons and comment of a posted form."""
    level = form_text(form, "level")
    scores = {}
    for key in rules.dimensions_for(setting):
        value = form_text(form, f"score_{key}")
        scores[key] = value or level
    reasons = [r for r in form.getlist("reasons") if isinstance(r, str) and r]
    return level, scores, reasons, form_text(form, "comment")


def _errors(problems: list[Problem]) -> dict[str, str]:
    out: dict[str, str] = {}
    for p in problems:
        out.setdefault(p.field.split(".")[0] if p.field.startswith("scores.") else p.field or "form", p.message)
    return out


# ----- /r/{token}: the SMS / QR link -----------------------------------------------------------------------


@dataclass
class LinkSubject:
    """What a link rates: a ticket or a case, with its page facts and its rating if given."""

    ticket: Ticket | None
    case: Case | None
    what: list[tuple[str, str]]
    rating: Rating | None
    open_text: str  # why it cannot be rated now ("" when it can)


def _link_subject(session: Session, clock: Clock, settings: Settings, token: str) -> LinkSubject:
    ticket = service.ticket_from_token(session, settings=settings, token=token)
    if ticket is not None:
        rating = service.rating_for_ticket(session, ticket.id)
        reason = ""
        if ticket.state != "done":
            reason = "该号票尚未办结，办结后即可评价。"
        elif not service.ticket_rating_open(ticket, clock=clock, settings=settings):
            reason = f"已超过评价期限（办结后{settings.rating_window_days}日内可评价）。"
        return LinkSubject(ticket, None, _ticket_facts(session, ticket), rating, reason)
    case = service.case_from_token(session, settings=settings, token=token)
    if case is None:
        raise NotFound("评价链接", "（链接无效或已失效）", "token")
    reason = "" if service.case_finished(case) else "该办件尚未办结，办结后即可评价。"
    return LinkSubject(None, case, _case_facts(case), service.rating_for_case(session, case.id), reason)


def _link_page(request: Request, auth: Auth | None, subject: LinkSubject, form: RateForm, *, thanks: bool = False,
               status_code: int = 200) -> Response:
    return render(request, "ratings/link.html", {
        "subject": subject, "form": form, "levels": LEVEL_OPTIONS, "reason_options": REASON_OPTIONS,
        "rating": rating_view(subject.rating) if subject.rating is not None else None, "thanks": thanks,
    }, auth=auth, status_code=status_code)


@router.get("/r/{token}", response_class=HTMLResponse)
def link_page(request: Request, token: str, session: DbSession, clock: ClockDep, settings: SettingsDep,
              auth: OptionalAuth) -> Response:
    """The page an SMS or QR link opens: what is rated and the form (or the rating already given)."""
    subject = _link_subject(session, clock, settings, token)
    setting = Setting.WINDOW if subject.ticket is not None else Setting.ONLINE
    return _link_page(request, auth, subject, RateForm(action=f"/r/{token}", setting=setting, what=subject.what))


@router.post("/r/{token}", response_class=HTMLResponse)
def link_rate(request: Request, token: str, session: DbSession, clock: ClockDep, settings: SettingsDep,
              auth: PublicAuth, form: FormDep) -> Response:
    """Store the rating given through a link, then thank."""
    subject = _link_subject(session, clock, settings, token)
    setting = Setting.WINDOW if subject.ticket is not None else Setting.ONLINE
    level, scores, reasons, comment = _posted(form, setting)
    page = RateForm(action=f"/r/{token}", setting=setting, what=subject.what, level=level, scores=scores,
                    reasons=reasons, comment=comment)
    try:
        if subject.ticket is not None:
            rating = service.rate_ticket(session, clock=clock, settings=settings, ticket_id=subject.ticket.id,
                                         channel=Channel.QR.value, level=level, scores=scores, reasons=reasons,
                                         comment=comment)
        else:
            assert subject.case is not None  # noqa: S101  (a link names a ticket or a case)
            rating = service.rate_case(session, clock=clock, settings=settings, case_id=subject.case.id,
                                       channel=Channel.SMS.value, level=level, scores=scores, reasons=reasons,
                                       comment=comment, token=token)
    except DomainError as exc:
        session.rollback()
        if exc.code == "already_rated":
            return _link_page(request, auth, _link_subject(session, clock, settings, token), page,
                              status_code=409)
        page.errors = _errors(exc.problems)
        subject = _link_subject(session, clock, settings, token)
        return _link_page(request, auth, subject, page, status_code=exc.status)
    subject.rating = rating
    return _link_page(request, auth, subject, page, thanks=True)


# ----- the window's evaluator (评价器) -----------------------------------------------------------------------


def _evaluator_window(settings: Settings, window_id: int, key: str) -> None:
    # the evaluator shows who was just served and lets the screen rate it: only the device set up for the
    # window (the keyed address on the clerk's workbench) may open it; anyone else gets a plain 404
    if not links.evaluator_key_valid(settings.secret_key, window_id, key):
        raise NotFound("评价器", str(window_id))


def _evaluator_context(session: Session, clock: Clock, settings: Settings, window_id: int) -> dict[str, Any]:
    window = queue_service.get_window(session, window_id)
    here = links.evaluator_path(settings.secret_key, window.id)
    ticket = service.ticket_to_rate_at(session, clock=clock, window_id=window.id,
                                       within_minutes=EVALUATOR_RECENT_MINUTES)
    form = None
    if ticket is not None:
        form = RateForm(action=here, setting=Setting.WINDOW,
                        what=_ticket_facts(session, ticket), ticket_token=ticket.token)
    return {"window": window, "form": form, "levels": LEVEL_OPTIONS, "reason_options": REASON_OPTIONS,
            "thanks": False, "thanks_seconds": THANKS_SECONDS, "clerk_name": window.clerk.display_name
            if window.clerk is not None else "", "events_url": f"/halls/{window.hall.code}/events",
            "current_url": here}


@router.get("/windows/{window_id}/evaluator", response_class=HTMLResponse)
def evaluator(request: Request, window_id: int, session: DbSession, clock: ClockDep, settings: SettingsDep,
              auth: OptionalAuth, key: Annotated[str, Query(max_length=40)] = "") -> Response:
    """The citizen-facing screen of a window: idle, then the rating form when a visit there is finished."""
    # (the caller is passed only so the form's CSRF token matches a browser that is signed in)
    _evaluator_window(settings, window_id, key)
    return render(request, "ratings/evaluator.html", _evaluator_context(session, clock, settings, window_id),
                  auth=auth,
                  fragment="ratings/_evaluator_panel.html")


@router.post("/windows/{window_id}/evaluator", response_class=HTMLResponse)
def evaluator_rate(request: Request, window_id: int, session: DbSession, clock: ClockDep, settings: SettingsDep,
                   auth: PublicAuth, form: FormDep, key: Annotated[str, Query(max_length=40)] = "") -> Response:
    """Store the evaluator's rating (channel evaluator) of the visit named by its token, then thank."""
    _evaluator_window(settings, window_id, key)
    token = form_text(form, "ticket")
    level, _scores, reasons, comment = _posted(form, Setting.WINDOW)
    context = _evaluator_context(session, clock, settings, window_id)
    try:
        ticket = queue_service.ticket_by_token(session, token)
        if ticket.window_id != window_id:
            raise NotFound("号票", "（不是本窗口办结的号票）", "ticket")
        service.rate_ticket(session, clock=clock, settings=settings, ticket_id=ticket.id,
                            channel=Channel.EVALUATOR.value, level=level, scores=None, reasons=reasons,
                            comment=comment)
    except DomainError as exc:
        session.rollback()
        context = _evaluator_context(session, clock, settings, window_id)
        if exc.code != "already_rated" and context["form"] is not None:
            context["form"].level, context["form"].reasons = level, reasons
            context["form"].errors = _errors(exc.problems)
        else:
            context["thanks"] = True
        status = 200 if request.headers.get("hx-request") == "true" else exc.status
        return render(request, "ratings/evaluator.html", context, fragment="ratings/_evaluator_panel.html",
                      auth=auth, status_code=status if not context["thanks"] else 200)
    context.update(form=None, thanks=True)
    return render(request, "ratings/evaluator.html", context, fragment="ratings/_evaluator_panel.html", auth=auth)


# ----- staff: /ratings ---------------------------------------------------------------------------------------


def _parse_date(raw: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def _int(raw: str) -> int | None:
    return int(raw) if raw.isdigit() else None


@dataclass(frozen=True)
class ListRow:
    """A rating in the staff list."""

    rated_at_text: str
    subject_text: str
    level_text: str
    negative: bool
    reasons: str
    comment: str
    channel_text: str
    hall: str
    department: str
    clerk: str
    identified: bool
    is_default: bool
    voided: bool


Short = Annotated[str, Query(max_length=12)]


@router.get("/ratings", response_class=HTMLResponse)
def ratings_page(request: Request, session: DbSession, clock: ClockDep, auth: CurrentAuth,
                 date_from: Short = "", date_to: Short = "", department: Short = "", hall: Short = "",
                 clerk: Short = "", negative: Short = "", by: Short = "hall") -> Response:
    """Ratings the caller may see (filters: dates, department, hall, clerk, 差评 only) and figures by group."""
    auth.require(Action.RATING_VIEW)
    end = _parse_date(date_to) or today(clock)
    start = _parse_date(date_from) or end - dt.timedelta(days=29)
    page = service.list_ratings(session, viewer=auth.viewer, date_from=start, date_to=end,
                                department_id=_int(department), hall_id=_int(hall), clerk_id=_int(clerk),
                                negative=True if negative else None, limit=LIST_LIMIT)
    names = service.names_of(session, page.rows)
    rows = [ListRow(
        rated_at_text=service.rated_at_text(r), subject_text=names.subjects.get(r.id, ""),
        level_text=service.level_label(r.level), negative=r.negative,
        reasons="、".join(service.reason_labels(r.reasons)), comment=r.comment,
        channel_text=service.channel_text(r.channel),
        hall=names.halls.get(r.hall_id or 0, ""), department=names.departments.get(r.department_id or 0, ""),
        clerk=names.clerks.get(r.clerk_id or 0, ""), identified=r.identified, is_default=r.is_default,
        voided=r.voided_at is not None) for r in page.rows]
    groups = None
    if auth.can(Action.RATING_FIGURES):
        groups = service.figures(session, viewer=auth.viewer, date_from=start, date_to=end,
                                 by=by if by in service.BY_OPTIONS else "hall")
    return render(request, "ratings/index.html", {
        "rows": rows, "total": page.total, "date_from": start.isoformat(), "date_to": end.isoformat(),
        "filters": {"department": department, "hall": hall, "clerk": clerk, "negative": negative},
        "departments": [d for d, _n in catalog_service.list_departments(session)],
        "halls": catalog_service.list_halls(session), "groups": groups, "by": by,
        "clerks": service.clerks_rated(session, viewer=auth.viewer),
        "by_options": service.BY_OPTIONS, "limit": LIST_LIMIT,
    }, auth=auth)


# ----- the applicant rates their own case (signed in) ------------------------------------------------------


def _own_case(session: Session, auth: Auth, case_id: int) -> Case:
    case = service.rated_case_of(session, case_id)
    cases_service.require_view(session, auth.user, case)
    return case


def _case_page(request: Request, session: Session, auth: Auth, case: Case, form: RateForm, *, thanks: bool = False,
               status_code: int = 200) -> Response:
    rating = service.rating_for_case(session, case.id)
    reason = "" if service.case_finished(case) else "该办件尚未办结，办结后即可评价。"
    subject = LinkSubject(None, case, form.what, rating, reason)
    return render(request, "ratings/link.html", {
        "subject": subject, "form": form, "levels": LEVEL_OPTIONS, "reason_options": REASON_OPTIONS,
        "rating": rating_view(rating) if rating is not None else None, "thanks": thanks,
        "back_url": f"/my/cases/{case.id}",
    }, auth=auth, status_code=status_code)


@router.get("/my/cases/{case_id}/rating", response_class=HTMLResponse)
def my_case_rating(request: Request, case_id: int, session: DbSession, auth: CurrentAuth) -> Response:
    """评价 of the applicant's own finished case (一事一评)."""
    case = _own_case(session, auth, case_id)
    return _case_page(request, session, auth, case, RateForm(action=f"/my/cases/{case.id}/rating",
                                                             setting=Setting.ONLINE, what=_case_facts(case)))


@router.post("/my/cases/{case_id}/rating", response_class=HTMLResponse)
def my_case_rate(request: Request, case_id: int, session: DbSession, clock: ClockDep, settings: SettingsDep,
                 auth: CurrentAuth, form: FormDep) -> Response:
    """Store the applicant's rating of their case (channel online)."""
    case = _own_case(session, auth, case_id)
    level, scores, reasons, comment = _posted(form, Setting.ONLINE)
    page = RateForm(action=f"/my/cases/{case.id}/rating", setting=Setting.ONLINE, what=_case_facts(case),
                    level=level, scores=scores, reasons=reasons, comment=comment)
    try:
        service.rate_case(session, clock=clock, settings=settings, case_id=case.id, channel=Channel.ONLINE.value,
                          level=level, scores=scores, reasons=reasons, comment=comment, user=auth.user)
    except DomainError as exc:
        session.rollback()
        if exc.status == 403:
            raise
        if exc.code != "already_rated":
            page.errors = _errors(exc.problems)
        return _case_page(request, session, auth, service.rated_case_of(session, case_id), page,
                          status_code=exc.status)
    return _case_page(request, session, auth, case, page, thanks=True)


# ----- blocks other pages include -----------------------------------------------------------------------------


def case_rating_block(session: Session, case: Case) -> RatingView | None:
    """The rating of a case for its pages (staff case page, my case), or None."""
    rating = service.rating_for_case(session, case.id)
    return rating_view(rating) if rating is not None else None


def case_pending(session: Session, case: Case) -> bool:
    """True when the case is finished, not a sub-case, and not yet rated (the applicant is offered 评价)."""
    return case.parent_id is None and service.case_finished(case) and service.rating_for_case(session, case.id) is None
