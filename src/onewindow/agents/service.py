"""Agents service: recording and revoking authorisations (授权委托), listing them, and the one check that an
agent may act for an applicant on given item or bundle codes at a date. Other domains (cases) reach agents
only through this module.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from onewindow.agents.models import AgentAuthorization
from onewindow.catalog.models import Bundle, Item, ItemVersion
from onewindow.core import access, audit
from onewindow.core.access import Action, Record, Scope
from onewindow.core.applicants import ApplicantIn, clean_text, validate_applicant
from onewindow.core.clock import Clock, today
from onewindow.core.errors import Conflict, NotFound, PermissionDenied, Problem, ValidationFailed
from onewindow.core.ids import mask_id_number
from onewindow.staff.models import User
from onewindow.staff.service import actor_of, viewer_of

__all__ = [
    "AgentAuthorization",
    "AgentChoice",
    "AuthorizationIn",
    "AuthorizationView",
    "agent_choices",
    "authorization_status",
    "authorization_views",
    "authorizations_of",
    "authorize_agent",
    "may_use_library_of",
    "require_authorization",
    "revoke_authorization",
]


def require_authorization(session: Session, user: User, applicant_id: str, codes: Sequence[str],
                          on: dt.date) -> AgentAuthorization:
    """The authorisation under which this agent acts for the applicant on these item or bundle codes at ``on``.

    403 ``no_authorization`` unless one is in force (not revoked, within its period) and its scope is empty
    (every item) or names one of the codes.
    """
    grants = session.scalars(select(AgentAuthorization).where(
        AgentAuthorization.agent_user_id == user.id, AgentAuthorization.applicant_id == applicant_id,
        AgentAuthorization.revoked_at.is_(None), AgentAuthorization.valid_from <= on,
        AgentAuthorization.valid_until >= on))
    for grant in grants:
        if not grant.scope or any(c in grant.scope for c in codes):
            return grant
    raise PermissionDenied("没有该申请人有效的代办授权（授权范围或有效期不符）", code="no_authorization")


def may_use_library_of(session: Session, user: User, holder_id: str, codes: Sequence[str], on: dt.date) -> bool:
    """Online, whose certificates may be looked up for this user: their own, or an authorising applicant's."""
    holder = (holder_id or "").strip().upper()
    viewer = viewer_of(user)
    if access.can(viewer, Action.CASE_INTAKE):  # at a window the clerk sees the person and their card
        return True
    if access.acts_for_others(viewer.role):
        try:
            require_authorization(session, user, holder, codes, on)
        except PermissionDenied:
            return False
        return True
    return access.can(viewer, Action.CASE_APPLY, Record(owner_ids=frozenset({holder})))


@dataclass(frozen=True)
class AuthorizationIn:
    """A recorded 授权委托: who may apply for whom, for what, until when. The agent is named by account id
    (chosen from :func:`agent_choices`) or by username (the API)."""

    agent_username: str
    applicant: ApplicantIn
    scope: Sequence[str]
    valid_from: dt.date
    valid_until: dt.date
    document: str = ""
    agent_user_id: int | None = None


@dataclass(frozen=True)
class AgentChoice:
    """An agent an applicant may authorise: the account, the person's name and where they work."""

    id: int
    name: str
    organisation: str


def _organisation(user: User) -> str:
    parts = [p for p in (user.department.name if user.department else "", user.hall.name if user.hall else "") if p]
    return "，".join(dict.fromkeys(parts)) or "—"


def agent_choices(session: Session) -> list[AgentChoice]:
    """The active 帮办代办员 accounts by name (one query; the staff list is short and the policy says who acts
    for others)."""
    users = session.scalars(select(User).where(User.is_active.is_(True)).order_by(User.display_name, User.id))
    return [AgentChoice(u.id, u.display_name, _organisation(u)) for u in users
            if (role := access.parse_role(u.role)) is not None and access.acts_for_others(role)]


