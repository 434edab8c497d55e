"""Staff pages of cases (办件): the clerk's intake workbench and online pre-check list, the approver's
inbox, the case search and the case page with the actions the user may take now.

Thin edges: parse the form, call ``cases.service``, render or redirect (303). Every write runs in a
savepoint, so a refused write (422, 409) leaves nothing behind while the page is re-rendered with
what was typed and the reasons. Which action forms a page offers comes from one table
(:data:`onewindow.cases.actions.ACTIONS`): the access policy's action, the target state the move needs, and
a predicate on the case; the service checks everything again when the form is posted.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from onewindow.calendar.service import build_calendar
from onewindow.cases import actions as case_actions
from onewindow.cases import deadlines as dl
from onewindow.cases import notices, service, uploads
from onewindow.cases.kinds import CaseKind, DecidedByRule, ExtensionStatus
from onewindow.cases.models import Case, CaseDelivery, CaseExtension, CaseSuspension, CaseUpload
from onewindow.cases.rules import MaterialStatus, is_passed_on
from onewindow.cases.service import ApplicantIn, ApplicationIn, CaseRules, ChecklistEntry, DeliveryIn, Target
from onewindow.cases.states import CaseState
from onewindow.catalog import rules as catalog_rules
from onewindow.catalog import service as catalog_service
from onewindow.catalog.models import Hall
from onewindow.catalog.service import ItemFilters
from onewindow.certificates import service as certificates
from onewindow.certificates.models import Certificate
from onewindow.config import Settings
from onewindow.core import access, audit
from onewindow.core.access import Action, Field
from onewindow.core.clock import CHINA_TZ, Clock, today
from onewindow.core.errors import Conflict, DomainError, NotFound, Problem, ValidationFailed
from onewindow.core.ids import validate_credit_code, validate_id_number
from onewindow.core.personal import Personal
from onewindow.deps import Auth, ClockDep, CurrentAuth, DbSession, SettingsDep
from onewindow.network import service as network_service
from onewindow.network import views as network_views
from onewindow.queue import service as queue_service
from onewindow.queue.models import Ticket
from onewindow.ratings import views as ratings_views
from onewindow.staff.models import User
from onewindow.web import FormDep, form_text, render

router = APIRouter(include_in_schema=False)

S = CaseState
INTAKE_STATUSES = (MaterialStatus.PAPER, MaterialStatus.ELECTRONIC, MaterialStatus.LIBRARY, MaterialStatus.DEFERRED,
                   MaterialStatus.PROMISED, MaterialStatus.MISSING)
PRECHECK_STATUSES = (*INTAKE_STATUSES[:3], MaterialStatus.UPLOADED, *INTAKE_STATUSES[3:])
TARGET_RESULTS = 15
TARGET_SCAN = 200  # items read before keeping those the clerk's hall offers
NOTICES = {
    "transfer": "已登记材料流转。",
    "accepted": "已受理。请打印受理通知书交申请人。",
    "auto_approved": "已受理，并已按秒批规则自动准予。",
    "correction": "材料不齐，已出具一次性告知书，请打印交申请人。",
    "refused": "已决定不予受理，请打印不予受理通知书交申请人。",
    "opinion": "审查意见已记录。", "approved": "已作出准予许可决定。", "denied": "已作出不予许可决定。",
    "suspended": "已进入特别程序，暂停计时。", "resumed": "特别程序结束，已恢复计时。",
    "extension": "延期申请已提交，等待首席代表审批。", "extension_approved": "已批准延期。",
    "extension_rejected": "已驳回延期申请。", "supplied": "容缺材料补交已登记。", "delivered": "办理结果已送达。",
    "archived": "已归档。", "verified": "事后核查已记录。", "precheck": "预审已完成。",
    "resubmitted": "补正材料已登记。",
}
DOCUMENTS = {kind.value: kind.label for kind in notices.NoticeKind}
WARNING_LABELS = {"red": "已超期", "yellow": "临近到期"}
CASE_KIND_LABELS = {k.value: k.label for k in CaseKind}
CHANNEL_LABELS = {"window": "窗口受理", "online": "网上申报"}
EVENT_LABELS = {
    "submitted": "登记", "accepted": "受理", "correction_requested": "一次性告知补正", "refused": "不予受理",
    "resubmitted": "补正后重新提交", "uploaded": "上传材料", "reviewed": "审查", "approved": "准予",
    "denied": "不予许可", "certificate_issued": "签发电子证照", "bundle_progress": "一件事进展",
    "suspended": "特别程序", "resumed": "恢复计时", "extension_requested": "申请延期",
    "extension_approved": "批准延期", "extension_rejected": "驳回延期", "withdrawn": "撤回", "terminated": "终止",
    "commitment_verified": "事后核查", "deferred_supplied": "补交容缺材料", "delivered": "送达",
    "mail_delivered": "邮件签收", "archived": "归档",
}


def rules_of(request: Request) -> CaseRules:
    """The case rules from the app's settings."""
    settings: Settings = request.app.state.settings
    return CaseRules(deferral_working_days=settings.case_deferral_working_days, auto_approve=settings.case_auto_approve)


