"""Cases (办件) API (/api/v1): intake and online application, pre-check, review, decision, special
procedure, extension, withdrawal, 事后核查, 容缺 supply, delivery, archive, uploads, agent
authorisations, the lists of each role, and the public progress check.

Thin edges: parse, call ``cases.service`` (which authorises, locks the row, checks the ``version``
each write carries and answers 409 on a stale one or an illegal move), shape the answer. The
request's unit of work commits. Responses mask ID and phone numbers (``cases.schemas``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Header, Path, Query, Response, UploadFile
from fastapi.responses import FileResponse
from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from onewindow.agents import service as agents_service
from onewindow.agents.service import AuthorizationIn
from onewindow.cases import actions as case_actions
from onewindow.cases import service, uploads
from onewindow.cases.deadlines import Schedule
from onewindow.cases.models import Case, CaseDelivery, CaseExtension, CaseUpload
from onewindow.cases.schemas import (
    ID_MAX,
    AuthorizationCreateIn,
    AuthorizationOut,
    Body,
    CaseCreateIn,
    CaseDetailOut,
    CaseSummaryOut,
    ChecklistLineOut,
    ChecklistOut,
    DecisionIn,
    DeferredIn,
    DeliveryBody,
    ExtensionDecisionIn,
    ExtensionIn,
    ExtensionOut,
    MailReceivedIn,
    OpinionIn,
    PrecheckIn,
    PublicStatusOut,
    ResubmitIn,
    SuspendIn,
    VerificationIn,
    VersionIn,
    WithdrawIn,
)
from onewindow.cases.service import ApplicantIn, ApplicationIn, CaseRules, DeliveryIn
from onewindow.cases.states import CaseState
from onewindow.config import Settings
from onewindow.core import audit
from onewindow.core.access import Action
from onewindow.core.clock import Clock, today
from onewindow.core.errors import NotFound, PermissionDenied, Problem, ValidationFailed
from onewindow.core.personal import mask_text
from onewindow.deps import ClockDep, CurrentAuth, DbSession, LookupGuardDep, SettingsDep
from onewindow.staff.models import User

router = APIRouter(tags=["cases"])

NO_NUL = r"^[^\x00]*$"  # PostgreSQL text refuses NUL: a 422 here, not a database error
CaseId = Annotated[int, Path(ge=1, le=ID_MAX, description="办件 ID")]
UploadId = Annotated[int, Path(ge=1, le=ID_MAX, description="附件 ID")]
ExtensionId = Annotated[int, Path(ge=1, le=ID_MAX, description="延期申请 ID")]
AuthorizationId = Annotated[int, Path(ge=1, le=ID_MAX, description="授权 ID")]
CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"description": "状态不允许（illegal_case_transition）或版本已过期（stale_version）"}}


def _rules(settings: Settings) -> CaseRules:
    return CaseRules(deferral_working_days=settings.case_deferral_working_days, auto_approve=settings.case_auto_approve)


# ----- reads the service does not offer (one query each, for the detail view) ------------------------------


def _delivery_of(session: Session, case: Case) -> CaseDelivery | None:
    return session.scalars(select(CaseDelivery).where(CaseDelivery.case_id == case.id)).first()


def _uploads_of(session: Session, case: Case) -> list[CaseUpload]:
    return list(session.scalars(select(CaseUpload).where(CaseUpload.case_id == case.id).order_by(CaseUpload.id)))


def _extensions_of(session: Session, case: Case) -> list[CaseExtension]:
    return list(session.scalars(select(CaseExtension).where(CaseExtension.case_id == case.id)
                                .order_by(CaseExtension.id)))


def _schedules(session: Session, cases: Sequence[Case], clock: Clock) -> dict[int, Schedule]:
    return service.schedules(session, cases, calendar=service.work_calendar(session), on=today(clock))


def _detail(session: Session, case: Case, user: User, clock: Clock) -> CaseDetailOut:
    parent = service.get_case(session, case.parent_id) if case.parent_id else None
    subs = service.sub_cases(session, case.id)
    return CaseDetailOut.build(
        allowed_actions=case_actions.allowed_actions(session, user, case),
        case=case, parent_number=parent.number if parent else None, subs=subs,
        schedules=_schedules(session, [case, *subs], clock),
        delivery=_delivery_of(session, parent or case), uploads=_uploads_of(session, case),
        extensions=_extensions_of(session, case), visits=service.visit_count(session, case),
        one_visit=service.one_visit(session, case), events=service.timeline(session, case),
        visit_line=service.visit_line(session, case))


def _summaries(cases: Sequence[Case], session: Session, clock: Clock) -> list[CaseSummaryOut]:
    answers = _schedules(session, cases, clock)
    return [CaseSummaryOut.of(c, answers[c.id]) for c in cases]


def _visible(session: Session, user: User, case_id: CaseId) -> Case:
    case = service.get_case(session, case_id)
    service.require_view(session, user, case)
    return case


# ----- applying -------------------------------------------------------------------------------------------


@router.post("/cases", response_model=CaseDetailOut, status_code=201, summary="申报（网上）或窗口受理登记",
             responses={200: {"description": "同一幂等键的重复提交：返回已创建的办件"},
                        409: {"description": "幂等键已用于内容不同的申请（idempotency_key_reused）"}})
def create_case(body: CaseCreateIn, response: Response, auth: CurrentAuth, session: DbSession, clock: ClockDep,
                settings: SettingsDep,
                idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", min_length=1, max_length=80,
                                                              description="幂等键：重复提交只创建一件")] = None,
                ) -> CaseDetailOut:
    """Window staff (clerk, admin) take an application in and intake decides at once; applicants and
    agents apply online and the case waits for a clerk's pre-check."""
    a = body.applicant
    data = ApplicationIn(
        applicant=ApplicantIn(kind=a.kind, name=a.name, id_number=a.id_number, phone=a.phone),
        item_code=body.item_code or None, bundle_code=body.bundle_code or None, materials=dict(body.materials),
        extra_holders=list(body.extra_holders), commitment=body.commitment, form_data=dict(body.form_data),
        hall_code=body.hall_code or None, proxy=body.proxy, ticket_id=body.ticket_id, refuse=body.refuse,
        refuse_reason=body.refuse_reason, refuse_basis=body.refuse_basis, idempotency_key=idempotency_key,
        delivery_method=body.delivery_method, delivery_address=body.delivery_address,
        delivery_recipient=body.delivery_recipient, supply_online=body.supply_online)
    online = not auth.can(Action.CASE_INTAKE)  # staff receive at a window; applicants and agents apply online
    created = service.apply(session, clock=clock, user=auth.user, data=data, rules_=_rules(settings), online=online)
    if not created.created:
        response.status_code = 200
    return _detail(session, created.case, auth.user, clock)


