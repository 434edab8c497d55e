"""1,000 tickets taken at once over HTTP get 1,000 distinct numbers, and every acknowledged one is stored."""

from __future__ import annotations

import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from sqlalchemy import select

from onewindow import db
from onewindow.catalog.models import Hall
from onewindow.queue.models import Ticket, TicketCounter

TICKETS = 1000
THREADS = 16
HALL = "HJ-KCZ"  # a town center the demo leaves without tickets


def test_thousand_concurrent_tickets_get_distinct_numbers(live_server: Any) -> None:
    url = f"{live_server.url}/api/v1/queue/halls/{HALL}/tickets"

    client = httpx.Client(timeout=120, limits=httpx.Limits(max_connections=THREADS))

    def take(i: int) -> tuple[str, str, str]:
        r = client.post(url, json={"category": "B", "channel": "api"})  # no retries: every call must succeed
        assert r.status_code == 201, f"ticket {i}: {r.status_code} {r.text}"
        body = r.json()
        return body["day"], body["number"], body["token"]

    started = time.monotonic()
    with client, ThreadPoolExecutor(THREADS) as pool:
        answers = list(pool.map(take, range(TICKETS)))
    elapsed = time.monotonic() - started
    print(f"\n{TICKETS} tickets over {THREADS} threads in {elapsed:.1f} s ({TICKETS / elapsed:.0f}/s)")

    assert len({(day, number) for day, number, _ in answers}) == TICKETS
    engine = live_server.server.config.app.state.engine
    with db.make_session_factory(engine)() as s:
        hall_id = s.scalars(select(Hall.id).where(Hall.code == HALL)).one()
        rows = s.execute(select(Ticket.day, Ticket.number, Ticket.token, Ticket.seq)
                         .where(Ticket.hall_id == hall_id)).all()
        counters = {c.day: c.last for c in s.scalars(select(TicketCounter).where(TicketCounter.hall_id == hall_id))}
    assert {(d.isoformat(), n, t) for d, n, t, _ in rows} == set(answers)  # none lost, none extra
    per_day = Counter(d for d, *_ in rows)
    for day, count in per_day.items():  # gap-free sequences (a run can straddle midnight)
        assert sorted(seq for d, _, _, seq in rows if d == day) == list(range(1, count + 1))
        assert counters[day] == count
