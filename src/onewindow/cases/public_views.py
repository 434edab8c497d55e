"""The applicant's side of cases (办件): public tracking, 我的办件, online application, uploads, notices.

Thin edges: parse, authorise, call :mod:`onewindow.cases.service`, render. Who sees what:

- ``/track`` is public: case number + the last 4 characters of the applicant's ID; an unknown number
  and a wrong tail get the same answer, and the page shows nothing personal beyond a masked name.
- ``/my/...`` and ``/apply...`` are for applicants and agents (帮办代办员); other roles get 403 and
  anonymous visitors are sent to /login. An applicant applies as themself (ID from the account);
  an agent types the applicant and must hold their authorisation (the service checks it).
- ``/cases/{id}/notices/{kind}.pdf`` serves anyone :func:`service.require_view` lets see the case.

Attachments are checked before anything is written: one bad file re-renders the form (422) with the
reason at that material, and neither a case nor a file is created.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData, UploadFile

from onewindow.agents import service as agents_service
from onewindow.agents.service import AgentAuthorization, AuthorizationIn
from onewindow.cases import notices, service, uploads, visits
from onewindow.cases.kinds import CaseKind, DeliveryMethod
from onewindow.cases.models import Case, CaseEvent, CaseUpload
from onewindow.cases.rules import (
    BUNDLE_FIELDS,
    BundleField,
    MaterialStatus,
    audience_allows,
    audience_problem,
    bundle_field_problems,
)
from onewindow.cases.service import ApplicantIn, ApplicationIn, CaseRules, Target
from onewindow.cases.states import CaseState, is_withdrawable
from onewindow.catalog import service as catalog_service
from onewindow.catalog.models import ItemVersion
from onewindow.certificates.service import Representation
from onewindow.config import Settings
from onewindow.core import access
from onewindow.core.access import Action
from onewindow.core.clock import CHINA_TZ, Clock, today
from onewindow.core.errors import Conflict, NotFound, PermissionDenied, Problem, ValidationFailed
from onewindow.core.ids import is_valid_credit_code, is_valid_id_number, mask_id_number, validate_credit_code
from onewindow.core.ratelimit import TooManyAttempts
from onewindow.deps import Auth, ClockDep, CurrentAuth, DbSession, LookupGuardDep, OptionalAuth, SettingsDep
from onewindow.ratings import links as rating_links
from onewindow.ratings import service as ratings_service
from onewindow.ratings import views as ratings_views
from onewindow.staff.models import User
from onewindow.web import FormDep, form_text, render

router = APIRouter(include_in_schema=False)

TRACK_NOT_FOUND = "未找到与该办件编号和证件号码后 4 位相符的办件，请核对后重新输入"
ONLINE_MIN_DEPTH = 3  # 三级（网上受理）and above
EXTRA_HOLDER_FIELDS = 2
AUTH_DEFAULT_DAYS = 90
NOTICES = {
    "submitted": "申报成功，请等待窗口预审；预审结果会显示在本页。",
    "uploaded": "材料已上传。",
    "resubmitted": "已重新提交，请等待窗口审核。",
    "withdrawn": "申请已撤回。",
    "authorized": "授权委托已登记。",
    "revoked": "授权委托已撤销。",
}
EVENT_LABELS = {
    "submitted": "提交申请", "resubmitted": "补正后重新提交", "uploaded": "上传材料",
    "accepted": "受理", "correction_requested": "一次性告知补正材料", "refused": "不予受理",
    "reviewed": "审查", "suspended": "进入特别程序（暂停计时）", "resumed": "恢复计时",
    "extension_requested": "申请延期", "extension_approved": "延期获批准", "extension_rejected": "延期未获批准",
    "approved": "准予许可", "denied": "不予许可", "certificate_issued": "签发电子证照",
    "bundle_progress": "分件陆续办结", "deferred_supplied": "补交容缺材料", "commitment_verified": "告知承诺核查属实",
    "delivered": "结果送达", "mail_delivered": "邮件已签收", "archived": "归档", "withdrawn": "撤回申请",
    "terminated": "终止办理", "deadlines_recomputed": "办结期限随节假日调整重新计算",
}
STATE_BADGES = {
    CaseState.SUBMITTED: "badge-blue-soft", CaseState.CORRECTION_REQUESTED: "badge-amber",
    CaseState.REFUSED: "badge-red", CaseState.ACCEPTED: "badge-blue", CaseState.IN_REVIEW: "badge-blue",
    CaseState.SUSPENDED: "badge-amber", CaseState.APPROVED: "badge-green", CaseState.DENIED: "badge-red",
    CaseState.DELIVERED: "badge-green", CaseState.ARCHIVED: "badge-quiet", CaseState.WITHDRAWN: "badge-quiet",
    CaseState.TERMINATED: "badge-quiet",
}
UPLOAD_STATES = (CaseState.SUBMITTED.value, CaseState.CORRECTION_REQUESTED.value)


# ----- who may use the applicant pages ---------------------------------------------------------


async def _applicant_auth(auth: CurrentAuth) -> Auth:
    if not auth.can(Action.CASE_APPLY):
        raise PermissionDenied("“我的办件”和网上申报仅供申请人和帮办代办员使用", code="applicants_only")
    return auth


ApplicantAuth = Annotated[Auth, Depends(_applicant_auth)]


def _is_agent(auth: Auth) -> bool:
    return access.acts_for_others(auth.viewer.role)


def _rules(settings: Settings) -> CaseRules:
    return CaseRules(deferral_working_days=settings.case_deferral_working_days,
                     auto_approve=settings.case_auto_approve)


def _max_mb(request: Request) -> str:
    size: int = request.app.state.settings.upload_max_bytes
    return f"{size / (1024 * 1024):.1f}".removesuffix(".0")


def _fmt_day(day: dt.date | None) -> str:
    return day.isoformat() if day is not None else "—"


def _fmt_time(at: dt.datetime | None) -> str:
    return at.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M") if at is not None else "—"


def _state(case: Case) -> CaseState:
    return CaseState(case.state)


@dataclass
class Errors:
    """Problems of a form: by material key, by other field, and all of them for the summary."""

    problems: list[Problem] = field(default_factory=list)
    materials: dict[str, list[str]] = field(default_factory=dict)
    fields: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, problems: Iterable[Problem]) -> Errors:
        """Group ``materials.<key>`` problems by key and the rest by their field's first part."""
        out = cls()
        for p in problems:
            out.problems.append(p)
            if p.field.startswith("materials."):
                out.materials.setdefault(p.field.removeprefix("materials."), []).append(p.message)
            else:
                out.fields.setdefault(p.field.split(".", 1)[-1] if p.field.startswith("applicant.") else p.field,
                                      []).append(p.message)
        return out

    def get(self, name: str) -> list[str]:
        """Messages of one field (as the shared form macros ask for them)."""
        return self.fields.get(name, [])

    def __bool__(self) -> bool:
        return bool(self.problems)


