"""What the outbox API answers: one message as the outbox page shows it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel

from onewindow.notifications.models import OutboxMessage


class OutboxMessageOut(BaseModel):
    """One outbox message (phone numbers in it are masked at the edge, like every API answer)."""

    id: int
    topic: str
    channel: str
    recipient: str
    subject: str
    body: str
    payload: dict[str, Any]
    status: str
    attempts: int
    next_attempt_at: dt.datetime
    last_error: str
    created_at: dt.datetime
    sent_at: dt.datetime | None

    @classmethod
    def of(cls, message: OutboxMessage) -> OutboxMessageOut:
        """The API view of a message."""
        return cls(id=message.id, topic=message.topic, channel=message.channel, recipient=message.recipient,
                   subject=message.subject, body=message.body, payload=dict(message.payload or {}),
                   status=message.status, attempts=message.attempts, next_attempt_at=message.next_attempt_at,
                   last_error=message.last_error, created_at=message.created_at, sent_at=message.sent_at)