def _find_agent(session: Session, data: AuthorizationIn) -> tuple[User | None, str]:
    if data.agent_user_id is not None:
        return session.get(User, data.agent_user_id), "agent_id"
    return session.scalars(select(User).where(User.username == data.agent_username.strip())).first(), "agent_username"


def authorize_agent(session: Session, *, clock: Clock, user: User, data: AuthorizationIn) -> AgentAuthorization:
    """Record an authorisation (at a window by a clerk, or online by the applicant themself)."""
    viewer = viewer_of(user)
    access.require(viewer, Action.AGENT_AUTHORIZE)
    applicant = validate_applicant(data.applicant, on=today(clock))
    if not access.can(viewer, Action.AGENT_AUTHORIZE, Record(owner_ids=frozenset({applicant.id_number}))):
        raise PermissionDenied("只能为本人办理授权委托", code="not_self")
    problems: list[Problem] = []
    agent, agent_field = _find_agent(session, data)
    if agent is None or not access.acts_for_others(viewer_of(agent).role) or not agent.is_active:
        problems.append(Problem(agent_field, "unknown_agent", "未找到该帮办代办员"))
        agent = None
    if data.valid_from < today(clock):
        problems.append(Problem("valid_from", "past_date", "授权开始日期不能早于今天"))
    if data.valid_until < data.valid_from or data.valid_until < today(clock):
        problems.append(Problem("valid_until", "invalid_period", "授权有效期截止日期应不早于开始日期和今天"))
    if (data.valid_until - data.valid_from).days > 366:
        problems.append(Problem("valid_until", "period_too_long", "授权期限不能超过一年"))
    codes = [c.strip() for c in data.scope if c and c.strip()]
    for code in codes:
        if not (session.scalars(select(Item.id).where(Item.code == code)).first()
                or session.scalars(select(Bundle.id).where(Bundle.code == code)).first()):
            problems.append(Problem("scope", "unknown_item", f"授权范围中的事项“{code}”不存在"))
    if problems:
        raise ValidationFailed(problems)
    if agent is None:  # unreachable: reported above
        raise ValidationFailed([Problem(agent_field, "unknown_agent", "未找到该帮办代办员")])
    grant = AgentAuthorization(agent_user_id=agent.id, applicant_kind=applicant.kind, applicant_id=applicant.id_number,
                               applicant_name=applicant.name, scope=codes, valid_from=data.valid_from,
                               valid_until=data.valid_until, document=clean_text(data.document, 200),
                               created_by=user.id, created_at=clock.now())
    session.add(grant)
    session.flush()
    audit.record(session, clock=clock, actor=actor_of(user), action="cases.agent_authorized",
                 entity_type="agent_authorization", entity_id=grant.id,
                 after={"agent": agent.username, "applicant_id": mask_id_number(applicant.id_number), "scope": codes,
                        "valid_from": data.valid_from, "valid_until": data.valid_until})
    return grant


def revoke_authorization(session: Session, *, clock: Clock, user: User, authorization_id: int) -> AgentAuthorization:
    """The applicant (or the center) ends an authorisation."""
    grant = session.get(AgentAuthorization, authorization_id)
    if grant is None:
        raise NotFound("代办授权", str(authorization_id))
    if not access.can(viewer_of(user), Action.AGENT_AUTHORIZE, Record(owner_ids=frozenset({grant.applicant_id}))):
        raise PermissionDenied("无权撤销该授权", code="case_forbidden")
    if grant.revoked_at is not None:
        raise Conflict("该授权已撤销", code="already_revoked")
    grant.revoked_at = clock.now()
    session.flush()
    audit.record(session, clock=clock, actor=actor_of(user), action="cases.agent_authorization_revoked",
                 entity_type="agent_authorization", entity_id=grant.id, after={"revoked_at": grant.revoked_at})
    return grant


