"""免申即享 pages: the policy editor with a live "who would match" count, an entity's "policies for
me" page with explanations, a department's offer list with its actions, totals by policy.

Staff-facing: applicants have no accounts yet, so the entity page is opened by a clerk at a window
(who records the one-click confirmation for the applicant), or by the center's other roles.
Thin edges: parse, authorise, call ``policies.service``, render; the request's unit of work commits.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from onewindow.catalog.schemas import PolicyIn
from onewindow.core import access, audit
from onewindow.core.access import Action, Record
from onewindow.core.clock import Clock
from onewindow.core.errors import DomainError, NotFound, Problem, ValidationFailed
from onewindow.core.validation import pydantic_problems
from onewindow.deps import Auth, ClockDep, CurrentAuth, DbSession
from onewindow.policies import service
from onewindow.policies.deps import MatcherCacheDep
from onewindow.policies.grants_states import STATE_LABELS, GrantState
from onewindow.policies.models import Entity, Grant
from onewindow.policies.service import MatcherCache
from onewindow.web import FieldErrors, FormDep, fmt_time, form_text, render

router = APIRouter(include_in_schema=False)

POLICY_FIELDS = ("name", "benefit", "amount_yuan", "valid_from", "valid_to", "basis", "conditions")
POLICY_LABELS = {"name": "名称", "benefit": "扶持内容", "amount_yuan": "金额（元）", "valid_from": "有效期起",
                 "valid_to": "有效期止", "basis": "政策依据", "conditions": "条件", "department": "部门",
                 "code": "编码", "audience": "对象"}
NOTICES = {"saved": "已保存", "unchanged": "没有修改", "confirmed": "已确认申领意愿", "declined": "已记录放弃",
           "approved": "已审核通过", "paid": "已登记兑付", "notified": "已登记告知"}
GRANT_VERBS = ("confirm", "decline", "approve", "pay", "notify")


def _can(auth: Auth, action: Action, department_id: int | None = None) -> bool:
    return auth.can(action, Record(department=department_id) if department_id is not None else None)


def _scoped_department(auth: Auth, action: Action) -> int | None:
    return access.department_scoped(auth.viewer, action)


def problem_label(p: Problem) -> str:
    """The Chinese name of a problem's field (``conditions[0].value`` → 条件 conditions[0].value)."""
    head = p.field.split("[", 1)[0].split(".", 1)[0]
    label = POLICY_LABELS.get(head, "")
    return f"{label} {p.field}" if label and label != p.field else p.field


def _grant_actions(auth: Auth, grant: Grant) -> list[tuple[str, str]]:
    """The verbs the user may apply to a grant now (value, Chinese label)."""
    state = GrantState(grant.status)
    dept_ok = _can(auth, Action.GRANT_APPROVE, grant.policy.department_id)
    window_ok = _can(auth, Action.GRANT_CONFIRM_AT_WINDOW)
    out = []
    if state is GrantState.PENDING and window_ok:
        out.append(("confirm", "确认申领"))
    if state is GrantState.CONFIRMED and dept_ok:
        out.append(("approve", "审核通过"))
    if state is GrantState.APPROVED and dept_ok:
        out.append(("pay", "登记兑付"))
    if state is GrantState.PAID and dept_ok:
        out.append(("notify", "登记已告知"))
    if (state is GrantState.PENDING and window_ok) or (state is GrantState.CONFIRMED and (dept_ok or window_ok)):
        out.append(("decline", "放弃"))
    return out


def _apply_verb(session: Session, auth: Auth, clock: ClockDep, grant: Grant, verb: str, posted: Any) -> None:
    """Authorise and apply one verb to a grant (403, 404 and 409 raised as domain errors)."""
    if verb in ("approve", "pay", "notify"):
        auth.require(Action.GRANT_APPROVE, department_id=grant.policy.department_id)
    elif verb == "confirm":
        auth.require(Action.GRANT_CONFIRM_AT_WINDOW)
    elif verb == "decline":
        if not _can(auth, Action.GRANT_CONFIRM_AT_WINDOW):
            auth.require(Action.GRANT_APPROVE, department_id=grant.policy.department_id)
    else:
        raise DomainError(code="not_found", message="页面或资源不存在", status=404)
    kw: dict[str, Any] = {"clock": clock, "actor": auth.actor, "grant_id": grant.id}
    match verb:
        case "confirm":
            service.confirm_grant(session, **kw)
        case "decline":
            service.decline_grant(session, reason=form_text(posted, "reason"), **kw)
        case "approve":
            service.approve_grant(session, **kw)
        case "pay":
            service.pay_grant(session, **kw)
        case "notify":
            service.notify_grant(session, **kw)


