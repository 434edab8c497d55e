"""The plan page in headless Chromium: the admin generates a week, edits an hour and sees it re-checked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.factories import browser_login

WEEK = "2027-03-01"  # a Monday far from the weeks other tests touch (the live database is shared)


@pytest.mark.browser
def test_admin_generates_edits_and_rechecks_a_week(live_server: Any, page: Any, artifacts: Path) -> None:
    target = f"/planning?week={WEEK}"
    browser_login(page, live_server.url, "admin", target)
    assert page.locator("#no-plan").is_visible()
    page.fill("input[name=target_mean]", "15")
    page.click("#generate button[type=submit]")
    page.wait_for_url("**/planning?hall=*&done=generated", timeout=120_000)
    assert page.locator("#week-glance").is_visible()
    assert page.locator("#week-glance thead th").count() == 1 + 5  # the hour column and Monday to Friday
    page.screenshot(path=str(artifacts / "planning-week.png"), full_page=True)

    monday = page.locator("#day-mon")
    field = monday.locator("input[name='w-16-A']")  # the quiet last hour has windows to spare in the hall
    field.fill(str(int(field.input_value()) + 1))
    monday.locator("button[type=submit]").click()
    page.wait_for_url("**/planning?hall=*&done=edited", timeout=60_000)
    assert page.locator("#day-mon", has_text="已人工调整").is_visible()
    assert page.locator("[role=status]", has_text="已保存调整并重新仿真检验").is_visible()
    page.screenshot(path=str(artifacts / "planning-edited.png"), full_page=True)
