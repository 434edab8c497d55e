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
from onewindow.catalog.models import Bundle, Item
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
    "AuthorizationIn",
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
    """A recorded 授权委托: who may apply for whom, for what, until when."""

    agent_username: str
    applicant: ApplicantIn
    scope: Sequence[str]
    valid_from: dt.date
    valid_until: dt.date
    document: str = ""


def authorize_agent(session: Session, *, clock: Clock, user: User, data: AuthorizationIn) -> AgentAuthorization:
    """Record an authorisation (at a window by a clerk, or online by the applicant themself)."""
    viewer = viewer_of(user)
    access.require(viewer, Action.AGENT_AUTHORIZE)
    applicant = validate_applicant(data.applicant, on=today(clock))
    if not access.can(viewer, Action.AGENT_AUTHORIZE, Record(owner_ids=frozenset({applicant.id_number}))):
        raise PermissionDenied("只能为本人办理授权委托", code="not_self")
    problems: list[Problem] = []
    agent = session.scalars(select(User).where(User.username == data.agent_username.strip())).first()
    if agent is None or not access.acts_for_others(viewer_of(agent).role) or not agent.is_active:
        problems.append(Problem("agent_username", "unknown_agent", "未找到该帮办代办员"))
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
        raise ValidationFailed([Problem("agent_username", "unknown_agent", "未找到该帮办代办员")])
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
                      agent_user_id: int | None = None) -> list[AgentAuthorization]:
    """Authorisations an applicant gave, or an agent holds, newest first."""
    q = select(AgentAuthorization).order_by(AgentAuthorization.id.desc())
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