# ----- policies: list with totals, editor with live preview ---------------------------------------

@router.get("/admin/policies", response_class=HTMLResponse)
def policies_page(request: Request, auth: CurrentAuth, session: DbSession, clock: ClockDep,
                  cache: MatcherCacheDep) -> Response:
    """Every policy with its current matches, grants by status and the amount paid."""
    auth.require(Action.POLICY_VIEW)
    totals = service.totals_by_policy(session, department_id=_scoped_department(auth, Action.POLICY_VIEW))
    return render(request, "policies/policies.html", {
        "totals": totals, "matches": service.match_counts(session, cache, clock=clock),
        "states": list(GrantState), "STATE_LABELS": STATE_LABELS, "section": "policies",
    }, auth=auth)


def _policy_values(policy: Any) -> dict[str, str]:
    return {"name": policy.name, "benefit": policy.benefit,
            "amount_yuan": "" if policy.amount_yuan is None else str(policy.amount_yuan),
            "valid_from": policy.valid_from.isoformat() if policy.valid_from else "",
            "valid_to": policy.valid_to.isoformat() if policy.valid_to else "", "basis": policy.basis,
            "conditions": json.dumps(policy.conditions, ensure_ascii=False, indent=2)}


def _preview(session: Session, cache: MatcherCache, clock: Clock, audience: str, text: str
             ) -> tuple[service.Preview | None, list[Problem]]:
    try:
        conditions = json.loads(text or "[]")
        return service.preview(session, cache, clock=clock, audience=audience, conditions=conditions), []
    except json.JSONDecodeError as exc:
        return None, [Problem("conditions", "bad_json", f"条件不是有效的 JSON：第 {exc.lineno} 行第 {exc.colno} 列")]
    except ValidationFailed as exc:
        return None, exc.problems


def _render_editor(request: Request, session: Session, auth: Auth, cache: MatcherCache, clock: Clock, code: str,
                   values: dict[str, str], *, errors: FieldErrors | None = None, status_code: int = 200,
                   notice: str | None = None) -> Response:
    policy = service.get_policy(session, code)
    fields = service.field_definitions(session)[policy.audience]
    result, problems = _preview(session, cache, clock, policy.audience, values["conditions"])
    return render(request, "policies/policy_form.html", {
        "result": result, "problems": problems,
        "policy": policy, "values": values, "errors": errors or FieldErrors(), "problem_label": problem_label,
        "readonly": not _can(auth, Action.POLICY_EDIT), "fields": fields, "notice": notice, "section": "policies",
    }, auth=auth, status_code=status_code)


@router.get("/admin/policies/{code}", response_class=HTMLResponse)
def policy_page(request: Request, code: str, auth: CurrentAuth, session: DbSession, clock: ClockDep,
                cache: MatcherCacheDep, done: Annotated[str, Query(max_length=20)] = "") -> Response:
    """A policy's editor (read-only unless admin), with the live match count."""
    auth.require(Action.POLICY_VIEW)
    policy = service.get_policy(session, code)
    return _render_editor(request, session, auth, cache, clock, code, _policy_values(policy),
                          notice=NOTICES.get(done))


def _parse_policy_form(policy: Any, values: dict[str, str]) -> tuple[PolicyIn | None, list[Problem]]:
    problems: list[Problem] = []
    try:
        conditions = json.loads(values["conditions"] or "[]")
    except json.JSONDecodeError as exc:
        return None, [Problem("conditions", "bad_json", f"条件不是有效的 JSON：第 {exc.lineno} 行第 {exc.colno} 列")]
    if isinstance(conditions, dict):
        conditions = [conditions]
    amount: Decimal | None = None
    if values["amount_yuan"]:
        try:
            amount = Decimal(values["amount_yuan"])
        except InvalidOperation:
            problems.append(Problem("amount_yuan", "bad_amount", "金额应为数字"))
    dates: dict[str, dt.date | None] = {}
    for key in ("valid_from", "valid_to"):
        try:
            dates[key] = dt.date.fromisoformat(values[key]) if values[key] else None
        except ValueError:
            problems.append(Problem(key, "bad_date", "日期格式应为 YYYY-MM-DD"))
    if problems:
        return None, problems
    try:
        return PolicyIn(code=policy.code, name=values["name"], department=policy.department.code,
                        audience=policy.audience, benefit=values["benefit"], amount_yuan=amount,
                        conditions=conditions, basis=values["basis"], **dates), []
    except ValidationError as exc:
        return None, pydantic_problems(exc.errors())