class ChecklistIn(Body):
    """材料清单的查询条件：一个事项或一件事（二选一），以及持证人证件号码。证件号码放在请求体中，
    不进入 URL（浏览器历史、代理和访问日志）。"""

    item_code: str | None = Field(None, max_length=60, description="事项编码")
    bundle_code: str | None = Field(None, max_length=60, description="一件事编码")
    holder_id: str | None = Field(None, max_length=30, description="申请人证件号码")
    extra_holders: list[Annotated[str, Field(max_length=400)]] = Field(
        default_factory=list, max_length=10, description="其他持证人证件号码（每项可用逗号分隔多个）")


@router.post("/cases/checklist", response_model=ChecklistOut,
             summary="材料清单与证照库免提交情况（受理工作台；证件号码放在请求体中）")
def post_checklist(body: ChecklistIn, auth: CurrentAuth, session: DbSession, clock: ClockDep) -> ChecklistOut:
    """The merged material list of an item or bundle, with the materials the certificate library would
    supply today for the holders (免提交). A POST so that no ID number travels in the URL; it writes nothing."""
    if not (auth.can(Action.CERTIFICATE_LOOKUP) or auth.can(Action.CASE_INTAKE)):
        raise PermissionDenied("只有窗口和审批人员可以查看受理材料清单")
    target = service.resolve_target(session, item_code=body.item_code or None, bundle_code=body.bundle_code or None)
    holders = [h.strip().upper() for raw in [body.holder_id or "", *body.extra_holders] for h in raw.split(",")
               if h.strip() and len(h.strip()) <= 30]
    library = service.library_lookup(session, target=target, holder_ids=holders, on=today(clock)) if holders else {}
    if holders:
        audit.record_read(session, clock=clock, actor=auth.actor, what="checklist_library_lookup",
                          entity_type="certificate_holder", entity_id=mask_text(",".join(holders))[:120],
                          detail={"supplied": len(library)})
    department = (target.bundle.lead_department.name if target.bundle is not None
                  else target.version.department.name if target.version is not None else "")
    return ChecklistOut(title=target.title, department=department, materials=[
        ChecklistLineOut.of(e, library[e.key].number if e.key in library else None)
        for e in service.checklist(target)])


