"""Cases service: intake at any window (无差别受理) and online, bundles, review, decisions, suspension,
extension, 容缺 and 告知承诺, delivery, visits, agents; the timeline and read models.

Every state change goes through :func:`onewindow.cases.states.check_transition` (409 on an illegal
move), locks the case row first (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite writers are already
serialised by ``BEGIN IMMEDIATE``), checks the caller's expected ``version`` (409 when stale), bumps
the version, writes a timeline event and an audit entry. Functions flush, never commit: the edge owns
the transaction (ADR 1).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, defaultload, lazyload

from onewindow.calendar.service import build_calendar
from onewindow.calendar.workdays import DueDate, Suspension, TimeUnit, WorkCalendar
from onewindow.cases import deadlines as dl
from onewindow.cases import rules
from onewindow.cases.models import (
    AgentAuthorization,
    Case,
    CaseDelivery,
    CaseEvent,
    CaseExtension,
    CaseMaterial,
    CaseStep,
    CaseSuspension,
    CaseUpload,
    CaseVisit,
)
from onewindow.cases.numbers import MAX_SEQUENCE, format_case_number, parse_case_number
from onewindow.cases.rules import ChecklistLine, MaterialStatus, Outcome
from onewindow.cases.states import (
    CLOCK_RUNNING,
    DECIDED,
    CaseState,
    allowed_targets,
    check_transition,
    is_withdrawable,
)
from onewindow.catalog import service as catalog_service
from onewindow.catalog.models import Bundle, Hall, Item, ItemVersion, Material
from onewindow.certificates import service as certificates
from onewindow.certificates.models import Certificate
from onewindow.core import audit
from onewindow.core.audit import Actor
from onewindow.core.clock import Clock, today
from onewindow.core.errors import Conflict, NotFound, PermissionDenied, Problem, ValidationFailed
from onewindow.core.ids import mask_id_number, validate_credit_code, validate_id_number
from onewindow.core.permissions import Action, Role, require
from onewindow.queue.models import StaffQualification, Ticket, TicketCase
from onewindow.staff.models import User
from onewindow.staff.service import actor_of, principal_of

S = CaseState
NUMBER_ATTEMPTS = 5
TEXT_MAX = 500


@dataclass(frozen=True)
class CaseRules:
    """Local settings of case handling (``ONEWINDOW_CASE_*``)."""

    deferral_working_days: int = 10
    auto_approve: bool = True


# ----- inputs ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ApplicantIn:
    """Who applies: a person by 公民身份号码 or an enterprise by 统一社会信用代码."""

    kind: str
    name: str
    id_number: str
    phone: str = ""


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
    ticket_id: int | None = None  # the queue ticket of this visit
    refuse_reason: str = ""
    refuse_basis: str = ""
    refuse: bool = False
    idempotency_key: str | None = None


# ----- small helpers ----------------------------------------------------------------------------------


def _clean(value: Any, limit: int = TEXT_MAX) -> str:
    return " ".join(str(value or "").split())[:limit]


def _snapshot(case: Case) -> dict[str, Any]:
    return {"number": case.number, "state": case.state, "version": case.version, "department_id": case.department_id,
            "applicant_id": mask_id_number(case.applicant_id), "legal_due": case.legal_due,
            "promised_due": case.promised_due, "decision": case.decision}


def _event(session: Session, case: Case, *, clock: Clock, actor: Actor, kind: str, from_state: str | None = None,
           to_state: str | None = None, note: str = "", data: Mapping[str, Any] | None = None) -> CaseEvent:
    person = session.get(User, actor.id) if actor.id is not None else None  # the timeline shows names
    ev = CaseEvent(case_id=case.id, at=clock.now(), kind=kind, from_state=from_state, to_state=to_state,
                   actor_id=actor.id, actor_name=(person.display_name if person else actor.label)[:64],
                   note=note[:TEXT_MAX],
                   data=audit.canonical(dict(data or {})))
    session.add(ev)
    return ev


def _move(session: Session, case: Case, target: CaseState, *, clock: Clock, actor: Actor, kind: str,
          note: str = "", data: Mapping[str, Any] | None = None) -> None:
    """The one place a case changes state: check, bump the version, timeline, audit."""
    before = _snapshot(case)
    source = case.state
    check_transition(source, target)
    case.state = target.value
    case.version += 1
    case.updated_at = clock.now()
    if target not in CLOCK_RUNNING:
        case.warning = dl.DeadlineWarning.NONE.value
    session.flush()
    _event(session, case, clock=clock, actor=actor, kind=kind, from_state=source, to_state=target.value, note=note,
           data=data)
    audit.record(session, clock=clock, actor=actor, action=f"cases.{kind}", entity_type="case",
                 entity_id=case.number, before=before, after=_snapshot(case))


def _touch(session: Session, case: Case, *, clock: Clock, actor: Actor, kind: str, note: str = "",
           data: Mapping[str, Any] | None = None) -> None:
    """A change that keeps the state (material supplied, opinion, delivery detail): version, timeline, audit."""
    before = _snapshot(case)
    case.version += 1
    case.updated_at = clock.now()
    session.flush()
    _event(session, case, clock=clock, actor=actor, kind=kind, note=note, data=data)
    audit.record(session, clock=clock, actor=actor, action=f"cases.{kind}", entity_type="case",
                 entity_id=case.number, before=before, after={**_snapshot(case), **dict(data or {})})


# ----- lookups and scoping -----------------------------------------------------------------------------


def get_case(session: Session, case_id: int) -> Case:
    """A case by id (404 when unknown)."""
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound("办件", str(case_id))
    return case


def case_by_number(session: Session, number: str, *, field: str = "case_number") -> Case:
    """A case by its number as a person typed it (format and check digit verified first)."""
    day, seq = parse_case_number(number, field=field)
    canonical = format_case_number(day, seq)
    case = session.scalars(select(Case).where(Case.number == canonical)).first()
    if case is None:
        raise NotFound("办件", canonical)
    return case


def _lock_row(session: Session, case_id: int) -> Case | None:
    # OF case_record: PostgreSQL refuses FOR UPDATE on the nullable side of the eager outer joins
    return session.scalars(select(Case).where(Case.id == case_id).with_for_update(of=Case)
                           .execution_options(populate_existing=True)).first()


def _lock(session: Session, case_id: int, expected_version: int | None) -> Case:
    """Lock a case for a write, always in one order (the bundle, then its sub-cases by id), check the version.

    A sub-case's write locks its bundle first, so two sub-cases completing at once and a withdrawal of the
    bundle queue up instead of deadlocking; a bundle's write locks all its sub-cases, which it may change.
    """
    parent_id = session.scalar(select(Case.parent_id).where(Case.id == case_id))
    if parent_id is not None:
        _lock_row(session, parent_id)
    case = _lock_row(session, case_id)
    if case is None:
        raise NotFound("办件", str(case_id))
    if case.kind == "bundle":
        session.execute(select(Case.id).where(Case.parent_id == case.id).order_by(Case.id).with_for_update())
    if expected_version is not None and expected_version != case.version:
        raise Conflict("办件已被他人更新，请刷新后重试", code="stale_version", field="version")
    return case


def sub_cases(session: Session, parent_id: int) -> list[Case]:
    """The sub-cases of a bundle case, in bundle order."""
    return list(session.scalars(select(Case).where(Case.parent_id == parent_id).order_by(Case.id)))


def case_scope(session: Session, case: Case) -> rules.CaseScope:
    """Departments and people of a case, for :func:`rules.can_view`."""
    departments = {case.department_id}
    if case.kind == "bundle":
        departments |= set(session.scalars(select(Case.department_id).where(Case.parent_id == case.id)))
    return rules.CaseScope(frozenset(departments), case.applicant_id, case.applicant_user_id, case.agent_user_id)


def viewer_of(user: User) -> rules.Viewer:
    """The access-rule view of a user."""
    return rules.Viewer(user.id, Role(user.role), user.department_id, user.id_number)


def require_view(session: Session, user: User, case: Case) -> None:
    """403 unless the user may see the case."""
    if not rules.can_view(viewer_of(user), case_scope(session, case)):
        raise PermissionDenied("无权查看该办件", code="case_forbidden")


def _require_department(user: User, case: Case, action: Action = Action.CASE_REVIEW) -> None:
    require(principal_of(user), action, department_id=case.department_id)


# ----- numbering ---------------------------------------------------------------------------------------


def _next_number(session: Session, day: dt.date) -> str:
    # a range on the unique index, not LIKE 'prefix%' (which PostgreSQL cannot serve from a non-C-collation index)
    first, last_possible = f"{day:%Y%m%d}-00000-0", f"{day:%Y%m%d}-99999-9"
    last = session.scalar(select(func.max(Case.number)).where(Case.number.between(first, last_possible)))
    sequence = int(last[9:14]) + 1 if last else 1
    if sequence > MAX_SEQUENCE:
        raise Conflict("当日办件编号已用尽", code="number_exhausted")
    return format_case_number(day, sequence)


class _DuplicateKey(Exception):
    def __init__(self, existing: Case) -> None:
        self.existing = existing


def _insert_numbered(session: Session, case: Case, day: dt.date) -> None:
    for attempt in range(NUMBER_ATTEMPTS):
        case.number = _next_number(session, day)
        try:
            # a savepoint per attempt: a concurrent intake may take the same number first (unique)
            with session.begin_nested():
                session.add(case)
                session.flush()
            return
        except IntegrityError:
            if case.idempotency_key:  # the same submission raced in from another request: answer with it
                existing = session.scalars(select(Case).where(Case.created_by == case.created_by,
                                                              Case.idempotency_key == case.idempotency_key)).first()
                if existing is not None:
                    raise _DuplicateKey(existing) from None
            if attempt == NUMBER_ATTEMPTS - 1:
                raise Conflict("办件编号分配冲突，请重试", code="number_conflict") from None


# ----- the checklist -----------------------------------------------------------------------------------


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


def _material_key(m: Material) -> str:
    return rules.material_key(m.name, m.certificate_type.code if m.certificate_type else None)


def checklist(target: Target) -> list[ChecklistEntry]:
    """The one merged material list of the application: a material several items need appears once."""
    merged: dict[str, ChecklistEntry] = {}
    for _item, version in target.members:
        for m in version.materials:
            key = _material_key(m)
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
            by_key.setdefault(_material_key(m), cert)
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


def _validate_applicant(a: ApplicantIn, *, on: dt.date) -> ApplicantIn:
    problems: list[Problem] = []
    name = _clean(a.name, 200)
    if not name:
        problems.append(Problem("applicant.name", "name_required", "请填写申请人姓名或名称"))
    number = ""
    try:
        if a.kind == "person":
            number = validate_id_number(a.id_number, field="applicant.id_number", today=on)
        elif a.kind == "enterprise":
            number = validate_credit_code(a.id_number, field="applicant.id_number")
        else:
            problems.append(Problem("applicant.kind", "invalid_applicant_kind", "申请人类型应为自然人或法人"))
    except ValidationFailed as exc:
        problems.extend(exc.problems)
    phone = _clean(a.phone, 20)
    if phone and not ((phone.isdigit() and 7 <= len(phone) <= 12) or phone.startswith("+")):
        problems.append(Problem("applicant.phone", "invalid_phone", "联系电话格式不正确"))
    if problems:
        raise ValidationFailed(problems)
    return ApplicantIn(a.kind, name, number, phone)


def _request_hash(data: ApplicationIn) -> str:
    body = {"applicant": [data.applicant.kind, data.applicant.name, data.applicant.id_number],
            "item": data.item_code, "bundle": data.bundle_code, "materials": dict(sorted(data.materials.items())),
            "commitment": data.commitment, "extra": list(data.extra_holders), "refuse": data.refuse}
    return hashlib.sha256(json.dumps(body, ensure_ascii=False, sort_keys=True, default=str).encode()).hexdigest()


def _replay(session: Session, user: User, key: str | None, request_hash: str) -> Case | None:
    if not key:
        return None
    existing = session.scalars(select(Case).where(Case.created_by == user.id, Case.idempotency_key == key)).first()
    if existing is not None and existing.request_hash != request_hash:
        raise Conflict("该幂等键已用于内容不同的申请", code="idempotency_key_reused", field="Idempotency-Key")
    return existing


# ----- creating a case ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Created:
    """The case an application created, and whether it was created now (False: an idempotent replay)."""

    case: Case
    created: bool


def _new_case(*, target: Target, applicant: ApplicantIn, channel: str, now: dt.datetime, user: User,
              data: ApplicationIn, request_hash: str, hall: Hall | None) -> Case:
    version = target.version
    limits_legal = version.legal_limit_days if version else max(v.legal_limit_days for _i, v in target.members)
    limits_promised = version.promised_limit_days if version else (target.bundle.promised_limit_days
                                                                    if target.bundle else 0)
    return Case(
        number="", kind="bundle" if target.bundle else "single", item_id=target.item.id if target.item else None,
        item_version_id=version.id if version else None, bundle_id=target.bundle.id if target.bundle else None,
        department_id=target.department_id, receiving_hall_id=hall.id if hall else None, proxy=False,
        channel=channel, state=S.SUBMITTED.value, version=1, applicant_kind=applicant.kind,
        applicant_name=applicant.name, applicant_id=applicant.id_number, applicant_phone=applicant.phone,
        applicant_user_id=user.id if user.role == Role.APPLICANT else None,
        agent_user_id=user.id if user.role == Role.AGENT else None,
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


def _lines_of(case: Case) -> list[ChecklistLine]:
    return [ChecklistLine(m.key, m.name, m.required, m.deferrable, MaterialStatus(m.status)) for m in case.materials]


def _check_agent(session: Session, user: User, applicant: ApplicantIn, codes: Sequence[str],
                 on: dt.date) -> AgentAuthorization:
    grants = session.scalars(select(AgentAuthorization).where(
        AgentAuthorization.agent_user_id == user.id, AgentAuthorization.applicant_id == applicant.id_number,
        AgentAuthorization.revoked_at.is_(None), AgentAuthorization.valid_from <= on,
        AgentAuthorization.valid_until >= on))
    for grant in grants:
        if not grant.scope or any(c in grant.scope for c in codes):
            return grant
    raise PermissionDenied("没有该申请人有效的代办授权（授权范围或有效期不符）", code="no_authorization")


def may_use_library_of(session: Session, user: User, holder_id: str, codes: Sequence[str], on: dt.date) -> bool:
    """Online, whose certificates may be looked up for this user: their own, or an authorising applicant's."""
    holder = (holder_id or "").strip().upper()
    if user.role == Role.APPLICANT:
        return bool(user.id_number) and user.id_number == holder
    if user.role == Role.AGENT:
        applicant = ApplicantIn("person", "", holder)
        try:
            _check_agent(session, user, applicant, codes, on)
        except PermissionDenied:
            return False
        return True
    return user.role in (Role.CLERK, Role.ADMIN)


