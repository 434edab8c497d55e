"""The policy editor in headless Chromium: editing the conditions updates the "who would match" count live."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests.browser_wait import wait_for_expression
from tests.factories import browser_login


@pytest.mark.browser
def test_editing_conditions_updates_the_match_count_without_reload(live_server: Any, page: Any,
                                                                    artifacts: Path) -> None:
    browser_login(page, live_server.url, "admin", "/admin/policies/ZC-QY-08")
    before = page.locator("#match-count").inner_text()
    page.evaluate("window.__notReloaded = true")
    page.fill("#conditions", '[{"field": "employees", "op": ">=", "value": 1}]')
    wait_for_expression(page, f"document.querySelector('#match-count') && "
                           f"document.querySelector('#match-count').innerText !== '{before}'")
    assert int(page.locator("#match-count").inner_text()) > int(before)
    page.fill("#conditions", '[{"field": "employees", "op": ">=", "value": "x"}]')
    page.wait_for_selector("#preview .field-error")
    assert "类型不符" in page.locator("#preview").inner_text()
    assert page.evaluate("window.__notReloaded === true")  # HTMX swapped the count in place
    page.screenshot(path=str(artifacts / "policy-editor-live-count.png"), full_page=True)
