"""The channel mix (渠道) by hand: one channel per case — 帮办代办 when an agent handled it, else 寄递 when its
result is mailed, else 网上 or 窗口 — counted the same by the listener, the rebuild and the generator
(``rollup.case_channel``); a window case whose result is mailed still counts for the clerk who took it in."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from onewindow.analytics import listeners, rollup, service
from onewindow.analytics.rules import FactChannel
from onewindow.analytics.service import Filters
from onewindow.core.access import Role, Viewer
from onewindow.staff.models import User

from .history import MONDAY, World, case
from .test_indicators import snapshot

ADMIN = Viewer(user_id=1, role=Role.ADMIN)
WEEK = Filters(MONDAY, MONDAY + dt.timedelta(days=7))


@pytest.fixture(autouse=True)
def _listening() -> Iterator[None]:
    listeners.install()
    yield


def test_case_channel_rule() -> None:
    assert rollup.case_channel("window", None, "pickup") == FactChannel.WINDOW
    assert rollup.case_channel("online", None, "electronic") == FactChannel.ONLINE
    assert rollup.case_channel("window", None, "mail") == FactChannel.MAIL
    assert rollup.case_channel("online", None, "mail") == FactChannel.MAIL
    assert rollup.case_channel("window", 7, "mail") == FactChannel.AGENT  # the agent wins: one channel a case


def test_mailed_cases_count_under_mail(session: Session) -> None:
    w = World(session)
    clerk = session.scalars(select(User.id).order_by(User.id)).first()
    assert clerk is not None
    tue, wed = MONDAY + dt.timedelta(days=1), MONDAY + dt.timedelta(days=2)
    case(session, w, w.dep_a, accepted=MONDAY, created_by=clerk)  # 窗口
    case(session, w, w.dep_a, accepted=MONDAY, decided=wed, delivery="mail", created_by=clerk)  # 窗口受理、寄递
    case(session, w, w.dep_a, accepted=tue, channel="online", hall=None, delivery="mail")  # 网上申请、寄递
    case(session, w, w.dep_b, accepted=tue, channel="online", hall=None, delivery="electronic")  # 网上
    case(session, w, w.dep_b, accepted=tue, delivery="mail", agent_user_id=clerk)  # 帮办代办
    late = case(session, w, w.dep_b, accepted=wed)  # 窗口, then changed to mail below
    session.commit()

    def accepted() -> dict[str, int]:
        return {r.key: r.sums["cases_accepted"] for r in service.channels(session, ADMIN, WEEK)}

    assert accepted() == {"window": 2, "online": 1, "self": 0, "mail": 2, "agent": 1, "hotline": 0, "other": 0}
    finished = {r.key: r.sums["cases_finished"] for r in service.channels(session, ADMIN, WEEK)}
    assert finished["mail"] == 1 and sum(finished.values()) == 1
    # the clerk keeps the window cases they took in, the mailed one too (not the agent's)
    clerks = {r.key: r.sums["cases_accepted"] for r in service.clerks(session, ADMIN, WEEK)}
    assert clerks[str(clerk)] == 2

    late.result_delivery = "mail"  # the applicant asks for the post after all: the listener moves the case
    session.commit()
    assert accepted()["window"] == 1 and accepted()["mail"] == 3

    kept = snapshot(session)
    rollup.rebuild(session)
    assert snapshot(session) == kept
    session.rollback()
