"""The catalog API: lists with filters, details, bundles, organisation, and admin writes with roles."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient


def test_healthz_reports_database_and_schema(client: TestClient) -> None:
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json()["status"] == "ok"


def test_items_list_has_every_reference_item(client: TestClient) -> None:
    r = client.get("/api/v1/items", params={"limit": 200})
    assert r.status_code == 200
    assert r.json()["total"] == 99


def test_items_filter_by_department_and_instant(client: TestClient) -> None:
    r = client.get("/api/v1/items", params={"department": "GAJ", "limit": 200})
    body = r.json()
    assert body["total"] > 0
    assert {i["department"] for i in body["items"]} == {"GAJ"}
    r = client.get("/api/v1/items", params={"instant": "true", "limit": 200})
    instant = r.json()
    assert instant["items"] and all(i["instant"] for i in instant["items"])
    assert instant["total"] < client.get("/api/v1/items", params={"limit": 200}).json()["total"]  # it filters


def test_item_detail_lists_materials_with_certificate_types(client: TestClient) -> None:
    r = client.get("/api/v1/items/410724-SCJG-XK-001")
    assert r.status_code == 200
    body = r.json()
    assert body["name"] == "个体工商户设立登记"
    assert any(m["certificate_type"] == "ID_CARD" for m in body["materials"])


def test_unknown_item_is_404_with_chinese_message(client: TestClient) -> None:
    r = client.get("/api/v1/items/NOPE-1")
    assert r.status_code == 404
    assert "事项不存在" in r.json()["errors"][0]["message"]


def test_bad_filter_is_422_with_field(client: TestClient) -> None:
    r = client.get("/api/v1/items", params={"online_depth": 9})
    assert r.status_code == 422
    err = r.json()["errors"][0]
    assert err["field"] == "online_depth"
    assert "小于或等于" in err["message"]


def test_bundle_newborn_has_five_items(client: TestClient) -> None:
    r = client.get("/api/v1/bundles/YJS-NEWBORN")
    assert r.status_code == 200
    assert len(r.json()["items"]) == 5


def test_update_creates_new_version_and_keeps_old(client: TestClient,
                                                  token_for: Callable[[str], dict[str, str]]) -> None:
    item = client.get("/api/v1/items/410724-SCJG-XK-001").json()
    r = client.get("/api/v1/items/410724-SCJG-XK-001/versions")
    assert [v["version"] for v in r.json()] == [1]
    payload = _as_input(item)
    payload["promised_limit_days"] = 0
    payload["legal_limit_days"] = 3
    r = client.put("/api/v1/items/410724-SCJG-XK-001", json=payload, headers=token_for("admin"))
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 2
    old = client.get("/api/v1/items/410724-SCJG-XK-001", params={"version": 1}).json()
    assert old["promised_limit_days"] == 1
    # same content again: no new version
    r = client.put("/api/v1/items/410724-SCJG-XK-001", json=payload, headers=token_for("admin"))
    assert r.json()["version"] == 2
    assert r.headers["X-Item-Changed"] == "false"


def test_update_rejects_promised_over_legal(client: TestClient, token_for: Callable[[str], dict[str, str]]) -> None:
    payload = _as_input(client.get("/api/v1/items/410724-SCJG-XK-001").json())
    payload["promised_limit_days"] = 30
    r = client.put("/api/v1/items/410724-SCJG-XK-001", json=payload, headers=token_for("admin"))
    assert r.status_code == 422
    assert r.json()["errors"][0]["code"] == "promised_exceeds_legal"


def test_dept_head_edits_only_own_department(client: TestClient,
                                             token_for: Callable[[str], dict[str, str]]) -> None:
    own = _as_input(client.get("/api/v1/items/410724-SCJG-XK-001").json())
    own["keywords"] = [*own["keywords"], "开奶茶店"]
    assert client.put("/api/v1/items/410724-SCJG-XK-001", json=own,
                      headers=token_for("head_scjg")).status_code == 200
    other_code = client.get("/api/v1/items", params={"department": "GAJ"}).json()["items"][0]["code"]
    other = _as_input(client.get(f"/api/v1/items/{other_code}").json())
    r = client.put(f"/api/v1/items/{other_code}", json=other, headers=token_for("head_scjg"))
    assert r.status_code == 403


def test_anonymous_write_is_401(client: TestClient) -> None:
    assert client.post("/api/v1/items/410724-SCJG-XK-001/retire").status_code == 401


def _as_input(detail: dict[str, object]) -> dict[str, object]:
    keys = ["code", "name", "type", "department", "hall_category", "audience", "levels", "legal_limit_days",
            "promised_limit_days", "limit_unit", "instant", "max_visits", "online_depth", "scope", "fee", "basis",
            "conditions", "steps", "keywords", "location", "phone"]
    out = {k: detail[k] for k in keys}
    if detail.get("result_certificate_type"):
        out["result_certificate_type"] = detail["result_certificate_type"]
    out["materials"] = [
        {k: m[k] for k in ["name", "required", "form", "copies", "deferrable", "certificate_type", "note",
                           *(["kind"] if m.get("kind") else []), *(["source"] if m.get("source") else [])]}
        for m in detail["materials"]  # type: ignore[attr-defined]
    ]
    return out
