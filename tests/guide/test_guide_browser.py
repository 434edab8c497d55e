"""智能导办 in a real headless Chromium: "did this answer help?" and the admin's one-click mapping."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests.factories import DEMO_PASSWORD

pytestmark = pytest.mark.browser

QUESTION = "家里那个绿本本被狗啃了"
ANSWER = "410724-MZJ-QR-003"  # 补领婚姻登记证


def test_a_visitor_rates_the_answer_and_an_admin_maps_an_unanswered_question(
        live_server: Any, page: Any, artifacts: Path) -> None:
    from playwright.sync_api import expect

    page.goto(f"{live_server.url}/?q=结婚登记")
    feedback = page.locator("form.guide-feedback")
    expect(feedback).to_contain_text("这个回答有帮助吗")
    feedback.get_by_role("button", name="没帮助").click()
    expect(page.locator("#results")).to_contain_text("谢谢反馈")  # swapped in place by HTMX

    page.goto(f"{live_server.url}/?q={QUESTION}")  # no good answer: logged for the desk
    page.goto(f"{live_server.url}/admin/guide")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/guide")
    row = page.locator("tr", has_text=QUESTION).first
    expect(row).to_be_visible()
    page.screenshot(path=str(artifacts / "guide-desk.png"), full_page=True)
    row.locator("input[name=code]").fill(ANSWER)
    row.get_by_role("button", name="确定").click()
    mapped = page.get_by_role("heading", name="已标注的问题").locator("xpath=..")
    expect(mapped).to_contain_text(QUESTION)
    expect(mapped).to_contain_text("补领婚姻登记证")
    expect(page.get_by_role("heading", name="办事人对回答的评价").locator("xpath=..")).to_contain_text("结婚登记")