# ----- lists ----------------------------------------------------------------------------------------------


@router.get("/cases", response_model=list[CaseSummaryOut], summary="办件查询（中心人员全部，部门人员本部门）")
def list_cases(
        auth: CurrentAuth, session: DbSession, clock: ClockDep,
        state: Annotated[CaseState | None, Query(description="状态")] = None,
        warning: Annotated[str | None, Query(pattern="^(none|yellow|red)$", description="预警：none / yellow / red")
                           ] = None,
        department_id: Annotated[int | None, Query(ge=1, le=ID_MAX, description="办理部门 ID")] = None,
        limit: Annotated[int, Query(ge=1, le=200, description="每页条数")] = 50,
        offset: Annotated[int, Query(ge=0, le=1_000_000, description="跳过条数")] = 0,
) -> list[CaseSummaryOut]:
    """Newest first; approvers and department heads see their department only."""
    return _summaries(service.search_cases(session, user=auth.user, state=state.value if state else None,
                                           department_id=department_id, warning=warning, limit=limit,
                                           offset=offset), session, clock)


@router.get("/cases/inbox", response_model=list[CaseSummaryOut], summary="待审批办件（本部门）")
def inbox(auth: CurrentAuth, session: DbSession, clock: ClockDep,
          limit: Annotated[int, Query(ge=1, le=500, description="最多条数")] = 200) -> list[CaseSummaryOut]:
    """Open cases and sub-cases of the approver's department, soonest promised date first."""
    return _summaries(service.inbox(session, user=auth.user, limit=limit), session, clock)


@router.get("/cases/precheck", response_model=list[CaseSummaryOut], summary="待预审的网上申报")
def precheck_queue(auth: CurrentAuth, session: DbSession, clock: ClockDep,
                   limit: Annotated[int, Query(ge=1, le=500, description="最多条数")] = 200) -> list[CaseSummaryOut]:
    """Online applications waiting for a clerk, oldest first."""
    auth.require(Action.CASE_INTAKE)
    return _summaries(service.precheck_queue(session, limit=limit), session, clock)


@router.get("/cases/mine", response_model=list[CaseSummaryOut], summary="我的办件（申请人、帮办代办员）")
def my_cases(auth: CurrentAuth, session: DbSession, clock: ClockDep,
             limit: Annotated[int, Query(ge=1, le=200, description="最多条数")] = 100) -> list[CaseSummaryOut]:
    """An applicant's own cases, or the cases an agent filed."""
    return _summaries(service.my_cases(session, user=auth.user, limit=limit), session, clock)


@router.get("/cases/{case_id}", response_model=CaseDetailOut, summary="办件详情")
def get_case(case_id: CaseId, auth: CurrentAuth, session: DbSession, clock: ClockDep) -> CaseDetailOut:
    """State, materials, steps, deadlines, decision, sub-cases, delivery, visits and the timeline."""
    return _detail(session, _visible(session, auth.user, case_id), auth.user, clock)


# ----- moves ----------------------------------------------------------------------------------------------


@router.post("/cases/{case_id}/precheck", response_model=CaseDetailOut, summary="预审网上申报", responses=CONFLICT)
def precheck(case_id: CaseId, body: PrecheckIn, auth: CurrentAuth, session: DbSession, clock: ClockDep,
             settings: SettingsDep) -> CaseDetailOut:
    """Accept, request correction (one complete list) or refuse an online application."""
    case = service.precheck(session, clock=clock, user=auth.user, case_id=case_id, expected_version=body.version,
                            materials=dict(body.materials), rules_=_rules(settings), refuse=body.refuse,
                            reason=body.reason, basis=body.basis)
    return _detail(session, case, auth.user, clock)


@router.post("/cases/{case_id}/resubmit", response_model=CaseDetailOut, summary="补正后重新提交",
             responses=CONFLICT)
def resubmit(case_id: CaseId, body: ResubmitIn, auth: CurrentAuth, session: DbSession, clock: ClockDep,
             settings: SettingsDep) -> CaseDetailOut:
    """The applicant resubmits online, or a clerk takes the missing materials at the window."""
    case = service.resubmit(session, clock=clock, user=auth.user, case_id=case_id, expected_version=body.version,
                            materials=dict(body.materials), rules_=_rules(settings))
    return _detail(session, case, auth.user, clock)


