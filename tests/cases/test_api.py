"""The cases API end to end over HTTP: window intake → review → decision → delivery, 补正, refusal,
illegal moves and stale versions (409), idempotent applications and user mistakes (422)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onewindow.cases.models import Case

Headers = Callable[[str], dict[str, str]]

ZHANG = {"kind": "person", "name": "张伟", "id_number": "41072419900315001X", "phone": "13903735678"}
WANG = {"kind": "person", "name": "王芳", "id_number": "410724199209080045", "phone": "13703736789"}
# 个体工商户注销登记 (SCJG): 受理 → 审查 → 核准注销; the ID card comes from the library for 张伟
CANCEL = "410724-SCJG-XK-003"
CANCEL_PAPER = {"name:个体工商户注销登记申请书": "paper", "cert:BIZ_LICENSE": "paper"}
# 户籍证明出具 (GAJ): the ID card from the library, the purpose statement to upload
HUKOU_PROOF = "410724-GAJ-GG-001"
PURPOSE = "name:证明用途说明"


def errors(r: Any) -> list[tuple[str, str]]:
    """(field, code) of each problem in an error answer; every one has a Chinese message."""
    body = r.json()
    assert all(e["message"] for e in body["errors"]), body
    return [(e["field"], e["code"]) for e in body["errors"]]


def apply(client: TestClient, headers: dict[str, str], *, item: str | None = CANCEL,
          materials: dict[str, str] | None = None, applicant: dict[str, str] | None = None, key: str | None = None,
          status: int = 201,
          **extra: Any) -> dict[str, Any]:
    """POST /cases and check the status; the answer's body."""
    h = dict(headers) | ({"Idempotency-Key": key} if key else {})
    r = client.post("/api/v1/cases", headers=h, json={"item_code": item, "applicant": applicant or ZHANG,
                                                       "materials": materials or {}, **extra})
    assert r.status_code == status, r.text
    body: dict[str, Any] = r.json()
    return body


def post(client: TestClient, headers: dict[str, str], case: dict[str, Any], action: str, status: int = 200,
         **body: Any) -> dict[str, Any]:
    """POST /cases/{id}/{action} with the case's current version unless given."""
    r = client.post(f"/api/v1/cases/{case['id']}/{action}", headers=headers, json={"version": case["version"], **body})
    assert r.status_code == status, r.text
    out: dict[str, Any] = r.json()
    return out


def test_window_intake_review_decision_and_pickup(client: TestClient, token_for: Headers) -> None:
    clerk, approver = token_for("clerk"), token_for("approver_scjg")
    case = apply(client, clerk, materials=CANCEL_PAPER)
    assert case["state"] == "accepted" and case["state_label"] == "已受理"
    assert case["channel"] == "window" and case["version"] >= 2
    status = {m["key"]: (m["status"], m["status_label"]) for m in case["materials"]}
    assert status["cert:ID_CARD"] == ("library", "证照库调取（免提交）")  # 免提交
    assert status["cert:BIZ_LICENSE"] == ("paper", "纸质已收")
    assert [s["name"] for s in case["steps"]] == ["受理", "审查", "核准注销"]
    assert case["deadlines"]["promised_due"] and case["deadlines"]["legal_due"]
    assert case["accepted_on"] == "2026-11-23"
    assert case["applicant_id"] == "410724********001X" and case["applicant_phone"] == "139****5678"

    case = post(client, approver, case, "opinions", opinion="材料齐全，同意注销")
    assert case["state"] == "in_review"
    assert case["steps"][1]["status"] == "done" and case["steps"][1]["done_by_name"] == "陈审批"
    case = post(client, approver, case, "decision", approve=True, reason="准予注销登记")
    assert case["state"] == "approved"
    assert case["decision"]["decision"] == "approved" and case["decision"]["reason"] == "准予注销登记"
    assert case["one_visit"] is True  # decided with the intake visit only
    case = post(client, clerk, case, "delivery", method="pickup", picked_up_by="张伟")
    assert case["state"] == "delivered" and case["delivery"]["method"] == "pickup"
    assert case["visits"] == 2 and case["one_visit"] is False  # intake + pickup
    kinds = [e["kind"] for e in case["timeline"]]
    assert kinds == ["submitted", "accepted", "reviewed", "approved", "delivered"]
    case = post(client, clerk, case, "archive")
    assert case["state"] == "archived"
    for secret in ("41072419900315001X", "13903735678"):
        assert secret not in client.get(f"/api/v1/cases/{case['id']}", headers=clerk).text


