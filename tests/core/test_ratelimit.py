"""The failed-attempt limiter of public lookups."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from onewindow.core.ratelimit import FailureLimiter, TooManyAttempts


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_failures_are_limited_per_key_and_forgotten_after_the_window() -> None:
    clock = _Clock()
    limiter = FailureLimiter(limit=3, window=60, clock=clock)
    for _ in range(3):
        limiter.check("a")
        limiter.failed("a")
    with pytest.raises(TooManyAttempts) as caught:
        limiter.check("a")
    assert caught.value.status == 429 and "分钟后再试" in caught.value.message
    limiter.check("b")  # another client is not affected
    clock.now += 61
    limiter.check("a")


def test_memory_is_bounded() -> None:
    clock = _Clock()
    limiter = FailureLimiter(limit=2, window=60, clock=clock, max_keys=10)
    for i in range(100):
        limiter.failed(f"k{i}")
    assert len(limiter._failures) <= 10


def test_public_tracking_answers_429_after_repeated_misses(client: TestClient) -> None:
    limit = client.app.state.lookup_limiter.limit  # type: ignore[attr-defined]
    for _ in range(limit):
        r = client.get("/api/v1/track", params={"number": "20261123-00001-4", "id_last4": "0000"})
        assert r.status_code in (404, 422)
    r = client.get("/api/v1/track", params={"number": "20261123-00001-4", "id_last4": "0000"})
    assert r.status_code == 429
    assert r.json()["errors"][0]["code"] == "too_many_attempts"
    page = client.get("/track", params={"number": "20261123-00001-4", "id_last4": "0000"})
    assert "分钟后再试" in page.text