# ----- public tracking -------------------------------------------------------------------------


@router.get("/track", response_class=HTMLResponse)
def track_page(request: Request, session: DbSession, auth: OptionalAuth, guard: LookupGuardDep, clock: ClockDep,
               number: Annotated[str, Query(max_length=40)] = "",
               id_last4: Annotated[str, Query(max_length=10)] = "") -> Response:
    """办件查询: the form, and the public status when both fields are filled in."""
    number, id_last4 = number.strip(), id_last4.strip()
    asked = bool(number and id_last4)
    status: service.PublicStatus | None = None
    message = ""
    if asked:
        try:
            guard.check()
            status = service.track(session, number=number, id_last4=id_last4, on=today(clock))
        except NotFound:
            guard.failed()
            message = TRACK_NOT_FOUND
        except ValidationFailed as exc:
            guard.failed()
            message = "；".join(p.message for p in exc.problems)
        except TooManyAttempts as exc:
            message = exc.message
    done_steps = sum(1 for _n, s in status.steps if s == "已完成") if status else 0
    return render(request, "cases/public/track.html",
                  {"number": number, "id_last4": id_last4, "asked": asked, "status": status, "message": message,
                   "done_steps": done_steps, "badge": STATE_BADGES.get(status.state, "") if status else "",
                   "fmt_day": _fmt_day},
                  auth=auth, fragment="cases/public/_track_result.html")


# ----- notices ---------------------------------------------------------------------------------


@router.get("/cases/{case_id}/notices/{kind}.pdf")
def notice_download(case_id: int, kind: str, session: DbSession, auth: CurrentAuth,
                    settings: SettingsDep) -> Response:
    """受理通知书 / 补正材料一次性告知书 / 不予受理通知书 of a case, for staff and the applicant."""
    case = service.get_case(session, case_id)
    service.require_view(session, auth.user, case)
    parsed = notices.parse_kind(kind)
    # every notice carries the case's rating link (一事一评: rated once done; a bundle is rated as a whole)
    rating = rating_links.rating_url(settings.base_url, settings.secret_key, rating_links.Subject.CASE,
                                     case.parent_id or case.id)
    pdf = notices.notice_pdf(session, case, parsed, settings.base_url, font_paths=settings.cjk_font_paths,
                             rating_url=rating)
    ascii_name = f"{parsed.value}-{case.number}.pdf"
    utf8_name = quote(f"{parsed.label}-{case.number}.pdf")
    return Response(pdf, media_type="application/pdf", headers={
        "Content-Disposition": f"inline; filename=\"{ascii_name}\"; filename*=UTF-8''{utf8_name}",
        "Cache-Control": "private, no-cache",
    })


# ----- 我的办件 -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseRow:
    """A case in the applicant's list."""

    id: int
    number: str
    title: str
    state: CaseState
    badge: str
    applicant: str
    submitted: str
    promised_due: str
    needs_action: bool
    enterprise: str = ""  # the enterprise's name when applied for as its representative (为企业申请)


def _case_row(case: Case) -> CaseRow:
    state = _state(case)
    return CaseRow(case.id, case.number, case.title, state, STATE_BADGES.get(state, ""),
                   f"{case.applicant_name}（{case.applicant_id}）", _fmt_time(case.submitted_at),
                   _fmt_day(case.promised_due), state is CaseState.CORRECTION_REQUESTED,
                   case.applicant_name if case.applicant_kind == "enterprise" else "")


@dataclass(frozen=True)
class AuthorizationRow:
    """An agent authorisation as the applicant (or the agent) sees it."""

    id: int
    agent: str
    applicant: str
    scope: str
    valid_from: dt.date
    valid_until: dt.date
    status: str
    active: bool


