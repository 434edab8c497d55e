"""Eight submissions for one visit at the same moment over HTTP: exactly one rating is stored, the rest 409."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from tests.factories import api_token
from tests.ratings.live import finish_visit, start_visit

THREADS = 8


def test_concurrent_ratings_of_one_visit_store_exactly_one(live_server: Any) -> None:
    base = live_server.url
    with httpx.Client(timeout=60) as client:
        visit = start_visit(client, base)
        finish_visit(client, base, visit)
    barrier = threading.Barrier(THREADS)
    url = f"{base}/api/v1/ratings/tickets/{visit.token}"

    def rate(i: int) -> tuple[int, Any]:
        with httpx.Client(timeout=60) as own:
            barrier.wait()
            r = own.post(url, json={"level": "satisfied" if i % 2 else "very_unsatisfied", "reasons": ["long_wait"],
                                    "channel": "qr"})
            return r.status_code, r.json()

    with ThreadPoolExecutor(THREADS) as pool:
        answers = list(pool.map(rate, range(THREADS)))
    assert Counter(status for status, _ in answers) == {201: 1, 409: THREADS - 1}, answers
    assert all(a["errors"][0]["code"] == "already_rated" for s, a in answers if s == 409)
    with httpx.Client(timeout=60) as client:
        admin = api_token(client, "admin", base=base)
        items = client.get(f"{base}/api/v1/ratings", params={"limit": 500}, headers=admin).json()["items"]
    assert [i["ticket_id"] for i in items].count(visit.ticket_id) == 1
