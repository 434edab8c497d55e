"""为企业申请 in headless Chromium, from the citizen's first page: 张伟 signs in, finds an enterprise item through the
/apply search, applies for 获嘉县丰源商贸有限公司 (the demo business licence names him as 法定代表人) with a file,
the 营业执照 taken from the library, the result to come by post; a clerk asks for correction at /cases/precheck,
张伟 uploads the missing material and resubmits, the clerk accepts and the market-regulation approver approves. A
bad credit code on the way is refused with the reason. Screenshots of each step go to ``artifacts``."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from tests.factories import DEMO_PASSWORD, browser_login, browser_review_and_approve

from onewindow.cases.rules import material_key
from onewindow.certificates.demo import FENGYUAN

pytestmark = pytest.mark.browser

CHANGE = "410724-SCJG-XK-005"  # 企业变更登记: for enterprises, 营业执照 from the library
FENG_NAME = "获嘉县丰源商贸有限公司"
RESOLUTION = material_key("股东会决议或股东决定", None)
ADDRESS = "获嘉县城关镇丰源路 18 号"
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def _errors_of(page: Any) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors


def _shot(page: Any, artifacts: Path, n: int, name: str) -> None:
    page.screenshot(path=str(artifacts / f"journey-company-{n}-{name}.png"), full_page=True)


def test_apply_for_a_company_correction_resubmit_approval(live_server: Any, browser: Any, artifacts: Path,
                                                          tmp_path: Path) -> None:
    from playwright.sync_api import expect

    base = live_server.url
    form_pdf, resolution_pdf = tmp_path / "变更登记申请书.pdf", tmp_path / "股东会决议.pdf"
    form_pdf.write_bytes(PDF)
    resolution_pdf.write_bytes(PDF)
    contexts = [browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900}) for _ in range(3)]
    try:
        # 1. the citizen's first page → 登录 → 网上申报
        citizen = contexts[0].new_page()
        citizen_errors = _errors_of(citizen)
        citizen.goto(f"{base}/")
        _shot(citizen, artifacts, 1, "home")
        citizen.get_by_role("link", name="登录").first.click()
        citizen.wait_for_selector("form[action='/login']")
        citizen.fill("input[name=username]", "zhangwei")
        citizen.fill("input[name=password]", DEMO_PASSWORD)
        citizen.click("form[action='/login'] button[type=submit]")
        citizen.wait_for_load_state()
        citizen.goto(f"{base}/my/cases")
        citizen.locator("a.button[href='/apply']").click()
        citizen.wait_for_url(f"{base}/apply")

        # 2. search the enterprise item and choose 为企业申请
        citizen.fill("#apply-search input[name=q]", "企业变更")
        citizen.click("#apply-search button[type=submit]")
        company_link = citizen.locator(f"#apply-items a[data-apply=enterprise][href='/apply/{CHANGE}?for=enterprise']")
        expect(company_link).to_be_visible()
        _shot(citizen, artifacts, 2, "search")
        company_link.click()
        citizen.wait_for_selector("#enterprise-form")
        expect(citizen.locator("#represented")).to_contain_text(FENG_NAME)

        # 3. a mistyped credit code is refused with the reason, and no form is offered
        citizen.fill("#enterprise-form input[name=credit_code]", FENGYUAN[:-1] + ("0" if FENGYUAN[-1] != "0" else "1"))
        citizen.click("#enterprise-form button[type=submit]")
        expect(citizen.locator("#enterprise-error")).to_contain_text("校验码")
        expect(citizen.locator("#apply-form")).to_have_count(0)
        _shot(citizen, artifacts, 3, "bad-credit-code")

        # 4. the right code: FENGYUAN's licence names him, its 营业执照 comes from the library; upload the form
        citizen.fill("#enterprise-form input[name=credit_code]", FENGYUAN)
        citizen.click("#enterprise-form button[type=submit]")
        citizen.wait_for_selector("#apply-form")
        expect(citizen.locator("#enterprise-facts")).to_contain_text(FENG_NAME)
        expect(citizen.locator("#enterprise-facts")).to_contain_text("法定代表人")
        expect(citizen.locator("#apply-form")).to_contain_text("电子证照库调取：营业执照")
        citizen.set_input_files("input[type=file][aria-label='上传企业变更登记申请书']", str(form_pdf))
        # 最多跑一次: the changed licence comes by post (the form offers what the item allows)
        citizen.check("#delivery-choice input[name=delivery_method][value=mail]")
        citizen.fill("#delivery-choice input[name=delivery_address]", ADDRESS)
        _shot(citizen, artifacts, 4, "form")
        citizen.click("#apply-submit")
        citizen.wait_for_url(re.compile(r".*/my/cases/\d+\?notice=submitted$"))
        number = citizen.inner_text("#case-number").strip()
        case_url = citizen.url.split("?", 1)[0]
        expect(citizen.locator("body")).to_contain_text(FENG_NAME)
        expect(citizen.locator("#result-delivery")).to_contain_text(f"邮寄送达（{ADDRESS}")
        _shot(citizen, artifacts, 5, "submitted")
        citizen.goto(f"{base}/my/cases")
        expect(citizen.locator("#my-cases")).to_contain_text(number)
        expect(citizen.locator("#my-cases")).to_contain_text(f"为企业申请：{FENG_NAME}")

        # 5. the clerk's pre-check: the 股东会决议 is missing → 要求补正
        clerk = contexts[1].new_page()
        clerk_errors = _errors_of(clerk)
        browser_login(clerk, base, "clerk", "/cases/precheck")
        row = clerk.locator(f"#precheck tr[data-case='{number}']")
        expect(row).to_contain_text(FENG_NAME)
        expect(row.locator("[data-representative]")).to_contain_text("张伟（法定代表人）")
        _shot(clerk, artifacts, 6, "precheck-queue")
        row.get_by_role("link", name=number).click()
        clerk.wait_for_selector("#action-precheck")
        expect(clerk.locator("select[name='material:cert:BIZ_LICENSE']")).to_have_value("library")
        expect(clerk.locator(f"select[name='material:{RESOLUTION}']")).to_have_value("missing")
        clerk.click("#action-precheck button[name=decision][value=correction]")
        clerk.wait_for_url(re.compile(r"/cases/\d+\?done=\w+$"))
        clerk_case_url = clerk.url.split("?", 1)[0]
        _shot(clerk, artifacts, 7, "correction-requested")

        # 6. 张伟 uploads the missing material and resubmits
        citizen.goto(case_url)
        expect(citizen.locator("#case-state")).to_have_text("待补正")
        citizen.set_input_files("input[type=file][aria-label='上传股东会决议或股东决定']", str(resolution_pdf))
        citizen.locator("form[action$='/upload']:has(input[aria-label='上传股东会决议或股东决定']) button").click()
        citizen.wait_for_url(re.compile(r".*\?notice=uploaded$"))
        _shot(citizen, artifacts, 8, "uploaded")
        citizen.click("form[action$='/resubmit'] button[type=submit]")
        citizen.wait_for_url(re.compile(r".*\?notice=resubmitted$"))
        expect(citizen.locator("#case-state")).to_have_text("已申报")
        _shot(citizen, artifacts, 9, "resubmitted")

        # 7. the clerk accepts at the pre-check
        clerk.goto(f"{base}/cases/precheck")
        clerk.locator(f"#precheck tr[data-case='{number}']").get_by_role("link", name=number).click()
        clerk.wait_for_selector("#action-precheck")
        expect(clerk.locator(f"select[name='material:{RESOLUTION}']")).to_have_value("uploaded")
        clerk.click("#action-precheck button[name=decision][value=accept]")
        clerk.wait_for_url(re.compile(r"/cases/\d+\?done=accepted$"))
        _shot(clerk, artifacts, 10, "accepted")

        # 8. the approver of 市场监管 reviews every step and approves
        approver = contexts[2].new_page()
        approver_errors = _errors_of(approver)
        browser_login(approver, base, "approver_scjg", "/cases/inbox")
        approver.locator(f"#inbox tr[data-case='{number}']").get_by_role("link", name=number).click()
        browser_review_and_approve(approver, opinion="材料齐全，符合条件", reason="符合条件，准予变更登记")
        expect(approver.locator("[data-representative]")).to_contain_text("张伟")
        _shot(approver, artifacts, 11, "approved")

        # 9. 张伟 sees the enterprise's case approved
        citizen.goto(case_url)
        expect(citizen.locator("#case-state")).to_contain_text("准予许可")
        _shot(citizen, artifacts, 12, "citizen-approved")
        assert clerk_case_url.endswith(case_url.rsplit("/", 1)[-1])
        unexpected = [e for e in citizen_errors if "status of 422" not in e]  # the refused code, on purpose
        assert not unexpected, unexpected
        assert not clerk_errors, clerk_errors
        assert not approver_errors, approver_errors
    finally:
        for context in contexts:
            context.close()
