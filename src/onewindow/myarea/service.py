"""What a citizen follows, read from each domain: one bounded query per list, newest first.

Who a record belongs to: the account (where the record keeps it) or the account's 公民身份号码; a ticket taken
without an ID number is the citizen's when it carries the account's phone, and so is a complaint filed by phone.
A record of another person never appears; an enterprise's 免申即享 offers appear to the person its 营业执照 names as
法定代表人 (经营者, 负责人). Nothing here writes: the lists link to each domain's own page, and the
one-click answer to an offer goes through :func:`onewindow.policies.service.answer_own_grant`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from onewindow.agents import service as agents_service
from onewindow.appointments import service as appointments_service
from onewindow.appointments.models import Booking
from onewindow.cases import service as cases_service
from onewindow.cases.models import Case
from onewindow.cases.states import CaseState
from onewindow.catalog.models import Bundle, ItemVersion
from onewindow.complaints.models import Complaint
from onewindow.complaints.states import ComplaintState
from onewindow.core.clock import CHINA_TZ
from onewindow.policies import service as policies_service
from onewindow.policies.grants_states import GrantState
from onewindow.policies.models import Grant
from onewindow.queue.models import Ticket
from onewindow.queue.states import TicketState
from onewindow.ratings.models import Rating
from onewindow.ratings.rules import Level
from onewindow.staff.models import User

LIST_LIMIT = 10  # each list is short: the domain's own page has the rest


@dataclass(frozen=True)
class Row:
    """One line of a list: what, its state, when, and where to open it."""

    title: str
    state: str
    when: str
    href: str
    detail: str = ""
    badge: str = ""


@dataclass(frozen=True)
class Offer:
    """A 免申即享 offer as its beneficiary sees it."""

    id: int
    policy: str
    benefit: str
    amount: str
    department: str
    state: GrantState
    offered: str
    explanation: str
    enterprise: str = ""  # the enterprise's name when offered to an enterprise the citizen represents (为企业)

    @property
    def open(self) -> bool:
        """Still waiting for the citizen's answer."""
        return self.state is GrantState.PENDING


@dataclass
class MyArea:
    """Everything “我的” shows."""

    tickets: list[Row] = field(default_factory=list)
    bookings: list[Row] = field(default_factory=list)
    cases: list[Row] = field(default_factory=list)
    ratings: list[Row] = field(default_factory=list)
    complaints: list[Row] = field(default_factory=list)
    offers: list[Offer] = field(default_factory=list)
    authorizations: list[agents_service.AuthorizationView] = field(default_factory=list)


def _time(at: dt.datetime | None) -> str:
    return at.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M") if at is not None else "—"


def tickets_of(session: Session, user: User, limit: int = LIST_LIMIT) -> list[Row]:
    """The citizen's 号票: by their ID number, or by their phone where the ticket has no ID number."""
    conds = []
    if user.id_number:
        conds.append(Ticket.id_number == user.id_number)
    if user.phone:
        conds.append(and_(Ticket.id_number.is_(None), Ticket.phone == user.phone))
    if not conds:
        return []
    rows = session.scalars(select(Ticket).where(or_(*conds))
                           .order_by(Ticket.issued_at.desc(), Ticket.id.desc()).limit(limit))
    return [Row(f"{t.number}号 {t.category.name}", TicketState(t.state).label, _time(t.issued_at),
                f"/tickets/{t.token}", t.hall.name, "badge-blue" if t.state == TicketState.WAITING else "")
            for t in rows]


def bookings_of(session: Session, user: User, limit: int = LIST_LIMIT) -> list[Row]:
    """The citizen's 预约 (booked with their ID number)."""
    if not user.id_number:
        return []
    rows = session.scalars(select(Booking).where(Booking.id_number == user.id_number)
                           .order_by(Booking.starts_at.desc(), Booking.id.desc()).limit(limit))
    return [Row(f"{b.category.name} {_time(b.starts_at)}", appointments_service.STATE_LABELS.get(b.state, b.state),
                _time(b.created_at), f"/bookings/{b.token}", b.hall.name,
                "badge-blue" if b.state == appointments_service.BOOKED else "")
            for b in rows]


