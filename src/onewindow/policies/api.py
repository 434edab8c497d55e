"""免申即享 API (/api/v1): policies with a live match count, the entity register, grants.

Thin edges: parse, authorise (``core.access``), call ``policies.service``; the request's unit
of work commits. An entity's credit code or ID number travels in the JSON body, never in the URL. Grants
are department-scoped: an approver or 首席代表 sees and moves only the grants of their department's
policies (403 otherwise, never an empty list).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from sqlalchemy.orm import Session

from onewindow.cases import service as cases_service
from onewindow.catalog import service as catalog_service
from onewindow.catalog.schemas import PolicyIn
from onewindow.core import access, audit
from onewindow.core.access import Action
from onewindow.core.clock import Clock, today
from onewindow.core.errors import PermissionDenied, Problem, ValidationFailed
from onewindow.deps import Auth, ClockDep, CurrentAuth, DbSession
from onewindow.policies import service
from onewindow.policies.deps import MatcherCacheDep
from onewindow.policies.grants_states import GrantState
from onewindow.policies.matcher import Explanation
from onewindow.policies.models import Grant
from onewindow.policies.schemas import (
    CheckOut,
    DeclineIn,
    EntityIn,
    EntityOut,
    EntityPoliciesOut,
    EntityRef,
    EntityUpdateOut,
    ExplanationOut,
    GrantOut,
    GrantPage,
    PayIn,
    PolicyOut,
    PreviewIn,
    PreviewOut,
    TotalsOut,
)

router = APIRouter(tags=["policies"])


def scope_department(auth: Auth, session: DbSession, department: str | None, action: Action) -> int | None:
    """The department a list is limited to: the caller's own when the policy scopes them (403 for another one)."""
    wanted = catalog_service.department_by_code(session, department).id if department else None
    own = access.department_scoped(auth.viewer, action)
    if own is not None:
        if wanted is not None and wanted != own:
            raise PermissionDenied("只能查看本部门的数据", code="other_department")
        return own
    return wanted


def explanation_out(e: Explanation) -> ExplanationOut:
    """An explanation as JSON."""
    return ExplanationOut(code=e.code, name=e.name, matched=e.matched, missing=e.missing, summary=e.summary(),
                          checks=[CheckOut(field=c.field, label=c.label, text=c.text, actual=c.actual, held=c.held,
                                           line=c.line()) for c in e.checks])


# ----- policies -----------------------------------------------------------------------------------

@router.get("/policies", response_model=list[PolicyOut], summary="免申即享政策列表")
def list_policies(auth: CurrentAuth, session: DbSession) -> list[PolicyOut]:
    """Every policy, by code."""
    auth.require(Action.POLICY_VIEW)
    return [PolicyOut.of(p) for p in service.list_policies(session)]


@router.get("/policies/totals", response_model=list[TotalsOut], summary="各政策匹配数、兑付情况汇总")
def policy_totals(auth: CurrentAuth, session: DbSession, clock: ClockDep, cache: MatcherCacheDep,
                  department: Annotated[str | None, Query(description="部门编码")] = None) -> list[TotalsOut]:
    """Matches now, grants by status and the amount paid, per policy (department-scoped)."""
    auth.require(Action.POLICY_VIEW)
    dept = scope_department(auth, session, department, Action.POLICY_VIEW)
    counts = service.match_counts(session, cache, clock=clock)
    return [TotalsOut(policy=t.policy.code, name=t.policy.name, department=t.policy.department.code,
                      matches=counts.get(t.policy.code, 0), counts=t.counts, total=t.total, paid_yuan=t.paid_yuan)
            for t in service.totals_by_policy(session, department_id=dept)]


@router.post("/policies/preview", response_model=PreviewOut, summary="试算：草拟的条件现在能匹配多少主体")
def preview_draft(body: PreviewIn, auth: CurrentAuth, session: DbSession, clock: ClockDep,
                  cache: MatcherCacheDep) -> PreviewOut:
    """Count matches of a draft condition set (422 with the path of each bad condition)."""
    auth.require(Action.POLICY_EDIT)
    p = service.preview(session, cache, clock=clock, audience=body.audience, conditions=body.conditions)
    return PreviewOut(matches=p.matches, near_misses=p.near_misses, register_size=p.register_size)


@router.get("/policies/{code}", response_model=PolicyOut, summary="政策详情")
def get_policy(code: str, auth: CurrentAuth, session: DbSession) -> PolicyOut:
    """One policy."""
    auth.require(Action.POLICY_VIEW)
    return PolicyOut.of(service.get_policy(session, code))


@router.get("/policies/{code}/preview", response_model=PreviewOut, summary="政策当前匹配的主体数")
def preview_policy(code: str, auth: CurrentAuth, session: DbSession, clock: ClockDep,
                   cache: MatcherCacheDep) -> PreviewOut:
    """How many entities of the register the policy matches today, and how many it misses by one."""
    auth.require(Action.POLICY_VIEW)
    policy = service.get_policy(session, code)
    p = service.preview(session, cache, clock=clock, audience=policy.audience, conditions=policy.conditions)
    return PreviewOut(matches=p.matches, near_misses=p.near_misses, register_size=p.register_size)


