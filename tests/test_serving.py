"""The served HTTP protocol (``serving.CappedKeepAlive``): a keep-alive connection carries at most
``REQUESTS_PER_CONNECTION`` requests, the last answered with ``Connection: close`` and the connection then closed,
so that its client opens a new one (which any worker may accept). Served by uvicorn on loopback."""

from __future__ import annotations

import http.client
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn

from onewindow.serving import REQUESTS_PER_CONNECTION, CappedKeepAlive


async def _ok(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            pass
        return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"ok"})


@pytest.fixture
def port() -> Iterator[int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        free = int(s.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(_ok, host="127.0.0.1", port=free, http=CappedKeepAlive, log_level="error",
                                           lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.01)
    yield free
    server.should_exit = True
    thread.join(10)


def test_a_connection_is_closed_after_its_last_allowed_request(port: int) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    local_ports = []
    closes = []
    for _ in range(REQUESTS_PER_CONNECTION + 2):
        conn.request("GET", "/")
        local_ports.append(conn.sock.getsockname()[1])
        response = conn.getresponse()
        assert response.read() == b"ok"
        closes.append(response.getheader("connection") == "close")
    conn.close()
    assert closes.index(True) == REQUESTS_PER_CONNECTION - 1 and closes.count(True) == 1
    # one connection for the first hundred requests, a new one (opened by the client) for the rest
    assert len(set(local_ports[:REQUESTS_PER_CONNECTION])) == 1
    assert local_ports[REQUESTS_PER_CONNECTION] != local_ports[0]
    assert len(set(local_ports[REQUESTS_PER_CONNECTION:])) == 1
