"""The 三级 network end to end in headless Chromium, from a village point: the village clerk finds that a county
item needs 代收代办, is refused without it, accepts it with paper materials, sends them (流转); the 医保局 signs
for them, approves and sends the result back; the village clerk signs for it and hands it over there. The case
page shows where the file is at each step, and the one visit at the village counts. Screenshots to artifacts."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from tests.factories import browser_login, browser_review_and_approve

from onewindow.certificates.demo import ZHANG_WEI

pytestmark = pytest.mark.browser

CLAIM = "410724-YBJ-JF-001"  # 医疗费用手工（零星）报销: a county item of the 医保局
VILLAGE = "西关村便民服务站"


def _errors_of(page: Any) -> list[str]:
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors


def test_a_village_point_takes_a_county_item_in_and_hands_the_result_over(
        live_server: Any, live_clock: Any, browser: Any, artifacts: Path) -> None:
    from playwright.sync_api import expect

    base = live_server.url
    village_context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    county_context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    try:
        village = village_context.new_page()
        village_errors = _errors_of(village)
        browser_login(village, base, "clerk_village", "/cases/intake")
        village.fill("#applicant-search input[name=id]", ZHANG_WEI)
        village.click("#applicant-search button[type=submit]")
        expect(village.locator("#certificates")).to_contain_text("居民身份证")
        village.fill("#target-q", "零星")
        pick = village.locator(f"#target-results button[data-target-code='{CLAIM}']")
        expect(pick.locator("[data-proxy]")).to_have_text("代收代办")  # offered only as 代收代办
        pick.click()
        expect(village.locator("[data-offer=proxy]")).to_contain_text(VILLAGE)
        for select in village.locator("#checklist select[name^='material:']").all():
            if select.input_value() == "missing":
                select.select_option("paper")
        village.fill("input[name=applicant_phone]", "13812345678")
        village.screenshot(path=str(artifacts / "village-1-intake-proxy.png"), full_page=True)

        village.click("button[data-action=accept]")  # without ticking 代收代办: refused, nothing written
        expect(village.locator("#intake-form")).to_contain_text("请勾选“代收代办”")
        village.screenshot(path=str(artifacts / "village-2-refused-without-proxy.png"), full_page=True)
        for select in village.locator("#checklist select[name^='material:']").all():
            if select.input_value() == "missing":
                select.select_option("paper")
        village.check("#intake-form input[name=proxy]")
        village.click("button[data-action=accept]")
        village.wait_for_url(re.compile(r"/cases/\d+\?done=accepted$"))
        case_url = village.url.split("?")[0]
        number = village.locator("[data-case-number]").inner_text().strip()
        expect(village.locator("main")).to_contain_text(f"{VILLAGE}（代收代办）")
        expect(village.locator("[data-location]")).to_contain_text(f"申请材料在{VILLAGE}，待流转")
        village.screenshot(path=str(artifacts / "village-3-accepted.png"), full_page=True)

        village.fill("#transfer-send-materials input[name=note]", "医疗费用票据、费用明细清单、诊断证明原件")
        village.locator("#transfer-send-materials button").click()
        village.wait_for_url(re.compile(r"done=transfer"))
        expect(village.locator("[data-location]")).to_contain_text(f"流转中：{VILLAGE} →")
        expect(village.locator("#transfer tr[data-leg=materials]")).to_contain_text("郭代办")  # who sent it
        village.screenshot(path=str(artifacts / "village-4-materials-sent.png"), full_page=True)

        county = county_context.new_page()
        county_errors = _errors_of(county)
        browser_login(county, base, "approver_ybj", "/cases/inbox")
        county.goto(case_url)
        expect(county.locator("[data-case-number]")).to_have_text(number)
        county.locator("#transfer-receive-materials button").click()
        county.wait_for_url(re.compile(r"done=transfer"))
        expect(county.locator("[data-location]")).to_contain_text("申请材料在获嘉县医疗保障局")
        county.screenshot(path=str(artifacts / "village-5-materials-received.png"), full_page=True)
        browser_review_and_approve(county, opinion="材料齐全，符合报销条件", reason="符合条件，准予报销")
        county.screenshot(path=str(artifacts / "village-6-approved.png"), full_page=True)
        county.fill("#transfer-send-result input[name=note]", "报销结算单")
        county.locator("#transfer-send-result button").click()
        county.wait_for_url(re.compile(r"done=transfer"))
        expect(county.locator("[data-location]")).to_contain_text(f"回传中：获嘉县医疗保障局 → {VILLAGE}")
        county.screenshot(path=str(artifacts / "village-7-result-sent-back.png"), full_page=True)

        village.goto(case_url)
        village.locator("#transfer-receive-result button").click()
        village.wait_for_url(re.compile(r"done=transfer"))
        expect(village.locator("[data-location]")).to_contain_text(f"办理结果在{VILLAGE}，待申请人领取")
        expect(village.locator("#transfer tr[data-leg=result]")).to_contain_text("已签收")
        village.screenshot(path=str(artifacts / "village-8-result-at-village.png"), full_page=True)
        deliver = village.locator("#action-deliver")
        deliver.locator("select[name=method]").select_option("pickup")
        deliver.locator("input[name=picked_up_by]").fill("张伟")
        deliver.get_by_role("button", name="登记送达").click()
        village.wait_for_url(re.compile(r"done="))
        expect(village.locator("[data-location]")).to_contain_text(f"办理结果已在{VILLAGE}送达申请人")
        expect(village.locator("[data-visits]")).to_contain_text("2 次")  # intake and pickup, both at the village
        village.screenshot(path=str(artifacts / "village-9-handed-over.png"), full_page=True)
        assert not village_errors, village_errors
        assert not county_errors, county_errors
    finally:
        village_context.close()
        county_context.close()
