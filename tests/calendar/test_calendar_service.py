"""Calendar service: overrides and official notices in the database, audited, all-or-nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onewindow.calendar import service
from onewindow.calendar.models import CalendarNotice, HolidayOverride
from onewindow.calendar.service import CalendarChange, NoticeRow
from onewindow.calendar.workdays import DueDate, YearSource
from onewindow.core.audit import Actor, AuditEntry
from onewindow.core.clock import FixedClock
from onewindow.core.errors import NotFound, ValidationFailed

D = dt.date
ADMIN = Actor(1, "admin")

NOTICE_2027_CSV = """date,kind,name
2027-01-01,休,元旦
2027-01-02,休,元旦
2027-01-03,休,元旦
2027-02-05,休,春节
2027-02-06,休,春节
2027-02-07,休,春节
2027-02-08,休,春节
2027-02-09,休,春节
2027-02-10,休,春节
2027-02-11,休,春节
2027-02-12,休,春节
2027-02-13,休,春节
2027-02-20,班,春节调休上班
"""


def audit_count(session: Session, action: str) -> int:
    return session.execute(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == action)
                           ).scalar_one()


@pytest.fixture
def changes() -> Iterator[list[CalendarChange]]:
    """Register a listener on the calendar-change hook for the test."""
    seen: list[CalendarChange] = []

    def listener(session: Session, change: CalendarChange) -> None:
        # Listeners see the change already flushed: a fresh calendar includes it.
        service.build_calendar(session)
        seen.append(change)

    service.on_calendar_changed.append(listener)
    yield seen
    service.on_calendar_changed.remove(listener)


def test_calendar_from_an_empty_table_is_provisional_beyond_2026(session: Session) -> None:
    cal = service.build_calendar(session)
    assert cal.year_source(2026) is YearSource.OFFICIAL
    assert cal.add_working_days(D(2026, 12, 25), 20) == DueDate(D(2027, 1, 25), True)


def test_importing_a_csv_notice_makes_2027_official_and_is_audited(
        session: Session, clock: FixedClock, changes: list[CalendarChange]) -> None:
    rows = service.parse_notice_csv(NOTICE_2027_CSV).rows
    result = service.import_notice(session, clock=clock, actor=ADMIN, year=2027,
                                   title="国务院办公厅关于2027年部分节假日安排的通知", rows=rows)
    assert (result.holidays, result.workdays, result.replaced) == (12, 1, False)
    assert result.notice.year == 2027
    cal = service.build_calendar(session)
    assert cal.year_source(2027) is YearSource.NOTICE
    assert cal.add_working_days(D(2026, 12, 25), 20) == DueDate(D(2027, 1, 25), False)
    assert cal.is_workday(D(2027, 2, 20))
    assert audit_count(session, "calendar.notice_imported") == 1
    entry = session.execute(select(AuditEntry).where(AuditEntry.action == "calendar.notice_imported")
                            ).scalar_one()
    assert entry.entity_id == "2027" and entry.before is None and entry.actor == "admin"
    assert entry.after is not None and len(entry.after["days"]) == 13
    assert [c.action for c in changes] == ["calendar.notice_imported"]
    assert changes[0].years == frozenset({2027}) and D(2027, 2, 20) in changes[0].dates


def test_a_notice_with_bad_rows_reports_every_problem_and_writes_nothing(
        session: Session, clock: FixedClock, changes: list[CalendarChange]) -> None:
    text = """date,kind,name
