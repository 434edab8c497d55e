"""The public hall state (``GET /api/v1/queue/halls/{hall}/state``) is answered from one read for
``hall_state_cache_seconds`` per worker (the suite's other tests turn it off): within that time every caller gets
the same answer, a ticket taken meanwhile shows once it has passed; an unknown hall is never kept."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from fastapi import FastAPI

from onewindow.queue import api

from .conftest import QueueHall


def _waiting(client: Any, hall: str) -> int:
    response = client.get(f"/api/v1/queue/halls/{hall}/state")
    assert response.status_code == 200
    total: int = response.json()["waiting_total"]
    return total


def _take(client: Any, hall: str) -> None:
    assert client.post(f"/api/v1/queue/halls/{hall}/tickets", json={"category": "A"}).status_code == 201


def test_the_state_is_read_again_once_the_cache_time_has_passed(app: FastAPI, client: Any, qhall: QueueHall,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    app.state.settings = app.state.settings.model_copy(update={"hall_state_cache_seconds": 1.0})
    now = [1000.0]
    monkeypatch.setattr(api, "time", SimpleNamespace(monotonic=lambda: now[0]))  # the cache's clock alone
    before = _waiting(client, qhall.code)
    _take(client, qhall.code)
    now[0] += 0.5
    assert _waiting(client, qhall.code) == before  # within the second: the answer read before the ticket
    now[0] += 0.6
    assert _waiting(client, qhall.code) == before + 1  # read again
    _take(client, qhall.code)
    assert _waiting(client, qhall.code) == before + 1
    now[0] += 1.0
    assert _waiting(client, qhall.code) == before + 2


def test_without_the_cache_each_call_reads_the_state(client: Any, qhall: QueueHall) -> None:
    before = _waiting(client, qhall.code)
    _take(client, qhall.code)
    assert _waiting(client, qhall.code) == before + 1


def test_an_unknown_hall_is_not_kept(app: FastAPI, client: Any, qhall: QueueHall) -> None:
    app.state.settings = app.state.settings.model_copy(update={"hall_state_cache_seconds": 60.0})
    assert client.get("/api/v1/queue/halls/NO-SUCH/state").status_code == 404
    assert _waiting(client, qhall.code) >= 0
    assert set(app.state.hall_state_cache) == {qhall.code}