@router.post("/cases/{case_id}/opinions", response_model=CaseDetailOut, summary="填写审查意见（完成下一环节）",
             responses=CONFLICT)
def record_opinion(case_id: CaseId, body: OpinionIn, auth: CurrentAuth, session: DbSession,
                   clock: ClockDep) -> CaseDetailOut:
    """Complete the next review step of the handling department."""
    case = service.record_opinion(session, clock=clock, user=auth.user, case_id=case_id,
                                  expected_version=body.version, opinion=body.opinion, agree=body.agree)
    return _detail(session, case, auth.user, clock)


@router.post("/cases/{case_id}/decision", response_model=CaseDetailOut, summary="作出准予或不予许可决定",
             responses=CONFLICT)
def decide(case_id: CaseId, body: DecisionIn, auth: CurrentAuth, session: DbSession, clock: ClockDep) -> CaseDetailOut:
    """准予 / 不予许可 (a refusal needs reason and legal basis)."""
    case = service.decide(session, clock=clock, user=auth.user, case_id=case_id, expected_version=body.version,
                          approve=body.approve, reason=body.reason, basis=body.basis)
    return _detail(session, case, auth.user, clock)


@router.post("/cases/{case_id}/suspend", response_model=CaseDetailOut, summary="进入特别程序（暂停计时）",
             responses=CONFLICT)
def suspend(case_id: CaseId, body: SuspendIn, auth: CurrentAuth, session: DbSession, clock: ClockDep) -> CaseDetailOut:
    """Hearing, expert review or on-site inspection: the clock stops."""
    case = service.suspend(session, clock=clock, user=auth.user, case_id=case_id, expected_version=body.version,
                           kind=body.kind, reason=body.reason)
    return _detail(session, case, auth.user, clock)


@router.post("/cases/{case_id}/resume", response_model=CaseDetailOut, summary="结束特别程序（恢复计时）",
             responses=CONFLICT)
def resume(case_id: CaseId, body: VersionIn, auth: CurrentAuth, session: DbSession, clock: ClockDep) -> CaseDetailOut:
    """The due dates move by the suspended days."""
    case = service.resume(session, clock=clock, user=auth.user, case_id=case_id, expected_version=body.version)
    return _detail(session, case, auth.user, clock)


@router.post("/cases/{case_id}/extensions", response_model=ExtensionOut, status_code=201, summary="申请延期",
             responses=CONFLICT)
def request_extension(case_id: CaseId, body: ExtensionIn, auth: CurrentAuth, session: DbSession,
                      clock: ClockDep) -> ExtensionOut:
    """Ask the department head to extend the legal limit."""
    ext = service.request_extension(session, clock=clock, user=auth.user, case_id=case_id, days=body.days,
                                    reason=body.reason, expected_version=body.version)
    return ExtensionOut.of(ext)


@router.post("/cases/extensions/{extension_id}/decision", response_model=CaseDetailOut, summary="审批延期申请",
             responses=CONFLICT)
def decide_extension(extension_id: ExtensionId, body: ExtensionDecisionIn, auth: CurrentAuth, session: DbSession,
                     clock: ClockDep) -> CaseDetailOut:
    """The department head approves (the legal due date moves) or rejects."""
    case = service.decide_extension(session, clock=clock, user=auth.user, extension_id=extension_id,
                                    approve=body.approve, expected_version=body.version)
    return _detail(session, case, auth.user, clock)


@router.post("/cases/{case_id}/withdraw", response_model=CaseDetailOut, summary="撤回申请", responses=CONFLICT)
def withdraw(case_id: CaseId, body: WithdrawIn, auth: CurrentAuth, session: DbSession,
             clock: ClockDep) -> CaseDetailOut:
    """Before a decision only; a bundle takes its sub-cases with it."""
    case = service.withdraw(session, clock=clock, user=auth.user, case_id=case_id, expected_version=body.version,
                            reason=body.reason)
    return _detail(session, case, auth.user, clock)


@router.post("/cases/{case_id}/verification", response_model=CaseDetailOut, summary="告知承诺事后核查",
             responses=CONFLICT)
