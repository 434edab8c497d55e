"""Issuing a certificate (on approval of a licence): numbering per type and year, check code, audit."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from onewindow.certificates import service
from onewindow.certificates.demo import FENGYUAN, ZHANG_WEI
from onewindow.cli_support import CLI_ACTOR
from onewindow.core.audit import AuditEntry
from onewindow.core.clock import FixedClock, today
from onewindow.core.errors import NotFound, ValidationFailed


def test_issued_certificates_are_numbered_per_type_and_year_and_verify(session: Session, clock: FixedClock) -> None:
    first = service.issue_certificate(session, clock=clock, actor=CLI_ACTOR, type_code="FOOD_LICENSE",
                                      holder_id=FENGYUAN, holder_name="获嘉县丰源商贸有限公司",
                                      issuer="获嘉县市场监督管理局", expires_date=dt.date(2031, 11, 22),
                                      data={"经营项目": "预包装食品销售"})
    second = service.issue_certificate(session, clock=clock, actor=CLI_ACTOR, type_code="FOOD_LICENSE",
                                       holder_id=FENGYUAN, holder_name="获嘉县丰源商贸有限公司")
    assert (first.number, second.number) == ("FOOD_LICENSE-2026-000001", "FOOD_LICENSE-2026-000002")
    assert first.source == "issued" and first.issued_date == today(clock) and first.check_code != second.check_code
    assert second.issuer == "市场监督管理部门"
    view = service.verify(session, number=first.number, check_code=first.check_code.lower(), on=today(clock))
    assert view is not None and view.status_label == "有效"
    audited = session.scalars(select(AuditEntry).where(AuditEntry.action == "certificates.issued",
                                                       AuditEntry.entity_id == str(first.id))).one()
    assert audited.after["number"] == first.number


def test_issue_checks_holder_kind_dates_and_type(session: Session, clock: FixedClock) -> None:
    with pytest.raises(ValidationFailed) as caught:
        service.issue_certificate(session, clock=clock, actor=CLI_ACTOR, type_code="FOOD_LICENSE", holder_id=ZHANG_WEI,
                                  holder_name="", expires_date=dt.date(2020, 1, 1))
    assert {p.field for p in caught.value.problems} == {"holder_id", "holder_name", "expires_date"}
    with pytest.raises(NotFound):
        service.issue_certificate(session, clock=clock, actor=CLI_ACTOR, type_code="NOPE", holder_id=ZHANG_WEI,
                                  holder_name="张伟")


def test_revoke_needs_a_reason_and_is_audited_with_the_id_masked(session: Session, clock: FixedClock) -> None:
    cert = service.issue_certificate(session, clock=clock, actor=CLI_ACTOR, type_code="ID_CARD", holder_id=ZHANG_WEI,
                                     holder_name="张伟")
    with pytest.raises(ValidationFailed):
        service.revoke_certificate(session, clock=clock, actor=CLI_ACTOR, certificate_id=cert.id, reason=" ")
    service.revoke_certificate(session, clock=clock, actor=CLI_ACTOR, certificate_id=cert.id, reason="补领新证")
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "certificates.revoked",
                                                     AuditEntry.entity_id == str(cert.id))).one()
    assert entry.before["status"] == "valid" and entry.after["status"] == "revoked"
    assert ZHANG_WEI not in str(entry.before) + str(entry.after)


def test_a_number_taken_meanwhile_is_retried_with_the_next_one(session: Session, clock: FixedClock,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    taken = service.issue_certificate(session, clock=clock, actor=CLI_ACTOR, type_code="BIZ_LICENSE",
                                      holder_id=FENGYUAN, holder_name="丰源")
    real = service.next_number
    calls: list[str] = []

    def stale_then_real(s: Session, ctype: object, year: int) -> str:
        # the first attempt sees a stale maximum, as a concurrent approval would leave it
        calls.append("x")
        return taken.number if len(calls) == 1 else real(s, ctype, year)  # type: ignore[arg-type]

    monkeypatch.setattr(service, "next_number", stale_then_real)
    cert = service.issue_certificate(session, clock=clock, actor=CLI_ACTOR, type_code="BIZ_LICENSE",
                                     holder_id=FENGYUAN, holder_name="丰源")
    assert len(calls) == 2 and cert.number != taken.number and cert.number.startswith("BIZ_LICENSE-2026-")