def _authorization_rows(session: Session, grants: Sequence[AgentAuthorization], on: dt.date) -> list[AuthorizationRow]:
    agents = {u.id: u for u in session.scalars(select(User).where(User.id.in_({g.agent_user_id for g in grants})))}
    names = agents_service.scope_names(session, [c for g in grants for c in g.scope])
    rows = []
    for g in grants:
        agent = agents.get(g.agent_user_id)
        status, active = agents_service.authorization_status(g, on)
        scope = "、".join(names.get(c, c) for c in g.scope) if g.scope else "全部事项"
        rows.append(AuthorizationRow(
            g.id, agent.display_name if agent else "—", f"{g.applicant_name}（{g.applicant_id}）", scope,
            g.valid_from, g.valid_until, status, active))
    return rows


@router.get("/my/cases", response_class=HTMLResponse)
def my_cases(request: Request, session: DbSession, clock: ClockDep, auth: ApplicantAuth,
             notice: Annotated[str, Query(max_length=20)] = "") -> Response:
    """我的办件 and 我的授权委托 (given by an applicant, or held by an agent)."""
    user = auth.user
    if _is_agent(auth):
        cases = service.cases_of_applicant(session, applicant_id=None, agent_user_id=user.id)
        grants = agents_service.authorizations_of(session, agent_user_id=user.id)
    else:
        cases = service.cases_of_applicant(session, applicant_id=user.id_number, user_id=user.id)
        grants = agents_service.authorizations_of(session, applicant_id=user.id_number) if user.id_number else []
    finished = [c.id for c in cases if c.parent_id is None and ratings_service.case_finished(c)]
    rated = ratings_service.rated_cases(session, finished)
    return render(request, "cases/public/my_cases.html",
                  {"rows": [_case_row(c) for c in cases], "rated": rated,
                   "to_rate": {i for i in finished if i not in rated},
                   "grants": _authorization_rows(session, grants, today(clock)),
                   "is_agent": _is_agent(auth), "notice": NOTICES.get(notice, "")}, auth=auth)


# ----- one case ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class MaterialRow:
    """A material of the case as the applicant sees it."""

    key: str
    name: str
    required: bool
    status: MaterialStatus
    supplied: bool
    upload_name: str
    note: str
    can_upload: bool = False  # the applicant may upload it now (missing while open, or 容缺 after acceptance)

    @property
    def missing(self) -> bool:
        """Not supplied yet (and not deferred or promised)."""
        return self.status is MaterialStatus.MISSING

    @property
    def deferred(self) -> bool:
        """容缺: accepted without it, to be supplied (online here, or at a window) by the deferral date."""
        return self.status is MaterialStatus.DEFERRED


@dataclass(frozen=True)
class EventRow:
    """A timeline line: what and when (staff notes stay on the staff side)."""

    at: str
    label: str
    state: str


@dataclass(frozen=True)
class CasePage:
    """Everything the applicant's case page shows."""

    case: Case
    state: CaseState
    badge: str
    applicant: str
    materials: list[MaterialRow]
    events: list[EventRow]
    notices: list[notices.NoticeKind]
    subs: list[CaseRow]
    can_upload: bool
    can_resubmit: bool
    can_withdraw: bool
    hall: str
    visit_line: str
    delivery: str  # how the result goes out, chosen at intake (窗口领取 / 邮寄送达 / 电子送达)
    supply_deferred_online: bool  # 容缺 materials outstanding: uploading them here finishes without a visit

    @property
    def missing(self) -> list[MaterialRow]:
        """Required materials still to be supplied (the 补正 list while correction is requested)."""
        return [m for m in self.materials if m.required and m.missing]

    @property
    def uploadable(self) -> list[MaterialRow]:
        """Materials the applicant may upload now."""
        return [m for m in self.materials if m.can_upload] if self.can_upload else []


def _event_row(ev: CaseEvent) -> EventRow:
    to = CaseState(ev.to_state).label if ev.to_state else ""
    return EventRow(_fmt_time(ev.at), EVENT_LABELS.get(ev.kind, ev.kind), to)


def case_page(session: Session, case: Case) -> CasePage:
    """The applicant's view of one case."""
    state = _state(case)
    upload_ids = [m.upload_id for m in case.materials if m.upload_id is not None]
    names = {u.id: u.filename for u in (session.get(CaseUpload, i) for i in upload_ids) if u is not None}
    open_for_uploads = case.kind != CaseKind.SUB and case.state in UPLOAD_STATES
    deferred_open = case.kind != CaseKind.SUB and service.deferred_uploads_open(case)
    materials = [MaterialRow(m.key, m.name, m.required, MaterialStatus(m.status),
                             MaterialStatus(m.status) not in (MaterialStatus.MISSING, MaterialStatus.DEFERRED),
                             names.get(m.upload_id, "") if m.upload_id else "", m.note,
                             can_upload=(open_for_uploads and m.status == MaterialStatus.MISSING.value)
                             or (deferred_open and m.status == MaterialStatus.DEFERRED.value))
                 for m in case.materials]
    subs = [_case_row(s) for s in service.sub_cases(session, case.id)] if case.kind == CaseKind.BUNDLE else []
    hall = f"{case.receiving_hall.name}窗口" if case.receiving_hall else "网上申报"
    return CasePage(case=case, state=state, badge=STATE_BADGES.get(state, ""),
                    applicant=f"{case.applicant_name}（{case.applicant_id}）",
                    materials=materials, events=[_event_row(e) for e in service.timeline(session, case)],
                    notices=notices.available(session, case), subs=subs,
                    can_upload=open_for_uploads or deferred_open,
                    can_resubmit=case.kind != CaseKind.SUB and state is CaseState.CORRECTION_REQUESTED,
                    can_withdraw=case.kind != CaseKind.SUB and is_withdrawable(state), hall=hall,
                    visit_line=service.visit_line(session, case),
                    delivery=service.DELIVERY_METHODS.get(case.result_delivery, case.result_delivery),
                    supply_deferred_online=deferred_open)


