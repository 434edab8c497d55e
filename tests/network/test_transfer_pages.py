"""The case page shows where a town point's file is and offers each side its 流转 move; refusals write nothing."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from onewindow.core.clock import FixedClock
from onewindow.network.models import CaseTransfer
from tests.conftest import Browser
from tests.factories import CLAIM, ZHANG, approver_for, handed_in, staff, window


def test_the_point_sends_and_the_department_signs_for_the_file_from_the_case_page(
        session: Session, clock: FixedClock, login: Callable[[str], Browser]) -> None:
    case = window(session, staff(session, "clerk_town"), ZHANG, CLAIM, handed_in(session, CLAIM), clock=clock,
                  proxy=True)
    approver = approver_for(session, case).username
    point = login("clerk_town")
    page = point.client.get(f"/cases/{case.id}")
    assert page.status_code == 200 and "data-file-location" in page.text and "待流转" in page.text
    assert f'action="/network/cases/{case.id}/send-materials"' in page.text

    sent = point.post(f"/network/cases/{case.id}/send-materials", {"note": "申请表原件"})
    assert sent.status_code == 303 and sent.headers["location"].startswith(f"/cases/{case.id}")
    again = point.post(f"/network/cases/{case.id}/send-materials", {"note": "重复"})
    assert again.status_code == 409 and "不能重复寄出" in again.text

    department = login(approver)
    shown = department.client.get(f"/cases/{case.id}")
    assert "流转中" in shown.text and "receive-materials" in shown.text and "申请表原件" in shown.text
    assert department.post(f"/network/cases/{case.id}/receive-materials").status_code == 303
    fragment = department.client.get(f"/network/cases/{case.id}", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert staff(session, approver).display_name in fragment.text
    assert session.scalars(select(CaseTransfer.state).where(CaseTransfer.case_id == case.id)).one() == "received"


def test_a_refused_move_shows_the_reason_and_writes_nothing(session: Session, clock: FixedClock,
                                                           login: Callable[[str], Browser]) -> None:
    case = window(session, staff(session, "clerk_town"), ZHANG, CLAIM, handed_in(session, CLAIM), clock=clock,
                  proxy=True)
    point = login("clerk_town")
    too_long = point.post(f"/network/cases/{case.id}/send-materials", {"note": "长" * 201})
    assert too_long.status_code == 422 and "备注不能超过200字" in too_long.text
    not_sent = login(approver_for(session, case).username).post(f"/network/cases/{case.id}/receive-materials")
    assert not_sent.status_code == 409 and "尚未寄出" in not_sent.text
    assert point.post(f"/network/cases/{case.id}/nonsense").status_code == 404
    assert session.scalars(select(CaseTransfer).where(CaseTransfer.case_id == case.id)).first() is None