@contextmanager
def _savepoint(session: Session) -> Iterator[None]:
    """A write that fails leaves nothing behind (the page is re-rendered, the request still commits)."""
    with session.begin_nested():
        yield


@dataclass
class Errors:
    """Problems for a form: by field, and all of them for the summary."""

    problems: list[Problem] = field(default_factory=list)
    form: str = ""  # which form of the page they belong to
    status: int = 422

    @classmethod
    def of(cls, exc: DomainError, form: str = "") -> Errors:
        """Group a domain error's problems."""
        return cls(list(exc.problems), form, exc.status)

    def get(self, name: str) -> list[str]:
        """Messages of one field."""
        return [p.message for p in self.problems if p.field == name]

    def __bool__(self) -> bool:
        return bool(self.problems)


def fmt_time(at: dt.datetime | None) -> str:
    """A stored instant as China time, to the minute."""
    return at.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M") if at else ""


def state_label(state: str) -> str:
    """The Chinese name of a case state."""
    try:
        return CaseState(state).label
    except ValueError:
        return state


def status_label(status: str) -> str:
    """The Chinese name of a material status."""
    try:
        return MaterialStatus(status).label
    except ValueError:
        return status


TEMPLATE_GLOBALS: dict[str, Any] = {
    "state_label": state_label, "status_label": status_label, "fmt_time": fmt_time,
    "WARNING_LABELS": WARNING_LABELS, "CASE_KIND_LABELS": CASE_KIND_LABELS, "CHANNEL_LABELS": CHANNEL_LABELS,
    "EVENT_LABELS": EVENT_LABELS, "DOCUMENTS": DOCUMENTS, "SUSPENSION_LABELS": service.SUSPENSION_LABELS,
    "DELIVERY_METHODS": service.DELIVERY_METHODS,
}


def _page(request: Request, template: str, context: dict[str, Any], auth: Auth, *, status_code: int = 200,
          fragment: str | None = None) -> Response:
    return render(request, template, {**TEMPLATE_GLOBALS, **context}, auth=auth, status_code=status_code,
                  fragment=fragment)


# ----- the intake workbench ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Applicant:
    """Whom the clerk is serving: the ID as typed, validated, and what the library knows."""

    kind: str
    id_number: str
    name: str
    certificates: list[Certificate]
    open_cases: list[Case]


def parse_applicant_id(raw: str, on: dt.date) -> tuple[str, str]:
    """(kind, normalised number) of a 公民身份号码 or 统一社会信用代码; ValidationFailed with the reason."""
    text = raw.strip()
    if not text:
        raise ValidationFailed([Problem("applicant_id", "required", "请输入公民身份号码或统一社会信用代码")])
    try:
        return "person", validate_id_number(text, field="applicant_id", today=on)
    except ValidationFailed as person_error:
        try:
            return "enterprise", validate_credit_code(text, field="applicant_id")
        except ValidationFailed as enterprise_error:
            looks_like_person = re.fullmatch(r"[0-9]{6,17}[0-9Xx]?", text.replace(" ", "")) is not None
            raise (person_error if looks_like_person else enterprise_error) from None


def _applicant(session: Session, kind: str, number: str, on: dt.date) -> Applicant:
    certs = certificates.usable_certificates(session, holder_id=number, on=on)
    open_cases = [c for c in service.cases_of_applicant(session, applicant_id=number)
                  if c.state in service.OPEN_STATES]
    name = next((c.holder_name for c in certs), "")
    return Applicant(kind, number, name, certs, open_cases)


def _targets(session: Session, q: str, hall: Hall | None) -> tuple[list[Any], list[tuple[Any, Any]]]:
    """Bundles and items matching ``q`` that the clerk's hall offers: those of its level (catalog 可办层级) and, at a
    town center or village point, the county's items it may receive for the department (代收代办)."""
    text = q.strip()
    if not text:
        return [], []
    bundles = [b for b in catalog_service.list_bundles(session) if b.status == "active" and (
        text in b.name or text.upper() == b.code.upper())]
    if hall is None:
        items, _total = catalog_service.list_items(session, ItemFilters(text=text), limit=TARGET_RESULTS)
        return bundles, items
    rows, _total = catalog_service.list_items(session, ItemFilters(text=text), limit=TARGET_SCAN)
    items = [(i, v) for i, v in rows if level_offer(hall, v.levels) != "none"][:TARGET_RESULTS]
    return bundles, items


def level_offer(hall: Hall | None, levels: list[str]) -> str:
    """How the clerk's hall takes an item: ``handles`` (its level), ``proxy`` (代收代办) or ``none``."""
    if hall is None or catalog_rules.hall_handles(hall.level, levels):
        return "handles"
    return "proxy" if catalog_rules.proxy_possible(hall.level, levels) else "none"


def _target_offer(hall: Hall | None, target: Target) -> str:
    offers = {level_offer(hall, v.levels) for _i, v in target.members}
    return "none" if "none" in offers else "proxy" if "proxy" in offers else "handles"


@dataclass(frozen=True)
class ChecklistRow:
    """One material of the intake form: what the catalog says, what the library supplies, what was chosen."""

    index: int
    entry: ChecklistEntry
    certificate: Certificate | None
    chosen: str
    disabled: frozenset[str]
    errors: list[str]


