"""Headless Chromium: a citizen files a complaint on the public page from a phone, the center dispatches it, the
department's handler signs and replies from the inbox, and the citizen reads the reply by tracking code."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.factories import api_token, browser_login

pytestmark = pytest.mark.browser


def test_a_citizen_files_the_handler_replies_and_the_citizen_reads_the_reply(live_server: Any, browser: Any,
                                                                               artifacts: Path) -> None:
    from playwright.sync_api import expect

    base = live_server.url
    errors: list[str] = []
    phone = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True)
    staff = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    desk = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    try:
        citizen = phone.new_page()
        citizen.on("pageerror", lambda exc: errors.append(str(exc)))
        citizen.goto(f"{base}/complaint")
        citizen.locator("#category").select_option("complain")
        citizen.locator("#subject").fill("办营业执照被要求反复补材料")
        citizen.locator("#content").fill("三次到窗口，每次告知的材料都不一样。")
        citizen.locator("#name").fill("钱投诉")
        citizen.locator("#phone").fill("13700001234")
        citizen.locator("#submit").click()
        expect(citizen.get_by_role("heading", name="您的诉求已受理")).to_be_visible()
        code = citizen.locator("#tracking-code").inner_text().strip()
        number = citizen.locator("#number").inner_text().strip()
        citizen.screenshot(path=str(artifacts / "complaint-filed-phone.png"), full_page=True)

        with httpx.Client(timeout=60) as client:
            admin = api_token(client, "admin", base=base)
            [filed] = [c for c in client.get(f"{base}/api/v1/complaints", headers=admin).json()
                       if c["number"] == number]
        dispatcher = staff.new_page()
        dispatcher.on("pageerror", lambda exc: errors.append(str(exc)))
        browser_login(dispatcher, base, "admin", "/complaints/dispatch")
        dispatcher.locator(f'[data-complaint="{number}"]').get_by_role("link", name=number).click()
        lead = dispatcher.locator("#action-dispatch select[name=lead_department_id]")
        lead.select_option(label="获嘉县市场监督管理局")
        dispatcher.locator("#action-dispatch").get_by_role("button", name="派单").click()
        expect(dispatcher.locator("#notice")).to_have_text("已派单。")
        assert dispatcher.url.endswith(f"/complaints/{filed['id']}?done=dispatch")

        handler = desk.new_page()
        handler.on("pageerror", lambda exc: errors.append(str(exc)))
        browser_login(handler, base, "head_scjg", "/complaints/inbox")
        row = handler.locator(f'[data-complaint="{number}"]')
        expect(row).to_be_visible()
        row.get_by_role("link", name=number).click()
        handler.locator("#action-sign").get_by_role("button", name="签收").click()
        expect(handler.locator("#notice")).to_have_text("已签收。")
        handler.locator("#action-reply textarea[name=reply]").fill("已核实，窗口已统一材料清单，请按清单办理。")
        handler.locator("#action-reply").get_by_role("button", name="答复").click()
        expect(handler.locator("#notice")).to_have_text("已答复诉求人。")
        handler.screenshot(path=str(artifacts / "complaint-replied-handler.png"), full_page=True)

        citizen.goto(f"{base}/complaint/track")
        citizen.locator("#code").fill(code.lower())
        citizen.get_by_role("button", name="查询").click()
        expect(citizen.locator("#state")).to_have_text("已答复，待回访")
        expect(citizen.locator("#reply")).to_contain_text("窗口已统一材料清单")
        expect(citizen.locator("#department")).to_contain_text("市场监督管理")
        expect(citizen.locator("#tracking")).not_to_contain_text("13700001234")
        expect(citizen.locator("#tracking")).not_to_contain_text("钱投诉")
        citizen.screenshot(path=str(artifacts / "complaint-tracked-phone.png"), full_page=True)
    finally:
        phone.close()
        staff.close()
        desk.close()
    assert errors == []