def test_correction_lists_every_missing_material(client: TestClient, token_for: Headers) -> None:
    case = apply(client, token_for("clerk"), materials={})
    assert case["state"] == "correction_requested"
    assert case["missing_materials"] == ["个体工商户注销登记申请书", "营业执照正、副本"]
    assert case["timeline"][-1]["data"]["missing"] == case["missing_materials"]
    assert case["deadlines"]["promised_due"] is None  # the clock has not started
    # the applicant comes back with the materials: the clerk takes them and intake accepts
    case = post(client, token_for("clerk"), case, "resubmit", materials=CANCEL_PAPER)
    assert case["state"] == "accepted" and case["missing_materials"] == []


def test_refusal_needs_a_legal_basis(client: TestClient, token_for: Headers, session: Session) -> None:
    before = session.scalar(select(func.count()).select_from(Case))
    r = client.post("/api/v1/cases", headers=token_for("clerk"), json={
        "item_code": CANCEL, "applicant": ZHANG, "refuse": True, "refuse_reason": "不属于本中心受理范围"})
    assert r.status_code == 422
    assert errors(r) == [("refuse_basis", "basis_required")]
    assert session.scalar(select(func.count()).select_from(Case)) == before
    case = apply(client, token_for("clerk"), refuse=True, refuse_reason="不属于本中心受理范围",
                 refuse_basis="《行政许可法》第三十二条")
    assert case["state"] == "refused" and case["closed_basis"] == "《行政许可法》第三十二条"


def test_illegal_transitions_answer_409(client: TestClient, token_for: Headers) -> None:
    clerk, approver = token_for("clerk"), token_for("approver_scjg")
    illegal = [("state", "illegal_case_transition")]
    submitted = apply(client, token_for("zhangwei"))  # online: waits for pre-check
    assert submitted["state"] == "submitted"
    assert errors_of(client, approver, submitted, "decision", approve=True) == illegal
    assert errors_of(client, clerk, submitted, "archive") == illegal

    case = apply(client, clerk, materials=CANCEL_PAPER)
    assert errors_of(client, approver, case, "resume") == illegal  # accepted, not suspended
    case = post(client, approver, case, "opinions", opinion="同意")
    assert errors_of(client, approver, case, "resume") == illegal  # in review, not suspended
    assert errors_of(client, clerk, case, "delivery", method="pickup", picked_up_by="张伟") == illegal
    case = post(client, approver, case, "decision", approve=True)
    case = post(client, clerk, case, "delivery", method="pickup", picked_up_by="张伟")
    assert errors_of(client, clerk, case, "withdraw") == illegal
    assert errors_of(client, approver, case, "decision", approve=False, reason="x", basis="y") == illegal


def errors_of(client: TestClient, headers: dict[str, str], case: dict[str, Any], action: str,
              **body: Any) -> list[tuple[str, str]]:
    """The problems of an action expected to answer 409."""
    r = client.post(f"/api/v1/cases/{case['id']}/{action}", headers=headers, json={"version": case["version"], **body})
    assert r.status_code == 409, r.text
    return errors(r)


def test_a_stale_version_is_409_and_changes_nothing(client: TestClient, token_for: Headers) -> None:
    approver = token_for("approver_scjg")
    case = apply(client, token_for("clerk"), materials=CANCEL_PAPER)
    stale = case | {"version": case["version"] - 1}
    assert errors_of(client, approver, stale, "opinions", opinion="同意") == [("version", "stale_version")]
    assert errors_of(client, approver, stale, "extensions", days=3, reason="需现场核查") == [
        ("version", "stale_version")]
    again = client.get(f"/api/v1/cases/{case['id']}", headers=approver).json()
    assert again["version"] == case["version"] and again["state"] == "accepted"


