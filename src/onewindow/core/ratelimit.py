"""A failed-attempt limiter for public lookups (办件进度查询, 证照核验). Pure, thread-safe, per process.

A case number with the last 4 characters of an ID, or a certificate number with its check code, is a
guessable secret; a client that keeps failing is refused for a while (HTTP 429) so that the tail cannot
be brute-forced. Successful lookups cost nothing. Several workers each keep their own counts, which
still bounds guessing to workers × limit per window.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

from onewindow.core.errors import DomainError


class TooManyAttempts(DomainError):
    """Too many failed lookups from one client (HTTP 429)."""

    def __init__(self, minutes: int) -> None:
        super().__init__(code="too_many_attempts", status=429,
                         message=f"查询失败次数过多，请 {minutes} 分钟后再试")


class FailureLimiter:
    """At most ``limit`` failures per ``window`` seconds per key (e.g. the client address)."""

    def __init__(self, *, limit: int = 10, window: float = 600.0, clock: Callable[[], float] = time.monotonic,
                 max_keys: int = 10_000) -> None:
        self.limit, self.window, self._clock, self._max_keys = limit, window, clock, max_keys
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        q = self._failures.setdefault(key, deque())
        while q and q[0] <= now - self.window:
            q.popleft()
        return q

    def check(self, key: str) -> None:
        """Raise 429 when ``key`` has used up its failures."""
        with self._lock:
            if len(self._recent(key, self._clock())) >= self.limit:
                raise TooManyAttempts(max(1, round(self.window / 60)))

    def failed(self, key: str) -> None:
        """Count one failure of ``key``."""
        with self._lock:
            now = self._clock()
            if len(self._failures) >= self._max_keys and key not in self._failures:
                # forget keys with no recent failure first, then the oldest, so memory stays bounded
                for k in [k for k, q in self._failures.items() if not q or q[-1] <= now - self.window]:
                    del self._failures[k]
                if len(self._failures) >= self._max_keys:
                    del self._failures[next(iter(self._failures))]
            self._recent(key, now).append(now)
