"""流转 between the 三级 network's receiving points and the handling departments (the published service).

A case received at a town center or a village point (``Case.receiving_hall`` of level town/village) keeps its
paper file at that point until the point's window staff send it (:func:`send_materials`); the handling
department signs for it (:func:`receive_materials`). Once the case is decided, the department sends the result
back (:func:`send_result`) and the point signs for it (:func:`receive_result`), where the applicant picks it up
(``cases.deliver`` with ``pickup``, a visit at the point like any other). A result mailed or delivered
electronically does not travel back.

Who may move what is asked of the access policy: ``NETWORK_POINT`` (the point's side: window staff) and
``NETWORK_DEPARTMENT`` (the handling department, scoped to the case's department). Every move writes an audit
entry; the result's arrival tells the applicant through the outbox. Functions flush, never commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from onewindow.cases import service as cases_service
from onewindow.cases.models import Case, CaseDelivery
from onewindow.catalog.models import Department, Hall
from onewindow.config import Settings, get_settings
from onewindow.core import access, audit
from onewindow.core.access import Action
from onewindow.core.clock import Clock
from onewindow.core.errors import Conflict, NotFound, Problem, ValidationFailed
from onewindow.network.models import CaseTransfer
from onewindow.network.rules import (
    Leg,
    Location,
    TransferState,
    check_transition,
    locate,
    needs_transfer,
    result_returns,
)
from onewindow.notifications import service as notifications
from onewindow.notifications.templates import MessageKind
from onewindow.staff.models import User
from onewindow.staff.service import actor_of, viewer_of

NOTE_MAX = 200
# a case's file leaves the point once the case is accepted (a refused or withdrawn case keeps nothing to send)
SENDABLE_STATES = frozenset({"accepted", "in_review", "suspended", "approved", "denied"})
DECIDED_STATES = frozenset({"approved", "denied"})
RESULT_TOPIC = MessageKind.RESULT_READY.value


@dataclass(frozen=True)
class TransferRow:
    """One leg as pages show it: names, not ids."""

    leg: Leg
    state: TransferState
    note: str
    sent_by: str
    sent_at: object
    received_by: str | None
    received_at: object


@dataclass(frozen=True)
class FileStatus:
    """A case's place in the network: does it travel, where is it, its legs and what the viewer may do."""

    travels: bool
    hall: str
    department: str
    location: Location | None
    rows: list[TransferRow]
    moves: list[str]  # of send-materials, receive-materials, send-result, receive-result


def _case(session: Session, case_id: int) -> Case:
    return cases_service.get_case(session, case_id)


def _legs(session: Session, case_id: int) -> dict[Leg, CaseTransfer]:
    rows = session.scalars(select(CaseTransfer).where(CaseTransfer.case_id == case_id))
    return {Leg(r.leg): r for r in rows}


def _delivery_method(session: Session, case_id: int) -> str | None:
    return session.scalar(select(CaseDelivery.method).where(CaseDelivery.case_id == case_id))


def _require_travels(case: Case) -> Hall:
    hall = case.receiving_hall
    if hall is None or not needs_transfer(hall.level):
        raise Conflict("该办件在县政务服务中心或网上受理，无需流转", code="no_transfer_needed")
    return hall


def _note(note: str) -> str:
    text = note.strip()
    if len(text) > NOTE_MAX:
        raise ValidationFailed([Problem("note", "too_long", f"备注不能超过{NOTE_MAX}字")])
    return text


def _require(user: User, action: Action, session: Session, case: Case) -> None:
    access.require(viewer_of(user), action, cases_service.record_of(session, case))


def _lock(session: Session, case_id: int) -> Case:
    # two windows pressing 寄出 at once: the second waits on the case row, then sees the first's leg (409)
    session.execute(select(Case.id).where(Case.id == case_id).with_for_update())
    return _case(session, case_id)