def _viewable(session: Session, auth: Auth, case_id: int) -> Case:
    case = service.get_case(session, case_id)
    service.require_view(session, auth.user, case)
    return case


def _render_case(request: Request, session: Session, auth: Auth, case: Case, *, notice: str = "",
                 errors: Errors | None = None, status_code: int = 200) -> Response:
    return render(request, "cases/public/case.html",
                  {"page": case_page(session, case), "notice": notice,
                   "rating": ratings_views.case_rating_block(session, case),
                   "rate_pending": ratings_views.case_pending(session, case), "errors": errors or Errors(),
                   "fmt_day": _fmt_day, "fmt_time": _fmt_time, "max_mb": _max_mb(request)},
                  auth=auth, status_code=status_code)


@router.get("/my/cases/{case_id}", response_class=HTMLResponse)
def my_case(case_id: int, request: Request, session: DbSession, auth: ApplicantAuth,
            notice: Annotated[str, Query(max_length=20)] = "") -> Response:
    """One of my cases: state, materials, what is missing, timeline, notices, actions."""
    case = _viewable(session, auth, case_id)
    return _render_case(request, session, auth, case, notice=NOTICES.get(notice, ""))


def _file(form: FormData, name: str) -> UploadFile | None:
    value = form.get(name)
    if isinstance(value, UploadFile) and value.filename:
        return value
    return None


@dataclass(frozen=True)
class _Checked:
    key: str
    checked: uploads.CheckedUpload
    data: bytes


def _check_file(upload: UploadFile, key: str, max_bytes: int) -> _Checked:
    # Read one byte past the limit at most: enough to refuse, without holding a huge file in memory.
    data = upload.file.read(max_bytes + 1)
    checked = uploads.check_upload(upload.filename or "", upload.content_type, data, max_bytes=max_bytes,
                                   field=f"materials.{key}", size=upload.size)
    return _Checked(key, checked, data)


def _store_and_attach(session: Session, *, clock: Clock, settings: Settings, user: User, case: Case,
                      files: Sequence[_Checked]) -> None:
    for f in files:
        uploads.store_upload(settings.upload_dir, f.checked, f.data)
        service.attach_upload(session, clock=clock, user=user, case=case, material_key=f.key,
                              filename=f.checked.filename, content_type=f.checked.content_type,
                              size=f.checked.size, sha256=f.checked.sha256)


@router.post("/my/cases/{case_id}/upload", response_class=HTMLResponse)
def upload_material(case_id: int, request: Request, session: DbSession, clock: ClockDep, settings: SettingsDep,
                    auth: ApplicantAuth, form: FormDep) -> Response:
    """Upload one missing material of a submitted or correction-requested case, or a 容缺 material of an accepted
    one (supplied online: the deferral clears as at a window, without a visit)."""
    case = _viewable(session, auth, case_id)
    key = form_text(form, "material_key")
    upload = _file(form, "file")
    page = case_page(session, case)
    if not page.can_upload:
        raise Conflict("办件已受理或已结束，不能再上传材料", code="case_closed_for_uploads")
    if key not in {m.key for m in case.materials}:
        raise ValidationFailed([Problem("material_key", "unknown_material", "材料不在本件的材料清单中")])
    if key not in {m.key for m in page.uploadable}:
        raise Conflict("办件已受理，只能补交容缺材料", code="case_closed_for_uploads", field="material_key")
    try:
        if upload is None:
            raise ValidationFailed([Problem(f"materials.{key}", "file_required", "请选择要上传的文件")])
        checked = _check_file(upload, key, settings.upload_max_bytes)
    except ValidationFailed as exc:
        return _render_case(request, session, auth, case, errors=Errors.of(exc.problems), status_code=422)
    _store_and_attach(session, clock=clock, settings=settings, user=auth.user, case=case, files=[checked])
    return RedirectResponse(f"/my/cases/{case.id}?notice=uploaded", status_code=303)


def _version(form: FormData) -> int | None:
    raw = form_text(form, "version")
    return int(raw) if raw.isdigit() else None


@router.post("/my/cases/{case_id}/resubmit")
def resubmit_case(case_id: int, session: DbSession, clock: ClockDep, settings: SettingsDep, auth: ApplicantAuth,
                  form: FormDep) -> Response:
    """补正后重新提交."""
    case = _viewable(session, auth, case_id)
    service.resubmit(session, clock=clock, user=auth.user, case_id=case.id, expected_version=_version(form),
                     materials={}, rules_=_rules(settings))
    return RedirectResponse(f"/my/cases/{case.id}?notice=resubmitted", status_code=303)


@router.post("/my/cases/{case_id}/withdraw")
def withdraw_case(case_id: int, session: DbSession, clock: ClockDep, auth: ApplicantAuth,
                  form: FormDep) -> Response:
    """撤回申请 (before a decision)."""
    case = _viewable(session, auth, case_id)
    service.withdraw(session, clock=clock, user=auth.user, case_id=case.id, expected_version=_version(form),
                     reason=form_text(form, "reason"))
    return RedirectResponse(f"/my/cases/{case.id}?notice=withdrawn", status_code=303)


# ----- agent authorisations -----------------------------------------------------------------------


