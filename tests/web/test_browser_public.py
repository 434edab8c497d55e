"""The public pages in a real headless Chromium: home, live search (HTMX), an item guide, a bundle."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.browser

SHOP = "410724-SCJG-XK-001"  # 个体工商户设立登记


def _no_console_errors(page: Any) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors


def test_home_page_and_live_search(live_server: Any, page: Any, artifacts: Path) -> None:
    from playwright.sync_api import expect

    errors = _no_console_errors(page)
    page.goto(live_server.url + "/")
    expect(page.get_by_role("heading", name="办事指南", level=1)).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("获嘉县市场监督管理局"))).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("新生儿出生一件事"))).to_be_visible()
    assert page.evaluate("typeof window.htmx") == "object", "htmx.min.js did not load (run scripts/vendor-assets.sh)"
    page.screenshot(path=str(artifacts / "public-home.png"), full_page=True)

    box = page.get_by_role("searchbox", name="搜索事项")
    box.press_sequentially("公积金", delay=40)
    results = page.locator("#results")
    expect(results).to_contain_text("住房公积金提取")
    expect(results).to_contain_text("与“公积金”相关")
    assert "q=" in page.url and "audience=" not in page.url  # pushed URL, without empty filters
    expect(page.locator("header.site-header")).to_have_count(1)  # the fragment replaced the list only
    page.get_by_role("group", name="服务对象").get_by_text("企业", exact=True).click()
    expect(page.get_by_role("radio", name="企业")).to_be_checked()
    expect(results.locator(".results-filters")).to_contain_text("企业")
    assert "audience=enterprise" in page.url
    page.screenshot(path=str(artifacts / "public-search.png"), full_page=False)

    page.get_by_role("searchbox", name="搜索事项").fill("")
    page.get_by_role("searchbox", name="搜索事项").press_sequentially("登记", delay=40)
    expect(results).to_contain_text("企业设立登记")
    expect(results).not_to_contain_text("个体工商户设立登记")  # a person-only item, filtered out

    # a result opens its guide, and Back returns to the same search
    results.get_by_role("link", name="企业设立登记").click()
    expect(page.get_by_role("heading", name="企业设立登记", level=1)).to_be_visible()
    page.go_back()
    expect(page.get_by_role("searchbox", name="搜索事项")).to_have_value("登记")
    expect(page.locator("#results")).to_contain_text("企业设立登记")
    expect(page.locator("header.site-header")).to_have_count(1)
    assert errors == []


def test_item_guide_page(live_server: Any, page: Any, artifacts: Path) -> None:
    from playwright.sync_api import expect

    errors = _no_console_errors(page)
    page.goto(f"{live_server.url}/items/{SHOP}")
    expect(page.get_by_role("heading", name="个体工商户设立登记", level=1)).to_be_visible()
    materials = page.locator("table.materials")
    expect(materials).to_be_visible()
    expect(materials).to_contain_text("经营者居民身份证")
    expect(materials).to_contain_text("免提交")
    expect(materials).to_contain_text("可容缺")
    expect(page.locator(".facts")).to_contain_text("承诺办结时限")
    expect(page.locator("ol.flow li")).to_have_count(4)
    page.screenshot(path=str(artifacts / "public-item.png"), full_page=True)
    link = page.get_by_role("link", name="下载一次性告知书（PDF）")
    response = page.request.get(live_server.url + link.get_attribute("href"))
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    expect(materials).to_contain_text("经营者居民身份证")
    page.screenshot(path=str(artifacts / "public-item-mobile.png"), full_page=True)
    assert errors == []


def test_bundle_page(live_server: Any, page: Any, artifacts: Path) -> None:
    from playwright.sync_api import expect

    page.goto(f"{live_server.url}/bundles/YJS-NEWBORN")
    expect(page.get_by_role("heading", name="新生儿出生一件事", level=1)).to_be_visible()
    expect(page.locator("table.materials")).to_contain_text("各事项表述")
    page.screenshot(path=str(artifacts / "public-bundle.png"), full_page=True)
    page.goto(f"{live_server.url}/items/NOPE")
    expect(page.get_by_role("heading", name="未找到")).to_be_visible()
