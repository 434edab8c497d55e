"""The outbox page and API: admins and supervision see recent messages (phones masked); others get 403."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from onewindow.core.clock import FixedClock
from onewindow.notifications import service


@pytest.fixture
def failed_sms(session: Session, clock: FixedClock) -> int:
    message = service.enqueue(session, clock=clock, topic="case.done", channel="sms", recipient="13903735678",
                              body="您的办件已办结")
    message.status, message.attempts, message.last_error = "failed", 6, "SendFailed: HTTP 503"
    session.flush()
    return message.id


@pytest.mark.parametrize(("username", "status"), [("admin", 200), ("supervisor", 200), ("clerk", 403),
                                                  ("zhangwei", 403)])
def test_who_may_see_the_outbox(client: TestClient, token_for: Callable[[str], dict[str, str]], username: str,
                                status: int) -> None:
    headers = token_for(username)
    assert client.get("/admin/outbox", headers=headers).status_code == status
    assert client.get("/api/v1/outbox", headers=headers).status_code == status


def test_the_outbox_lists_status_attempts_and_error_with_phones_masked(
        client: TestClient, token_for: Callable[[str], dict[str, str]], failed_sms: int) -> None:
    page = client.get("/admin/outbox?status=failed", headers=token_for("supervisor"))
    assert page.status_code == 200
    assert "发送失败" in page.text and "SendFailed: HTTP 503" in page.text and "139****5678" in page.text
    assert "13903735678" not in page.text
    api = client.get("/api/v1/outbox", params={"status": "failed"}, headers=token_for("admin"))
    [row] = [r for r in api.json() if r["id"] == failed_sms]
    assert (row["status"], row["attempts"], row["recipient"]) == ("failed", 6, "139****5678")
    assert "13903735678" not in api.text