def _applicant_of(user: User) -> ApplicantIn:
    if not user.id_number:
        raise PermissionDenied("账号未登记身份证号码，请到窗口完善实名信息", code="no_id_number")
    return ApplicantIn(kind="person", name=user.display_name, id_number=user.id_number, phone=user.phone or "")


def _applicant_only(auth: Auth) -> User:
    if _is_agent(auth):
        raise PermissionDenied("授权委托须由申请人本人办理", code="applicant_only")
    return auth.user


def _parse_day(raw: str, name: str, label: str, problems: list[Problem]) -> dt.date | None:
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        problems.append(Problem(name, "invalid_date", f"请填写有效的{label}（年-月-日）"))
        return None


@dataclass(frozen=True)
class ScopeChoice:
    """An item or 一件事 an applicant may name in an authorisation."""

    code: str
    name: str


@dataclass(frozen=True)
class ScopeGroup:
    """The choices of one department (or the 一件事), for the checkbox list."""

    name: str
    choices: list[ScopeChoice]


def _scope_groups(session: Session) -> list[ScopeGroup]:
    """What a person may authorise an agent for: the 一件事 first, then the items for persons by department."""
    rows, _total = catalog_service.list_items(session, catalog_service.ItemFilters(), limit=2000)
    by_department: dict[str, list[ScopeChoice]] = {}
    for item, version in rows:
        if version.audience in ("person", "both"):
            by_department.setdefault(version.department.name, []).append(ScopeChoice(item.code, version.name))
    bundles = [ScopeChoice(b.code, b.name) for b in catalog_service.list_bundles(session) if b.status == "active"]
    groups = [ScopeGroup("一件事", bundles)] if bundles else []
    return groups + [ScopeGroup(name, sorted(choices, key=lambda c: c.name))
                     for name, choices in sorted(by_department.items())]


def _render_authorization(request: Request, session: Session, auth: Auth, values: dict[str, str],
                          scope: Sequence[str], errors: Errors, applicant: ApplicantIn,
                          status_code: int = 200) -> Response:
    return render(request, "cases/public/authorization_form.html",
                  {"values": values, "scope": set(scope), "errors": errors, "applicant": applicant,
                   "agents": agents_service.agent_choices(session), "groups": _scope_groups(session)},
                  auth=auth, status_code=status_code)


@router.get("/my/authorizations/new", response_class=HTMLResponse)
def authorization_form(request: Request, session: DbSession, clock: ClockDep, auth: ApplicantAuth) -> Response:
    """The form by which an applicant authorises an agent (帮办代办授权委托): the agent and the items are
    chosen from lists."""
    user = _applicant_only(auth)
    on = today(clock)
    values = {"agent_id": "", "valid_from": on.isoformat(),
              "valid_until": (on + dt.timedelta(days=AUTH_DEFAULT_DAYS)).isoformat(), "document": "", "all_items": ""}
    return _render_authorization(request, session, auth, values, [], Errors(), _applicant_of(user))


@router.post("/my/authorizations/new", response_class=HTMLResponse)
def authorization_create(request: Request, session: DbSession, clock: ClockDep, auth: ApplicantAuth,
                         form: FormDep) -> Response:
    """Record the authorisation, or re-render the form with the reasons (422); the service checks the agent, the
    items and the dates whatever the form offered."""
    user = _applicant_only(auth)
    applicant = _applicant_of(user)
    values = {k: form_text(form, k) for k in ("agent_id", "valid_from", "valid_until", "document", "all_items")}
    scope = [c.strip() for c in form.getlist("scope") if isinstance(c, str) and c.strip()][:200]
    problems: list[Problem] = []
    if not values["agent_id"]:
        problems.append(Problem("agent_id", "required", "请选择帮办代办员"))
    elif not values["agent_id"].isdigit() or len(values["agent_id"]) > 12:
        problems.append(Problem("agent_id", "unknown_agent", "未找到该帮办代办员"))
    if not scope and not values["all_items"]:
        problems.append(Problem("scope", "required", "请勾选授权办理的事项，或选择“全部事项”"))
    start = _parse_day(values["valid_from"], "valid_from", "授权开始日期", problems)
    end = _parse_day(values["valid_until"], "valid_until", "授权截止日期", problems)
    try:
        if problems or start is None or end is None:
            raise ValidationFailed(problems)
        agents_service.authorize_agent(session, clock=clock, user=user, data=AuthorizationIn(
            agent_username="", agent_user_id=int(values["agent_id"]), applicant=applicant,
            scope=[] if values["all_items"] else scope, valid_from=start, valid_until=end,
            document=values["document"]))
    except ValidationFailed as exc:
        return _render_authorization(request, session, auth, values, scope, Errors.of(exc.problems), applicant,
                                     status_code=422)
    return RedirectResponse("/my/cases?notice=authorized", status_code=303)


@router.post("/my/authorizations/{authorization_id}/revoke")
def authorization_revoke(authorization_id: int, session: DbSession, clock: ClockDep, auth: ApplicantAuth) -> Response:
    """撤销授权委托 (the applicant who gave it)."""
    agents_service.revoke_authorization(session, clock=clock, user=_applicant_only(auth),
                                        authorization_id=authorization_id)
    return RedirectResponse("/my/cases?notice=revoked", status_code=303)


# ----- online application (网上申报) -----------------------------------------------------------------


@dataclass(frozen=True)
class ApplyChoice:
    """An item or bundle that can be applied for online: for oneself (``url``) and/or for an enterprise one
    represents (``company_url``), as the item's 服务对象 allows."""

    url: str
    name: str
    department: str
    depth: int | None
    company_url: str = ""
    audience: str = "person"