@router.post("/admin/policies/{code}", response_class=HTMLResponse)
def save_policy(request: Request, code: str, auth: CurrentAuth, session: DbSession, clock: ClockDep,
                cache: MatcherCacheDep, posted: FormDep) -> Response:
    """Save the policy; any problem re-renders the form with what was typed and the reasons (422)."""
    auth.require(Action.POLICY_EDIT)
    policy = service.get_policy(session, code)
    values = {k: form_text(posted, k) for k in POLICY_FIELDS}
    changed = False
    data, problems = _parse_policy_form(policy, values)
    if data is not None:
        try:
            _, changed = service.save_policy_checked(session, clock=clock, actor=auth.actor, data=data,
                                                     creating=False)
        except ValidationFailed as exc:
            problems = exc.problems
    if data is None or problems:
        return _render_editor(request, session, auth, cache, clock, code, values,
                              errors=FieldErrors.of(problems), status_code=422)
    return RedirectResponse(f"/admin/policies/{code}?done={'saved' if changed else 'unchanged'}", status_code=303)


@router.post("/admin/policies/{code}/preview", response_class=HTMLResponse)
def policy_preview(request: Request, code: str, auth: CurrentAuth, session: DbSession, clock: ClockDep,
                   cache: MatcherCacheDep, posted: FormDep) -> Response:
    """The live count while conditions are edited (an HTMX fragment)."""
    auth.require(Action.POLICY_VIEW)
    policy = service.get_policy(session, code)
    result, problems = _preview(session, cache, clock, policy.audience, form_text(posted, "conditions"))
    return render(request, "policies/_preview.html", {"result": result, "problems": problems}, auth=auth)


# ----- grants: the department's offer list --------------------------------------------------------

@router.get("/admin/grants", response_class=HTMLResponse)
def grants_page(request: Request, auth: CurrentAuth, session: DbSession,
                status: Annotated[str, Query(max_length=12)] = "",
                policy: Annotated[str, Query(max_length=40)] = "",
                done: Annotated[str, Query(max_length=20)] = "",
                offset: Annotated[int, Query(ge=0)] = 0) -> Response:
    """The offers of the user's department (every department for center roles), with their actions."""
    auth.require(Action.GRANT_VIEW)
    state = status if status in {s.value for s in GrantState} else ""
    dept = _scoped_department(auth, Action.GRANT_VIEW)
    rows, total = service.list_grants(session, department_id=dept, policy_code=policy or None,
                                      status=state or None, limit=50, offset=offset)
    return render(request, "policies/grants.html", {
        "rows": [(g, g.entity.identifier, _grant_actions(auth, g))
                 for g in rows],
        "total": total, "offset": offset, "status": state, "policy": policy,
        "policies": service.totals_by_policy(session, department_id=dept),
        "STATE_LABELS": STATE_LABELS, "states": list(GrantState), "notice": NOTICES.get(done),
        "fmt_time": fmt_time, "section": "grants",
    }, auth=auth)


@router.post("/admin/grants/{grant_id}/{verb}")
def grant_action(request: Request, grant_id: int, verb: str, auth: CurrentAuth, session: DbSession,
                 clock: ClockDep, posted: FormDep) -> Response:
    """Apply one step to a grant from the offer list, then back to the list."""
    grant = service.get_grant(session, grant_id)
    _apply_verb(session, auth, clock, grant, verb, posted)
    back = form_text(posted, "back")
    back = back if back.startswith("/admin/grants") else "/admin/grants"
    sep = "&" if "?" in back else "?"
    return RedirectResponse(f"{back}{sep}done={GrantState(grant.status).value}", status_code=303)


# ----- an entity's "policies for me" --------------------------------------------------------------
# The credit code or ID number travels in the lookup form's POST body only, never in a URL (browser history,
# proxies, the access log): the lookup renders the entity page directly, and every later address names the
# entity by its numeric id.

ENTITY_FIELD_LIMITS = {"kind": 12, "identifier": 30}
ENTITY_ID_MAX = 2_147_483_647  # database integer keys: a larger number is a mistake, not a lookup
EntityId = Annotated[int, Path(ge=1, le=ENTITY_ID_MAX, description="主体 ID")]