def _send(session: Session, *, clock: Clock, user: User, case_id: int, leg: Leg, action: Action,
          note: str) -> CaseTransfer:
    text = _note(note)
    case = _lock(session, case_id)
    _require(user, action, session, case)
    hall = _require_travels(case)
    legs = _legs(session, case.id)
    current = legs.get(leg)
    check_transition(TransferState(current.state) if current else None, TransferState.SENT, leg)
    if leg is Leg.MATERIALS and case.state not in SENDABLE_STATES:
        raise Conflict("办件受理后才能流转申请材料", code="transfer_not_accepted")
    if leg is Leg.RESULT:
        if not result_returns(_delivery_method(session, case.id)):
            raise Conflict("办理结果已邮寄或电子送达，无需回传", code="transfer_delivered_directly")
        if case.state not in DECIDED_STATES:
            raise Conflict("办件作出决定后才能回传办理结果", code="transfer_not_decided")
        materials = legs.get(Leg.MATERIALS)
        if materials is None or materials.state != TransferState.RECEIVED:
            raise Conflict("部门尚未签收申请材料", code="transfer_materials_outstanding")
    row = CaseTransfer(case_id=case.id, leg=leg.value, state=TransferState.SENT.value, hall_id=hall.id,
                       department_id=case.department_id, note=text, sent_by=user.id, sent_at=clock.now())
    session.add(row)
    session.flush()
    audit.record(session, clock=clock, actor=actor_of(user), action=f"network.{leg.value}_sent",
                 entity_type="case", entity_id=case.number, after={"leg": leg.value, "hall": hall.code, "note": text})
    return row


def _receive(session: Session, *, clock: Clock, user: User, case_id: int, leg: Leg, action: Action) -> CaseTransfer:
    case = _lock(session, case_id)
    _require(user, action, session, case)
    _require_travels(case)
    row = _legs(session, case.id).get(leg)
    check_transition(TransferState(row.state) if row else None, TransferState.RECEIVED, leg)
    if row is None:  # check_transition refused a leg never sent; this satisfies the type checker
        raise Conflict(f"{leg.label}尚未寄出，无法签收", code="transfer_not_sent")
    row.state, row.received_by, row.received_at = TransferState.RECEIVED.value, user.id, clock.now()
    session.flush()
    audit.record(session, clock=clock, actor=actor_of(user), action=f"network.{leg.value}_received",
                 entity_type="case", entity_id=case.number, after={"leg": leg.value})
    return row


def send_materials(session: Session, *, clock: Clock, user: User, case_id: int, note: str = "") -> CaseTransfer:
    """The receiving point sends an accepted case's paper materials to the handling department."""
    return _send(session, clock=clock, user=user, case_id=case_id, leg=Leg.MATERIALS, action=Action.NETWORK_POINT,
                 note=note)


def receive_materials(session: Session, *, clock: Clock, user: User, case_id: int) -> CaseTransfer:
    """The handling department signs for the materials sent from the receiving point."""
    return _receive(session, clock=clock, user=user, case_id=case_id, leg=Leg.MATERIALS,
                    action=Action.NETWORK_DEPARTMENT)


def send_result(session: Session, *, clock: Clock, user: User, case_id: int, note: str = "") -> CaseTransfer:
    """The handling department sends a decided case's result back to the receiving point for pickup."""
    return _send(session, clock=clock, user=user, case_id=case_id, leg=Leg.RESULT, action=Action.NETWORK_DEPARTMENT,
                 note=note)


def receive_result(session: Session, *, clock: Clock, user: User, case_id: int,
                   settings: Settings | None = None) -> CaseTransfer:
    """The receiving point signs for the result; the applicant is told (SMS template) to pick it up there."""
    row = _receive(session, clock=clock, user=user, case_id=case_id, leg=Leg.RESULT, action=Action.NETWORK_POINT)
    case = _case(session, case_id)
    hall = case.receiving_hall
    if hall is not None:
        conf = settings or get_settings()
        where = f"送达{hall.name}，请携带身份证件前往领取（{hall.address or hall.name}）"
        notifications.notify(session, clock=clock, kind=MessageKind.RESULT_READY, phone=case.applicant_phone,
                             fields={"case": case.number, "item": case.title, "where": where},
                             base_url=conf.base_url, secret=conf.secret_key,
                             payload={"case_id": case.id, "hall": hall.code}, recipient_user_id=case.applicant_user_id)
    return row