def verify_commitment(case_id: CaseId, body: VerificationIn, auth: CurrentAuth, session: DbSession,
                      clock: ClockDep) -> CaseDetailOut:
    """Record the check; a false promise terminates the case."""
    case = service.verify_commitment(session, clock=clock, user=auth.user, case_id=case_id,
                                     expected_version=body.version, truthful=body.truthful, note=body.note)
    return _detail(session, case, auth.user, clock)


@router.post("/cases/{case_id}/deferred-materials", response_model=CaseDetailOut, summary="补交容缺材料",
             responses=CONFLICT)
def supply_deferred(case_id: CaseId, body: DeferredIn, auth: CurrentAuth, session: DbSession,
                    clock: ClockDep) -> CaseDetailOut:
    """容缺 materials handed in at the window."""
    case = service.supply_deferred(session, clock=clock, user=auth.user, case_id=case_id,
                                   expected_version=body.version, keys=list(body.keys), status=body.status)
    return _detail(session, case, auth.user, clock)


@router.post("/cases/{case_id}/delivery", response_model=CaseDetailOut, summary="送达办理结果", responses=CONFLICT)
def deliver(case_id: CaseId, body: DeliveryBody, auth: CurrentAuth, session: DbSession,
            clock: ClockDep) -> CaseDetailOut:
    """Window pickup, mail (courier and tracking number) or electronic delivery."""
    data = DeliveryIn(method=body.method, picked_up_by=body.picked_up_by, address=body.address,
                      recipient=body.recipient, courier=body.courier, tracking_number=body.tracking_number,
                      ticket_id=body.ticket_id)
    case = service.deliver(session, clock=clock, user=auth.user, case_id=case_id, expected_version=body.version,
                           data=data)
    return _detail(session, case, auth.user, clock)


@router.post("/cases/{case_id}/delivery/received", response_model=CaseDetailOut, summary="登记邮寄签收",
             responses=CONFLICT)
def confirm_mail_delivered(case_id: CaseId, body: MailReceivedIn, auth: CurrentAuth, session: DbSession,
                           clock: ClockDep) -> CaseDetailOut:
    """The day the courier delivered a mailed result."""
    case = service.confirm_mail_delivered(session, clock=clock, user=auth.user, case_id=case_id,
                                          on=body.delivered_on, expected_version=body.version)
    return _detail(session, case, auth.user, clock)


@router.post("/cases/{case_id}/archive", response_model=CaseDetailOut, summary="归档", responses=CONFLICT)
def archive(case_id: CaseId, body: VersionIn, auth: CurrentAuth, session: DbSession, clock: ClockDep) -> CaseDetailOut:
    """Archive a finished case and its sub-cases."""
    case = service.archive(session, clock=clock, user=auth.user, case_id=case_id, expected_version=body.version)
    return _detail(session, case, auth.user, clock)


# ----- uploads ----------------------------------------------------------------------------------------------


@router.post("/cases/{case_id}/uploads", response_model=CaseDetailOut, status_code=201,
             summary="上传申报材料附件（PDF、JPEG、PNG、OFD）", responses=CONFLICT)
def upload(case_id: CaseId, auth: CurrentAuth, session: DbSession, clock: ClockDep, settings: SettingsDep,
           material_key: Annotated[str, Form(min_length=1, max_length=220, pattern=NO_NUL, description="材料键")],
           file: Annotated[UploadFile, File(description="附件文件")]) -> CaseDetailOut:
    """Check the file by its bytes, record it against the material, then store it by its hash."""
    case = _visible(session, auth.user, case_id)
    # One byte over the limit is enough to refuse; a larger body is never held in memory whole.
    data = file.file.read(settings.upload_max_bytes + 1)
    checked = uploads.check_upload(file.filename or "", file.content_type, data,
                                   max_bytes=settings.upload_max_bytes, field="file", size=file.size)
    # The row first: when the service refuses (closed case, unknown material) nothing reaches the disk;
    # when the write to disk fails, the exception rolls the row back.
    service.attach_upload(session, clock=clock, user=auth.user, case=case, material_key=material_key,
                          filename=checked.filename, content_type=checked.content_type, size=checked.size,
                          sha256=checked.sha256)
    uploads.store_upload(settings.upload_dir, checked, data)
    return _detail(session, case, auth.user, clock)