2027-01-01,休,元旦
2026-12-31,休,元旦
2027-02-30,休,春节
2027-01-01,假日,元旦
2027-03-03,班,
2027/2/20,班,春节调休上班
"""
    with pytest.raises(ValidationFailed) as caught:
        service.import_notice(session, clock=clock, actor=ADMIN, year=2027, title="通知",
                              rows=service.parse_notice_csv(text).rows)
    found = [(p.field, p.code) for p in caught.value.problems]
    assert found == [
        ("row 3", "date_outside_year"),
        ("row 4", "invalid_date"),
        ("row 5", "duplicate_date"),
        ("row 5", "invalid_kind"),
        ("row 6", "workday_not_weekend"),
    ]
    assert "与第 2 行重复" in caught.value.problems[2].message
    assert session.execute(select(func.count()).select_from(HolidayOverride)).scalar_one() == 0
    assert session.execute(select(func.count()).select_from(CalendarNotice)).scalar_one() == 0
    assert audit_count(session, "calendar.notice_imported") == 0
    assert changes == []


def test_notice_level_problems(session: Session, clock: FixedClock) -> None:
    with pytest.raises(ValidationFailed) as caught:
        service.import_notice(session, clock=clock, actor=ADMIN, year=1999, title="  ", rows=[])
    assert {(p.field, p.code) for p in caught.value.problems} == {
        ("year", "invalid_year"), ("title", "title_required"), ("file", "empty_notice")}
    with pytest.raises(ValidationFailed) as caught:
        service.import_notice(session, clock=clock, actor=ADMIN, year=2027, title="通知",
                              rows=[NoticeRow(2, "2027-02-20", "班", "")])
    assert caught.value.code == "no_holidays"


def test_reimporting_a_notice_replaces_the_year(session: Session, clock: FixedClock) -> None:
    service.set_override(session, clock=clock, actor=ADMIN, day_date=D(2027, 3, 1), kind="holiday", name="试")
    service.import_notice(session, clock=clock, actor=ADMIN, year=2027, title="第一版",
                          rows=service.parse_notice_csv(NOTICE_2027_CSV).rows)
    result = service.import_notice(session, clock=clock, actor=ADMIN, year=2027, title="更正版",
                                   rows=[{"date": "2027-01-01", "kind": "holiday", "name": "元旦"}])
    assert result.replaced
    assert [(o.day_date, o.kind) for o in service.list_overrides(session, 2027)] == [(D(2027, 1, 1), "holiday")]
    assert [n.title for n in service.list_notices(session)] == ["更正版"]
    entries = session.execute(select(AuditEntry).where(AuditEntry.action == "calendar.notice_imported")
                              .order_by(AuditEntry.id)).scalars().all()
    assert entries[0].before == {"title": None, "days": [{"day_date": "2027-03-01", "kind": "holiday",
                                                          "name": "试"}]}
    second = entries[1].before
    assert second is not None and second["title"] == "第一版" and len(second["days"]) == 13


def test_set_and_delete_an_override(session: Session, clock: FixedClock, changes: list[CalendarChange]) -> None:
    day = D(2026, 2, 13)
    service.set_override(session, clock=clock, actor=ADMIN, day_date=day, kind="休", name="县政府加休")
    assert not service.build_calendar(session).is_workday(day)
    service.set_override(session, clock=clock, actor=ADMIN, day_date=day, kind="休", name="县政府加休")  # no-op
    service.set_override(session, clock=clock, actor=ADMIN, day_date=day, kind="workday", name="")
    assert service.build_calendar(session).day_info(day).name == "调休上班"
    service.delete_override(session, clock=clock, actor=ADMIN, day_date=day)
    info = service.build_calendar(session).day_info(day)
    assert info.workday and info.name == ""
    assert audit_count(session, "calendar.override_set") == 2
    assert audit_count(session, "calendar.override_deleted") == 1
    assert [c.dates for c in changes] == [frozenset({day})] * 3
    entry = session.execute(select(AuditEntry).where(AuditEntry.action == "calendar.override_deleted")
                            ).scalar_one()
    assert entry.before == {"day_date": "2026-02-13", "kind": "workday", "name": ""} and entry.after is None


def test_override_input_is_validated(session: Session, clock: FixedClock) -> None:
    with pytest.raises(ValidationFailed) as caught:
        service.set_override(session, clock=clock, actor=ADMIN, day_date=D(2027, 1, 4), kind="周末",
                             name="名" * 61)
    assert {(p.field, p.code) for p in caught.value.problems} == {
        ("kind", "invalid_kind"), ("name", "name_too_long")}
    with pytest.raises(NotFound):
        service.delete_override(session, clock=clock, actor=ADMIN, day_date=D(2027, 1, 4))


def test_json_notice_file_carries_year_and_title(tmp_path: Path) -> None:
    path = tmp_path / "2027.json"
    path.write_text('{"year": 2027, "title": "2027年节假日安排", "days": ['
                    '{"date": "2027-01-01", "kind": "holiday", "name": "元旦"},'
                    '{"date": "2027-02-20", "kind": "workday", "name": "春节调休上班"}]}', encoding="utf-8")
    parsed = service.read_notice_file(path)
    assert (parsed.year, parsed.title) == (2027, "2027年节假日安排")
    assert parsed.rows == [NoticeRow(1, "2027-01-01", "holiday", "元旦"),
                           NoticeRow(2, "2027-02-20", "workday", "春节调休上班")]


def test_bad_files_are_reported_as_file_problems(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"year": 2027, "days": [', encoding="utf-8")
    with pytest.raises(ValidationFailed) as caught:
        service.read_notice_file(broken)
    assert caught.value.problems[0].field == "file" and caught.value.code == "bad_json"
    headless = tmp_path / "headless.csv"
    headless.write_text("2027-01-01,休,元旦\n", encoding="utf-8")
    with pytest.raises(ValidationFailed) as caught:
        service.read_notice_file(headless)
    assert caught.value.code == "bad_header"


def test_csv_saved_by_excel_in_gb18030_is_read(tmp_path: Path) -> None:
    path = tmp_path / "2027.csv"
    path.write_bytes("date,kind,name\r\n2027-01-01,休,元旦\r\n\r\n".encode("gb18030"))
    assert service.read_notice_file(path).rows == [NoticeRow(2, "2027-01-01", "休", "元旦")]