def _require_current_authorization(session: Session, user: User, case: Case, on: dt.date) -> None:
    """An agent acts on a case only while the applicant's authorisation for it is valid."""
    if user.role != Role.AGENT:
        return
    codes = [c for c in (case.bundle.code if case.bundle else "", case.item.code if case.item else "") if c]
    _check_agent(session, user, ApplicantIn(case.applicant_kind, case.applicant_name, case.applicant_id), codes, on)


def _check_qualification(session: Session, user: User, target: Target) -> None:
    if user.role == Role.ADMIN:
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
    principal = principal_of(user)
    require(principal, Action.CASE_APPLY if online else Action.CASE_INTAKE)
    on = today(clock)
    applicant = _validate_applicant(data.applicant, on=on)
    if user.role == Role.APPLICANT and applicant.kind == "person" and user.id_number != applicant.id_number:
        raise PermissionDenied("网上申报只能以本人身份提交；代他人办理请使用帮办代办", code="not_self")
    data = ApplicationIn(**{**data.__dict__, "applicant": applicant})
    request_hash = _request_hash(data)
    replay = _replay(session, user, data.idempotency_key, request_hash)
    if replay is not None:
        return Created(replay, False)
    target = resolve_target(session, item_code=data.item_code, bundle_code=data.bundle_code)
    codes = [target.bundle.code] if target.bundle else []
    codes += [i.code for i, _v in target.members]
    authorization = _check_agent(session, user, applicant, codes, on) if user.role == Role.AGENT else None
    if not online:
        _check_qualification(session, user, target)
    hall = _receiving_hall(session, user, data.hall_code) if not online else None
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
    lines = _statuses(entries, claimed, library, commitment=data.commitment)
    if data.refuse and not online:
        _refusal_text(data.refuse_reason, data.refuse_basis)
    now = clock.now()
    case = _new_case(target=target, applicant=applicant, channel="online" if online else "window", now=now,
                     user=user, data=data, request_hash=request_hash, hall=hall)
    if authorization is not None:
        case.authorization_id = authorization.id
    if hall is not None and target.bundle is None and target.version is not None:
        case.proxy = _is_proxy(session, hall, target)
    _materials_for(case, entries, lines, library, now)
    try:
        _insert_numbered(session, case, on)
    except _DuplicateKey as dup:
        if dup.existing.request_hash != request_hash:
            raise Conflict("该幂等键已用于内容不同的申请", code="idempotency_key_reused",
                           field="Idempotency-Key") from None
        return Created(dup.existing, False)
    actor = actor_of(user)
    _event(session, case, clock=clock, actor=actor, kind="submitted", to_state=S.SUBMITTED.value,
           note="网上申报" if online else "窗口受理登记",
           data={"library": sorted(library), "agent": user.username if authorization else None})
    audit.record(session, clock=clock, actor=actor, action="cases.created", entity_type="case", entity_id=case.number,
                 after=_snapshot(case))
    if data.ticket_id is not None and not online:
        record_visit(session, clock=clock, user=user, case=case, kind="intake", ticket_id=data.ticket_id)
    elif not online:
        record_visit(session, clock=clock, user=user, case=case, kind="intake")
    if not online:
        _decide_intake(session, clock=clock, user=user, case=case, rules_=rules_, refuse=data.refuse,
                       reason=data.refuse_reason, basis=data.refuse_basis)
    return Created(case, True)


