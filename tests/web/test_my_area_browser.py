"""“我的” in headless Chromium: 张伟 signs in and lands on “我的”, sees his cases and his 免申即享 offers, confirms
one with one click, and authorises an agent by picking the agent and the items from lists (searching the items)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests.conftest import ShiftedClock

from onewindow.demo import DEMO_PASSWORD

pytestmark = pytest.mark.browser

SOCIAL_CARD = "410724-RSJ-GG-001"  # 社会保障卡申领


def test_zhangwei_follows_his_items_confirms_an_offer_and_authorises_an_agent(
        live_server: Any, live_clock: ShiftedClock, page: Any, artifacts: Path) -> None:
    from playwright.sync_api import expect

    base = live_server.url
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    # 1. signing in, a citizen lands on “我的”: his cases, ratings and the offers pushed to him
    page.goto(f"{base}/login")
    page.fill("input[name=username]", "zhangwei")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(f"{base}/my")
    expect(page.locator("h1")).to_have_text("我的")
    expect(page.locator("nav a[aria-current=page]")).to_have_text("我的")
    expect(page.locator("#my-cases")).to_contain_text("无犯罪记录证明出具")
    expect(page.locator("#my-ratings")).to_contain_text("户籍证明出具")
    offer = page.locator("li.offer", has_text="育儿补贴")
    expect(offer.locator("[data-offer-state]")).to_have_text("待确认")
    page.screenshot(path=str(artifacts / "my-area-1-landing.png"), full_page=True)

    # 2. one click confirms the offer
    with page.expect_navigation():
        offer.locator("button[data-confirm-offer]").click()
    expect(page.locator("#my-notice")).to_contain_text("已确认申领")
    expect(offer.locator("[data-offer-state]")).to_have_text("已确认")
    expect(offer.locator("button[data-confirm-offer]")).to_have_count(0)
    page.screenshot(path=str(artifacts / "my-area-2-offer-confirmed.png"), full_page=True)

    # 3. authorise an agent: the agent and the items are picked from lists, the item list searched
    page.get_by_role("link", name="授权帮办代办").click()
    page.wait_for_url(f"{base}/my/authorizations/new")
    expect(page.locator("input[name=agent_username]")).to_have_count(0)
    page.get_by_label("郑帮办").check()
    unrelated = page.locator("label[data-filter-text]", has_text="无犯罪记录证明出具")  # another department
    neighbour = page.locator("label[data-filter-text]", has_text="失业保险金申领")  # the same department
    expect(unrelated).to_be_visible()
    page.fill("#scope-search", "社会保障卡")
    expect(unrelated).to_be_hidden()
    expect(neighbour).to_be_hidden()
    card = page.locator(f"input[name=scope][value='{SOCIAL_CARD}']")
    expect(card).to_be_visible()
    card.check()
    page.screenshot(path=str(artifacts / "my-area-3-authorise-from-lists.png"), full_page=True)
    page.fill("#scope-search", "")
    expect(unrelated).to_be_visible()
    expect(neighbour).to_be_visible()
    expect(card).to_be_checked()
    with page.expect_navigation():
        page.click("#authorization-form button[type=submit]")
    expect(page.locator(".notice")).to_contain_text("授权委托已登记")

    # 4. back on “我的”: the authorisation by the agent's name and the item's, with 撤销
    page.get_by_role("link", name="我的", exact=True).first.click()
    page.wait_for_url(f"{base}/my")
    row = page.locator("#my-authorizations tr", has_text="社会保障卡申领")
    expect(row).to_contain_text("郑帮办")
    expect(row.get_by_role("button", name="撤销授权")).to_be_visible()
    page.screenshot(path=str(artifacts / "my-area-4-authorised.png"), full_page=True)
    assert errors == []
