"""The booking way in headless Chromium, from the citizen's first page: the guide of an item → 预约 a slot →
check in at the kiosk → called at the workbench → accepted at the window (ID card from the certificate
library) → approved → mailed; bad input on the booking page; and the kiosk at night offers no ticket.

The live server's clock is shifted (``live_clock``) and moved from step to step, as the day would pass."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import ShiftedClock
from tests.factories import browser_login, browser_review_and_approve, workbench_act

from onewindow.cases.rules import material_key
from onewindow.certificates.demo import ZHANG_WEI
from onewindow.core.clock import CHINA_TZ

pytestmark = pytest.mark.browser

HALL = "HJ-ZWZX"
SHOP = "410724-SCJG-XK-001"  # 个体工商户设立登记 (市场监管): slots at the county center
FORM_KEY = material_key("个体工商户登记（备案）申请书", None)
PREMISES_KEY = material_key("经营场所使用证明（租赁协议等）", None)
PHONE = "13812345678"


def _errors_of(page: Any) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors


def _at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=CHINA_TZ)


def _finish_current(clerk: Any) -> None:
    for action in ("start", "finish"):
        if clerk.locator(f"button[data-action={action}]").count():
            workbench_act(clerk, action)


def test_book_from_the_guide_check_in_called_accepted_approved_mailed(
        live_server: Any, live_clock: ShiftedClock, browser: Any, artifacts: Path) -> None:
    from playwright.sync_api import expect

    base = live_server.url
    phone_context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})  # a phone
    kiosk_context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    clerk_context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    approver_context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    try:
        # 1. Monday: the citizen reads the guide and books Tuesday 09:00
        citizen = phone_context.new_page()
        citizen_errors = _errors_of(citizen)
        citizen.goto(f"{base}/items/{SHOP}")
        citizen.screenshot(path=str(artifacts / "journey-booking-1-guide.png"), full_page=True)
        citizen.get_by_role("link", name="预约办理").click()
        citizen.wait_for_url(re.compile(r"/book\?item="))
        with citizen.expect_navigation():
            citizen.select_option("select[name=day]", "2026-11-24")
        expect(citizen.locator("#booking-form")).to_contain_text("09:00–09:30")
        # bad input first: a wrong ID number is refused with the reason, nothing booked
        citizen.check("input[name=start][value='09:00']")
        citizen.fill("input[name=id_number]", ZHANG_WEI[:-1] + ("1" if ZHANG_WEI[-1] != "1" else "2"))
        citizen.fill("input[name=phone]", PHONE)
        citizen.click("#booking-form button[type=submit]")
        expect(citizen.locator("#booking-error")).to_contain_text("身份号码校验码不符")
        citizen.screenshot(path=str(artifacts / "journey-booking-2-bad-id.png"), full_page=True)
        citizen.check("input[name=start][value='09:00']")
        citizen.fill("input[name=id_number]", ZHANG_WEI)
        citizen.click("#booking-form button[type=submit]")
        citizen.wait_for_url(re.compile(r"/bookings/[\w-]+$"))
        expect(citizen.locator("h1")).to_have_text("预约成功")
        expect(citizen.locator("#booking-when")).to_contain_text("11月24日（周二） 09:00–09:30")
        expect(citizen.locator("figure.qr svg")).to_be_visible()
        expect(citizen.locator("body")).not_to_contain_text(ZHANG_WEI)
        citizen.screenshot(path=str(artifacts / "journey-booking-3-confirmation.png"), full_page=True)
        booking_url = citizen.url

        # 2. Tuesday 08:45: check in at the kiosk with the ID number
        live_clock.set(_at(24, 8, 45))
        kiosk = kiosk_context.new_page()
        kiosk_errors = _errors_of(kiosk)
        kiosk.goto(f"{base}/halls/{HALL}/kiosk")
        expect(kiosk.locator("nav.site-nav")).to_have_count(0)  # kiosk mode: no site menu, no 登录
        kiosk.fill("input[name=checkin_id_number]", ZHANG_WEI)
        kiosk.click(".kiosk-checkin button[type=submit]")
        kiosk.wait_for_url(re.compile(r"/tickets/[\w-]+/slip$"))
        mine = kiosk.locator("[data-ticket-number]").inner_text().strip()
        assert re.match(r"^[A-Z]\d{3}$", mine), mine
        kiosk.screenshot(path=str(artifacts / "journey-booking-4-slip.png"), full_page=True)
        citizen.goto(booking_url)
        expect(citizen.locator("#booking-state")).to_contain_text(f"已签到（号票 {mine}）")

        # 3. 09:00: the clerk calls the ticket at the workbench
        live_clock.set(_at(24, 9, 0))
        clerk = clerk_context.new_page()
        clerk_errors = _errors_of(clerk)
        browser_login(clerk, base, "clerk", "/workbench")
        if clerk.locator("select[name=window_id]").count():
            workbench_act(clerk, "sign-in", selector="#workbench-panel button[type=submit]")
        if clerk.locator("button[data-action=resume]").count():
            workbench_act(clerk, "resume")
        _finish_current(clerk)
        called = ""
        for _ in range(40):  # an appointment ticket goes first at its slot; other tests may have queued tickets
            workbench_act(clerk, "call-next")
            number = clerk.locator("[data-current-ticket] [data-ticket-number]")
            expect(number).to_be_visible()
            called = number.inner_text().strip()
            if called == mine:
                break
            _finish_current(clerk)
        assert called == mine
        clerk.screenshot(path=str(artifacts / "journey-booking-5-called.png"), full_page=True)
        workbench_act(clerk, "start")

        # 4. accepted at the window: the ID card from the certificate library, the rest on paper
        clerk.goto(f"{base}/cases/intake")
        clerk.fill("#applicant-search input[name=id]", ZHANG_WEI)
        clerk.click("#applicant-search button[type=submit]")
        expect(clerk.locator("#certificates")).to_contain_text("居民身份证")
        clerk.fill("#target-q", "个体工商户设立")
        clerk.locator(f"#target-results button[data-target-code='{SHOP}']").click()
        expect(clerk.locator("select[name='material:cert:ID_CARD']")).to_have_value("library")
        clerk.select_option(f"select[name='material:{FORM_KEY}']", "paper")
        clerk.select_option(f"select[name='material:{PREMISES_KEY}']", "paper")
        clerk.fill("input[name=applicant_phone]", PHONE)
        clerk.click("button[data-action=accept]")
        clerk.wait_for_url(re.compile(r"/cases/\d+\?done=accepted$"))
        case_url = clerk.url.split("?", 1)[0]
        case_number = clerk.locator("[data-case-number]").inner_text().strip()
        expect(clerk.locator("#materials tr[data-material='cert:ID_CARD']")).to_contain_text("证照库调取（免提交）")
        clerk.screenshot(path=str(artifacts / "journey-booking-6-accepted.png"), full_page=True)

        # 5. approved by the market-regulation approver
        approver = approver_context.new_page()
        approver_errors = _errors_of(approver)
        browser_login(approver, base, "approver_scjg", "/cases/inbox")
        approver.locator(f"#inbox tr[data-case='{case_number}']").get_by_role("link", name=case_number).click()
        browser_review_and_approve(approver, opinion="材料齐全，符合条件", reason="符合条件，准予登记")
        approver.screenshot(path=str(artifacts / "journey-booking-7-approved.png"), full_page=True)

        # 6. mailed: the clerk records the courier and the tracking number
        clerk.goto(case_url)
        form = clerk.locator("#action-deliver")
        form.locator("select[name=method]").select_option("mail")
        form.locator("input[name=recipient]").fill("张伟")
        form.locator("input[name=address]").fill("获嘉县城关镇和平路1号")
        form.locator("input[name=courier]").fill("中国邮政EMS")
        form.locator("input[name=tracking_number]").fill("1234567890123")
        form.locator("button[type=submit]").click()
        expect(clerk.locator("body")).to_contain_text("中国邮政EMS 1234567890123")
        clerk.screenshot(path=str(artifacts / "journey-booking-8-mailed.png"), full_page=True)
        unexpected = [e for e in citizen_errors if "status of 422" not in e]  # the refused ID number, on purpose
        assert not unexpected, unexpected
        assert not kiosk_errors, kiosk_errors
        assert not clerk_errors, clerk_errors
        assert not approver_errors, approver_errors
    finally:
        for context in (phone_context, kiosk_context, clerk_context, approver_context):
            context.close()


def test_the_kiosk_at_night_offers_no_ticket(live_server: Any, live_clock: ShiftedClock, page: Any,
                                            artifacts: Path) -> None:
    from playwright.sync_api import expect

    live_clock.set(_at(28, 2, 21))  # 02:21 on a Saturday
    page.goto(f"{live_server.url}/halls/{HALL}/kiosk")
    expect(page.locator("#kiosk-closed")).to_contain_text("暂停取号")
    expect(page.locator("#kiosk-closed")).to_contain_text("11月30日 09:00")
    expect(page.locator("#take-ticket")).to_have_count(0)
    expect(page.locator("button[name=category]")).to_have_count(0)
    expect(page.locator("nav.site-nav")).to_have_count(0)
    page.fill("#kiosk-q", "个体工商户")
    page.click(".kiosk-search button[type=submit]")
    expect(page.locator("#kiosk-items")).to_contain_text("个体工商户设立登记")
    expect(page.locator("#kiosk-items button[name=item]")).to_have_count(0)  # no 取号, only 预约
    expect(page.locator("#kiosk-items a", has_text="预约").first).to_be_visible()
    page.screenshot(path=str(artifacts / "journey-kiosk-night.png"), full_page=True)