def _receiving_hall(session: Session, user: User, hall_code: str | None) -> Hall | None:
    if hall_code:
        try:
            return catalog_service.hall_by_code(session, hall_code)
        except NotFound:
            raise ValidationFailed([Problem("hall_code", "unknown_hall", f"大厅“{hall_code}”不存在")]) from None
    return user.hall


def _is_proxy(session: Session, hall: Hall, target: Target) -> bool:
    """代收代办: the receiving hall's region is not the handling department's."""
    if target.version is None:
        return False
    dept_region = target.version.department.region_id
    return dept_region is not None and hall.region_id != dept_region and hall.level != "county"


def _reason_and_basis(reason: str, basis: str, *, what: str, prefix: str = "") -> tuple[str, str]:
    """A negative decision (不予受理, 不予许可) states its reason and its legal basis."""
    r, b = _clean(reason), _clean(basis)
    problems = []
    if not r:
        problems.append(Problem(f"{prefix}reason", "reason_required", f"{what}须写明理由"))
    if not b:
        problems.append(Problem(f"{prefix}basis", "basis_required", f"{what}须写明法律依据"))
    if problems:
        raise ValidationFailed(problems)
    return r, b


def _refusal_text(reason: str, basis: str) -> tuple[str, str]:
    return _reason_and_basis(reason, basis, what="不予受理", prefix="refuse_")


def _decide_intake(session: Session, *, clock: Clock, user: User, case: Case, rules_: CaseRules, refuse: bool,
                   reason: str = "", basis: str = "") -> None:
    actor = actor_of(user)
    verdict = rules.verdict(_lines_of(case), refuse=refuse)
    if verdict.outcome is Outcome.REFUSE:
        r, b = _refusal_text(reason, basis)
        case.closed_reason, case.closed_basis = r, b
        _move(session, case, S.REFUSED, clock=clock, actor=actor, kind="refused", note=r, data={"basis": b})
        return
    if verdict.outcome is Outcome.CORRECTION:
        _move(session, case, S.CORRECTION_REQUESTED, clock=clock, actor=actor, kind="correction_requested",
              note="一次性告知需补正材料", data={"missing": [ln.name for ln in verdict.missing]})
        return
    _accept(session, clock=clock, user=user, case=case, rules_=rules_, verdict=verdict)


def _steps_for(case: Case, version: ItemVersion | None, now: dt.datetime, actor: Actor) -> None:
    names = list(version.steps) if version is not None and version.steps else ["受理", "审核", "办结"]
    if names[0] != "受理":
        names.insert(0, "受理")
    if len(names) < 2:
        names.append("办结")
    for pos, name in enumerate(names, start=1):
        done = pos == 1
        case.steps.append(CaseStep(position=pos, name=str(name)[:40], status="done" if done else "pending",
                                   outcome="agree" if done else None, opinion="材料齐全，予以受理" if done else "",
                                   done_by=actor.id if done else None, done_by_name=actor.label if done else "",
                                   done_at=now if done else None))


def _calendar(session: Session) -> WorkCalendar:
    return build_calendar(session)


def _suspensions(session: Session, case: Case, on: dt.date) -> list[Suspension]:
    out: list[Suspension] = []
    for s in session.scalars(select(CaseSuspension).where(CaseSuspension.case_id == case.id)
                             .order_by(CaseSuspension.id)):
        last = (s.end - dt.timedelta(days=1)) if s.end is not None else max(on, s.start)
        if last >= s.start:
            out.append((s.start, last))
    return out


def recompute_deadlines(session: Session, case: Case, *, calendar: WorkCalendar, on: dt.date) -> bool:
    """Set the legal and promised due dates from acceptance, suspensions and extensions; True if changed."""
    if case.accepted_on is None:
        return False
    suspensions = _suspensions(session, case, on)
    deadlines = dl.compute(calendar, accepted_on=case.accepted_on,
                           limits=dl.Limits(case.legal_days, case.promised_days, TimeUnit(case.limit_unit)),
                           suspensions=suspensions, extension_days=case.extension_days)
    before = (case.legal_due, case.promised_due, case.due_provisional)
    case.legal_due, case.promised_due = deadlines.legal.date, deadlines.promised.date
    parent = session.get(Case, case.parent_id) if case.parent_id else None
    own_pause = bool(case.extension_days) or bool(suspensions)
    if (parent is not None and parent.promised_due is not None and not own_pause
            and case.promised_due > parent.promised_due):
        case.promised_due = parent.promised_due  # a sub-case never runs past its bundle's promise
    case.due_provisional = deadlines.provisional
    if S(case.state) in CLOCK_RUNNING:
        case.warning = dl.warning(calendar, today=on, due=case.promised_due).value
    return before != (case.legal_due, case.promised_due, case.due_provisional)


