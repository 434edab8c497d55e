"""A finished case puts one SMS with its rating link into the outbox (一事一评), whatever states it passes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from onewindow import wiring
from onewindow.cases.models import Case
from onewindow.config import Settings
from onewindow.core.clock import FixedClock
from onewindow.notifications.models import OutboxMessage
from onewindow.ratings.links import LinkTarget, Subject, read_token
from tests.factories import make_case, make_person

SETTINGS = Settings(secret_key="case-done-" + "k" * 20, base_url="https://zwfw.example.cn/")


@pytest.fixture(autouse=True)
def _wired() -> Iterator[None]:
    wiring.install(SETTINGS)
    yield


def _done_messages(session: Session, case: Case) -> list[OutboxMessage]:
    rows = session.scalars(select(OutboxMessage).where(OutboxMessage.topic == "case.done")).all()
    return [m for m in rows if m.payload.get("case_id") == case.id]


def test_an_approved_and_delivered_case_is_texted_once_with_a_valid_rating_link(session: Session,
                                                                                clock: FixedClock) -> None:
    case = make_case(session, clock, state="delivered")
    [message] = _done_messages(session, case)
    assert (message.channel, message.recipient, message.status) == ("sms", case.applicant_phone, "pending")
    prefix = f"您的办件{case.number}（{case.title}）已办结，请对本次服务进行评价：https://zwfw.example.cn/r/"
    assert message.body.startswith(prefix)
    token = message.body.removeprefix(prefix)
    assert read_token(SETTINGS.secret_key, token) == LinkTarget(Subject.CASE, case.id)
    assert message.payload["rating_url"].endswith(f"/r/{token}")


def test_a_denied_case_is_texted_and_an_open_one_is_not(session: Session, clock: FixedClock) -> None:
    denied = make_case(session, clock, state="denied")
    assert len(_done_messages(session, denied)) == 1
    accepted = make_case(session, clock, state="accepted")
    assert _done_messages(session, accepted) == []


def test_no_phone_no_sms(session: Session, clock: FixedClock) -> None:
    person = make_person(session, clock, phone="")
    case = make_case(session, clock, state="approved", applicant=person)
    assert _done_messages(session, case) == []
