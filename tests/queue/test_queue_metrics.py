"""Queue metrics match hand-computed values on a scripted morning (FixedClock)."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from onewindow.core.audit import Actor
from onewindow.core.clock import FixedClock
from onewindow.queue import metrics, service

from .conftest import QueueHall, at

KIOSK = Actor(None, "kiosk")


def test_metrics_against_hand_computed_values(session: Session, qhall: QueueHall, clock: FixedClock) -> None:
    c1 = qhall.make_clerk("m1clerk", ["A", "B"])
    c2 = qhall.make_clerk("m2clerk", ["A", "B"])
    w1, w2 = qhall.windows[1].id, qhall.windows[2].id

    def issue(minute: float, category: str) -> None:
        clock.set(at(minute))
        service.issue_ticket(session, clock=clock, actor=KIOSK, hall_code=qhall.code, category=category)

    def step(minute: float) -> None:
        clock.set(at(minute))

    issue(0, "A")  # A001
    issue(2, "A")  # A002
    issue(4, "B")  # B001
    step(5)
    service.sign_in_window(session, clock=clock, actor=c1.actor, window_id=w1)
    service.sign_in_window(session, clock=clock, actor=c2.actor, window_id=w2)
    step(10)
    a1 = service.call_next(session, clock=clock, actor=c1.actor, window_id=w1)  # pooled: oldest → A001, wait 10
    assert a1 is not None and a1.number == "A001"
    step(11)
    service.start_serving(session, clock=clock, actor=c1.actor, window_id=w1, ticket_id=a1.id)
    step(12)
    a2 = service.call_next(session, clock=clock, actor=c2.actor, window_id=w2)  # A002 (9:02) before B001, wait 10
    assert a2 is not None and a2.number == "A002"
    step(13)
    service.recall(session, clock=clock, actor=c2.actor, window_id=w2, ticket_id=a2.id)
    step(14)
    service.start_serving(session, clock=clock, actor=c2.actor, window_id=w2, ticket_id=a2.id)
    step(17)
    service.finish(session, clock=clock, actor=c1.actor, window_id=w1, ticket_id=a1.id)  # service 6
    step(24)
    service.finish(session, clock=clock, actor=c2.actor, window_id=w2, ticket_id=a2.id)  # service 10
    step(25)
    b1 = service.call_next(session, clock=clock, actor=c1.actor, window_id=w1)  # wait 21 > 15: over time
    assert b1 is not None and b1.number == "B001"
    step(26)
    service.mark_missed(session, clock=clock, actor=c1.actor, window_id=w1, ticket_id=b1.id)
    issue(30, "A")  # A003, still waiting at 9:50 (20 minutes: over time)
    step(50)

    m = service.queue_metrics(session, clock=clock, hall_code=qhall.code)
    hall = m.figures.hall.as_dict()
    assert hall == {"waiting_now": 1, "called": 3, "done": 2, "avg_wait_min": 13.7, "p90_wait_min": 21.0,
                    "avg_service_min": 8.0, "missed": 1, "calls": 4, "overtime_waits": 2}
    a = m.figures.by_category["A"].as_dict()
    assert (a["waiting_now"], a["avg_wait_min"], a["p90_wait_min"], a["avg_service_min"], a["calls"], a["missed"],
            a["overtime_waits"]) == (1, 10.0, 10.0, 8.0, 3, 0, 1)
    b = m.figures.by_category["B"].as_dict()
    assert (b["avg_wait_min"], b["calls"], b["missed"], b["overtime_waits"], b["done"]) == (21.0, 1, 1, 1, 0)
    win1, win2 = m.figures.by_window[w1].as_dict(), m.figures.by_window[w2].as_dict()
    assert (win1["avg_wait_min"], win1["p90_wait_min"], win1["avg_service_min"], win1["calls"], win1["missed"]) == \
        (15.5, 21.0, 6.0, 2, 1)
    assert (win2["avg_wait_min"], win2["avg_service_min"], win2["calls"], win2["missed"]) == (10.0, 10.0, 2, 0)
    assert c2.actor.id is not None
    assert m.figures.by_clerk[c2.actor.id].as_dict()["calls"] == 2
    out = m.as_dict()
    assert out["by_window"][0]["window"] == "1号窗口" and out["by_clerk"][0]["clerk"].startswith("测试")

    # the smart policy's estimate: the mean service time of done tickets of the category
    assert service.expected_service_minutes(session, clock=clock, hall_id=qhall.windows[1].hall_id)["A"] == \
        pytest.approx(8.0, abs=0.01)


def test_percentile_is_nearest_rank() -> None:
    assert metrics.percentile([], 0.9) is None
    assert metrics.percentile([5.0], 0.9) == 5.0
    assert metrics.percentile([float(i) for i in range(1, 11)], 0.9) == 9.0
    assert metrics.percentile([float(i) for i in range(1, 12)], 0.9) == 10.0