@router.post("/policies", response_model=PolicyOut, status_code=201, summary="新建政策（管理员）")
def create_policy(body: PolicyIn, auth: CurrentAuth, session: DbSession, clock: ClockDep) -> PolicyOut:
    """Create a policy; bad conditions answer 422 with their paths."""
    auth.require(Action.POLICY_EDIT)
    policy, _ = service.save_policy_checked(session, clock=clock, actor=auth.actor, data=body, creating=True)
    return PolicyOut.of(policy)


@router.put("/policies/{code}", response_model=PolicyOut, summary="修改政策（管理员）")
def update_policy(code: str, body: PolicyIn, auth: CurrentAuth, session: DbSession, clock: ClockDep) -> PolicyOut:
    """Replace a policy's definition."""
    auth.require(Action.POLICY_EDIT)
    if body.code != code:
        raise ValidationFailed([Problem("code", "code_mismatch", "请求体中的政策编码与地址不一致")])
    policy, _ = service.save_policy_checked(session, clock=clock, actor=auth.actor, data=body, creating=False)
    return PolicyOut.of(policy)


# ----- entities -----------------------------------------------------------------------------------

# The credit code or ID number travels in the JSON body only, never in a URL (access logs, proxies): the
# upsert is a PUT on the collection, the two reads are POSTs that write nothing.

@router.put("/entities", response_model=EntityUpdateOut,
            summary="新增或更新一个主体（数据共享推送，证件号码放在请求体中），并即时重新匹配",
            responses={201: {"model": EntityUpdateOut, "description": "新增的主体"}})
def put_entity(body: EntityIn, auth: CurrentAuth, session: DbSession, clock: ClockDep, cache: MatcherCacheDep,
               response: Response) -> EntityUpdateOut:
    """Upsert one entity (200 updated, 201 created); its matches are recomputed and its offers adjusted."""
    auth.require(Action.ENTITY_WRITE)
    u = service.upsert_entity(session, clock=clock, actor=auth.actor, cache=cache, kind=body.kind,
                              identifier=body.identifier, name=body.name, data=body.data)
    if u.created:
        response.status_code = 201
    return EntityUpdateOut(entity=EntityOut.of(u.entity), created=u.created, changed=u.changed,
                           matched=u.matched, added=u.added, removed=u.removed, offered=u.offered,
                           expired=u.expired, rematch_ms=round(u.rematch_ms, 3))


@router.post("/entities/lookup", response_model=EntityOut, summary="主体信息（证件号码放在请求体中）")
def get_entity(body: EntityRef, auth: CurrentAuth, session: DbSession, clock: ClockDep) -> EntityOut:
    """One entity of the register (a person's ID number masked). A POST so that no ID number
    travels in the URL; it writes nothing."""
    auth.require(Action.ENTITY_VIEW)
    entity = service.get_entity(session, body.kind, body.identifier)
    audit.record_read(session, clock=clock, actor=auth.actor, what="entity_lookup", entity_type="entity",
                      entity_id=entity.id)
    return EntityOut.of(entity)


@router.post("/entities/policies", response_model=EntityPoliciesOut,
             summary="“我的政策”：符合的政策和差一项符合的政策，逐条说明（证件号码放在请求体中）")
def entity_policies(body: EntityRef, auth: CurrentAuth, session: DbSession, clock: ClockDep,
                    cache: MatcherCacheDep) -> EntityPoliciesOut:
    """Matches and near misses with the reason for every condition, and the entity's grants. A POST so that no
    ID number travels in the URL; it writes nothing."""
    auth.require(Action.ENTITY_VIEW)
    ep = service.policies_for(session, cache, clock=clock, kind=body.kind, identifier=body.identifier)
    audit.record_read(session, clock=clock, actor=auth.actor, what="entity_policies", entity_type="entity",
                      entity_id=ep.entity.id)
    return EntityPoliciesOut(entity=EntityOut.of(ep.entity),
                             matched=[explanation_out(e) for e in ep.matched],
                             near_misses=[explanation_out(e) for e in ep.near_misses],
                             grants=[GrantOut.of(g) for g in ep.grants])


# ----- grants -------------------------------------------------------------------------------------

