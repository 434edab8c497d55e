"""Intake flow (无差别受理 at any window and 网上申报 online): the application inputs, the merged checklist, the
target item or bundle, 免提交 library lookup, creating and numbering the case, the intake verdict (accept, 补正,
不予受理), the pre-check of online applications, resubmission and uploads.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from onewindow.agents import service as agents_service
from onewindow.calendar.workdays import TimeUnit
from onewindow.cases import rules, scope, visits
from onewindow.cases.bundles import open_sub_cases
from onewindow.cases.closure import deferred_supplied, deferred_uploads_open
from onewindow.cases.decisions import record_decision
from onewindow.cases.delivery import record_visit
from onewindow.cases.kinds import CaseKind, Channel, DecidedByRule, DeliveryMethod, VisitKind
from onewindow.cases.materials import lines_of, material_key
from onewindow.cases.models import (
    Case,
    CaseMaterial,
    CaseUpload,
)
from onewindow.cases.procedure import bundle_procedure
from onewindow.cases.rules import CaseRules, ChecklistLine, MaterialStatus, Outcome
from onewindow.cases.schedule import add_steps, recompute_deadlines, work_calendar
from onewindow.cases.scope import require_view
from onewindow.cases.states import (
    CaseState,
    check_transition,
)
from onewindow.cases.transitions import (
    TEXT_MAX,
    DuplicateKey,
    actor_name,
    insert_numbered,
    lock,
    move,
    reason_and_basis,
    record_event,
    require_current_authorization,
    snapshot,
    touch,
)
from onewindow.catalog import rules as catalog_rules
from onewindow.catalog import service as catalog_service
from onewindow.catalog.models import Bundle, Hall, Item, ItemVersion
from onewindow.certificates import service as certificates
from onewindow.certificates.models import Certificate
from onewindow.config import get_settings
from onewindow.core import access, audit
from onewindow.core.access import Action
from onewindow.core.applicants import ApplicantIn, validate_applicant
from onewindow.core.audit import Actor
from onewindow.core.clock import Clock, today
from onewindow.core.errors import Conflict, NotFound, PermissionDenied, Problem, ValidationFailed
from onewindow.notifications import service as notifications
from onewindow.notifications.templates import MessageKind
from onewindow.queue.models import StaffQualification
from onewindow.staff.models import User
from onewindow.staff.service import actor_of, viewer_of

S = CaseState


@dataclass(frozen=True)
class ApplicationIn:
    """An application for one item or one bundle, at a window or online.

    ``materials`` maps a material key (see :func:`checklist`) to its status; keys left out are
    ``missing`` unless the certificate library supplies them. ``extra_holders`` are further ID
    numbers whose certificates may be used (e.g. the parents in 新生儿出生一件事).
    """

    applicant: ApplicantIn
    item_code: str | None = None
    bundle_code: str | None = None
    materials: Mapping[str, str] = field(default_factory=dict)
    extra_holders: Sequence[str] = ()
    commitment: bool = False
    form_data: Mapping[str, Any] = field(default_factory=dict)
    hall_code: str | None = None  # the receiving hall (window intake)
    proxy: bool = False  # 代收代办: a town center or village point receives a county item for its department
    ticket_id: int | None = None  # the queue ticket of this visit
    refuse_reason: str = ""
    refuse_basis: str = ""
    refuse: bool = False
    idempotency_key: str | None = None
    # 最多跑一次 (window intake): how the result goes out, where a mailed one goes, and whether the applicant
    # supplies the 容缺 materials online instead of coming back
    delivery_method: str = DeliveryMethod.PICKUP.value
    delivery_address: str = ""
    delivery_recipient: str = ""
    supply_online: bool = False


@dataclass(frozen=True)
class ChecklistEntry:
    """One material of an application's merged checklist (a bundle's materials deduplicated)."""

    key: str
    name: str
    required: bool
    deferrable: bool
    certificate_type_id: int | None
    certificate_type_name: str | None
    note: str
    items: tuple[str, ...]  # item names that need it


@dataclass(frozen=True)
class Target:
    """What is applied for: one item version or a bundle's member versions."""

    item: Item | None
    version: ItemVersion | None
    bundle: Bundle | None
    members: tuple[tuple[Item, ItemVersion], ...]

    @property
    def title(self) -> str:
        """The item or bundle name."""
        if self.bundle is not None:
            return self.bundle.name
        return self.version.name if self.version is not None else ""

    @property
    def department_id(self) -> int:
        """The handling department (the lead department of a bundle)."""
        if self.bundle is not None:
            return self.bundle.lead_department_id
        if self.version is None:
            raise ValueError("a target is an item or a bundle")
        return self.version.department_id


