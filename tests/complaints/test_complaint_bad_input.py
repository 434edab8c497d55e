"""Bad input and illegal moves get clear errors (422 with the field, 403, 409) and write nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onewindow.complaints import service
from onewindow.complaints.models import Complaint, ComplaintAssignment, ComplaintEvent
from onewindow.core.audit import AuditEntry
from onewindow.core.clock import FixedClock
from onewindow.core.errors import Conflict, DomainError, PermissionDenied, ValidationFailed
from onewindow.notifications.models import OutboxMessage
from tests.complaints.support import complaint_in, department, file_at_window
from tests.factories import staff


def counts(session: Session) -> tuple[int, ...]:
    session.flush()
    return tuple(int(session.scalar(select(func.count()).select_from(m)) or 0)
                 for m in (Complaint, ComplaintAssignment, ComplaintEvent, AuditEntry, OutboxMessage))


def refused(session: Session, error: type[DomainError], call: Callable[[], Any]) -> DomainError:
    before = counts(session)
    with pytest.raises(error) as caught, session.begin_nested():
        call()
    assert counts(session) == before
    return caught.value


def fields(err: DomainError) -> set[str]:
    return {p.field for p in err.problems}


def handling(session: Session, clock: FixedClock) -> Complaint:
    c = file_at_window(session, clock)
    c = service.dispatch(session, clock=clock, user=staff(session, "admin"), complaint_id=c.id,
                         expected_version=c.version, lead_department_id=department(session, "SCJG").id)
    return service.sign(session, clock=clock, user=staff(session, "head_scjg"), complaint_id=c.id,
                        expected_version=c.version)


def test_a_complaint_without_category_subject_or_contact_is_refused_with_every_field(session: Session,
                                                                                     clock: FixedClock) -> None:
    clerk = staff(session, "clerk")
    err = refused(session, ValidationFailed, lambda: service.file_complaint(
        session, clock=clock, user=clerk, channel="window",
        data=complaint_in(category="", subject=" ", complainant_name="", complainant_phone="12345")))
    assert fields(err) == {"category", "subject", "complainant_name", "complainant_phone"}
    assert any("诉求类别" in p.message for p in err.problems)
    err = refused(session, ValidationFailed, lambda: service.file_complaint(
        session, clock=clock, user=clerk, channel="window", data=complaint_in(category="抱怨")))
    assert fields(err) == {"category"}
    # a 咨询 may be answered on the spot, a 投诉 may not
    err = refused(session, ValidationFailed, lambda: service.file_complaint(
        session, clock=clock, user=clerk, channel="window", data=complaint_in(), answer="已当场解释"))
    assert fields(err) == {"answer"}


def test_anonymous_online_complaints_need_no_name_and_a_consultation_is_answered_on_the_spot(
        session: Session, clock: FixedClock) -> None:
    anon = service.file_complaint(session, clock=clock, channel="online",
                                  data=complaint_in(anonymous=True, complainant_name="", complainant_phone=""))
    assert anon.anonymous and anon.complainant_name == "" and anon.state == "accepted"
    answered = service.file_complaint(session, clock=clock, user=staff(session, "clerk"), channel="window",
                                      data=complaint_in(category="咨询", subject="社保卡补办要带什么"),
                                      answer="带身份证原件即可当场补办。")
    assert (answered.state, answered.category, answered.reply) == ("replied", "consult", "带身份证原件即可当场补办。")
    with pytest.raises(PermissionDenied):
        service.file_complaint(session, clock=clock, channel="window", data=complaint_in())


def test_an_unknown_department_is_refused_and_nothing_is_dispatched(session: Session, clock: FixedClock) -> None:
    c = file_at_window(session, clock)
    admin = staff(session, "admin")
    err = refused(session, ValidationFailed, lambda: service.dispatch(
        session, clock=clock, user=admin, complaint_id=c.id, expected_version=c.version,
        lead_department_id=987654, assist_department_ids=[department(session, "WJW").id]))
    assert fields(err) == {"lead_department_id"} and "没有这个部门" in err.problems[0].message
    err = refused(session, ValidationFailed, lambda: service.dispatch(
        session, clock=clock, user=admin, complaint_id=c.id, expected_version=c.version, lead_department_id=None))
    assert fields(err) == {"lead_department_id"}
    session.refresh(c)
    assert (c.state, c.version, c.lead_department_id) == ("accepted", 1, None)


def test_a_reply_by_another_department_is_refused(session: Session, clock: FixedClock) -> None:
    c = handling(session, clock)
    err = refused(session, PermissionDenied, lambda: service.reply(
        session, clock=clock, user=staff(session, "head_gaj"), complaint_id=c.id, expected_version=c.version,
        text="不是我们的事"))
    assert err.status == 403 and err.code == "other_department"
    session.refresh(c)
    assert (c.state, c.reply) == ("handling", "")


def test_a_callback_before_the_reply_is_a_409(session: Session, clock: FixedClock) -> None:
    c = handling(session, clock)
    err = refused(session, Conflict, lambda: service.record_callback(
        session, clock=clock, user=staff(session, "supervisor"), complaint_id=c.id, expected_version=c.version,
        verdict="satisfied"))
    assert err.status == 409 and "尚未答复" in err.message
    err = refused(session, ValidationFailed, lambda: service.record_callback(
        session, clock=clock, user=staff(session, "supervisor"), complaint_id=c.id, expected_version=c.version,
        verdict="so-so"))
    assert fields(err) == {"verdict"}


def test_illegal_moves_and_stale_versions_are_409s(session: Session, clock: FixedClock) -> None:
    c = handling(session, clock)
    head = staff(session, "head_scjg")
    # a signed order cannot be returned, and cannot be signed twice
    refused(session, Conflict, lambda: service.return_order(session, clock=clock, user=head, complaint_id=c.id,
                                                            expected_version=c.version, reason="派错了"))
    refused(session, Conflict, lambda: service.sign(session, clock=clock, user=head, complaint_id=c.id,
                                                    expected_version=c.version))
    err = refused(session, Conflict, lambda: service.reply(session, clock=clock, user=head, complaint_id=c.id,
                                                           expected_version=c.version - 1, text="答复"))
    assert err.code == "stale_version"
    # a return needs a reason; 督办 needs a deadline not in the past
    c2 = file_at_window(session, clock)
    c2 = service.dispatch(session, clock=clock, user=staff(session, "admin"), complaint_id=c2.id,
                          expected_version=c2.version, lead_department_id=department(session, "SCJG").id)
    err = refused(session, ValidationFailed, lambda: service.return_order(
        session, clock=clock, user=head, complaint_id=c2.id, expected_version=c2.version, reason=" "))
    assert fields(err) == {"reason"}
    err = refused(session, ValidationFailed, lambda: service.supervise(
        session, clock=clock, user=staff(session, "supervisor"), complaint_id=c2.id, expected_version=c2.version,
        due_on=dt.date(2026, 11, 1), note=""))
    assert fields(err) == {"due_on", "note"}


def test_duplicates_of_one_person_merge_and_others_do_not(session: Session, clock: FixedClock) -> None:
    admin = staff(session, "admin")
    first, second = file_at_window(session, clock), file_at_window(session, clock)
    stranger = file_at_window(session, clock, complainant_phone="13800001111")
    assert [d.id for d in service.duplicates(session, second)] == [first.id]
    err = refused(session, ValidationFailed, lambda: service.merge(
        session, clock=clock, user=admin, complaint_id=stranger.id, expected_version=stranger.version,
        into_id=first.id))
    assert fields(err) == {"into_id"}
    merged = service.merge(session, clock=clock, user=admin, complaint_id=second.id,
                           expected_version=second.version, into_id=first.id, note="同一人重复反映")
    assert (merged.state, merged.merged_into_id) == ("merged", first.id)
    tracked = service.track(session, merged.tracking_code)
    assert tracked is not None and tracked.merged_into == first.number
    refused(session, Conflict, lambda: service.dispatch(
        session, clock=clock, user=admin, complaint_id=merged.id, expected_version=merged.version,
        lead_department_id=department(session, "SCJG").id))
