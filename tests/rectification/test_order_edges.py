"""The rectification API and pages: who sees and does what, allowed actions, 409 and Chinese 422s, the forms each
role gets, and the 整改台账 export."""

from __future__ import annotations

import io
from collections.abc import Callable

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from onewindow.core.clock import FixedClock
from tests.conftest import Browser
from tests.rectification.support import open_fake

API = "/api/v1/rectifications"


def test_api_detail_lists_the_allowed_actions_per_role(session: Session, clock: FixedClock, client: TestClient,
                                                       token_for: Callable[[str], dict[str, str]]) -> None:
    order = open_fake(session, clock)
    session.flush()
    head = client.get(f"{API}/{order.id}", headers=token_for("head_scjg"))
    assert head.status_code == 200, head.text
    body = head.json()
    assert body["allowed_actions"] == ["verify"] and body["state_label"] == "待核实"
    assert body["raiser_phone"] == "139****5678"  # every API answer leaves masked
    assert [e["kind"] for e in body["timeline"]] == ["opened"]
    supervisor = client.get(f"{API}/{order.id}", headers=token_for("supervisor")).json()
    assert supervisor["allowed_actions"] == []
    assert client.get(f"{API}/{order.id}", headers=token_for("head_wjw")).status_code == 403
    assert client.get(f"{API}/{order.id}", headers=token_for("clerk")).status_code == 403
    assert client.get(API, headers=token_for("clerk")).status_code == 403
    assert client.get(f"{API}/999999", headers=token_for("supervisor")).status_code == 404
    listed = client.get(API, params={"state": "pending", "source_kind": "experience"},
                        headers=token_for("head_scjg")).json()
    assert order.number in [o["number"] for o in listed]
    assert order.number not in [o["number"] for o in client.get(API, headers=token_for("head_wjw")).json()]


def test_api_walks_the_loop_and_refuses_stale_versions_and_empty_fields(
        session: Session, clock: FixedClock, client: TestClient, token_for: Callable[[str], dict[str, str]]) -> None:
    order = open_fake(session, clock)
    session.flush()
    head, supervisor = token_for("head_scjg"), token_for("supervisor")
    r = client.post(f"{API}/{order.id}/verify", headers=head, json={"version": 1, "note": ""})
    assert r.status_code == 422
    assert [(e["field"], e["message"]) for e in r.json()["errors"]] == [("note", "请填写核实情况")]
    r = client.post(f"{API}/{order.id}/verify", headers=supervisor, json={"version": 1, "note": "核实"})
    assert r.status_code == 403
    r = client.post(f"{API}/{order.id}/verify", headers=head, json={"version": 1, "note": "核实", "appeal": True})
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "verified" and r.json()["allowed_actions"] == ["appeal", "start"]
    r = client.post(f"{API}/{order.id}/start", headers=head, json={"version": 1})
    assert r.status_code == 409 and r.json()["errors"][0]["code"] == "stale_version"
    r = client.post(f"{API}/{order.id}/appeal", headers=head, json={"version": 2})
    assert r.status_code == 422
    assert {e["field"]: e["message"] for e in r.json()["errors"]} == {"reason": "请填写申诉理由",
                                                                      "evidence": "请填写申诉证据"}
    r = client.post(f"{API}/{order.id}/appeal", headers=head,
                    json={"version": 2, "reason": "恶意差评", "evidence": "录音"})
    assert r.status_code == 200 and r.json()["state"] == "appealed"
    assert client.post(f"{API}/{order.id}/appeal-decision", headers=head,
                       json={"version": 3, "uphold": False, "note": "x"}).status_code == 403
    r = client.post(f"{API}/{order.id}/appeal-decision", headers=supervisor,
                    json={"version": 3, "uphold": False, "note": "申诉不成立"})
    assert r.status_code == 200 and r.json()["state"] == "rectifying" and r.json()["due_on"] == "2026-11-30"
    r = client.post(f"{API}/{order.id}/callback", headers=supervisor,
                    json={"version": 4, "verdict": "satisfied", "note": ""})
    assert r.status_code == 409 and r.json()["errors"][0]["code"] == "illegal_order_transition"
    r = client.post(f"{API}/{order.id}/extension", headers=supervisor,
                    json={"version": 4, "days": 2, "reason": "协调"})
    assert r.status_code == 200 and r.json()["due_on"] == "2026-12-02"
    r = client.post(f"{API}/{order.id}/complete", headers=head, json={"version": 5, "measures": "已整改"})
    assert r.json()["state"] == "rectified"
    r = client.post(f"{API}/{order.id}/callback", headers=token_for("admin"),
                    json={"version": 6, "verdict": "basic", "note": "基本满意"})
    assert r.status_code == 200 and r.json()["state"] == "closed" and r.json()["allowed_actions"] == []