def resolve_target(session: Session, *, item_code: str | None, bundle_code: str | None) -> Target:
    """The item (current version) or the bundle with its members' current versions."""
    if bool(item_code) == bool(bundle_code):
        raise ValidationFailed([Problem("item_code", "target_required", "请选择一个事项或一件事（二选一）")])
    if bundle_code:
        try:
            bundle = catalog_service.bundle_by_code(session, bundle_code)
        except NotFound:
            raise ValidationFailed([Problem("bundle_code", "unknown_bundle", f"一件事“{bundle_code}”不存在")]) from None
        if bundle.status != "active":
            raise ValidationFailed([Problem("bundle_code", "bundle_inactive", "该一件事已停用")])
        pairs = catalog_service.items_by_codes(session, [m.item.code for m in bundle.members])
        return Target(None, None, bundle, tuple(pairs))
    try:
        item, version = catalog_service.get_item_version(session, item_code or "")
    except NotFound:
        raise ValidationFailed([Problem("item_code", "unknown_item", f"事项“{item_code}”不存在")]) from None
    if item.status != "active":
        raise ValidationFailed([Problem("item_code", "item_retired", "该事项已停止办理")])
    return Target(item, version, None, ((item, version),))


def delivery_modes(target: Target) -> tuple[DeliveryMethod, ...]:
    """How the result of an application for ``target`` may go out (a bundle: what every member allows)."""
    return visits.common_modes([visits.delivery_modes(max_visits=v.max_visits, online_depth=v.online_depth,
                                                      issues_certificate=v.result_certificate_type_id is not None)
                                for _i, v in target.members])


def produced_in_bundle(target: Target) -> dict[int, str]:
    """For a bundle: the certificate types its own items issue (type id → the issuing item's name)."""
    if target.bundle is None:
        return {}
    return catalog_rules.produced_in_bundle((v.result_certificate_type_id, v.name) for _i, v in target.members)


def checklist(target: Target) -> list[ChecklistEntry]:
    """The one merged material list of the application: a material several items need appears once."""
    merged: dict[str, ChecklistEntry] = {}
    produced = produced_in_bundle(target)
    for _item, version in target.members:
        for m in version.materials:
            if m.certificate_type_id in produced:
                continue  # issued by another sub-case of the bundle: passed on inside, never asked
            key = material_key(m)
            prev = merged.get(key)
            if prev is None:
                merged[key] = ChecklistEntry(key, m.name, m.required, m.deferrable, m.certificate_type_id,
                                             m.certificate_type.name if m.certificate_type else None,
                                             m.note or "", (version.name,))
            else:
                merged[key] = ChecklistEntry(
                    key, prev.name, prev.required or m.required,
                    prev.deferrable and (m.deferrable or not m.required), prev.certificate_type_id,
                    prev.certificate_type_name, prev.note, (*prev.items, version.name))
    return list(merged.values())


def _holders(applicant: ApplicantIn, extra: Iterable[str]) -> list[str]:
    return [applicant.id_number, *[h.strip().upper() for h in extra if h and h.strip()]]


def library_lookup(session: Session, *, target: Target, holder_ids: Sequence[str],
                   on: dt.date) -> dict[str, Certificate]:
    """Material key → the usable certificate that supplies it (免提交)."""
    materials = [m for _i, v in target.members for m in v.materials]
    found = certificates.exempt_materials(session, holder_ids=holder_ids, materials=materials, on=on)
    by_key: dict[str, Certificate] = {}
    for m in materials:
        cert = found.get(m.id)
        if cert is not None:
            by_key.setdefault(material_key(m), cert)
    return by_key