def authorizations_of(session: Session, *, applicant_id: str | None = None,
                      agent_user_id: int | None = None, limit: int | None = None) -> list[AgentAuthorization]:
    """Authorisations an applicant gave, or an agent holds, newest first."""
    q = select(AgentAuthorization).order_by(AgentAuthorization.id.desc()).limit(limit)
    if applicant_id is not None:
        q = q.where(AgentAuthorization.applicant_id == applicant_id)
    if agent_user_id is not None:
        q = q.where(AgentAuthorization.agent_user_id == agent_user_id)
    return list(session.scalars(q))


def my_authorizations(session: Session, *, user: User) -> list[AgentAuthorization]:
    """The authorisations an applicant gave, or those an agent holds (nothing else is "mine")."""
    viewer = viewer_of(user)
    reach = access.list_scope(viewer, Action.AGENT_VIEW)
    if reach is None:
        raise PermissionDenied("无权查看代办授权")
    if reach is not Scope.OWN:
        raise PermissionDenied("请用 POST /api/v1/agent-authorizations/search 按委托人证件号码查询",
                               code="applicant_id_required")
    if access.acts_for_others(viewer.role):
        return authorizations_of(session, agent_user_id=user.id)
    return authorizations_of(session, applicant_id=user.id_number) if user.id_number else []


def search_authorizations(session: Session, *, user: User, applicant_id: str) -> list[AgentAuthorization]:
    """The center's look-up of the authorisations one applicant gave."""
    if access.list_scope(viewer_of(user), Action.AGENT_VIEW) is not Scope.ALL:
        raise PermissionDenied("只有中心人员可以按委托人查询代办授权；申请人和代办人请查看本人的授权列表")
    return authorizations_of(session, applicant_id=applicant_id)


def authorization_status(grant: AgentAuthorization, on: dt.date) -> tuple[str, bool]:
    """The authorisation's state on ``on`` in Chinese, and whether it may still be revoked."""
    if grant.revoked_at is not None:
        return "已撤销", False
    if grant.valid_until < on:
        return "已过期", False
    if grant.valid_from > on:
        return "未生效", True
    return "有效", True


@dataclass(frozen=True)
class AuthorizationView:
    """An authorisation the applicant gave, with the agent's name and the items by name."""

    id: int
    agent: str
    organisation: str
    scope: str
    valid_from: dt.date
    valid_until: dt.date
    status: str
    active: bool


def authorization_views(session: Session, *, applicant_id: str, on: dt.date, limit: int = 20
                        ) -> list[AuthorizationView]:
    """The authorisations one applicant gave, newest first, named (three queries, whatever their number)."""
    rows = session.execute(select(AgentAuthorization, User).join(User, User.id == AgentAuthorization.agent_user_id)
                           .where(AgentAuthorization.applicant_id == applicant_id)
                           .order_by(AgentAuthorization.id.desc()).limit(limit)).all()
    names = scope_names(session, [c for g, _u in rows for c in g.scope])
    out = []
    for grant, agent in rows:
        status, active = authorization_status(grant, on)
        scope = "、".join(names.get(c, c) for c in grant.scope) if grant.scope else "全部事项"
        out.append(AuthorizationView(grant.id, agent.display_name, _organisation(agent), scope, grant.valid_from,
                                     grant.valid_until, status, active))
    return out


def scope_names(session: Session, codes: Sequence[str]) -> dict[str, str]:
    """Item and bundle names by code (two queries)."""
    wanted = sorted(set(codes))
    if not wanted:
        return {}
    names = dict(session.execute(select(Item.code, ItemVersion.name)
                                 .join(ItemVersion, ItemVersion.id == Item.current_version_id)
                                 .where(Item.code.in_(wanted))).all())
    names.update(session.execute(select(Bundle.code, Bundle.name).where(Bundle.code.in_(wanted))).all())
    return {str(k): str(v) for k, v in names.items()}
