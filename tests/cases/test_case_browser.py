"""A window case in headless Chromium: the clerk accepts at the intake workbench (the ID card comes from the
certificate library), the market-regulation approver finds it in the inbox, reviews it and approves it. No
request of the clerk's browser carries the applicant's ID number in its URL."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from onewindow.cases.rules import material_key
from onewindow.certificates.demo import ZHANG_WEI
from tests.factories import browser_login

pytestmark = pytest.mark.browser

SHOP = "410724-SCJG-XK-001"  # 个体工商户设立登记 (市场监管)
FORM_KEY = material_key("个体工商户登记（备案）申请书", None)
PREMISES_KEY = material_key("经营场所使用证明（租赁协议等）", None)


def _errors_of(page: Any) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors


_login = browser_login


def test_clerk_accepts_at_the_window_and_the_approver_approves(live_server: Any, browser: Any,
                                                                artifacts: Path) -> None:
    from playwright.sync_api import expect

    base = live_server.url
    clerk_context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    approver_context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    try:
        clerk = clerk_context.new_page()
        clerk_errors = _errors_of(clerk)
        clerk_requests: list[tuple[str, str]] = []  # (method, URL) of every request the clerk's page makes
        clerk.on("request", lambda request: clerk_requests.append((request.method, request.url)))
        _login(clerk, base, "clerk", "/cases/intake")
        expect(clerk.locator("nav.site-nav a[href='/cases/intake']")).to_have_text("受理工作台")

        # 1. the applicant by ID: usable certificates shown, the number masked
        clerk.fill("#applicant-search input[name=id]", ZHANG_WEI)
        clerk.click("#applicant-search button[type=submit]")
        expect(clerk.locator("[data-applicant-id]")).to_have_text(f"{ZHANG_WEI[:6]}********{ZHANG_WEI[-4:]}")
        expect(clerk.locator("#certificates")).to_contain_text("居民身份证")

        # 2. the item, found by the HTMX search box; "重新选择" goes back to the search
        clerk.fill("#target-q", "个体工商户设立")
        target = clerk.locator(f"#target-results button[data-target-code='{SHOP}']")
        expect(target).to_be_visible()
        target.click()
        expect(clerk.locator("[data-target-name]")).to_have_text("个体工商户设立登记")
        clerk.click("#reselect-button")
        expect(clerk.locator("#target-q")).to_be_visible()
        expect(clerk.locator("[data-applicant-id]")).to_have_text(f"{ZHANG_WEI[:6]}********{ZHANG_WEI[-4:]}")
        clerk.fill("#target-q", "个体工商户设立")
        clerk.locator(f"#target-results button[data-target-code='{SHOP}']").click()
        expect(clerk.locator("[data-target-name]")).to_have_text("个体工商户设立登记")

        # 3. the checklist: the ID card comes from the library (免提交); the rest is handed in on paper. A further
        # holder refreshes the rows over HTMX (a POST with the CSRF header); a bad number is reported in place.
        expect(clerk.locator("select[name='material:cert:ID_CARD']")).to_have_value("library")
        with clerk.expect_response(lambda r: r.url.endswith("/cases/intake/checklist")) as refreshed:
            clerk.fill("input[name=extra_holders]", "123")
            clerk.locator("input[name=extra_holders]").dispatch_event("change")
        assert refreshed.value.status == 200
        expect(clerk.locator("#checklist")).to_contain_text("第 1 个其他持证人证件号码无效")
        with clerk.expect_response(lambda r: r.url.endswith("/cases/intake/checklist")) as refreshed:
            clerk.fill("input[name=extra_holders]", "")
            clerk.locator("input[name=extra_holders]").dispatch_event("change")
        assert refreshed.value.status == 200
        expect(clerk.locator("#checklist")).not_to_contain_text("其他持证人证件号码无效")
        expect(clerk.locator("select[name='material:cert:ID_CARD']")).to_have_value("library")
        expect(clerk.locator(f"select[name='material:{FORM_KEY}']")).to_have_value("missing")
        clerk.select_option(f"select[name='material:{FORM_KEY}']", "paper")
        clerk.select_option(f"select[name='material:{PREMISES_KEY}']", "paper")
        clerk.fill("input[name=applicant_phone]", "13812345678")
        clerk.screenshot(path=str(artifacts / "cases-intake.png"), full_page=True)
        clerk.click("button[data-action=accept]")
        clerk.wait_for_url(re.compile(r"/cases/\d+\?done=accepted$"))
        number = clerk.locator("[data-case-number]").inner_text().strip()
        assert re.match(r"^\d{8}-\d{5}", number), number
        expect(clerk.locator("#notice a[data-document=acceptance]")).to_be_visible()
        expect(clerk.locator("#materials tr[data-material='cert:ID_CARD']")).to_contain_text("证照库调取（免提交）")
        expect(clerk.locator("body")).not_to_contain_text(ZHANG_WEI)
        clerk.screenshot(path=str(artifacts / "cases-accepted.png"), full_page=True)

        # the whole intake flow kept the ID number out of every URL (history, proxies, the access log)
        posts = {url.removeprefix(base) for method, url in clerk_requests if method == "POST"}
        assert {"/cases/intake/applicant", "/cases/intake/targets", "/cases/intake/target",
                "/cases/intake/checklist", "/cases/intake"} <= posts, posts
        leaked = [url for _method, url in clerk_requests
                  if ZHANG_WEI in url or ZHANG_WEI.lower() in url or ZHANG_WEI[:-4] in url]
        assert not leaked, leaked
        history = clerk.evaluate("() => location.href")
        assert ZHANG_WEI not in history and ZHANG_WEI[:-4] not in history

        # 4. the approver of the handling department: inbox → case → opinions → approval
        approver = approver_context.new_page()
        approver_errors = _errors_of(approver)
        _login(approver, base, "approver_scjg", "/cases/inbox")
        row = approver.locator(f"#inbox tr[data-case='{number}']")
        expect(row).to_be_visible()
        approver.screenshot(path=str(artifacts / "cases-inbox.png"), full_page=True)
        row.get_by_role("link", name=number).click()
        expect(approver.locator("[data-case-number]")).to_have_text(number)
        for opinion in ("材料齐全，经营场所核实无误", "符合登记条件，予以核准"):
            step = approver.locator("#action-opinion [data-next-step]").inner_text().strip()
            approver.fill("#action-opinion textarea[name=opinion]", opinion)
            approver.click("#action-opinion button[data-action=opinion]")
            expect(approver.locator(f"#steps li[data-step='{step}']")).to_have_attribute("data-step-status", "done")
        expect(approver.locator("#action-opinion")).to_have_count(0)
        approver.fill("#action-decide textarea[name=reason]", "符合条件，准予登记")
        approver.click("#action-decide button[data-action=approve]")
        approver.wait_for_url(re.compile(r"/cases/\d+\?done=approved$"))
        expect(approver.locator("[data-decision=approved]")).to_contain_text("准予")
        expect(approver.locator("[data-state]").first).to_have_text("准予许可（已办结）")
        approver.screenshot(path=str(artifacts / "cases-approved.png"), full_page=True)
        assert not clerk_errors, clerk_errors
        assert not approver_errors, approver_errors
    finally:
        clerk_context.close()
        approver_context.close()