def _statuses(entries: Sequence[ChecklistEntry], claimed: Mapping[str, str], library: Mapping[str, Certificate],
              *, commitment: bool) -> list[ChecklistLine]:
    problems: list[Problem] = []
    known = {e.key for e in entries}
    for key in claimed:
        if key not in known:
            problems.append(Problem(f"materials.{key}", "unknown_material", f"材料“{key}”不在本事项的材料清单中"))
    lines: list[ChecklistLine] = []
    for e in entries:
        raw = claimed.get(e.key)
        if raw is None or raw == "":
            status = MaterialStatus.LIBRARY if e.key in library else MaterialStatus.MISSING
        else:
            try:
                status = MaterialStatus(raw)
            except ValueError:
                problems.append(Problem(f"materials.{e.key}", "invalid_material_status",
                                        f"“{e.name}”的提交方式无效"))
                continue
        line = ChecklistLine(e.key, e.name, e.required, e.deferrable, status)
        why = rules.status_problem(line, commitment=commitment, has_certificate=e.key in library)
        if why:
            problems.append(Problem(f"materials.{e.key}", f"material_{status.value}_not_allowed", why))
        lines.append(line)
    if any(ln.status is MaterialStatus.DEFERRED for ln in lines) and not rules.deferral_allowed(lines):
        problems.append(Problem("materials", "deferral_needs_main_materials", "容缺受理须主要材料齐全"))
    if problems:
        raise ValidationFailed(problems)
    return lines


def _request_hash(data: ApplicationIn) -> str:
    body = {"applicant": [data.applicant.kind, data.applicant.name, data.applicant.id_number],
            "item": data.item_code, "bundle": data.bundle_code, "materials": dict(sorted(data.materials.items())),
            "commitment": data.commitment, "extra": list(data.extra_holders), "refuse": data.refuse,
            "delivery": [data.delivery_method, data.delivery_address, data.delivery_recipient],
            "supply_online": data.supply_online}
    return hashlib.sha256(json.dumps(body, ensure_ascii=False, sort_keys=True, default=str).encode()).hexdigest()


def _replay(session: Session, user: User, key: str | None, request_hash: str) -> Case | None:
    if not key:
        return None
    existing = session.scalars(select(Case).where(Case.created_by == user.id, Case.idempotency_key == key)).first()
    if existing is not None and existing.request_hash != request_hash:
        raise Conflict("该幂等键已用于内容不同的申请", code="idempotency_key_reused", field="Idempotency-Key")
    return existing


@dataclass(frozen=True)
class Created:
    """The case an application created, and whether it was created now (False: an idempotent replay)."""

    case: Case
    created: bool


def _new_case(*, target: Target, applicant: ApplicantIn, channel: Channel, now: dt.datetime, user: User,
              data: ApplicationIn, request_hash: str, hall: Hall | None) -> Case:
    version = target.version
    limits_legal = version.legal_limit_days if version else max(v.legal_limit_days for _i, v in target.members)
    limits_promised = version.promised_limit_days if version else (target.bundle.promised_limit_days
                                                                   if target.bundle else 0)
    return Case(
        number="", kind=CaseKind.BUNDLE if target.bundle else CaseKind.SINGLE,
        item_id=target.item.id if target.item else None, item_version_id=version.id if version else None,
        bundle_id=target.bundle.id if target.bundle else None,
        department_id=target.department_id, receiving_hall_id=hall.id if hall else None, proxy=False,
        channel=channel, state=S.SUBMITTED.value, version=1, applicant_kind=applicant.kind,
        applicant_name=applicant.name, applicant_id=applicant.id_number, applicant_phone=applicant.phone,
        applicant_user_id=user.id if access.is_person_account(viewer_of(user).role) else None,
        agent_user_id=user.id if access.acts_for_others(viewer_of(user).role) else None,
        form_data={**dict(data.form_data), "extra_holders": [h for h in data.extra_holders if h]},
        commitment=data.commitment, deferred=False, submitted_at=now, legal_days=max(limits_legal, limits_promised),
        promised_days=limits_promised, limit_unit=version.limit_unit if version else TimeUnit.WORKING_DAY.value,
        extension_days=0, due_provisional=False, warning="none", decision_reason="", decision_basis="",
        closed_reason="", closed_basis="", idempotency_key=data.idempotency_key or None, request_hash=request_hash,
        created_by=user.id, created_at=now, updated_at=now)


