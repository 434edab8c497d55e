"""The applicant's pages over HTTP: public tracking, 我的办件, online application with attachments, agents."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onewindow.agents import service as agents_service
from onewindow.cases import service
from onewindow.cases.models import Case, CaseUpload
from onewindow.cases.numbers import format_case_number
from onewindow.cases.public_views import TRACK_NOT_FOUND
from onewindow.cases.service import ApplicantIn, ApplicationIn, CaseRules
from onewindow.cases.uploads import upload_path
from onewindow.certificates.demo import WANG_FANG, ZHANG_WEI
from onewindow.core.clock import CHINA_TZ, Clock, FixedClock
from onewindow.staff.models import User

if TYPE_CHECKING:
    from tests.conftest import Browser

RULES = CaseRules(deferral_working_days=10, auto_approve=True)

ITEM = "410724-SCJG-XK-001"  # 个体工商户设立登记 (网办深度 4): ID card from the library, forms to upload
FORM = "name:个体工商户登记备案申请书"
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
ZHANG_PHONE = "13903735678"


def _apply(session: Session, clock: FixedClock, applicant: User, name: str, id_number: str, key: str) -> Case:
    case = service.apply(session, clock=clock, user=applicant, rules_=RULES, online=True, data=ApplicationIn(
        applicant=ApplicantIn(kind="person", name=name, id_number=id_number, phone=applicant.phone or ""),
        item_code=ITEM, idempotency_key=key)).case
    session.flush()
    return case


def _form_fields(html: str) -> dict[str, str]:
    """Hidden inputs of the application form (idempotency key, material_N → key)."""
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html))


def _file_field(fields: dict[str, str], key: str) -> str:
    name = next(n for n, v in fields.items() if n.startswith("material_") and v == key)
    return "file_" + name.removeprefix("material_")


def _post_application(b: Browser, url: str, files: dict[str, tuple[str, bytes, str]],
                      extra: dict[str, str] | None = None) -> tuple[dict[str, str], httpx.Response]:
    page = b.client.get(url)
    assert page.status_code == 200, page.text
    fields = _form_fields(page.text)
    data = {k: v for k, v in fields.items() if k != "csrf_token"} | {"csrf_token": b.csrf} | (extra or {})
    upload = {_file_field(fields, key): spec for key, spec in files.items()}
    r = b.client.post(url, data=data, files=upload, follow_redirects=False)
    return fields, r


def _case_at(session: Session, location: str) -> Case:
    """The case a redirect to ``/my/cases/{id}?…`` points at."""
    match = re.fullmatch(r"/my/cases/(\d+)\?notice=submitted", location)
    assert match, location
    case = session.get(Case, int(match[1]))
    assert case is not None
    return case


def _case_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Case)) or 0


def _stored_files(app: FastAPI) -> list[Path]:
    root = Path(app.state.settings.upload_dir)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


# ----- public tracking ---------------------------------------------------------------------------


def test_tracking_shows_the_status_but_not_the_id_or_phone(session: Session, clock: FixedClock, client: TestClient,
                                                           user: Callable[[str], User]) -> None:
    case = _apply(session, clock, user("zhangwei"), "张伟", ZHANG_WEI, "t-1")
    r = client.get("/track", params={"number": case.number, "id_last4": ZHANG_WEI[-4:]})
    assert r.status_code == 200
    assert case.number in r.text and "已申报" in r.text and "个体工商户设立登记" in r.text
    assert "张*" in r.text and "张伟" not in r.text
    assert ZHANG_WEI not in r.text and ZHANG_PHONE not in r.text
    assert TRACK_NOT_FOUND not in r.text


def test_a_wrong_id_tail_gets_the_same_answer_as_an_unknown_number(
        session: Session, clock: FixedClock, client: TestClient, user: Callable[[str], User]) -> None:
    case = _apply(session, clock, user("zhangwei"), "张伟", ZHANG_WEI, "t-2")
    wrong_tail = client.get("/track", params={"number": case.number, "id_last4": "0000"})
    unknown = client.get("/track", params={"number": format_case_number(clock.now().date(), 99_999),
                                           "id_last4": ZHANG_WEI[-4:]})
    for r in (wrong_tail, unknown):
        assert r.status_code == 200
        assert TRACK_NOT_FOUND in r.text and "已申报" not in r.text and "张*" not in r.text
    result = re.compile(r'<section id="track-result".*?</section>', re.S)
    assert result.findall(wrong_tail.text) == result.findall(unknown.text)


def test_tracking_form_answers_htmx_with_the_result_fragment(client: TestClient) -> None:
    r = client.get("/track", params={"number": "20261123-00001-0", "id_last4": "1234"},
                   headers={"HX-Request": "true"})
    assert r.status_code == 200 and r.text.lstrip().startswith('<section id="track-result"')


# ----- 我的办件 -------------------------------------------------------------------------------------


def test_my_cases_lists_only_my_own_cases(session: Session, clock: FixedClock, user: Callable[[str], User],
                                          login: Callable[[str], Browser], client: TestClient) -> None:
    mine = _apply(session, clock, user("zhangwei"), "张伟", ZHANG_WEI, "m-1")
    theirs = _apply(session, clock, user("wangfang"), "王芳", WANG_FANG, "m-2")
    zhang = login("zhangwei")
    page = zhang.client.get("/my/cases")
    assert page.status_code == 200
    assert mine.number in page.text and theirs.number not in page.text and "已申报" in page.text
    one = zhang.client.get(f"/my/cases/{mine.id}")
    assert one.status_code == 200 and mine.number in one.text and ZHANG_WEI not in one.text
    assert "个体工商户登记（备案）申请书" in one.text and "证照库调取（免提交）" in one.text
    wang = login("wangfang")
    assert wang.client.get(f"/my/cases/{mine.id}").status_code == 403
    assert mine.number not in wang.client.get("/my/cases").text
    assert login("clerk").client.get("/my/cases").status_code == 403
    anonymous = client.get("/my/cases", follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")


def test_the_applicant_uploads_a_missing_material_and_withdraws(
        session: Session, clock: FixedClock, user: Callable[[str], User], login: Callable[[str], Browser]) -> None:
    case = _apply(session, clock, user("zhangwei"), "张伟", ZHANG_WEI, "w-1")
    zhang = login("zhangwei")
    bad = zhang.client.post(f"/my/cases/{case.id}/upload", data={"csrf_token": zhang.csrf, "material_key": FORM},
                            files={"file": ("申请书.pdf", b"<html>not a pdf</html>", "application/pdf")})
    assert bad.status_code == 422 and "不是允许的类型" in bad.text
    good = zhang.client.post(f"/my/cases/{case.id}/upload", data={"csrf_token": zhang.csrf, "material_key": FORM},
                             files={"file": ("申请书.pdf", PDF, "application/pdf")}, follow_redirects=False)
    assert good.status_code == 303
    session.refresh(case)
    assert next(m for m in case.materials if m.key == FORM).status == "uploaded"
    r = zhang.post(f"/my/cases/{case.id}/withdraw", {"version": str(case.version), "reason": "不办了"})
    assert r.status_code == 303
    session.refresh(case)
    assert case.state == "withdrawn"
    assert "已撤回" in zhang.client.get(f"/my/cases/{case.id}").text


# ----- online application ---------------------------------------------------------------------------


def test_apply_lists_only_items_open_online(login: Callable[[str], Browser]) -> None:
    page = login("zhangwei").client.get("/apply")
    assert page.status_code == 200
    assert f"/apply/{ITEM}" in page.text and "/apply/bundle/YJS-NEWBORN" in page.text
    assert "/apply/410724-SWJ-QT-006" in page.text  # depth 3, for persons too
    # 企业设立登记: enterprises only, so not for oneself; 为企业申请 instead (tests/cases/test_apply_for_enterprise.py)
    assert 'href="/apply/410724-SCJG-XK-004"' not in page.text
    assert 'href="/apply/410724-SCJG-XK-004?for=enterprise"' in page.text


def test_online_application_with_a_good_pdf_creates_a_submitted_case_with_the_file(
        session: Session, app: FastAPI, login: Callable[[str], Browser]) -> None:
    zhang = login("zhangwei")
    _fields, r = _post_application(zhang, f"/apply/{ITEM}", {FORM: ("登记申请书.pdf", PDF, "application/pdf")})
    assert r.status_code == 303, r.text
    location = r.headers["location"]
    case = _case_at(session, location)
    assert case.state == "submitted" and case.channel == "online"
    status = {m.key: m.status for m in case.materials}
    assert status[FORM] == "uploaded" and status["cert:ID_CARD"] == "library"
    upload = session.scalars(select(CaseUpload).where(CaseUpload.case_id == case.id)).one()
    assert upload.filename == "登记申请书.pdf" and upload.content_type == "application/pdf"
    assert upload_path(Path(app.state.settings.upload_dir), upload.sha256).read_bytes() == PDF
    landing = zhang.client.get(location)
    assert "已申报" in landing.text and case.number in landing.text and "申报成功" in landing.text


def test_a_disguised_html_file_is_refused_and_nothing_is_kept(session: Session, app: FastAPI,
                                                              login: Callable[[str], Browser]) -> None:
    before = _case_count(session)
    zhang = login("zhangwei")
    _fields, r = _post_application(zhang, f"/apply/{ITEM}", {
        FORM: ("登记申请书.pdf", PDF, "application/pdf"),
        "name:经营场所使用证明租赁协议等": ("场所.pdf", b"<html><script>alert(1)</script></html>",
                                                   "application/pdf")})
    assert r.status_code == 422
    text = r.text
    assert "“场所.pdf”的内容不是允许的类型" in text and 'aria-invalid="true"' in text
    assert _case_count(session) == before
    assert _stored_files(app) == []  # the good file was not stored either


def test_an_agent_without_authorisation_is_refused(session: Session, login: Callable[[str], Browser]) -> None:
    before = _case_count(session)
    agent = login("agent")
    _fields, r = _post_application(agent, f"/apply/{ITEM}", {}, {
        "applicant_kind": "person", "applicant_name": "王芳", "applicant_id": WANG_FANG, "phone": ""})
    assert r.status_code == 403
    assert "没有该申请人有效的代办授权" in r.text
    assert _case_count(session) == before


def _agent_id(session: Session) -> str:
    return str(session.scalars(select(User.id).where(User.username == "agent")).one())


def test_an_authorised_agent_applies_and_the_applicant_sees_the_case(
        session: Session, login: Callable[[str], Browser]) -> None:
    wang = login("wangfang")
    r = wang.post("/my/authorizations/new", {"agent_id": _agent_id(session), "scope": ITEM, "valid_from": "2026-11-23",
                                             "valid_until": "2027-02-23", "document": "WT-001"})
    assert r.status_code == 303, r.text
    grants = wang.client.get("/my/cases").text
    assert "郑帮办" in grants and "个体工商户设立登记" in grants and "有效" in grants
    agent = login("agent")
    assert "王芳" in agent.client.get("/my/cases").text  # the authorisation the agent holds
    _fields, r2 = _post_application(agent, f"/apply/{ITEM}", {FORM: ("申请书.pdf", PDF, "application/pdf")}, {
        "applicant_kind": "person", "applicant_name": "王芳", "applicant_id": WANG_FANG, "phone": "13703736789"})
    assert r2.status_code == 303, r2.text
    case = _case_at(session, r2.headers["location"])
    assert case.applicant_id == WANG_FANG and case.agent_user_id is not None and case.authorization_id is not None
    assert case.number in wang.client.get("/my/cases").text
    assert case.number in agent.client.get("/my/cases").text
    assert wang.client.get(f"/my/cases/{case.id}").status_code == 200


def test_the_applicant_revokes_an_authorisation(session: Session, login: Callable[[str], Browser]) -> None:
    wang = login("wangfang")
    assert wang.post("/my/authorizations/new", {"agent_id": _agent_id(session), "all_items": "1",
                                                "valid_from": "2026-11-23", "valid_until": "2026-12-23"}
                     ).status_code == 303
    grant = agents_service.authorizations_of(session, applicant_id=WANG_FANG)[0]
    assert wang.post(f"/my/authorizations/{grant.id}/revoke").status_code == 303
    session.refresh(grant)
    assert grant.revoked_at is not None
    assert "已撤销" in wang.client.get("/my/cases").text
    wrong = wang.post("/my/authorizations/new", {"agent_id": "999999", "all_items": "1", "valid_from": "2026-11-23",
                                                 "valid_until": "2026-11-01"})
    assert wrong.status_code == 422 and "未找到该帮办代办员" in wrong.text


def test_after_a_correction_request_the_applicant_uploads_and_resubmits(
        session: Session, clock: FixedClock, user: Callable[[str], User], login: Callable[[str], Browser]) -> None:
    case = _apply(session, clock, user("zhangwei"), "张伟", ZHANG_WEI, "c-1")
    service.precheck(session, clock=clock, user=user("clerk"), case_id=case.id, expected_version=case.version,
                     materials={}, rules_=RULES)
    session.flush()
    zhang = login("zhangwei")
    page = zhang.client.get(f"/my/cases/{case.id}").text
    assert "待补正" in page and "补正材料一次性告知书" in page and f"/cases/{case.id}/notices/correction.pdf" in page
    assert 'disabled title="请先上传全部缺少的材料"' in page
    for m in [m for m in case.materials if m.required and m.status == "missing"]:
        r = zhang.client.post(f"/my/cases/{case.id}/upload", data={"csrf_token": zhang.csrf, "material_key": m.key},
                              files={"file": ("scan.pdf", PDF, "application/pdf")}, follow_redirects=False)
        assert r.status_code == 303, r.text
    session.refresh(case)
    stale = zhang.post(f"/my/cases/{case.id}/resubmit", {"version": str(case.version - 1)})
    assert stale.status_code == 409
    assert zhang.post(f"/my/cases/{case.id}/resubmit", {"version": str(case.version)}).status_code == 303
    session.refresh(case)
    assert case.state == "submitted"
    assert "补正后重新提交" in zhang.client.get(f"/my/cases/{case.id}").text


def test_a_bundle_is_one_form_and_family_members_are_recorded_not_looked_up(
        session: Session, login: Callable[[str], Browser], clock: Clock) -> None:
    wang = login("wangfang")
    url = "/apply/bundle/YJS-NEWBORN"
    page = wang.client.get(url).text
    assert "新生儿出生一件事" in page and "家庭成员 1 身份证号码" in page
    assert 'name="baby_name"' in page and 'name="birth_date"' in page  # what the bundle needs
    born = (clock.now().astimezone(CHINA_TZ).date() - dt.timedelta(days=5)).isoformat()
    child = {"baby_name": "王小禾", "birth_date": born}
    before = _case_count(session)
    _fields, bad = _post_application(wang, url, {}, {"extra_holder_0": "410724199209080046", **child})
    assert bad.status_code == 422 and "家庭成员身份证号码无效" in bad.text
    _fields, bad = _post_application(wang, url, {}, {"extra_holder_0": ZHANG_WEI})
    assert bad.status_code == 422 and "请填写新生儿姓名" in bad.text and "请填写出生日期" in bad.text
    _fields, bad = _post_application(wang, url, {}, {**child, "birth_date": "2099-01-01"})
    assert bad.status_code == 422 and "出生日期不能晚于今天" in bad.text and "王小禾" in bad.text
    assert _case_count(session) == before
    _fields, r = _post_application(wang, url, {}, {"extra_holder_0": ZHANG_WEI, **child})
    assert r.status_code == 303, r.text
    case = _case_at(session, r.headers["location"])
    assert case.kind == "bundle" and case.state == "submitted"
    assert case.form_data["baby_name"] == "王小禾" and case.form_data["birth_date"] == born
    status = {m.key: m.status for m in case.materials}
    # online, only the applicant's own certificates are used: a spouse's would let anyone probe a stranger's
    # library; the family member is recorded for the clerk, who may use their certificates at the window
    assert status["cert:HUKOU_BOOK"] == "missing"
    assert ZHANG_WEI in case.form_data["extra_holders"]
    assert status["cert:MARRIAGE_CERT"] == "missing"  # 王芳's was revoked: not usable
    assert sum(1 for m in case.materials if m.key == "cert:ID_CARD") == 1  # one merged list


def test_an_agent_without_authorisation_learns_nothing_from_the_library(login: Callable[[str], Browser]) -> None:
    agent = login("agent")
    url = "/apply/410724-SCJG-XK-001"
    for extra in ({}, {"extra_holder_0": "410724199209080046"}):  # the second fails validation: a 422 re-render
        _fields, r = _post_application(agent, url, {}, {"applicant_id": ZHANG_WEI, "applicant_name": "张伟",
                                                        "applicant_kind": "person", **extra})
        assert r.status_code in (403, 422), r.text
        assert "电子证照库调取：" not in r.text and "免提交</span>" not in r.text


# ----- 最多跑一次 online: the result's way chosen on the form --------------------------------------------------

RETIRE = "410724-RSJ-QR-001"  # 职工正常退休（职）申请: 网办深度三级, at most one visit, no e-certificate
ADDRESS = "获嘉县亢村镇人民路 8 号"
PLACE = "name:经营场所使用证明租赁协议等"


def test_an_online_applicant_chooses_mail_and_the_case_page_and_sms_say_so(
        session: Session, clock: FixedClock, login: Callable[[str], Browser], user: Callable[[str], User]) -> None:
    from onewindow.notifications.models import OutboxMessage

    zhang = login("zhangwei")
    form = zhang.client.get(f"/apply/{ITEM}").text
    # 全程网办 with an e-certificate, promising at most one visit: every way is offered, pickup ticked
    assert re.findall(r'name="delivery_method" value="(\w+)"', form) == ["pickup", "mail", "electronic"]
    assert 'value="pickup" checked' in form and 'name="delivery_address"' in form
    files = {FORM: ("登记申请书.pdf", PDF, "application/pdf"), PLACE: ("租赁协议.pdf", PDF, "application/pdf")}
    _fields, r = _post_application(zhang, f"/apply/{ITEM}", files,
                                   {"delivery_method": "mail", "delivery_address": f"  {ADDRESS} "})
    assert r.status_code == 303, r.text
    case = _case_at(session, r.headers["location"])
    assert (case.result_delivery, case.delivery_address, case.delivery_recipient) == ("mail", ADDRESS, "张伟")
    page = zhang.client.get(f"/my/cases/{case.id}").text
    assert re.search(r'id="result-delivery">邮寄送达（' + re.escape(ADDRESS) + "，收件人 张伟）", page)
    staff = login("clerk").client.get(f"/cases/{case.id}").text  # the pre-check sees the choice
    assert "结果送达（网上申报时选择）" in staff and f"邮寄送达：{ADDRESS}（收件人 张伟）" in staff
    service.precheck(session, clock=clock, user=user("clerk"), case_id=case.id, expected_version=case.version,
                     materials={}, rules_=RULES)
    [sms] = session.scalars(select(OutboxMessage).where(OutboxMessage.topic == "case.accepted",
                                                        OutboxMessage.payload["case_id"].as_integer() == case.id))
    assert f"办理结果将邮寄至{ADDRESS}" in sms.body


def test_online_mail_without_an_address_is_422_and_writes_nothing(
        session: Session, app: FastAPI, login: Callable[[str], Browser]) -> None:
    before = _case_count(session)
    zhang = login("zhangwei")
    _fields, r = _post_application(zhang, f"/apply/{ITEM}", {FORM: ("登记申请书.pdf", PDF, "application/pdf")},
                                   {"delivery_method": "mail", "delivery_address": "  "})
    assert r.status_code == 422
    assert "选择邮寄送达须填写邮寄地址" in r.text and 'name="delivery_address" value=""' in r.text
    assert 'value="mail" checked' in r.text  # the choice is kept for the correction
    assert _case_count(session) == before and _stored_files(app) == []


def test_online_a_way_the_item_does_not_offer_is_422(session: Session, login: Callable[[str], Browser]) -> None:
    before = _case_count(session)
    zhang = login("zhangwei")
    form = zhang.client.get(f"/apply/{RETIRE}").text
    assert re.findall(r'name="delivery_method" value="(\w+)"', form) == ["pickup", "mail"]  # no 电子送达
    _fields, r = _post_application(zhang, f"/apply/{RETIRE}", {}, {"delivery_method": "electronic"})
    assert r.status_code == 422 and "该事项不提供电子送达" in r.text
    _fields, r = _post_application(zhang, f"/apply/{RETIRE}", {}, {"delivery_method": "drone"})
    assert r.status_code == 422 and "送达方式应为窗口领取、邮寄或电子送达" in r.text
    assert _case_count(session) == before