def _accept(session: Session, *, clock: Clock, user: User, case: Case, rules_: CaseRules,
            verdict: rules.IntakeVerdict) -> None:
    actor = actor_of(user)
    now, on = clock.now(), today(clock)
    calendar = _calendar(session)
    case.accepted_at, case.accepted_on = now, on
    case.deferred = bool(verdict.deferred)
    if verdict.promised:
        case.commitment = True
    recompute_deadlines(session, case, calendar=calendar, on=on)
    if case.deferred and case.promised_due is not None:
        promised = DueDate(case.promised_due, case.due_provisional)
        case.deferral_due = dl.deferral_due(calendar, accepted_on=on, working_days=rules_.deferral_working_days,
                                            promised=promised).date
    if case.kind != "bundle":
        _steps_for(case, case.item_version, now, actor)
    _move(session, case, S.ACCEPTED, clock=clock, actor=actor, kind="accepted",
          note="容缺受理" if case.deferred else ("告知承诺受理" if case.commitment else "受理"),
          data={"promised_due": case.promised_due, "legal_due": case.legal_due, "deferral_due": case.deferral_due,
                "deferred": [ln.name for ln in verdict.deferred], "promised": [ln.name for ln in verdict.promised]})
    if case.promised_due is not None:  # the clock runs from now: warn at once, not at the next sweep
        case.warning = dl.warning(calendar, today=on, due=case.promised_due).value
    if case.kind == "bundle":
        _open_sub_cases(session, clock=clock, user=user, parent=case, rules_=rules_, calendar=calendar)
        return
    if rules_.auto_approve and case.item_version is not None and rules.auto_approvable(
            instant=case.item_version.instant, lines=_lines_of(case)):
        _decide(session, clock=clock, actor=Actor(None, "秒批规则"), case=case, approve=True,
                reason="申请材料均由电子证照库核验，符合秒批规则，系统自动准予", basis="即办件秒批规则",
                by_rule="秒批", user=None)


def _open_sub_cases(session: Session, *, clock: Clock, user: User, parent: Case, rules_: CaseRules,
                    calendar: WorkCalendar) -> None:
    """One sub-case per member item, in its department, in parallel; materials shared by key."""
    if parent.bundle is None:
        raise ValueError("not a bundle case")
    now, on = clock.now(), today(clock)
    actor = actor_of(user)
    parent_status = {m.key: m for m in parent.materials}
    pairs = catalog_service.items_by_codes(session, [m.item.code for m in parent.bundle.members])
    for item, version in pairs:
        sub = Case(number="", kind="sub", parent_id=parent.id, item_id=item.id, item_version_id=version.id,
                   bundle_id=parent.bundle_id, department_id=version.department_id,
                   receiving_hall_id=parent.receiving_hall_id, proxy=False, channel=parent.channel,
                   state=S.SUBMITTED.value, version=1, applicant_kind=parent.applicant_kind,
                   applicant_name=parent.applicant_name, applicant_id=parent.applicant_id,
                   applicant_phone=parent.applicant_phone, applicant_user_id=parent.applicant_user_id,
                   agent_user_id=parent.agent_user_id, authorization_id=parent.authorization_id, form_data={},
                   commitment=parent.commitment, deferred=False, submitted_at=parent.submitted_at,
                   legal_days=version.legal_limit_days, promised_days=version.promised_limit_days,
                   limit_unit=version.limit_unit, extension_days=0, due_provisional=False, warning="none",
                   decision_reason="", decision_basis="", closed_reason="", closed_basis="", created_by=user.id,
                   created_at=now, updated_at=now)
        for pos, m in enumerate(version.materials, start=1):
            shared = parent_status.get(_material_key(m))
            sub.materials.append(CaseMaterial(
                position=pos, material_id=m.id, key=_material_key(m), name=m.name, required=m.required,
                deferrable=m.deferrable, certificate_type_id=m.certificate_type_id,
                status=shared.status if shared else MaterialStatus.MISSING.value,
                certificate_id=shared.certificate_id if shared else None,
                upload_id=shared.upload_id if shared else None,
                supplied_at=shared.supplied_at if shared else None, note=(m.note or "")[:TEXT_MAX]))
        _insert_numbered(session, sub, on)
        _event(session, sub, clock=clock, actor=actor, kind="submitted", to_state=S.SUBMITTED.value,
               note=f"一件事“{parent.bundle.name}”分办（主件 {parent.number}）")
        sub.accepted_at, sub.accepted_on = now, on
        sub.deferred = any(m.status == MaterialStatus.DEFERRED.value for m in sub.materials)
        recompute_deadlines(session, sub, calendar=calendar, on=on)
        sub.deferral_due = parent.deferral_due if sub.deferred else None
        _steps_for(sub, version, now, actor)
        _move(session, sub, S.ACCEPTED, clock=clock, actor=actor, kind="accepted", note="一件事分办受理",
              data={"promised_due": sub.promised_due, "parent": parent.number})
        if sub.promised_due is not None:
            sub.warning = dl.warning(calendar, today=on, due=sub.promised_due).value
        if rules_.auto_approve and rules.auto_approvable(instant=version.instant, lines=_lines_of(sub)):
            _decide(session, clock=clock, actor=Actor(None, "秒批规则"), case=sub, approve=True,
                    reason="申请材料均由电子证照库核验，符合秒批规则，系统自动准予", basis="即办件秒批规则",
                    by_rule="秒批", user=None)


# ----- pre-check of an online application, resubmission -------------------------------------------------


def precheck(session: Session, *, clock: Clock, user: User, case_id: int, expected_version: int | None,
             materials: Mapping[str, str], rules_: CaseRules, refuse: bool = False, reason: str = "",
             basis: str = "") -> Case:
    """A clerk checks a submitted online application: accept, request correction, or refuse."""
    require(principal_of(user), Action.CASE_INTAKE)
    case = _lock(session, case_id, expected_version)
    if case.state not in (S.SUBMITTED.value,):
        check_transition(case.state, S.ACCEPTED)  # raises the uniform 409
    if case.kind == "sub":
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
    case = _lock(session, case_id, expected_version)
    require_view(session, user, case)
    if case.state != S.CORRECTION_REQUESTED.value:
        check_transition(case.state, S.SUBMITTED)
    if user.role in (Role.CLERK, Role.ADMIN):
        _apply_marks(session, case, materials, clock=clock)
        record_visit(session, clock=clock, user=user, case=case, kind="supplement")
        _decide_intake(session, clock=clock, user=user, case=case, rules_=rules_, refuse=False)
        return case
    if user.role not in (Role.APPLICANT, Role.AGENT):
        raise PermissionDenied("只有申请人或窗口人员可以补正", code="case_forbidden")
    _require_current_authorization(session, user, case, today(clock))
    _move(session, case, S.SUBMITTED, clock=clock, actor=actor_of(user), kind="resubmitted",
          note="申请人补正后重新提交")
    return case


def attach_upload(session: Session, *, clock: Clock, user: User, case: Case, material_key: str, filename: str,
                  content_type: str, size: int, sha256: str) -> CaseUpload:
    """Record an uploaded file against a material of an online application (the file is stored already).

    The applicant, their agent or a clerk uploads while the application is submitted or waiting for
    correction; once accepted, only a deferred (容缺) material may still come in this way.
    """
    if user.role not in (Role.APPLICANT, Role.AGENT, Role.CLERK, Role.ADMIN):
        raise PermissionDenied("只有申请人、代办员或窗口人员可以上传申请材料", code="case_forbidden")
    case = _lock(session, case.id, None)
    require_view(session, user, case)
    _require_current_authorization(session, user, case, today(clock))
    if case.kind == "sub":
        raise Conflict("一件事的材料请在主件上提交", code="sub_case")
    open_for_uploads = case.state in (S.SUBMITTED.value, S.CORRECTION_REQUESTED.value)
    if not open_for_uploads and not case.deferred:
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
    m.status, m.upload_id, m.supplied_at = MaterialStatus.UPLOADED.value, upload.id, clock.now()
    if not open_for_uploads:  # a deferred material came in: the whole bundle shares it
        _settle_deferred(session, case, {m.key}, MaterialStatus.UPLOADED.value, clock, upload_id=upload.id)
    _touch(session, case, clock=clock, actor=actor_of(user), kind="uploaded", note=f"上传“{m.name}”",
           data={"material": m.name, "sha256": sha256, "size": size})
    return upload


# ----- review and decision -----------------------------------------------------------------------------


def _not_bundle(case: Case) -> None:
    if case.kind == "bundle":
        raise Conflict("一件事主件没有自己的审查流程，请在分件上操作", code="bundle_parent")


