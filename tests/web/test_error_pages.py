"""Error pages speak to people: the signed-in user stays signed in, and no internal field name is shown."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from tests.conftest import HTML, Browser


def test_a_403_page_keeps_the_user_signed_in(login: Callable[[str], Browser]) -> None:
    applicant = login("zhangwei")
    page = applicant.client.get("/admin/grants")
    assert page.status_code == 403
    assert "无权访问" in page.text
    assert "张伟" in page.text or "zhangwei" in page.text
    assert "退出" in page.text and 'href="/login"' not in page.text
    assert "我的办件" in page.text  # the menu the policy gives an applicant


ERRORS = [  # page, status, what a person reads
    ("/tickets/!!", 404, "<strong>号票</strong>：号票不存在"),
    ("/items/NOPE", 404, "<li>事项不存在：NOPE</li>"),
    ("/?page=x", 422, "<strong>页码</strong>：必须是整数"),
    ("/halls/XX/kiosk", 404, "<strong>编码</strong>：大厅不存在：XX"),
]


def test_error_pages_name_fields_in_chinese_and_never_internally(client: TestClient,
                                                                 login: Callable[[str], Browser]) -> None:
    for url, status, reads in ERRORS:
        page = client.get(url, headers=HTML)
        assert page.status_code == status, url
        assert reads in page.text, url
        for internal in ("token：", "code：", "page：", "number：", "offset："):
            assert internal not in page.text, (url, internal)
    admin = login("admin")
    page = admin.client.get("/cases/abc")
    assert page.status_code == 422 and "<strong>编号</strong>：必须是整数" in page.text
    page = admin.client.get("/admin/grants?offset=x")
    assert page.status_code == 422 and "<strong>页码</strong>：必须是整数" in page.text
    assert "中心管理员" in page.text  # still signed in on the error page