def _lookup_form(request: Request, auth: Auth, *, kind: str = "", identifier: str = "",
                 problems: list[Problem] | None = None, status_code: int = 200) -> Response:
    return render(request, "policies/entity_lookup.html", {
        "kind": kind or "enterprise", "identifier": identifier, "problems": problems or [], "section": "entities",
    }, auth=auth, status_code=status_code)


def _entity_page(request: Request, auth: Auth, session: Session, clock: Clock, cache: MatcherCache,
                 entity: Entity, done: str = "") -> Response:
    ep = service.policies_for(session, cache, clock=clock, kind=entity.kind, identifier=entity.identifier)
    fields = service.field_definitions(session)[ep.entity.kind]
    return render(request, "policies/entity.html", {
        "ep": ep,
        "fields": fields, "kind_label": service.KIND_LABELS[ep.entity.kind],
        "grants": [(g, _grant_actions(auth, g)) for g in ep.grants], "STATE_LABELS": STATE_LABELS,
        "notice": NOTICES.get(done), "fmt_time": fmt_time, "section": "entities",
    }, auth=auth)


def _entity(session: Session, entity_id: int) -> Entity:
    entity = session.get(Entity, entity_id)
    if entity is None:
        raise NotFound("主体", str(entity_id))
    return entity


@router.get("/entities", response_class=HTMLResponse)
def entity_lookup(request: Request, auth: CurrentAuth) -> Response:
    """The lookup form, empty. Query parameters are ignored: an identifier is never looked up from a URL."""
    auth.require(Action.ENTITY_VIEW)
    return _lookup_form(request, auth)


@router.post("/entities", response_class=HTMLResponse)
def entity_lookup_post(request: Request, auth: CurrentAuth, session: DbSession, clock: ClockDep,
                       cache: MatcherCacheDep, posted: FormDep) -> Response:
    """Find an entity by credit code or ID number (the clerk at the window) and show its page at once; the
    form again with the problem when the input is wrong (422) or nobody has that number (404)."""
    auth.require(Action.ENTITY_VIEW)
    kind, identifier = form_text(posted, "kind"), form_text(posted, "identifier")
    problems = [Problem(name, "too_long", f"不能超过 {limit} 个字符")
                for name, limit in ENTITY_FIELD_LIMITS.items() if len(form_text(posted, name)) > limit]
    if not identifier:
        problems.append(Problem("identifier", "required", "请填写统一社会信用代码或公民身份号码"))
    if problems:
        return _lookup_form(request, auth, kind=kind[:12], identifier=identifier[:30], problems=problems,
                            status_code=422)
    try:
        entity = service.get_entity(session, kind, identifier)
    except DomainError as exc:
        return _lookup_form(request, auth, kind=kind, identifier=identifier, problems=exc.problems,
                            status_code=exc.status)
    audit.record_read(session, clock=clock, actor=auth.actor, what="entity_lookup", entity_type="entity",
                      entity_id=entity.id)
    return _entity_page(request, auth, session, clock, cache, entity)


@router.get("/entities/{entity_id}", response_class=HTMLResponse)
def entity_page(request: Request, entity_id: EntityId, auth: CurrentAuth, session: DbSession,
                clock: ClockDep, cache: MatcherCacheDep,
                done: Annotated[str, Query(max_length=20)] = "") -> Response:
    """The entity's matches and near misses, each condition explained, and its offers (by its numeric id)."""
    auth.require(Action.ENTITY_VIEW)
    entity = _entity(session, entity_id)
    audit.record_read(session, clock=clock, actor=auth.actor, what="entity_page", entity_type="entity",
                      entity_id=entity.id)
    return _entity_page(request, auth, session, clock, cache, entity, done)


@router.post("/entities/{entity_id}/grants/{grant_id}/{verb}")
def entity_grant_action(request: Request, entity_id: EntityId, grant_id: int, verb: str, auth: CurrentAuth,
                        session: DbSession, clock: ClockDep, posted: FormDep) -> Response:
    """Confirm (or decline) an offer for the entity in front of the window."""
    entity = _entity(session, entity_id)
    grant = service.get_grant(session, grant_id)
    if grant.entity_id != entity.id:
        raise DomainError(code="not_found", message=f"兑付记录不存在：{grant_id}", status=404)
    _apply_verb(session, auth, clock, grant, verb, posted)
    return RedirectResponse(f"/entities/{entity.id}?done={GrantState(grant.status).value}", status_code=303)
