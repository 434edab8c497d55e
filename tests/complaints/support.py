"""Helpers of the complaint tests: demo departments and staff, and a filed complaint."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from onewindow.catalog.models import Department
from onewindow.complaints import service
from onewindow.complaints.models import Complaint
from onewindow.complaints.service import ComplaintIn
from onewindow.core.clock import Clock
from tests.factories import staff

PHONE = "13912345678"


def department(session: Session, code: str) -> Department:
    """A demo department by code."""
    found = session.scalars(select(Department).where(Department.code == code)).first()
    assert found is not None
    return found


def complaint_in(**overrides: object) -> ComplaintIn:
    """A real-name 投诉 about a window's conduct."""
    values: dict[str, object] = {
        "category": "complain", "subject": "营业执照窗口多次要求补交同一份材料",
        "content": "上周两次到市场监管窗口办理营业执照变更，每次都被要求补交不同材料。",
        "complainant_name": "赵投诉", "complainant_phone": PHONE, "item_code": ""}
    values.update(overrides)
    return ComplaintIn(**values)  # type: ignore[arg-type]


def file_at_window(session: Session, clock: Clock, **overrides: object) -> Complaint:
    """A complaint filed by the demo clerk at the 有诉即办 window."""
    return service.file_complaint(session, clock=clock, data=complaint_in(**overrides), channel="window",
                                  user=staff(session, "clerk"))
