"""Eight approvers decide the same case at the same moment over HTTP: exactly one wins.

Every request names the same ``version``; the service locks the case row (``FOR UPDATE`` on
PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite) and checks the version, so the first decision bumps it
and every other answers 409 with nothing written.
"""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from tests.cases.test_api import CANCEL, CANCEL_PAPER, ZHANG
from tests.factories import api_token

THREADS = 8


def _token(client: httpx.Client, base: str, username: str) -> dict[str, str]:
    return api_token(client, username, base=base)


def test_concurrent_approvals_exactly_one_wins(live_server: Any) -> None:
    base = live_server.url
    with httpx.Client(timeout=60) as client:
        clerk = _token(client, base, "clerk")
        approvers = [_token(client, base, name) for name in ("approver_scjg", "head_scjg")]
        r = client.post(f"{base}/api/v1/cases", headers=clerk,
                        json={"item_code": CANCEL, "applicant": ZHANG, "materials": CANCEL_PAPER})
        assert r.status_code == 201, r.text
        case = r.json()
        assert case["state"] == "accepted"
        r = client.post(f"{base}/api/v1/cases/{case['id']}/opinions", headers=approvers[0],
                        json={"version": case["version"], "opinion": "材料齐全，同意"})
        assert r.status_code == 200, r.text
        case = r.json()
        assert [s["status"] for s in case["steps"]] == ["done", "done", "pending"]  # only the decision is left

    barrier = threading.Barrier(THREADS)
    url = f"{base}/api/v1/cases/{case['id']}/decision"
    body = {"version": case["version"], "approve": True, "reason": "准予注销登记"}

    def decide(i: int) -> tuple[int, Any]:
        with httpx.Client(timeout=60) as own:  # one connection per approver
            barrier.wait()
            response = own.post(url, headers=approvers[i % len(approvers)], json=body)
            return response.status_code, response.json()

    with ThreadPoolExecutor(THREADS) as pool:
        answers = list(pool.map(decide, range(THREADS)))

    assert Counter(status for status, _ in answers) == {200: 1, 409: THREADS - 1}, answers
    for status, answer in answers:
        if status == 409:
            assert [(e["field"], e["code"]) for e in answer["errors"]] == [("version", "stale_version")]
    with httpx.Client(timeout=60) as client:
        final = client.get(f"{base}/api/v1/cases/{case['id']}", headers=clerk).json()
    assert final["state"] == "approved" and final["version"] == case["version"] + 1
    assert [e["kind"] for e in final["timeline"]].count("approved") == 1
