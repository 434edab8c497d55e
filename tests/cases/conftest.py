"""Shared helpers of the case tests: users by name, fresh applicants with certificates, day clocks and the
materials a clerk marks at the window."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from onewindow.cases import service
from onewindow.cases.service import ApplicantIn, CaseRules
from onewindow.certificates import service as certificates
from onewindow.core.audit import Actor
from onewindow.core.clock import CHINA_TZ, Clock, FixedClock
from onewindow.core.ids import id_check_char
from onewindow.staff import service as staff_service
from onewindow.staff.models import User

RULES = CaseRules(deferral_working_days=10, auto_approve=True)
LOADER = Actor(None, "test")


def person_id(first17: str) -> str:
    """A valid 公民身份号码 from its first 17 digits."""
    return first17 + id_check_char(first17)


MOTHER = person_id("41072419950506002")
FATHER = person_id("41072419930817003")


@pytest.fixture
def user(session: Session) -> Callable[[str], User]:
    """A demo user by username."""
    def _get(username: str) -> User:
        found = session.scalars(select(User).where(User.username == username)).first()
        assert found is not None, username
        return found
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
                                           password="Demo@2026", display_name="陈静", role="applicant",
                                           id_number=MOTHER)
        return mother, ApplicantIn(kind="person", name="陈静", id_number=MOTHER, phone="13812345678")
    return _make


def at(year: int, month: int, day: int, hour: int = 10) -> FixedClock:
    """A clock frozen on a day, China time."""
    return FixedClock(dt.datetime(year, month, day, hour, 0, tzinfo=CHINA_TZ))


def material_keys(session: Session, item_code: str) -> dict[str, str]:
    """Material name → checklist key of an item's current version."""
    target = service.resolve_target(session, item_code=item_code, bundle_code=None)
    return {e.name: e.key for e in service.checklist(target)}


def handed_in(session: Session, item_code: str, overrides: Mapping[str, str] | None = None, *,
              status: str = "paper", library: bool = True) -> dict[str, str]:
    """The materials a clerk marks at the window: every required material ``status``; ``library`` leaves
    certificate materials to the library lookup; ``overrides`` maps a material name to its status."""
    target = service.resolve_target(session, item_code=item_code, bundle_code=None)
    marks = {e.key: status for e in service.checklist(target)
             if e.required and not (library and e.certificate_type_id is not None)}
    keys = {e.name: e.key for e in service.checklist(target)}
    for name, value in (overrides or {}).items():
        marks[keys[name]] = value
    return marks
