"""The outbox: written in the caller's transaction, delivered by deliver_due, retried with backoff, given up."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from onewindow.core.clock import FixedClock
from onewindow.core.errors import ValidationFailed
from onewindow.notifications import service
from onewindow.notifications.models import OutboxMessage
from onewindow.notifications.senders import ChannelSender, ConsoleSender, SendFailed


@pytest.fixture(autouse=True)
def _quiet_outbox(session: Session) -> None:
    """The demo's own messages (its finished cases text their rating links) are out of the way: each test
    counts only what it enqueues (rolled back with the test)."""
    session.execute(update(OutboxMessage).where(OutboxMessage.status == "pending").values(status="sent"))


class FlakySender:
    """Fails the first ``failures`` sends, then takes every message."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.sent: list[int] = []
        self.calls = 0

    def send(self, message: OutboxMessage) -> None:
        self.calls += 1
        if self.calls <= self.failures:
            raise SendFailed(f"gateway down ({self.calls})")
        self.sent.append(message.id)


def _sms(session: Session, clock: FixedClock, body: str = "您的办件已办结") -> OutboxMessage:
    return service.enqueue(session, clock=clock, topic="test.sms", channel="sms", recipient="13803731234",
                           body=body, payload={"case_id": 7})


def test_an_enqueued_message_is_rolled_back_with_its_transaction(session: Session, clock: FixedClock) -> None:
    before = session.scalars(select(OutboxMessage.id)).all()
    savepoint = session.begin_nested()
    message = _sms(session, clock)
    assert message.id is not None and message.status == "pending" and message.next_attempt_at == clock.now()
    savepoint.rollback()
    assert session.scalars(select(OutboxMessage.id)).all() == before


def test_enqueue_refuses_an_unknown_channel_or_no_recipient(session: Session, clock: FixedClock) -> None:
    with pytest.raises(ValidationFailed):
        service.enqueue(session, clock=clock, topic="x", channel="fax", recipient="1")
    with pytest.raises(ValidationFailed):
        service.enqueue(session, clock=clock, topic="x", channel="sms", recipient=" ")


def test_deliver_due_sends_pending_messages_once(session: Session, clock: FixedClock) -> None:
    message = _sms(session, clock)
    sender = FlakySender(0)
    report = service.deliver_due(session, clock=clock, sender=sender)
    assert message.id in sender.sent and report.sent >= 1
    assert (message.status, message.attempts, message.sent_at) == ("sent", 1, clock.now())
    again = service.deliver_due(session, clock=clock, sender=sender)
    assert again.sent == 0 and sender.sent.count(message.id) == 1


def test_a_failing_send_is_retried_with_backoff_until_it_succeeds(session: Session, clock: FixedClock) -> None:
    message = _sms(session, clock)
    sender = FlakySender(2)
    start = clock.now()
    assert service.deliver_due(session, clock=clock, sender=sender).retried == 1
    assert (message.status, message.attempts) == ("pending", 1)
    assert message.next_attempt_at == start + dt.timedelta(minutes=1)
    assert "gateway down (1)" in message.last_error
    # not due yet: nothing is tried
    clock.advance(dt.timedelta(seconds=30))
    assert service.deliver_due(session, clock=clock, sender=sender).counts() == {"sent": 0, "retried": 0, "failed": 0}
    clock.advance(dt.timedelta(seconds=30))
    service.deliver_due(session, clock=clock, sender=sender)
    assert message.attempts == 2 and message.next_attempt_at == clock.now() + dt.timedelta(minutes=2)
    clock.advance(dt.timedelta(minutes=2))
    service.deliver_due(session, clock=clock, sender=sender)
    assert (message.status, message.attempts, sender.sent) == ("sent", 3, [message.id])


def test_a_message_is_failed_after_the_maximum_and_keeps_its_last_error(session: Session,
                                                                        clock: FixedClock) -> None:
    message = _sms(session, clock)
    sender = FlakySender(100)
    for _ in range(3):
        service.deliver_due(session, clock=clock, sender=sender, max_attempts=3)
        clock.advance(dt.timedelta(hours=1))
    assert (message.status, message.attempts) == ("failed", 3)
    assert message.last_error == "SendFailed: gateway down (3)"
    assert service.deliver_due(session, clock=clock, sender=sender, max_attempts=3).failed == 0


def test_backoff_doubles_and_is_capped() -> None:
    assert [service.backoff(n).total_seconds() // 60 for n in (1, 2, 3, 4, 10)] == [1, 2, 4, 8, 60]


def test_the_console_sender_logs_one_line_with_the_phone_masked(session: Session, clock: FixedClock,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    message = _sms(session, clock, body="请评价：http://h/r/c1-x")
    with caplog.at_level(logging.INFO, logger="onewindow.notifications.senders"):
        ChannelSender(sms=ConsoleSender(), http=FlakySender(0)).send(message)
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1 and "138****1234" in lines[0] and "13803731234" not in lines[0]
    assert "请评价" in lines[0]


def test_enqueued_finds_a_message_by_topic_and_payload(session: Session, clock: FixedClock) -> None:
    _sms(session, clock)
    assert service.enqueued(session, topic="test.sms", key="case_id", value=7)
    assert not service.enqueued(session, topic="test.sms", key="case_id", value=8)
    assert not service.enqueued(session, topic="other", key="case_id", value=7)
