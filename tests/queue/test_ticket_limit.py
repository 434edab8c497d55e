"""Anonymous ticket taking is limited per client address per hour (shared through the database); a kiosk's
address and a signed-in clerk are exempt; the window starts anew after an hour."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onewindow.core.clock import FixedClock
from onewindow.core.ratebucket import RateBucket
from onewindow.queue.models import Ticket
from tests.conftest import HTML

HALL = "HJ-ZWZX"
URL = f"/api/v1/queue/halls/{HALL}/tickets"


def _tickets(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Ticket)) or 0


def test_the_api_refuses_past_the_hourly_budget_with_a_chinese_reason(app: FastAPI, client: TestClient,
                                                                      session: Session, clock: FixedClock) -> None:
    app.state.settings.ticket_anonymous_per_hour = 3
    for _ in range(3):
        assert client.post(URL, json={"category": "A"}).status_code == 201
    before = _tickets(session)
    refused = client.post(URL, json={"category": "A"})
    assert refused.status_code == 429
    assert refused.json()["errors"][0]["code"] == "too_many_requests"
    assert "每小时最多取 3 个号" in refused.json()["errors"][0]["message"]
    assert _tickets(session) == before  # nothing issued
    bucket = session.get(RateBucket, "ticket:testclient")
    assert bucket is not None and bucket.count == 3  # the refused request rolled back its own count
    clock.advance(dt.timedelta(hours=1))
    assert client.post(URL, json={"category": "A"}).status_code == 201  # a new hour, a new budget


def test_a_failed_request_does_not_use_up_the_budget(app: FastAPI, client: TestClient) -> None:
    app.state.settings.ticket_anonymous_per_hour = 1
    assert client.post(URL, json={"category": "没有"}).status_code in (404, 422)
    assert client.post(URL, json={"category": "A"}).status_code == 201
    assert client.post(URL, json={"category": "A"}).status_code == 429


def test_kiosk_addresses_and_signed_in_staff_are_exempt(app: FastAPI, client: TestClient,
                                                       token_for: Callable[[str], dict[str, str]]) -> None:
    app.state.settings.ticket_anonymous_per_hour = 1
    headers = token_for("admin")
    for _ in range(3):
        assert client.post(URL, json={"category": "A"}, headers=headers).status_code == 201
    app.state.settings.ticket_kiosk_addresses = ["testclient"]
    for _ in range(3):
        assert client.post(URL, json={"category": "A"}).status_code == 201


def test_the_kiosk_page_shows_the_limit_and_issues_nothing(app: FastAPI, session: Session) -> None:
    app.state.settings.ticket_anonymous_per_hour = 1
    with TestClient(app, headers=HTML) as c:
        page = c.get(f"/halls/{HALL}/kiosk")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert csrf
        first = c.post(f"/halls/{HALL}/kiosk", data={"category": "A", "csrf_token": csrf[1]}, follow_redirects=False)
        assert first.status_code == 303
        before = _tickets(session)
        second = c.post(f"/halls/{HALL}/kiosk", data={"category": "A", "csrf_token": csrf[1]}, follow_redirects=False)
        assert second.status_code == 429 and "取号过于频繁" in second.text
        assert _tickets(session) == before
