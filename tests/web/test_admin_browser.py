"""The admin item editor in headless Chromium: sign in, add a material row with HTMX, save, see version 2."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests.browser_wait import wait_for_expression
from tests.factories import DEMO_PASSWORD

# A quiet item that other browser tests do not look at: the live server's database is shared by the run.
CODE = "410724-SCJG-JL-001"  # 食品安全违法行为举报奖励: legal 30, promised 15


@pytest.mark.browser
def test_admin_edits_the_promised_limit_and_sees_version_2(live_server: Any, page: Any, artifacts: Path) -> None:
    page.goto(f"{live_server.url}/admin")
    assert "/login" in page.url  # anonymous: sent to sign in
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin")
    assert page.locator("text=事项库指标").is_visible()
    page.screenshot(path=str(artifacts / "admin-dashboard.png"), full_page=True)

    page.goto(f"{live_server.url}/admin/items/{CODE}")
    rows = page.locator("#materials tbody tr")
    before = rows.count()
    page.evaluate("window.__notReloaded = true")
    page.click("button[value=add_material]")
    wait_for_expression(page, f"document.querySelectorAll('#materials tbody tr').length === {before + 1}")
    assert page.evaluate("window.__notReloaded === true")  # HTMX swapped the table in place

    page.fill("input[name=promised_limit_days]", "10")
    page.fill("input[name=change_note]", "承诺时限由15个工作日压缩为10个")
    page.click("button.primary[value=save]")
    page.wait_for_url(f"**/admin/items/{CODE}?done=saved*")
    assert page.locator("[role=status]", has_text="已保存为第 2 版").is_visible()
    history = page.locator("#versions tbody tr")
    assert history.count() == 2
    assert "第 2 版" in history.nth(0).inner_text()
    assert "承诺时限由15个工作日压缩为10个" in history.nth(0).inner_text()
    assert page.locator("input[name=promised_limit_days]").input_value() == "10"
    assert page.locator("#materials tbody tr").count() == before  # the empty added row was not saved
    page.screenshot(path=str(artifacts / "admin-item-version-2.png"), full_page=True)

    page.click(f"a[href='/admin/items/{CODE}/versions/1']")
    assert page.locator("text=这是历史版本").is_visible()
    assert page.locator("dd", has_text="15个工作日").count() >= 1
