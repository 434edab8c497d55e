"""电子监察 in headless Chromium: the supervisor lands on the alert inbox, filters the red cases, opens the
卫健委's overdue case and puts it under 督办 with a deadline; the 卫健委's head (a second browser context) finds
it in their own inbox and acknowledges it, and the supervisor sees the answer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.factories import DEMO_PASSWORD

pytestmark = pytest.mark.browser

CASE_TITLE = "出生医学证明签发"  # a demo case of 卫健委 past its promised date (rule case_red)


def _sign_in(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()


def test_the_supervisor_supervises_an_overdue_case_and_the_department_head_acknowledges_it(
        live_server: Any, browser: Any, page: Any, artifacts: Path) -> None:
    from playwright.sync_api import expect

    base = live_server.url
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    _sign_in(page, base, "supervisor")
    expect(page).to_have_url(f"{base}/supervision/alerts")  # the supervisor's landing page
    page.locator("select[name=rule]").select_option("case_red")
    page.get_by_role("button", name="筛选").click()
    row = page.locator("#alerts tbody tr", has_text=CASE_TITLE)
    expect(row).to_have_count(1)
    row.get_by_role("link").click()
    expect(page.locator("#evidence")).to_contain_text("承诺办结期限")
    form = page.locator("#action-supervise")
    form.locator("textarea[name=note]").fill("请于期限内办结并说明超期原因")
    form.locator("input[name=due]").fill("2027-01-15")
    form.get_by_role("button", name="督办").click()
    expect(page.locator("#notice")).to_contain_text("已督办")
    expect(page.locator("#supervised")).to_contain_text("请于期限内办结并说明超期原因")
    alert_url = page.url.split("?")[0]
    page.screenshot(path=str(artifacts / "supervision-alert-supervised.png"), full_page=True)

    head_context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    try:
        head = head_context.new_page()
        head.on("pageerror", lambda exc: errors.append(str(exc)))
        _sign_in(head, base, "head_wjw")
        head.goto(f"{base}/supervision/alerts?state=supervised")
        mine = head.locator("#alerts tbody tr", has_text=CASE_TITLE)
        expect(mine).to_have_count(1)
        expect(head.locator("#alerts tbody tr", has_text="等候")).to_have_count(0)  # not the hall's alerts
        mine.get_by_role("link").click()
        ack = head.locator("#action-acknowledge")
        ack.get_by_role("button", name="签收").click()  # empty: refused with the reason
        expect(head.locator("[data-form-error=acknowledge]")).to_contain_text("请填写签收说明")
        head.locator("#action-acknowledge textarea[name=note]").fill("申请人补充材料延误，已于今日办结")
        head.locator("#action-acknowledge").get_by_role("button", name="签收").click()
        expect(head.locator("#notice")).to_contain_text("已签收")
        head.screenshot(path=str(artifacts / "supervision-alert-acknowledged.png"), full_page=True)
    finally:
        head_context.close()

    page.goto(alert_url)
    expect(page.locator("#acknowledged")).to_contain_text("申请人补充材料延误")
    assert errors == []
