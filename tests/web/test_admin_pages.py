"""Admin pages through the browser's path: cookie login, CSRF-protected forms, roles, versions, conflicts."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from tests.conftest import HTML, Browser

from onewindow.calendar import service as calendar_service
from onewindow.catalog import service as catalog_service
from onewindow.catalog.admin_views import ItemForm, percent
from onewindow.core.audit import AuditEntry

SCJG_ITEM = "410724-SCJG-XK-001"  # 个体工商户设立登记: legal 3, promised 1, five materials
GAJ_ITEM = "410724-GAJ-XK-001"  # 普通护照签发


# ----- helpers ------------------------------------------------------------------------------------


class _FormReader(HTMLParser):
    """Collects the fields a browser would submit for the form with the given action."""

    def __init__(self, action: str) -> None:
        super().__init__()
        self.action = action
        self.inside = False
        self.found = False
        self.fields: list[tuple[str, str]] = []
        self._select: str | None = None
        self._options: list[tuple[str, bool]] = []
        self._textarea: str | None = None
        self._text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("action") == self.action:
            self.inside = self.found = True
        if not self.inside or "disabled" in a:
            return
        if tag == "input" and a.get("name"):
            kind = a.get("type", "text")
            if kind in {"checkbox", "radio"}:
                if "checked" in a:
                    self.fields.append((a["name"], a.get("value") or "on"))
            elif kind not in {"submit", "button", "file", "image", "reset"}:
                self.fields.append((a["name"], a.get("value", "")))
        elif tag == "select" and a.get("name"):
            self._select, self._options = a["name"], []
        elif tag == "option" and self._select is not None:
            self._options.append((a.get("value", ""), "selected" in a))
        elif tag == "textarea" and a.get("name"):
            self._textarea, self._text = a["name"], ""

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self.inside:
            self.inside = False
        elif tag == "select" and self._select is not None:
            chosen = [v for v, sel in self._options if sel] or [v for v, _ in self._options[:1]]
            self.fields.extend((self._select, v) for v in chosen[:1])
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            self.fields.append((self._textarea, self._text))
            self._textarea = None


def form_fields(html: str, action: str) -> list[tuple[str, str]]:
    """The (name, value) pairs a browser would post for the form whose action is ``action``."""
    reader = _FormReader(action)
    reader.feed(html)
    assert reader.found, f"no form with action {action}"
    return reader.fields


def replace(fields: list[tuple[str, str]], **values: str) -> list[tuple[str, str]]:
    """Set single-valued fields (added when missing)."""
    out = [(k, values.get(k, v)) for k, v in fields]
    out += [(k, v) for k, v in values.items() if k not in {n for n, _ in fields}]
    return out


def csrf_of(html: str) -> str:
    match = re.search(r'<meta name="csrf-token" content="([^"]+)"', html)
    assert match, "page without a CSRF token"
    return match[1]


def audit_count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(AuditEntry)) or 0)


def versions_of(session: Session, code: str) -> list[int]:
    session.expire_all()
    return [v.version for v in catalog_service.item_versions(session, catalog_service.get_item_row(session, code))]


def edit_form(b: Browser, code: str = SCJG_ITEM) -> list[tuple[str, str]]:
    r = b.client.get(f"/admin/items/{code}")
    assert r.status_code == 200, r.text
    return form_fields(r.text, f"/admin/items/{code}")


# ----- who may open what ----------------------------------------------------------------------------

GET_PAGES = [
    "/admin", "/admin/items", "/admin/items/new", f"/admin/items/{SCJG_ITEM}", f"/admin/items/{SCJG_ITEM}/versions/1",
    "/admin/bundles", "/admin/bundles/new", "/admin/bundles/YJS-NEWBORN", "/admin/departments",
    "/admin/departments/new", "/admin/departments/SCJG", "/admin/halls", "/admin/halls/new", "/admin/halls/HJ-ZWZX",
    "/admin/calendar", "/admin/calendar?year=2027",
]
POST_PAGES = [
    "/admin/items/new", f"/admin/items/{SCJG_ITEM}", f"/admin/items/{SCJG_ITEM}/retire",
    f"/admin/items/{SCJG_ITEM}/restore", "/admin/bundles/new", "/admin/bundles/YJS-NEWBORN", "/admin/departments/new",
    "/admin/departments/SCJG", "/admin/halls/new", "/admin/halls/HJ-ZWZX", "/admin/calendar/overrides",
    "/admin/calendar/overrides/2027-01-01/delete", "/admin/calendar/notice",
]
CREATE_PAGES = {"/admin/items/new", "/admin/bundles/new", "/admin/departments/new", "/admin/halls/new"}


def test_anonymous_page_requests_are_sent_to_login(client: TestClient) -> None:
    for url in GET_PAGES + POST_PAGES:
        r = (client.get if url in GET_PAGES else client.post)(url, headers=HTML, follow_redirects=False)
        assert r.status_code == 303, url
        assert r.headers["location"].startswith("/login?next=/admin"), url


@pytest.mark.parametrize("username", ["clerk", "approver_scjg", "agent", "experiencer"])
def test_roles_outside_the_admin_area_get_403_on_every_page_and_write(
        username: str, login: Callable[[str], Browser], session: Session) -> None:
    b = login(username)
    before = audit_count(session)
    wrong = [url for url in GET_PAGES if b.client.get(url).status_code != 403]
    for url in POST_PAGES:
        r = b.post(url, {"name": "x"})
        if r.status_code != 403 or "页面已过期" in r.text:  # refused for the role, not for the token
            wrong.append(url)
    assert wrong == []
    assert audit_count(session) == before


def test_admin_opens_every_admin_page(login: Callable[[str], Browser]) -> None:
    b = login("admin")
    pages = {url: b.client.get(url) for url in GET_PAGES}
    assert [url for url, r in pages.items() if r.status_code != 200] == []
    assert all(csrf_of(r.text) == b.csrf for r in pages.values())  # every form can post back


def test_supervisor_reads_every_page_but_creates_and_writes_nothing(login: Callable[[str], Browser],
                                                                      session: Session) -> None:
    b = login("supervisor")
    before = audit_count(session)
    statuses = {url: b.client.get(url).status_code for url in GET_PAGES}
    assert {u for u, s in statuses.items() if s == 403} == CREATE_PAGES
    assert all(s == 200 for u, s in statuses.items() if u not in CREATE_PAGES)
    item_page = b.client.get(f"/admin/items/{SCJG_ITEM}").text
    assert "只读" in item_page and "保存为新版本" not in item_page
    bundle_page = b.client.get("/admin/bundles/YJS-NEWBORN").text
    assert "只读" in bundle_page and "<fieldset class=\"card\" disabled>" in bundle_page
    assert "导入通知" not in b.client.get("/admin/calendar").text
    assert [url for url in POST_PAGES if b.post(url, {"name": "x"}).status_code != 403] == []
    assert audit_count(session) == before


def test_dept_head_lists_and_edits_only_their_department(login: Callable[[str], Browser], session: Session) -> None:
    b = login("head_scjg")
    page = b.client.get("/admin/items")
    assert page.status_code == 200
    assert SCJG_ITEM in page.text and GAJ_ITEM not in page.text
    assert b.client.get("/admin/items?department=GAJ").status_code == 403
    assert b.client.get(f"/admin/items/{GAJ_ITEM}").status_code == 403
    assert b.client.get(f"/admin/items/{GAJ_ITEM}/versions/1").status_code == 403
    # another department's item: no write
    assert b.post(f"/admin/items/{GAJ_ITEM}", {"name": "改名"}).status_code == 403
    # own item moved to another department: no write either
    fields = replace(edit_form(b), department="GAJ")
    assert b.post(f"/admin/items/{SCJG_ITEM}", fields).status_code == 403
    # own item: saved as version 2
    r = b.post(f"/admin/items/{SCJG_ITEM}", replace(edit_form(b), fee="不收费（依据《个体工商户登记管理办法》）"))
    assert r.status_code == 303, r.text
    assert versions_of(session, SCJG_ITEM) == [2, 1]
    assert versions_of(session, GAJ_ITEM) == [1]
    # retiring is for admins only; bundles, organisation and calendar too
    assert b.post(f"/admin/items/{SCJG_ITEM}/retire").status_code == 403
    for url in ["/admin/bundles/new", "/admin/departments/new", "/admin/halls/new"]:
        assert b.client.get(url).status_code == 403, url


# ----- editing items -------------------------------------------------------------------------------


def test_unchanged_form_round_trips_without_a_new_version(login: Callable[[str], Browser], session: Session) -> None:
    b = login("admin")
    r = b.post(f"/admin/items/{SCJG_ITEM}", edit_form(b))
    assert r.status_code == 303, r.text
    assert "done=unchanged" in r.headers["location"]
    assert versions_of(session, SCJG_ITEM) == [1]


def test_every_catalog_item_survives_the_form_unchanged(session: Session) -> None:
    rows, total = catalog_service.list_items(session, catalog_service.ItemFilters(include_retired=True), limit=500)
    assert total == len(rows) > 0
    for item, v in rows:
        data = catalog_service.version_to_input(v, item.code)
        again, problems = ItemForm.from_item(data, v.version).to_input()
        assert problems == [] and again == data, item.code


def test_an_edit_without_its_base_version_is_refused(login: Callable[[str], Browser], session: Session) -> None:
    b = login("admin")
    fields = [(k, v) for k, v in replace(edit_form(b), promised_limit_days="2") if k != "base_version"]
    r = b.post(f"/admin/items/{SCJG_ITEM}", fields)
    assert r.status_code == 422 and "缺少所基于的版本号" in r.text
    assert versions_of(session, SCJG_ITEM) == [1]


def test_unknown_records_are_403_not_404_for_roles_without_access(login: Callable[[str], Browser]) -> None:
    b = login("clerk")
    assert b.client.get("/admin/items/NO-SUCH-ITEM").status_code == 403
    assert b.post("/admin/items/NO-SUCH-ITEM", {"name": "x"}).status_code == 403
    assert login("admin").client.get("/admin/items/NO-SUCH-ITEM").status_code == 404


def test_saving_a_change_creates_version_2_with_history_and_audit(login: Callable[[str], Browser],
                                                                   session: Session) -> None:
    b = login("admin")
    before = audit_count(session)
    fields = replace(edit_form(b), promised_limit_days="2", change_note="承诺时限调整")
    r = b.post(f"/admin/items/{SCJG_ITEM}", fields)
    assert r.status_code == 303, r.text
    page = b.client.get(r.headers["location"]).text
    assert "已保存为第 2 版" in page
    assert "承诺时限调整" in page and "admin" in page
    _, current = catalog_service.get_item_version(session, SCJG_ITEM)
    assert (current.version, current.promised_limit_days, current.change_note) == (2, 2, "承诺时限调整")
    assert len(current.materials) == 5  # the materials table round-tripped
    assert audit_count(session) == before + 1
    old = b.client.get(f"/admin/items/{SCJG_ITEM}/versions/1").text
    assert "历史版本" in old and "1个工作日" in old


def test_csrf_missing_or_wrong_is_403_and_nothing_is_written(login: Callable[[str], Browser],
                                                             session: Session) -> None:
    b = login("admin")
    fields = replace(edit_form(b), promised_limit_days="2")
    before = audit_count(session)
    assert b.post(f"/admin/items/{SCJG_ITEM}", fields, csrf=False).status_code == 403
    wrong = [*fields, ("csrf_token", "forged-token")]
    r = b.post(f"/admin/items/{SCJG_ITEM}", wrong, csrf=False)
    assert r.status_code == 403
    assert "页面已过期" in r.text
    assert b.post("/admin/departments/new", {"code": "XYZ", "name": "新部门", "short_name": "新"},
                  csrf=False).status_code == 403
    assert b.post(f"/admin/items/{SCJG_ITEM}/retire", csrf=False).status_code == 403
    assert versions_of(session, SCJG_ITEM) == [1]
    assert audit_count(session) == before


def test_validation_errors_keep_the_input_and_explain_in_chinese(login: Callable[[str], Browser],
                                                                  session: Session) -> None:
    b = login("admin")
    fields = replace(edit_form(b), name="个体工商户设立登记（新）", legal_limit_days="3", promised_limit_days="9",
                     **{"materials-0-copies": "两份"}, change_note="我写的说明")
    r = b.post(f"/admin/items/{SCJG_ITEM}", fields)
    assert r.status_code == 422
    # pydantic first: the copies field
    assert "申请材料第 1 行 份数" in r.text and "必须是整数" in r.text
    assert 'value="两份"' in r.text and 'value="个体工商户设立登记（新）"' in r.text and 'value="我写的说明"' in r.text
    # then the catalog rules: promised over legal, next to the field
    fields = replace(fields, **{"materials-0-copies": "1"})
    r = b.post(f"/admin/items/{SCJG_ITEM}", fields)
    assert r.status_code == 422
    assert "承诺时限（9）不能超过法定时限（3）" in r.text
    assert 'name="promised_limit_days" value="9" inputmode="numeric" aria-invalid="true"' in r.text
    fields = replace(fields, promised_limit_days="", legal_limit_days="3")
    r = b.post(f"/admin/items/{SCJG_ITEM}", fields)
    assert r.status_code == 422 and "此项必填" in r.text
    assert versions_of(session, SCJG_ITEM) == [1]


def test_stale_version_answers_409_keeps_input_and_can_then_overwrite(login: Callable[[str], Browser],
                                                                       session: Session) -> None:
    admin, head = login("admin"), login("head_scjg")
    mine = replace(edit_form(admin), name="个体工商户设立登记（管理员版）")
    theirs = replace(edit_form(head), phone="0373-4509999")
    assert head.post(f"/admin/items/{SCJG_ITEM}", theirs).status_code == 303
    r = admin.post(f"/admin/items/{SCJG_ITEM}", mine)
    assert r.status_code == 409
    assert "在您编辑期间" in r.text and "head_scjg" in r.text and "第 2 版" in r.text
    assert 'value="个体工商户设立登记（管理员版）"' in r.text  # nothing typed is lost
    assert versions_of(session, SCJG_ITEM) == [2, 1]
    # the re-rendered form carries the latest version; "overwrite" saves on top of it
    again = form_fields(r.text, f"/admin/items/{SCJG_ITEM}")
    assert ("base_version", "1") in again and ("latest_version", "2") in again
    r = admin.post(f"/admin/items/{SCJG_ITEM}", [*again, ("op", "overwrite")])
    assert r.status_code == 303, r.text
    _, current = catalog_service.get_item_version(session, SCJG_ITEM)
    assert (current.version, current.name) == (3, "个体工商户设立登记（管理员版）")


def test_material_rows_are_added_moved_and_removed_by_plain_post_and_htmx(login: Callable[[str], Browser],
                                                                          session: Session) -> None:
    b = login("admin")
    fields = edit_form(b)
    names = [v for k, v in fields if re.fullmatch(r"materials-\d+-name", k)]
    r = b.post(f"/admin/items/{SCJG_ITEM}", [*fields, ("op", "add_material")])
    assert r.status_code == 200 and "<html" in r.text
    grown = form_fields(r.text, f"/admin/items/{SCJG_ITEM}")
    assert ("materials-5-name", "") in grown
    grown = replace(grown, **{"materials-5-name": "授权委托书"})
    r = b.post(f"/admin/items/{SCJG_ITEM}", [*grown, ("op", "up-5")], headers={"HX-Request": "true"})
    assert r.status_code == 200
    assert "<html" not in r.text and 'id="materials"' in r.text  # only the table comes back
    assert 'name="materials-4-name" value="授权委托书"' in r.text
    moved = replace(grown, **{"materials-4-name": "授权委托书", "materials-5-name": names[4]})
    r = b.post(f"/admin/items/{SCJG_ITEM}", [*moved, ("op", "remove-0")])
    kept = form_fields(r.text, f"/admin/items/{SCJG_ITEM}")
    assert [v for k, v in kept if re.fullmatch(r"materials-\d+-name", k)] == [*names[1:4], "授权委托书", names[4]]
    assert versions_of(session, SCJG_ITEM) == [1]  # row operations never save
    r = b.post(f"/admin/items/{SCJG_ITEM}", kept)
    assert r.status_code == 303
    _, current = catalog_service.get_item_version(session, SCJG_ITEM)
    assert [m.name for m in current.materials] == [*names[1:4], "授权委托书", names[4]]


def test_create_item_then_a_duplicate_code_is_refused(login: Callable[[str], Browser], session: Session) -> None:
    b = login("head_scjg")
    page = b.client.get("/admin/items/new")
    fields = replace(form_fields(page.text, "/admin/items/new"), code="410724-SCJG-QT-901", name="个体工商户年报辅导",
                     type="公共服务", legal_limit_days="5", promised_limit_days="2",
                     **{"materials-0-name": "营业执照"})
    assert ("department", "SCJG") in fields  # a 首席代表 can only pick their own department
    r = b.post("/admin/items/new", fields)
    assert r.status_code == 303, r.text
    assert versions_of(session, "410724-SCJG-QT-901") == [1]
    r = b.post("/admin/items/new", fields)
    assert r.status_code == 422 and "事项编码已存在" in r.text
    assert b.post("/admin/items/new", replace(fields, code="410724-GAJ-QT-901", department="GAJ")).status_code == 403


def test_retire_and_restore_are_for_admins_and_audited(login: Callable[[str], Browser], session: Session) -> None:
    b = login("admin")
    before = audit_count(session)
    r = b.post(f"/admin/items/{SCJG_ITEM}/retire")
    assert r.status_code == 303
    assert "已停用" in b.client.get(r.headers["location"]).text
    assert catalog_service.get_item_row(session, SCJG_ITEM).status == "retired"
    assert SCJG_ITEM not in b.client.get("/admin/items?q=SCJG-XK-001").text
    assert SCJG_ITEM in b.client.get("/admin/items?q=SCJG-XK-001&include_retired=true").text
    assert b.post(f"/admin/items/{SCJG_ITEM}/restore").status_code == 303
    session.expire_all()
    assert catalog_service.get_item_row(session, SCJG_ITEM).status == "active"
    assert audit_count(session) == before + 2


def test_item_list_filters_and_pages(login: Callable[[str], Browser]) -> None:
    b = login("admin")
    first = b.client.get("/admin/items").text
    assert "共 99 项" in first and "第 1 / 4 页" in first and 'rel="next"' in first
    gaj = b.client.get("/admin/items?department=GAJ").text
    assert GAJ_ITEM in gaj and SCJG_ITEM not in gaj
    found = b.client.get("/admin/items?q=护照").text
    assert "共 1 项" in found and "普通护照签发" in found
    assert b.client.get("/admin/items?page=0").status_code == 422


# ----- dashboard, bundles, departments, halls ------------------------------------------------------


def test_dashboard_shows_counts_and_the_catalog_indicators(login: Callable[[str], Browser],
                                                           session: Session) -> None:
    page = login("supervisor").client.get("/admin").text
    ind = catalog_service.catalog_indicators(session)
    counts = catalog_service.catalog_counts(session)
    assert f"<strong>{counts['items_active']}</strong>在用事项" in page
    for label, value in [("即办件占比", ind.instant_share), ("零跑动事项占比", ind.zero_visit_share),
                         ("网上可办率", ind.online_share), ("全程网办率", ind.full_online_share),
                         ("承诺时限提速率", ind.limit_reduction)]:
        assert re.search(rf"<th scope=\"row\">{label}</th><td class=\"num\">{re.escape(percent(value))}</td>", page)


def test_bundle_create_edit_and_validation(login: Callable[[str], Browser], session: Session) -> None:
    b = login("admin")
    data = [("code", "YJS-OPEN-SHOP"), ("name", "开个小店一件事"), ("lead_department", "SCJG"),
            ("promised_limit_days", "3"), ("items", SCJG_ITEM), ("description", "个体户设立和食品经营一次办")]
    r = b.post("/admin/bundles/new", data)
    assert r.status_code == 422
    assert "至少需要 2 项" in r.text and 'value="开个小店一件事"' in r.text
    r = b.post("/admin/bundles/new", [*data, ("items", "410724-SCJG-XK-007"), ("default_consent", "on")])
    assert r.status_code == 303, r.text
    bundle = catalog_service.bundle_by_code(session, "YJS-OPEN-SHOP")
    assert [m.item.code for m in bundle.members] == [SCJG_ITEM, "410724-SCJG-XK-007"]
    assert bundle.default_consent
    edit = form_fields(b.client.get("/admin/bundles/YJS-OPEN-SHOP").text, "/admin/bundles/YJS-OPEN-SHOP")
    assert [v for k, v in edit if k == "items"] == [SCJG_ITEM, "410724-SCJG-XK-007"]
    r = b.post("/admin/bundles/YJS-OPEN-SHOP", replace(edit, promised_limit_days="2"))
    assert r.status_code == 303
    session.expire_all()
    assert catalog_service.bundle_by_code(session, "YJS-OPEN-SHOP").promised_limit_days == 2
    assert "开个小店一件事" in b.client.get("/admin/bundles").text


def test_departments_create_edit_and_duplicate(login: Callable[[str], Browser], session: Session) -> None:
    b = login("admin")
    r = b.post("/admin/departments/new", {"code": "yjj", "name": "应急管理局", "short_name": "应急"})
    assert r.status_code == 422 and "格式不正确" in r.text and 'value="应急管理局"' in r.text
    r = b.post("/admin/departments/new", {"code": "YJJ", "name": "获嘉县应急管理局", "short_name": "应急"})
    assert r.status_code == 303
    r = b.post("/admin/departments/new", {"code": "YJJ", "name": "获嘉县应急管理局", "short_name": "应急"})
    assert r.status_code == 422 and "编码已存在" in r.text
    r = b.post("/admin/departments/YJJ", {"name": "获嘉县应急管理局（改）", "short_name": "应急局"})
    assert r.status_code == 303
    assert catalog_service.department_by_code(session, "YJJ").short_name == "应急局"
    assert "获嘉县应急管理局（改）" in b.client.get("/admin/departments").text


def test_halls_create_and_edit(login: Callable[[str], Browser], session: Session) -> None:
    b = login("admin")
    new = {"code": "HJ-TEST", "name": "测试便民服务中心", "level": "town", "region": "000000",
           "address": "", "phone": "", "opening_hours": ""}
    r = b.post("/admin/halls/new", new)
    assert r.status_code == 422 and "未知行政区划编码" in r.text
    region = catalog_service.list_regions(session)[1].code
    r = b.post("/admin/halls/new", {**new, "region": region})
    assert r.status_code == 303, r.text
    edit = form_fields(b.client.get("/admin/halls/HJ-TEST").text, "/admin/halls/HJ-TEST")
    assert b.post("/admin/halls/HJ-TEST", replace(edit, phone="0373-4500000")).status_code == 303
    assert catalog_service.hall_by_code(session, "HJ-TEST").phone == "0373-4500000"


# ----- holiday calendar ----------------------------------------------------------------------------


def test_calendar_override_added_and_removed(login: Callable[[str], Browser], session: Session) -> None:
    b = login("admin")
    page = b.client.get("/admin/calendar?year=2027").text
    assert "临时" in page  # past the official table: provisional
    r = b.post("/admin/calendar/overrides", {"day_date": "2027-02-06", "kind": "workday", "name": "春节调休"})
    assert r.status_code == 303
    page = b.client.get(r.headers["location"]).text
    assert "2027-02-06" in page and "春节调休" in page and "已保存节假日调整" in page
    assert calendar_service.build_calendar(session).is_workday(dt.date(2027, 2, 6))
    r = b.post("/admin/calendar/overrides", {"day_date": "2027-02-30", "kind": "workday", "name": "x"})
    assert r.status_code == 422 and "请填写有效日期" in r.text
    r = b.post("/admin/calendar/overrides/2027-02-06/delete")
    assert r.status_code == 303
    assert "春节调休" not in b.client.get("/admin/calendar?year=2027").text
    assert b.post("/admin/calendar/overrides/2027-02-07/delete").status_code == 404


def test_calendar_notice_upload_makes_the_year_official(login: Callable[[str], Browser], session: Session) -> None:
    b = login("admin")
    bad = "date,kind,name\n2027-13-01,休,元旦\n"
    r = b.client.post("/admin/calendar/notice", data={"csrf_token": b.csrf, "year": "2027", "title": "通知"},
                      files={"file": ("notice.csv", bad.encode(), "text/csv")}, follow_redirects=False)
    assert r.status_code == 422 and "第 2 行" in r.text and "无效" in r.text
    assert calendar_service.list_notices(session) == []
    good = "date,kind,name\n2027-01-01,休,元旦\n2027-02-06,班,春节调休\n"
    title = "国务院办公厅关于2027年部分节假日安排的通知"
    r = b.client.post("/admin/calendar/notice", data={"csrf_token": b.csrf, "year": "2027", "title": title},
                      files={"file": ("notice.csv", good.encode(), "text/csv")}, follow_redirects=False)
    assert r.status_code == 303, r.text
    page = b.client.get(r.headers["location"]).text
    assert "已导入正式通知：放假 1 天，调休上班 1 天" in page and "已导入国务院办公厅通知" in page
    assert [n.year for n in calendar_service.list_notices(session)] == [2027]
    r = b.client.post("/admin/calendar/notice", data={"csrf_token": b.csrf, "year": "2027", "title": "x"},
                      files={"file": ("notice.txt", b"hello", "text/plain")}, follow_redirects=False)
    assert r.status_code == 422 and "请上传 .csv 或 .json 文件" in r.text
