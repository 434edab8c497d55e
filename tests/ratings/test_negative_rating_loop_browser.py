"""The 差评 loop in headless Chromium: the window's evaluator is open, the clerk finishes a visit there, the
citizen gives 非常不满意 with a reason, and the department head (signed in in a second browser context) sees
the new work order appear on /rectifications."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.factories import DEMO_PASSWORD, api_token
from tests.ratings.live import clerk_window, evaluator_url, finish_visit, start_visit

pytestmark = pytest.mark.browser

HEAD = "head_zwfw"  # the visit has no item: the rating judges the clerk's department, the center (ZWFW)


def test_a_negative_rating_on_the_evaluator_reaches_the_department_heads_work_orders(
        live_server: Any, browser: Any, page: Any, artifacts: Path) -> None:
    from playwright.sync_api import expect

    base = live_server.url
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    head_context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    try:
        head = head_context.new_page()
        head.on("pageerror", lambda exc: errors.append(str(exc)))
        head.goto(f"{base}/login")
        head.locator("input[name=username]").fill(HEAD)
        head.locator("input[name=password]").fill(DEMO_PASSWORD)
        head.get_by_role("button", name="登录").click()
        head.wait_for_load_state()
        head.goto(f"{base}/rectifications")
        expect(head.get_by_role("heading").first).to_be_visible()
        known = set(head.locator("[data-order]").evaluate_all("rows => rows.map(r => r.dataset.order)"))

        with httpx.Client(timeout=60) as client:
            window, _clerk = clerk_window(client, base)
            visit = start_visit(client, base)
            page.goto(evaluator_url(live_server, window["id"]))
            expect(page.locator("[data-evaluator-idle], [data-evaluator-form]")).to_be_visible()
            expect(page.locator("[data-live-status]")).to_have_text("实时更新中", timeout=10_000)
            finish_visit(client, base, visit)

        form = page.locator("[data-evaluator-form]")
        expect(form).to_contain_text(visit.number, timeout=10_000)
        page.locator("label.rate-very_unsatisfied").click()
        page.locator("label.rate-reason", has_text="态度不好").click()
        page.get_by_role("button", name="提交评价").click()
        expect(page.get_by_text("谢谢您的评价")).to_be_visible(timeout=10_000)

        with httpx.Client(timeout=60) as client:
            admin = api_token(client, "admin", base=base)
            ratings = client.get(f"{base}/api/v1/ratings", params={"negative": "true", "limit": 500},
                                 headers=admin).json()["items"]
            [rating] = [r for r in ratings if r["ticket_id"] == visit.ticket_id]
            orders = client.get(f"{base}/api/v1/rectifications", params={"source_kind": "rating", "limit": 200},
                                headers=admin).json()
        [order] = [o for o in orders if o["source_id"] == rating["id"]]
        assert order["number"] not in known

        row = head.locator(f'[data-order="{order["number"]}"]')
        deadline = time.monotonic() + 20
        while True:  # the head's list is not live: reload until the new order shows (bounded)
            head.reload()
            if row.count() or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        expect(row).to_be_visible()
        expect(row).to_contain_text("待核实")
        head.screenshot(path=str(artifacts / "ratings-loop-head-orders.png"), full_page=True)
    finally:
        head_context.close()
    assert errors == []