def _checklist_rows(entries: list[ChecklistEntry], library: dict[str, Certificate], chosen: dict[str, str],
                    errors: Errors) -> list[ChecklistRow]:
    rows = []
    for i, e in enumerate(entries):
        disabled = set()
        if e.key not in library:
            disabled.add(MaterialStatus.LIBRARY.value)
        if not e.deferrable:
            disabled.add(MaterialStatus.DEFERRED.value)
        default = MaterialStatus.LIBRARY.value if e.key in library else MaterialStatus.MISSING.value
        value = chosen.get(e.key) or default
        rows.append(ChecklistRow(i, e, library.get(e.key), value, frozenset(disabled),
                                 errors.get(f"materials.{e.key}")))
    return rows


def _split_holders(raw: str) -> list[str]:
    return [h for h in re.split(r"[\s,，;；、]+", raw.strip()) if h]


def _extra_holder_problems(holders: list[str], on: dt.date) -> list[Problem]:
    problems = []
    for i, h in enumerate(holders, start=1):
        try:
            parse_applicant_id(h, on)
        except ValidationFailed as exc:
            reason = "；".join(p.message for p in exc.problems)
            problems.append(Problem("extra_holders", "invalid_holder", f"第 {i} 个其他持证人证件号码无效：{reason}"))
    return problems


@dataclass
class IntakeForm:
    """What the intake form posts (and shows again after a refusal)."""

    applicant_id: str = ""
    applicant_name: str = ""
    applicant_phone: str = ""
    item_code: str = ""
    bundle_code: str = ""
    extra_holders: str = ""
    commitment: bool = False
    proxy: bool = False
    ticket_id: str = ""
    refuse_reason: str = ""
    refuse_basis: str = ""
    idempotency_key: str = ""
    materials: dict[str, str] = field(default_factory=dict)
    delivery_method: str = "pickup"
    delivery_address: str = ""
    delivery_recipient: str = ""
    supply_online: bool = True

    @classmethod
    def posted(cls, form: FormData) -> IntakeForm:
        """From the posted form."""
        materials = {k.removeprefix("material:"): v for k, v in form.multi_items()
                     if k.startswith("material:") and isinstance(v, str)}
        return cls(applicant_id=form_text(form, "applicant_id"), applicant_name=form_text(form, "applicant_name"),
                   applicant_phone=form_text(form, "applicant_phone"), item_code=form_text(form, "item_code"),
                   bundle_code=form_text(form, "bundle_code"), extra_holders=form_text(form, "extra_holders"),
                   commitment=form_text(form, "commitment") == "1", proxy=form_text(form, "proxy") == "1",
                   ticket_id=form_text(form, "ticket_id"),
                   refuse_reason=form_text(form, "refuse_reason"), refuse_basis=form_text(form, "refuse_basis"),
                   idempotency_key=form_text(form, "idempotency_key")[:80], materials=materials,
                   delivery_method=form_text(form, "delivery_method") or "pickup",
                   delivery_address=form_text(form, "delivery_address"),
                   delivery_recipient=form_text(form, "delivery_recipient"),
                   supply_online=form_text(form, "supply_online") == "1")


@dataclass(frozen=True)
class VisitTicket:
    """The queue ticket an intake belongs to (opened from the workbench): shown above the steps, carried along."""

    number: str
    phone: str
    item_code: str
    item_name: str
    category: str


def _visit_ticket(session: Session, ticket: Ticket | None) -> VisitTicket | None:
    if ticket is None:
        return None
    item_name = ""
    if ticket.item_code:
        try:
            item_name = catalog_service.get_item_version(session, ticket.item_code)[1].name
        except DomainError:
            item_name = ticket.item_code
    return VisitTicket(number=ticket.number, phone=ticket.phone or "", item_code=ticket.item_code or "",
                       item_name=item_name, category=f"{ticket.category.code} {ticket.category.name}")


def _intake_context(session: Session, clock: Clock, *, hall: Hall | None, id_text: str, item: str, bundle: str,
                    q: str, form: IntakeForm | None = None, errors: Errors | None = None,
                    ticket: VisitTicket | None = None) -> dict[str, Any]:
    on = today(clock)
    errors = errors or Errors()
    ctx: dict[str, Any] = {"id_text": id_text, "q": q, "item": item, "bundle": bundle, "errors": errors,
                           "applicant": None, "target": None, "rows": [], "lookup_problems": [],
                           "bundles": [], "items": [], "statuses": INTAKE_STATUSES, "ticket": ticket,
                           "hall": hall, "offer_of": lambda v: level_offer(hall, v.levels)}
    if not id_text:
        return ctx
    try:
        kind, number = parse_applicant_id(id_text, on)
    except ValidationFailed as exc:
        ctx["lookup_problems"] = exc.problems
        return ctx
    applicant = _applicant(session, kind, number, on)
    ctx["applicant"] = applicant
    ctx["bundles"], ctx["items"] = _targets(session, q, hall)
    if not (item or bundle):
        return ctx
    try:
        target = service.resolve_target(session, item_code=item or None, bundle_code=bundle or None)
    except ValidationFailed as exc:
        ctx["lookup_problems"] = exc.problems
        return ctx
    form = form or IntakeForm(applicant_id=number, applicant_name=applicant.name, item_code=item,
                              bundle_code=bundle, idempotency_key=secrets.token_urlsafe(18),
                              applicant_phone=ticket.phone if ticket else "",
                              ticket_id=ticket.number if ticket else "")
    ctx.update(_checklist_context(session, clock, target, number, form, errors))
    ctx["offer"] = _target_offer(hall, target)
    return ctx