def _decision_index(case: Case) -> int:
    """The step that records the decision: the one named 决定, else the last; later steps (发证 …) follow it."""
    for i, step in enumerate(case.steps):
        if "决定" in step.name:
            return i
    return len(case.steps) - 1


def _review_steps_left(case: Case) -> list[CaseStep]:
    """Steps before the decision still to do; a step marked （必要时） may be skipped."""
    return [s for s in case.steps[1:_decision_index(case)] if s.status == "pending" and "必要时" not in s.name]


def _opinion_steps(case: Case) -> list[CaseStep]:
    """Steps before the decision that may take an opinion (optional ones included)."""
    return [s for s in case.steps[1:_decision_index(case)] if s.status == "pending"]


def opinion_steps(case: Case) -> list[CaseStep]:
    """The review steps still open before the decision, in order (the next opinion completes the first)."""
    return _opinion_steps(case)


def ready_for_decision(case: Case) -> bool:
    """True when every required review step before the decision is done (or the item is instant)."""
    if case.kind == "bundle" or S(case.state) not in (S.ACCEPTED, S.IN_REVIEW):
        return False
    return not _review_steps_left(case) or (case.item_version is not None and case.item_version.instant)


def record_opinion(session: Session, *, clock: Clock, user: User, case_id: int, expected_version: int | None,
                   opinion: str, agree: bool = True) -> Case:
    """Complete the next review step (审核 …) with an opinion; the case enters ``in_review``."""
    case = _lock(session, case_id, expected_version)
    _require_department(user, case)
    text = _clean(opinion)
    if not text:
        raise ValidationFailed([Problem("opinion", "opinion_required", "请填写审查意见")])
    if case.state == S.SUSPENDED.value:
        raise Conflict("办件处于特别程序（暂停计时）中，请先恢复计时再审查", code="case_suspended", field="state")
    if case.state not in (S.ACCEPTED.value, S.IN_REVIEW.value):
        check_transition(case.state, S.IN_REVIEW)
    pending = _opinion_steps(case)
    if not pending:
        raise Conflict("审查环节已完成，请作出准予或不予许可的决定", code="decision_step", field="opinion")
    step = pending[0]
    step.status, step.outcome, step.opinion = "done", "agree" if agree else "disagree", text
    step.done_by, step.done_by_name, step.done_at = user.id, user.display_name[:64], clock.now()
    if case.state == S.ACCEPTED.value:
        _move(session, case, S.IN_REVIEW, clock=clock, actor=actor_of(user), kind="reviewed",
              note=f"{step.name}：{text}", data={"step": step.name, "agree": agree})
    else:
        _touch(session, case, clock=clock, actor=actor_of(user), kind="reviewed", note=f"{step.name}：{text}",
               data={"step": step.name, "agree": agree})
    return case


def decide(session: Session, *, clock: Clock, user: User, case_id: int, expected_version: int | None,
           approve: bool, reason: str, basis: str = "") -> Case:
    """准予 / 不予许可 by the handling department; a clerk may decide an instant item (即办件) at the window."""
    case = _lock(session, case_id, expected_version)
    instant = case.item_version is not None and case.item_version.instant
    if instant and user.role in (Role.CLERK, Role.ADMIN):
        require(principal_of(user), Action.CASE_INTAKE)
        if user.role == Role.CLERK and case.item_version is not None and not session.scalars(
                select(StaffQualification.id).where(StaffQualification.user_id == user.id,
                                                     StaffQualification.category_id
                                                     == case.item_version.hall_category_id)).first():
            raise PermissionDenied("您没有办理该类事项的窗口资格（一岗多能授权）", code="not_qualified")
    else:
        _require_department(user, case)
    if case.kind == "bundle":
        raise Conflict("一件事主件在各分件办结后自动办结", code="bundle_parent")
    text, why = _reason_and_basis(reason, basis, what="不予许可") if not approve else (_clean(reason), _clean(basis))
    pending = _review_steps_left(case)
    if pending and not instant:
        raise Conflict(f"请先完成“{pending[0].name}”环节", code="steps_pending")
    _decide(session, clock=clock, actor=actor_of(user), case=case, approve=approve,
            reason=text or ("符合条件，准予办理" if approve else ""), basis=why, by_rule=None, user=user)
    return case


def _decide(session: Session, *, clock: Clock, actor: Actor, case: Case, approve: bool, reason: str, basis: str,
            by_rule: str | None, user: User | None) -> None:
    now = clock.now()
    decision_at = _decision_index(case)
    for i, step in enumerate(case.steps):
        if step.status != "pending":
            continue
        step.status = "done"
        if i < decision_at and not (by_rule or (case.item_version is not None and case.item_version.instant)):
            step.outcome, step.opinion = "skipped", "本件无需此环节"  # an optional （必要时） step
        elif i > decision_at:  # 发证, 送达 …: follow the decision
            step.outcome, step.opinion = ("agree", "随决定办理") if approve else ("skipped", "不予许可，无需办理")
        else:
            step.outcome = ("default" if by_rule == "缺席默认" else "agree") if approve else "disagree"
            step.opinion = reason
        step.done_by, step.done_by_name, step.done_at = actor.id, actor.label[:64], now
    case.decision = "approved" if approve else "denied"
    case.decision_reason, case.decision_basis, case.decided_by_rule = reason, basis, by_rule
    case.decided_at, case.decided_on = now, today(clock)
    _move(session, case, S.APPROVED if approve else S.DENIED, clock=clock, actor=actor,
          kind="approved" if approve else "denied", note=reason, data={"basis": basis, "rule": by_rule})
    if approve:
        _issue_result(session, clock=clock, actor=actor, case=case)
    if case.parent_id is not None:
        _complete_parent(session, clock=clock, actor=actor, parent_id=case.parent_id)


def _issue_result(session: Session, *, clock: Clock, actor: Actor, case: Case) -> None:
    """An approval whose result is a licence issues its e-certificate to the applicant."""
    version = case.item_version
    if version is None or version.result_certificate_type is None:
        return
    ctype = version.result_certificate_type
    if not certificates.holder_fits(ctype.holder, case.applicant_id):
        return
    cert = certificates.issue_certificate(
        session, clock=clock, actor=actor, type_code=ctype.code, holder_id=case.applicant_id,
        holder_name=case.applicant_name, issuer=version.department.name,
        data={"case_number": case.number, "item": version.name})
    case.result_certificate_id = cert.id
    _event(session, case, clock=clock, actor=actor, kind="certificate_issued", note=f"签发电子证照 {cert.number}",
           data={"certificate": cert.number})
    session.flush()  # no audit entry follows to flush it, and sessions do not autoflush: the timeline must see it


def _complete_parent(session: Session, *, clock: Clock, actor: Actor, parent_id: int) -> None:
    """The bundle completes when every sub-case has ended: approved only if at least one sub-case was."""
    parent = _lock(session, parent_id, None)
    subs = sub_cases(session, parent.id)
    ended = frozenset({S.WITHDRAWN, S.TERMINATED})
    if not subs or parent.state not in (S.ACCEPTED.value, S.IN_REVIEW.value):
        return
    if any(S(s.state) not in DECIDED | ended for s in subs):
        if parent.state == S.ACCEPTED.value and any(S(s.state) in DECIDED | ended for s in subs):
            _move(session, parent, S.IN_REVIEW, clock=clock, actor=actor, kind="bundle_progress",
                  note="分件陆续办结")
        return
    approved = [s for s in subs if s.decision == "approved" and S(s.state) not in ended]
    not_granted = [s for s in subs if s not in approved]
    note = "各分件均已办结" + (f"；其中未获准予：{'、'.join(s.title for s in not_granted)}" if not_granted else "")
    approve = bool(approved)
    parent.decision = "approved" if approve else "denied"
    parent.decision_reason = note
    parent.decided_at, parent.decided_on = clock.now(), today(clock)
    _move(session, parent, S.APPROVED if approve else S.DENIED, clock=clock, actor=actor,
          kind="approved" if approve else "denied", note=note)