def test_suspension_extension_and_withdrawal(client: TestClient, token_for: Headers) -> None:
    approver, head = token_for("approver_scjg"), token_for("head_scjg")
    case = apply(client, token_for("clerk"), materials=CANCEL_PAPER)
    legal_due = case["deadlines"]["legal_due"]
    case = post(client, approver, case, "suspend", kind="inspection", reason="需现场核查经营场所")
    assert case["state"] == "suspended" and case["state_label"] == "特别程序（暂停计时）"
    case = post(client, approver, case, "resume")
    assert case["state"] == "in_review"
    ext = post(client, approver, case, "extensions", 201, days=5, reason="案情复杂")
    assert ext["status"] == "requested"
    r = client.post(f"/api/v1/cases/extensions/{ext['id']}/decision", headers=approver, json={"approve": True})
    assert r.status_code == 403  # only the department head decides
    r = client.post(f"/api/v1/cases/extensions/{ext['id']}/decision", headers=head, json={"approve": True})
    assert r.status_code == 200, r.text
    case = r.json()
    assert case["deadlines"]["extension_days"] == 5 and case["deadlines"]["legal_due"] > legal_due
    assert [e["status"] for e in case["extensions"]] == ["approved"]
    r = client.post(f"/api/v1/cases/extensions/{ext['id']}/decision", headers=head, json={"approve": True})
    assert r.status_code == 409 and errors(r) == [("", "extension_decided")]
    case = post(client, token_for("clerk"), case, "withdraw", reason="申请人不再办理")
    assert case["state"] == "withdrawn" and case["closed_reason"] == "申请人不再办理"


def test_online_application_precheck_and_lists(client: TestClient, token_for: Headers) -> None:
    clerk = token_for("clerk")
    case = apply(client, token_for("zhangwei"), item=HUKOU_PROOF)
    assert case["state"] == "submitted" and case["channel"] == "online"
    queue = client.get("/api/v1/cases/precheck", headers=clerk).json()
    assert case["id"] in [c["id"] for c in queue]
    assert client.get("/api/v1/cases/precheck", headers=token_for("zhangwei")).status_code == 403
    case = post(client, clerk, case, "precheck")
    assert case["state"] == "correction_requested" and case["missing_materials"] == ["证明用途说明"]
    case = post(client, token_for("zhangwei"), case, "resubmit")
    assert case["state"] == "submitted"
    case = post(client, clerk, case, "precheck", materials={PURPOSE: "paper"})
    assert case["state"] == "accepted"
    inbox = client.get("/api/v1/cases/inbox", headers=token_for("approver_gaj")).json()
    assert case["id"] in [c["id"] for c in inbox]
    listed = client.get("/api/v1/cases", headers=clerk, params={"state": "accepted", "limit": 200}).json()
    assert case["id"] in [c["id"] for c in listed]
    assert all(c["state"] == "accepted" for c in listed)
    gaj = client.get("/api/v1/cases", headers=token_for("approver_gaj")).json()
    assert {c["department"]["code"] for c in gaj} == {"GAJ"}


def test_the_same_idempotency_key_makes_one_case(client: TestClient, token_for: Headers, session: Session) -> None:
    zhang = token_for("zhangwei")
    first = apply(client, zhang, item=HUKOU_PROOF, key="apply-7f3a")
    again = apply(client, zhang, item=HUKOU_PROOF, key="apply-7f3a", status=200)
    assert again["id"] == first["id"] and again["number"] == first["number"]
    count = session.scalar(select(func.count()).select_from(Case).where(Case.idempotency_key == "apply-7f3a"))
    assert count == 1
    r = client.post("/api/v1/cases", headers=zhang | {"Idempotency-Key": "apply-7f3a"},
                    json={"item_code": CANCEL, "applicant": ZHANG})
    assert r.status_code == 409 and errors(r) == [("Idempotency-Key", "idempotency_key_reused")]
    r = client.post("/api/v1/cases", headers=zhang | {"Idempotency-Key": "k" * 81},
                    json={"item_code": HUKOU_PROOF, "applicant": ZHANG})
    assert r.status_code == 422 and errors(r) == [("Idempotency-Key", "string_too_long")]


