"""体验员 (政务服务体验员 / 社会监督员): the registry, reports with photos, 研判 and assignment, figures.

The center (``supervision.experiencer_manage``) registers an experiencer: a new account of the role that files
reports, or an existing one, with a category and a term of service. Within the term the experiencer files a
report of a visit (``supervision.experience_file``) with photos, each checked by its bytes and stored by content
like any upload (``cases.uploads``). The supervisor judges it (``supervision.experience_judge``, 研判): assigned
to a department as a rectification work order (source ``experience``), or not taken up with a reason. The order's
close and void listeners (installed in ``onewindow.wiring``) bring its end back to the report, so the experiencer
sees what became of every report.

Functions flush, never commit; everything is validated before anything is written; every change is audited.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from onewindow.cases.uploads import CheckedUpload, check_upload, open_upload, store_upload
from onewindow.catalog import service as catalog_service
from onewindow.catalog.models import Department, Hall
from onewindow.config import Settings
from onewindow.core import access, audit
from onewindow.core.access import Action, Record, Scope
from onewindow.core.audit import Actor
from onewindow.core.clock import Clock, today
from onewindow.core.errors import DomainError, NotFound, PermissionDenied, Problem, ValidationFailed
from onewindow.core.ids import mask_phone
from onewindow.core.locking import lock_versioned
from onewindow.rectification import service as rectification
from onewindow.rectification.states import Raiser, SourceKind
from onewindow.staff import service as staff_service
from onewindow.staff.models import User
from onewindow.staff.service import actor_of, viewer_of
from onewindow.supervision.experiencer_models import ExperiencePhoto, Experiencer, ExperienceReport
from onewindow.supervision.experiencer_rules import (
    TEXT_MAX,
    Category,
    Mode,
    ReportState,
    check_report,
    check_term,
    check_transition,
    in_term,
)

PHOTO_TYPES = frozenset({"image/jpeg", "image/png"})
PHONE_MAX = 20


@dataclass(frozen=True)
class Photo:
    """A photo as received: its name and bytes (the declared type is never trusted)."""

    filename: str
    data: bytes


# ----- the registry ------------------------------------------------------------------------------------------


def _reporter_role() -> str:
    # the one role the policy lets file reports: new experiencer accounts get it
    return sorted(r.value for r in access.roles_with(Action.EXPERIENCE_FILE))[0]


def experiencer_snapshot(e: Experiencer) -> dict[str, Any]:
    """The audited fields of an experiencer (phone masked)."""
    return {"user_id": e.user_id, "name": e.name, "category": e.category, "organisation": e.organisation,
            "phone": mask_phone(e.phone) if e.phone else "", "term_start": e.term_start, "term_end": e.term_end}


def register(session: Session, *, clock: Clock, user: User, username: str, name: str, category: str,
             term_start: dt.date | None, term_end: dt.date | None, organisation: str = "", phone: str = "",
             password: str = "") -> Experiencer:
    """Register an experiencer: an existing account allowed to file reports, or a new one (``password`` given)."""
    access.require(viewer_of(user), Action.EXPERIENCER_MANAGE)
    problems = check_term(term_start, term_end)
    try:
        Category(category)
    except ValueError:
        problems.append(Problem("category", "category_invalid", "请选择体验员类别"))
    if not name.strip():
        problems.append(Problem("name", "name_required", "请填写体验员姓名"))
    phone = phone.strip()
    if phone and not (phone.isdigit() and 7 <= len(phone) <= PHONE_MAX):
        problems.append(Problem("phone", "phone_invalid", "联系电话应为7至20位数字"))
    account = session.scalars(select(User).where(User.username == username.strip())).first()
    if account is not None:
        if not access.can(viewer_of(account), Action.EXPERIENCE_FILE):
            problems.append(Problem("username", "account_not_experiencer", f"账号“{username}”不是体验员账号"))
        elif session.scalar(select(Experiencer.id).where(Experiencer.user_id == account.id)) is not None:
            problems.append(Problem("username", "already_registered", f"账号“{username}”已登记为体验员"))
    elif not password:
        problems.append(Problem("password", "password_required", "新建体验员账号须设置初始密码"))
    if problems:
        raise ValidationFailed(problems)
    actor = actor_of(user)
    if account is None:
        account = staff_service.create_user(session, clock=clock, actor=actor, username=username.strip(),
                                            password=password, display_name=name, role=_reporter_role(),
                                            phone=phone or None)
    assert term_start is not None and term_end is not None  # noqa: S101  (check_term refused them)
    e = Experiencer(user_id=account.id, name=name.strip()[:64], category=Category(category).value,
                    organisation=organisation.strip()[:200], phone=phone, term_start=term_start, term_end=term_end,
                    registered_at=clock.now(), registered_by=user.id)
    session.add(e)
    session.flush()
    audit.record(session, clock=clock, actor=actor, action="supervision.experiencer_registered",
                 entity_type="experiencer", entity_id=e.id, after=experiencer_snapshot(e))
    return e


def experiencer_of(session: Session, user: User) -> Experiencer | None:
    """The registry entry of an account, if any."""
    return session.scalars(select(Experiencer).where(Experiencer.user_id == user.id)).first()


def list_experiencers(session: Session, *, viewer: User) -> list[Experiencer]:
    """Every registered experiencer (the center's registry)."""
    access.require(viewer_of(viewer), Action.EXPERIENCER_MANAGE)
    return list(session.scalars(select(Experiencer).order_by(Experiencer.term_end.desc(), Experiencer.id)))


# ----- reports -----------------------------------------------------------------------------------------------


def record_of(report: ExperienceReport) -> Record:
    """What the access policy needs to know of a report: the department it was assigned to, its experiencer."""
    return Record(department=report.department_id, owner_user_ids=frozenset({report.experiencer.user_id}))


def report_snapshot(r: ExperienceReport) -> dict[str, Any]:
    """The audited fields of a report."""
    return {"experiencer_id": r.experiencer_id, "mode": r.mode, "hall_id": r.hall_id, "item_code": r.item_code,
            "visited_on": r.visited_on, "title": r.title, "state": r.state, "department_id": r.department_id,
            "order_id": r.order_id, "version": r.version}


def _checked_photos(photos: Sequence[Photo], *, max_bytes: int, max_photos: int) -> list[tuple[CheckedUpload, bytes]]:
    if len(photos) > max_photos:
        raise ValidationFailed([Problem("photos", "too_many_photos", f"每份报告最多上传{max_photos}张照片")])
    out: list[tuple[CheckedUpload, bytes]] = []
    problems: list[Problem] = []
    for p in photos:
        try:
            checked = check_upload(p.filename, None, p.data, max_bytes=max_bytes, field="photos")
        except ValidationFailed as exc:
            problems += exc.problems
            continue
        if checked.content_type not in PHOTO_TYPES:
            problems.append(Problem("photos", "photo_not_image",
                                    f"文件“{checked.filename}”不是照片，仅接受 JPEG、PNG 图片"))
            continue
        out.append((checked, p.data))
    if problems:
        raise ValidationFailed(problems)
    return out


def file_report(session: Session, *, clock: Clock, settings: Settings, user: User, mode: str, hall_code: str,
                item_code: str, visited_on: dt.date | None, title: str, content: str,
                photos: Sequence[Photo] = ()) -> ExperienceReport:
    """An experiencer files a report of a visit, within their term; photos are checked by their bytes."""
    viewer = viewer_of(user)
    access.require(viewer, Action.EXPERIENCE_FILE)
    e = experiencer_of(session, user)
    on = today(clock)
    if e is None:
        raise PermissionDenied("您尚未登记为政务服务体验员，请联系政务服务中心", code="not_registered")
    if not in_term(e.term_start, e.term_end, on):
        raise PermissionDenied(f"您的体验员聘期为 {e.term_start} 至 {e.term_end}，当前不在聘期内", code="out_of_term")
    hall_id: int | None = None
    problems = check_report(mode=mode, hall_given=bool(hall_code.strip()), title=title, content=content,
                            visited_on=visited_on, today=on)
    if hall_code.strip():
        hall_id = session.scalar(select(Hall.id).where(Hall.code == hall_code.strip()))
        if hall_id is None:
            problems.append(Problem("hall", "unknown_hall", f"未知大厅：{hall_code}"))
    item_name = ""
    if item_code.strip():
        try:
            _, version = catalog_service.get_item_version(session, item_code.strip())
            item_name = version.name
        except DomainError:
            problems.append(Problem("item_code", "unknown_item", f"未找到事项：{item_code}"))
    checked: list[tuple[CheckedUpload, bytes]] = []
    try:
        checked = _checked_photos(photos, max_bytes=settings.upload_max_bytes,
                                  max_photos=settings.experience_max_photos)
    except ValidationFailed as exc:
        problems += exc.problems
    if problems:
        raise ValidationFailed(problems)
    assert visited_on is not None  # noqa: S101  (check_report refused it)
    report = ExperienceReport(experiencer_id=e.id, mode=Mode(mode).value, hall_id=hall_id,
                              item_code=item_code.strip()[:64], item_name=item_name[:200], visited_on=visited_on,
                              title=title.strip(), content=content.strip()[:TEXT_MAX],
                              state=ReportState.SUBMITTED.value, version=1, submitted_at=clock.now())
    session.add(report)
    session.flush()
    for c, data in checked:
        store_upload(Path(settings.upload_dir), c, data)
        session.add(ExperiencePhoto(report_id=report.id, filename=c.filename, content_type=c.content_type,
                                    size=c.size, sha256=c.sha256))
    session.flush()
    audit.record(session, clock=clock, actor=actor_of(user), action="supervision.experience_filed",
                 entity_type="experience_report", entity_id=report.id,
                 after={**report_snapshot(report), "photos": [c.sha256 for c, _ in checked]})
    return report


def _lock(session: Session, report_id: int, expected_version: int | None) -> ExperienceReport:
    return lock_versioned(session, ExperienceReport, report_id, expected_version, label="体验报告")


def judge(session: Session, *, clock: Clock, user: User, report_id: int, expected_version: int | None,
          assign: bool, note: str, department_id: int | None = None) -> ExperienceReport:
    """研判: assign the report to a department as a rectification work order, or do not take it up (a reason)."""
    text = (note or "").strip()
    problems: list[Problem] = []
    if not text:
        problems.append(Problem("note", "note_required", "请填写研判意见" if assign else "请填写不予交办的理由"))
    department: Department | None = None
    if assign:
        department = session.get(Department, department_id) if department_id is not None else None
        if department is None:
            problems.append(Problem("department_id", "department_required", "请选择交办的责任部门"))
    if problems:
        raise ValidationFailed(problems)
    report = _lock(session, report_id, expected_version)
    access.require(viewer_of(user), Action.EXPERIENCE_JUDGE, record_of(report))
    target = check_transition(report.state, ReportState.ASSIGNED if assign else ReportState.DISMISSED)
    before = report_snapshot(report)
    actor = actor_of(user)
    report.judgement = text[:TEXT_MAX]
    report.judged_at = clock.now()
    report.judged_by = user.id
    if department is not None:
        e = report.experiencer
        where = "、".join(x for x in (Mode(report.mode).label, report.hall.name if report.hall else "",
                                      report.item_name) if x)
        order = rectification.open_order(
            session, clock=clock, actor=actor, source_kind=SourceKind.EXPERIENCE, source_id=report.id,
            department_id=department.id, title=f"体验员反映：{report.title}"[:200],
            detail=f"{report.visited_on}（{where}）：{report.content}\n研判意见：{text}",
            raiser=Raiser(name=e.name, phone=e.phone, user_id=e.user_id, identified=True))
        report.department_id = department.id
        report.order_id = order.id
    report.state = target.value
    report.version += 1
    session.flush()
    audit.record(session, clock=clock, actor=actor, action=f"supervision.experience_{target.value}",
                 entity_type="experience_report", entity_id=report.id, before=before, after=report_snapshot(report))
    return report


def _follow(session: Session, report_id: int, clock: Clock, actor: Actor, note: str, target: ReportState) -> None:
    if session.get(ExperienceReport, report_id) is None:  # an order some other code opened under this source kind
        return
    report = _lock(session, report_id, None)
    if report.state != ReportState.ASSIGNED.value:
        return
    before = report_snapshot(report)
    report.state = check_transition(report.state, target).value
    report.closed_at = clock.now()
    report.outcome_note = (note or "")[:TEXT_MAX]
    report.version += 1
    session.flush()
    audit.record(session, clock=clock, actor=actor, action=f"supervision.experience_{target.value}",
                 entity_type="experience_report", entity_id=report.id, before=before, after=report_snapshot(report))


def order_closed(session: Session, source_id: int, clock: Clock, actor: Actor, note: str) -> None:
    """Close listener (source ``experience``): the report's work order was closed after 整改 and 回访."""
    _follow(session, source_id, clock, actor, note, ReportState.CLOSED)


def order_voided(session: Session, source_id: int, clock: Clock, actor: Actor, note: str) -> None:
    """Void listener (source ``experience``): the department's appeal against the report was upheld."""
    _follow(session, source_id, clock, actor, note, ReportState.VOIDED)


# ----- reads -------------------------------------------------------------------------------------------------


def get_report(session: Session, *, viewer: User, report_id: int) -> ExperienceReport:
    """One report the viewer may see (its experiencer, the center, the department it was assigned to)."""
    report = session.get(ExperienceReport, report_id)
    if report is None:
        raise NotFound("体验报告", str(report_id))
    access.require(viewer_of(viewer), Action.EXPERIENCE_VIEW, record_of(report))
    return report


def list_reports(session: Session, *, viewer: User, state: ReportState | str | None = None, limit: int = 50,
                 offset: int = 0) -> list[ExperienceReport]:
    """The reports within the viewer's reach, newest first: an experiencer's own, a department's assigned, all."""
    v = viewer_of(viewer)
    scope = access.list_scope(v, Action.EXPERIENCE_VIEW)
    if scope is None:
        access.require(v, Action.EXPERIENCE_VIEW)
        raise PermissionDenied()  # pragma: no cover - require raised
    query = select(ExperienceReport)
    if scope is Scope.OWN:
        query = query.join(Experiencer, Experiencer.id == ExperienceReport.experiencer_id) \
            .where(Experiencer.user_id == viewer.id)
    elif scope is not Scope.ALL:
        query = query.where(ExperienceReport.department_id == v.department_id)
    if state is not None:
        query = query.where(ExperienceReport.state == ReportState(state).value)
    return list(session.scalars(query.order_by(ExperienceReport.id.desc()).limit(limit).offset(offset)))


def photos_of(session: Session, report_ids: Sequence[int]) -> dict[int, list[ExperiencePhoto]]:
    """The photos of many reports (one query)."""
    out: dict[int, list[ExperiencePhoto]] = {i: [] for i in report_ids}
    if report_ids:
        for p in session.scalars(select(ExperiencePhoto).where(ExperiencePhoto.report_id.in_(list(report_ids)))
                                 .order_by(ExperiencePhoto.id)):
            out[p.report_id].append(p)
    return out


def photo_file(session: Session, *, settings: Settings, viewer: User, photo_id: int) -> tuple[ExperiencePhoto, Path]:
    """A photo and its stored file, for a viewer who may see its report."""
    photo = session.get(ExperiencePhoto, photo_id)
    if photo is None:
        raise NotFound("照片", str(photo_id))
    get_report(session, viewer=viewer, report_id=photo.report_id)
    return photo, open_upload(Path(settings.upload_dir), photo.sha256)


@dataclass(frozen=True)
class ReportFigures:
    """Reports of one experiencer or one department: filed, judged and where they ended."""

    key: int
    name: str
    filed: int
    assigned: int
    dismissed: int
    closed: int
    voided: int

    @property
    def open(self) -> int:
        """Assigned and not ended yet (整改中)."""
        return self.assigned - self.closed - self.voided


def _n(state: ReportState | set[ReportState]) -> Any:
    values = [s.value for s in state] if isinstance(state, set) else [state.value]
    return func.coalesce(func.sum(case((ExperienceReport.state.in_(values), 1), else_=0)), 0)


ASSIGNED_EVER = {ReportState.ASSIGNED, ReportState.CLOSED, ReportState.VOIDED}


def figures_by_experiencer(session: Session, *, viewer: User) -> list[ReportFigures]:
    """Per experiencer: reports filed, assigned, not taken up, closed, voided (every registered one listed)."""
    access.require(viewer_of(viewer), Action.EXPERIENCER_MANAGE)
    r = ExperienceReport
    query = (select(Experiencer.id, Experiencer.name, func.count(r.id), _n(ASSIGNED_EVER),
                    _n(ReportState.DISMISSED), _n(ReportState.CLOSED), _n(ReportState.VOIDED))
             .outerjoin(r, r.experiencer_id == Experiencer.id)
             .group_by(Experiencer.id, Experiencer.name).order_by(Experiencer.id))
    return [ReportFigures(int(x[0]), str(x[1]), *(int(v) for v in x[2:])) for x in session.execute(query)]


def figures_by_department(session: Session, *, viewer: User) -> list[ReportFigures]:
    """Per department reports were assigned to: assigned, closed, voided (and open)."""
    access.require(viewer_of(viewer), Action.EXPERIENCER_MANAGE)
    r = ExperienceReport
    query = (select(Department.id, Department.name, func.count(r.id), _n(ASSIGNED_EVER), _n(ReportState.DISMISSED),
                    _n(ReportState.CLOSED), _n(ReportState.VOIDED))
             .join(r, r.department_id == Department.id)
             .group_by(Department.id, Department.name).order_by(Department.id))
    return [ReportFigures(int(x[0]), str(x[1]), *(int(v) for v in x[2:])) for x in session.execute(query)]


def register_demo(session: Session, *, clock: Clock, username: str = "experiencer") -> Experiencer | None:
    """The demo county's experiencer (the demo account ``experiencer``), registered for two years; idempotent."""
    account = session.scalars(select(User).where(User.username == username)).first()
    if account is None or experiencer_of(session, account) is not None:
        return None
    on = today(clock)
    e = Experiencer(user_id=account.id, name=account.display_name, category=Category.CITIZEN.value,
                    organisation="获嘉县政务服务体验员", phone="", term_start=on - dt.timedelta(days=30),
                    term_end=on + dt.timedelta(days=730), registered_at=clock.now(), registered_by=None)
    session.add(e)
    session.flush()
    audit.record(session, clock=clock, actor=audit.SYSTEM, action="supervision.experiencer_registered",
                 entity_type="experiencer", entity_id=e.id, after=experiencer_snapshot(e))
    return e
