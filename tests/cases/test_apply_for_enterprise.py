"""为企业申请 over HTTP: a person applies online for the enterprise whose licence names them as 法定代表人; the
case is the enterprise's, the representative submits it and follows it; bad codes, enterprises they do not
represent and items not open to enterprises are refused with the reason, and nothing is written."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onewindow.cases import service
from onewindow.cases.models import Case, CaseUpload
from onewindow.cases.rules import material_key
from onewindow.cases.service import ApplicantIn, ApplicationIn, CaseRules
from onewindow.certificates.demo import FENGYUAN, LAOJIE
from onewindow.core.audit import AuditEntry
from onewindow.core.clock import FixedClock
from onewindow.staff.models import User
from tests.factories import approve, new_credit_code

if TYPE_CHECKING:
    from tests.conftest import Browser

RULES = CaseRules(deferral_working_days=10, auto_approve=True)
CHANGE = "410724-SCJG-XK-005"  # 企业变更登记: for enterprises, 营业执照 from the library
FORM = material_key("企业变更登记申请书", None)
SELF_ONLY = "410724-SCJG-XK-001"  # 个体工商户设立登记: for persons only
BOTH = "410724-SCJG-XK-007"  # 食品经营许可: persons and enterprises
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
FENG_NAME = "获嘉县丰源商贸有限公司"


def _count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def _hidden(html: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html))


def _submit(b: Browser, item: str, credit_code: str, *, files: bool = True,
            override: dict[str, str] | None = None) -> httpx.Response:
    """Open the company form for ``credit_code`` (as FENGYUAN's representative when it is refused) and post it."""
    page = b.client.get(f"/apply/{item}", params={"for": "enterprise", "credit_code": FENGYUAN})
    assert page.status_code == 200, page.text
    fields = _hidden(page.text)
    data = {k: v for k, v in fields.items() if k != "csrf_token"} | {"csrf_token": b.csrf, "credit_code": credit_code}
    data |= override or {}
    upload = {}
    if files:
        name = next(n for n, v in fields.items() if n.startswith("material_") and v == FORM)
        upload = {"file_" + name.removeprefix("material_"): ("变更申请书.pdf", PDF, "application/pdf")}
    return b.client.post(f"/apply/{item}", data=data, files=upload, follow_redirects=False)


def test_apply_offers_company_application_where_the_item_serves_enterprises(login: Callable[[str], Browser]) -> None:
    page = login("zhangwei").client.get("/apply").text
    assert f'href="/apply/{CHANGE}?for=enterprise"' in page and f'href="/apply/{CHANGE}"' not in page
    assert f'href="/apply/{BOTH}"' in page and f'href="/apply/{BOTH}?for=enterprise"' in page
    assert f'href="/apply/{SELF_ONLY}"' in page and f"/apply/{SELF_ONLY}?for=enterprise" not in page
    assert 'href="/apply/bundle/YJS-BIZCHANGE?for=enterprise"' in page  # 企业信息变更一件事: all for enterprises
    assert "/apply/bundle/YJS-NEWBORN?for=enterprise" not in page
    found = login("zhangwei").client.get("/apply", params={"q": "企业变更"}).text
    assert f"/apply/{CHANGE}?for=enterprise" in found and "为企业申请" in found


def test_the_company_form_lists_the_enterprises_the_library_shows_him_representing(
        login: Callable[[str], Browser]) -> None:
    zhang = login("zhangwei").client
    plain = zhang.get(f"/apply/{CHANGE}")  # the guide's 在线申报 link: the personal form offers 为企业申请
    assert plain.status_code == 200 and f'href="/apply/{CHANGE}?for=enterprise"' in plain.text
    assert "本事项的服务对象为企业" in plain.text
    pick = zhang.get(f"/apply/{CHANGE}", params={"for": "enterprise"})
    assert pick.status_code == 200 and 'id="represented"' in pick.text and FENGYUAN in pick.text
    assert LAOJIE not in pick.text  # 老街面馆's licence names 李娜
    assert 'id="apply-form"' not in pick.text  # no form before the enterprise is checked
    chosen = zhang.get(f"/apply/{CHANGE}", params={"for": "enterprise", "credit_code": FENGYUAN.lower()})
    assert chosen.status_code == 200 and 'id="enterprise-facts"' in chosen.text and FENG_NAME in chosen.text
    assert "法定代表人" in chosen.text and "BIZ_LICENSE-DEMO-000001" in chosen.text
    assert "电子证照库调取：营业执照" in chosen.text  # 免提交 from the enterprise's library, as at a window
    # 王芳 represents no enterprise: no list, and FENGYUAN is refused with the reason
    wang = login("wangfang").client
    assert 'id="represented"' not in wang.get(f"/apply/{CHANGE}", params={"for": "enterprise"}).text
    refused = wang.get(f"/apply/{CHANGE}", params={"for": "enterprise", "credit_code": FENGYUAN})
    assert refused.status_code == 403 and "不是您本人" in refused.text and 'id="apply-form"' not in refused.text


def test_zhangwei_applies_for_fengyuan_and_the_case_is_the_enterprises(
        session: Session, login: Callable[[str], Browser], user: Callable[[str], User]) -> None:
    zhang = login("zhangwei")
    r = _submit(zhang, CHANGE, FENGYUAN)
    assert r.status_code == 303, r.text
    case = session.get(Case, int(re.fullmatch(r"/my/cases/(\d+)\?notice=submitted", r.headers["location"])[1]))
    assert case is not None and case.state == "submitted" and case.channel == "online"
    me = user("zhangwei")
    assert (case.applicant_kind, case.applicant_id, case.applicant_name) == ("enterprise", FENGYUAN, FENG_NAME)
    assert case.applicant_user_id == me.id and case.created_by == me.id and case.agent_user_id is None
    assert case.applicant_phone == me.phone  # the representative is the contact
    status = {m.key: m.status for m in case.materials}
    assert status["cert:BIZ_LICENSE"] == "library" and status[FORM] == "uploaded"
    assert session.scalars(select(CaseUpload).where(CaseUpload.case_id == case.id)).one().filename == "变更申请书.pdf"
    assert session.scalars(select(AuditEntry).where(AuditEntry.action == "cases.created",
                                                  AuditEntry.entity_id == case.number)).first() is not None
    mine = zhang.client.get("/my/cases").text
    assert case.number in mine and FENG_NAME in mine
    assert FENG_NAME in zhang.client.get(f"/my/cases/{case.id}").text
    # 王芳 does not see it
    assert login("wangfang").client.get(f"/my/cases/{case.id}").status_code == 403


def test_correction_resubmission_and_approval_of_the_enterprise_case(
        session: Session, clock: FixedClock, login: Callable[[str], Browser], user: Callable[[str], User]) -> None:
    zhang = login("zhangwei")
    r = _submit(zhang, CHANGE, FENGYUAN)
    case = session.get(Case, int(r.headers["location"].split("/")[3].split("?")[0]))
    assert case is not None
    service.precheck(session, clock=clock, user=user("clerk"), case_id=case.id, expected_version=case.version,
                     materials={}, rules_=RULES)
    session.flush()
    assert case.state == "correction_requested"
    for m in [m for m in case.materials if m.required and m.status == "missing"]:
        up = zhang.client.post(f"/my/cases/{case.id}/upload", data={"csrf_token": zhang.csrf, "material_key": m.key},
                               files={"file": ("补正.pdf", PDF, "application/pdf")}, follow_redirects=False)
        assert up.status_code == 303, up.text
    session.refresh(case)
    assert zhang.post(f"/my/cases/{case.id}/resubmit", {"version": str(case.version)}).status_code == 303
    session.refresh(case)
    assert case.state == "submitted"
    service.precheck(session, clock=clock, user=user("clerk"), case_id=case.id, expected_version=case.version,
                     materials={}, rules_=RULES)
    session.flush()
    assert case.state == "accepted"
    approve(session, user("approver_scjg"), case, clock)
    assert case.state == "approved" and case.applicant_id == FENGYUAN


def test_a_bad_credit_code_is_refused_with_the_reason_and_nothing_is_written(
        session: Session, login: Callable[[str], Browser]) -> None:
    zhang = login("zhangwei")
    bad = FENGYUAN[:-1] + ("0" if FENGYUAN[-1] != "0" else "1")
    page = zhang.client.get(f"/apply/{CHANGE}", params={"for": "enterprise", "credit_code": bad})
    assert page.status_code == 422 and "校验码" in page.text and 'id="apply-form"' not in page.text
    before = (_count(session, Case), _count(session, CaseUpload))
    r = _submit(zhang, CHANGE, bad)
    assert r.status_code == 422 and "统一社会信用代码" in r.text and "校验码" in r.text
    short = _submit(zhang, CHANGE, "91410724")
    assert short.status_code == 422 and "应为 18 位" in short.text
    assert (_count(session, Case), _count(session, CaseUpload)) == before


def test_an_enterprise_he_does_not_represent_is_refused_and_nothing_is_written(
        session: Session, login: Callable[[str], Browser]) -> None:
    zhang = login("zhangwei")
    before = (_count(session, Case), _count(session, CaseUpload))
    other = _submit(zhang, CHANGE, LAOJIE)  # the licence names 李娜 as 经营者
    assert other.status_code == 403 and "不是您本人" in other.text and "获嘉县老街面馆" in other.text
    unknown = _submit(zhang, CHANGE, new_credit_code())  # a valid code the library has no licence for
    assert unknown.status_code == 403 and "没有该统一社会信用代码的有效营业执照" in unknown.text
    assert (_count(session, Case), _count(session, CaseUpload)) == before


def test_an_item_not_open_to_enterprises_is_refused_and_nothing_is_written(
        session: Session, login: Callable[[str], Browser]) -> None:
    zhang = login("zhangwei")
    page = zhang.client.get(f"/apply/{SELF_ONLY}", params={"for": "enterprise", "credit_code": FENGYUAN})
    assert page.status_code == 422 and "服务对象为个人" in page.text
    before = (_count(session, Case), _count(session, CaseUpload))
    own = zhang.client.get(f"/apply/{SELF_ONLY}")
    fields = _hidden(own.text)
    data = {k: v for k, v in fields.items() if k != "csrf_token"} | {
        "csrf_token": zhang.csrf, "applicant_kind": "enterprise", "credit_code": FENGYUAN}
    r = zhang.client.post(f"/apply/{SELF_ONLY}", data=data, follow_redirects=False)
    assert r.status_code == 422 and "服务对象为个人，不能以企业名义申请" in r.text
    # nor a bundle with a member for persons only (新生儿出生一件事)
    bundle = zhang.client.get("/apply/bundle/YJS-NEWBORN", params={"for": "enterprise", "credit_code": FENGYUAN})
    assert bundle.status_code == 422 and "服务对象为个人" in bundle.text
    assert (_count(session, Case), _count(session, CaseUpload)) == before


def test_the_api_holds_a_person_to_the_enterprises_they_represent(
        session: Session, client: TestClient, token_for: Callable[[str], dict[str, str]]) -> None:
    before = _count(session, Case)
    body = {"item_code": CHANGE, "applicant": {"kind": "enterprise", "name": "随便写的名称", "id_number": FENGYUAN}}
    r = client.post("/api/v1/cases", headers=token_for("wangfang"), json=body)
    assert r.status_code == 403 and [e["code"] for e in r.json()["errors"]] == ["not_representative"], r.text
    assert _count(session, Case) == before
    ok = client.post("/api/v1/cases", headers=token_for("zhangwei"), json=body)
    assert ok.status_code == 201, ok.text
    assert ok.json()["applicant_name"] == FENG_NAME  # the licence's name, not the one typed


def test_the_service_refuses_an_enterprise_application_by_someone_else(
        session: Session, clock: FixedClock, user: Callable[[str], User]) -> None:
    from onewindow.core.errors import PermissionDenied

    data = ApplicationIn(applicant=ApplicantIn(kind="enterprise", name="丰源", id_number=FENGYUAN), item_code=CHANGE)
    try:
        service.apply(session, clock=clock, user=user("wangfang"), data=data, rules_=RULES, online=True)
    except PermissionDenied as exc:
        assert exc.code == "not_representative"
    else:
        raise AssertionError("王芳 applied for 丰源")


def test_the_licence_shows_the_representatives_number_masked(
        client: TestClient, token_for: Callable[[str], dict[str, str]]) -> None:
    from onewindow.certificates.demo import ZHANG_WEI

    r = client.post("/api/v1/certificates/lookup", headers=token_for("clerk"), json={"holder_id": FENGYUAN})
    assert r.status_code == 200, r.text
    [licence] = [c for c in r.json() if c["type"] == "BIZ_LICENSE"]
    assert licence["data"]["法定代表人"] == "张伟"
    assert licence["data"]["法定代表人证件号码"] == ZHANG_WEI[:6] + "********" + ZHANG_WEI[-4:]
    assert ZHANG_WEI not in r.text


def test_a_bundle_for_enterprises_is_applied_for_the_company_too(
        session: Session, login: Callable[[str], Browser]) -> None:
    zhang = login("zhangwei")
    url = "/apply/bundle/YJS-BIZCHANGE"
    page = zhang.client.get(url, params={"for": "enterprise", "credit_code": FENGYUAN})
    assert page.status_code == 200 and 'id="enterprise-facts"' in page.text and FENG_NAME in page.text
    data = {k: v for k, v in _hidden(page.text).items() if k != "csrf_token"} | {"csrf_token": zhang.csrf}
    r = zhang.client.post(url, data=data, follow_redirects=False)
    assert r.status_code == 303, r.text
    case = session.get(Case, int(r.headers["location"].split("/")[3].split("?")[0]))
    assert case is not None and case.kind == "bundle" and case.applicant_kind == "enterprise"
    assert case.applicant_id == FENGYUAN and case.form_data["representative"]["role"] == "法定代表人"
