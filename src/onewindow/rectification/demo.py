"""Demo 整改 (rectification): the demo's 差评 work orders moved through the service so every stage shows.

Runs after the ratings demo, which opened one order (待核实) per 差评. The department's 首席代表 (``dept_head``)
verifies, appeals and rectifies; ``supervisor`` decides appeals, calls the rater back (回访) and closes escalated
orders. Each order acts on its own days after it was opened (never past the demo's now), oldest orders furthest
along: the ones with an identified rater get the stages that need a callback; then the overdue sweep flags those
rectifying past their due date. The newest stay 待核实. Loading again does nothing once an order has moved.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from onewindow.core import access
from onewindow.core.access import Action, Record
from onewindow.core.clock import Clock, FixedClock
from onewindow.rectification import service
from onewindow.rectification.models import RectificationOrder
from onewindow.rectification.states import OrderState, SourceKind
from onewindow.staff.models import User
from onewindow.staff.service import viewer_of

SUPERVISOR = "supervisor"

Step = Callable[[Session, RectificationOrder, User, User, Callable[[int], Clock]], None]


def _verify(session: Session, order: RectificationOrder, head: User, at: Callable[[int], Clock],
            appeal: bool = False) -> None:
    service.verify(session, clock=at(1), user=head, order_id=order.id, expected_version=order.version,
                   note="已电话联系评价人，了解具体情况" if not appeal else "回拨核实：评价人所述与窗口记录不符",
                   appeal=appeal)


def _complete(session: Session, order: RectificationOrder, head: User, at: Callable[[int], Clock],
              day: int = 3) -> None:
    service.complete(session, clock=at(day), user=head, order_id=order.id, expected_version=order.version,
                     measures="修订一次性告知单，窗口人员集中学习，已向评价人致歉")


def _callback(session: Session, order: RectificationOrder, supervisor: User, at: Callable[[int], Clock], day: int,
              verdict: str) -> None:
    note = {"satisfied": "回访：评价人对整改结果满意", "unsatisfied": "回访：评价人对整改结果不满意"}[verdict]
    service.record_callback(session, clock=at(day), user=supervisor, order_id=order.id,
                            expected_version=order.version, verdict=verdict, note=note)


def closed(session: Session, order: RectificationOrder, head: User, supervisor: User,
           at: Callable[[int], Clock]) -> None:
    """办结 after a satisfied 回访."""
    _verify(session, order, head, at)
    _complete(session, order, head, at)
    _callback(session, order, supervisor, at, 4, "satisfied")


def escalated(session: Session, order: RectificationOrder, head: User, supervisor: User,
              at: Callable[[int], Clock]) -> None:
    """Unsatisfied twice: reopened once, then 升级督办 (left for the supervisor to close)."""
    _verify(session, order, head, at)
    _complete(session, order, head, at)
    _callback(session, order, supervisor, at, 4, "unsatisfied")
    _complete(session, order, head, at, 6)
    _callback(session, order, supervisor, at, 7, "unsatisfied")


def reopened(session: Session, order: RectificationOrder, head: User, supervisor: User,
             at: Callable[[int], Clock]) -> None:
    """回访不满意 → back to 整改中 (reopened once)."""
    _verify(session, order, head, at)
    _complete(session, order, head, at)
    _callback(session, order, supervisor, at, 4, "unsatisfied")


def voided(session: Session, order: RectificationOrder, head: User, supervisor: User,
           at: Callable[[int], Clock]) -> None:
    """申诉成立: the rating is voided (through the wiring's void listener)."""
    appealed(session, order, head, supervisor, at)
    service.decide_appeal(session, clock=at(3), user=supervisor, order_id=order.id, expected_version=order.version,
                          uphold=True, note="申诉成立：经调取窗口录像，评价与事实不符，认定为无效差评")


def appealed(session: Session, order: RectificationOrder, head: User, supervisor: User,
             at: Callable[[int], Clock]) -> None:
    """申诉中: waiting for the supervisor."""
    _verify(session, order, head, at, appeal=True)
    service.appeal(session, clock=at(2), user=head, order_id=order.id, expected_version=order.version,
                   reason="评价人误操作，当场表示满意", evidence="窗口录像及评价人签字的情况说明")


def awaiting_callback(session: Session, order: RectificationOrder, head: User, supervisor: User,
                      at: Callable[[int], Clock]) -> None:
    """整改完成, waiting for the 回访."""
    _verify(session, order, head, at)
    _complete(session, order, head, at)


def rectifying(session: Session, order: RectificationOrder, head: User, supervisor: User,
               at: Callable[[int], Clock]) -> None:
    """整改中, its deadline running."""
    _verify(session, order, head, at)


def unrectifiable_review(session: Session, order: RectificationOrder, head: User, supervisor: User,
                         at: Callable[[int], Clock]) -> None:
    """无法整改审核: the department asks the supervisor to accept that it cannot rectify."""
    _verify(session, order, head, at)
    service.request_unrectifiable(session, clock=at(2), user=head, order_id=order.id,
                                  expected_version=order.version, reason="涉及上级系统改造，县级无法自行整改")


# oldest orders first; the first three need a callback, so they take the identified raters first
CALLBACK_STEPS: list[Step] = [closed, escalated, reopened]
OTHER_STEPS: list[Step] = [voided, awaiting_callback, appealed, rectifying, closed, unrectifiable_review]
LEFT_PENDING = 2  # the newest orders stay 待核实


def load_demo_rectification(session: Session, clock: Clock) -> int:
    """Move the demo's 差评 orders through the loop; returns how many moved (0 when already done)."""
    orders = list(session.scalars(select(RectificationOrder)
                                  .where(RectificationOrder.source_kind == SourceKind.RATING.value)
                                  .order_by(RectificationOrder.opened_at, RectificationOrder.id)))
    if any(o.state != OrderState.PENDING.value for o in orders):
        return 0
    supervisor = session.scalars(select(User).where(User.username == SUPERVISOR)).first()
    if supervisor is None:
        return 0
    heads: dict[int, User] = {}  # who may work each department's orders (its 首席代表), asked of the policy
    for user in session.scalars(select(User).where(User.department_id.in_({o.department_id for o in orders}))
                                .order_by(User.id)):
        department = user.department_id
        if department is not None and department not in heads and \
                access.can(viewer_of(user), Action.RECTIFICATION_WORK, Record(department=department)):
            heads[department] = user
    workable = [o for o in orders[:max(0, len(orders) - LEFT_PENDING)] if o.department_id in heads]
    # stable: the oldest identified raters take the stages that need a callback
    called = sorted(workable, key=lambda o: not o.identified)[:len(CALLBACK_STEPS)]
    plan: list[tuple[RectificationOrder, Step]] = list(zip(called, CALLBACK_STEPS, strict=False))
    plan += list(zip([o for o in workable if o not in called], OTHER_STEPS, strict=False))
    now = clock.now()
    for order, step in plan:
        opened = order.opened_at

        def at(days: int, opened: dt.datetime = opened) -> Clock:
            return FixedClock(min(opened + dt.timedelta(days=days), now))

        step(session, order, heads[order.department_id], supervisor, at)
    service.sweep_overdue(session, clock=clock)  # orders rectifying past their due date show 超期
    return len(plan)