def test_user_mistakes_are_422_with_the_field(client: TestClient, token_for: Headers) -> None:
    clerk = token_for("clerk")

    def create(**body: Any) -> list[tuple[str, str]]:
        r = client.post("/api/v1/cases", headers=clerk, json={"item_code": CANCEL, "applicant": ZHANG} | body)
        assert r.status_code == 422, r.text
        return errors(r)

    assert create(item_code="NO-SUCH-ITEM") == [("item_code", "unknown_item")]
    assert create(item_code=None) == [("item_code", "target_required")]
    assert create(bundle_code="YJS-NEWBORN") == [("item_code", "target_required")]  # both given
    wrong_digit = ZHANG | {"id_number": "410724199003150011"}
    assert create(applicant=wrong_digit) == [("applicant.id_number", "id_number_check_digit")]
    assert create(applicant=ZHANG | {"kind": "alien"})[0][0] == "applicant.kind"
    assert create(materials={"cert:BIZ_LICENSE": "stolen"}) == [("materials.cert:BIZ_LICENSE",
                                                                "invalid_material_status")]
    assert create(materials={"name:不存在的材料": "paper"}) == [("materials.name:不存在的材料", "unknown_material")]
    assert create(materials={"cert:BIZ_LICENSE": "deferred"})[0][1] == "material_deferred_not_allowed"
    assert create(applicant=ZHANG | {"phone": "call me"}) == [("applicant.phone", "invalid_phone")]
    assert create(hall_code="NOWHERE") == [("hall_code", "unknown_hall")]
    r = client.post("/api/v1/cases", headers=clerk | {"Content-Type": "application/json"}, content=b"{not json")
    assert r.status_code == 422

    case = apply(client, clerk, materials=CANCEL_PAPER)
    for version in (-1, 0, "abc"):
        r = client.post(f"/api/v1/cases/{case['id']}/opinions", headers=token_for("approver_scjg"),
                        json={"version": version, "opinion": "同意"})
        assert r.status_code == 422 and errors(r)[0][0] == "version"
    r = client.post(f"/api/v1/cases/{case['id']}/opinions", headers=token_for("approver_scjg"),
                    json={"opinion": "同意"})
    assert r.status_code == 422 and errors(r) == [("version", "missing")]
    r = client.post(f"/api/v1/cases/{case['id']}/suspend", headers=token_for("approver_scjg"),
                    json={"version": case["version"], "kind": "nap", "reason": "x"})
    assert r.status_code == 422 and errors(r) == [("kind", "invalid_kind")]
    r = client.post(f"/api/v1/cases/{case['id']}/delivery", headers=clerk,
                    json={"version": case["version"], "method": "pigeon"})
    assert r.status_code == 422 and errors(r)[0][0] == "method"
    r = client.post(f"/api/v1/cases/{case['id']}/decision", headers=token_for("approver_scjg"),
                    json={"version": case["version"], "approve": "maybe"})
    assert r.status_code == 422 and errors(r) == [("approve", "bool_parsing")]
    assert client.get("/api/v1/cases/99999999", headers=clerk).status_code == 404
    assert client.get("/api/v1/cases/abc", headers=clerk).status_code == 422
    assert client.get("/api/v1/cases", headers=clerk, params={"state": "lost"}).status_code == 422
    assert client.get("/api/v1/cases", headers=clerk, params={"limit": 0}).status_code == 422
    assert client.get("/api/v1/cases").status_code == 401


def test_denial_needs_reason_and_basis(client: TestClient, token_for: Headers) -> None:
    approver = token_for("approver_scjg")
    case = apply(client, token_for("clerk"), materials=CANCEL_PAPER)
    case = post(client, approver, case, "opinions", opinion="经营者尚有未结清税款", agree=False)
    r = client.post(f"/api/v1/cases/{case['id']}/decision", headers=approver,
                    json={"version": case["version"], "approve": False})
    assert r.status_code == 422
    assert errors(r) == [("reason", "reason_required"), ("basis", "basis_required")]
    case = post(client, approver, case, "decision", approve=False, reason="未清税", basis="《市场主体登记管理条例》")
    assert case["state"] == "denied" and case["decision"]["basis"] == "《市场主体登记管理条例》"


