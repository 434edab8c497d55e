"""What can be done to a complaint work order now, and by whom: the order page's forms and the API's
``allowed_actions``.

Each action names the access policy's action (who, how far) and the states in which the workflow offers it;
the page, the API and the tests read the same answer, and the service checks everything again when posted.
Signing and returning are also offered only to a department with an active assignment it has not signed yet.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from onewindow.complaints import service
from onewindow.complaints.models import Complaint
from onewindow.complaints.states import OPEN, ComplaintState
from onewindow.core import access
from onewindow.core.access import Action
from onewindow.staff.models import User
from onewindow.staff.service import viewer_of

S = ComplaintState


@dataclass(frozen=True)
class ComplaintAction:
    """One action on an order: its label, the policy action that allows it, and the states that offer it."""

    label: str
    permission: Action
    states: frozenset[ComplaintState]
    needs_unsigned_assignment: bool = False


ACTIONS: dict[str, ComplaintAction] = {
    # the center (administrator) dispatches, re-dispatches (改派) and decides disputes over returned orders
    "dispatch": ComplaintAction("派单 / 改派", Action.COMPLAINT_DISPATCH,
                                frozenset({S.ACCEPTED, S.RETURNED, S.DISPATCHED, S.HANDLING})),
    "decide": ComplaintAction("裁定退单争议（仍由原部门办理）", Action.COMPLAINT_DISPATCH, frozenset({S.RETURNED})),
    # the departments assigned sign; a wrongly assigned one returns it before signing
    "sign": ComplaintAction("签收", Action.COMPLAINT_SIGN, frozenset({S.DISPATCHED, S.HANDLING}), True),
    "return": ComplaintAction("退单", Action.COMPLAINT_RETURN, frozenset({S.DISPATCHED, S.HANDLING}), True),
    # the lead department answers the citizen
    "reply": ComplaintAction("答复", Action.COMPLAINT_REPLY, frozenset({S.HANDLING})),
    # the center calls the citizen back, merges duplicates; the supervisor sets a 督办 deadline
    "callback": ComplaintAction("回访", Action.COMPLAINT_CALLBACK, frozenset({S.REPLIED})),
    "merge": ComplaintAction("合并重复诉求", Action.COMPLAINT_MERGE, OPEN),
    "supervise": ComplaintAction("督办", Action.COMPLAINT_SUPERVISE, OPEN),
}


def allowed_actions(session: Session, user: User, c: Complaint) -> list[str]:
    """The actions the user may take on the order now (the access policy's answer within what the state allows)."""
    viewer = viewer_of(user)
    record = service.record_of(session, c)
    state = S(c.state)
    unsigned = any(a.department_id == viewer.department_id and a.signed_at is None
                   for a in service.active_assignments(session, [c.id])[c.id])
    return [name for name, act in ACTIONS.items()
            if state in act.states and access.can(viewer, act.permission, record)
            and (unsigned or not act.needs_unsigned_assignment)]
