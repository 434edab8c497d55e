"""The header: who is signed in as ``姓名（角色）`` (no empty brackets without a role text) and the menu by group."""

from __future__ import annotations

import re
from collections.abc import Callable
from types import SimpleNamespace

from sqlalchemy.orm import Session
from tests.conftest import Browser
from tests.factories import staff

from onewindow.core import access
from onewindow.staff.service import viewer_of
from onewindow.web import make_templates


def _who(html: str) -> str:
    found = re.search(r'<a href="/account" class="who"[^>]*>([^<]*)</a>', html)
    assert found, "the header names the signed-in user"
    return found[1]


def test_every_page_names_the_role_even_where_the_page_has_role_labels_of_its_own(
        login: Callable[[str], Browser]) -> None:
    head = login("head_scjg")
    for path in ("/account", "/complaints/inbox"):
        page = head.client.get(path)
        assert page.status_code == 200
        assert _who(page.text).endswith("（首席代表）"), path


def test_no_brackets_when_there_is_no_role_text() -> None:
    base = make_templates().env.get_template("base.html")
    html = base.render(user=SimpleNamespace(display_name="吴首席", role="unknown"), viewer=None,
                       menu=lambda viewer: [], request=None, csrf_token="t")
    assert _who(html) == "吴首席"


def _nav(html: str) -> str:
    found = re.search(r'<nav class="site-nav".*?</nav>', html, re.S)
    assert found
    return found[0]


def test_the_admin_menu_is_grouped_and_every_entry_is_still_there(login: Callable[[str], Browser],
                                                                   session: Session) -> None:
    nav = _nav(login("admin").client.get("/account").text)
    assert re.findall(r"<summary[^>]*>([^<]+)</summary>", nav) == ["大厅", "办件", "诉求", "监督", "统计", "系统"]
    hrefs = re.findall(r'<a href="(/[^"]*)"', nav)
    mine = [e.href for e in access.menu(viewer_of(staff(session, "admin")))]
    assert [h for h in hrefs if h not in ("/", "/track", "/account")] == mine and len(mine) == 18
    experiencer = _nav(login("experiencer").client.get("/experience").text)
    assert "<details" not in experiencer and 'href="/experience"' in experiencer  # a group of one is a plain link