def test_pages_offer_each_role_its_own_forms(session: Session, clock: FixedClock,
                                             login: Callable[[str], Browser]) -> None:
    order = open_fake(session, clock)
    session.flush()
    head = login("head_scjg")
    page = head.client.get(f"/rectifications/{order.id}")
    assert page.status_code == 200
    assert 'id="action-verify"' in page.text and "窗口人员态度生硬" in page.text
    assert "13912345678" in page.text  # the responsible department calls the raiser back
    assert 'id="action-appeal-decision"' not in page.text
    listing = head.client.get("/rectifications")
    assert listing.status_code == 200 and order.number in listing.text and 'data-state-count="pending"' in listing.text

    r = head.post(f"/rectifications/{order.id}/verify", {"version": "1", "note": "", "appeal": "1"})
    assert r.status_code == 422 and "请填写核实情况" in r.text
    r = head.post(f"/rectifications/{order.id}/verify", {"version": "1", "note": "核实属实", "appeal": "1"})
    assert r.status_code == 303 and r.headers["location"] == f"/rectifications/{order.id}?done=verify"
    r = head.post(f"/rectifications/{order.id}/appeal", {"version": "2", "reason": "误评", "evidence": "录音"})
    assert r.status_code == 303

    supervisor = login("supervisor")
    page = supervisor.client.get(f"/rectifications/{order.id}")
    assert page.status_code == 200 and 'id="action-appeal-decision"' in page.text
    assert "13912345678" not in page.text and "139****5678" in page.text
    assert 'id="action-complete"' not in page.text
    r = supervisor.post(f"/rectifications/{order.id}/appeal-decision", {"version": "2", "uphold": "1", "note": "x"})
    assert r.status_code == 409 and "已被他人更新" in r.text
    r = supervisor.post(f"/rectifications/{order.id}/appeal-decision", {"version": "3", "uphold": "1", "note": "成立"})
    assert r.status_code == 303
    assert "无效（申诉成立）" in supervisor.client.get(f"/rectifications/{order.id}").text

    other = login("head_wjw")
    assert other.client.get(f"/rectifications/{order.id}").status_code == 403
    assert login("clerk").client.get("/rectifications").status_code == 403


def test_ledger_export_is_scoped_like_the_list(session: Session, clock: FixedClock,
                                               login: Callable[[str], Browser]) -> None:
    mine = open_fake(session, clock)
    theirs = open_fake(session, clock, code="WJW")
    session.flush()
    r = login("head_scjg").client.get("/rectifications/ledger.xlsx")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/vnd.openxmlformats")
    rows = list(load_workbook(io.BytesIO(r.content)).active.iter_rows(values_only=True))
    assert rows[0] == ("工单编号", "来源", "部门", "标题", "状态", "受理日期", "整改期限", "是否超期", "核实情况",
                       "整改措施", "回访意见", "办结日期")
    numbers = [row[0] for row in rows[1:]]
    assert mine.number in numbers and theirs.number not in numbers
    assert rows[1][1] == "体验员反映" and rows[1][4] == "待核实" and rows[1][7] == "否"
    everything = login("supervisor").client.get("/rectifications/ledger.xlsx")
    all_numbers = [row[0] for row in load_workbook(io.BytesIO(everything.content)).active.iter_rows(values_only=True)]
    assert mine.number in all_numbers and theirs.number in all_numbers