def _choice(auth: Auth, code: str, version: ItemVersion) -> ApplyChoice | None:
    """How the applicant may apply for an item: an agent types the applicant (any item); a person applies for
    themself where the item serves persons, and for their enterprise where it serves enterprises."""
    url = f"/apply/{code}"
    if _is_agent(auth):
        return ApplyChoice(url, version.name, version.department.name, version.online_depth, audience=version.audience)
    personal = url if audience_allows(version.audience, "person") else ""
    company = f"{url}?for=enterprise" if audience_allows(version.audience, "enterprise") else ""
    return ApplyChoice(personal, version.name, version.department.name, version.online_depth, company,
                       version.audience)


@router.get("/apply", response_class=HTMLResponse)
def apply_choose(request: Request, session: DbSession, auth: ApplicantAuth,
                 q: Annotated[str, Query(max_length=60)] = "") -> Response:
    """Choose what to apply for: items open to online application (三级 and up), and 一件事; ``q`` searches
    names, codes and keywords."""
    q = q.strip()
    rows, _total = catalog_service.list_items(
        session, catalog_service.ItemFilters(min_online_depth=ONLINE_MIN_DEPTH, text=q or None), limit=1000)
    # a person applies for themself, or 为企业申请 for an enterprise their licence names them for (服务对象 decides)
    items = [c for c in (_choice(auth, i.code, v) for i, v in rows) if c is not None]
    shown = [b for b in catalog_service.list_bundles(session) if b.status == "active"
             and (not q or q in b.name or q.upper() in b.code.upper())]
    audience = {i.code: v.audience for i, v in catalog_service.items_by_codes(
        session, sorted({m.item.code for b in shown for m in b.members}))}
    bundles = [ApplyChoice(f"/apply/bundle/{b.code}", b.name, b.lead_department.name, None,
                           f"/apply/bundle/{b.code}?for=enterprise" if not _is_agent(auth) and all(
                               audience_allows(audience.get(m.item.code, "person"), "enterprise")
                               for m in b.members) else "")
               for b in shown]
    return render(request, "cases/public/apply_choose.html", {"items": items, "bundles": bundles, "q": q},
                  auth=auth)


@dataclass(frozen=True)
class FormMaterial:
    """A material of the online form: supplied from the library (免提交) or with a file input."""

    index: int
    key: str
    name: str
    required: bool
    note: str
    items: tuple[str, ...]
    library: str  # the certificate that supplies it, '' when the applicant must upload


@dataclass
class ApplyForm:
    """The online form's state: what is applied for, what was typed, the checklist, the problems."""

    target: Target
    action: str
    values: dict[str, str]
    extra_holders: list[str]
    materials: list[FormMaterial]
    errors: Errors
    is_bundle: bool
    library_known: bool  # False for an agent before the applicant's ID is known
    questions: tuple[BundleField, ...] = ()  # what the bundle asks beyond the applicant (新生儿: name, birth date)
    for_enterprise: bool = False  # 为企业申请 (a person for the enterprise they represent)
    representation: Representation | None = None  # the enterprise, once its licence names the applicant
    represented: tuple[Representation, ...] = ()  # the enterprises the library shows them representing
    enterprise_error: str = ""  # why the credit code typed cannot be used (bad code, not represented)
    credit_code: str = ""  # as typed
    personal_allowed: bool = True  # the item also serves persons (本人申请)
    enterprise_allowed: bool = False  # the item (every member of a bundle) serves enterprises (为企业申请)
    delivery_modes: tuple[DeliveryMethod, ...] = (DeliveryMethod.PICKUP,)  # how the result may go out (最多跑一次)


def _target(session: Session, *, item_code: str | None, bundle_code: str | None) -> Target:
    try:
        target = service.resolve_target(session, item_code=item_code, bundle_code=bundle_code)
    except ValidationFailed as exc:
        raise NotFound("事项或一件事", item_code or bundle_code or "") from exc
    if target.bundle is None and target.version is not None and target.version.online_depth < ONLINE_MIN_DEPTH:
        raise Conflict("该事项暂不支持网上申报，请到政务服务大厅窗口办理", code="not_online")
    return target


def _holders(values: dict[str, str], extra: Sequence[str]) -> list[str]:
    ids = [values["applicant_id"].strip().upper(), *[h.strip().upper() for h in extra if h.strip()]]
    return [i for i in ids if is_valid_id_number(i) or is_valid_credit_code(i)]


def _build_form(session: Session, *, clock: Clock, user: User, target: Target, action: str, values: dict[str, str],
                extra: list[str], errors: Errors, company: Company | None = None) -> ApplyForm:
    # the library is looked up only for the applicant themself, or an applicant who authorised this agent, or
    # the enterprise whose licence names this person; a further holder's certificates are used at a window only
    # (the service applies the same rule)
    own = [h for h in _holders(values, []) if values.get("applicant_id")]
    codes = [c for c in (target.bundle.code if target.bundle else "", *(i.code for i, _v in target.members)) if c]
    if company is not None:
        holders = [company.representation.credit_code] if company.representation else []
    else:
        holders = [h for h in own if agents_service.may_use_library_of(session, user, h, codes, today(clock))]
    library = service.library_lookup(session, target=target, holder_ids=holders, on=today(clock)) if holders else {}
    materials = [FormMaterial(i, e.key, e.name, e.required, e.note, e.items,
                              library[e.key].type.name if e.key in library else "")
                 for i, e in enumerate(service.checklist(target))]
    return ApplyForm(target=target, action=action, values=values, extra_holders=extra, materials=materials,
                     errors=errors, is_bundle=target.bundle is not None, library_known=bool(holders),
                     questions=BUNDLE_FIELDS.get(target.bundle.code, ()) if target.bundle else (),
                     for_enterprise=company is not None,
                     representation=company.representation if company else None,
                     represented=tuple(service.represented_enterprises(session, user, today(clock))) if company else (),
                     enterprise_error=company.error if company else "",
                     credit_code=company.credit_code if company else "",
                     personal_allowed=audience_problem(((v.name, v.audience) for _i, v in target.members),
                                                       "person") is None,
                     enterprise_allowed=audience_problem(((v.name, v.audience) for _i, v in target.members),
                                                         "enterprise") is None,
                     delivery_modes=service.delivery_modes(target))


