"""Case notices built from the case's history: the right content, and 409 for a notice the case never had."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy.orm import Session

from onewindow.cases import notices, service
from onewindow.cases.models import Case
from onewindow.cases.service import ApplicationIn
from onewindow.core.clock import FixedClock
from onewindow.core.errors import Conflict
from onewindow.staff.models import User
from tests import factories
from tests.factories import FENG, RULES, SOLE_TRADER, ZHANG

if TYPE_CHECKING:
    from tests.conftest import Browser

BASE = "https://zwfw.example.gov.cn"
ITEM = SOLE_TRADER  # 个体工商户设立登记: the ID card from the library, the rest to hand in


def _text(pdf: bytes) -> str:
    return "".join("".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf)).pages).split())


def _online(session: Session, clock: FixedClock, applicant: User, key: str = "n-1") -> Case:
    return service.apply(session, clock=clock, user=applicant, rules_=RULES, online=True, data=ApplicationIn(
        applicant=ZHANG, item_code=ITEM, idempotency_key=key)).case


def _correction_case(session: Session, clock: FixedClock, user: Callable[[str], User]) -> Case:
    case = _online(session, clock, user("zhangwei"))
    service.precheck(session, clock=clock, user=user("clerk"), case_id=case.id, expected_version=case.version,
                     materials={}, rules_=RULES)
    assert case.state == "correction_requested"
    return case


def test_correction_notice_lists_every_missing_material_and_the_tracking_link(
        session: Session, clock: FixedClock, user: Callable[[str], User]) -> None:
    case = _correction_case(session, clock, user)
    missing = [m.name for m in case.materials if m.required and m.status == "missing"]
    assert len(missing) >= 2
    text = _text(notices.notice_pdf(session, case, "correction", BASE))
    assert case.number in text
    for name in missing:
        assert "".join(name.split()) in text, name
    assert "补正材料一次性告知书" in text
    assert f"{BASE}/track?number={case.number}" in text
    assert "410724********001X" in text and ZHANG.id_number not in text
    assert "获嘉县政务服务中心" in text  # online: the county center stands for the receiving hall


def test_acceptance_notice_of_an_accepted_case_has_its_due_date(session: Session, clock: FixedClock,
                                                                user: Callable[[str], User]) -> None:
    case = _online(session, clock, user("zhangwei"))
    marks = {m.key: "paper" for m in case.materials if m.required and m.status == "missing"}
    service.precheck(session, clock=clock, user=user("clerk"), case_id=case.id, expected_version=case.version,
                     materials=marks, rules_=RULES)
    assert case.state == "accepted" and case.promised_due is not None
    text = _text(notices.notice_pdf(session, case, notices.NoticeKind.ACCEPTANCE, BASE))
    due = case.promised_due
    assert case.number in text and "受理通知书" in text
    assert f"{due.year}年{due.month}月{due.day}日" in text
    assert notices.available(session, case) == [notices.NoticeKind.ACCEPTANCE]


@pytest.mark.parametrize("kind", ["acceptance", "refusal"])
def test_a_notice_the_history_does_not_hold_is_a_conflict(kind: str, session: Session, clock: FixedClock,
                                                          user: Callable[[str], User]) -> None:
    case = _correction_case(session, clock, user)  # neither accepted nor refused
    with pytest.raises(Conflict) as caught:
        notices.notice_pdf(session, case, kind, BASE)
    assert caught.value.status == 409 and "不能出具" in caught.value.message


def test_refusal_notice_carries_the_reason_and_basis(session: Session, clock: FixedClock,
                                                     user: Callable[[str], User]) -> None:
    case = _online(session, clock, user("zhangwei"))
    service.precheck(session, clock=clock, user=user("clerk"), case_id=case.id, expected_version=case.version,
                     materials={}, rules_=RULES, refuse=True, reason="申请事项不属于本机关职权范围",
                     basis="《中华人民共和国行政许可法》第三十二条第一款第（二）项")
    text = _text(notices.notice_pdf(session, case, "refusal", BASE))
    assert "不予受理通知书" in text and "申请事项不属于本机关职权范围" in text and "第三十二条第一款" in text
    with pytest.raises(Conflict):
        notices.notice_pdf(session, case, "acceptance", BASE)


def test_the_applicant_downloads_a_notice_and_others_may_not(
        session: Session, clock: FixedClock, user: Callable[[str], User], login: Callable[[str], Browser],
        client: TestClient) -> None:
    case = _correction_case(session, clock, user)
    session.flush()
    url = f"/cases/{case.id}/notices/correction.pdf"
    r = login("zhangwei").client.get(url)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf"
    assert r.headers["content-disposition"].startswith("inline;") and case.number in r.headers["content-disposition"]
    assert case.number in _text(r.content)
    assert login("clerk").client.get(url).status_code == 200  # staff see every case
    assert login("wangfang").client.get(url).status_code == 403
    refused = login("zhangwei").client.get(f"/cases/{case.id}/notices/refusal.pdf")
    assert refused.status_code == 409 and "不能出具不予受理通知书" in refused.text
    assert login("zhangwei").client.get(f"/cases/{case.id}/notices/permit.pdf").status_code == 404
    assert client.get(url, follow_redirects=False).status_code == 303  # anonymous: to the login page


def test_decision_notice_names_the_issued_certificate_and_a_denial_names_the_remedy(
        session: Session, clock: FixedClock, user: Callable[[str], User]) -> None:
    clerk, approver = user("clerk"), user("approver_scjg")
    company = FENG
    target = service.resolve_target(session, item_code="410724-SCJG-XK-004", bundle_code=None)
    # 公司设立登记 issues a 营业执照 (BIZ_LICENSE) to the company's 统一社会信用代码
    assert target.version is not None and target.version.result_certificate_type is not None
    assert target.version.result_certificate_type.code == "BIZ_LICENSE"
    marks = {e.key: "paper" for e in service.checklist(target) if e.required}
    case = service.apply(session, clock=clock, user=clerk, rules_=RULES, online=False, data=ApplicationIn(
        applicant=company, item_code="410724-SCJG-XK-004", materials=marks)).case
    with pytest.raises(Conflict):
        notices.notice_pdf(session, case, "decision", BASE)
    factories.review_to_decision(session, approver, case, clock, opinion="符合条件")
    service.decide(session, clock=clock, user=approver, case_id=case.id, expected_version=case.version,
                   approve=True, reason="经审查符合许可条件")
    assert notices.NoticeKind.DECISION in notices.available(session, case)
    text = _text(notices.notice_pdf(session, case, "decision", BASE))
    assert "准予许可（办理）决定书" in text and case.number in text
    assert case.result_certificate_id is not None
    from onewindow.certificates.models import Certificate

    cert = session.get(Certificate, case.result_certificate_id)
    assert cert is not None and cert.number in text and cert.check_code in text

    denied = service.apply(session, clock=clock, user=clerk, rules_=RULES, online=False, data=ApplicationIn(
        applicant=company, item_code="410724-SCJG-XK-004", materials=marks)).case
    factories.review_to_decision(session, approver, denied, clock, opinion="名称近似", agree=False)
    service.decide(session, clock=clock, user=approver, case_id=denied.id, expected_version=denied.version,
                   approve=False, reason="拟登记名称与已登记企业名称近似", basis="《企业名称登记管理规定》第十七条")
    text = _text(notices.notice_pdf(session, denied, "decision", BASE))
    assert "不予许可（办理）决定书" in text and "行政复议" in text and "拟登记名称与已登记企业名称近似" in text


def test_every_notice_carries_the_rating_qr_beside_the_tracking_one(session: Session, clock: FixedClock,
                                                                    user: Callable[[str], User]) -> None:
    case = _correction_case(session, clock, user)
    pdf = notices.notice_pdf(session, case, "correction", BASE, rating_url=f"{BASE}/r/c{case.id}-abc")
    reader = PdfReader(io.BytesIO(pdf))
    assert "办结后扫码评价" in _text(pdf) and "扫码查询办理进度" in _text(pdf)
    assert sum(len(p.images) for p in reader.pages) == 2
    without = PdfReader(io.BytesIO(notices.notice_pdf(session, case, "correction", BASE)))
    assert sum(len(p.images) for p in without.pages) == 1


def test_the_served_notice_links_to_the_case_rating(session: Session, clock: FixedClock,
                                                    user: Callable[[str], User],
                                                    login: Callable[[str], Browser]) -> None:
    case = _correction_case(session, clock, user)
    r = login("zhangwei").client.get(f"/cases/{case.id}/notices/correction.pdf")
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert "办结后扫码评价" in _text(r.content)
