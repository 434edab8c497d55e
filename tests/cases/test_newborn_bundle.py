"""新生儿出生一件事 end to end on the service: online application → pre-check → five sub-cases in five
departments in parallel → approvals (two by the 秒批 rule) → the bundle completes → one delivery.

Due dates are hand-computed on the 2026 official calendar: accepted Thursday 2026-02-12, the day
before the Spring Festival make-up Saturday 2026-02-14; the holiday runs 02-15 … 02-23 and 02-28
(Saturday) is a make-up working day. Counting working days from the day after acceptance:
02-13 (1), 02-14 Sat (2), 02-24 (3), 02-25 (4), 02-26 (5), 02-27 (6), 02-28 Sat (7), 03-02 (8),
03-03 (9), 03-04 (10) … 03-18 (20).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from onewindow.cases import service
from onewindow.cases.models import Case
from onewindow.cases.service import ApplicantIn, ApplicationIn, DeliveryIn
from onewindow.certificates.models import Certificate
from onewindow.core.clock import CHINA_TZ, FixedClock
from onewindow.staff.models import User
from tests.cases.conftest import FATHER, RULES

ACCEPTED = dt.datetime(2026, 2, 12, 10, 0, tzinfo=CHINA_TZ)


def _subs(session: Session, parent: Case) -> dict[str, Case]:
    return {s.item.code if s.item else "": s for s in service.sub_cases(session, parent.id)}


def test_newborn_bundle_from_online_application_to_delivery(
        session: Session, user: Callable[[str], User], parents: Callable[..., tuple[User, ApplicantIn]]) -> None:
    clock = FixedClock(ACCEPTED)
    mother, applicant = parents()
    created = service.apply(session, clock=clock, user=mother, rules_=RULES, online=True, data=ApplicationIn(
        applicant=applicant, bundle_code="YJS-NEWBORN", extra_holders=[FATHER], idempotency_key="nb-1",
        form_data={"baby_name": "刘小满", "birth_date": "2026-02-10"}))
    parent = created.case
    assert parent.state == "submitted" and parent.kind == "bundle"
    status = {m.key: m.status for m in parent.materials}
    # one deduplicated list: the ID card needed by all five items appears once, from the library
    assert sum(1 for m in parent.materials if m.key == "cert:ID_CARD") == 1
    assert status["cert:ID_CARD"] == "library"
    assert status["cert:MARRIAGE_CERT"] == "library"
    # the father's hukou is in the library too, but online only the applicant's own certificates are used
    # (anyone could otherwise probe a stranger's library by naming them); at a window the clerk may use it
    assert status["cert:HUKOU_BOOK"] == "missing"
    # the bundle itself issues the birth certificate (出生医学证明签发): never asked of the parents
    assert "cert:BIRTH_MED_CERT" not in status
    for key in ("cert:HUKOU_BOOK", "name:出生医学证明首次签发登记表"):
        service.attach_upload(session, clock=clock, user=mother, case=parent, material_key=key,
                              filename="scan.pdf", content_type="application/pdf", size=1234, sha256="a" * 64)

    clerk = user("clerk")
    service.precheck(session, clock=clock, user=clerk, case_id=parent.id, expected_version=parent.version,
                     materials={}, rules_=RULES)
    assert parent.state == "in_review"  # accepted, and two sub-cases were decided at once by 秒批
    assert parent.accepted_on == dt.date(2026, 2, 12)
    assert parent.promised_due == dt.date(2026, 3, 4)  # the bundle's 10 working days
    subs = _subs(session, parent)
    assert len(subs) == 5
    assert {s.department.code for s in subs.values()} == {"WJW", "GAJ", "YBJ", "RSJ"}
    benefit = subs["410724-YBJ-JF-002"]
    assert benefit.promised_due == dt.date(2026, 3, 4)
    assert benefit.legal_due == dt.date(2026, 3, 18)
    # 秒批: instant items whose required materials all came from the certificate library
    assert subs["410724-RSJ-GG-001"].state == "approved"
    assert subs["410724-RSJ-GG-001"].decided_by_rule == "秒批"
    assert subs["410724-YBJ-GG-001"].state == "approved"
    assert subs["410724-GAJ-QR-003"].state == "accepted"  # an uploaded proof needs a person
    passed_on = {m.key: m for m in subs["410724-GAJ-QR-003"].materials}["cert:BIRTH_MED_CERT"]
    assert passed_on.status == "missing" and "出生医学证明签发" in passed_on.note and "无需提交" in passed_on.note

    # the departments work in parallel, each only on its own sub-case
    wjw = subs["410724-WJW-GG-001"]
    service.decide(session, clock=clock, user=user("approver_wjw"), case_id=wjw.id, expected_version=wjw.version,
                   approve=True, reason="信息核验一致")
    gaj = subs["410724-GAJ-QR-003"]
    service.record_opinion(session, clock=clock, user=user("approver_gaj"), case_id=gaj.id,
                           expected_version=gaj.version, opinion="出生医学证明与户籍信息一致")
    service.decide(session, clock=clock, user=user("approver_gaj"), case_id=gaj.id, expected_version=gaj.version,
                   approve=True, reason="准予登记")
    assert parent.state == "in_review"
    later = FixedClock(dt.datetime(2026, 2, 26, 15, 0, tzinfo=CHINA_TZ))
    ybj = user("approver_ybj")
    for opinion in ("材料齐全", "核定生育津贴"):
        service.record_opinion(session, clock=later, user=ybj, case_id=benefit.id, expected_version=benefit.version,
                               opinion=opinion)
    service.decide(session, clock=later, user=ybj, case_id=benefit.id, expected_version=benefit.version,
                   approve=True, reason="准予支付")
    assert parent.state == "approved"
    assert parent.decided_on == dt.date(2026, 2, 26) <= parent.promised_due  # 按期办结

    # the birth certificate is issued into the library
    assert wjw.item_version is not None and wjw.item_version.result_certificate_type is not None
    cert = session.get(Certificate, wjw.result_certificate_id) if wjw.result_certificate_id else None
    assert cert is not None and cert.holder_id == parent.applicant_id

    service.deliver(session, clock=later, user=clerk, case_id=parent.id, expected_version=parent.version,
                    data=DeliveryIn(method="mail", address="获嘉县城关镇建设路 8 号", recipient="陈静",
                                    courier="EMS", tracking_number="1100223344556"))
    assert parent.state == "delivered"
    delivered = service.sub_cases(session, parent.id)
    assert len(delivered) == 5 and all(s.state == "delivered" for s in delivered)
    assert service.visit_count(session, parent) == 0
    assert service.one_visit(session, parent) is True
    kinds = [e.kind for e in service.timeline(session, parent)]
    assert kinds[:3] == ["submitted", "uploaded", "uploaded"]
    assert kinds[-1] == "delivered"


def test_expired_certificate_is_not_used(session: Session, parents: Callable[..., tuple[User, ApplicantIn]]) -> None:
    clock = FixedClock(ACCEPTED)
    mother, applicant = parents(marriage_expired=True)
    case = service.apply(session, clock=clock, user=mother, rules_=RULES, online=True, data=ApplicationIn(
        applicant=applicant, bundle_code="YJS-NEWBORN", extra_holders=[FATHER])).case
    status = {m.key: (m.status, m.certificate_id) for m in case.materials}
    assert status["cert:MARRIAGE_CERT"] == ("missing", None)
    assert status["cert:ID_CARD"][0] == "library"


def test_same_idempotency_key_gives_one_case(session: Session,
                                             parents: Callable[..., tuple[User, ApplicantIn]]) -> None:
    clock = FixedClock(ACCEPTED)
    mother, applicant = parents()
    data = ApplicationIn(applicant=applicant, bundle_code="YJS-NEWBORN", idempotency_key="k-42")
    first = service.apply(session, clock=clock, user=mother, rules_=RULES, online=True, data=data)
    second = service.apply(session, clock=clock, user=mother, rules_=RULES, online=True, data=data)
    assert first.created and not second.created
    assert first.case.id == second.case.id
    count = session.scalar(select(Case.id).where(Case.idempotency_key == "k-42").limit(2))
    assert count == first.case.id


def test_at_a_window_a_further_holders_certificates_are_used(
        session: Session, user: Callable[[str], User], parents: Callable[..., tuple[User, ApplicantIn]]) -> None:
    clock = FixedClock(ACCEPTED)
    _mother, applicant = parents()
    case = service.apply(session, clock=clock, user=user("clerk"), rules_=RULES, online=False, data=ApplicationIn(
        applicant=applicant, bundle_code="YJS-NEWBORN", extra_holders=[FATHER],
        materials={"name:出生医学证明首次签发登记表": "paper"})).case
    status = {m.key: m.status for m in case.materials}
    assert status["cert:HUKOU_BOOK"] == "library"  # the father's, named by the clerk who sees him consent
    assert case.state in ("accepted", "in_review")
