"""The demo shows the 差评 loop at work: its work orders stand in many different stages."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onewindow.ratings.models import Rating
from onewindow.rectification.models import RectificationOrder
from onewindow.rectification.states import OrderState


def test_the_demo_has_orders_in_at_least_six_states(session: Session) -> None:
    states = dict(session.execute(select(RectificationOrder.state, func.count())
                                  .where(RectificationOrder.source_kind == "rating")
                                  .group_by(RectificationOrder.state)).all())
    assert len(states) >= 6, states
    for state in (OrderState.PENDING, OrderState.RECTIFYING, OrderState.RECTIFIED, OrderState.CLOSED,
                  OrderState.APPEALED, OrderState.VOIDED, OrderState.ESCALATED):
        assert states.get(state.value, 0) >= 1, state
    reopened = session.scalar(select(func.count()).where(RectificationOrder.reopen_count > 0,
                                                         RectificationOrder.state == OrderState.RECTIFYING.value))
    assert reopened, "one order was reopened after an unsatisfied 回访"
    voided = session.scalar(select(func.count()).select_from(Rating).where(Rating.voided_at.is_not(None)))
    assert voided, "the upheld appeal voided its 差评"
