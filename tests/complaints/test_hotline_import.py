"""12345 import on the database: all or nothing, limits from the working-day calendar, duplicates skipped."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onewindow.complaints import hotline, importer
from onewindow.complaints.models import Complaint, ComplaintAssignment, ComplaintEvent
from onewindow.complaints.rules import Limits
from onewindow.core.audit import AuditEntry
from onewindow.core.clock import CHINA_TZ, FixedClock
from onewindow.core.errors import Conflict, ValidationFailed

LIMITS = Limits()
BASE = {"accepted_at": "2026-09-30 16:20", "urgent": "否", "content": "具体情况见来电记录。",
        "complainant_name": "王先生", "complainant_phone": "13812345678"}
ROWS = [
    # 咨询, 2 working days from the day after 受理: 10-01…10-07 are the National Day holiday → 10-08, 10-09
    {**BASE, "external_number": "H-0001", "category": "咨询", "subject": "医保报销比例咨询"},
    # 求助, 10 working days: 10-08, 10-09, 10-10 (a make-up Saturday), 10-12 … 10-16, 10-19, 10-20
    {**BASE, "external_number": "H-0002", "category": "求助", "subject": "路灯损坏", "department": "SCJG"},
    # urgent: the same day, whatever the category
    {**BASE, "external_number": "H-0003", "category": "投诉", "subject": "窗口态度差", "urgent": "是"},
]


def _file(rows: list[dict[str, str]]) -> tuple[hotline.RawFile, bytes]:
    data = hotline.to_csv(rows).encode("utf-8")
    return hotline.read_bytes(data, "12345.csv"), data


def _import(session: Session, clock: FixedClock, rows: list[dict[str, str]]) -> importer.ImportResult:
    raw, data = _file(rows)
    return importer.import_orders(session, clock=clock, user=None, raw=raw, content=data, limits=LIMITS,
                                  source="12345.csv")


def _count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_orders_get_numbers_limits_events_and_the_lead_department(session: Session, clock: FixedClock) -> None:
    result = _import(session, clock, ROWS)
    assert (result.rows, result.created, result.skipped, result.dispatched) == (3, 3, 0, 1)
    orders = {c.external_number: c for c in session.scalars(
        select(Complaint).where(Complaint.external_number.in_(["H-0001", "H-0002", "H-0003"])))}
    end = dt.time(23, 59, 59)
    assert orders["H-0001"].due_at == dt.datetime.combine(dt.date(2026, 10, 9), end, CHINA_TZ)
    assert orders["H-0002"].due_at == dt.datetime.combine(dt.date(2026, 10, 20), end, CHINA_TZ)
    assert orders["H-0003"].due_at == dt.datetime.combine(dt.date(2026, 9, 30), end, CHINA_TZ)
    assert [orders[n].limit_days for n in ("H-0001", "H-0002", "H-0003")] == [2, 10, 0]
    assert {o.number for o in orders.values()} == {"YS202609300001", "YS202609300002", "YS202609300003"}
    assert (result.first_number, result.last_number) == ("YS202609300001", "YS202609300003")
    lead = orders["H-0002"]
    assert (lead.state, lead.channel, lead.lead_department.code) == ("dispatched", "hotline", "SCJG")
    assert orders["H-0001"].state == "accepted" and orders["H-0001"].lead_department_id is None
    [assignment] = session.scalars(select(ComplaintAssignment).where(ComplaintAssignment.complaint_id == lead.id))
    assert assignment.role == "lead" and assignment.active and assignment.signed_at is None
    assert assignment.sign_due_at == clock.now() + dt.timedelta(hours=24)
    kinds = session.scalars(select(ComplaintEvent.kind).where(ComplaintEvent.complaint_id.in_(
        [o.id for o in orders.values()])))
    assert list(kinds) == ["imported"] * 3
    entry = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert entry is not None and entry.action == "complaints.imported"
    assert entry.after is not None and entry.after["created"] == 3 and entry.after["sha256"] == result.digest


def test_a_second_import_of_the_same_file_adds_nothing(session: Session, clock: FixedClock) -> None:
    _import(session, clock, ROWS)
    before = (_count(session, Complaint), _count(session, ComplaintEvent), _count(session, ComplaintAssignment))
    again = _import(session, clock, [*ROWS, {**BASE, "external_number": "H-0004", "category": "建议",
                                            "subject": "建议延长周末办公时间"}])
    assert (again.rows, again.created, again.skipped) == (4, 1, 3)
    after = (_count(session, Complaint), _count(session, ComplaintEvent), _count(session, ComplaintAssignment))
    assert after == (before[0] + 1, before[1] + 1, before[2])
    assert session.scalar(select(Complaint.number).where(Complaint.external_number == "H-0004")) == \
        "YS202609300004"  # the day's sequence goes on


def test_one_bad_row_writes_nothing_and_names_the_row_and_field(session: Session, clock: FixedClock) -> None:
    counts = (_count(session, Complaint), _count(session, ComplaintEvent), _count(session, AuditEntry))
    bad = [*ROWS, {**BASE, "external_number": "H-0009", "category": "投诉", "subject": "x", "department": "无此局"}]
    with pytest.raises(ValidationFailed) as caught:
        _import(session, clock, bad)
    assert [(p.field, p.code) for p in caught.value.problems] == [("rows[5].department", "unknown_department")]
    assert "第 5 行（承办单位）" in caught.value.problems[0].message
    assert (_count(session, Complaint), _count(session, ComplaintEvent), _count(session, AuditEntry)) == counts


def test_a_number_taken_meanwhile_is_a_conflict(session: Session, clock: FixedClock,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    _import(session, clock, ROWS[:1])  # YS202609300001
    # a concurrent writer took the day's numbers after this import read them: it believes the day is empty
    monkeypatch.setattr(importer, "_last_sequences", lambda _session, _days: {})
    with pytest.raises(Conflict) as caught:
        _import(session, clock, [{**BASE, "external_number": "H-0100", "category": "咨询", "subject": "同日另一件"}])
    assert caught.value.status == 409 and caught.value.code == "import_conflict"
