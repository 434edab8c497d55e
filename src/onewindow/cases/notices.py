"""The notices of a case (受理通知书, 补正材料一次性告知书, 不予受理通知书) built from its record and history.

:mod:`onewindow.cases.documents` lays a :class:`CaseNotice` out as a PDF; this module decides what
goes in it. A notice is issued for something that happened to the case, so it is dated by that
event (the acceptance day, the day the correction was asked for, the day of the refusal) and the
same notice downloaded twice gives the same document. Asking for a notice the case's history does
not contain (a refusal notice of an accepted case) is a 409.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.orm import Session

from onewindow.cases import documents
from onewindow.cases.documents import CaseNotice, NoticeLine
from onewindow.cases.kinds import Decision
from onewindow.cases.models import Case, CaseEvent, CaseMaterial
from onewindow.cases.rules import SUPPLIED, MaterialStatus
from onewindow.cases.states import CaseState
from onewindow.catalog import service as catalog_service
from onewindow.catalog.models import Hall
from onewindow.certificates.models import Certificate
from onewindow.core.clock import CHINA_TZ
from onewindow.core.errors import Conflict, NotFound
from onewindow.core.ids import mask_id_number

COUNTY_CENTER = "获嘉县政务服务中心"  # when the demo or a deployment has no county-level hall row


class NoticeKind(StrEnum):
    """The three notices an applicant may download."""

    ACCEPTANCE = "acceptance"
    CORRECTION = "correction"
    REFUSAL = "refusal"
    DECISION = "decision"

    @property
    def label(self) -> str:
        """Chinese title."""
        return NOTICE_LABELS[self]


NOTICE_LABELS: dict[NoticeKind, str] = {
    NoticeKind.ACCEPTANCE: "受理通知书",
    NoticeKind.CORRECTION: "补正材料一次性告知书",
    NoticeKind.REFUSAL: "不予受理通知书",
    NoticeKind.DECISION: "许可（办理）决定书",
}

# The timeline event a notice records; its date is the notice's date.
_EVENT_OF: dict[NoticeKind, str] = {
    NoticeKind.ACCEPTANCE: "accepted",
    NoticeKind.CORRECTION: "correction_requested",
    NoticeKind.REFUSAL: "refused",
    NoticeKind.DECISION: "approved",  # or "denied": see _decision_event
}
_NOT_IN_HISTORY: dict[NoticeKind, str] = {
    NoticeKind.ACCEPTANCE: "该办件尚未受理，不能出具受理通知书",
    NoticeKind.CORRECTION: "该办件没有要求补正材料，不能出具补正材料一次性告知书",
    NoticeKind.REFUSAL: "该办件未作出不予受理决定，不能出具不予受理通知书",
    NoticeKind.DECISION: "该办件尚未作出许可决定，不能出具决定书",
}


def parse_kind(kind: str) -> NoticeKind:
    """The notice kind of a URL segment (404 for anything else)."""
    try:
        return NoticeKind(kind)
    except ValueError:
        raise NotFound("通知书类型", kind[:20]) from None


def tracking_url(base_url: str, number: str) -> str:
    """The public tracking page of a case (the QR code's target)."""
    return f"{base_url.rstrip('/')}/track?{urlencode({'number': number})}"


def _events(kind: NoticeKind) -> tuple[str, ...]:
    return ("approved", "denied") if kind is NoticeKind.DECISION else (_EVENT_OF[kind],)


def _last_event(session: Session, case: Case, kind: NoticeKind) -> CaseEvent | None:
    return session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id,
                                                   CaseEvent.kind.in_(_events(kind)))
                           .order_by(CaseEvent.id.desc())).first()


def available(session: Session, case: Case) -> list[NoticeKind]:
    """The notices the case's history supports, in the order they were issued."""
    kinds = set(session.scalars(select(CaseEvent.kind).where(CaseEvent.case_id == case.id)))
    return [k for k in NoticeKind if kinds.intersection(_events(k))]


@dataclass(frozen=True)
class _Center:
    name: str
    phone: str


def _center(session: Session, case: Case) -> _Center:
    hall: Hall | None = case.receiving_hall
    if hall is None:  # online: the county center handles the pre-check
        hall = next((h for h in catalog_service.list_halls(session) if h.level == "county"), None)
    if hall is None:
        return _Center(COUNTY_CENTER, "")
    return _Center(hall.name, hall.phone)


def _day(at: dt.datetime) -> dt.date:
    return at.astimezone(CHINA_TZ).date()


def _lines(materials: Sequence[CaseMaterial], *, notes: bool) -> tuple[NoticeLine, ...]:
    return tuple(NoticeLine(m.name, m.note if notes else "") for m in materials)