def test_checklist_for_the_intake_workbench(client: TestClient, token_for: Headers) -> None:
    r = client.post("/api/v1/cases/checklist", headers=token_for("clerk"),
                    json={"item_code": CANCEL, "holder_id": ZHANG["id_number"]})
    assert r.status_code == 200, r.text
    lines = {m["key"]: m for m in r.json()["materials"]}
    assert lines["cert:ID_CARD"]["library"] is True and lines["cert:ID_CARD"]["certificate_number"]
    assert lines["cert:BIZ_LICENSE"]["library"] is False
    assert ZHANG["id_number"] not in r.text
    bundle = client.post("/api/v1/cases/checklist", headers=token_for("clerk"),
                         json={"bundle_code": "YJS-NEWBORN"}).json()
    keys = [m["key"] for m in bundle["materials"]]
    assert keys.count("cert:ID_CARD") == 1 and not any(m["library"] for m in bundle["materials"])
    extra = client.post("/api/v1/cases/checklist", headers=token_for("clerk"),
                        json={"bundle_code": "YJS-NEWBORN", "extra_holders": [f" {ZHANG['id_number']},"]}).json()
    assert any(m["library"] for m in extra["materials"])  # a further holder's certificates count too
    assert client.post("/api/v1/cases/checklist", headers=token_for("zhangwei"),
                       json={"item_code": CANCEL}).status_code == 403
    r = client.post("/api/v1/cases/checklist", headers=token_for("clerk"), json={"item_code": "NOPE"})
    assert r.status_code == 422 and errors(r) == [("item_code", "unknown_item")]


def test_checklist_keeps_id_numbers_out_of_the_url(client: TestClient, token_for: Headers) -> None:
    """The checklist is a POST with the holders in the body: the old GET with ?holder_id= is gone."""
    clerk = token_for("clerk")
    r = client.get("/api/v1/cases/checklist", headers=clerk,
                   params={"item_code": CANCEL, "holder_id": ZHANG["id_number"]})
    assert r.status_code in {404, 405, 422}, r.text
    spec = client.get("/openapi.json").json()["paths"]["/api/v1/cases/checklist"]
    assert set(spec) == {"post"} and "请求体" in spec["post"]["summary"]
    assert not any(p["name"] in {"holder_id", "extra_holders"} for p in spec["post"].get("parameters", []))
    for body in ({"item_code": "A\x00"}, {"item_code": CANCEL, "holder_id": "4\x00"},
                 {"item_code": CANCEL, "extra_holders": ["x"] * 11}, {"item_code": CANCEL, "holder_id": "1" * 31},
                 {"item_code": CANCEL, "extra_holders": "not a list"}, [], None):
        r = client.post("/api/v1/cases/checklist", headers=clerk, json=body)
        assert r.status_code == 422, (body, r.text)


def test_garbage_is_422_never_a_server_error(client: TestClient, token_for: Headers) -> None:
    clerk = token_for("clerk")
    json_bodies: list[Any] = [
        [], None, "x", {"item_code": 5, "applicant": {}},
        {"item_code": CANCEL, "applicant": ZHANG | {"name": "张\x00伟"}},  # PostgreSQL text refuses NUL
        {"item_code": "A\x00", "applicant": ZHANG},
        {"item_code": CANCEL, "applicant": ZHANG, "form_data": {"k\x00": "v"}},
        {"item_code": CANCEL, "applicant": ZHANG, "ticket_id": 99_999_999_999},  # beyond an integer key
        {"item_code": CANCEL, "applicant": ZHANG, "ticket_id": 123_456},
        {"item_code": CANCEL, "applicant": ZHANG | {"kind": "enterprise", "id_number": "91410724MA0000000X"}},
        {"item_code": CANCEL, "applicant": ZHANG | {"id_number": "410724203003150011"}},  # born in the future
        {"item_code": CANCEL, "applicant": ZHANG, "form_data": {"x": "y" * 20_000}},
    ]
    for body in json_bodies:
        r = client.post("/api/v1/cases", headers=clerk, json=body)
        assert r.status_code == 422, (body, r.text)
        assert errors(r)
    r = client.post("/api/v1/cases", headers=clerk | {"Content-Type": "application/json"},
                    content=b'{"item_code": "\\ud800", "applicant": {}}')
    assert r.status_code == 422
    for url in ("/api/v1/cases/99999999999",
                "/api/v1/track?number=20261123-00001-0%00&id_last4=001X", "/api/v1/cases?department_id=99999999999",
                "/api/v1/cases/1/uploads/99999999999", "/api/v1/cases?warning=purple"):
        r = client.get(url, headers=clerk)
        assert r.status_code == 422, (url, r.text)
    r = client.post("/api/v1/cases/1/uploads", headers=clerk | {"Content-Type": "multipart/form-data; boundary=xx"},
                    content=b"--xx\r\ngarbage")
    assert r.status_code == 422 and {f for f, _ in errors(r)} == {"material_key", "file"}
    r = client.post("/api/v1/cases/extensions/99999999999/decision", headers=clerk, json={"approve": True})
    assert r.status_code == 422