def _materials_for(case: Case, entries: Sequence[ChecklistEntry], lines: Sequence[ChecklistLine],
                   library: Mapping[str, Certificate], now: dt.datetime) -> None:
    status = {ln.key: ln.status for ln in lines}
    for pos, e in enumerate(entries, start=1):
        st = status.get(e.key, MaterialStatus.MISSING)
        cert = library.get(e.key) if st is MaterialStatus.LIBRARY else None
        case.materials.append(CaseMaterial(
            position=pos, material_id=None, key=e.key, name=e.name, required=e.required, deferrable=e.deferrable,
            certificate_type_id=e.certificate_type_id, status=st.value, certificate_id=cert.id if cert else None,
            supplied_at=now if st in rules.SUPPLIED else None, note=e.note[:TEXT_MAX]))


def _check_qualification(session: Session, user: User, target: Target) -> None:
    if not access.bound_by_qualifications(viewer_of(user).role):
        return
    categories = {v.hall_category_id for _i, v in target.members}
    held = set(session.scalars(select(StaffQualification.category_id).where(StaffQualification.user_id == user.id)))
    lacking = categories - held
    if lacking and target.bundle is None:
        raise PermissionDenied("您没有受理该类事项的窗口资格（一岗多能授权）", code="not_qualified")
    if target.bundle is not None and not held:
        raise PermissionDenied("您没有受理一件事的窗口资格", code="not_qualified")


