"""Senders: how an outbox message leaves the server. A sender raises on failure; returning means sent.

- :class:`ConsoleSender` (the default) logs one line per message, the phone masked: the demo and development
  need no SMS gateway, and the outbox page still shows what would have been sent.
- :class:`HttpSender` posts the message as JSON (``id``, ``topic``, ``channel``, ``recipient``, ``subject``,
  ``body``, ``payload``) to a URL with a timeout; a non-2xx answer is a failure. Its URL is the SMS gateway
  (``ONEWINDOW_NOTIFY_HTTP_URL``); an ``http`` message whose recipient is itself a URL (the provincial 好差评
  push) goes to that URL.
- :class:`ChannelSender` sends ``sms`` messages with the configured sender and ``http`` messages over HTTP
  to their recipient, whatever the configured SMS sender is.

:func:`sender_for` builds it from the settings (``ONEWINDOW_NOTIFY_SENDER`` = ``console`` | ``http``).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Protocol

import httpx

from onewindow.core.ids import mask_phone
from onewindow.core.personal import mask_text
from onewindow.notifications.models import OutboxMessage

if TYPE_CHECKING:
    from onewindow.config import Settings

log = logging.getLogger(__name__)


class SendFailed(Exception):
    """The receiver did not take the message (the reason is kept as the message's ``last_error``)."""


class Sender(Protocol):
    """Something that delivers one message, raising when it cannot."""

    def send(self, message: OutboxMessage) -> None:
        """Deliver the message or raise."""
        ...


def envelope(message: OutboxMessage) -> dict[str, Any]:
    """The JSON an HTTP receiver gets for a message."""
    return {"id": message.id, "topic": message.topic, "channel": message.channel, "recipient": message.recipient,
            "subject": message.subject, "body": message.body, "payload": message.payload}


class ConsoleSender:
    """Logs one line per message instead of sending it (phone numbers masked in the log)."""

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self.log = logger or log

    def send(self, message: OutboxMessage) -> None:
        """Log the message as sent."""
        recipient = mask_phone(message.recipient) if message.channel == "sms" else message.recipient
        text = mask_text(" ".join((message.body or message.subject).split()))
        self.log.info("outbox #%s %s %s → %s：%s", message.id, message.channel, message.topic, recipient, text)


class HttpSender:
    """POSTs the message envelope as JSON; a timeout, a connection error or a non-2xx answer is a failure."""

    def __init__(self, url: str = "", *, timeout: float = 5.0, client: httpx.Client | None = None) -> None:
        self.url = url
        self.timeout = timeout
        self._client = client

    def target(self, message: OutboxMessage) -> str:
        """Where the message goes: its recipient when that is a URL, else the configured URL."""
        if message.recipient.startswith(("http://", "https://")):
            return message.recipient
        if not self.url:
            raise SendFailed("未配置推送地址（ONEWINDOW_NOTIFY_HTTP_URL）")
        return self.url

    def send(self, message: OutboxMessage) -> None:
        """POST the envelope; raise :class:`SendFailed` unless the answer is 2xx."""
        url = self.target(message)
        headers = {"Idempotency-Key": f"outbox-{message.id}"}
        try:
            if self._client is not None:
                response = self._client.post(url, json=envelope(message), headers=headers, timeout=self.timeout)
            else:
                with httpx.Client(timeout=self.timeout) as client:
                    response = client.post(url, json=envelope(message), headers=headers)
        except httpx.HTTPError as exc:
            raise SendFailed(f"{exc.__class__.__name__}: {exc}") from exc
        if not response.is_success:
            raise SendFailed(f"HTTP {response.status_code}: {response.text[:200]}")


class ChannelSender:
    """``sms`` messages through the configured sender, ``http`` messages over HTTP to their recipient."""

    def __init__(self, sms: Sender, http: Sender) -> None:
        self.sms = sms
        self.http = http

    def send(self, message: OutboxMessage) -> None:
        """Pick the sender by the message's channel."""
        (self.http if message.channel == "http" else self.sms).send(message)


def sender_for(settings: Settings) -> Sender:
    """The sender the settings ask for (``notify_sender``: console | http)."""
    http = HttpSender(settings.notify_http_url, timeout=settings.notify_http_timeout)
    kind = settings.notify_sender.strip().lower()
    if kind == "http":
        return ChannelSender(sms=http, http=http)
    if kind != "console":
        log.warning("未知的 ONEWINDOW_NOTIFY_SENDER=%r，短信改为写入日志", settings.notify_sender)
    return ChannelSender(sms=ConsoleSender(), http=http)
