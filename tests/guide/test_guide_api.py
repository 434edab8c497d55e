"""GET /api/v1/guide/search over the live catalog: ranked answers, links, logging of poor answers."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from onewindow.guide.models import GuideQuery


def test_life_event_question_finds_the_newborn_bundle(client: TestClient) -> None:
    r = client.get("/api/v1/guide/search", params={"q": "孩子刚出生要办什么"})
    assert r.status_code == 200, r.text
    top = r.json()["hits"][0]
    assert top["kind"] == "bundle"
    assert top["code"] == "YJS-NEWBORN"
    assert top["url"] == "/bundles/YJS-NEWBORN"
    assert top["reasons"]


def test_item_hit_links_guide_and_notice(client: TestClient) -> None:
    r = client.get("/api/v1/guide/search", params={"q": "我想开个奶茶店办执照"})
    hit = next(h for h in r.json()["hits"] if h["kind"] == "item")
    assert hit["url"] == f"/items/{hit['code']}"
    assert hit["notice_url"].endswith("/notice.pdf")


def test_empty_question_is_422_in_chinese(client: TestClient) -> None:
    r = client.get("/api/v1/guide/search", params={"q": "   "})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "q"
    assert "请输入" in r.json()["errors"][0]["message"]


def test_poor_answer_is_logged_without_personal_numbers(client: TestClient, session: Session) -> None:
    r = client.get("/api/v1/guide/search", params={"q": "火星移民签证 410724199001011235 13812345678"})
    assert r.status_code == 200
    assert r.json()["good"] is False
    logged = session.scalars(select(GuideQuery)).all()
    assert logged
    text = logged[-1].query_text
    assert "410724199001011235" not in text
    assert "13812345678" not in text


def test_index_follows_catalog_edits(client: TestClient, token_for: object) -> None:
    # a retired item disappears from the answers without restarting the app
    headers = token_for("admin")  # type: ignore[operator]
    first = client.get("/api/v1/guide/search", params={"q": "个体工商户设立登记"}).json()["hits"][0]
    assert first["code"] == "410724-SCJG-XK-001"
    assert client.post("/api/v1/items/410724-SCJG-XK-001/retire", headers=headers).status_code == 200
    hits = client.get("/api/v1/guide/search", params={"q": "个体工商户设立登记"}).json()["hits"]
    assert all(h["code"] != "410724-SCJG-XK-001" for h in hits)


def test_admin_adds_a_synonym_and_the_next_search_uses_it(client: TestClient, token_for: object) -> None:
    admin = token_for("admin")  # type: ignore[operator]
    question = "我要办理火锅铺子牌照"
    data = client.get("/api/v1/guide/synonyms", headers=admin).json()
    data["terms"]["火锅铺子牌照"] = ["食品经营许可"]
    r = client.put("/api/v1/guide/synonyms", json=data, headers=admin)
    assert r.status_code == 200, r.text
    hits = client.get("/api/v1/guide/search", params={"q": question}).json()["hits"]
    assert any("食品经营" in h["name"] for h in hits[:3])


def test_synonym_edit_is_validated_and_admin_only(client: TestClient, token_for: object) -> None:
    r = client.put("/api/v1/guide/synonyms", json={"life_events": {"生孩子": ["NO-SUCH-BUNDLE"]}},
                   headers=token_for("admin"))  # type: ignore[operator]
    assert r.status_code == 422
    r = client.put("/api/v1/guide/synonyms", json={}, headers=token_for("clerk"))  # type: ignore[operator]
    assert r.status_code == 403


def test_unanswered_questions_are_listed_for_supervisors(client: TestClient, token_for: object) -> None:
    client.get("/api/v1/guide/search", params={"q": "火星移民签证"})
    r = client.get("/api/v1/guide/unanswered", headers=token_for("supervisor"))  # type: ignore[operator]
    assert r.status_code == 200
    assert any("火星" in row["query"] for row in r.json())
    assert client.get("/api/v1/guide/unanswered", headers=token_for("clerk")).status_code == 403  # type: ignore[operator]
