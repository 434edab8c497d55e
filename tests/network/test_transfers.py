"""流转 in the 三级 network: a town point's case sends its paper file to the department, the result comes back."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from onewindow.cases import service as cases_service
from onewindow.cases.models import Case
from onewindow.core.audit import AuditEntry
from onewindow.core.clock import FixedClock
from onewindow.core.errors import Conflict, PermissionDenied, ValidationFailed
from onewindow.network import service
from onewindow.network.models import CaseTransfer
from onewindow.notifications.models import OutboxMessage
from tests.factories import CLAIM, ZHANG, approve, approver_for, handed_in, staff, window


def _town_case(session: Session, clock: FixedClock) -> Case:
    return window(session, staff(session, "clerk_town"), ZHANG, CLAIM, handed_in(session, CLAIM), clock=clock,
                  proxy=True)  # a county item received at the town center: 代收代办


def _location(session: Session, case: Case, username: str = "admin") -> str:
    status = service.file_status(session, user=staff(session, username), case=case)
    assert status.location is not None
    return status.location.text


def test_materials_travel_to_the_department_and_the_result_comes_back_for_pickup(session: Session,
                                                                                   clock: FixedClock) -> None:
    case = _town_case(session, clock)
    point, approver = staff(session, "clerk_town"), approver_for(session, case)
    assert "待流转" in _location(session, case)
    assert service.file_status(session, user=point, case=case).moves == ["send-materials"]

    service.send_materials(session, clock=clock, user=point, case_id=case.id, note="申请表、银行卡复印件")
    assert "流转中" in _location(session, case)
    assert service.file_status(session, user=approver, case=case).moves == ["receive-materials"]
    service.receive_materials(session, clock=clock, user=approver, case_id=case.id)

    approve(session, approver, case, clock)
    service.send_result(session, clock=clock, user=approver, case_id=case.id)
    assert "回传中" in _location(session, case)
    service.receive_result(session, clock=clock, user=point, case_id=case.id)
    assert "待申请人领取" in _location(session, case)

    status = service.file_status(session, user=point, case=case)
    assert [(r.leg.value, r.state.value) for r in status.rows] == [("materials", "received"), ("result", "received")]
    assert status.rows[0].sent_by == point.display_name and status.rows[0].received_by == approver.display_name
    message = session.scalars(select(OutboxMessage).where(OutboxMessage.topic == service.RESULT_TOPIC)).one()
    assert message.recipient == ZHANG.phone and case.number in message.body
    actions = set(session.scalars(select(AuditEntry.action).where(AuditEntry.entity_id == case.number)))
    assert {"network.materials_sent", "network.materials_received", "network.result_sent",
            "network.result_received"} <= actions


def test_a_leg_is_sent_once_and_signed_for_once(session: Session, clock: FixedClock) -> None:
    case = _town_case(session, clock)
    point, approver = staff(session, "clerk_town"), approver_for(session, case)
    with pytest.raises(Conflict) as not_sent:
        service.receive_materials(session, clock=clock, user=approver, case_id=case.id)
    assert not_sent.value.code == "transfer_not_sent"
    service.send_materials(session, clock=clock, user=point, case_id=case.id)
    with pytest.raises(Conflict) as twice:
        service.send_materials(session, clock=clock, user=point, case_id=case.id)
    assert twice.value.code == "transfer_already_sent"
    with pytest.raises(Conflict) as early:  # the result waits for the decision
        service.send_result(session, clock=clock, user=approver, case_id=case.id)
    assert early.value.code == "transfer_not_decided"


def test_only_the_handling_department_signs_for_the_file(session: Session, clock: FixedClock) -> None:
    case = _town_case(session, clock)
    service.send_materials(session, clock=clock, user=staff(session, "clerk_town"), case_id=case.id)
    for username in ("approver_scjg", "clerk", "supervisor"):
        with pytest.raises(PermissionDenied):
            service.receive_materials(session, clock=clock, user=staff(session, username), case_id=case.id)
    assert session.scalars(select(CaseTransfer.state).where(CaseTransfer.case_id == case.id)).one() == "sent"


def test_a_county_hall_case_does_not_travel(session: Session, clock: FixedClock) -> None:
    case = window(session, staff(session, "clerk"), ZHANG, CLAIM, handed_in(session, CLAIM), clock=clock)
    assert not service.file_status(session, user=staff(session, "clerk"), case=case).travels
    with pytest.raises(Conflict) as exc:
        service.send_materials(session, clock=clock, user=staff(session, "clerk"), case_id=case.id)
    assert exc.value.code == "no_transfer_needed"


def test_a_mailed_result_stays_with_the_department(session: Session, clock: FixedClock) -> None:
    case = _town_case(session, clock)
    point, approver = staff(session, "clerk_town"), approver_for(session, case)
    service.send_materials(session, clock=clock, user=point, case_id=case.id)
    service.receive_materials(session, clock=clock, user=approver, case_id=case.id)
    approve(session, approver, case, clock)
    cases_service.deliver(session, clock=clock, user=approver, case_id=case.id, expected_version=case.version,
                          data=cases_service.DeliveryIn(method="mail", recipient="张伟", address="获嘉县城关镇一号",
                                                        courier="EMS", tracking_number="EA123456789CN"))
    with pytest.raises(Conflict) as exc:
        service.send_result(session, clock=clock, user=approver, case_id=case.id)
    assert exc.value.code == "transfer_delivered_directly"
    assert "邮寄" in _location(session, case)


def test_a_too_long_note_writes_nothing(session: Session, clock: FixedClock) -> None:
    case = _town_case(session, clock)
    with pytest.raises(ValidationFailed) as exc:
        service.send_materials(session, clock=clock, user=staff(session, "clerk_town"), case_id=case.id,
                               note="长" * 201)
    assert exc.value.field == "note" and "200" in exc.value.message
    assert session.scalars(select(CaseTransfer).where(CaseTransfer.case_id == case.id)).first() is None


def test_a_village_point_receiving_for_the_county_sends_its_file_too(session: Session, clock: FixedClock) -> None:
    case = window(session, staff(session, "clerk_town"), ZHANG, CLAIM, handed_in(session, CLAIM), clock=clock,
                  hall_code="HJ-NGC", proxy=True)  # a village 便民服务站 of the demo county
    assert case.receiving_hall is not None and case.receiving_hall.level == "village"
    service.send_materials(session, clock=clock, user=staff(session, "clerk_town"), case_id=case.id)
    assert _location(session, case).startswith(f"申请材料流转中：{case.receiving_hall.name}")
    assert cases_service.visit_count(session, case) == 1  # the visit at the village counts
