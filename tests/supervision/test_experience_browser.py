"""体验员 in headless Chromium: the experiencer files a report with a photo, the supervisor assigns it (研判), the
department head rectifies on the work order, the supervisor calls the experiencer back, and the experiencer sees
the outcome on their own page."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.browser_wait import wait_for_expression
from tests.factories import browser_login

pytestmark = pytest.mark.browser

# a real 1×1 PNG (the upload check reads the bytes, not the name or the declared type)
PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
                    "0000000d49444154789c6360f8cfc0f01f0005fe02fea7d6a4d90000000049454e44ae426082")


def _context(browser: Any, base: str, username: str, target: str) -> tuple[Any, Any]:
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    browser_login(page, base, username, target)
    return context, page


def test_a_report_with_a_photo_goes_to_the_department_and_its_outcome_back_to_the_experiencer(
        live_server: Any, browser: Any, page: Any, artifacts: Path, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    base = live_server.url
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    photo = tmp_path / "窗口无人.png"
    photo.write_bytes(PNG)
    title = "三号窗口叫号后无人"

    # the experiencer lands on their own page and files a report with a photo
    browser_login(page, base, "experiencer", "/experience")
    page.select_option("select[name=mode]", "onsite")
    page.select_option("select[name=hall]", "HJ-ZWZX")
    page.fill("input[name=title]", title)
    page.fill("textarea[name=content]", "上午十点叫到A012号，三号窗口十分钟无人，导服人员也无法说明去向。")
    page.set_input_files("input[name=photos]", str(photo))
    page.get_by_role("button", name="提交报告").click()
    expect(page.locator("#notice")).to_contain_text("体验报告已提交")
    expect(page.locator("#photos img")).to_have_count(1)
    report_url = page.url.split("?")[0]
    # the stored photo is served as an image (it loads after the page: wait for it, bounded)
    wait_for_expression(page, "document.querySelector('#photos img').complete")
    assert page.evaluate("document.querySelector('#photos img').naturalWidth") == 1

    contexts = []
    try:
        # the supervisor judges it and assigns it to 市场监管局 as a work order
        ctx, sup = _context(browser, base, "supervisor", "/supervision/experience")
        contexts.append(ctx)
        sup.get_by_role("link", name=title).click()
        sup.select_option("select[name=department_id]", label="获嘉县市场监督管理局")
        sup.fill("textarea[name=note]", "属实，交办市场监管局整改窗口在岗纪律")
        sup.get_by_role("button", name="交办整改").click()
        expect(sup.locator("#notice")).to_contain_text("已交办")
        order_link = sup.locator("#outcome a")
        order_number = order_link.inner_text()
        order_url = base + str(order_link.get_attribute("href"))

        # the department head verifies and rectifies
        ctx, head = _context(browser, base, "head_scjg", "/rectifications")
        contexts.append(ctx)
        head.goto(order_url)
        expect(head.locator("[data-order-number]")).to_have_text(order_number)
        head.locator("#action-verify textarea[name=note]").fill("调取监控属实，窗口人员擅自离岗")
        head.get_by_role("button", name="核实属实，开始整改").click()
        head.locator("#action-complete textarea[name=measures]").fill("批评教育当事人，窗口实行AB岗，离岗须挂牌")
        head.get_by_role("button", name="整改完成").click()
        expect(head.locator("#notice")).to_contain_text("整改完成")

        # the center calls the experiencer back: satisfied closes the order
        sup.goto(order_url)
        sup.locator("#action-callback input[value=satisfied]").check()
        sup.locator("#action-callback textarea[name=note]").fill("体验员对整改结果满意")
        sup.get_by_role("button", name="记录回访意见").click()
        expect(sup.locator("#notice")).to_contain_text("回访意见已记录")
    finally:
        for ctx in contexts:
            ctx.close()

    # the experiencer sees what became of the report
    page.goto(f"{base}/experience")
    row = page.locator("#my-reports tr", has_text=title)
    expect(row).to_contain_text("已办结")
    expect(row).to_contain_text("窗口实行AB岗")
    page.goto(report_url)
    expect(page.locator("#outcome")).to_contain_text(re.compile("满意.*体验员对整改结果满意"))
    page.screenshot(path=str(artifacts / "experience-report-outcome.png"), full_page=True)
    assert errors == []
