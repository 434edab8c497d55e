"""The window's evaluator in headless Chromium: opened idle, it turns into the form when the clerk finishes a
visit at its window; the citizen gives a 差评 with a reason, is thanked, and the rating exists."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.factories import api_token
from tests.ratings.live import clerk_window, evaluator_url, finish_visit, start_visit

pytestmark = pytest.mark.browser


def test_the_evaluator_turns_into_the_form_when_the_clerk_finishes_and_records_a_negative_rating(
        live_server: Any, page: Any, artifacts: Path) -> None:
    from playwright.sync_api import expect

    base = live_server.url
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.set_viewport_size({"width": 1024, "height": 768})
    with httpx.Client(timeout=60) as client:
        window, _clerk = clerk_window(client, base)
        visit = start_visit(client, base)
        page.goto(evaluator_url(live_server, window["id"]))
        # idle, unless the window's previous visit (freed just now) is still on offer
        expect(page.locator("[data-evaluator-idle], [data-evaluator-form]")).to_be_visible()
        expect(page.locator("[data-live-status]")).to_have_text("实时更新中", timeout=10_000)
        page.screenshot(path=str(artifacts / "ratings-evaluator-idle.png"))
        finish_visit(client, base, visit)

    form = page.locator("[data-evaluator-form]")
    expect(form).to_contain_text(visit.number, timeout=10_000)  # the visit just finished here
    page.screenshot(path=str(artifacts / "ratings-evaluator-form.png"), full_page=True)
    page.locator("label.rate-very_unsatisfied").click()
    page.locator("label.rate-reason", has_text="等候时间长").click()
    page.get_by_role("button", name="提交评价").click()
    expect(page.get_by_text("谢谢您的评价")).to_be_visible(timeout=10_000)
    page.screenshot(path=str(artifacts / "ratings-evaluator-thanks.png"))
    expect(page.locator("[data-evaluator-idle]")).to_be_visible(timeout=15_000)  # back to idle

    with httpx.Client(timeout=60) as client:
        admin = api_token(client, "admin", base=base)
        items = client.get(f"{base}/api/v1/ratings", params={"negative": "true", "limit": 500},
                           headers=admin).json()["items"]
    [rating] = [i for i in items if i["ticket_id"] == visit.ticket_id]
    assert (rating["level"], rating["channel"], rating["reasons"]) == ("very_unsatisfied", "evaluator", ["long_wait"])
    assert errors == []
