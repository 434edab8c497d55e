"""An experiencer's report (or a 差评) still unsatisfied after rectification is escalated; the escalation files a
投诉 at the 有诉即办 center, once, with the raiser as the complainant."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from onewindow import wiring
from onewindow.complaints.models import Complaint
from onewindow.core.clock import FixedClock
from onewindow.rectification import service as rectification
from tests.factories import staff
from tests.rectification.support import open_fake


def test_an_escalated_order_is_filed_as_a_complaint_once(session: Session, clock: FixedClock) -> None:
    wiring.install()
    head, supervisor = staff(session, "head_scjg"), staff(session, "supervisor")
    order = open_fake(session, clock)
    order = rectification.verify(session, clock=clock, user=head, order_id=order.id, expected_version=order.version,
                                 note="情况属实")
    for _ in range(2):  # the first unsatisfied callback reopens, the second escalates
        order = rectification.complete(session, clock=clock, user=head, order_id=order.id,
                                       expected_version=order.version, measures="已培训")
        order = rectification.record_callback(session, clock=clock, user=supervisor, order_id=order.id,
                                              expected_version=order.version, verdict="unsatisfied",
                                              note="仍然不满意")
    assert order.state == "escalated"
    [c] = session.scalars(select(Complaint).where(Complaint.source_kind == "rectification",
                                                  Complaint.source_id == order.id)).all()
    assert (c.channel, c.category, c.state, c.subject) == ("experiencer", "complain", "accepted", order.title)
    assert c.complainant_name == "钱体验" and c.complainant_phone == "13912345678"
    assert order.number in c.content and "仍然不满意" in c.content
