"""Public verification (page and API) by number + check code, the staff lookup API and revocation."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from onewindow.certificates import service
from onewindow.certificates.demo import FENGYUAN, LI_NA, ZHANG_WEI
from onewindow.core.clock import FixedClock, today
from onewindow.core.ids import mask_id_number

Headers = Callable[[str], dict[str, str]]
NOT_FOUND = service.NOT_FOUND_MESSAGE


def test_right_code_verifies_as_valid_with_the_person_masked(client: TestClient) -> None:
    r = client.get("/api/v1/certificates/verify", params={"number": "ID_CARD-DEMO-000001", "check_code": "zw7k2m9q"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status_label"] == "有效" and body["type_name"] == "居民身份证"
    assert body["holder_name"] == "张*" and body["holder_id"] == mask_id_number(ZHANG_WEI)
    assert ZHANG_WEI not in r.text and "张伟" not in r.text


def test_wrong_code_and_unknown_number_get_the_same_answer(client: TestClient) -> None:
    wrong_code = client.get("/api/v1/certificates/verify",
                            params={"number": "ID_CARD-DEMO-000001", "check_code": "AAAAAAAA"})
    unknown = client.get("/api/v1/certificates/verify", params={"number": "NO-SUCH-1", "check_code": "ZW7K2M9Q"})
    assert wrong_code.status_code == unknown.status_code == 404
    assert wrong_code.json() == unknown.json()
    assert NOT_FOUND in wrong_code.text


def test_expired_and_revoked_certificates_verify_with_their_state(client: TestClient) -> None:
    expired = client.get("/api/v1/certificates/verify",
                         params={"number": "ID_CARD-DEMO-000002", "check_code": "LN5T6W2X"})
    revoked = client.get("/api/v1/certificates/verify",
                         params={"number": "MARRIAGE_CERT-DEMO-000001", "check_code": "WF9J4N7B"})
    assert expired.json()["status_label"] == "已过期" and revoked.json()["status_label"] == "已注销"


def test_enterprise_holder_is_shown_whole(client: TestClient) -> None:
    body = client.get("/api/v1/certificates/verify",
                      params={"number": "BIZ_LICENSE-DEMO-000001", "check_code": "FY6G3K8M"}).json()
    assert body["holder_id"] == FENGYUAN and body["holder_name"] == "获嘉县丰源商贸有限公司"


def test_verify_page_shows_the_form_the_result_and_one_not_found_message(client: TestClient) -> None:
    empty = client.get("/certificates/verify")
    assert empty.status_code == 200 and "电子证照核验" in empty.text and NOT_FOUND not in empty.text
    good = client.get("/certificates/verify", params={"number": "ID_CARD-DEMO-000001", "check_code": "ZW7K2M9Q"})
    assert good.status_code == 200
    assert 'id="verify-status">有效<' in good.text and mask_id_number(ZHANG_WEI) in good.text
    assert ZHANG_WEI not in good.text and "张伟" not in good.text
    for params in ({"number": "ID_CARD-DEMO-000001", "check_code": "WRONG123"},
                   {"number": "NOPE", "check_code": "ZW7K2M9Q"}, {"number": "ID_CARD-DEMO-000001"}):
        bad = client.get("/certificates/verify", params=params)
        assert bad.status_code == 200 and NOT_FOUND in bad.text and "张*" not in bad.text
    fragment = client.get("/certificates/verify", params={"number": "ID_CARD-DEMO-000001", "check_code": "ZW7K2M9Q"},
                          headers={"HX-Request": "true"})
    assert fragment.text.lstrip().startswith('<section id="verify-result"')


def test_lookup_api_is_for_clerks_approvers_and_admins(client: TestClient, token_for: Headers) -> None:
    lookup = "/api/v1/certificates/lookup"
    assert client.post(lookup, json={"holder_id": ZHANG_WEI}).status_code == 401
    assert client.post(lookup, json={"holder_id": ZHANG_WEI}, headers=token_for("supervisor")).status_code == 403
    for user in ("clerk", "approver_scjg", "admin"):
        r = client.post(lookup, json={"holder_id": ZHANG_WEI}, headers=token_for(user))
        assert r.status_code == 200, (user, r.text)
        assert {c["number"] for c in r.json()} == {"ID_CARD-DEMO-000001", "HUKOU_BOOK-DEMO-000001"}
    every = client.post(lookup, json={"holder_id": LI_NA}, headers=token_for("clerk")).json()
    assert [(c["number"], c["state"]) for c in every] == [("ID_CARD-DEMO-000002", "expired")]
    usable = client.post(lookup, json={"holder_id": LI_NA, "usable_only": True}, headers=token_for("clerk")).json()
    assert usable == []


def test_lookup_keeps_the_holder_id_out_of_the_url(client: TestClient, token_for: Headers,
                                                   clock: FixedClock) -> None:
    """The lookup is a POST with the ID number in the body: the old GET with ?holder_id= is gone."""
    clerk = token_for("clerk")
    old = client.get("/api/v1/certificates", params={"holder_id": ZHANG_WEI}, headers=clerk)
    assert old.status_code in {404, 405}, old.text
    assert ZHANG_WEI not in old.text
    assert client.get("/api/v1/certificates/lookup", params={"holder_id": ZHANG_WEI},
                      headers=clerk).status_code == 405
    paths = client.get("/openapi.json").json()["paths"]
    assert "/api/v1/certificates" not in paths
    assert set(paths["/api/v1/certificates/lookup"]) == {"post"}
    assert not paths["/api/v1/certificates/lookup"]["post"].get("parameters")
    # the day of the lookup travels in the body too: the expired card was usable on its last valid day
    last_day = (today(clock) - dt.timedelta(days=120)).isoformat()
    r = client.post("/api/v1/certificates/lookup", headers=clerk,
                    json={"holder_id": f" {LI_NA.lower()} ", "usable_only": True, "on": last_day})
    assert r.status_code == 200, r.text
    assert [(c["number"], c["state"]) for c in r.json()] == [("ID_CARD-DEMO-000002", "valid")]
    for body in ({}, {"holder_id": ""}, {"holder_id": "1" * 31}, {"holder_id": "4\x00"},
                 {"holder_id": ZHANG_WEI, "on": "23.11.2026"}, {"holder_id": ZHANG_WEI, "holderid": "x"}, [], None):
        r = client.post("/api/v1/certificates/lookup", headers=clerk, json=body)
        assert r.status_code == 422, (body, r.text)


def test_admin_revokes_once_and_the_certificate_stops_being_usable(client: TestClient, token_for: Headers,
                                                                   session: Session, clock: FixedClock) -> None:
    [card] = [c for c in service.usable_certificates(session, holder_id=ZHANG_WEI, on=today(clock))
              if c.type.code == "ID_CARD"]
    url = f"/api/v1/certificates/{card.id}/revoke"
    assert client.post(url, json={"reason": "挂失"}, headers=token_for("clerk")).status_code == 403
    r = client.post(url, json={"reason": "挂失"}, headers=token_for("admin"))
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "revoked" and r.json()["revoked_reason"] == "挂失"
    assert client.post(url, json={"reason": "挂失"}, headers=token_for("admin")).status_code == 409
    assert client.post("/api/v1/certificates/999999/revoke", json={"reason": "x"},
                       headers=token_for("admin")).status_code == 404
    verified = client.get("/api/v1/certificates/verify",
                          params={"number": "ID_CARD-DEMO-000001", "check_code": "ZW7K2M9Q"}).json()
    assert verified["status_label"] == "已注销"
    assert "ID_CARD" not in {c.type.code for c in service.usable_certificates(session, holder_id=ZHANG_WEI,
                                                                              on=today(clock))}