def apply(session: Session, *, clock: Clock, user: User, data: ApplicationIn, rules_: CaseRules,
          online: bool) -> Created:
    """Create a case for an item or a bundle.

    Online (网上申报, by an applicant or an authorised agent) the case waits as ``submitted`` for a
    clerk's pre-check. At a window (by a qualified clerk, for any department) intake decides at once:
    refused, ``correction_requested`` with the one complete list, or accepted (clock starts).
    """
    viewer = viewer_of(user)
    access.require(viewer, Action.CASE_APPLY if online else Action.CASE_INTAKE)
    on = today(clock)
    applicant = validate_applicant(data.applicant, on=on)
    if access.is_person_account(viewer.role) and applicant.kind == "person" and user.id_number != applicant.id_number:
        raise PermissionDenied("网上申报只能以本人身份提交；代他人办理请使用帮办代办", code="not_self")
    representation: certificates.Representation | None = None
    if access.is_person_account(viewer.role) and applicant.kind == "enterprise":
        # 为企业申请: only as the person the enterprise's licence names; the case takes the licence's name, and
        # the representative is the submitter (their account) and the contact (their phone)
        representation = require_representation(session, user, applicant.id_number, on)
        applicant = ApplicantIn(applicant.kind, representation.enterprise_name, applicant.id_number,
                                applicant.phone or user.phone or "")
    data = ApplicationIn(**{**data.__dict__, "applicant": applicant})
    request_hash = _request_hash(data)
    replay = _replay(session, user, data.idempotency_key, request_hash)
    if replay is not None:
        return Created(replay, False)
    target = resolve_target(session, item_code=data.item_code, bundle_code=data.bundle_code)
    if representation is not None:  # 为企业申请 only where the item serves enterprises (服务对象)
        wrong = rules.audience_problem(((v.name, v.audience) for _i, v in target.members), applicant.kind)
        if wrong is not None:
            raise ValidationFailed([wrong])
    codes = [target.bundle.code] if target.bundle else []
    codes += [i.code for i, _v in target.members]
    authorization = (agents_service.require_authorization(session, user, applicant.id_number, codes, on)
                     if access.acts_for_others(viewer.role) else None)
    if not online:
        _check_qualification(session, user, target)
    hall = _receiving_hall(session, user, data.hall_code) if not online else None
    proxy = _check_level(hall, target, proxy=data.proxy) if hall is not None else False
    entries = checklist(target)
    # online, only the applicant's own certificates: a further holder's (the other parent's) are taken at a
    # window, where the clerk sees that person's consent; otherwise anyone could probe a stranger's library
    holders = _holders(applicant, () if online else data.extra_holders)
    library = library_lookup(session, target=target, holder_ids=holders, on=on)
    claimed = dict(data.materials)
    if online:  # an applicant can only upload (done separately) or use the library
        for k, v in claimed.items():
            if v not in ("", MaterialStatus.LIBRARY.value, MaterialStatus.PROMISED.value,
                         MaterialStatus.MISSING.value):
                raise ValidationFailed([Problem(f"materials.{k}", "online_status",
                                                "网上申报的材料请上传附件或从证照库调取")])
    wrong_delivery = visits.delivery_problems(data.delivery_method, data.delivery_address, data.delivery_recipient,
                                              delivery_modes(target))
    try:
        lines = _statuses(entries, claimed, library, commitment=data.commitment)
    except ValidationFailed as exc:
        raise ValidationFailed([*exc.problems, *wrong_delivery]) from None
    if wrong_delivery:
        raise ValidationFailed(wrong_delivery)
    if data.refuse and not online:
        _refusal_text(data.refuse_reason, data.refuse_basis)
    now = clock.now()
    case = _new_case(target=target, applicant=applicant, channel=Channel.ONLINE if online else Channel.WINDOW, now=now,
                     user=user, data=data, request_hash=request_hash, hall=hall)
    if authorization is not None:
        case.authorization_id = authorization.id
    if representation is not None:  # who submitted for the enterprise, and on what licence (shown to staff)
        case.form_data = {**case.form_data, "representative": {
            "name": user.display_name, "role": representation.role, "licence": representation.licence_number}}
    _record_choices(case, data, lines)
    case.proxy = proxy
    _materials_for(case, entries, lines, library, now)
    try:
        insert_numbered(session, case, on)
    except DuplicateKey as dup:
        if dup.existing.request_hash != request_hash:
            raise Conflict("该幂等键已用于内容不同的申请", code="idempotency_key_reused",
                           field="Idempotency-Key") from None
        return Created(dup.existing, False)
    actor = actor_of(user)
    record_event(session, case, clock=clock, actor=actor, kind="submitted", to_state=S.SUBMITTED.value,
                 note="网上申报" if online else "窗口受理登记",
                 data={"library": sorted(library), "agent": user.username if authorization else None})
    audit.record(session, clock=clock, actor=actor, action="cases.created", entity_type="case", entity_id=case.number,
                 after=snapshot(case))
    if data.ticket_id is not None and not online:
        record_visit(session, clock=clock, user=user, case=case, kind=VisitKind.INTAKE, ticket_id=data.ticket_id)
    elif not online:
        record_visit(session, clock=clock, user=user, case=case, kind=VisitKind.INTAKE)
    if not online:
        _decide_intake(session, clock=clock, user=user, case=case, rules_=rules_, refuse=data.refuse,
                       reason=data.refuse_reason, basis=data.refuse_basis)
    return Created(case, True)


def require_representation(session: Session, user: User, credit_code: str,
                           on: dt.date) -> certificates.Representation:
    """为企业申请: the enterprise's usable licence in the library names this account's holder (real name and
    公民身份号码) as its 法定代表人, 经营者 or 负责人; 403 with the reason otherwise. A representative acts on the
    strength of the register, without an authorisation; anyone else needs one (帮办代办) or the window."""
    if not user.id_number:
        raise PermissionDenied("账号未登记身份证号码，无法核验您与企业的关系，请到窗口完善实名信息",
                               code="no_id_number")
    return certificates.check_representation(session, credit_code=credit_code, person_name=user.display_name,
                                             person_id=user.id_number, on=on)