@dataclass(frozen=True)
class Company:
    """为企业申请: the credit code typed, the enterprise it names when the applicant represents it, or why not."""

    credit_code: str
    representation: Representation | None
    error: str = ""
    status: int = 200


def _company(session: Session, clock: Clock, user: User, raw: str) -> Company:
    """Check a typed 统一社会信用代码 (check character, 422) and the applicant's representation of it (403)."""
    code = raw.strip().upper()
    if not code:
        return Company("", None)
    try:
        code = validate_credit_code(code, field="credit_code")
    except ValidationFailed as exc:
        return Company(code, None, "；".join(p.message for p in exc.problems), 422)
    try:
        found = service.require_representation(session, user, code, today(clock))
    except PermissionDenied as exc:
        return Company(code, None, exc.message, 403)
    return Company(code, found)


def _company_values(values: dict[str, str], user: User, company: Company) -> dict[str, str]:
    """The applicant fields of an enterprise case: the enterprise (as its licence names it); the representative
    stays the submitter and the contact (their account and phone)."""
    if company.representation is None:
        return values
    return {**values, "applicant_kind": "enterprise", "applicant_name": company.representation.enterprise_name,
            "applicant_id": company.credit_code, "phone": user.phone or "", "representative": user.display_name}


DELIVERY_FIELDS = ("delivery_method", "delivery_address", "delivery_recipient")


def _initial_values(auth: Auth) -> dict[str, str]:
    user = auth.user
    delivery = {"delivery_method": DeliveryMethod.PICKUP.value, "delivery_address": "", "delivery_recipient": ""}
    if _is_agent(auth):
        return {"applicant_kind": "person", "applicant_name": "", "applicant_id": "", "phone": "",
                "idempotency_key": secrets.token_urlsafe(18), **delivery}
    return {"applicant_kind": "person", "applicant_name": user.display_name, "applicant_id": user.id_number or "",
            "phone": user.phone or "", "idempotency_key": secrets.token_urlsafe(18), **delivery}


def _render_form(request: Request, auth: Auth, form: ApplyForm, status_code: int = 200) -> Response:
    applicant_masked = mask_id_number(form.values.get("applicant_id", "")) if not form.for_enterprise else ""
    return render(request, "cases/public/apply_form.html",
                  {"form": form, "is_agent": _is_agent(auth), "applicant_masked": applicant_masked,
                   "max_mb": _max_mb(request)},
                  auth=auth, status_code=status_code)


def _apply_get(request: Request, session: Session, clock: Clock, auth: Auth, *, item_code: str | None,
               bundle_code: str | None, action: str, enterprise: bool = False, credit_code: str = "") -> Response:
    values = _initial_values(auth)
    company: Company | None = None
    target = _target(session, item_code=item_code, bundle_code=bundle_code)
    if not _is_agent(auth):
        _applicant_of(auth.user)  # 403 early when the account has no ID number
        if enterprise:
            wrong = audience_problem(((v.name, v.audience) for _i, v in target.members), "enterprise")
            if wrong is not None:
                raise ValidationFailed([wrong])
            company = _company(session, clock, auth.user, credit_code)
            values = _company_values(values, auth.user, company)
    form = _build_form(session, clock=clock, user=auth.user, target=target, action=action, values=values,
                       extra=[""] * EXTRA_HOLDER_FIELDS, errors=Errors(), company=company)
    return _render_form(request, auth, form, status_code=company.status if company else 200)