def default_consent(session: Session, *, clock: Clock, case: Case) -> None:
    """缺席默认: a co-department that did not act by its deadline is deemed to agree (sweep only)."""
    actor = Actor(None, "缺席默认")
    _decide(session, clock=clock, actor=actor, case=case, approve=True,
            reason="协办部门逾期未作出意见，依一件事缺席默认规则视为同意", basis="一件事缺席默认机制",
            by_rule="缺席默认", user=None)


# ----- special procedure, extension, withdrawal, termination, 事后核查 ----------------------------------

SUSPENSION_KINDS = {"hearing": "听证", "expert": "专家评审", "inspection": "现场核查", "other": "其他特别程序"}


def suspend(session: Session, *, clock: Clock, user: User, case_id: int, expected_version: int | None, kind: str,
            reason: str) -> Case:
    """特别程序: stop the clock (hearing, expert review, on-site inspection) with a reason."""
    case = _lock(session, case_id, expected_version)
    _require_department(user, case)
    _not_bundle(case)
    text = _clean(reason)
    problems = []
    if kind not in SUSPENSION_KINDS:
        problems.append(Problem("kind", "invalid_kind", "特别程序类型应为听证、专家评审、现场核查或其他"))
    if not text:
        problems.append(Problem("reason", "reason_required", "请填写暂停计时的原因"))
    if problems:
        raise ValidationFailed(problems)
    check_transition(case.state, S.SUSPENDED)
    session.add(CaseSuspension(case_id=case.id, kind=kind, reason=text, start=today(clock), end=None,
                               created_by=user.id, created_at=clock.now()))
    _move(session, case, S.SUSPENDED, clock=clock, actor=actor_of(user), kind="suspended",
          note=f"{SUSPENSION_KINDS[kind]}：{text}")
    return case


def resume(session: Session, *, clock: Clock, user: User, case_id: int, expected_version: int | None) -> Case:
    """End the special procedure; the due dates move by the suspended days."""
    case = _lock(session, case_id, expected_version)
    _require_department(user, case)
    if case.state != S.SUSPENDED.value:  # accepted → in_review is legal, but not as a "resume"
        raise Conflict(f"办件当前状态为“{S(case.state).label}”，不在特别程序中，不能恢复计时",
                       code="illegal_case_transition", field="state")
    check_transition(case.state, S.IN_REVIEW)
    open_ = session.scalars(select(CaseSuspension).where(CaseSuspension.case_id == case.id,
                                                         CaseSuspension.end.is_(None))).first()
    if open_ is not None:
        open_.end = max(today(clock), open_.start)
    _move(session, case, S.IN_REVIEW, clock=clock, actor=actor_of(user), kind="resumed", note="特别程序结束，恢复计时")
    recompute_deadlines(session, case, calendar=_calendar(session), on=today(clock))
    return case


def request_extension(session: Session, *, clock: Clock, user: User, case_id: int, days: int,
                      reason: str, expected_version: int | None = None) -> CaseExtension:
    """Ask the department head to extend the legal limit (延期)."""
    case = _lock(session, case_id, expected_version)
    _require_department(user, case)
    _not_bundle(case)
    text = _clean(reason)
    problems = []
    if not 1 <= days <= 30:
        problems.append(Problem("days", "days_out_of_range", "延期天数应在 1 到 30 个工作日之间"))
    if not text:
        problems.append(Problem("reason", "reason_required", "请填写延期理由"))
    if problems:
        raise ValidationFailed(problems)
    if S(case.state) not in (S.ACCEPTED, S.IN_REVIEW, S.SUSPENDED):
        raise Conflict("只有办理中的办件可以申请延期", code="not_open")
    ext = CaseExtension(case_id=case.id, days=days, reason=text, status="requested", requested_by=user.id,
                        requested_at=clock.now())
    session.add(ext)
    session.flush()
    _touch(session, case, clock=clock, actor=actor_of(user), kind="extension_requested",
           note=f"申请延期 {days} 个工作日：{text}", data={"extension_id": ext.id, "days": days})
    return ext


def decide_extension(session: Session, *, clock: Clock, user: User, extension_id: int, approve: bool,
                     expected_version: int | None = None) -> Case:
    """The department head approves or rejects an extension; an approval moves the legal due date."""
    ext = session.get(CaseExtension, extension_id)
    if ext is None:
        raise NotFound("延期申请", str(extension_id))
    case = _lock(session, ext.case_id, expected_version)
    require(principal_of(user), Action.CASE_EXTENSION_DECIDE, department_id=case.department_id)
    if ext.status != "requested":
        raise Conflict("该延期申请已处理", code="extension_decided")
    ext.status, ext.decided_by, ext.decided_at = ("approved" if approve else "rejected"), user.id, clock.now()
    if approve:
        case.extension_days += ext.days
        recompute_deadlines(session, case, calendar=_calendar(session), on=today(clock))
    _touch(session, case, clock=clock, actor=actor_of(user), kind="extension_" + ext.status,
           note=f"延期 {ext.days} 个工作日{'已批准' if approve else '未批准'}", data={"legal_due": case.legal_due})
    return case


def withdraw(session: Session, *, clock: Clock, user: User, case_id: int, expected_version: int | None,
             reason: str) -> Case:
    """The applicant (or a clerk for them) withdraws before a decision; sub-cases go with the bundle."""
    case = _lock(session, case_id, expected_version)
    require_view(session, user, case)
    if user.role not in (Role.APPLICANT, Role.AGENT, Role.CLERK, Role.ADMIN):
        raise PermissionDenied("只有申请人可以撤回申请", code="case_forbidden")
    _require_current_authorization(session, user, case, today(clock))
    if case.kind == "sub":
        raise Conflict("一件事的分件不能单独撤回，请撤回整件", code="sub_case")
    if not is_withdrawable(S(case.state)):
        check_transition(case.state, S.WITHDRAWN)
    text = _clean(reason) or "申请人主动撤回"
    decided = [sub.title for sub in sub_cases(session, case.id) if S(sub.state) in DECIDED]
    if decided:
        raise Conflict(f"已有分件办结（{'、'.join(decided)}），不能撤回整件", code="sub_cases_decided")
    case.closed_reason = text
    actor = actor_of(user)
    for sub in sub_cases(session, case.id):
        if is_withdrawable(S(sub.state)):
            sub.closed_reason = text
            _move(session, sub, S.WITHDRAWN, clock=clock, actor=actor, kind="withdrawn", note=text)
    _move(session, case, S.WITHDRAWN, clock=clock, actor=actor, kind="withdrawn", note=text)
    return case


def _revoke_result(session: Session, *, clock: Clock, actor: Actor, case: Case, reason: str) -> None:
    cert = session.get(Certificate, case.result_certificate_id) if case.result_certificate_id else None
    if cert is not None and cert.status == "valid":
        certificates.revoke_certificate(session, clock=clock, actor=actor, certificate_id=cert.id,
                                        reason=f"办件 {case.number} 终止：{reason}"[:TEXT_MAX])


def terminate(session: Session, *, clock: Clock, actor: Actor, case: Case, reason: str, basis: str = "") -> None:
    """终止: a 容缺 deadline passed or a false 告知承诺 was found; sub-cases go with their bundle, and a
    licence already issued on the case is revoked."""
    case.closed_reason, case.closed_basis = reason, basis
    _revoke_result(session, clock=clock, actor=actor, case=case, reason=reason)
    for sub in sub_cases(session, case.id):
        if S.TERMINATED in allowed_targets(S(sub.state)):
            sub.closed_reason = reason
            _revoke_result(session, clock=clock, actor=actor, case=sub, reason=reason)
            _move(session, sub, S.TERMINATED, clock=clock, actor=actor, kind="terminated", note=reason)
    _move(session, case, S.TERMINATED, clock=clock, actor=actor, kind="terminated", note=reason, data={"basis": basis})
    if case.parent_id is not None:  # one sub-case ended on its own (e.g. a false 告知承诺): the bundle may be done
        _complete_parent(session, clock=clock, actor=actor, parent_id=case.parent_id)


