"""网上申报 in headless Chromium: an applicant signs in, applies online with a PDF, and tracks the case."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from onewindow.certificates.demo import ZHANG_WEI
from tests.factories import DEMO_PASSWORD

ITEM = "410724-SCJG-XK-001"  # 个体工商户设立登记
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.mark.browser
def test_applicant_applies_online_with_a_pdf_and_tracks_the_case(live_server: Any, page: Any, artifacts: Path,
                                                                 tmp_path: Path) -> None:
    scan = tmp_path / "登记申请书.pdf"
    scan.write_bytes(PDF)

    page.goto(f"{live_server.url}/apply")  # not signed in: to the login page and back
    page.wait_for_selector("form[action='/login']")
    page.fill("input[name=username]", "zhangwei")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(f"{live_server.url}/apply")

    page.click(f"a[href='/apply/{ITEM}']")
    page.wait_for_selector("#apply-form")
    assert "410724********001X" in page.locator("#applicant-facts").inner_text()
    assert "免提交" in page.inner_text("#apply-form")  # the ID card comes from the library
    page.set_input_files("input[type=file][aria-label='上传个体工商户登记（备案）申请书']", str(scan))
    page.screenshot(path=str(artifacts / "cases-apply-form.png"), full_page=True)
    page.click("#apply-submit")

    page.wait_for_url(re.compile(r".*/my/cases/\d+\?notice=submitted$"))
    page.wait_for_selector("#case-state")
    assert page.inner_text("#case-state") == "已申报"
    number = page.inner_text("#case-number")
    assert re.fullmatch(r"\d{8}-\d{5}-\d", number)
    assert "网上已上传" in page.inner_text("table.materials")
    page.screenshot(path=str(artifacts / "cases-my-case.png"), full_page=True)

    page.goto(f"{live_server.url}/track")
    page.fill("input[name=number]", number)
    page.fill("input[name=id_last4]", ZHANG_WEI[-4:])
    page.click("#track-form button[type=submit]")
    page.wait_for_selector("#track-state")
    assert page.inner_text("#track-state") == "已申报"
    assert page.inner_text("#track-number") == number
    result = page.inner_text("#track-result")
    assert ZHANG_WEI not in result and "张*" in result
    page.screenshot(path=str(artifacts / "cases-track.png"), full_page=True)
