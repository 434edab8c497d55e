"""The grouped header menu in headless Chromium: a group opens on a click, one at a time, and its links work."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests.factories import browser_login


@pytest.mark.browser
def test_the_admin_opens_a_menu_group_and_follows_a_link(live_server: Any, page: Any, artifacts: Path) -> None:
    from playwright.sync_api import expect

    browser_login(page, live_server.url, "admin", "/account")
    system = page.locator("nav.site-nav details[data-nav-group]", has_text="系统")
    oversight = page.locator("nav.site-nav details[data-nav-group]", has_text="监督")
    users = system.get_by_role("link", name="账号管理")
    expect(users).to_be_hidden()
    oversight.locator("summary").click()
    expect(oversight.get_by_role("link", name="电子监察")).to_be_visible()
    system.locator("summary").click()  # opening another group closes the first
    expect(users).to_be_visible()
    expect(oversight.get_by_role("link", name="电子监察")).to_be_hidden()
    page.screenshot(path=str(artifacts / "menu-group-open.png"))
    page.keyboard.press("Escape")
    expect(users).to_be_hidden()
    system.locator("summary").click()
    users.click()
    page.wait_for_url(f"{live_server.url}/admin/users")
    expect(page.locator("nav.site-nav details[data-nav-group]", has_text="系统").locator("summary.current")) \
        .to_have_count(1)
