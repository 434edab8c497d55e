"""The API's case detail lists the actions the caller may take now: the access policy within what the state
allows, the same table the case page uses."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.cases.test_api import HUKOU_PROOF, ZHANG, Headers, apply, post
from tests.cases.test_api_access import HYGIENE, HYGIENE_PAPER


def _actions(client: TestClient, headers: dict[str, str], case_id: int) -> list[str]:
    r = client.get(f"/api/v1/cases/{case_id}", headers=headers)
    assert r.status_code == 200, r.text
    actions: list[str] = r.json()["allowed_actions"]
    return actions


def test_each_role_is_offered_what_it_may_do_on_an_accepted_case(client: TestClient, token_for: Headers) -> None:
    case = apply(client, token_for("clerk"), item=HYGIENE, materials=HYGIENE_PAPER)
    assert case["state"] == "accepted" and case["department"]["code"] == "WJW"
    assert case["allowed_actions"] == ["withdraw"]  # the clerk who accepted it, at the window
    approver = _actions(client, token_for("approver_wjw"), case["id"])
    assert {"opinion", "suspend", "extension"} <= set(approver)
    assert "decide" not in approver and "withdraw" not in approver and "deliver" not in approver
    head = _actions(client, token_for("head_wjw"), case["id"])
    assert {"opinion", "suspend", "extension"} <= set(head)
    assert _actions(client, token_for("supervisor"), case["id"]) == []
    assert client.get(f"/api/v1/cases/{case['id']}", headers=token_for("approver_scjg")).status_code == 403


def test_actions_follow_the_state(client: TestClient, token_for: Headers) -> None:
    case = apply(client, token_for("clerk"), item=HYGIENE, materials=HYGIENE_PAPER)
    wjw = token_for("approver_wjw")
    case = post(client, wjw, case, "suspend", kind="expert", reason="专家评审")
    assert case["state"] == "suspended"
    offered = _actions(client, wjw, case["id"])
    assert "resume" in offered and "suspend" not in offered and "opinion" not in offered


def test_an_applicant_is_offered_withdrawal_of_their_own_case_only(client: TestClient, token_for: Headers) -> None:
    zhang = token_for("zhangwei")
    his = apply(client, zhang, item=HUKOU_PROOF, applicant=ZHANG)
    assert his["allowed_actions"] == ["withdraw"]
    withdrawn = post(client, zhang, his, "withdraw", reason="不需要了")
    assert withdrawn["allowed_actions"] == []
