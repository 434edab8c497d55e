"""The 三级 network in headless Chromium: a town center's window accepts a county department's item (代收代办),
sends the paper file to the 医保局, which signs for it, approves and sends the result back; the town window signs
for it and hands it over there. Each step's screenshot is kept as an artifact."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from onewindow.certificates.demo import ZHANG_WEI
from tests.factories import browser_login, browser_review_and_approve

pytestmark = pytest.mark.browser

CLAIM = "410724-YBJ-JF-001"  # 医疗费用手工（零星）报销: a county item of the 医保局


def _errors_of(page: Any) -> list[str]:
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors


def test_a_town_point_accepts_a_county_item_and_the_result_returns_there(live_server: Any, browser: Any,
                                                                         artifacts: Path) -> None:
    from playwright.sync_api import expect

    base = live_server.url
    point_context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    department_context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    try:
        point = point_context.new_page()
        point_errors = _errors_of(point)
        browser_login(point, base, "clerk_town", "/cases/intake")
        point.fill("#applicant-search input[name=id]", ZHANG_WEI)
        point.click("#applicant-search button[type=submit]")
        expect(point.locator("#certificates")).to_contain_text("居民身份证")
        point.fill("#target-q", "零星")
        point.locator(f"#target-results button[data-target-code='{CLAIM}']").click()
        expect(point.locator("[data-target-name]")).to_contain_text("报销")
        for select in point.locator("#checklist select[name^='material:']").all():
            if select.input_value() == "missing":
                select.select_option("paper")
        point.fill("input[name=applicant_phone]", "13812345678")
        point.check("#intake-form input[name=proxy]")  # a county item at a town center: 代收代办
        point.click("button[data-action=accept]")
        point.wait_for_url(re.compile(r"/cases/\d+\?done=accepted$"))
        case_url = point.url.split("?")[0]
        number = point.locator("[data-case-number]").inner_text().strip()
        expect(point.locator("[data-location]")).to_contain_text("待流转")
        point.screenshot(path=str(artifacts / "network-1-accepted-at-town.png"), full_page=True)

        point.fill("#transfer-send-materials input[name=note]", "医疗费用票据、费用明细清单、诊断证明原件")
        point.locator("#transfer-send-materials button").click()
        point.wait_for_url(re.compile(r"done=transfer"))
        expect(point.locator("[data-location]")).to_contain_text("流转中")
        point.screenshot(path=str(artifacts / "network-2-materials-sent.png"), full_page=True)

        department = department_context.new_page()
        department_errors = _errors_of(department)
        browser_login(department, base, "approver_ybj", "/cases/inbox")
        department.goto(case_url)
        expect(department.locator("[data-case-number]")).to_have_text(number)
        department.locator("#transfer-receive-materials button").click()
        department.wait_for_url(re.compile(r"done=transfer"))
        expect(department.locator("[data-location]")).to_contain_text("申请材料在")
        department.screenshot(path=str(artifacts / "network-3-materials-received.png"), full_page=True)
        browser_review_and_approve(department, opinion="材料齐全，符合报销条件", reason="符合条件，准予报销")
        department.fill("#transfer-send-result input[name=note]", "报销结算单")
        department.locator("#transfer-send-result button").click()
        department.wait_for_url(re.compile(r"done=transfer"))
        expect(department.locator("[data-location]")).to_contain_text("回传中")
        department.screenshot(path=str(artifacts / "network-4-result-sent-back.png"), full_page=True)

        point.goto(case_url)
        point.locator("#transfer-receive-result button").click()
        point.wait_for_url(re.compile(r"done=transfer"))
        expect(point.locator("[data-location]")).to_contain_text("待申请人领取")
        expect(point.locator("#transfer tr[data-leg=result]")).to_contain_text("已签收")
        point.screenshot(path=str(artifacts / "network-5-result-at-town.png"), full_page=True)
        deliver = point.locator("#action-deliver")
        deliver.locator("select[name=method]").select_option("pickup")
        deliver.locator("input[name=picked_up_by]").fill("张伟")
        deliver.get_by_role("button", name="登记送达").click()
        point.wait_for_url(re.compile(r"done="))
        expect(point.locator("[data-location]")).to_contain_text("已在")
        point.screenshot(path=str(artifacts / "network-6-picked-up-at-town.png"), full_page=True)
        assert not point_errors, point_errors
        assert not department_errors, department_errors
    finally:
        point_context.close()
        department_context.close()
