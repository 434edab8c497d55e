"""The outbox (消息发件箱): write a message in the caller's transaction, deliver it later, retry on failure.

A change that notifies someone calls :func:`enqueue` inside its own transaction, so a rolled-back change sends
nothing and a committed one is never forgotten (Zulip's rule: events only after commit). The ``notifications``
job calls :func:`deliver_due` every minute: each pending message whose ``next_attempt_at`` has come is handed
to a :class:`~onewindow.notifications.senders.Sender`; a failure is retried after 1, 2, 4 … minutes (capped),
and after ``max_attempts`` failures the message is ``failed`` with its last error kept for the outbox page.

Delivery is at least once: a message sent whose ``sent`` mark is then lost (a crash before commit) is sent
again, so receivers should deduplicate by the message id (the HTTP sender passes it as ``Idempotency-Key``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onewindow.core.clock import Clock
from onewindow.core.errors import Problem, ValidationFailed
from onewindow.notifications.models import NotificationOptOut, OutboxMessage
from onewindow.notifications.senders import Sender
from onewindow.notifications.templates import MessageKind, opt_out_token, render

DEFAULT_MAX_ATTEMPTS = 6
BACKOFF_CAP_MINUTES = 60
ERROR_MAX = 1000


class Channel(StrEnum):
    """How a message travels."""

    SMS = "sms"
    HTTP = "http"


class Status(StrEnum):
    """Where a message is."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    SUPPRESSED = "suppressed"  # the recipient opted out (退订): kept in the log, never sent

    @property
    def label(self) -> str:
        """Chinese name shown on the outbox page."""
        return STATUS_LABELS[self]


STATUS_LABELS: dict[Status, str] = {Status.PENDING: "待发送", Status.SENT: "已发送", Status.FAILED: "发送失败",
                                    Status.SUPPRESSED: "已退订未发送"}
OPTED_OUT_NOTE = "收件人已退订短信通知"
CHANNEL_LABELS: dict[Channel, str] = {Channel.SMS: "短信", Channel.HTTP: "接口推送"}


@dataclass
class DeliveryReport:
    """What one :func:`deliver_due` run did."""

    sent: int = 0
    retried: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """The counts a job reports."""
        return {"sent": self.sent, "retried": self.retried, "failed": self.failed}


def backoff(attempts: int) -> dt.timedelta:
    """The wait after the ``attempts``-th failure: 1, 2, 4 … minutes, at most :data:`BACKOFF_CAP_MINUTES`."""
    return dt.timedelta(minutes=min(2 ** max(attempts - 1, 0), BACKOFF_CAP_MINUTES))


def enqueue(session: Session, *, clock: Clock, topic: str, channel: str, recipient: str, subject: str = "",
            body: str = "", payload: dict[str, Any] | None = None,
            recipient_user_id: int | None = None) -> OutboxMessage:
    """Write a message to send in the caller's transaction (nothing is sent if it rolls back)."""
    problems: list[Problem] = []
    if channel not in set(Channel):
        problems.append(Problem("channel", "invalid_channel", "发送渠道应为短信或接口推送"))
    if not recipient.strip():
        problems.append(Problem("recipient", "required", "请填写接收方"))
    if not topic.strip():
        problems.append(Problem("topic", "required", "请填写消息主题"))
    if problems:
        raise ValidationFailed(problems)
    now = clock.now()
    # an opted-out phone: the message is logged (the change did happen) but never handed to a sender
    suppressed = channel == Channel.SMS and opted_out(session, recipient.strip())
    message = OutboxMessage(topic=topic[:40], channel=channel, recipient=recipient.strip()[:300],
                            recipient_user_id=recipient_user_id, subject=subject[:200], body=body,
                            payload=dict(payload or {}),
                            status=(Status.SUPPRESSED if suppressed else Status.PENDING).value, attempts=0,
                            next_attempt_at=now, last_error=OPTED_OUT_NOTE if suppressed else "", created_at=now)
    session.add(message)
    session.flush()
    return message


def enqueued(session: Session, *, topic: str, key: str, value: int | str) -> bool:
    """True when a message of ``topic`` whose payload has ``key`` = ``value`` is already in the outbox."""
    path = OutboxMessage.payload[key]
    matches = path.as_integer() == value if isinstance(value, int) else path.as_string() == value
    return session.scalar(select(func.count()).select_from(OutboxMessage)
                          .where(OutboxMessage.topic == topic, matches)) != 0