def represented_enterprises(session: Session, user: User, on: dt.date) -> list[certificates.Representation]:
    """The enterprises this account may apply for as their representative (from the library's licences)."""
    if not user.id_number or not access.is_person_account(viewer_of(user).role):
        return []
    return certificates.represented_enterprises(session, person_name=user.display_name, person_id=user.id_number,
                                                on=on)


def _record_choices(case: Case, data: ApplicationIn, lines: Sequence[ChecklistLine]) -> None:
    """The 最多跑一次 choices made at intake: the delivery, and online supply when something is deferred."""
    choice = visits.delivery_choice(data.delivery_method, data.delivery_address, data.delivery_recipient)
    case.result_delivery = choice.method.value
    case.delivery_address = choice.address
    case.delivery_recipient = (choice.recipient or (case.applicant_name if choice.method is DeliveryMethod.MAIL
                                                    else ""))[:visits.RECIPIENT_MAX]
    case.supply_online = data.supply_online and any(ln.status is MaterialStatus.DEFERRED for ln in lines)


def _receiving_hall(session: Session, user: User, hall_code: str | None) -> Hall | None:
    if hall_code:
        try:
            return catalog_service.hall_by_code(session, hall_code)
        except NotFound:
            raise ValidationFailed([Problem("hall_code", "unknown_hall", f"大厅“{hall_code}”不存在")]) from None
    return user.hall


def _check_level(hall: Hall, target: Target, *, proxy: bool) -> bool:
    """422 unless the hall's level may take every item of the target (catalog 可办层级), or the clerk chose
    代收代办 for a county item at a town center or village point; returns whether the case is 代收代办."""
    problems = [p for _i, v in target.members
                if (p := catalog_rules.intake_level_problem(hall_name=hall.name, hall_level=hall.level,
                                                            item_name=v.name, levels=v.levels, proxy=proxy))]
    if problems:
        raise ValidationFailed(problems[:1])
    return any(not catalog_rules.hall_handles(hall.level, v.levels) for _i, v in target.members)


def _refusal_text(reason: str, basis: str) -> tuple[str, str]:
    return reason_and_basis(reason, basis, what="不予受理", prefix="refuse_")


def _decide_intake(session: Session, *, clock: Clock, user: User, case: Case, rules_: CaseRules, refuse: bool,
                   reason: str = "", basis: str = "") -> None:
    actor = actor_of(user)
    verdict = rules.verdict(lines_of(case), refuse=refuse)
    if verdict.outcome is Outcome.REFUSE:
        r, b = _refusal_text(reason, basis)
        case.closed_reason, case.closed_basis = r, b
        move(session, case, S.REFUSED, clock=clock, actor=actor, kind="refused", note=r, data={"basis": b})
        return
    if verdict.outcome is Outcome.CORRECTION:
        move(session, case, S.CORRECTION_REQUESTED, clock=clock, actor=actor, kind="correction_requested",
             note="一次性告知需补正材料", data={"missing": [ln.name for ln in verdict.missing]})
        return
    _accept(session, clock=clock, user=user, case=case, rules_=rules_, verdict=verdict)


def _accept(session: Session, *, clock: Clock, user: User, case: Case, rules_: CaseRules,
            verdict: rules.IntakeVerdict) -> None:
    actor = actor_of(user)
    now, on = clock.now(), today(clock)
    calendar = work_calendar(session)
    case.accepted_at, case.accepted_on = now, on
    case.deferred = bool(verdict.deferred)
    if verdict.promised:
        case.commitment = True
    procedure = (catalog_service.procedure_for(session, case.item_version_id,
                                               deferral_working_days=rules_.deferral_working_days)
                 if case.item_version_id is not None
                 else bundle_procedure(case, deferral_working_days=rules_.deferral_working_days))
    case.procedure = procedure.to_json()  # the rules the case runs under, whatever the item becomes
    recompute_deadlines(session, case, calendar=calendar, on=on)  # the dates the acceptance event records
    if case.kind != CaseKind.BUNDLE:
        add_steps(case, procedure, now, actor, actor_name(session, actor))
    move(session, case, S.ACCEPTED, clock=clock, actor=actor, kind="accepted",
         note="容缺受理" if case.deferred else ("告知承诺受理" if case.commitment else "受理"),
         data={"promised_due": case.promised_due, "legal_due": case.legal_due, "deferral_due": case.deferral_due,
               "deferred": [ln.name for ln in verdict.deferred], "promised": [ln.name for ln in verdict.promised]})
    recompute_deadlines(session, case, calendar=calendar, on=on)  # the clock runs from now: warn at once
    _tell_accepted(session, clock=clock, case=case, deferred=[ln.name for ln in verdict.deferred])
    if case.kind == CaseKind.BUNDLE:
        open_sub_cases(session, clock=clock, user=user, parent=case, rules_=rules_, calendar=calendar)
        return
    if rules_.auto_approve and case.item_version is not None and rules.auto_approvable(
            instant=case.item_version.instant, lines=lines_of(case)):
        record_decision(session, clock=clock, actor=Actor(None, "秒批规则"), case=case, approve=True,
                        reason="申请材料均由电子证照库核验，符合秒批规则，系统自动准予", basis="即办件秒批规则",
                        by_rule=DecidedByRule.INSTANT, user=None)


