"""The header names who is signed in as ``姓名（角色）``, and shows no empty brackets when there is no role text."""

from __future__ import annotations

import re
from collections.abc import Callable
from types import SimpleNamespace

from tests.conftest import Browser

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
