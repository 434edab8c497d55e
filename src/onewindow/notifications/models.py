"""The outbox: messages written in the transaction that caused them, sent after commit by a job, retried."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from onewindow.db import AwareDateTime, Base


class OutboxMessage(Base):
    """One message to send: an SMS to a person, or a JSON push to a configured HTTP endpoint."""

    __tablename__ = "outbox_message"
    __table_args__ = (Index("ix_outbox_message_status_next", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    topic: Mapped[str] = mapped_column(String(40))  # e.g. case.done, rating.created, rectification.opened
    channel: Mapped[str] = mapped_column(String(10))  # sms | http
    recipient: Mapped[str] = mapped_column(String(300))  # a phone number or an endpoint name
    recipient_user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    subject: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(10), default="pending")  # pending | sent | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(AwareDateTime())
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(AwareDateTime())
    sent_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime())


class NotificationOptOut(Base):
    """A phone number that asked for no more SMS (退订): messages to it are logged as suppressed, never sent."""

    __tablename__ = "notification_opt_out"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    phone: Mapped[str] = mapped_column(String(20), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))  # the account that opted out, if any
    via: Mapped[str] = mapped_column(String(10))  # link | account
    opted_out_at: Mapped[dt.datetime] = mapped_column(AwareDateTime())
