"""What can be done to a rectification order now, and by whom: the order page's forms and the API's
``allowed_actions``.

Each action names the access policy's action (who, how far) and the states in which the workflow offers it.
Both are asked here once; the page, the API and the tests read the same answer, and the service checks
everything again when the action is posted.
"""

from __future__ import annotations

from dataclasses import dataclass

from onewindow.core import access
from onewindow.core.access import Action
from onewindow.rectification import service
from onewindow.rectification.models import RectificationOrder
from onewindow.rectification.states import AWAITING_CALLBACK, OrderState
from onewindow.staff.models import User
from onewindow.staff.service import viewer_of

S = OrderState


@dataclass(frozen=True)
class OrderAction:
    """One action on an order: its label, the policy action that allows it, and the states that offer it."""

    label: str
    permission: Action
    states: frozenset[OrderState]


ACTIONS: dict[str, OrderAction] = {
    # the department (首席代表) works its own orders
    "verify": OrderAction("核实", Action.RECTIFICATION_WORK, frozenset({S.PENDING})),
    "appeal": OrderAction("申诉（无效或恶意评价）", Action.RECTIFICATION_WORK, frozenset({S.VERIFIED})),
    "start": OrderAction("不申诉，开始整改", Action.RECTIFICATION_WORK, frozenset({S.VERIFIED})),
    "complete": OrderAction("整改完成", Action.RECTIFICATION_WORK, frozenset({S.RECTIFYING})),
    "unrectifiable": OrderAction("申请无法整改", Action.RECTIFICATION_WORK, frozenset({S.RECTIFYING})),
    # the center's supervisor (电子监察) decides, independent of the department judged
    "appeal-decision": OrderAction("申诉复核", Action.RECTIFICATION_DECIDE, frozenset({S.APPEALED})),
    "unrectifiable-decision": OrderAction("无法整改审核", Action.RECTIFICATION_DECIDE,
                                          frozenset({S.UNRECTIFIABLE_REVIEW})),
    "extend": OrderAction("延长整改期限", Action.RECTIFICATION_DECIDE, frozenset({S.RECTIFYING})),
    "close": OrderAction("督办办结", Action.RECTIFICATION_DECIDE, frozenset({S.ESCALATED})),
    # 回访: the center calls the raiser back after 整改完成 or 无法整改
    "callback": OrderAction("回访", Action.RECTIFICATION_CALLBACK, AWAITING_CALLBACK),
}


def allowed_actions(user: User, order: RectificationOrder) -> list[str]:
    """The actions the user may take on the order now (the access policy's answer within what the state allows)."""
    viewer = viewer_of(user)
    record = service.record_of(order)
    state = OrderState(order.state)
    return [name for name, act in ACTIONS.items()
            if state in act.states and access.can(viewer, act.permission, record)]