def _checklist_context(session: Session, clock: Clock, target: Target, number: str, form: IntakeForm,
                       errors: Errors) -> dict[str, Any]:
    holders = [number, *[h.upper() for h in _split_holders(form.extra_holders)]]
    library = service.library_lookup(session, target=target, holder_ids=holders, on=today(clock))
    entries = service.checklist(target)
    return {"target": target, "form": form, "rows": _checklist_rows(entries, library, form.materials, errors),
            "members": [(i.code, v) for i, v in target.members],
            "delivery_modes": service.delivery_modes(target),
            "any_deferrable": any(e.deferrable for e in entries)}


def _intake_guard(auth: Auth) -> None:
    auth.require(Action.CASE_INTAKE)


# Every step of the workbench after the empty page is a POST: the applicant's full ID number travels in form
# bodies only, never in a URL (browser history, proxies, the access log). Field name → most characters.
INTAKE_FIELD_LIMITS = {"id": 40, "q": 60, "item": 60, "bundle": 40, "applicant_id": 40, "item_code": 60,
                       "bundle_code": 40, "extra_holders": 400, "ticket": 12}


def _intake_field(posted: FormData, name: str) -> str:
    """A posted field of an intake step; longer than its limit is a 422, as the old query limits were."""
    value = form_text(posted, name)
    limit = INTAKE_FIELD_LIMITS[name]
    if len(value) > limit:
        raise ValidationFailed([Problem(name, "too_long", f"不能超过 {limit} 个字符")])
    return value


def _intake_page(request: Request, auth: Auth, session: Session, clock: Clock, *, id_text: str = "",
                 item: str = "", bundle: str = "", q: str = "", ticket: VisitTicket | None = None) -> Response:
    ctx = _intake_context(session, clock, hall=auth.user.hall, id_text=id_text, item=item, bundle=bundle, q=q,
                          ticket=ticket)
    return _page(request, "cases/intake.html", {**ctx, "section": "intake"}, auth)


def _posted_ticket(session: Session, clock: Clock, auth: Auth, posted: FormData) -> VisitTicket | None:
    """The ticket carried through the intake steps (hidden ``ticket``): today's, at the clerk's own window."""
    number = _intake_field(posted, "ticket")
    if not number:
        return None
    return _visit_ticket(session, queue_service.ticket_at_my_window(session, clock=clock, user_id=auth.user.id,
                                                                    number=number))


@router.post("/cases/intake/ticket", response_class=HTMLResponse)
def intake_from_ticket(request: Request, auth: CurrentAuth, session: DbSession, clock: ClockDep,
                       posted: FormDep) -> Response:
    """受理办件 from the workbench: the intake opened with the ticket being served at the clerk's window (its
    number, the phone typed at the kiosk, the item chosen there, the ID number if one was registered)."""
    _intake_guard(auth)
    ticket = queue_service.ticket_at_my_window(session, clock=clock, user_id=auth.user.id,
                                               number=_intake_field(posted, "ticket"))
    visit = _visit_ticket(session, ticket)
    return _intake_page(request, auth, session, clock, id_text=ticket.id_number or "",
                        item=ticket.item_code or "", ticket=visit)


@router.get("/cases/intake", response_class=HTMLResponse)
def intake_page(request: Request, auth: CurrentAuth, session: DbSession, clock: ClockDep) -> Response:
    """The clerk's intake workbench, empty: find the applicant, pick the item, check the materials, accept.
    Query parameters are ignored: an ID number is never looked up from a URL."""
    _intake_guard(auth)
    return _intake_page(request, auth, session, clock)


@router.get("/cases/intake/applicant")
@router.get("/cases/intake/target")
def intake_step_reloaded(auth: CurrentAuth) -> Response:
    """A step page opened by address (a bookmark, a typed URL): back to the empty workbench."""
    _intake_guard(auth)
    return RedirectResponse("/cases/intake", status_code=303)


@router.post("/cases/intake/applicant", response_class=HTMLResponse)
def intake_applicant(request: Request, auth: CurrentAuth, session: DbSession, clock: ClockDep,
                     posted: FormDep) -> Response:
    """Step 1: the applicant by ID (``id``); with ``q`` also the matching items and bundles (the search form
    without JavaScript, and "重新选择")."""
    _intake_guard(auth)
    return _intake_page(request, auth, session, clock, id_text=_intake_field(posted, "id"),
                        q=_intake_field(posted, "q"), item=_intake_field(posted, "item"),
                        ticket=_posted_ticket(session, clock, auth, posted))


