"""The special paths over the API: 容缺 (result held until the materials are in), mail delivery,
告知承诺 with 事后核查, and a bundle with its sub-cases."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.cases.test_api import ZHANG, Headers, apply, errors, post

SETUP = "410724-SCJG-XK-001"  # 个体工商户设立登记: 受理 → 审查 → 核准登记 → 发放营业执照


def keys_by_name(client: TestClient, headers: dict[str, str], **target: str) -> dict[str, str]:
    """Material name → key, from the intake checklist."""
    r = client.post("/api/v1/cases/checklist", headers=headers, json=target)
    assert r.status_code == 200, r.text
    return {m["name"]: m["key"] for m in r.json()["materials"]}


def _review_to_decision(client: TestClient, approver: dict[str, str], case: dict[str, Any]) -> dict[str, Any]:
    while case["next_opinion_step"]:
        case = post(client, approver, case, "opinions", opinion="同意")
    return case


def test_deferred_materials_hold_the_result_until_supplied(client: TestClient, token_for: Headers) -> None:
    clerk, approver = token_for("clerk"), token_for("approver_scjg")
    keys = keys_by_name(client, clerk, item_code=SETUP)
    lease = keys["经营场所使用证明（租赁协议等）"]
    form = {keys["个体工商户登记（备案）申请书"]: "paper"}
    case = apply(client, clerk, item=SETUP, materials=form | {lease: "deferred"})
    assert case["state"] == "accepted" and case["deferred"] is True
    assert case["deadlines"]["deferral_due"] is not None
    case = post(client, approver, _review_to_decision(client, approver, case), "decision", approve=True)
    assert case["state"] == "approved"
    r = client.post(f"/api/v1/cases/{case['id']}/delivery", headers=clerk,
                    json={"version": case["version"], "method": "pickup", "picked_up_by": "张伟"})
    assert r.status_code == 409 and errors(r) == [("", "deferred_outstanding")]
    case = post(client, clerk, case, "deferred-materials", keys=[lease])
    assert case["deferred"] is False and case["deadlines"]["deferral_due"] is None
    r = client.post(f"/api/v1/cases/{case['id']}/delivery", headers=clerk,
                    json={"version": case["version"], "method": "mail", "address": "获嘉县城关镇建设路 8 号"})
    assert r.status_code == 422 and {f for f, _ in errors(r)} == {"recipient", "courier", "tracking_number"}
    case = post(client, clerk, case, "delivery", method="mail", address="获嘉县城关镇建设路 8 号", recipient="张伟",
                courier="EMS", tracking_number="1100223344556")
    assert case["state"] == "delivered" and case["delivery"]["delivered_on"] is None
    r = client.post(f"/api/v1/cases/{case['id']}/delivery/received", headers=clerk,
                    json={"delivered_on": "2026-11-23", "version": case["version"] - 1})
    assert r.status_code == 409 and errors(r) == [("version", "stale_version")]
    r = client.post(f"/api/v1/cases/{case['id']}/delivery/received", headers=clerk,
                    json={"delivered_on": "2026-11-23", "version": case["version"]})
    assert r.status_code == 200, r.text
    assert r.json()["delivery"]["delivered_on"] == "2026-11-23"


def test_a_false_commitment_terminates_the_case(client: TestClient, token_for: Headers) -> None:
    clerk, approver = token_for("clerk"), token_for("approver_scjg")
    keys = keys_by_name(client, clerk, item_code=SETUP)
    lease = keys["经营场所使用证明（租赁协议等）"]
    form = {keys["个体工商户登记（备案）申请书"]: "paper"}
    r = client.post("/api/v1/cases", headers=clerk,
                    json={"item_code": SETUP, "applicant": ZHANG, "materials": form | {lease: "promised"}})
    assert r.status_code == 422 and errors(r) == [(f"materials.{lease}", "material_promised_not_allowed")]
    case = apply(client, clerk, item=SETUP, materials=form | {lease: "promised"}, commitment=True)
    assert case["state"] == "accepted" and case["commitment"] is True
    r = client.post(f"/api/v1/cases/{case['id']}/verification", headers=approver,
                    json={"version": case["version"], "truthful": False, "note": ""})
    assert r.status_code == 422 and errors(r)[0][0] == "note"
    case = post(client, approver, case, "verification", truthful=False, note="现场核查无该经营场所")
    assert case["state"] == "terminated" and case["verified_at"] is not None
    assert "告知承诺不实" in case["closed_reason"]
    r = client.post(f"/api/v1/cases/{case['id']}/verification", headers=approver,
                    json={"version": case["version"], "truthful": True, "note": "再次核查"})
    assert r.status_code == 409 and errors(r) == [("", "already_verified")]


def test_a_bundle_shows_its_sub_cases_and_each_sub_case_its_parent(client: TestClient, token_for: Headers) -> None:
    clerk = token_for("clerk")
    keys = keys_by_name(client, clerk, bundle_code="YJS-NEWBORN")
    bundle = apply(client, clerk, item=None, bundle_code="YJS-NEWBORN", materials=dict.fromkeys(keys.values(), "paper"))
    assert bundle["kind"] == "bundle" and bundle["state"] == "accepted"
    subs = bundle["sub_cases"]
    assert len(subs) == 5 and {s["department"]["code"] for s in subs} == {"WJW", "GAJ", "YBJ", "RSJ"}
    assert all(s["kind"] == "sub" and s["parent_id"] == bundle["id"] for s in subs)
    gaj = token_for("approver_gaj")
    sub = next(s for s in subs if s["department"]["code"] == "GAJ")
    detail = client.get(f"/api/v1/cases/{sub['id']}", headers=gaj).json()
    assert detail["parent_number"] == bundle["number"] and detail["sub_cases"] == []
    assert client.get(f"/api/v1/cases/{bundle['id']}", headers=gaj).status_code == 200  # a co-department
    assert client.get(f"/api/v1/cases/{bundle['id']}", headers=token_for("approver_scjg")).status_code == 403
    r = client.post(f"/api/v1/cases/{bundle['id']}/decision", headers=token_for("approver_wjw"),
                    json={"version": bundle["version"], "approve": True})
    assert r.status_code == 409 and errors(r) == [("", "bundle_parent")]  # it completes with its sub-cases
