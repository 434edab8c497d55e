"""The HTTP sender posts the message as JSON to a real (local) server; a non-2xx answer is a failure."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from onewindow.config import Settings
from onewindow.notifications.models import OutboxMessage
from onewindow.notifications.senders import ChannelSender, ConsoleSender, HttpSender, SendFailed, sender_for


class Receiver:
    """A tiny HTTP server on 127.0.0.1 that records what it is posted and answers ``status``."""

    def __init__(self) -> None:
        self.received: list[tuple[str, dict[str, Any], str]] = []
        self.status = 200
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length).decode())
                outer.received.append((self.path, body, self.headers.get("Idempotency-Key", "")))
                self.send_response(outer.status)
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    r.thread.start()
    try:
        yield r
    finally:
        r.server.shutdown()
        r.server.server_close()
        r.thread.join(5)


def _message(channel: str = "sms", recipient: str = "13803731234") -> OutboxMessage:
    return OutboxMessage(id=41, topic="case.done", channel=channel, recipient=recipient, subject="",
                         body="您的办件已办结", payload={"case_id": 9}, status="pending", attempts=0)


def test_the_http_sender_posts_the_message_as_json(receiver: Receiver) -> None:
    HttpSender(f"{receiver.url}/sms", timeout=2).send(_message())
    [(path, body, key)] = receiver.received
    assert path == "/sms" and key == "outbox-41"
    assert body == {"id": 41, "topic": "case.done", "channel": "sms", "recipient": "13803731234", "subject": "",
                    "body": "您的办件已办结", "payload": {"case_id": 9}}


def test_an_http_message_goes_to_its_recipient_url(receiver: Receiver) -> None:
    sender = ChannelSender(sms=ConsoleSender(), http=HttpSender("", timeout=2))
    sender.send(_message("http", f"{receiver.url}/province"))
    assert [r[0] for r in receiver.received] == ["/province"]


def test_a_non_2xx_answer_or_no_server_is_a_failure(receiver: Receiver) -> None:
    receiver.status = 503
    with pytest.raises(SendFailed, match="HTTP 503"):
        HttpSender(receiver.url, timeout=2).send(_message())
    receiver.server.shutdown()
    receiver.server.server_close()
    with pytest.raises(SendFailed):
        HttpSender(receiver.url, timeout=1).send(_message())
    with pytest.raises(SendFailed, match="未配置"):
        HttpSender("", timeout=1).send(_message())


def test_the_settings_choose_the_sender() -> None:
    console = sender_for(Settings(secret_key="k" * 20))
    assert isinstance(console, ChannelSender) and isinstance(console.sms, ConsoleSender)
    http = sender_for(Settings(secret_key="k" * 20, notify_sender="http", notify_http_url="http://gw/sms",
                               notify_http_timeout=3))
    assert isinstance(http, ChannelSender) and isinstance(http.sms, HttpSender)
    assert (http.sms.url, http.sms.timeout) == ("http://gw/sms", 3)
