"""最多跑一次 in headless Chromium (issue 15, "One visit"): a 容缺 case accepted at the window with online supply
and mail delivery chosen; the applicant uploads the missing material on “我的办件”; the 医保 approver approves;
the clerk mails the result. The case took one visit (the intake) and both case pages say so."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from tests.factories import CLAIM, browser_login, browser_review_and_approve

from onewindow.cases.rules import material_key
from onewindow.certificates.demo import ZHANG_WEI
from onewindow.demo import reference_catalog

pytestmark = pytest.mark.browser

BANK = "本人银行账户信息"  # the deferrable (容缺) material of 医疗费用手工报销
ADDRESS = "获嘉县亢村镇人民路 8 号"
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
ONE_VISIT = "本件已跑动 1 次，承诺最多跑一次"


def _marks() -> dict[str, str]:
    """What the clerk marks: the paper materials handed in, the bank details deferred (the ID card comes from the
    certificate library, preselected)."""
    [item] = [i for i in reference_catalog()["items"] if i["code"] == CLAIM]
    return {material_key(m["name"], None): ("deferred" if m["name"] == BANK else "paper")
            for m in item["materials"] if m["required"] and not m.get("certificate_type")}


def _errors_of(page: Any) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors


def test_a_deferred_case_supplied_online_and_mailed_takes_one_visit(live_server: Any, browser: Any,
                                                                     artifacts: Path) -> None:
    from playwright.sync_api import expect

    base = live_server.url
    contexts = [browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900}) for _ in range(2)]
    phone = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
    try:
        clerk, approver = (c.new_page() for c in contexts)
        applicant = phone.new_page()
        errors = [_errors_of(p) for p in (clerk, approver, applicant)]

        # 1. the window: 张伟, 医疗费用手工报销, bank details deferred; online supply and mail chosen
        browser_login(clerk, base, "clerk", "/cases/intake")
        clerk.fill("#applicant-search input[name=id]", ZHANG_WEI)
        clerk.click("#applicant-search button[type=submit]")
        clerk.fill("#target-q", "医疗费用手工")
        clerk.locator(f"#target-results button[data-target-code='{CLAIM}']").click()
        expect(clerk.locator("[data-target-name]")).to_contain_text("医疗费用手工（零星）报销")
        for key, status in _marks().items():
            clerk.select_option(f"select[name='material:{key}']", status)
        clerk.fill("input[name=applicant_phone]", "13903735678")
        expect(clerk.locator("#one-visit")).to_contain_text("容缺材料由申请人网上补交")
        expect(clerk.locator("#supply-online")).to_be_checked()
        expect(clerk.locator("#one-visit input[name=delivery_method][value=electronic]")).to_have_count(0)
        clerk.check("#one-visit input[name=delivery_method][value=mail]")
        # mail without an address: refused in Chinese, nothing written, the choice kept
        clerk.click("button[data-action=accept]")
        expect(clerk.locator("#one-visit")).to_contain_text("选择邮寄送达须填写邮寄地址")
        expect(clerk.locator("#one-visit input[name=delivery_method][value=mail]")).to_be_checked()
        clerk.fill("input[name=delivery_address]", ADDRESS)
        clerk.screenshot(path=str(artifacts / "one-visit-1-intake.png"), full_page=True)
        clerk.click("button[data-action=accept]")
        clerk.wait_for_url(re.compile(r"/cases/\d+\?done=accepted$"))
        case_url = clerk.url.split("?")[0]
        case_id = case_url.rsplit("/", 1)[-1]
        expect(clerk.locator("[data-visits]")).to_contain_text(ONE_VISIT)
        expect(clerk.locator("[data-result-delivery]")).to_contain_text(ADDRESS)
        expect(clerk.locator("[data-supply-online]")).to_be_visible()
        clerk.screenshot(path=str(artifacts / "one-visit-2-accepted.png"), full_page=True)

        # 2. the applicant, on a phone: uploads the deferred material on “我的办件” instead of coming back
        browser_login(applicant, base, "zhangwei", f"/my/cases/{case_id}")
        expect(applicant.locator("#deferred-online")).to_contain_text("无需再跑一次")
        expect(applicant.locator("#visit-line")).to_have_text(ONE_VISIT)
        row = applicant.locator("table.materials tr", has_text=BANK)
        row.locator("input[type=file]").set_input_files(
            {"name": "银行卡.pdf", "mimeType": "application/pdf", "buffer": PDF})
        row.locator("button[type=submit]").click()
        applicant.wait_for_url(re.compile(rf"/my/cases/{case_id}\?notice=uploaded$"))
        expect(applicant.locator("#deferred-online")).to_have_count(0)
        expect(row).to_contain_text("网上已上传")
        expect(applicant.locator("#visit-line")).to_have_text(ONE_VISIT)
        applicant.screenshot(path=str(artifacts / "one-visit-3-uploaded.png"), full_page=True)

        # 3. the 医保 approver reviews and approves
        browser_login(approver, base, "approver_ybj", f"/cases/{case_id}")
        browser_review_and_approve(approver, opinion="材料齐全，符合报销条件", reason="符合报销条件，准予报销")

        # 4. the clerk mails the result: the form carries the address chosen at intake
        clerk.goto(case_url)
        expect(clerk.locator("[data-chosen-delivery]")).to_contain_text("邮寄送达")
        expect(clerk.locator("#action-deliver select[name=method]")).to_have_value("mail")
        expect(clerk.locator("#action-deliver input[name=address]")).to_have_value(ADDRESS)
        expect(clerk.locator("#action-deliver input[name=recipient]")).to_have_value("张伟")
        clerk.fill("#action-deliver input[name=courier]", "中国邮政")
        clerk.fill("#action-deliver input[name=tracking_number]", "EMS1234567890")
        clerk.click("#action-deliver button[type=submit]")
        expect(clerk.locator("[data-visits]")).to_contain_text(ONE_VISIT)
        expect(clerk.locator("[data-visits]")).to_contain_text("一次办结")
        expect(clerk.locator("body")).to_contain_text("EMS1234567890")
        clerk.screenshot(path=str(artifacts / "one-visit-4-mailed.png"), full_page=True)

        applicant.goto(f"{base}/my/cases/{case_id}")
        expect(applicant.locator("#visit-line")).to_have_text(ONE_VISIT)
        expect(applicant.locator("#result-delivery")).to_contain_text(ADDRESS)
        applicant.screenshot(path=str(artifacts / "one-visit-5-applicant.png"), full_page=True)
        # the one refused intake (mail without an address) is the only failed request
        assert errors == [["Failed to load resource: the server responded with a status of 422 "
                           "(Unprocessable Entity)"], [], []], errors
    finally:
        for c in (*contexts, phone):
            c.close()