def _apply_post(request: Request, session: Session, clock: Clock, settings: Settings, auth: Auth, posted: FormData,
                *, item_code: str | None, bundle_code: str | None, action: str) -> Response:
    user = auth.user
    target = _target(session, item_code=item_code, bundle_code=bundle_code)
    values = _initial_values(auth)
    values["idempotency_key"] = form_text(posted, "idempotency_key")[:80] or values["idempotency_key"]
    if _is_agent(auth):
        for name in ("applicant_kind", "applicant_name", "applicant_id", "phone"):
            values[name] = form_text(posted, name)
        values["applicant_id"] = values["applicant_id"].upper()
    extra = [form_text(posted, f"extra_holder_{i}").upper() for i in range(EXTRA_HOLDER_FIELDS)]
    for name in DELIVERY_FIELDS:  # 最多跑一次: kept on a re-render; checked with the rest (the service again)
        values[name] = form_text(posted, name)[:400]
    values["delivery_method"] = values["delivery_method"] or DeliveryMethod.PICKUP.value
    problems: list[Problem] = visits.delivery_problems(values["delivery_method"], values["delivery_address"],
                                                       values["delivery_recipient"], service.delivery_modes(target))
    company: Company | None = None
    if not _is_agent(auth) and form_text(posted, "applicant_kind") == "enterprise":  # 为企业申请
        company = _company(session, clock, user, form_text(posted, "credit_code"))
        values = _company_values(values, user, company)
        if company.representation is None:
            why = company.error or "请填写所代表企业的统一社会信用代码"
            form = _build_form(session, clock=clock, user=user, target=target, action=action, values=values,
                               extra=extra, errors=Errors.of([Problem("credit_code", "enterprise_refused", why)]),
                               company=company)
            return _render_form(request, auth, form, status_code=company.status if company.error else 422)
    questions = BUNDLE_FIELDS.get(target.bundle.code, ()) if target.bundle else ()
    for q in questions:
        values[q.name] = form_text(posted, q.name)[:200]
    if target.bundle is not None:
        problems += bundle_field_problems(target.bundle.code, values, today(clock))
    for i, h in enumerate(extra):
        if h and not is_valid_id_number(h):
            problems.append(Problem(f"extra_holder_{i}", "invalid_id_number", "家庭成员身份证号码无效，请核对"))
    # every attachment is checked before anything is written
    keys = {e.key for e in service.checklist(target)}
    checked: list[_Checked] = []
    for name in posted:
        index = re.fullmatch(r"material_(\d{1,3})", name)
        upload = _file(posted, f"file_{index[1]}") if index else None
        if index is None or upload is None:
            continue
        key = form_text(posted, name)
        if key not in keys:
            problems.append(Problem(f"materials.{key}", "unknown_material", "材料清单已更新，请刷新页面后重新填写"))
            continue
        try:
            checked.append(_check_file(upload, key, settings.upload_max_bytes))
        except ValidationFailed as exc:
            problems.extend(exc.problems)

    def again(found: list[Problem]) -> Response:
        form = _build_form(session, clock=clock, user=auth.user, target=target, action=action, values=values,
                           extra=extra, errors=Errors.of(found), company=company)
        return _render_form(request, auth, form, status_code=422)

    if problems:
        return again(problems)
    data = ApplicationIn(
        applicant=ApplicantIn(kind=values["applicant_kind"], name=values["applicant_name"],
                              id_number=values["applicant_id"], phone=values["phone"]),
        item_code=target.item.code if target.bundle is None and target.item is not None else None,
        bundle_code=target.bundle.code if target.bundle is not None else None,
        extra_holders=[h for h in extra if h], idempotency_key=values["idempotency_key"],
        form_data={q.name: values[q.name].strip() for q in questions}, delivery_method=values["delivery_method"],
        delivery_address=values["delivery_address"], delivery_recipient=values["delivery_recipient"])
    try:
        with session.begin_nested():  # a refusal leaves nothing behind
            created = service.apply(session, clock=clock, user=user, data=data, rules_=_rules(settings), online=True)
    except ValidationFailed as exc:
        return again(exc.problems)
    if created.created:  # a replayed submission (double click) already has its files
        _store_and_attach(session, clock=clock, settings=settings, user=user, case=created.case, files=checked)
    return RedirectResponse(f"/my/cases/{created.case.id}?notice=submitted", status_code=303)


@router.get("/apply/bundle/{code}", response_class=HTMLResponse)
def apply_bundle_form(code: str, request: Request, session: DbSession, clock: ClockDep, auth: ApplicantAuth,
                      for_: Annotated[str, Query(alias="for", max_length=20)] = "",
                      credit_code: Annotated[str, Query(max_length=40)] = "") -> Response:
    """The online form of a 一件事: one form, one deduplicated material list (``?for=enterprise`` as for an item)."""
    return _apply_get(request, session, clock, auth, item_code=None, bundle_code=code,
                      action=f"/apply/bundle/{quote(code)}", enterprise=for_ == "enterprise", credit_code=credit_code)


@router.post("/apply/bundle/{code}", response_class=HTMLResponse)
def apply_bundle_submit(code: str, request: Request, session: DbSession, clock: ClockDep, settings: SettingsDep,
                        auth: ApplicantAuth, form: FormDep) -> Response:
    """Submit a 一件事 online."""
    return _apply_post(request, session, clock, settings, auth, form, item_code=None, bundle_code=code,
                       action=f"/apply/bundle/{quote(code)}")


@router.get("/apply/{item_code}", response_class=HTMLResponse)
def apply_item_form(item_code: str, request: Request, session: DbSession, clock: ClockDep, auth: ApplicantAuth,
                    for_: Annotated[str, Query(alias="for", max_length=20)] = "",
                    credit_code: Annotated[str, Query(max_length=40)] = "") -> Response:
    """The online form of one item; ``?for=enterprise`` applies for an enterprise the applicant represents
    (``credit_code`` picks it: checked, then looked up in the library's licences)."""
    return _apply_get(request, session, clock, auth, item_code=item_code, bundle_code=None,
                      action=f"/apply/{quote(item_code)}", enterprise=for_ == "enterprise", credit_code=credit_code)


@router.post("/apply/{item_code}", response_class=HTMLResponse)
def apply_item_submit(item_code: str, request: Request, session: DbSession, clock: ClockDep, settings: SettingsDep,
                      auth: ApplicantAuth, form: FormDep) -> Response:
    """Submit an application for one item online."""
    return _apply_post(request, session, clock, settings, auth, form, item_code=item_code, bundle_code=None,
                       action=f"/apply/{quote(item_code)}")