ACCEPTED_TOPIC = MessageKind.CASE_ACCEPTED.value


def _tell_accepted(session: Session, *, clock: Clock, case: Case, deferred: Sequence[str]) -> None:
    """The acceptance SMS (outbox), once per case, saying how to finish without coming back (最多跑一次)."""
    if case.kind == CaseKind.SUB or not case.applicant_phone:
        return
    if notifications.enqueued(session, topic=ACCEPTED_TOPIC, key="case_id", value=case.id):
        return
    due = case.promised_due or case.legal_due
    # an online application chose nothing at a window: its result's way is not promised unless chosen
    chosen = case.channel == Channel.WINDOW or case.result_delivery != DeliveryMethod.PICKUP
    nxt = visits.accepted_next_steps(
        deferred=deferred, deferral_due=f"{case.deferral_due:%Y-%m-%d}" if case.deferral_due else "期限",
        supply_online=case.supply_online, address=case.delivery_address,
        method=case.result_delivery if chosen else "")
    settings = get_settings()
    notifications.notify(session, clock=clock, kind=MessageKind.CASE_ACCEPTED, phone=case.applicant_phone,
                         fields={"item": case.title, "case": case.number,
                                 "due": f"{due:%Y-%m-%d}" if due else "法定期限", "next": nxt},
                         base_url=settings.base_url, secret=settings.secret_key,
                         payload={"case_id": case.id, "case_number": case.number, "supply_online": case.supply_online,
                                  "delivery": case.result_delivery},
                         recipient_user_id=case.applicant_user_id)


def precheck(session: Session, *, clock: Clock, user: User, case_id: int, expected_version: int | None,
             materials: Mapping[str, str], rules_: CaseRules, refuse: bool = False, reason: str = "",
             basis: str = "") -> Case:
    """A clerk checks a submitted online application: accept, request correction, or refuse."""
    case = lock(session, case_id, expected_version)
    scope.require(session, user, Action.CASE_INTAKE, case)
    if case.state not in (S.SUBMITTED.value,):
        check_transition(case.state, S.ACCEPTED)  # raises the uniform 409
    if case.kind == CaseKind.SUB:
        raise Conflict("一件事的分件随主件受理", code="sub_case")
    _apply_marks(session, case, materials, clock=clock)
    _decide_intake(session, clock=clock, user=user, case=case, rules_=rules_, refuse=refuse, reason=reason,
                   basis=basis)
    return case


def _apply_marks(session: Session, case: Case, marks: Mapping[str, str], *, clock: Clock) -> None:
    by_key = {m.key: m for m in case.materials}
    library = {m.key for m in case.materials if m.status == MaterialStatus.LIBRARY.value}
    problems: list[Problem] = []
    for key, raw in marks.items():
        m = by_key.get(key)
        if m is None:
            problems.append(Problem(f"materials.{key}", "unknown_material", f"材料“{key}”不在本件的材料清单中"))
            continue
        try:
            status = MaterialStatus(raw)
        except ValueError:
            problems.append(Problem(f"materials.{key}", "invalid_material_status", f"“{m.name}”的提交方式无效"))
            continue
        line = ChecklistLine(m.key, m.name, m.required, m.deferrable, status)
        why = rules.status_problem(line, commitment=case.commitment, has_certificate=key in library)
        if why:
            problems.append(Problem(f"materials.{key}", f"material_{status.value}_not_allowed", why))
            continue
        m.status = status.value
        m.supplied_at = clock.now() if status in rules.SUPPLIED else None
    if problems:
        raise ValidationFailed(problems)
    session.flush()


