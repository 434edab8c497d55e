"""最多跑一次 through the pages: the window intake offers online supply of 容缺 materials and mail delivery, records
the choice and tells the applicant by SMS; the applicant uploads the deferred material on “我的办件” (the deferral
clears as at a window, without a visit); the result is mailed; the visit count stays one. Bad choices are a 422 in
Chinese that writes nothing."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onewindow.cases import service
from onewindow.cases.models import Case, CaseVisit
from onewindow.cases.service import ApplicationIn
from onewindow.certificates.demo import ZHANG_WEI
from onewindow.core.audit import AuditEntry
from onewindow.core.clock import FixedClock
from onewindow.notifications.models import OutboxMessage
from onewindow.staff.models import User
from tests import factories
from tests.cases.conftest import RULES
from tests.conftest import Browser
from tests.factories import CLAIM, SSC_CARD, ZHANG, handed_in, material_keys
from tests.web.test_admin_pages import form_fields, replace

BANK = "本人银行账户信息"  # deferrable (容缺) in 医疗费用手工报销, which promises at most one visit
ADDRESS = "获嘉县亢村镇人民路 8 号"
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def _count(session: Session, model: type) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _intake_form(session: Session, clerk: Browser) -> list[tuple[str, str]]:
    r = clerk.post("/cases/intake/target", {"id": ZHANG_WEI, "item": CLAIM})
    assert r.status_code == 200, r.text
    assert 'id="one-visit"' in r.text and 'name="supply_online"' in r.text
    offered = re.findall(r'name="delivery_method" value="(\w+)"', r.text)
    assert offered == ["pickup", "mail"]  # 最多跑一次, but 网办深度二级 and no e-certificate: no 电子送达
    marks = handed_in(session, CLAIM, {BANK: "deferred"})
    return replace(form_fields(r.text, "/cases/intake"), applicant_phone="13903735678",
                   **{f"material:{k}": v for k, v in marks.items()})


def _case_id(location: str) -> int:
    match = re.fullmatch(r"/cases/(\d+)\?done=\w+", location)
    assert match, location
    return int(match[1])


def test_mail_without_an_address_or_a_mode_the_item_lacks_is_422_in_chinese_and_writes_nothing(
        session: Session, login: Callable[[str], Browser]) -> None:
    clerk = login("clerk")
    fields = _intake_form(session, clerk)
    before = [_count(session, m) for m in (Case, CaseVisit, OutboxMessage, AuditEntry)]
    no_address = clerk.post("/cases/intake", [*replace(fields, delivery_method="mail", supply_online="1"),
                                              ("decision", "accept")])
    assert no_address.status_code == 422
    assert "选择邮寄送达须填写邮寄地址" in no_address.text and 'id="one-visit"' in no_address.text
    not_offered = clerk.post("/cases/intake", [*replace(fields, delivery_method="electronic"),
                                               ("decision", "accept")])
    assert not_offered.status_code == 422 and "该事项不提供电子送达" in not_offered.text
    # a material problem and a delivery problem are reported together
    both = clerk.post("/cases/intake", [*replace(fields, delivery_method="mail",
                                                 **{f"material:{material_keys(session, CLAIM)[BANK]}": "bogus"}),
                                        ("decision", "accept")])
    assert both.status_code == 422 and "选择邮寄送达须填写邮寄地址" in both.text and "提交方式无效" in both.text
    assert [_count(session, m) for m in (Case, CaseVisit, OutboxMessage, AuditEntry)] == before


def test_a_deferred_case_supplied_online_and_mailed_takes_one_visit(
        session: Session, clock: FixedClock, login: Callable[[str], Browser], user: Callable[[str], User]) -> None:
    clerk = login("clerk")
    fields = _intake_form(session, clerk)
    r = clerk.post("/cases/intake", [*replace(fields, delivery_method="mail", delivery_address=ADDRESS,
                                              supply_online="1"), ("decision", "accept")])
    assert r.status_code == 303, r.text
    case = session.get(Case, _case_id(r.headers["location"]))
    assert case is not None and case.state == "accepted" and case.deferred
    assert (case.result_delivery, case.delivery_address, case.delivery_recipient, case.supply_online) == (
        "mail", ADDRESS, "张伟", True)
    [sms] = session.scalars(select(OutboxMessage).where(OutboxMessage.topic == "case.accepted",
                                                        OutboxMessage.payload["case_id"].as_integer() == case.id))
    assert sms.recipient == "13903735678"
    assert f"容缺材料（{BANK}）请于{case.deferral_due:%Y-%m-%d}前登录“我的办件”网上上传补交，无需再到窗口" in sms.body
    assert f"办理结果将邮寄至{ADDRESS}" in sms.body
    staff_page = clerk.client.get(f"/cases/{case.id}").text
    assert "本件已跑动 1 次，承诺最多跑一次" in staff_page and "data-supply-online" in staff_page

    # the applicant uploads the deferred material on “我的办件”: cleared as at a window, no visit
    zhang = login("zhangwei")
    mine = zhang.client.get(f"/my/cases/{case.id}").text
    assert 'id="deferred-online"' in mine and "本件已跑动 1 次，承诺最多跑一次" in mine and "邮寄送达" in mine
    bank = material_keys(session, CLAIM)[BANK]
    other = next(m.key for m in case.materials if m.key != bank)
    refused = zhang.client.post(f"/my/cases/{case.id}/upload",
                                data={"csrf_token": zhang.csrf, "material_key": other},
                                files={"file": ("x.pdf", PDF, "application/pdf")}, follow_redirects=False)
    assert refused.status_code == 409  # only the deferred material may still come in
    up = zhang.client.post(f"/my/cases/{case.id}/upload", data={"csrf_token": zhang.csrf, "material_key": bank},
                           files={"file": ("银行卡.pdf", PDF, "application/pdf")}, follow_redirects=False)
    assert up.status_code == 303, up.text
    session.refresh(case)
    assert not case.deferred and case.deferral_due is None
    assert next(m for m in case.materials if m.key == bank).status == "uploaded"
    supplied = [e for e in service.timeline(session, case) if e.kind == "deferred_supplied"]
    assert len(supplied) == 1 and supplied[0].data["online"] is True and supplied[0].note == "容缺材料已补齐"
    assert service.visit_count(session, case) == 1

    # approved, then mailed from the case page, whose form carries the address chosen at intake
    factories.approve(session, user("approver_ybj"), case, clock)
    session.flush()
    page = clerk.client.get(f"/cases/{case.id}").text
    deliver = form_fields(page, f"/cases/{case.id}/deliver")
    assert dict(deliver)["method"] == "mail" and dict(deliver)["address"] == ADDRESS
    assert dict(deliver)["recipient"] == "张伟"
    done = clerk.post(f"/cases/{case.id}/deliver", replace(deliver, courier="中国邮政", tracking_number="EMS123"))
    assert done.status_code == 303, done.text
    session.refresh(case)
    assert case.state == "delivered"
    assert service.visit_count(session, case) == 1 and service.one_visit(session, case) is True
    assert "本件已跑动 1 次，承诺最多跑一次" in zhang.client.get(f"/my/cases/{case.id}").text


def test_without_online_supply_the_message_sends_the_applicant_to_a_window(
        session: Session, login: Callable[[str], Browser]) -> None:
    clerk = login("clerk")
    fields = [(k, v) for k, v in _intake_form(session, clerk) if k != "supply_online"]
    r = clerk.post("/cases/intake", [*fields, ("decision", "accept")])
    assert r.status_code == 303, r.text
    case = session.get(Case, _case_id(r.headers["location"]))
    assert case is not None and case.result_delivery == "pickup" and not case.supply_online
    [sms] = session.scalars(select(OutboxMessage).where(OutboxMessage.topic == "case.accepted",
                                                        OutboxMessage.payload["case_id"].as_integer() == case.id))
    assert "到窗口补交" in sms.body and "到窗口领取" in sms.body


def test_the_api_takes_the_same_choice_and_refuses_mail_without_an_address(
        session: Session, client: Any, token_for: Callable[[str], dict[str, str]]) -> None:
    marks = handed_in(session, CLAIM, {BANK: "deferred"})
    body = {"item_code": CLAIM, "materials": marks, "supply_online": True,
            "applicant": {"kind": "person", "name": "张伟", "id_number": ZHANG_WEI, "phone": "13903735678"}}
    before = _count(session, Case)
    bad = client.post("/api/v1/cases", headers=token_for("clerk"), json={**body, "delivery_method": "mail"})
    assert bad.status_code == 422
    problems = [(e["field"], e["message"]) for e in bad.json()["errors"]]
    assert problems == [("delivery_address", "选择邮寄送达须填写邮寄地址")]
    assert _count(session, Case) == before
    ok = client.post("/api/v1/cases", headers=token_for("clerk"),
                     json={**body, "delivery_method": "mail", "delivery_address": ADDRESS})
    assert ok.status_code == 201, ok.text
    out = ok.json()
    assert (out["result_delivery"], out["delivery_address"], out["supply_online"]) == ("mail", ADDRESS, True)
    assert out["visits"] == 1 and out["visit_line"] == "本件已跑动 1 次，承诺最多跑一次"


def test_an_online_application_is_not_told_to_pick_up_at_a_window(
        session: Session, clock: FixedClock, user: Callable[[str], User]) -> None:
    created = service.apply(session, clock=clock, user=user("zhangwei"), rules_=RULES, online=True,
                            data=ApplicationIn(applicant=ZHANG, item_code=SSC_CARD, idempotency_key="ov-online"))
    case = created.case
    service.precheck(session, clock=clock, user=user("clerk"), case_id=case.id, expected_version=case.version,
                     materials={}, rules_=RULES)
    [sms] = session.scalars(select(OutboxMessage).where(OutboxMessage.topic == "case.accepted",
                                                        OutboxMessage.payload["case_id"].as_integer() == case.id))
    assert f"办件编号{case.number}" in sms.body and "窗口" not in sms.body.split("退订")[0]