MOVES: dict[str, tuple[Leg, TransferState, Action]] = {
    "send-materials": (Leg.MATERIALS, TransferState.SENT, Action.NETWORK_POINT),
    "receive-materials": (Leg.MATERIALS, TransferState.RECEIVED, Action.NETWORK_DEPARTMENT),
    "send-result": (Leg.RESULT, TransferState.SENT, Action.NETWORK_DEPARTMENT),
    "receive-result": (Leg.RESULT, TransferState.RECEIVED, Action.NETWORK_POINT),
}


def move(session: Session, *, clock: Clock, user: User, case_id: int, name: str, note: str = "",
         settings: Settings | None = None) -> CaseTransfer:
    """One of :data:`MOVES` by its name (the pages' and the API's single entry)."""
    match name:
        case "send-materials":
            return send_materials(session, clock=clock, user=user, case_id=case_id, note=note)
        case "receive-materials":
            return receive_materials(session, clock=clock, user=user, case_id=case_id)
        case "send-result":
            return send_result(session, clock=clock, user=user, case_id=case_id, note=note)
        case "receive-result":
            return receive_result(session, clock=clock, user=user, case_id=case_id, settings=settings)
    raise NotFound("流转操作", name)


def _names(session: Session, ids: Sequence[int]) -> dict[int, str]:
    if not ids:
        return {}
    return {u.id: u.display_name for u in session.scalars(select(User).where(User.id.in_(set(ids))))}


def file_status(session: Session, *, user: User, case: Case) -> FileStatus:
    """Where the case's file is, its legs with names, and the moves the user may make now (view checked)."""
    cases_service.require_view(session, user, case)
    hall = case.receiving_hall
    department = session.get(Department, case.department_id)
    dept_name = department.name if department else ""
    if hall is None or not needs_transfer(hall.level):
        return FileStatus(False, hall.name if hall else "", dept_name, None, [], [])
    legs = _legs(session, case.id)
    method = _delivery_method(session, case.id)
    names = _names(session, [r.sent_by for r in legs.values()] + [r.received_by for r in legs.values()
                                                                 if r.received_by is not None])
    rows = [TransferRow(leg, TransferState(r.state), r.note, names.get(r.sent_by, ""), r.sent_at,
                        names.get(r.received_by) if r.received_by else None, r.received_at)
            for leg in Leg if (r := legs.get(leg)) is not None]
    state_of = {leg: TransferState(r.state) for leg, r in legs.items()}
    location = locate(hall=hall.name, department=dept_name, materials=state_of.get(Leg.MATERIALS),
                      result=state_of.get(Leg.RESULT), delivery_method=method)
    record = cases_service.record_of(session, case)
    viewer = viewer_of(user)
    moves = [name for name, (leg, target, action) in MOVES.items()
             if _possible(case, state_of, leg, target, method) and access.can(viewer, action, record)]
    return FileStatus(True, hall.name, dept_name, location, rows, moves)


def _possible(case: Case, state_of: dict[Leg, TransferState], leg: Leg, target: TransferState,
              method: str | None) -> bool:
    current = state_of.get(leg)
    if (current, target) not in {(None, TransferState.SENT), (TransferState.SENT, TransferState.RECEIVED)}:
        return False
    if leg is Leg.MATERIALS and target is TransferState.SENT:
        return case.state in SENDABLE_STATES
    if leg is Leg.RESULT and target is TransferState.SENT:
        return (case.state in DECIDED_STATES and state_of.get(Leg.MATERIALS) is TransferState.RECEIVED
                and result_returns(method))
    return True

