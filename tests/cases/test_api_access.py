"""Who may see and act on a case over the API: departments, applicants, agents, and the public check."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient

from onewindow.cases.numbers import format_case_number
from tests.cases.test_api import CANCEL, HUKOU_PROOF, WANG, ZHANG, Headers, apply, errors, post

# 公共场所卫生许可 (WJW): not instant, every material on paper but the ID card from the library
HYGIENE = "410724-WJW-XK-001"
HYGIENE_PAPER = {"name:公共场所卫生许可申请表": "paper", "cert:BIZ_LICENSE": "paper",
                 "name:经营场所平面图和卫生设施布局": "paper", "name:卫生管理制度": "paper"}


def test_an_approver_cannot_see_or_decide_another_departments_case(client: TestClient, token_for: Headers) -> None:
    case = apply(client, token_for("clerk"), item=HYGIENE, materials=HYGIENE_PAPER)
    assert case["state"] == "accepted" and case["department"]["code"] == "WJW"
    scjg = token_for("approver_scjg")
    r = client.get(f"/api/v1/cases/{case['id']}", headers=scjg)
    assert r.status_code == 403 and errors(r) == [("", "case_forbidden")]
    post(client, scjg, case, "opinions", 403, opinion="同意")
    post(client, scjg, case, "decision", 403, approve=True)
    post(client, scjg, case, "suspend", 403, kind="expert", reason="专家评审")
    assert case["id"] not in [c["id"] for c in client.get("/api/v1/cases", headers=scjg).json()]
    assert case["id"] not in [c["id"] for c in client.get("/api/v1/cases/inbox", headers=scjg).json()]
    wjw = token_for("approver_wjw")
    assert client.get(f"/api/v1/cases/{case['id']}", headers=wjw).status_code == 200
    assert case["id"] in [c["id"] for c in client.get("/api/v1/cases/inbox", headers=wjw).json()]
    assert client.get("/api/v1/cases/inbox", headers=token_for("clerk")).status_code == 403


def test_an_applicant_sees_only_their_own_cases(client: TestClient, token_for: Headers) -> None:
    zhang, wang = token_for("zhangwei"), token_for("wangfang")
    his = apply(client, zhang, item=HUKOU_PROOF)
    hers = apply(client, wang, item=HUKOU_PROOF, applicant=WANG)
    r = client.get(f"/api/v1/cases/{his['id']}", headers=wang)
    assert r.status_code == 403 and errors(r) == [("", "case_forbidden")]
    assert client.get(f"/api/v1/cases/{hers['id']}", headers=wang).status_code == 200
    post(client, wang, his, "withdraw", 403)
    mine = client.get("/api/v1/cases/mine", headers=wang).json()  # the demo county's cases of hers too
    assert hers["id"] in [c["id"] for c in mine] and his["id"] not in [c["id"] for c in mine]
    assert all(c["applicant_id"] == "410724********0045" for c in mine)
    assert his["id"] in [c["id"] for c in client.get("/api/v1/cases/mine", headers=zhang).json()]
    # online, an applicant applies only as themself
    r = client.post("/api/v1/cases", headers=wang, json={"item_code": HUKOU_PROOF, "applicant": ZHANG})
    assert r.status_code == 403 and errors(r) == [("", "not_self")]
    assert client.get("/api/v1/cases", headers=wang).status_code == 403
    assert client.get("/api/v1/cases/mine", headers=token_for("clerk")).status_code == 403
    case = post(client, zhang, his, "withdraw", reason="不需要了")
    assert case["state"] == "withdrawn"


def test_public_tracking_hides_personal_data(client: TestClient, token_for: Headers) -> None:
    case = apply(client, token_for("clerk"), item=CANCEL,
                 materials={"name:个体工商户注销登记申请书": "paper", "cert:BIZ_LICENSE": "paper"})
    r = client.get("/api/v1/track", params={"number": case["number"], "id_last4": "001x"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["number"] == case["number"] and body["state"] == "accepted" and body["state_label"] == "已受理"
    assert body["applicant"] == "张*" and body["department"]
    assert [s["status"] for s in body["steps"]] == ["已完成", "待办理", "待办理"]
    for secret in ("41072419900315001X", "张伟", "13903735678", "001X"):
        assert secret not in r.text
    wrong_tail = client.get("/api/v1/track", params={"number": case["number"], "id_last4": "1234"})
    unknown = client.get("/api/v1/track", params={"number": format_case_number(dt.date(2026, 11, 23), 99999),
                                                  "id_last4": "001X"})
    assert wrong_tail.status_code == unknown.status_code == 404
    assert errors(wrong_tail) == errors(unknown) == [("number", "not_found")]
    assert client.get("/api/v1/track", params={"number": case["number"], "id_last4": "01"}).status_code == 422
    assert client.get("/api/v1/track", params={"number": "garbage", "id_last4": "001X"}).status_code == 422
    assert client.get("/api/v1/track", params={"number": case["number"]}).status_code == 422


def test_an_agent_applies_only_with_an_authorisation(client: TestClient, token_for: Headers) -> None:
    agent, zhang = token_for("agent"), token_for("zhangwei")
    r = client.post("/api/v1/cases", headers=agent, json={"item_code": HUKOU_PROOF, "applicant": ZHANG})
    assert r.status_code == 403 and errors(r) == [("", "no_authorization")]
    r = client.post("/api/v1/agent-authorizations", headers=zhang, json={
        "agent_username": "agent", "applicant": ZHANG, "scope": [HUKOU_PROOF], "valid_from": "2026-11-23",
        "valid_until": "2027-02-28", "document": "授权委托书 2026-118"})
    assert r.status_code == 201, r.text
    grant = r.json()
    assert grant["applicant_id"] == "410724********001X" and grant["scope"] == [HUKOU_PROOF]
    case = apply(client, agent, item=HUKOU_PROOF)
    assert case["state"] == "submitted"
    seen = client.get("/api/v1/agent-authorizations", headers=zhang).json()
    assert grant["id"] in [g["id"] for g in seen] and {g["applicant_id"] for g in seen} == {grant["applicant_id"]}
    assert grant["id"] in [g["id"] for g in client.get("/api/v1/agent-authorizations", headers=agent).json()]
    others = client.get("/api/v1/agent-authorizations", headers=token_for("wangfang")).json()
    assert grant["id"] not in [g["id"] for g in others]
    assert case["id"] in [c["id"] for c in client.get("/api/v1/cases/mine", headers=agent).json()]
    assert client.get(f"/api/v1/cases/{case['id']}", headers=zhang).status_code == 200
    # outside the scope, and after revocation, the agent is refused again
    r = client.post("/api/v1/cases", headers=agent, json={"item_code": CANCEL, "applicant": ZHANG})
    assert r.status_code == 403
    assert client.post(f"/api/v1/agent-authorizations/{grant['id']}/revoke",
                       headers=token_for("wangfang")).status_code == 403
    r = client.post(f"/api/v1/agent-authorizations/{grant['id']}/revoke", headers=zhang)
    assert r.status_code == 200 and r.json()["revoked_at"]
    r = client.post("/api/v1/cases", headers=agent, json={"item_code": HUKOU_PROOF, "applicant": ZHANG,
                                                          "form_data": {"purpose": "入学"}})
    assert r.status_code == 403


def test_authorisations_are_listed_without_an_id_number_in_the_url(client: TestClient, token_for: Headers) -> None:
    """Applicants and agents list their own with no parameter; center staff search by a POST body. The old
    ``GET ?applicant_id=`` looks nobody up."""
    zhang, agent, clerk = token_for("zhangwei"), token_for("agent"), token_for("clerk")
    r = client.post("/api/v1/agent-authorizations", headers=zhang, json={
        "agent_username": "agent", "applicant": ZHANG, "scope": [HUKOU_PROOF], "valid_from": "2026-11-23",
        "valid_until": "2027-02-28", "document": "授权委托书 2026-119"})
    assert r.status_code == 201, r.text
    grant = r.json()
    # the old form: staff passing the ID number in the query are refused, and nothing is looked up
    old = client.get("/api/v1/agent-authorizations", params={"applicant_id": ZHANG["id_number"]}, headers=clerk)
    assert old.status_code == 403 and errors(old) == [("", "applicant_id_required")]
    # an applicant's query parameter is ignored: still only their own
    mine = client.get("/api/v1/agent-authorizations", params={"applicant_id": WANG["id_number"]}, headers=zhang)
    assert grant["id"] in [g["id"] for g in mine.json()] and {g["applicant_id"] for g in mine.json()} == {
        grant["applicant_id"]}
    assert grant["id"] in [g["id"] for g in client.get("/api/v1/agent-authorizations", headers=agent).json()]
    spec = client.get("/openapi.json").json()["paths"]
    assert not spec["/api/v1/agent-authorizations"]["get"].get("parameters")
    assert set(spec["/api/v1/agent-authorizations/search"]) == {"post"}
    # the new form: staff search with the ID number in the body
    for user in ("clerk", "supervisor", "admin"):
        r = client.post("/api/v1/agent-authorizations/search", headers=token_for(user),
                        json={"applicant_id": f" {ZHANG['id_number'].lower()} "})
        assert r.status_code == 200, (user, r.text)
        assert grant["id"] in [g["id"] for g in r.json()]
    r = client.post("/api/v1/agent-authorizations/search", headers=clerk, json={"applicant_id": WANG["id_number"]})
    assert r.status_code == 200 and grant["id"] not in [g["id"] for g in r.json()]
    for user in ("zhangwei", "agent", "approver_wjw"):
        r = client.post("/api/v1/agent-authorizations/search", headers=token_for(user),
                        json={"applicant_id": ZHANG["id_number"]})
        assert r.status_code == 403, (user, r.text)
    assert client.post("/api/v1/agent-authorizations/search", json={"applicant_id": ZHANG["id_number"]}
                       ).status_code == 401
    assert client.get("/api/v1/agent-authorizations/search", headers=clerk).status_code in {404, 405, 422}
    for body in ({}, {"applicant_id": ""}, {"applicant_id": "  "}, {"applicant_id": "1" * 31},
                 {"applicant_id": "4\x00"}, [], None):
        r = client.post("/api/v1/agent-authorizations/search", headers=clerk, json=body)
        assert r.status_code == 422, (body, r.text)


def test_authorisation_mistakes_are_422(client: TestClient, token_for: Headers) -> None:
    zhang = token_for("zhangwei")
    r = client.post("/api/v1/agent-authorizations", headers=zhang, json={
        "agent_username": "clerk", "applicant": ZHANG, "valid_from": "2026-11-23", "valid_until": "2028-12-31"})
    assert r.status_code == 422
    assert {f for f, _ in errors(r)} == {"agent_username", "valid_until"}
    r = client.post("/api/v1/agent-authorizations", headers=zhang, json={
        "agent_username": "agent", "applicant": ZHANG, "valid_from": "23.11.2026", "valid_until": "2026-12-31"})
    assert r.status_code == 422 and errors(r) == [("valid_from", "date_from_datetime_parsing")]
    r = client.post("/api/v1/agent-authorizations", headers=zhang, json={
        "agent_username": "agent", "applicant": WANG, "valid_from": "2026-11-23", "valid_until": "2026-12-31"})
    assert r.status_code == 403  # only for oneself
