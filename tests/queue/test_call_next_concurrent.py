"""Four windows calling at once over HTTP never call the same ticket twice, and every ticket gets served."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from tests.factories import DEMO_PASSWORD, api_token

HALL = "HJ-NGC"  # a village point the demo leaves without windows
WINDOWS = 4
TICKETS = 40


def _token(client: httpx.Client, username: str) -> dict[str, str]:
    return api_token(client, username)


def test_windows_calling_at_once_never_share_a_ticket(live_server: Any) -> None:
    with httpx.Client(base_url=live_server.url, timeout=60) as client:
        admin = _token(client, "admin")
        clerks: list[tuple[int, dict[str, str]]] = []
        for n in range(1, WINDOWS + 1):
            r = client.put(f"/api/v1/queue/halls/{HALL}/windows/{n}", json={"kind": "comprehensive", "skills": ["A"]},
                           headers=admin)
            assert r.status_code == 200, r.text
            window_id = r.json()["id"]
            username = f"ngc_clerk{n}"
            r = client.post("/api/v1/staff", json={"username": username, "password": DEMO_PASSWORD,
                                                   "display_name": f"村{n}", "role": "clerk", "department": "ZWFW",
                                                   "hall": HALL}, headers=admin)
            assert r.status_code == 201, r.text
            assert client.put(f"/api/v1/queue/qualifications/{username}", json={"categories": ["A"]},
                              headers=admin).status_code == 200
            headers = _token(client, username)
            assert client.post(f"/api/v1/queue/windows/{window_id}/sign-in", headers=headers).status_code == 200
            clerks.append((window_id, headers))
        issued = [client.post(f"/api/v1/queue/halls/{HALL}/tickets", json={"category": "A"}).json()["number"]
                  for _ in range(TICKETS)]

    def work(clerk: tuple[int, dict[str, str]]) -> list[str]:
        window_id, headers = clerk
        served: list[str] = []
        with httpx.Client(base_url=live_server.url, timeout=60, headers=headers) as c:
            while True:
                r = c.post(f"/api/v1/queue/windows/{window_id}/call-next")
                assert r.status_code == 200, r.text
                ticket = r.json()["ticket"]
                if ticket is None:
                    return served
                base = f"/api/v1/queue/windows/{window_id}/tickets/{ticket['id']}"
                assert c.post(f"{base}/start-serving").status_code == 200
                assert c.post(f"{base}/finish").status_code == 200
                served.append(ticket["number"])

    with ThreadPoolExecutor(WINDOWS) as pool:
        per_window = list(pool.map(work, clerks))
    called = Counter(n for numbers in per_window for n in numbers)
    assert sorted(called) == sorted(issued) and set(called.values()) == {1}
    assert sum(1 for numbers in per_window if numbers) >= 2  # the calls really overlapped