def verify_commitment(session: Session, *, clock: Clock, user: User, case_id: int, expected_version: int | None,
                      truthful: bool, note: str) -> Case:
    """事后核查 of a 告知承诺 case: recorded as verified, or the case is terminated for a false promise."""
    case = _lock(session, case_id, expected_version)
    _require_department(user, case)
    _not_bundle(case)
    if not case.commitment:
        raise Conflict("该办件不是告知承诺件", code="not_commitment")
    if case.verified_at is not None:
        raise Conflict("该办件已完成核查", code="already_verified")
    text = _clean(note)
    if not text:
        raise ValidationFailed([Problem("note", "note_required", "请填写核查情况")])
    case.verified_at = clock.now()
    if truthful:
        _touch(session, case, clock=clock, actor=actor_of(user), kind="commitment_verified",
               note=f"事后核查属实：{text}")
    else:
        terminate(session, clock=clock, actor=actor_of(user), case=case, reason=f"告知承诺不实：{text}",
                  basis="《优化营商环境条例》及告知承诺制相关规定")
    return case


def _settle_deferred(session: Session, root: Case, keys: set[str], status: str, clock: Clock, *,
                     upload_id: int | None = None) -> bool:
    """Mark deferred materials of a case and its sub-cases as supplied; True when one was found."""
    family = [root, *sub_cases(session, root.id)]
    found = False
    for c in family:
        for m in c.materials:
            if m.key in keys and m.status == MaterialStatus.DEFERRED.value:
                m.status, m.supplied_at, found = status, clock.now(), True
                if upload_id is not None:
                    m.upload_id = upload_id
    for c in family:
        c.deferred = any(m.status == MaterialStatus.DEFERRED.value for m in c.materials)
        if not c.deferred:
            c.deferral_due = None
    session.flush()
    return found


def supply_deferred(session: Session, *, clock: Clock, user: User, case_id: int, expected_version: int | None,
                    keys: Sequence[str], status: str = "paper") -> Case:
    """容缺 materials handed in (on the case or, for a bundle, any of its cases): when none is left the result
    may be delivered."""
    require(principal_of(user), Action.CASE_INTAKE)
    case = _lock(session, case_id, expected_version)
    root = session.get(Case, case.parent_id) if case.parent_id else case
    if root is None:
        raise NotFound("办件", str(case.parent_id))
    if not root.deferred:
        raise Conflict("该办件没有待补交的容缺材料", code="nothing_deferred")
    if S(root.state) not in (S.ACCEPTED, S.IN_REVIEW, S.SUSPENDED, S.APPROVED, S.DENIED):
        raise Conflict("办件已结束，不能补交材料", code="case_closed")
    if status not in (MaterialStatus.PAPER.value, MaterialStatus.ELECTRONIC.value):
        raise ValidationFailed([Problem("status", "invalid_material_status", "补交方式应为纸质或电子")])
    wanted = set(keys)
    if not _settle_deferred(session, root, wanted, status, clock):
        raise ValidationFailed([Problem("keys", "not_deferred", "所选材料不是待补交的容缺材料")])
    record_visit(session, clock=clock, user=user, case=root, kind="supplement")
    _touch(session, root, clock=clock, actor=actor_of(user), kind="deferred_supplied",
           note="容缺材料已补齐" if not root.deferred else "补交部分容缺材料", data={"keys": sorted(wanted)})
    return root


# ----- delivery, visits, archive ------------------------------------------------------------------------

def _require_deliver(user: User, case: Case) -> None:
    """Center staff deliver and archive any case; a department only its own."""
    require(principal_of(user), Action.CASE_DELIVER,
            department_id=None if user.role in (Role.CLERK, Role.ADMIN) else case.department_id)


DELIVERY_METHODS = {"pickup": "窗口领取", "mail": "邮寄送达", "electronic": "电子送达"}


@dataclass(frozen=True)
class DeliveryIn:
    """How the result goes out."""

    method: str
    picked_up_by: str = ""
    address: str = ""
    recipient: str = ""
    courier: str = ""
    tracking_number: str = ""
    ticket_id: int | None = None


def deliver(session: Session, *, clock: Clock, user: User, case_id: int, expected_version: int | None,
            data: DeliveryIn) -> Case:
    """Deliver the decision; a bundle delivers all its sub-cases at once (结果统一送达)."""
    case = _lock(session, case_id, expected_version)
    _require_deliver(user, case)
    if case.kind == "sub":
        raise Conflict("一件事的结果由主件统一送达", code="sub_case")
    check_transition(case.state, S.DELIVERED)
    family = [case, *sub_cases(session, case.id)]
    if case.decision != "denied" and any(c.deferred for c in family):  # a denial is served: nothing to hold back
        raise Conflict("容缺材料尚未补齐，办理结果暂不送达", code="deferred_outstanding")
    problems: list[Problem] = []
    if data.method not in DELIVERY_METHODS:
        problems.append(Problem("method", "invalid_method", "送达方式应为窗口领取、邮寄或电子送达"))
    if data.method == "pickup" and not _clean(data.picked_up_by):
        problems.append(Problem("picked_up_by", "required", "请填写领取人"))
    if data.method == "mail":
        for name, label in (("address", "邮寄地址"), ("recipient", "收件人"), ("courier", "快递公司"),
                            ("tracking_number", "快递单号")):
            if not _clean(getattr(data, name)):
                problems.append(Problem(name, "required", f"请填写{label}"))
    if problems:
        raise ValidationFailed(problems)
    now = clock.now()
    session.add(CaseDelivery(case_id=case.id, method=data.method, picked_up_by=_clean(data.picked_up_by, 64),
                             address=_clean(data.address, 200), recipient=_clean(data.recipient, 64),
                             courier=_clean(data.courier, 40), tracking_number=_clean(data.tracking_number, 40),
                             delivered_on=today(clock) if data.method != "mail" else None, recorded_by=user.id,
                             recorded_at=now))
    if data.method == "pickup":
        record_visit(session, clock=clock, user=user, case=case, kind="pickup", ticket_id=data.ticket_id)
    actor = actor_of(user)
    for c in family:
        if S(c.state) in (S.APPROVED, S.DENIED):
            c.delivered_at = now
            _move(session, c, S.DELIVERED, clock=clock, actor=actor, kind="delivered",
                  note=DELIVERY_METHODS[data.method], data={"method": data.method,
                                                            "tracking_number": data.tracking_number or None})
    return case


def confirm_mail_delivered(session: Session, *, clock: Clock, user: User, case_id: int, on: dt.date,
                           expected_version: int | None = None) -> Case:
    """Record the day the courier delivered a mailed result."""
    case = _lock(session, case_id, expected_version)
    _require_deliver(user, case)
    delivery = session.scalars(select(CaseDelivery).where(CaseDelivery.case_id == case.id)).first()
    if delivery is None or delivery.method != "mail":
        raise Conflict("该办件不是邮寄送达", code="not_mail")
    if on > today(clock) or (case.delivered_at is not None and on < case.delivered_at.date()):
        raise ValidationFailed([Problem("delivered_on", "invalid_date", "签收日期应在寄出之后、今天之前")])
    delivery.delivered_on = on
    _touch(session, case, clock=clock, actor=actor_of(user), kind="mail_delivered", note=f"{on:%Y-%m-%d} 签收")
    return case


def archive(session: Session, *, clock: Clock, user: User, case_id: int, expected_version: int | None) -> Case:
    """归档 a finished case (and its sub-cases)."""
    case = _lock(session, case_id, expected_version)
    _require_deliver(user, case)
    check_transition(case.state, S.ARCHIVED)
    actor = actor_of(user)
    for sub in sub_cases(session, case.id):
        if S.ARCHIVED in allowed_targets(S(sub.state)):
            _move(session, sub, S.ARCHIVED, clock=clock, actor=actor, kind="archived")
    _move(session, case, S.ARCHIVED, clock=clock, actor=actor, kind="archived")
    return case


