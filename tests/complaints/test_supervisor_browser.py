"""Headless Chromium: the dispatcher uploads a 12345 file (a bad one first, refused whole), then the supervisor
reads the figures and 未诉先办 and downloads the 问题工作台账."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from onewindow.complaints import hotline
from onewindow.core.clock import CHINA_TZ
from tests.factories import browser_login

pytestmark = pytest.mark.browser

# the live server runs on the wall clock: the orders were accepted yesterday, inside the pages' default 30 days
YESTERDAY = (dt.datetime.now(CHINA_TZ) - dt.timedelta(days=1)).strftime("%Y-%m-%d %H:%M")
ROW = {"accepted_at": YESTERDAY, "category": "投诉", "urgent": "否", "content": "已多次反映仍未解决。",
       "complainant_name": "周先生", "complainant_phone": "13600002222", "department": "SCJG"}
SUBJECTS = ["农贸市场噪音扰民", "农贸市场早上噪音太大", "农贸市场装卸货噪音"]


def test_upload_then_figures_recurring_subjects_and_the_ledger(live_server: Any, browser: Any, page: Any,
                                                               artifacts: Path, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    base = live_server.url
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    bad = tmp_path / "12345-bad.csv"
    bad.write_text(hotline.to_csv([{**ROW, "external_number": "BR-1", "subject": SUBJECTS[0]},
                                   {**ROW, "external_number": "BR-2", "subject": SUBJECTS[1], "category": "闲聊"}]),
                   encoding="utf-8")
    good = tmp_path / "12345.csv"
    good.write_text(hotline.to_csv([{**ROW, "external_number": f"BR-{i}", "subject": s}
                                    for i, s in enumerate(SUBJECTS, start=1)]), encoding="utf-8")

    browser_login(page, base, "admin", "/complaints/import")
    page.locator("#import-form input[type=file]").set_input_files(str(bad))
    page.get_by_role("button", name="校验并导入").click()
    expect(page.locator('#import-problems [data-field="rows[3].category"]')).to_contain_text("第 3 行（诉求类型）")
    page.locator("#import-form input[type=file]").set_input_files(str(good))
    page.get_by_role("button", name="校验并导入").click()
    expect(page.locator("#import-result [data-created]")).to_have_text("3")
    page.screenshot(path=str(artifacts / "complaints-import.png"), full_page=True)

    supervisor = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900}).new_page()
    supervisor.on("pageerror", lambda exc: errors.append(str(exc)))
    browser_login(supervisor, base, "supervisor", "/complaints/figures")
    expect(supervisor.locator('#figures [data-group="合计"]')).to_be_visible()
    expect(supervisor.locator('[data-trends="keywords"] [data-key="噪音"]')).to_be_visible()
    supervisor.screenshot(path=str(artifacts / "complaints-figures.png"), full_page=True)
    with supervisor.expect_download() as download:
        supervisor.locator("#ledger-download").click()
    sheet = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes())).worksheets[0]
    subjects = {row[5] for row in sheet.iter_rows(min_row=3, values_only=True)}
    assert set(SUBJECTS) <= subjects
    assert errors == []
