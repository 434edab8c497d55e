"""有诉即办 figures per department and category, computed by hand from seven orders in every state."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session

from onewindow.complaints import figures
from onewindow.core.clock import FixedClock
from onewindow.core.errors import PermissionDenied, ValidationFailed
from onewindow.staff.service import viewer_of
from tests.complaints.ledger_support import Lead, at, make_order, user

OCT_1, OCT_31 = dt.date(2026, 10, 1), dt.date(2026, 10, 31)  # October


@pytest.fixture
def orders(session: Session) -> None:
    """Seven orders of October (and one of September) in every state; the clock stands at 11-23 10:00 (the demo's
    own orders are of November)."""
    # O1 投诉 SCJG: signed in time, replied by its limit, 满意, closed and solved
    o1 = make_order(session, dept="SCJG", accepted_at=at(10, 2), due_on=dt.date(2026, 10, 20), state="closed",
                    replied_at=at(10, 5), verdict="satisfied", solved=True, closed_at=at(10, 6),
                    leads=(Lead("SCJG", at(10, 2), signed_at=at(10, 2, 15)),))
    # O2 投诉: WJW returned it late (退单 after its 24 hours), SCJG signed in time; replied after the limit,
    # 不满意 → 重办, replied again, 基本满意, closed but not solved; urged twice
    make_order(session, dept="SCJG", accepted_at=at(10, 3), due_on=dt.date(2026, 10, 10), state="closed",
               replied_at=at(10, 22), verdict="basic", reopen=1, solved=False, urges=2, closed_at=at(10, 22, 16),
               leads=(Lead("WJW", at(10, 3), returned_at=at(10, 4, 12), active=False),
                      Lead("SCJG", at(10, 4, 13), signed_at=at(10, 4, 14))))
    # O3 求助 SCJG: signed late, still handling past its limit, urged once
    make_order(session, dept="SCJG", accepted_at=at(10, 10), due_on=dt.date(2026, 10, 20), category="help",
               state="handling", urges=1, leads=(Lead("SCJG", at(10, 10), signed_at=at(10, 12)),))
    # O4 咨询 WJW: dispatched, not signed and past its sign limit (10-22 09:00), due 11-25
    make_order(session, dept="WJW", accepted_at=at(10, 21), due_on=dt.date(2026, 11, 25), category="consult",
               state="dispatched", leads=(Lead("WJW", at(10, 21)),))
    # O5 咨询 answered on the spot at the window (never dispatched)
    make_order(session, dept=None, accepted_at=at(10, 20), due_on=dt.date(2026, 10, 24), category="consult",
               state="replied", replied_at=at(10, 20, 9, 30))
    # O6 建议 SCJG: dispatched only an hour ago, its sign limit not yet reached
    make_order(session, dept="SCJG", accepted_at=at(10, 23), due_on=dt.date(2026, 12, 7), category="suggest",
               state="dispatched", leads=(Lead("SCJG", at(11, 23)),))
    # O7 a duplicate merged into O1 (its late assignment and urges count nowhere); O8 accepted in September
    make_order(session, dept="SCJG", accepted_at=at(10, 4), due_on=dt.date(2026, 11, 25), state="merged",
               urges=5, merged_into=o1.id, leads=(Lead("SCJG", at(10, 4)),))
    make_order(session, dept="SCJG", accepted_at=at(9, 30), due_on=dt.date(2026, 10, 20), state="handling")


def _report(session: Session, clock: FixedClock, username: str, by: str) -> figures.FiguresReport:
    return figures.figures(session, viewer=viewer_of(user(session, username)), date_from=OCT_1, date_to=OCT_31,
                           now=clock.now(), by=by)


def _row(g: figures.GroupFigures) -> tuple[str, ...]:
    return (g.label, g.counts.orders.__str__(), g.acceptance_rate.parts, g.response_rate.parts,
            g.on_time_rate.parts, g.reply_rate.parts, g.satisfaction_rate.parts, g.reopen_rate.parts,
            str(g.counts.closed_unsolved), str(g.counts.overdue_open), str(g.counts.urges), str(g.counts.merged))


@pytest.mark.usefixtures("orders")
def test_figures_per_department_by_hand(session: Session, clock: FixedClock) -> None:
    report = _report(session, clock, "admin", "department")
    #        label           orders 受理  响应   按时办结 答复  满意  重办 未解决 超期 催办 合并
    assert [_row(g) for g in report.groups] == [
        ("获嘉县卫生健康委员会", "1", "0/1", "0/2", "0/0", "0/1", "0/0", "0/0", "0", "0", "0", "0"),
        ("获嘉县市场监督管理局", "4", "3/4", "2/3", "1/2", "2/4", "2/2", "1/2", "1", "1", "3", "1"),
        ("未派单（中心）", "1", "1/1", "0/0", "0/0", "1/1", "0/0", "0/1", "0", "0", "0", "0"),
    ]
    assert _row(report.total) == ("合计", "6", "4/6", "2/5", "1/2", "3/6", "2/2", "1/3", "1", "1", "3", "1")
    assert report.groups[1].acceptance_rate.text == "75.0%" and report.groups[0].on_time_rate.text == "—"


@pytest.mark.usefixtures("orders")
def test_figures_per_category_and_per_department_and_category(session: Session, clock: FixedClock) -> None:
    by_category = {g.category: _row(g) for g in _report(session, clock, "supervisor", "category").groups}
    assert by_category == {
        "complain": ("投诉", "2", "2/2", "2/3", "1/2", "2/2", "2/2", "1/2", "1", "0", "2", "1"),
        "help": ("求助", "1", "1/1", "0/1", "0/0", "0/1", "0/0", "0/0", "0", "1", "1", "0"),
        "consult": ("咨询", "2", "1/2", "0/1", "0/0", "1/2", "0/0", "0/1", "0", "0", "0", "0"),
        "suggest": ("建议", "1", "0/1", "0/0", "0/0", "0/1", "0/0", "0/0", "0", "0", "0", "0"),
    }
    both = [g.label for g in _report(session, clock, "admin", "department_category").groups]
    # WJW's late return of O2 makes a 投诉 row of its own: no order leads there now, one response was late
    assert both == ["获嘉县卫生健康委员会 · 咨询", "获嘉县卫生健康委员会 · 投诉", "获嘉县市场监督管理局 · 求助",
                    "获嘉县市场监督管理局 · 建议", "获嘉县市场监督管理局 · 投诉", "未派单（中心） · 咨询"]


@pytest.mark.usefixtures("orders")
def test_a_department_head_sees_only_their_department(session: Session, clock: FixedClock) -> None:
    report = _report(session, clock, "head_scjg", "department")
    assert [g.label for g in report.groups] == ["获嘉县市场监督管理局"]
    assert report.groups[0].response_rate.parts == "2/3"
    with pytest.raises(PermissionDenied):
        _report(session, clock, "clerk", "department")
    with pytest.raises(ValidationFailed):
        _report(session, clock, "admin", "window")
    with pytest.raises(ValidationFailed):
        figures.figures(session, viewer=viewer_of(user(session, "admin")), date_from=OCT_31, date_to=OCT_1,
                        now=clock.now())
