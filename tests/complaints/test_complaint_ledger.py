"""The 问题工作台账 (Excel) and the 问题工作单 (PDF): scoped, filtered, personal numbers masked unless allowed."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy.orm import Session

from onewindow.complaints import ledger, service
from onewindow.config import Settings
from onewindow.core.clock import FixedClock
from onewindow.core.errors import PermissionDenied, ValidationFailed
from onewindow.staff.service import viewer_of
from tests.complaints.ledger_support import Lead, at, department_id, make_order, user
from tests.complaints.support import PHONE, file_at_window
from tests.factories import staff

NOV = ledger.parse_filters(date_from=dt.date(2026, 11, 1), date_to=dt.date(2026, 11, 30))


@pytest.fixture
def orders(session: Session) -> None:
    """Three November orders (SCJG 投诉 overdue, WJW 咨询, an unassigned 建议) and one of October."""
    make_order(session, dept="SCJG", accepted_at=at(11, 2), due_on=dt.date(2026, 11, 20), state="handling",
               subject="营业执照窗口多次要求补交材料", content="联系电话 13812345678，请尽快回复",
               leads=(Lead("SCJG", at(11, 2, 10), signed_at=at(11, 2, 15)),))
    make_order(session, dept="WJW", accepted_at=at(11, 5), due_on=dt.date(2026, 11, 9), category="consult",
               state="replied", replied_at=at(11, 6), subject="出生医学证明补办")
    make_order(session, dept=None, accepted_at=at(11, 7), due_on=dt.date(2026, 11, 21), category="suggest",
               subject="建议增加周末办理时段")
    make_order(session, dept="SCJG", accepted_at=at(10, 30), due_on=dt.date(2026, 11, 20), subject="十月的诉求")


def _sheet(data: bytes) -> list[list[object]]:
    ws = load_workbook(io.BytesIO(data)).worksheets[0]
    return [list(r) for r in ws.iter_rows(values_only=True)]


@pytest.mark.usefixtures("orders")
def test_the_ledger_lists_the_range_with_masked_numbers(session: Session) -> None:
    rows = _sheet(ledger.ledger(session, viewer=viewer_of(user(session, "supervisor")), filters=NOV))
    assert str(rows[0][0]).startswith("有诉即办问题工作台账（受理日期 2026-11-01 至 2026-11-30）")
    header, body = rows[1], rows[2:]
    assert header[:4] == ["工单编号", "12345工单号", "来源渠道", "诉求类型"]
    mine = [r for r in body if r[5] in {"营业执照窗口多次要求补交材料", "出生医学证明补办", "建议增加周末办理时段"}]
    assert [r[5] for r in mine] == ["营业执照窗口多次要求补交材料", "出生医学证明补办", "建议增加周末办理时段"]
    first = dict(zip(header, mine[0], strict=True))
    assert first["联系电话"] == "138****5678" and "13812345678" not in str(first["诉求内容"])
    assert first["主办单位"] == "获嘉县市场监督管理局" and first["签收时间"] == "2026-11-02 15:00"
    assert first["派单时间"] == "2026-11-02 10:00" and first["状态"] == "办理中"
    assert "十月的诉求" not in [r[5] for r in body]


@pytest.mark.usefixtures("orders")
def test_the_ledger_filters_and_a_department_head_gets_their_department(session: Session) -> None:
    consult = ledger.parse_filters(date_from=dt.date(2026, 11, 1), date_to=dt.date(2026, 11, 30), category="consult")
    rows = _sheet(ledger.ledger(session, viewer=viewer_of(user(session, "admin")), filters=consult))[2:]
    assert {r[3] for r in rows} == {"咨询"} and "出生医学证明补办" in [r[5] for r in rows]
    head = _sheet(ledger.ledger(session, viewer=viewer_of(user(session, "head_scjg")), filters=NOV))[2:]
    assert head and {r[11] for r in head} == {"获嘉县市场监督管理局"}
    other = ledger.parse_filters(date_from=dt.date(2026, 11, 1), date_to=dt.date(2026, 11, 30),
                                 department_id=department_id(session, "WJW"))
    assert _sheet(ledger.ledger(session, viewer=viewer_of(user(session, "head_scjg")), filters=other))[2:] == []
    with pytest.raises(PermissionDenied):
        ledger.ledger(session, viewer=viewer_of(user(session, "clerk")), filters=NOV)
    with pytest.raises(ValidationFailed) as caught:
        ledger.parse_filters(date_from=dt.date(2026, 11, 30), date_to=dt.date(2026, 11, 1), state="nonsense")
    assert [p.field for p in caught.value.problems] == ["state"]


def _pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_the_work_order_pdf_shows_the_phone_whole_only_to_the_handling_department(
        session: Session, clock: FixedClock) -> None:
    c = file_at_window(session, clock)
    admin = staff(session, "admin")
    service.dispatch(session, clock=clock, user=admin, complaint_id=c.id, expected_version=c.version,
                     lead_department_id=department_id(session, "SCJG"))
    service.sign(session, clock=clock, user=staff(session, "head_scjg"), complaint_id=c.id, expected_version=None)
    settings = Settings(secret_key="x" * 32, base_url="http://hall.example")
    _, as_admin = ledger.worksheet_pdf(session, user=admin, complaint_id=c.id, settings=settings,
                                       printed_at=clock.now())
    text = _pdf_text(as_admin)
    assert "有诉即办问题工作单" in text and c.number in text and "获嘉县市场监督管理局" in text
    assert "签收" in text and "139****5678" in text and PHONE not in text
    _, as_head = ledger.worksheet_pdf(session, user=staff(session, "head_scjg"), complaint_id=c.id,
                                      settings=settings, printed_at=clock.now())
    assert PHONE in _pdf_text(as_head)
    with pytest.raises(PermissionDenied):
        ledger.worksheet_pdf(session, user=staff(session, "head_wjw"), complaint_id=c.id, settings=settings,
                             printed_at=clock.now())