def cases_of(session: Session, user: User, limit: int = LIST_LIMIT) -> list[Row]:
    """The citizen's 办件 (a bundle as one line), as on 我的办件."""
    cases: list[Case] = cases_service.cases_of_applicant(session, applicant_id=user.id_number, user_id=user.id,
                                                         limit=limit)
    return [Row(c.title, CaseState(c.state).label, _time(c.submitted_at or c.created_at), f"/my/cases/{c.id}",
                c.number, "badge-amber" if c.state == CaseState.CORRECTION_REQUESTED else "")
            for c in cases]


def ratings_of(session: Session, user: User, limit: int = LIST_LIMIT) -> list[Row]:
    """The 好差评 the citizen gave (signed in, or under their ID number), each linked to what was rated."""
    conds = [Rating.rater_user_id == user.id]
    if user.id_number:
        conds.append(Rating.rater_id_number == user.id_number)
    rows = session.execute(select(Rating, Ticket.token, Ticket.number, Case.number,
                                  func.coalesce(Bundle.name, ItemVersion.name))
                           .outerjoin(Ticket, Ticket.id == Rating.ticket_id)
                           .outerjoin(Case, Case.id == Rating.case_id)
                           .outerjoin(ItemVersion, ItemVersion.id == Case.item_version_id)
                           .outerjoin(Bundle, Bundle.id == Case.bundle_id)
                           .where(or_(*conds)).order_by(Rating.rated_at.desc(), Rating.id.desc()).limit(limit))
    out = []
    for rating, token, ticket_number, case_number, case_title in rows:
        if rating.case_id is not None:
            title, href, detail = f"办件：{case_title}", f"/my/cases/{rating.case_id}/rating", case_number or ""
        else:
            title, href, detail = f"窗口服务：{ticket_number or ''}号", f"/tickets/{token}" if token else "", ""
        state = Level(rating.level).label + ("（已核销）" if rating.voided_at is not None else "")
        out.append(Row(title, state, _time(rating.rated_at), href, detail,
                       "badge-red" if rating.negative and rating.voided_at is None else ""))
    return out


def complaints_of(session: Session, user: User, limit: int = LIST_LIMIT) -> list[Row]:
    """The citizen's 诉求: filed signed in, or under their ID number or phone."""
    conds = [Complaint.complainant_user_id == user.id]
    if user.id_number:
        conds.append(Complaint.complainant_id_number == user.id_number)
    if user.phone:
        conds.append(Complaint.complainant_phone == user.phone)
    rows = session.scalars(select(Complaint).where(or_(*conds))
                           .order_by(Complaint.accepted_at.desc(), Complaint.id.desc()).limit(limit))
    return [Row(c.subject, ComplaintState(c.state).label, _time(c.accepted_at),
                f"/complaint/track?code={c.tracking_code}", c.number,
                "badge-green" if c.state == ComplaintState.REPLIED else "")
            for c in rows]


def represented(session: Session, user: User, on: dt.date) -> dict[str, str]:
    """Credit code → name of the enterprises the citizen represents: a usable 营业执照 in the library names them as
    法定代表人, 经营者 or 负责人 by name and ID number (the rule of 为企业申请; one query)."""
    return {r.credit_code: r.enterprise_name for r in cases_service.represented_enterprises(session, user, on)}


def offers_of(session: Session, user: User, on: dt.date, limit: int = 20) -> list[Offer]:
    """The citizen's 免申即享 offers: for their ID number, and for the enterprises they represent (marked with the
    enterprise's name), newest first; two queries whatever the number of enterprises or offers."""
    companies = represented(session, user, on)
    holders = [*([user.id_number] if user.id_number else []), *companies]
    grants: list[Grant] = policies_service.grants_of_holders(session, holders, limit=limit)
    return [Offer(g.id, g.policy.name, g.policy.benefit,
                  f"{g.amount_yuan} 元" if g.amount_yuan is not None else "", g.policy.department.name,
                  GrantState(g.status), _time(g.offered_at), g.explanation,
                  companies.get(g.entity.identifier, "") if g.entity.kind == "enterprise" else "")
            for g in grants]


def my_area(session: Session, user: User, on: dt.date) -> MyArea:
    """Every list of “我的” (one query each; the lists only read)."""
    return MyArea(
        tickets=tickets_of(session, user), bookings=bookings_of(session, user), cases=cases_of(session, user),
        ratings=ratings_of(session, user), complaints=complaints_of(session, user), offers=offers_of(session, user, on),
        authorizations=(agents_service.authorization_views(session, applicant_id=user.id_number, on=on,
                                                                 limit=LIST_LIMIT)
                        if user.id_number else []))