@router.post("/cases/intake/target", response_class=HTMLResponse)
def intake_target(request: Request, auth: CurrentAuth, session: DbSession, clock: ClockDep,
                  posted: FormDep) -> Response:
    """Step 2: the item (``item``) or bundle (``bundle``) picked for the applicant (``id``); the materials."""
    _intake_guard(auth)
    return _intake_page(request, auth, session, clock, id_text=_intake_field(posted, "id"),
                        item=_intake_field(posted, "item"), bundle=_intake_field(posted, "bundle"),
                        ticket=_posted_ticket(session, clock, auth, posted))


@router.post("/cases/intake/targets", response_class=HTMLResponse)
def intake_targets(request: Request, auth: CurrentAuth, session: DbSession, posted: FormDep) -> Response:
    """Items and bundles matching the search box (an HTMX fragment)."""
    _intake_guard(auth)
    q = _intake_field(posted, "q")
    bundles, items = _targets(session, q, auth.user.hall)
    hall = auth.user.hall
    return _page(request, "cases/_targets.html",
                 {"bundles": bundles, "items": items, "q": q, "id_text": _intake_field(posted, "id"),
                  "hall": hall, "offer_of": lambda v: level_offer(hall, v.levels),
                  "ticket_number": _intake_field(posted, "ticket")}, auth)


@router.post("/cases/intake/checklist", response_class=HTMLResponse)
def intake_checklist(request: Request, auth: CurrentAuth, session: DbSession, clock: ClockDep,
                     posted: FormDep) -> Response:
    """The material rows again after the further holders changed (an HTMX fragment)."""
    _intake_guard(auth)
    on = today(clock)
    item_code, bundle_code = _intake_field(posted, "item_code"), _intake_field(posted, "bundle_code")
    extra_holders = _intake_field(posted, "extra_holders")
    _kind, number = parse_applicant_id(_intake_field(posted, "applicant_id"), on)
    target = service.resolve_target(session, item_code=item_code or None, bundle_code=bundle_code or None)
    form = IntakeForm(applicant_id=number, item_code=item_code, bundle_code=bundle_code, extra_holders=extra_holders)
    problems = _extra_holder_problems(_split_holders(extra_holders), on)
    ctx = _checklist_context(session, clock, target, number, form, Errors(problems))
    return _page(request, "cases/_checklist.html", {**ctx, "statuses": INTAKE_STATUSES, "errors": Errors(problems),
                                                    "holder_problems": problems}, auth)


def _result_key(case: Case) -> str:
    state = CaseState(case.state)
    if state is S.REFUSED:
        return "refused"
    if state is S.CORRECTION_REQUESTED:
        return "correction"
    if case.decided_by_rule == DecidedByRule.INSTANT:
        return "auto_approved"
    return "accepted"


@router.post("/cases/intake", response_class=HTMLResponse)
def intake_submit(request: Request, auth: CurrentAuth, session: DbSession, clock: ClockDep,
                  posted: FormDep) -> Response:
    """Create the case (受理 / 补正 / 不予受理); a problem re-renders the form (422) and writes nothing."""
    _intake_guard(auth)
    form = IntakeForm.posted(posted)
    on = today(clock)
    refuse = form_text(posted, "decision") == "refuse"
    problems: list[Problem] = []
    kind, number = "person", form.applicant_id
    try:
        kind, number = parse_applicant_id(form.applicant_id, on)
    except ValidationFailed as exc:
        problems.extend(exc.problems)
    holders = _split_holders(form.extra_holders)
    problems.extend(_extra_holder_problems(holders, on))
    ticket_id: int | None = None
    if form.ticket_id:
        if form.ticket_id.isdigit():  # a ticket's database id, as the API takes it
            ticket_id = int(form.ticket_id)
        else:  # the number on the slip (C004): today's, at this clerk's window
            try:
                ticket_id = queue_service.ticket_at_my_window(session, clock=clock, user_id=auth.user.id,
                                                              number=form.ticket_id).id
            except DomainError as exc:
                problems.append(Problem("ticket_id", exc.problems[0].code, exc.problems[0].message))
    created = None
    status = 422
    if not problems:
        data = ApplicationIn(
            applicant=ApplicantIn(kind=kind, name=form.applicant_name, id_number=number, phone=form.applicant_phone),
            item_code=form.item_code or None, bundle_code=form.bundle_code or None, materials=form.materials,
            extra_holders=holders, commitment=form.commitment, proxy=form.proxy, ticket_id=ticket_id, refuse=refuse,
            refuse_reason=form.refuse_reason, refuse_basis=form.refuse_basis,
            idempotency_key=form.idempotency_key or None, delivery_method=form.delivery_method,
            delivery_address=form.delivery_address, delivery_recipient=form.delivery_recipient,
            supply_online=form.supply_online)
        try:
            with _savepoint(session):
                created = service.apply(session, clock=clock, user=auth.user, data=data, rules_=rules_of(request),
                                        online=False)
        except (ValidationFailed, Conflict) as exc:
            problems.extend(exc.problems)
            status = exc.status
    if created is None:
        errors = Errors(problems, "intake", status)
        ctx = _intake_context(session, clock, hall=auth.user.hall, id_text=form.applicant_id, item=form.item_code,
                              bundle=form.bundle_code, q="", form=form, errors=errors)
        return _page(request, "cases/intake.html", {**ctx, "section": "intake"}, auth, status_code=status)
    return RedirectResponse(f"/cases/{created.case.id}?done={_result_key(created.case)}", status_code=303)


