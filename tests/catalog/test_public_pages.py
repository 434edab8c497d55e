"""Public catalog pages: home search and browsing, item guides, bundles, departments, 404s."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

from onewindow.catalog.documents import merge_materials
from onewindow.catalog.schemas import ItemDetail, MaterialOut
from onewindow.web import TEMPLATES_DIR

HTML = {"Accept": "text/html"}
HTMX = {"HX-Request": "true"}
SHOP = "410724-SCJG-XK-001"  # 个体工商户设立登记: 免提交 and 可容缺 materials, in two bundles


def _rows(html: str) -> list[str]:
    """The material names of a materials table (row headers)."""
    return [re.sub(r"<span class=\"note\">.*?</span>", "", m).strip()
            for m in re.findall(r'<th scope="row" data-label="材料名称">(.*?)</th>', html, flags=re.S)]


# ----- home ------------------------------------------------------------------------------------


def test_home_lists_departments_bundles_audiences_and_levels(client: TestClient) -> None:
    r = client.get("/")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    html = r.text
    assert '<html lang="zh-CN">' in html
    assert "办事指南" in html
    assert '<a href="/departments/SCJG">' in html and "获嘉县市场监督管理局" in html
    assert '<a class="tile tile-event" href="/bundles/YJS-NEWBORN">' in html and "新生儿出生一件事" in html
    assert "个人办事" in html and "企业办事" in html
    assert "县级可办" in html and "村（社区）可办" in html
    assert 'name="q"' in html and 'hx-get="/"' in html


def test_search_filters_by_name_and_code(client: TestClient) -> None:
    html = client.get("/", params={"q": "公积金"}).text
    results = html.split('id="results"')[1].split("</section>")[0]
    assert "住房公积金提取（购买、建造、翻建、大修自住住房）" in results
    assert "个体工商户设立登记" not in results
    assert 'value="公积金"' in html  # the box keeps the query
    html = client.get("/", params={"q": "SCJG-XK-001"}).text
    assert f'href="/items/{SHOP}"' in html


def test_search_finds_items_by_colloquial_keyword(client: TestClient) -> None:
    html = client.get("/", params={"q": "开饭店"}).text
    assert 'href="/items/410724-SCJG-XK-007"' in html


def test_search_without_match_says_so(client: TestClient) -> None:
    html = client.get("/", params={"q": "不存在的事项名称"}).text
    assert "找到 <strong>0</strong> 个事项" in html
    assert "没有找到相关事项" in html


def test_audience_and_level_filters(client: TestClient) -> None:
    enterprise = client.get("/", params={"audience": "enterprise"}, headers=HTMX).text
    assert 'href="/items/410724-SCJG-XK-004"' in enterprise  # 企业设立登记
    assert 'href="/items/410724-GAJ-QR-001"' not in enterprise  # 居民身份证申领
    village = client.get("/", params={"level": "village"}, headers=HTMX).text
    assert "找到 <strong>13</strong> 个事项" in village
    # unknown filter values are ignored, not a 422
    assert client.get("/", params={"audience": "alien", "level": "moon"}).status_code == 200


def test_htmx_search_returns_only_the_result_fragment(client: TestClient) -> None:
    r = client.get("/", params={"q": "公积金"}, headers=HTMX)
    assert r.status_code == 200
    html = r.text
    assert "<html" not in html and "<header" not in html
    assert "按部门" not in html
    assert "住房公积金提取" in html
    assert html.lstrip().startswith("<div class=\"results-head\">")
    assert r.headers["vary"] == "HX-Request"


def test_results_are_paged(client: TestClient) -> None:
    first = client.get("/", params={"level": "county"}, headers=HTMX).text
    assert "第 1 / " in first and 'rel="next"' in first
    second = client.get("/", params={"level": "county", "page": 2}, headers=HTMX).text
    assert 'rel="prev"' in second
    assert set(re.findall(r'href="/items/([^"]+)"', first)).isdisjoint(re.findall(r'href="/items/([^"]+)"', second))


# ----- item guide --------------------------------------------------------------------------------


def test_guide_page_shows_every_element(client: TestClient) -> None:
    r = client.get(f"/items/{SHOP}")
    assert r.status_code == 200
    html = r.text
    assert "<h1>个体工商户设立登记</h1>" in html
    assert "有经营能力的公民从事工商业经营" in html  # 申请条件
    assert _rows(html) == ["个体工商户登记（备案）申请书", "经营者居民身份证", "经营场所使用证明（租赁协议等）",
                           "经营场所不动产权证书（自有房屋）", "委托书及受托人身份证明"]
    assert '免提交</span><span class="mark-detail">电子证照：居民身份证</span>' in html
    assert "电子证照：不动产权证书" in html
    assert "可容缺" in html
    assert "法定办结时限</dt><dd>3 个工作日" in html
    assert "承诺办结时限</dt><dd>1 个工作日" in html
    assert "0 次（零跑动）" in html
    assert "四级（全程网办）" in html
    assert "全省通办" in html and "不收费" in html
    assert "《中华人民共和国市场主体登记管理条例》第十九条" in html
    assert "县政务服务中心二楼C区" in html and 'href="tel:0373-4502316"' in html
    assert '<ol class="flow">' in html and "发放营业执照" in html
    assert 'href="/bundles/YJS-RESTAURANT"' in html and 'href="/bundles/YJS-EMPLOYMENT"' in html
    assert f'href="/items/{SHOP}/notice.pdf"' in html
    assert "第 1 版" in html
    assert "不进驻大厅" not in html


def test_guide_of_instant_item_says_instant(client: TestClient) -> None:
    html = client.get("/items/410724-RSJ-GG-001").text
    assert "即办件" in html and "材料齐全当场办结" in html
    assert "法定办结时限" not in html


def test_guide_counts_natural_days_where_the_statute_does(client: TestClient) -> None:
    html = client.get("/items/410724-GAJ-QR-001").text
    assert "法定办结时限</dt><dd>60 个自然日" in html
    assert "承诺办结时限</dt><dd>15 个自然日" in html
    assert "1 次（最多跑一次）" in html


def test_guide_of_negative_list_item_warns(client: TestClient) -> None:
    html = client.get("/items/410724-GAJ-XK-004").text
    assert "本事项不进驻大厅：</strong>涉及公共安全和涉密信息" in html


def test_unknown_item_is_a_chinese_404_page(client: TestClient) -> None:
    for headers in ({}, HTML):
        r = client.get("/items/NOPE-404", headers=headers)
        assert r.status_code == 404
        assert r.headers["content-type"].startswith("text/html")
        assert "未找到" in r.text and "事项不存在：NOPE-404" in r.text
        assert "<strong>code</strong>" not in r.text


# ----- bundles and departments -------------------------------------------------------------------


def test_bundle_page_merges_materials_across_items(client: TestClient) -> None:
    r = client.get("/bundles/YJS-NEWBORN")
    assert r.status_code == 200
    html = r.text
    assert "新生儿出生一件事" in html and "获嘉县卫生健康委员会" in html
    assert "10 个工作日" in html
    for code in ("410724-WJW-GG-001", "410724-GAJ-QR-003", "410724-YBJ-GG-001", "410724-RSJ-GG-001",
                 "410724-YBJ-JF-002"):
        assert f'href="/items/{code}"' in html
    names = _rows(html)
    assert len(names) == len(set(names))
    # five items ask for an ID card under four names: one row, named after the certificate type
    assert names.count("居民身份证") == 1
    assert "父母居民身份证" not in names and "监护人居民身份证" not in names
    assert "各事项表述：父母居民身份证；监护人居民身份证" in html
    # the bundle issues the birth certificate itself (出生医学证明签发): passed on inside, never asked
    assert "出生医学证明" not in names and "原出生医学证明" not in html
    assert "无需提交（由本一件事办理产生并内部流转）：出生医学证明（“出生医学证明签发”签发）" in html
    # optional in every member that asks for it (父母结婚证, 结婚证): optional when merged
    marriage = next(tr for tr in html.split("<tr>") if 'data-label="材料名称">结婚证' in tr)
    assert "非必要" in marriage and "necessity-required" not in marriage
    assert "各事项合计 17 项，合并去重" in html
    assert f"共 {len(names)} 项" in html


def test_bundle_row_names_every_item_that_needs_it(client: TestClient) -> None:
    html = client.get("/bundles/YJS-NEWBORN").text
    row = next(tr for tr in html.split("<tr>") if 'data-label="材料名称">居民身份证' in tr)
    assert row.count("<li><a href=\"/items/") == 5


def test_unknown_bundle_and_department_are_404(client: TestClient) -> None:
    assert client.get("/bundles/NOPE").status_code == 404
    assert client.get("/departments/NOPE").status_code == 404


def test_department_page_lists_its_items_and_led_bundles(client: TestClient) -> None:
    html = client.get("/departments/SCJG").text
    assert "<h1>获嘉县市场监督管理局</h1>" in html
    assert f'href="/items/{SHOP}"' in html
    assert 'href="/items/410724-GAJ-QR-001"' not in html
    assert 'href="/bundles/YJS-BIZSTART"' in html  # SCJG leads 企业开办一件事


# ----- the merge rule itself -----------------------------------------------------------------------


def _material(name: str, *, cert: str | None = None, required: bool = True, deferrable: bool = False,
              form: str = "原件", copies: int = 1) -> MaterialOut:
    return MaterialOut(name=name, required=required, form=form, copies=copies, deferrable=deferrable,
                       certificate_type=cert, certificate_type_name={"ID_CARD": "居民身份证"}.get(cert or ""),
                       note=None, kind=None, source=None)


def _detail(code: str, materials: list[MaterialOut]) -> ItemDetail:
    import datetime as dt

    return ItemDetail(code=code, name=f"事项{code}", type="公共服务", department="X", department_name="部门",
                      hall_category="A", audience="person", levels=["county"], instant=True, online_depth=3,
                      max_visits=1, legal_limit_days=0, promised_limit_days=0, limit_unit="working_day",
                      status="active", version=1, scope="本级", fee="不收费", basis="", conditions="", steps=[],
                      materials=materials, keywords=[], location="", phone="", negative_list_reason=None,
                      bundles=[], updated_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))


def test_merge_keeps_the_strictest_requirement() -> None:
    a = _detail("A", [_material("申请人身份证", cert="ID_CARD", required=False),
                      _material("《申请表》", deferrable=True, form="复印件")])
    b = _detail("B", [_material("居民身份证", cert="ID_CARD"), _material("申请表", form="原件", copies=2),
                      _material("照片", required=False)])
    merged = merge_materials([a, b])
    assert [m.name for m in merged] == ["居民身份证", "《申请表》", "照片"]
    card, form, photo = merged
    assert card.required and card.exempt and card.items == [("A", "事项A"), ("B", "事项B")]
    assert card.aliases == ["申请人身份证"]
    assert form.required and not form.deferrable and form.form == "原件" and form.copies == 2
    assert form.aliases == ["申请表"]
    assert not photo.required and photo.items == [("B", "事项B")]


# ----- every template renders (Zulip habit) --------------------------------------------------------


def test_every_catalog_template_renders(client: TestClient) -> None:
    pages = {
        "catalog/home.html": ("/", {}),
        "catalog/_results.html": ("/?q=社保", HTMX),
        "catalog/item.html": (f"/items/{SHOP}", {}),
        "catalog/bundle.html": ("/bundles/YJS-BIZSTART", {}),
        "catalog/department.html": ("/departments/GAJ", {}),
        "error.html": ("/items/NOPE", {}),
    }
    on_disk = {f"catalog/{p.name}" for p in (Path(TEMPLATES_DIR) / "catalog").glob("*.html")}
    assert on_disk - {"catalog/_macros.html"} <= set(pages), "add new catalog templates to this test"
    for template, (url, headers) in pages.items():
        r = client.get(url, headers=headers)
        assert r.status_code in (200, 404), (template, r.status_code)
        assert "{{" not in r.text and "{%" not in r.text, template
        assert ">None<" not in r.text, template
    # every item, bundle and department page of the demo county renders
    codes = [i["code"] for i in client.get("/api/v1/items", params={"limit": 200}).json()["items"]]
    assert len(codes) == 99
    for code in codes:
        assert client.get(f"/items/{code}").status_code == 200, code
    home = client.get("/").text
    for code in set(re.findall(r'href="/bundles/([^"]+)"', home)):
        assert client.get(f"/bundles/{code}").status_code == 200, code
    for code in set(re.findall(r'href="/departments/([^"]+)"', home)):
        assert client.get(f"/departments/{code}").status_code == 200, code
