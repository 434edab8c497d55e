"""The apply page searches: by name, code or keyword, 一件事 included; nothing found says so."""

from __future__ import annotations

import re
from collections.abc import Callable

from tests.conftest import Browser


def test_apply_page_searches_items_and_bundles(login: Callable[[str], Browser]) -> None:
    zhang = login("zhangwei").client
    everything = zhang.get("/apply").text
    assert 'id="apply-search"' in everything
    total = len(re.findall(r'href="/apply/[^"b]', everything))
    page = zhang.get("/apply", params={"q": "个体工商户"})
    assert page.status_code == 200
    found = re.findall(r'href="/apply/([^"]+)"', page.text)
    assert found and len(found) < total and "410724-SCJG-XK-001" in found
    assert "bundle/YJS-NEWBORN" not in found
    newborn = zhang.get("/apply", params={"q": "新生儿"}).text
    assert 'href="/apply/bundle/YJS-NEWBORN"' in newborn
    by_code = re.findall(r'href="/apply/([^"]+)"', zhang.get("/apply", params={"q": "SCJG-XK-001"}).text)
    assert by_code == ["410724-SCJG-XK-001"]
    none = zhang.get("/apply", params={"q": "火星移民"})
    assert none.status_code == 200 and 'id="apply-none"' in none.text and "火星移民" in none.text
    assert zhang.get("/apply", params={"q": "x" * 61}).status_code == 422