@router.get("/grants", response_model=GrantPage, summary="兑付记录（按部门）")
def list_grants(
    auth: CurrentAuth, session: DbSession,
    department: Annotated[str | None, Query(description="部门编码")] = None,
    policy: Annotated[str | None, Query(description="政策编码")] = None,
    status: Annotated[GrantState | None, Query(description="状态")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> GrantPage:
    """Grants of the caller's department (all departments for center roles), newest first."""
    auth.require(Action.GRANT_VIEW)
    dept = scope_department(auth, session, department, Action.GRANT_VIEW)
    rows, total = service.list_grants(session, department_id=dept, policy_code=policy,
                                      status=status.value if status else None, limit=limit, offset=offset)
    return GrantPage(items=[GrantOut.of(g) for g in rows], total=total, limit=limit, offset=offset)


@router.post("/grants/offer", summary="把当前全部匹配结果生成待确认的兑付邀约（不重复）")
def offer(auth: CurrentAuth, session: DbSession, clock: ClockDep, cache: MatcherCacheDep,
          policy: Annotated[str | None, Query(description="只处理这一项政策")] = None) -> dict[str, int]:
    """Offer every current match that has no grant this period (idempotent)."""
    auth.require(Action.GRANT_OFFER)
    if policy:
        service.get_policy(session, policy)
    return {"offered": service.offer_matches(session, clock=clock, actor=auth.actor, cache=cache,
                                             policy_code=policy)}


@router.post("/grants/expire", summary="使超期未确认的邀约失效")
def expire(auth: CurrentAuth, session: DbSession, clock: ClockDep,
           older_than_days: Annotated[int, Query(ge=1, le=3650)] = 90) -> dict[str, int]:
    """Expire pending offers older than the given number of days."""
    auth.require(Action.GRANT_OFFER)
    return {"expired": service.expire_offers(session, clock=clock, actor=auth.actor, older_than_days=older_than_days)}


def _represented(session: Session, auth: Auth, clock: Clock) -> list[str]:
    """The credit codes of the enterprises the citizen represents (the library's 营业执照, as for 为企业申请): their
    offers are the citizen's to answer too."""
    return [r.credit_code for r in cases_service.represented_enterprises(session, auth.user, today(clock))]


def _department_grant(auth: Auth, session: DbSession, grant_id: int) -> Grant:
    grant = service.get_grant(session, grant_id)
    auth.require(Action.GRANT_APPROVE, department_id=grant.policy.department_id)
    return grant


@router.post("/grants/{grant_id}/confirm", response_model=GrantOut,
             summary="确认申领意愿（本人一键确认，或窗口人员代为确认）")
def confirm(grant_id: int, auth: CurrentAuth, session: DbSession, clock: ClockDep) -> GrantOut:
    """The entity's one-click confirmation: by the citizen themself (their own grants only, 404 for another's;
    confirming again changes nothing), or recorded by a clerk at a window."""
    if auth.can(Action.GRANT_CONFIRM_OWN):
        grant, _moved = service.answer_own_grant(session, clock=clock, viewer=auth.viewer, actor=auth.actor,
                                                 grant_id=grant_id, confirm=True,
                                                 represented=_represented(session, auth, clock))
        return GrantOut.of(grant)
    auth.require(Action.GRANT_CONFIRM_AT_WINDOW)
    return GrantOut.of(service.confirm_grant(session, clock=clock, actor=auth.actor, grant_id=grant_id))


@router.post("/grants/{grant_id}/decline", response_model=GrantOut, summary="放弃或不予兑付")
def decline(grant_id: int, body: DeclineIn, auth: CurrentAuth, session: DbSession, clock: ClockDep) -> GrantOut:
    """Declined by the citizen themself (their own grants), by the entity at a window (clerk), or refused by the
    policy's department; kept on record."""
    if auth.can(Action.GRANT_CONFIRM_OWN):
        grant, _moved = service.answer_own_grant(session, clock=clock, viewer=auth.viewer, actor=auth.actor,
                                                 grant_id=grant_id, confirm=False, reason=body.reason,
                                                 represented=_represented(session, auth, clock))
        return GrantOut.of(grant)
    if not auth.can(Action.GRANT_CONFIRM_AT_WINDOW):  # at a window on the entity's word, else the department
        _department_grant(auth, session, grant_id)
    return GrantOut.of(service.decline_grant(session, clock=clock, actor=auth.actor, grant_id=grant_id,
                                             reason=body.reason))


@router.post("/grants/{grant_id}/approve", response_model=GrantOut, summary="部门审核通过")
def approve(grant_id: int, auth: CurrentAuth, session: DbSession, clock: ClockDep) -> GrantOut:
    """The policy's department approves a confirmed grant."""
    _department_grant(auth, session, grant_id)
    return GrantOut.of(service.approve_grant(session, clock=clock, actor=auth.actor, grant_id=grant_id))


@router.post("/grants/{grant_id}/pay", response_model=GrantOut, summary="登记兑付（日期、金额）")
def pay(grant_id: int, body: PayIn, auth: CurrentAuth, session: DbSession, clock: ClockDep) -> GrantOut:
    """Record the payment of an approved grant."""
    _department_grant(auth, session, grant_id)
    return GrantOut.of(service.pay_grant(session, clock=clock, actor=auth.actor, grant_id=grant_id,
                                         paid_date=body.paid_date, amount_yuan=body.amount_yuan))


@router.post("/grants/{grant_id}/notify", response_model=GrantOut, summary="登记已告知主体")
def notify(grant_id: int, auth: CurrentAuth, session: DbSession, clock: ClockDep) -> GrantOut:
    """Record that the entity was told of the payment."""
    _department_grant(auth, session, grant_id)
    return GrantOut.of(service.notify_grant(session, clock=clock, actor=auth.actor, grant_id=grant_id))
