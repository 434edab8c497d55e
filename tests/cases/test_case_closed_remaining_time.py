"""The remaining time every page and the API show comes from one function (``deadlines.schedule``): a case
decided on time reads 按期办结 for ever, a closed case has no time left, and a case due today is never
marked overdue — on the case page, in the lists and in the API alike."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from onewindow.cases import service
from onewindow.cases.models import Case
from onewindow.core.clock import FixedClock
from tests.conftest import Browser
from tests.factories import LOADER, api_token, make_case

__all__: list[str] = []


def _remaining_on_page(html: str) -> str:
    found = re.search(r'data-remaining="[a-z_]+"[^>]*>（([^）]*)）', html)
    return found[1] if found else ""


def test_an_archived_case_decided_on_time_reads_on_time_weeks_later(
        session: Session, clock: FixedClock, login: Callable[[str], Browser], client: TestClient) -> None:
    case = make_case(session, clock, state="archived")
    session.commit()
    clock.advance(dt.timedelta(days=40))  # long past its promised date
    page = login("clerk").client.get(f"/cases/{case.id}").text
    assert _remaining_on_page(page) == "按期办结"
    assert "已超期" not in page
    detail = client.get(f"/api/v1/cases/{case.id}", headers=api_token(client, "clerk")).json()
    assert detail["remaining"] == {"status": "on_time", "text": "按期办结", "days": 0}
    assert detail["warning"] == "none"


def test_a_terminated_case_shows_no_remaining_time(
        session: Session, clock: FixedClock, login: Callable[[str], Browser], client: TestClient) -> None:
    case = make_case(session, clock, state="accepted")
    service.terminate(session, clock=clock, actor=LOADER, case=case, reason="容缺材料未按期补齐",
                      basis="容缺受理承诺书")
    session.commit()
    page = login("clerk").client.get(f"/cases/{case.id}").text
    assert _remaining_on_page(page) == "已终止"
    assert "剩 " not in page
    detail = client.get(f"/api/v1/cases/{case.id}", headers=api_token(client, "clerk")).json()
    assert detail["remaining"]["status"] == "ended" and detail["remaining"]["days"] is None


def test_a_case_due_today_is_never_marked_overdue(
        session: Session, clock: FixedClock, login: Callable[[str], Browser], client: TestClient) -> None:
    case = make_case(session, clock, state="in_review")
    assert case.promised_due is not None
    clock.set(dt.datetime.combine(case.promised_due, dt.time(9, 0), tzinfo=clock.now().tzinfo))
    case.warning = "red"  # a stale stored warning (the sweep has not run today) changes nothing shown
    session.commit()
    browser = login("clerk")
    page = browser.client.get(f"/cases/{case.id}").text
    assert _remaining_on_page(page) == "今天到期"
    assert "已超期" not in page and "临近到期" in page
    rows = browser.client.get("/cases").text
    row = re.search(rf'<tr[^>]*data-case="{case.number}"[^>]*>.*?</tr>', rows, re.S)
    assert row is not None and "今天到期" in row[0] and "已超期" not in row[0]
    assert 'data-warning="yellow"' in row[0]
    detail = client.get(f"/api/v1/cases/{case.id}", headers=api_token(client, "clerk")).json()
    assert detail["remaining"] == {"status": "due_today", "text": "今天到期", "days": 0}
    assert detail["warning"] == "yellow" and detail["deadlines"]["warning"] == "yellow"


def test_public_tracking_says_what_the_case_page_says(session: Session, clock: FixedClock,
                                                      client: TestClient) -> None:
    case: Case = make_case(session, clock, state="archived")
    session.commit()
    clock.advance(dt.timedelta(days=40))
    r = client.get("/api/v1/track", params={"number": case.number, "id_last4": case.applicant_id[-4:]})
    assert r.status_code == 200, r.text
    assert r.json()["remaining"] == "按期办结"
