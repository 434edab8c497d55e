"""Message templates for every kind, the signed opt-out link, and an opted-out number logged but never sent."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from onewindow.core.clock import FixedClock
from onewindow.core.errors import ValidationFailed
from onewindow.notifications import service
from onewindow.notifications.models import NotificationOptOut, OutboxMessage
from onewindow.notifications.templates import TEMPLATES, MessageKind, opt_out_token, read_opt_out_token, render

SECRET = "test-secret-for-links"
PHONE = "13812345678"


class Recorder:
    """A sender that keeps what it was given."""

    def __init__(self) -> None:
        self.sent: list[OutboxMessage] = []

    def send(self, message: OutboxMessage) -> None:
        """Keep the message."""
        self.sent.append(message)


def test_every_kind_has_a_template_that_renders_with_its_fields() -> None:
    assert set(TEMPLATES) == set(MessageKind)
    for kind, template in TEMPLATES.items():
        subject, body = render(kind, {name: f"<{name}>" for name in template.fields}, opt_out_link="https://x/o")
        assert subject and all(f"<{name}>" in body for name in template.fields) and body.endswith("https://x/o")
    with pytest.raises(KeyError):
        render(MessageKind.CASE_ACCEPTED, {"item": "x"})


def test_an_opt_out_token_names_its_phone_and_cannot_be_forged() -> None:
    token = opt_out_token(SECRET, PHONE)
    assert read_opt_out_token(SECRET, token) == PHONE
    assert read_opt_out_token("another-secret", token) is None
    forged = token.replace(PHONE, "13900000000")
    assert read_opt_out_token(SECRET, forged) is None
    assert read_opt_out_token(SECRET, "garbage") is None


def test_an_opted_out_phone_is_logged_as_suppressed_and_never_sent(session: Session, clock: FixedClock) -> None:
    service.opt_out(session, clock=clock, phone=PHONE)
    service.opt_out(session, clock=clock, phone=PHONE)  # twice: one record
    assert len(list(session.scalars(select(NotificationOptOut)))) == 1
    muted = service.notify(session, clock=clock, kind=MessageKind.RATING_INVITATION, phone=PHONE,
                           fields={"case": "20261204-00001", "link": "https://x/r/c1"}, base_url="https://x",
                           secret=SECRET)
    heard = service.notify(session, clock=clock, kind=MessageKind.RATING_INVITATION, phone="13900001111",
                           fields={"case": "20261204-00002", "link": "https://x/r/c2"}, base_url="https://x",
                           secret=SECRET)
    assert muted is not None and muted.status == "suppressed" and muted.last_error == service.OPTED_OUT_NOTE
    assert heard is not None and heard.status == "pending" and "/notify/opt-out/13900001111-" in heard.body
    sender = Recorder()
    service.deliver_due(session, clock=clock, sender=sender)
    sent = {m.id for m in sender.sent}  # the demo's own pending messages go too
    assert heard.id in sent and muted.id not in sent and muted.status == "suppressed"
    service.opt_in(session, phone=PHONE)
    assert not service.opted_out(session, PHONE)
    with pytest.raises(ValidationFailed):
        service.opt_out(session, clock=clock, phone="abc")


def test_the_public_link_unsubscribes_after_a_confirming_post(client: TestClient, session: Session) -> None:
    secret = client.app.state.settings.secret_key  # type: ignore[attr-defined]
    url = f"/notify/opt-out/{opt_out_token(secret, PHONE)}"
    page = client.get(url, headers={"Accept": "text/html"})
    assert page.status_code == 200 and "确认退订" in page.text and PHONE not in page.text  # masked
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    assert client.post(url, data={}).status_code == 403  # no CSRF token: refused, nothing written
    assert not service.opted_out(session, PHONE)
    done = client.post(url, data={"csrf_token": token[1]})
    assert done.status_code == 200 and "已退订" in done.text
    assert service.opted_out(session, PHONE)
    assert client.get(f"/notify/opt-out/{PHONE}-forged", headers={"Accept": "text/html"}).status_code == 404
