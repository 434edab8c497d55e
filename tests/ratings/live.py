"""Serving a visit at the demo clerk's window over HTTP, for the tests against the live server."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from onewindow.ratings.links import evaluator_path
from tests.factories import api_token

HALL = "HJ-ZWZX"
CLERK_NAME = "李综窗"  # the demo clerk


@dataclass(frozen=True)
class Visit:
    """A ticket at the clerk's window: its window, id, opaque token and the clerk's headers."""

    window_id: int
    ticket_id: int
    number: str
    token: str
    clerk: dict[str, str]


def _api(base: str) -> str:
    return f"{base}/api/v1/queue"


def clerk_window(client: httpx.Client, base: str) -> tuple[dict[str, Any], dict[str, str]]:
    """The clerk's window (signing into window 1 when signed in nowhere), freed of any ticket at it."""
    clerk = api_token(client, "clerk", base=base)
    windows = client.get(f"{_api(base)}/halls/{HALL}/windows", headers=clerk).json()
    window = next((w for w in windows if w["clerk"] == CLERK_NAME and w["status"] != "offline"), None)
    if window is None:
        window = next(w for w in windows if w["number"] == 1)
        r = client.post(f"{_api(base)}/windows/{window['id']}/sign-in", headers=clerk)
        assert r.status_code == 200, r.text
        window = r.json()
    if window["status"] == "paused":
        client.post(f"{_api(base)}/windows/{window['id']}/resume", headers=clerk)
    current = window.get("current")
    if current is not None:
        path = f"{_api(base)}/windows/{window['id']}/tickets/{current['id']}"
        if current["state"] == "called":
            assert client.post(f"{path}/start-serving", headers=clerk).status_code == 200
        assert client.post(f"{path}/finish", headers=clerk).status_code == 200
    return window, clerk


def start_visit(client: httpx.Client, base: str, *, category: str = "A") -> Visit:
    """A new ticket called specifically to the clerk's window and being served there."""
    window, clerk = clerk_window(client, base)
    r = client.post(f"{_api(base)}/halls/{HALL}/tickets", json={"category": category})
    assert r.status_code == 201, r.text
    issued = r.json()
    waiting = client.get(f"{_api(base)}/halls/{HALL}/waiting", headers=clerk).json()
    ticket_id = next(t["id"] for t in waiting if t["number"] == issued["number"])
    r = client.post(f"{_api(base)}/windows/{window['id']}/call-specific", headers=clerk,
                    json={"ticket_id": ticket_id, "reason": "评价测试"})
    assert r.status_code == 200, r.text
    r = client.post(f"{_api(base)}/windows/{window['id']}/tickets/{ticket_id}/start-serving", headers=clerk)
    assert r.status_code == 200, r.text
    return Visit(window["id"], ticket_id, issued["number"], issued["token"], clerk)


def finish_visit(client: httpx.Client, base: str, visit: Visit) -> None:
    """The clerk finishes the visit (办结): the hall's ``ticket.done`` event goes out."""
    r = client.post(f"{_api(base)}/windows/{visit.window_id}/tickets/{visit.ticket_id}/finish", headers=visit.clerk)
    assert r.status_code == 200, r.text


def evaluator_url(live_server: Any, window_id: int) -> str:
    """The keyed address of a window's evaluator on the live server (as the clerk's workbench shows it)."""
    settings = live_server.server.config.app.state.settings
    return f"{live_server.url}{evaluator_path(settings.secret_key, window_id)}"
