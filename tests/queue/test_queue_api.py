"""Queue API: take a ticket, call by the hall's policy, 409 on illegal moves, 403 for unqualified clerks."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from onewindow.core.clock import FixedClock
from onewindow.queue import service
from onewindow.queue.models import Ticket, TicketEvent

from .conftest import ADMIN, QueueHall, at

Headers = Callable[[str], dict[str, str]]


def take(client: TestClient, clock: FixedClock, minutes: float, category: str, **extra: str) -> dict[str, object]:
    clock.set(at(minutes))
    r = client.post("/api/v1/queue/halls/HJ-ZJZ/tickets", json={"category": category, **extra})
    assert r.status_code == 201, r.text
    body: dict[str, object] = r.json()
    return body


def test_take_ticket_numbers_per_category_and_masks_nothing_public(client: TestClient, qhall: QueueHall,
                                                                  clock: FixedClock) -> None:
    first = take(client, clock, 0, "A", id_number="11010519491231002X", phone="138 0373 1234")
    second = take(client, clock, 1, "A")
    other = take(client, clock, 2, "B")
    assert (first["number"], second["number"], other["number"]) == ("A001", "A002", "B001")
    assert second["ahead"] == 1 and first["state"] == "waiting" and first["state_label"] == "等待中"
    status = client.get(f"/api/v1/queue/tickets/{first['token']}").json()
    assert "id_number" not in status and "phone" not in status and "1002X" not in str(status)
    by_number = client.get("/api/v1/queue/halls/HJ-ZJZ/tickets/a002", params={"day": "2026-11-24"})
    assert by_number.json()["number"] == "A002"


def test_bad_id_number_and_phone_are_422_in_chinese(client: TestClient, qhall: QueueHall) -> None:
    r = client.post("/api/v1/queue/halls/HJ-ZJZ/tickets",
                    json={"category": "A", "id_number": "110105194912310021", "phone": "12345"})
    assert r.status_code == 422
    fields = {e["field"]: e["message"] for e in r.json()["errors"]}
    assert "校验码" in fields["id_number"] and "手机" in fields["phone"]
    r = client.post("/api/v1/queue/halls/HJ-ZJZ/tickets", json={"category": "Z"})
    assert r.status_code == 422 and r.json()["errors"][0]["code"] == "unknown_category"


@pytest.mark.parametrize(("policy", "expected"), [("dedicated", "A001"), ("pooled", "B001")])
def test_call_next_follows_the_hall_policy(policy: str, expected: str, client: TestClient, qhall: QueueHall,
                                           session: Session, clock: FixedClock, token_for: Headers) -> None:
    # Window 1 serves A (home) and B; B001 came first. Dedicated serves home only, pooled the oldest.
    service.update_settings(session, clock=clock, actor=ADMIN, hall_code=qhall.code, routing_policy=policy)
    qhall.make_clerk("qclerk1", ["A", "B"])
    take(client, clock, 0, "B")
    take(client, clock, 5, "A")
    window = qhall.windows[1].id
    headers = token_for("qclerk1")
    assert client.post(f"/api/v1/queue/windows/{window}/sign-in", headers=headers).status_code == 200
    r = client.post(f"/api/v1/queue/windows/{window}/call-next", headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["ticket"]["number"] == expected
    assert r.json()["announcement"] == f"请{expected}号到1号窗口办理"


def test_illegal_transitions_answer_409(client: TestClient, qhall: QueueHall, clock: FixedClock,
                                        token_for: Headers) -> None:
    qhall.make_clerk("qclerk2", ["A", "B"])
    take(client, clock, 0, "A")
    take(client, clock, 1, "A")
    headers = token_for("qclerk2")
    window = qhall.windows[1].id
    client.post(f"/api/v1/queue/windows/{window}/sign-in", headers=headers)
    called = client.post(f"/api/v1/queue/windows/{window}/call-next", headers=headers).json()["ticket"]
    base = f"/api/v1/queue/windows/{window}/tickets/{called['id']}"
    r = client.post(f"{base}/finish", headers=headers)  # called → done skips serving
    assert r.status_code == 409 and r.json()["errors"][0]["code"] == "illegal_ticket_transition"
    assert "不能变为" in r.json()["errors"][0]["message"]
    assert client.post(f"/api/v1/queue/windows/{window}/call-next", headers=headers).status_code == 409
    assert client.post(f"{base}/start-serving", headers=headers).status_code == 200
    assert client.post(f"{base}/finish", headers=headers).status_code == 200
    r = client.post(f"{base}/cancel", json={"reason": "x"}, headers=headers)
    assert r.status_code == 409 and "已办结" in r.json()["errors"][0]["message"]
    r = client.post(f"{base}/requeue", headers=headers)
    assert r.status_code == 409


def test_unqualified_clerk_is_403(client: TestClient, qhall: QueueHall, clock: FixedClock,
                                  token_for: Headers) -> None:
    qhall.make_clerk("qclerk3", ["C"])
    r = client.post(f"/api/v1/queue/windows/{qhall.windows[1].id}/sign-in", headers=token_for("qclerk3"))
    assert r.status_code == 403 and r.json()["errors"][0]["code"] == "not_qualified"
    # a window they did not sign into: no actions either
    r = client.post(f"/api/v1/queue/windows/{qhall.windows[1].id}/call-next", headers=token_for("qclerk3"))
    assert r.status_code == 403 and r.json()["errors"][0]["code"] == "not_signed_in"
    assert client.post(f"/api/v1/queue/windows/{qhall.windows[3].id}/sign-in",
                       headers=token_for("qclerk3")).status_code == 200
    # an applicant-facing role without queue rights
    assert client.post(f"/api/v1/queue/windows/{qhall.windows[3].id}/call-next",
                       headers=token_for("experiencer")).status_code == 403
    assert client.post(f"/api/v1/queue/windows/{qhall.windows[3].id}/call-next").status_code == 401


def test_missed_after_n_calls_then_requeued_once(client: TestClient, qhall: QueueHall, session: Session,
                                                 clock: FixedClock, token_for: Headers) -> None:
    service.update_settings(session, clock=clock, actor=ADMIN, hall_code=qhall.code, max_calls=2)
    session.commit()
    qhall.make_clerk("qclerk4", ["A", "B"])
    take(client, clock, 0, "A")
    headers = token_for("qclerk4")
    window = qhall.windows[1].id
    client.post(f"/api/v1/queue/windows/{window}/sign-in", headers=headers)
    ticket = client.post(f"/api/v1/queue/windows/{window}/call-next", headers=headers).json()["ticket"]
    base = f"/api/v1/queue/windows/{window}/tickets/{ticket['id']}"
    assert client.post(f"{base}/recall", headers=headers).json()["ticket"]["state"] == "called"
    missed = client.post(f"{base}/recall", headers=headers).json()["ticket"]
    assert missed["state"] == "missed" and missed["calls"] == 2
    again = client.post(f"{base}/requeue", headers=headers).json()["ticket"]
    assert again["state"] == "waiting" and again["requeued"] is True
    assert client.post(f"/api/v1/queue/windows/{window}/call-next", headers=headers).json()["ticket"]["id"] == \
        ticket["id"]
    assert client.post(f"{base}/mark-missed", headers=headers).json()["ticket"]["state"] == "missed"
    r = client.post(f"{base}/requeue", headers=headers)
    assert r.status_code == 409 and r.json()["errors"][0]["code"] == "requeue_exhausted"
    history = session.scalars(select(TicketEvent.to_state).where(TicketEvent.ticket_id == ticket["id"])
                              .order_by(TicketEvent.id)).all()
    assert history == ["waiting", "called", "called", "missed", "waiting", "called", "missed"]


def test_transfer_keeps_original_time_by_hall_setting(client: TestClient, qhall: QueueHall, session: Session,
                                                      clock: FixedClock, token_for: Headers) -> None:
    qhall.make_clerk("qclerk5", ["A", "B"])
    first = take(client, clock, 0, "A")
    take(client, clock, 3, "B")
    headers = token_for("qclerk5")
    window = qhall.windows[1].id
    client.post(f"/api/v1/queue/windows/{window}/sign-in", headers=headers)
    ticket = client.post(f"/api/v1/queue/windows/{window}/call-next", headers=headers).json()["ticket"]
    assert ticket["number"] == first["number"]
    clock.set(at(10))
    moved = client.post(f"/api/v1/queue/windows/{window}/tickets/{ticket['id']}/transfer", json={"to_category": "B"},
                        headers=headers).json()["ticket"]
    assert moved["state"] == "transferred" and moved["category"] == "B"
    status = client.get(f"/api/v1/queue/tickets/{first['token']}").json()
    assert status["ahead"] == 0  # kept its 9:00 place ahead of B001 (9:03)
    row = session.get(Ticket, ticket["id"])
    assert row is not None and row.number == "A001"


def test_metrics_and_settings_need_their_roles(client: TestClient, qhall: QueueHall, token_for: Headers) -> None:
    assert client.get("/api/v1/queue/halls/HJ-ZJZ/metrics", headers=token_for("clerk")).status_code == 403
    assert client.get("/api/v1/queue/halls/HJ-ZJZ/metrics", headers=token_for("supervisor")).status_code == 200
    assert client.put("/api/v1/queue/halls/HJ-ZJZ/settings", json={"routing_policy": "smart"},
                      headers=token_for("supervisor")).status_code == 403
    r = client.put("/api/v1/queue/halls/HJ-ZJZ/settings", json={"routing_policy": "nope"}, headers=token_for("admin"))
    assert r.status_code == 422 and r.json()["errors"][0]["code"] == "unknown_policy"
    r = client.put("/api/v1/queue/halls/HJ-ZJZ/settings", json={"routing_policy": "tidal", "max_calls": 2},
                   headers=token_for("admin"))
    assert r.status_code == 200 and r.json()["routing_policy"] == "tidal" and r.json()["max_calls"] == 2


def test_hall_state_is_public_and_shows_no_personal_data(client: TestClient, qhall: QueueHall,
                                                         clock: FixedClock) -> None:
    take(client, clock, 0, "A", phone="13803731234")
    r = client.get("/api/v1/queue/halls/HJ-ZJZ/state")
    assert r.status_code == 200
    body = r.json()
    assert body["waiting_total"] == 1 and {c["code"]: c["waiting"] for c in body["categories"]}["A"] == 1
    assert "1380373" not in r.text and len(body["windows"]) == 3


def test_public_reads_answer_their_documented_models(client: TestClient, qhall: QueueHall, clock: FixedClock,
                                                     token_for: Headers) -> None:
    from onewindow.queue.api import HallStateOut, TicketStatusOut

    qhall.make_clerk("qclerk1", ["A", "B"])
    first = take(client, clock, 0, "A")
    second = take(client, clock, 1, "B", phone="13803731234")
    window = qhall.windows[1].id
    headers = token_for("qclerk1")
    assert client.post(f"/api/v1/queue/windows/{window}/sign-in", headers=headers).status_code == 200
    called = client.post(f"/api/v1/queue/windows/{window}/call-next", headers=headers).json()["ticket"]
    state = client.get("/api/v1/queue/halls/HJ-ZJZ/state")
    status = client.get(f"/api/v1/queue/tickets/{second['token']}")
    by_number = client.get(f"/api/v1/queue/halls/HJ-ZJZ/tickets/{second['number']}", params={"day": "2026-11-24"})
    assert state.status_code == status.status_code == by_number.status_code == 200, (state.text, status.text)
    HallStateOut.model_validate_json(state.text)
    TicketStatusOut.model_validate_json(status.text)
    assert status.json() == by_number.json() and "1380373" not in state.text + status.text
    # the called ticket at its window: number and state only; its status names the window
    current = [w["current"] for w in state.json()["windows"] if w["current"] is not None]
    assert current == [{"number": called["number"], "state": "called"}]
    assert state.json()["recent_calls"][0]["announcement"] == f"请{called['number']}号到1号窗口办理"
    token = first["token"] if called["number"] == first["number"] else second["token"]
    assert client.get(f"/api/v1/queue/tickets/{token}").json()["window_number"] == 1
    paths = client.get("/openapi.json").json()["paths"]
    assert paths["/api/v1/queue/halls/{hall_code}/state"]["get"]["responses"]["200"]["content"][
        "application/json"]["schema"] == {"$ref": "#/components/schemas/HallStateOut"}
    assert client.get("/api/v1/queue/tickets/nope").status_code == 404
    assert client.get("/api/v1/queue/halls/NOPE/state").status_code == 404
    assert client.get("/api/v1/queue/halls/NOPE/tickets/A001").json()["errors"][0]["field"] == "code"


def test_a_ticket_taken_is_answered_201_even_when_its_place_in_line_cannot_be_read(
        client: TestClient, qhall: QueueHall, clock: FixedClock, monkeypatch: pytest.MonkeyPatch) -> None:
    """The answer is read after the COMMIT: the ticket exists by then, so a database failure reading its place in
    the line answers 201 with the place unknown (an error would have the caller take a second ticket)."""
    from sqlalchemy.exc import OperationalError

    def down(*_args: object, **_kwargs: object) -> None:
        raise OperationalError("SELECT count(*)", {}, Exception("server closed the connection"))

    monkeypatch.setattr(service, "status_of", down)
    body = take(client, clock, 0, "A")
    assert body["number"] == "A001" and body["ahead"] is None and body["estimated_wait_min"] is None
    monkeypatch.undo()
    status = client.get(f"/api/v1/queue/tickets/{body['token']}").json()
    assert status["number"] == "A001" and status["ahead"] == 0
