"""The live queue in headless Chromium: a kiosk ticket, called at the clerk's workbench, appears on the hall display."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from tests.factories import browser_login, workbench_act

pytestmark = pytest.mark.browser

HALL = "HJ-ZWZX"
NUMBER = re.compile(r"^[A-Z]\d{3}$")


def _errors_of(page: Any) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors


def _free_the_window(clerk: Any) -> None:
    """Finish whatever ticket is at the window (the shared demo server may have left one), resume if paused."""
    if clerk.locator("button[data-action=resume]").count():
        workbench_act(clerk, "resume")
    for _ in range(4):
        if clerk.locator("[data-current-ticket]").count() == 0:
            return
        if clerk.locator("button[data-action=start]").count():
            workbench_act(clerk, "start")
        if clerk.locator("button[data-action=finish]").count():
            workbench_act(clerk, "finish")
        elif clerk.locator("button[data-action=miss]").count():  # could not start it (say why in the log): 过号
            print("workbench:", clerk.locator("#workbench-panel").inner_text())
            workbench_act(clerk, "miss")
    assert clerk.locator("[data-current-ticket]").count() == 0, clerk.locator("#workbench-panel").inner_text()


def test_kiosk_ticket_called_at_the_workbench_appears_on_the_display(live_server: Any, live_clock: Any, browser: Any,
                                                                      page: Any, artifacts: Path) -> None:
    # live_clock: a working-day morning, when the kiosk issues tickets (7×24 rule: none at night)
    from playwright.sync_api import expect

    display = page
    display_errors = _errors_of(display)
    display.set_viewport_size({"width": 1600, "height": 900})
    display.goto(f"{live_server.url}/halls/{HALL}/display")
    expect(display.locator("[data-live-status]")).to_have_text("实时更新中", timeout=10_000)  # EventSource open
    toggle = display.locator("[data-speech-toggle]")
    if toggle.is_enabled():  # headless Chromium may have no speech synthesis: then the button says so
        toggle.click()
        expect(toggle).to_have_attribute("aria-pressed", "true")

    kiosk_context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    clerk_context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    try:
        kiosk = kiosk_context.new_page()
        kiosk.goto(f"{live_server.url}/halls/{HALL}/kiosk")
        kiosk.screenshot(path=str(artifacts / "queue-kiosk.png"), full_page=True)
        kiosk.click("button[name=category][value=A]")
        kiosk.wait_for_url(re.compile(r"/tickets/[\w-]+/slip$"))
        mine = kiosk.locator("[data-ticket-number]").inner_text().strip()
        assert NUMBER.match(mine), mine
        expect(kiosk.locator("svg.qr")).to_be_visible()
        kiosk.screenshot(path=str(artifacts / "queue-slip.png"), full_page=True)
        kiosk.get_by_role("link", name="查看排队进度").click()
        kiosk.wait_for_url(re.compile(r"/tickets/[\w-]+$"))
        expect(kiosk.locator("[data-ahead]")).to_be_visible()

        clerk = clerk_context.new_page()
        clerk_errors = _errors_of(clerk)
        browser_login(clerk, live_server.url, "clerk", "/workbench")
        if clerk.locator("select[name=window_id]").count():
            workbench_act(clerk, "sign-in", selector="#workbench-panel button[type=submit]")
        expect(clerk.locator("#panel-title")).to_contain_text("号窗口")
        _free_the_window(clerk)

        called = ""
        for _ in range(40):  # the hall's routing policy picks the order; other tests may have queued tickets
            workbench_act(clerk, "call-next")
            number = clerk.locator("[data-current-ticket] [data-ticket-number]")
            expect(number).to_be_visible()
            called = number.inner_text().strip()
            # the display learns of the call by server-sent event, within a few seconds
            expect(display.locator("[data-now-number]")).to_have_text(called, timeout=5_000)
            if called == mine:
                break
            _free_the_window(clerk)
        assert called == mine

        expect(display.locator("#recent-calls")).to_contain_text(mine)
        window_label = clerk.locator("#panel-title").inner_text()
        window_number = re.search(r"(\d+)号窗口", window_label)
        assert window_number
        text = f"请{mine}号到{window_number[1]}号窗口办理"
        expect(display.locator(".now-text")).to_have_text(text)
        assert text in display.evaluate("window.__queueAnnouncements")  # the text speech would say
        expect(clerk.locator("[data-announcement-text]")).to_have_text(text)
        display.screenshot(path=str(artifacts / "queue-display.png"))
        clerk.screenshot(path=str(artifacts / "queue-workbench.png"), full_page=True)

        # the applicant's page follows: called to the window
        kiosk.reload()
        expect(kiosk.locator("[data-ticket-state]")).to_have_text(text)

        workbench_act(clerk, "start")
        workbench_act(clerk, "finish")
        expect(clerk.locator("#workbench-panel [role=status]")).to_contain_text(f"{mine}号已办结")
        assert not clerk_errors, clerk_errors
        assert not display_errors, display_errors
    finally:
        kiosk_context.close()
        clerk_context.close()
