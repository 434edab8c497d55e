"""Shared fixtures of the case tests: users by name and the parents of 新生儿出生一件事; the helpers (RULES, at,
material_keys, handed_in, ...) live in tests.factories and are re-exported here."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from sqlalchemy.orm import Session

from onewindow.cases.service import ApplicantIn
from onewindow.certificates import service as certificates
from onewindow.core.clock import Clock
from onewindow.staff import service as staff_service
from onewindow.staff.models import User
from tests.factories import DEMO_PASSWORD, LOADER, RULES, at, handed_in, material_keys, person_id, staff

__all__ = ["FATHER", "LOADER", "MOTHER", "RULES", "at", "handed_in", "material_keys", "person_id"]

MOTHER = person_id("41072419950506002")
FATHER = person_id("41072419930817003")


@pytest.fixture
def user(session: Session) -> Callable[[str], User]:
    """A demo user by username."""
    def _get(username: str) -> User:
        return staff(session, username)
    return _get


@pytest.fixture
def parents(session: Session, clock: Clock) -> Callable[..., tuple[User, ApplicantIn]]:
    """A mother with an applicant account; she and the father hold ID cards, hukou and marriage certificates."""
    def _make(*, marriage_expired: bool = False) -> tuple[User, ApplicantIn]:
        issued = dt.date(2019, 5, 1)
        for holder, name in ((MOTHER, "陈静"), (FATHER, "刘洋")):
            certificates.issue_certificate(session, clock=clock, actor=LOADER, type_code="ID_CARD", holder_id=holder,
                                           holder_name=name, issued_date=issued, expires_date=dt.date(2039, 5, 1))
        certificates.issue_certificate(session, clock=clock, actor=LOADER, type_code="HUKOU_BOOK", holder_id=FATHER,
                                       holder_name="刘洋", issued_date=issued)
        certificates.issue_certificate(
            session, clock=clock, actor=LOADER, type_code="MARRIAGE_CERT", holder_id=MOTHER, holder_name="陈静",
            issued_date=issued, expires_date=dt.date(2020, 1, 1) if marriage_expired else None)
        mother = staff_service.create_user(session, clock=clock, actor=LOADER, username="chenjing",
                                           password=DEMO_PASSWORD, display_name="陈静", role="applicant",
                                           id_number=MOTHER)
        return mother, ApplicantIn(kind="person", name="陈静", id_number=MOTHER, phone="13812345678")
    return _make