def due_messages(session: Session, *, clock: Clock, batch: int = 100) -> list[OutboxMessage]:
    """Pending messages whose time has come, oldest first (locked; other runners skip them)."""
    return list(session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.status == Status.PENDING.value, OutboxMessage.next_attempt_at <= clock.now())
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(batch)
        .with_for_update(skip_locked=True)))


def deliver_due(session: Session, *, clock: Clock, sender: Sender, batch: int = 100,
                max_attempts: int = DEFAULT_MAX_ATTEMPTS) -> DeliveryReport:
    """Send every due pending message; mark it sent, or count the failure and retry later or give up."""
    report = DeliveryReport()
    for message in due_messages(session, clock=clock, batch=batch):
        try:
            sender.send(message)
        except Exception as exc:  # any sender failure is the message's, never the run's
            error = f"{exc.__class__.__name__}: {exc}"[:ERROR_MAX]
            message.attempts += 1
            message.last_error = error
            report.errors.append(f"#{message.id} {error}")
            if message.attempts >= max_attempts:
                message.status = Status.FAILED.value
                report.failed += 1
            else:
                message.next_attempt_at = clock.now() + backoff(message.attempts)
                report.retried += 1
        else:
            message.attempts += 1
            message.status = Status.SENT.value
            message.sent_at = clock.now()
            report.sent += 1
        session.flush()
    return report


def recent_messages(session: Session, *, limit: int = 200, status: str | None = None,
                    topic: str | None = None) -> list[OutboxMessage]:
    """The newest messages first (the outbox page and API), optionally of one status or topic."""
    query = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(max(1, min(limit, 1000)))
    if status:
        query = query.where(OutboxMessage.status == status)
    if topic:
        query = query.where(OutboxMessage.topic == topic)
    return list(session.scalars(query))


def status_counts(session: Session) -> dict[str, int]:
    """How many messages are in each status."""
    rows = session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status))
    counts = {s.value: 0 for s in Status}
    counts.update({str(status): int(n) for status, n in rows})
    return counts


# ----- templates and opt-out (退订) ------------------------------------------------------------------------


def opted_out(session: Session, phone: str) -> bool:
    """True when the phone number asked for no more SMS."""
    return bool(phone) and session.scalar(
        select(func.count()).select_from(NotificationOptOut).where(NotificationOptOut.phone == phone)) != 0


def opt_out(session: Session, *, clock: Clock, phone: str, via: str = "link",
            user_id: int | None = None) -> NotificationOptOut:
    """Record that ``phone`` wants no more SMS (idempotent: a second request keeps the first record)."""
    if not phone.isdigit() or not 5 <= len(phone) <= 20:
        raise ValidationFailed([Problem("phone", "invalid_phone", "手机号码无效")])
    existing = session.scalars(select(NotificationOptOut).where(NotificationOptOut.phone == phone)).first()
    if existing is not None:
        return existing
    record = NotificationOptOut(phone=phone, user_id=user_id, via=via, opted_out_at=clock.now())
    session.add(record)
    session.flush()
    return record


def opt_in(session: Session, *, phone: str) -> None:
    """Take an opt-out back (the citizen wants messages again)."""
    record = session.scalars(select(NotificationOptOut).where(NotificationOptOut.phone == phone)).first()
    if record is not None:
        session.delete(record)
        session.flush()


def opt_out_link(base_url: str, secret: str, phone: str) -> str:
    """The public link that unsubscribes ``phone``."""
    return f"{base_url.rstrip('/')}/notify/opt-out/{opt_out_token(secret, phone)}"


def notify(session: Session, *, clock: Clock, kind: MessageKind, phone: str, fields: dict[str, str],
           base_url: str, secret: str, payload: dict[str, Any] | None = None,
           recipient_user_id: int | None = None) -> OutboxMessage | None:
    """An SMS to a citizen from the kind's template, with an opt-out link (None when there is no phone)."""
    if not phone:
        return None
    subject, body = render(kind, fields, opt_out_link=opt_out_link(base_url, secret, phone))
    return enqueue(session, clock=clock, topic=kind.value, channel=Channel.SMS.value, recipient=phone,
                   subject=subject, body=body, payload=payload, recipient_user_id=recipient_user_id)