def _received(case: Case) -> tuple[NoticeLine, ...]:
    return tuple(NoticeLine(m.name, MaterialStatus(m.status).label) for m in case.materials
                 if MaterialStatus(m.status) in SUPPLIED)


def _to_correct(case: Case, event: CaseEvent) -> tuple[NoticeLine, ...]:
    if case.state == CaseState.CORRECTION_REQUESTED.value:
        return _lines([m for m in case.materials if m.required and m.status == MaterialStatus.MISSING.value],
                      notes=True)
    # corrected since: the list the notice gave at the time (recorded on the event)
    names = [str(n) for n in (event.data or {}).get("missing", [])]
    notes = {m.name: m.note for m in case.materials}
    return tuple(NoticeLine(n, notes.get(n, "")) for n in names)


def case_notice(session: Session, case: Case, kind: NoticeKind | str, *, base_url: str,
                rating_url: str = "") -> CaseNotice:
    """What the notice of ``kind`` says about the case (409 when its history has no such notice)."""
    kind = parse_kind(str(kind))
    event = _last_event(session, case, kind)
    if event is None:
        raise Conflict(_NOT_IN_HISTORY[kind], code="notice_not_applicable", field="kind")
    center = _center(session, case)
    issued = _day(event.at)
    if kind is NoticeKind.ACCEPTANCE and case.accepted_on is not None:
        issued = case.accepted_on
    notice = CaseNotice(
        case_number=case.number, title=case.title, applicant_name=case.applicant_name,
        applicant_id_masked=mask_id_number(case.applicant_id), department=case.department.name,
        hall=center.name, hall_phone=center.phone, issued_on=issued,
        tracking_url=tracking_url(base_url, case.number), rating_url=rating_url,
        submitted_on=_day(case.submitted_at) if case.submitted_at else None,
        item_code=case.item.code if case.item is not None else (case.bundle.code if case.bundle else ""),
    )
    if kind is NoticeKind.ACCEPTANCE:
        deferred = [m for m in case.materials if m.status == MaterialStatus.DEFERRED.value]
        return dataclasses.replace(
            notice, promised_due=case.promised_due, legal_due=case.legal_due, due_provisional=case.due_provisional,
            materials_received=_received(case), missing=_lines(deferred, notes=True),
            deferral_due=case.deferral_due if deferred else None)
    if kind is NoticeKind.CORRECTION:
        return dataclasses.replace(notice, missing=_to_correct(case, event), materials_received=_received(case))
    if kind is NoticeKind.DECISION:
        return dataclasses.replace(
            notice, approved=case.decision == Decision.APPROVED, issued_on=case.decided_on or issued,
            reason=case.decision_reason or event.note, basis=case.decision_basis,
            certificate=_certificate_lines(session, case))
    # a refusal returns what was handed in on paper; library and uploaded materials stay where they are
    return dataclasses.replace(
        notice, reason=case.closed_reason or event.note,
        basis=case.closed_basis or str((event.data or {}).get("basis", "")),
        materials_received=tuple(NoticeLine(m.name) for m in case.materials
                                 if m.status == MaterialStatus.PAPER.value))


def _certificate_lines(session: Session, case: Case) -> tuple[tuple[str, str], ...]:
    cert = session.get(Certificate, case.result_certificate_id) if case.result_certificate_id else None
    if cert is None:
        return ()
    valid = f"{cert.expires_date:%Y年%m月%d日}" if cert.expires_date else "长期"
    return (("证照名称", cert.type.name), ("证照编号", cert.number), ("校验码", cert.check_code),
            ("发证机关", cert.issuer), ("有效期至", valid))


def notice_pdf(session: Session, case: Case, kind: NoticeKind | str, base_url: str, *,
               font_paths: Sequence[str] | None = None, rating_url: str = "") -> bytes:
    """The notice of ``kind`` as PDF bytes (409 when it does not fit the case's history); ``rating_url`` adds
    the case's rating QR code beside the tracking one."""
    parsed = parse_kind(str(kind))
    notice = case_notice(session, case, parsed, base_url=base_url, rating_url=rating_url)
    if parsed is NoticeKind.ACCEPTANCE:
        return documents.acceptance_notice(notice, font_paths=font_paths)
    if parsed is NoticeKind.CORRECTION:
        return documents.correction_notice(notice, font_paths=font_paths)
    if parsed is NoticeKind.DECISION:
        return documents.decision_notice(notice, font_paths=font_paths)
    return documents.refusal_notice(notice, font_paths=font_paths)
