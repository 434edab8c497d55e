"""Every role's access to the admin endpoints: allowed, or 403 — never an empty answer."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

ITEM = "410724-SCJG-XK-001"
ROLES = ["admin", "supervisor", "clerk", "approver_scjg", "head_scjg", "agent", "experiencer"]

# endpoint → usernames that may call it (others get 403)
MATRIX: list[tuple[str, str, set[str]]] = [
    ("POST", f"/api/v1/items/{ITEM}/retire", {"admin"}),
    ("GET", "/api/v1/staff", {"admin"}),
    ("GET", "/api/v1/items?include_retired=true", {"admin", "supervisor", "head_scjg"}),
]


@pytest.mark.parametrize(("method", "path", "allowed"), MATRIX)
@pytest.mark.parametrize("username", ROLES)
def test_admin_endpoint_access_by_role(client: TestClient, token_for: Callable[[str], dict[str, str]],
                                       method: str, path: str, allowed: set[str], username: str) -> None:
    r = client.request(method, path, headers=token_for(username))
    if username in allowed:
        assert r.status_code == 200, r.text
    else:
        assert r.status_code == 403, r.text
        assert r.json()["errors"][0]["message"]


@pytest.mark.parametrize("username", ROLES)
def test_bundle_edit_is_admin_only(client: TestClient, token_for: Callable[[str], dict[str, str]],
                                   username: str) -> None:
    bundle = client.get("/api/v1/bundles/YJS-NEWBORN").json()
    body = {"code": bundle["code"], "name": bundle["name"], "lead_department": bundle["lead_department"],
            "items": [i["code"] for i in bundle["items"]], "promised_limit_days": bundle["promised_limit_days"],
            "description": bundle["description"], "default_consent": True}
    r = client.put("/api/v1/bundles/YJS-NEWBORN", json=body, headers=token_for(username))
    assert r.status_code == (200 if username == "admin" else 403), r.text


def test_item_create_scoped_to_department(client: TestClient, token_for: Callable[[str], dict[str, str]]) -> None:
    base = {"code": "410724-SCJG-QT-099", "name": "测试事项", "type": "公共服务", "department": "SCJG",
            "hall_category": "C", "audience": "enterprise", "levels": ["county"], "legal_limit_days": 5,
            "promised_limit_days": 2, "instant": False, "max_visits": 1, "online_depth": 3, "materials": []}
    assert client.post("/api/v1/items", json=base, headers=token_for("head_scjg")).status_code == 201
    other = {**base, "code": "410724-GAJ-QT-099", "department": "GAJ", "hall_category": "D"}
    assert client.post("/api/v1/items", json=other, headers=token_for("head_scjg")).status_code == 403
    assert client.post("/api/v1/items", json=other, headers=token_for("clerk")).status_code == 403
    assert client.post("/api/v1/items", json=other, headers=token_for("admin")).status_code == 201
    dup = client.post("/api/v1/items", json=other, headers=token_for("admin"))
    assert dup.status_code == 409