def record_visit(session: Session, *, clock: Clock, user: User, case: Case, kind: str,
                 ticket_id: int | None = None) -> CaseVisit | None:
    """An in-person interaction (跑动); one per ticket, and the queue's ticket ↔ case link is kept too."""
    root = (session.get(Case, case.parent_id) if case.parent_id else None) or case
    if ticket_id is not None:
        ticket = session.get(Ticket, ticket_id)
        if ticket is None:
            raise ValidationFailed([Problem("ticket_id", "unknown_ticket", "号票不存在")])
        if session.scalars(select(CaseVisit).where(CaseVisit.case_id == root.id,
                                                   CaseVisit.ticket_id == ticket_id)).first():
            return None
        if not session.scalars(select(TicketCase).where(TicketCase.ticket_id == ticket_id,
                                                        TicketCase.case_number == root.number)).first():
            session.add(TicketCase(ticket_id=ticket_id, case_number=root.number, linked_at=clock.now(),
                                   linked_by=user.id))
    visit = CaseVisit(case_id=root.id, at=clock.now(), kind=kind, hall_id=user.hall_id, ticket_id=ticket_id,
                      recorded_by=user.id)
    session.add(visit)
    session.flush()
    return visit


def visit_count(session: Session, case: Case) -> int:
    """跑动次数: visits recorded on the case plus tickets the queue linked to it by number."""
    root_id = case.parent_id or case.id
    root = session.get(Case, root_id) or case
    tickets = set(session.scalars(select(CaseVisit.ticket_id).where(CaseVisit.case_id == root_id,
                                                                    CaseVisit.ticket_id.is_not(None))))
    tickets |= set(session.scalars(select(TicketCase.ticket_id).where(TicketCase.case_number == root.number)))
    no_ticket = session.scalar(select(func.count()).select_from(CaseVisit).where(
        CaseVisit.case_id == root_id, CaseVisit.ticket_id.is_(None))) or 0
    return len(tickets) + int(no_ticket)


def one_visit(session: Session, case: Case) -> bool | None:
    """一次办结: completed with at most one visit; None while the case is not completed."""
    if S(case.state) not in (S.DELIVERED, S.ARCHIVED, S.APPROVED, S.DENIED):
        return None
    return visit_count(session, case) <= 1


# ----- agents -----------------------------------------------------------------------------------------


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
    require(principal_of(user), Action.AGENT_AUTHORIZE)
    applicant = _validate_applicant(data.applicant, on=today(clock))
    if user.role == Role.APPLICANT and user.id_number != applicant.id_number:
        raise PermissionDenied("只能为本人办理授权委托", code="not_self")
    problems: list[Problem] = []
    agent = session.scalars(select(User).where(User.username == data.agent_username.strip())).first()
    if agent is None or agent.role != Role.AGENT or not agent.is_active:
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
                               valid_until=data.valid_until, document=_clean(data.document, 200), created_by=user.id,
                               created_at=clock.now())
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
    if not (user.role in (Role.ADMIN, Role.CLERK) or (user.role == Role.APPLICANT
                                                      and user.id_number == grant.applicant_id)):
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


# ----- read models ------------------------------------------------------------------------------------


def timeline(session: Session, case: Case) -> list[CaseEvent]:
    """Every event of the case in order."""
    return list(session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)))


OPEN_STATES = (S.SUBMITTED.value, S.CORRECTION_REQUESTED.value, S.ACCEPTED.value, S.IN_REVIEW.value,
               S.SUSPENDED.value, S.APPROVED.value, S.DENIED.value)


# Lists show columns of the case and the names of its item and department: the checklist, the steps and the
# item version's materials are not loaded for them (one query per list, plus the joined lookups).
LIST_OPTIONS = (lazyload(Case.materials), lazyload(Case.steps),
                defaultload(Case.item_version).lazyload(ItemVersion.materials))


def inbox(session: Session, *, user: User, limit: int = 200) -> list[Case]:
    """An approver's work: open cases and sub-cases of the department, soonest promised date first."""
    require(principal_of(user), Action.CASE_REVIEW)
    q = (select(Case).where(Case.department_id == user.department_id, Case.kind != "bundle",
                            Case.state.in_((S.ACCEPTED.value, S.IN_REVIEW.value, S.SUSPENDED.value)))
         .order_by(Case.promised_due.asc(), Case.id).limit(limit).options(*LIST_OPTIONS))
    return list(session.scalars(q))


def precheck_queue(session: Session, *, limit: int = 200) -> list[Case]:
    """Online applications waiting for a clerk's pre-check, oldest first."""
    return list(session.scalars(select(Case).where(Case.state == S.SUBMITTED.value, Case.kind != "sub")
                                .order_by(Case.submitted_at, Case.id).limit(limit).options(*LIST_OPTIONS)))


def cases_of_applicant(session: Session, *, applicant_id: str | None, user_id: int | None = None,
                       agent_user_id: int | None = None, limit: int = 100) -> list[Case]:
    """An applicant's (or an agent's) cases, newest first; sub-cases show under their bundle."""
    conds = []
    if applicant_id:
        conds.append(Case.applicant_id == applicant_id)
    if user_id is not None:
        conds.append(Case.applicant_user_id == user_id)
    if agent_user_id is not None:
        conds.append(Case.agent_user_id == agent_user_id)
    if not conds:
        return []
    return list(session.scalars(select(Case).where(or_(*conds), Case.kind != "sub")
                                .order_by(Case.created_at.desc(), Case.id.desc()).limit(limit)
                                .options(*LIST_OPTIONS)))


def search_cases(session: Session, *, user: User, state: str | None = None, department_id: int | None = None,
                 warning: str | None = None, limit: int = 100, offset: int = 0) -> list[Case]:
    """Cases a user may list: the center sees all, departments theirs; filters by state and warning."""
    role = Role(user.role)
    q = select(Case)
    if role in rules.DEPARTMENT_ROLES:
        q = q.where(Case.department_id == user.department_id)
    elif role not in rules.ALL_CASES_ROLES:
        raise PermissionDenied("无权查看办件列表", code="case_forbidden")
    if state:
        q = q.where(Case.state == state)
    if department_id is not None:
        q = q.where(Case.department_id == department_id)
    if warning:
        q = q.where(Case.warning == warning)
    return list(session.scalars(q.order_by(Case.created_at.desc(), Case.id.desc()).limit(limit).offset(offset)
                                .options(*LIST_OPTIONS)))


@dataclass(frozen=True)
class PublicStatus:
    """What the public tracking page shows: nothing personal beyond a masked name."""

    number: str
    title: str
    state: CaseState
    department: str
    applicant: str
    accepted_on: dt.date | None
    promised_due: dt.date | None
    decided_on: dt.date | None
    steps: tuple[tuple[str, str], ...]


def track(session: Session, *, number: str, id_last4: str) -> PublicStatus:
    """Public tracking by case number + the last 4 characters of the applicant's ID; one answer for all misses."""
    tail = (id_last4 or "").strip().upper()
    if len(tail) != 4:
        raise ValidationFailed([Problem("id_last4", "invalid_tail", "请输入申请人证件号码后 4 位")])
    try:
        case = case_by_number(session, number)
    except NotFound:
        case = None
    if case is None or not case.applicant_id.upper().endswith(tail):
        raise NotFound("与办件编号和证件号码后 4 位相符的办件", number.strip()[:20], field="number")
    steps = tuple((s.name, "已完成" if s.status == "done" else "待办理") for s in case.steps)
    return PublicStatus(case.number, case.title, S(case.state), case.department.name,
                        certificates.mask_name(case.applicant_name), case.accepted_on, case.promised_due,
                        case.decided_on, steps)