# ----- pre-check list, inbox, search ------------------------------------------------------------------------


@router.get("/cases/precheck", response_class=HTMLResponse)
def precheck_page(request: Request, auth: CurrentAuth, session: DbSession) -> Response:
    """Online applications waiting for a clerk's pre-check, oldest first."""
    _intake_guard(auth)
    return _page(request, "cases/precheck.html", {"cases": service.precheck_queue(session), "section": "precheck"},
                 auth)


@dataclass(frozen=True)
class InboxRow:
    """A case of a list with its remaining time as people read it (``deadlines.schedule``'s answer)."""

    case: Case
    days_left: int | None  # working days left (negative: overdue); None when no clock runs
    css: str
    due_text: str
    status: str = ""
    warning: str = "none"


def _days_left(remaining: dl.Remaining) -> int | None:
    if remaining.status is dl.RemainingStatus.OVERDUE:
        return -(remaining.days or 0)
    if remaining.status in (dl.RemainingStatus.RUNNING, dl.RemainingStatus.DUE_TODAY):
        return remaining.days
    return None


def _row(case: Case, answer: dl.Schedule) -> InboxRow:
    level = answer.warning.value
    return InboxRow(case, _days_left(answer.remaining), f"warn-{level}" if level in WARNING_LABELS else "",
                    answer.remaining.text if case.accepted_on is not None else "—", answer.remaining.status.value,
                    level)


def inbox_rows(session: Session, clock: Clock, cases: list[Case]) -> list[InboxRow]:
    """The remaining time and warning of each case, from the one schedule function."""
    answers = service.schedules(session, cases, calendar=build_calendar(session), on=today(clock))
    return [_row(c, answers[c.id]) for c in cases]


@router.get("/cases/inbox", response_class=HTMLResponse)
def inbox_page(request: Request, auth: CurrentAuth, session: DbSession, clock: ClockDep) -> Response:
    """The department's open cases and sub-cases, soonest promised date first, with warnings."""
    cases = service.inbox(session, user=auth.user)
    pending = _pending_extensions(session, auth.user) if auth.can(Action.CASE_EXTENSION_DECIDE) else []
    return _page(request, "cases/inbox.html", {"rows": inbox_rows(session, clock, cases), "section": "inbox",
                                               "pending_extensions": pending}, auth)


def _pending_extensions(session: Session, user: User) -> list[tuple[CaseExtension, Case]]:
    rows = session.execute(select(CaseExtension, Case).join(Case, Case.id == CaseExtension.case_id)
                           .where(CaseExtension.status == ExtensionStatus.REQUESTED,
                                  Case.department_id == user.department_id)
                           .order_by(CaseExtension.id)).all()
    return [(e, c) for e, c in rows]


@router.get("/cases", response_class=HTMLResponse)
def search_page(request: Request, auth: CurrentAuth, session: DbSession, clock: ClockDep,
                state: Annotated[str, Query(max_length=24)] = "", warning: Annotated[str, Query(max_length=8)] = "",
                offset: Annotated[int, Query(ge=0)] = 0) -> Response:
    """办件查询: every case the user may list, filtered by state and warning."""
    state = state if state in {s.value for s in CaseState} else ""
    warning = warning if warning in WARNING_LABELS else ""
    cases = service.search_cases(session, user=auth.user, state=state or None, warning=warning or None, limit=50,
                                 offset=offset)
    return _page(request, "cases/search.html", {"rows": inbox_rows(session, clock, cases), "state": state,
                                                "warning": warning, "offset": offset, "states": list(CaseState),
                                                "section": "search"}, auth)


# ----- the case page ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MaterialRow:
    """A material of the case as the page shows it."""

    name: str
    required: bool
    deferrable: bool
    status: str
    label: str
    certificate: str
    key: str
    uploads: list[UploadLink] = field(default_factory=list)
    passed_on: str = ""  # issued inside the bundle: where it comes from


@dataclass(frozen=True)
class UploadLink:
    """A file the applicant uploaded for a material, opened through the case's access check."""

    url: str
    filename: str
    size_text: str


