"""The API's remaining steps: 退单 and the center's decision on the dispute, 督办, 合并, and a 回访 that closes an
unsatisfied order as not solved (办结未解决)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.complaints.support import PHONE, department


def test_return_dispute_supervision_merge_and_closing_unsolved(client: TestClient,
                                                              token_for: Callable[[str], dict[str, str]],
                                                              session: Session) -> None:
    clerk, admin, supervisor = token_for("clerk"), token_for("admin"), token_for("supervisor")
    head_gaj = token_for("head_gaj")
    gaj = department(session, "GAJ").id

    def file(subject: str) -> dict[str, Any]:
        r = client.post("/api/v1/complaints", headers=clerk, json={
            "category": "投诉", "subject": subject, "content": "户籍窗口排队太久", "complainant_name": "冯投诉",
            "complainant_phone": PHONE})
        assert r.status_code == 201, r.text
        return dict(r.json())

    def post(cid: int, step: str, who: dict[str, str], body: dict[str, Any]) -> Any:
        return client.post(f"/api/v1/complaints/{cid}/{step}", headers=who, json=body)

    c = file("户籍窗口排队太久")
    c = post(c["id"], "dispatch", admin, {"version": c["version"], "lead_department_id": gaj}).json()
    r = post(c["id"], "return", head_gaj, {"version": c["version"], "reason": ""})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "reason"
    c = post(c["id"], "return", head_gaj, {"version": c["version"], "reason": "排队属中心管理"}).json()
    assert (c["state"], c["return_count"], c["allowed_actions"]) == ("returned", 1, [])
    r = client.get(f"/api/v1/complaints/{c['id']}", headers=admin).json()
    assert {"dispatch", "decide"} <= set(r["allowed_actions"])
    c = post(c["id"], "decide", admin, {"version": c["version"], "note": "户籍窗口由公安局派驻，仍由公安局办理"}).json()
    assert c["state"] == "handling" and c["lead_department_id"] == gaj
    r = post(c["id"], "supervise", supervisor, {"version": c["version"], "due_on": "2026-11-25", "note": "限期答复"})
    assert r.status_code == 200 and r.json()["supervised_due_on"] == "2026-11-25"
    c = r.json()

    duplicate = file("户籍窗口排队太久（再次反映）")
    merged = post(duplicate["id"], "merge", admin, {"version": duplicate["version"], "into_id": c["id"]}).json()
    assert merged["state"] == "merged" and merged["merged_into_id"] == c["id"]

    c = client.get(f"/api/v1/complaints/{c['id']}", headers=admin).json()
    c = post(c["id"], "reply", head_gaj, {"version": c["version"], "reply": "已增开一个户籍窗口"}).json()
    r = post(c["id"], "callback", supervisor, {"version": c["version"], "verdict": "unsatisfied", "reopen": False})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "note"
    c = post(c["id"], "callback", supervisor, {"version": c["version"], "verdict": "unsatisfied", "reopen": False,
                                               "note": "诉求人要求取消排队，超出政策范围"}).json()
    assert (c["state"], c["solved"], c["reopen_count"]) == ("closed", False, 0)
    kinds = [e["kind"] for e in c["timeline"]]
    assert kinds == ["accepted", "dispatched", "returned", "dispute_decided", "supervised", "merged_in", "replied",
                     "closed"]
