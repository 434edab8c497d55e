"""How the app is served: uvicorn's HTTP protocol (httptools), with a cap on the requests one keep-alive connection
carries.

Several workers share one listening socket, and a keep-alive connection stays for its whole life with the worker
that accepted it. Connections opened together (the kiosks when the hall opens, a reverse proxy warming its pool)
are often all accepted by the worker that wakes first, which then serves every one of them while the others
idle: seen here as 13 of 16 connections, or all 16, on one of two workers. Answering a connection's
``REQUESTS_PER_CONNECTION``-th request with ``Connection: close`` (as nginx's ``keepalive_requests`` does) makes its
client open it again, and the worker with time to spare is the one that accepts it first: the load spreads over the
workers by itself within seconds, at the cost of one TCP handshake in a hundred requests.
"""

from __future__ import annotations

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

REQUESTS_PER_CONNECTION = 100


class CappedKeepAlive(HttpToolsProtocol):
    """uvicorn's httptools protocol, closing a connection after ``REQUESTS_PER_CONNECTION`` requests."""

    served = 0  # requests begun on this connection

    def on_headers_complete(self) -> None:
        """A request's head is read: count it; the last one allowed is answered with ``Connection: close``."""
        super().on_headers_complete()
        self.served += 1
        if self.served >= REQUESTS_PER_CONNECTION and self.cycle is not None and not self.cycle.response_complete:
            self.cycle.keep_alive = False