def _size_text(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB" if size >= 1024 * 1024 else f"{max(1, round(size / 1024))} KB"


def _materials(session: Session, case: Case) -> list[MaterialRow]:
    files: dict[str, list[UploadLink]] = {}
    for u in session.scalars(select(CaseUpload).where(CaseUpload.case_id == case.id).order_by(CaseUpload.id)):
        files.setdefault(u.material_key, []).append(
            UploadLink(f"/cases/{case.id}/uploads/{u.id}", u.filename, _size_text(u.size)))
    rows = []
    for m in case.materials:
        cert = ""
        if m.certificate_id is not None:
            c = certificates.get_certificate(session, m.certificate_id)
            cert = f"{c.type.name} {c.number}（持证人 {c.holder_id}）"  # masked at the edge
        rows.append(MaterialRow(m.name, m.required, m.deferrable, m.status, status_label(m.status), cert, m.key,
                                files.get(m.key, []), m.note if is_passed_on(m.note) else ""))
    return rows


def _documents(session: Session, case: Case) -> list[tuple[str, str]]:
    """The notices the case's history supports (PDFs served by the notices route)."""
    return [(kind.value, kind.label) for kind in notices.available(session, case)]


def _case_context(session: Session, clock: Clock, auth: Auth, case: Case) -> dict[str, Any]:
    parent = service.get_case(session, case.parent_id) if case.parent_id else None
    subs = service.sub_cases(session, case.id) if case.kind == CaseKind.BUNDLE else []
    answer = service.schedules(session, [case], calendar=build_calendar(session), on=today(clock))[case.id]
    row = _row(case, answer)
    delivery = session.scalars(select(CaseDelivery).where(CaseDelivery.case_id == case.id)).first()
    suspensions = list(session.scalars(select(CaseSuspension).where(CaseSuspension.case_id == case.id)
                                       .order_by(CaseSuspension.id)))
    extensions = list(session.scalars(select(CaseExtension).where(CaseExtension.case_id == case.id)
                                      .order_by(CaseExtension.id)))
    result_cert = (certificates.get_certificate(session, case.result_certificate_id)
                   if case.result_certificate_id else None)
    actions = case_actions.allowed_actions(session, auth.user, case)
    return {
        "case": case, "parent": parent, "subs": inbox_rows(session, clock, subs) if subs else [],
        "materials": _materials(session, case), "timeline": service.timeline(session, case),
        "visits": service.visit_count(session, case), "one_visit": service.one_visit(session, case),
        "visit_line": service.visit_line(session, case),
        "days_left": row.days_left, "due_text": row.due_text if case.accepted_on is not None else "",
        "remaining": answer.remaining, "warning": row.warning,
        "suspension_kinds": service.procedure_of_case(case).suspension_kinds,
        "delivery": delivery, "suspensions": suspensions, "extensions": extensions, "result_cert": result_cert,
        "actions": actions, "documents": _documents(session, case),
        "next_step": next((s.name for s in service.opinion_steps(case)), ""),
        "deferred_materials": [m for m in case.materials if m.status == MaterialStatus.DEFERRED.value],
        "statuses": PRECHECK_STATUSES, "action_labels": {k: a.label for k, a in case_actions.ACTIONS.items()},
        # whole for the handling department (and the applicant), masked for everyone else: the access policy
        "applicant_id": Personal(case.applicant_id, Field.ID_NUMBER, service.record_of(session, case)),
        "applicant_phone": Personal(case.applicant_phone, Field.PHONE, service.record_of(session, case)),
        "section": "case",
        "rating": ratings_views.case_rating_block(session, case),
        # 三级 network: where the paper file is and the 流转 moves the viewer may make
        **network_views.panel_context(network_service.file_status(session, user=auth.user, case=case)),
    }


def _render_case(request: Request, session: Session, clock: Clock, auth: Auth, case: Case, *, notice: str = "",
                 errors: Errors | None = None, values: FormData | None = None) -> Response:
    ctx = _case_context(session, clock, auth, case)
    ctx.update(notice=notice, errors=errors or Errors(), values=values)
    return _page(request, "cases/case.html", ctx, auth, status_code=errors.status if errors else 200)


@router.get("/cases/{case_id}", response_class=HTMLResponse)
def case_page(request: Request, case_id: int, auth: CurrentAuth, session: DbSession, clock: ClockDep,
              done: Annotated[str, Query(max_length=24)] = "") -> Response:
    """One case: header, deadlines, materials, steps, sub-cases, decision, delivery, timeline, actions."""
    case = service.get_case(session, case_id)
    service.require_view(session, auth.user, case)
    if access.sees_whole(auth.viewer, Field.ID_NUMBER, service.record_of(session, case)):
        # this page shows the applicant's numbers whole to this viewer: a read of personal data
        audit.record_read(session, clock=clock, actor=auth.actor, what="case_page", entity_type="case",
                          entity_id=case.id, detail={"case": case.number})
    return _render_case(request, session, clock, auth, case, notice=NOTICES.get(done, ""))


@router.get("/cases/{case_id}/uploads/{upload_id}")
def case_upload(case_id: int, upload_id: int, auth: CurrentAuth, session: DbSession,
                settings: SettingsDep) -> Response:
    """A file the applicant uploaded, to staff who may view the case (the pre-check and the case page link it)."""
    case = service.get_case(session, case_id)
    service.require_view(session, auth.user, case)
    row = session.get(CaseUpload, upload_id)
    if row is None or row.case_id != case.id:
        raise NotFound("附件", str(upload_id))
    return FileResponse(uploads.open_upload(settings.upload_dir, row.sha256), media_type=row.content_type,
                        filename=row.filename,
                        headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"})


def _version(form: FormData) -> int | None:
    raw = form_text(form, "version")
    if not raw.isdigit():
        raise ValidationFailed([Problem("version", "version_required", "页面缺少版本号，请刷新后重试")])
    return int(raw)


def _materials_posted(form: FormData) -> dict[str, str]:
    return {k.removeprefix("material:"): v for k, v in form.multi_items()
            if k.startswith("material:") and isinstance(v, str) and v}


def _run(session: Session, clock: Clock, request: Request, user: User, case: Case, action: str,
         form: FormData) -> str:
    """Apply one posted action through the service; returns the notice key."""
    common: dict[str, Any] = {"clock": clock, "user": user}
    match action:
        case "opinion":
            service.record_opinion(session, case_id=case.id, expected_version=_version(form),
                                   opinion=form_text(form, "opinion"), agree=form_text(form, "agree") != "0",
                                   **common)
            return "opinion"
        case "decide":
            approve = form_text(form, "approve") == "1"
            service.decide(session, case_id=case.id, expected_version=_version(form), approve=approve,
                           reason=form_text(form, "reason"), basis=form_text(form, "basis"), **common)
            return "approved" if approve else "denied"
        case "suspend":
            service.suspend(session, case_id=case.id, expected_version=_version(form), kind=form_text(form, "kind"),
                            reason=form_text(form, "reason"), **common)
            return "suspended"
        case "resume":
            service.resume(session, case_id=case.id, expected_version=_version(form), **common)
            return "resumed"
        case "extension":
            _version_matches(case, form)
            days = form_text(form, "days")
            service.request_extension(session, case_id=case.id, days=int(days) if days.isdigit() else 0,
                                      reason=form_text(form, "reason"), **common)
            return "extension"
        case "extension-decide":
            _version_matches(case, form)
            ext = form_text(form, "extension_id")
            approve = form_text(form, "approve") == "1"
            ext_id = int(ext) if ext.isdigit() else 0
            if session.scalars(select(CaseExtension.id).where(CaseExtension.id == ext_id,
                                                              CaseExtension.case_id == case.id)).first() is None:
                raise ValidationFailed([Problem("extension_id", "unknown_extension", "请选择本件的延期申请")])
            service.decide_extension(session, extension_id=ext_id, approve=approve, **common)
            return "extension_approved" if approve else "extension_rejected"
        case "supply":
            keys = [v for k, v in form.multi_items() if k == "keys" and isinstance(v, str)]
            service.supply_deferred(session, case_id=case.id, expected_version=_version(form), keys=keys,
                                    status=form_text(form, "status") or "paper", **common)
            return "supplied"
        case "deliver":
            ticket = form_text(form, "ticket_id")
            data = DeliveryIn(method=form_text(form, "method"), picked_up_by=form_text(form, "picked_up_by"),
                              address=form_text(form, "address"), recipient=form_text(form, "recipient"),
                              courier=form_text(form, "courier"), tracking_number=form_text(form, "tracking_number"),
                              ticket_id=int(ticket) if ticket.isdigit() else None)
            service.deliver(session, case_id=case.id, expected_version=_version(form), data=data, **common)
            return "delivered"
        case "archive":
            service.archive(session, case_id=case.id, expected_version=_version(form), **common)
            return "archived"
        case "verify":
            service.verify_commitment(session, case_id=case.id, expected_version=_version(form),
                                      truthful=form_text(form, "truthful") != "0", note=form_text(form, "note"),
                                      **common)
            return "verified"
        case "precheck":
            decision = form_text(form, "decision")
            marks = _materials_posted(form)
            if decision == "correction" and not any(marks.get(m.key, m.status) == MaterialStatus.MISSING.value
                                                    for m in case.materials if m.required):
                raise ValidationFailed([Problem("materials", "nothing_missing",
                                                "要求补正时，请把需要补正的必需材料标为“未提交”")])
            service.precheck(session, case_id=case.id, expected_version=_version(form), materials=marks,
                             rules_=rules_of(request), refuse=decision == "refuse",
                             reason=form_text(form, "refuse_reason"), basis=form_text(form, "refuse_basis"),
                             **common)
            return _result_key(case)
        case "resubmit":
            service.resubmit(session, case_id=case.id, expected_version=_version(form),
                             materials=_materials_posted(form), rules_=rules_of(request), **common)
            return _result_key(case)
    raise DomainError(code="not_found", message="页面或资源不存在", status=404)


def _version_matches(case: Case, form: FormData) -> None:
    """Actions whose service call takes no version still refuse a form older than the case."""
    if _version(form) != case.version:
        raise Conflict("办件已被他人更新，请刷新后重试", code="stale_version", field="version")


@router.post("/cases/{case_id}/{action}", response_class=HTMLResponse)
def case_action(request: Request, case_id: int, action: str, auth: CurrentAuth, session: DbSession,
                clock: ClockDep, posted: FormDep) -> Response:
    """One action form of the case page; 303 back to the case, or the page again with the reasons."""
    if action not in case_actions.ACTIONS:
        raise DomainError(code="not_found", message="页面或资源不存在", status=404)
    case = service.get_case(session, case_id)
    service.require_view(session, auth.user, case)
    try:
        with _savepoint(session):
            done = _run(session, clock, request, auth.user, case, action, posted)
    except (ValidationFailed, Conflict) as exc:
        session.expire_all()
        case = service.get_case(session, case_id)
        return _render_case(request, session, clock, auth, case, errors=Errors.of(exc, action), values=posted)
    return RedirectResponse(f"/cases/{case_id}?done={done}", status_code=303)