def resubmit(session: Session, *, clock: Clock, user: User, case_id: int, expected_version: int | None,
             materials: Mapping[str, str], rules_: CaseRules) -> Case:
    """After 补正: the applicant (online) resubmits, or a clerk takes the missing materials at the window."""
    case = lock(session, case_id, expected_version)
    require_view(session, user, case)
    if case.state != S.CORRECTION_REQUESTED.value:
        check_transition(case.state, S.SUBMITTED)
    if scope.may(session, user, Action.CASE_INTAKE, case):  # at a window: the clerk takes the materials
        _apply_marks(session, case, materials, clock=clock)
        record_visit(session, clock=clock, user=user, case=case, kind=VisitKind.SUPPLEMENT)
        _decide_intake(session, clock=clock, user=user, case=case, rules_=rules_, refuse=False)
        return case
    if not scope.may(session, user, Action.CASE_UPLOAD, case):
        raise PermissionDenied("只有申请人或窗口人员可以补正", code="case_forbidden")
    require_current_authorization(session, user, case, today(clock))
    move(session, case, S.SUBMITTED, clock=clock, actor=actor_of(user), kind="resubmitted",
         note="申请人补正后重新提交")
    return case


def attach_upload(session: Session, *, clock: Clock, user: User, case: Case, material_key: str, filename: str,
                  content_type: str, size: int, sha256: str) -> CaseUpload:
    """Record an uploaded file against a material of an online application (the file is stored already).

    The applicant, their agent or a clerk uploads while the application is submitted or waiting for
    correction; once accepted, only a deferred (容缺) material may still come in this way.
    """
    case = lock(session, case.id, None)
    require_view(session, user, case)
    if not scope.may(session, user, Action.CASE_UPLOAD, case):
        raise PermissionDenied("只有申请人、代办员或窗口人员可以上传申请材料", code="case_forbidden")
    require_current_authorization(session, user, case, today(clock))
    if case.kind == CaseKind.SUB:
        raise Conflict("一件事的材料请在主件上提交", code="sub_case")
    open_for_uploads = case.state in (S.SUBMITTED.value, S.CORRECTION_REQUESTED.value)
    if not open_for_uploads and not deferred_uploads_open(case):
        raise Conflict("办件已受理，不能再上传材料", code="case_closed_for_uploads")
    m = next((m for m in case.materials if m.key == material_key), None)
    if m is None:
        raise ValidationFailed([Problem("material_key", "unknown_material", "材料不在本件的材料清单中")])
    if not open_for_uploads and m.status != MaterialStatus.DEFERRED.value:
        raise Conflict("办件已受理，只能补交容缺材料", code="case_closed_for_uploads", field="material_key")
    upload = CaseUpload(case_id=case.id, material_key=material_key, filename=filename[:200],
                        content_type=content_type[:60], size=size, sha256=sha256, uploaded_by=user.id,
                        uploaded_at=clock.now())
    session.add(upload)
    session.flush()
    if open_for_uploads:
        m.status, m.upload_id, m.supplied_at = MaterialStatus.UPLOADED.value, upload.id, clock.now()
    touch(session, case, clock=clock, actor=actor_of(user), kind="uploaded", note=f"上传“{m.name}”",
          data={"material": m.name, "sha256": sha256, "size": size})
    if not open_for_uploads:  # a deferred material came in online: settled as at a window, without a visit
        deferred_supplied(session, clock=clock, user=user, root=case, keys={m.key},
                          status=MaterialStatus.UPLOADED.value, in_person=False, upload_id=upload.id)
    return upload