@router.get("/cases/{case_id}/uploads/{upload_id}", response_class=FileResponse, summary="下载申报材料附件")
def download(case_id: CaseId, upload_id: UploadId, auth: CurrentAuth, session: DbSession, clock: ClockDep,
             settings: SettingsDep) -> FileResponse:
    """The stored file, to those who may view the case."""
    case = _visible(session, auth.user, case_id)
    row = session.get(CaseUpload, upload_id)
    if row is None or row.case_id != case.id:
        raise NotFound("附件", str(upload_id))
    path = uploads.open_upload(settings.upload_dir, row.sha256)
    audit.record_read(session, clock=clock, actor=auth.actor, what="upload_download", entity_type="case_upload",
                      entity_id=row.id, detail={"case": case.number})
    return FileResponse(path, media_type=row.content_type, filename=row.filename,
                        headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"})


# ----- agent authorisations ---------------------------------------------------------------------------------


@router.post("/agent-authorizations", response_model=AuthorizationOut, status_code=201, summary="登记帮办代办授权")
def authorize_agent(body: AuthorizationCreateIn, auth: CurrentAuth, session: DbSession,
                    clock: ClockDep) -> AuthorizationOut:
    """The applicant online (for themself) or a clerk at the window records who may apply for whom."""
    a = body.applicant
    grant = agents_service.authorize_agent(session, clock=clock, user=auth.user, data=AuthorizationIn(
        agent_username=body.agent_username,
        applicant=ApplicantIn(kind=a.kind, name=a.name, id_number=a.id_number, phone=a.phone),
        scope=list(body.scope), valid_from=body.valid_from, valid_until=body.valid_until, document=body.document))
    return AuthorizationOut.of(grant)


@router.get("/agent-authorizations", response_model=list[AuthorizationOut], summary="帮办代办授权列表（本人）")
def list_authorizations(auth: CurrentAuth, session: DbSession) -> list[AuthorizationOut]:
    """An applicant sees the authorisations they gave, an agent those they hold; no parameter, so no ID number
    in the URL. Center staff look an applicant's up with ``POST /agent-authorizations/search``."""
    rows = agents_service.my_authorizations(session, user=auth.user)
    return [AuthorizationOut.of(a) for a in rows]


class AuthorizationSearchIn(Body):
    """中心人员按委托人查询代办授权。证件号码放在请求体中，不进入 URL（浏览器历史、代理和访问日志）。"""

    applicant_id: str = Field(min_length=1, max_length=30, description="委托人证件号码")


@router.post("/agent-authorizations/search", response_model=list[AuthorizationOut],
             summary="按委托人查询帮办代办授权（中心人员；证件号码放在请求体中）")
def search_authorizations(body: AuthorizationSearchIn, auth: CurrentAuth,
                          session: DbSession) -> list[AuthorizationOut]:
    """Center staff: the authorisations an applicant gave. A POST so that the ID number stays out of the URL;
    it writes nothing."""
    applicant_id = body.applicant_id.strip().upper()
    if not applicant_id:
        raise ValidationFailed([Problem("applicant_id", "required", "请填写委托人证件号码")])
    rows = agents_service.search_authorizations(session, user=auth.user, applicant_id=applicant_id)
    return [AuthorizationOut.of(a) for a in rows]


@router.post("/agent-authorizations/{authorization_id}/revoke", response_model=AuthorizationOut,
             summary="撤销帮办代办授权")
def revoke_authorization(authorization_id: AuthorizationId, auth: CurrentAuth, session: DbSession,
                         clock: ClockDep) -> AuthorizationOut:
    """The applicant (or the center) ends an authorisation."""
    return AuthorizationOut.of(agents_service.revoke_authorization(session, clock=clock, user=auth.user,
                                                            authorization_id=authorization_id))


# ----- public -----------------------------------------------------------------------------------------------


@router.get("/track", response_model=PublicStatusOut, summary="办件进度查询（公开）",
            responses={404: {"description": "编号或证件号码后 4 位不符（不说明是哪一项）"}})
def track(session: DbSession, guard: LookupGuardDep, clock: ClockDep,
          number: Annotated[str, Query(min_length=1, max_length=40, pattern=NO_NUL, description="办件编号")],
          id_last4: Annotated[str, Query(min_length=1, max_length=8, pattern=NO_NUL,
                                         description="申请人证件号码后 4 位")],
          ) -> PublicStatusOut:
    """State and steps of a case by its number and the applicant's ID tail; nothing personal."""
    guard.check()
    try:
        return PublicStatusOut.of(service.track(session, number=number, id_last4=id_last4, on=today(clock)))
    except (NotFound, ValidationFailed):
        guard.failed()
        raise
