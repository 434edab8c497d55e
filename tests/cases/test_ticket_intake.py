"""Ticket → intake: the workbench opens the intake with the ticket being served (number, kiosk phone, item), the
case, the ticket and the visit stay linked; a ticket that is not at the clerk's window is refused."""

from __future__ import annotations

import re
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from onewindow.cases.models import Case, CaseVisit
from onewindow.certificates.demo import ZHANG_WEI
from onewindow.queue import service as queue_service
from onewindow.queue.models import Ticket, TicketCase
from onewindow.staff.models import User
from tests.conftest import Browser
from tests.web.test_admin_pages import form_fields, replace

from .test_staff_pages import FORM_KEY, PREMISES_KEY, SHOP, _case_count

HX = {"HX-Request": "true"}
PHONE = "13912345678"


def _serving(session: Session, *, id_number: str | None = ZHANG_WEI) -> Ticket:
    """The ticket the demo left at the clerk's window, with what the kiosk would have recorded."""
    clerk = session.scalars(select(User).where(User.username == "clerk")).one()
    window = queue_service.window_of_clerk(session, clerk.id)
    assert window is not None
    ticket = queue_service.current_ticket(session, window.id)
    assert ticket is not None and ticket.state == "serving"
    ticket.id_number, ticket.phone, ticket.item_code = id_number, PHONE, SHOP
    session.flush()
    return ticket


def test_workbench_offers_intake_for_the_ticket_being_served(login: Callable[[str], Browser],
                                                            session: Session) -> None:
    ticket = _serving(session)
    page = login("clerk").client.get("/workbench").text
    assert 'action="/cases/intake/ticket"' in page and "受理办件" in page
    assert f'name="ticket" value="{ticket.number}"' in page


def test_intake_opened_from_the_ticket_carries_number_phone_and_item_and_links_the_case(
        login: Callable[[str], Browser], session: Session) -> None:
    ticket = _serving(session)
    clerk = login("clerk")
    r = clerk.post("/cases/intake/ticket", {"ticket": ticket.number})
    assert r.status_code == 200, r.text
    assert f'data-visit-ticket="{ticket.number}"' in r.text and "个体工商户" in r.text
    assert "取号手机：139****5678" in r.text  # masked where it is shown; whole only in the editable input
    assert r.text.count(PHONE) == 1 and f'name="applicant_phone" value="{PHONE}"' in r.text
    fields = form_fields(r.text, "/cases/intake")  # the applicant (ID from the ticket) and the item are chosen
    values = dict(fields)
    assert values["item_code"] == SHOP and values["applicant_id"] == ZHANG_WEI
    assert values["ticket_id"] == ticket.number and values["applicant_phone"] == PHONE
    before = _case_count(session)
    fields = replace(fields, **{f"material:{FORM_KEY}": "paper", f"material:{PREMISES_KEY}": "paper"})
    done = clerk.post("/cases/intake", [*fields, ("decision", "accept")])
    assert done.status_code == 303, done.text
    assert _case_count(session) == before + 1
    case_id = int(re.findall(r"/cases/(\d+)", done.headers["location"])[0])
    case = session.get(Case, case_id)
    assert case is not None and case.applicant_phone == PHONE
    clerk_user = session.scalars(select(User).where(User.username == "clerk")).one()
    assert case.steps[0].done_by_name == clerk_user.display_name != "clerk"  # names, not usernames
    page = clerk.client.get(f"/cases/{case_id}").text
    assert clerk_user.display_name in page and ">clerk<" not in page
    visit = session.scalars(select(CaseVisit).where(CaseVisit.case_id == case_id)).one()
    assert visit.ticket_id == ticket.id and visit.kind == "intake"
    assert session.scalars(select(TicketCase.case_number).where(TicketCase.ticket_id == ticket.id)).all() == [
        case.number]


def test_without_an_id_on_the_ticket_the_steps_carry_the_ticket(login: Callable[[str], Browser],
                                                                session: Session) -> None:
    ticket = _serving(session, id_number=None)
    clerk = login("clerk")
    r = clerk.post("/cases/intake/ticket", {"ticket": ticket.number})
    assert r.status_code == 200 and f'name="ticket" value="{ticket.number}"' in r.text
    step = dict(form_fields(r.text, "/cases/intake/applicant"))
    assert step["ticket"] == ticket.number and step["item"] == SHOP
    r = clerk.post("/cases/intake/applicant", {**step, "id": ZHANG_WEI})
    assert r.status_code == 200, r.text
    values = dict(form_fields(r.text, "/cases/intake"))
    assert values["item_code"] == SHOP and values["ticket_id"] == ticket.number


def test_a_ticket_not_at_the_clerks_window_is_refused_and_nothing_is_written(
        login: Callable[[str], Browser], session: Session) -> None:
    _serving(session)
    clerk = login("clerk")
    r = clerk.post("/cases/intake/ticket", {"ticket": "Z999"})
    assert r.status_code == 404 and "不是本窗口今天呼叫或办理的号" in r.text
    r = clerk.post("/cases/intake/target", {"id": ZHANG_WEI, "item": SHOP})
    fields = replace(form_fields(r.text, "/cases/intake"), ticket_id="Z999",
                     **{f"material:{FORM_KEY}": "paper", f"material:{PREMISES_KEY}": "paper"})
    before = _case_count(session)
    r = clerk.post("/cases/intake", [*fields, ("decision", "accept")])
    assert r.status_code == 422 and "不是本窗口今天呼叫或办理的号" in r.text
    assert _case_count(session) == before


def test_a_clerk_not_signed_in_cannot_take_intake_by_ticket(login: Callable[[str], Browser],
                                                           session: Session) -> None:
    ticket = _serving(session)
    clerk = login("clerk")
    clerk.post("/workbench/finish", headers=HX)
    clerk.post("/workbench/sign-out", headers=HX)
    r = clerk.post("/cases/intake/ticket", {"ticket": ticket.number})
    assert r.status_code == 409 and "请先在叫号工作台签到窗口" in r.text


def test_the_workbench_calls_a_chosen_ticket_with_a_reason(login: Callable[[str], Browser],
                                                          session: Session) -> None:
    ticket = _serving(session)
    clerk = login("clerk")
    clerk.post("/workbench/finish", headers=HX)
    waiting = session.scalars(select(Ticket).where(Ticket.hall_id == ticket.hall_id, Ticket.day == ticket.day,
                                                  Ticket.state == "waiting")).all()
    page = clerk.client.get("/workbench").text
    assert 'action="/workbench/call-specific"' in page
    chosen = next((t for t in waiting if t.category.code in ticket.window.skills), None) if ticket.window else None
    assert chosen is not None
    r = clerk.post("/workbench/call-specific", {"number": chosen.number, "reason": ""}, headers=HX)
    assert "指定呼叫须填写原因" in r.text
    session.refresh(chosen)
    assert chosen.state == "waiting"
    r = clerk.post("/workbench/call-specific", {"number": chosen.number, "reason": "老年人优先"}, headers=HX)
    assert f"data-ticket-number>{chosen.number}<" in r.text
    r = clerk.post("/workbench/call-specific", {"number": "Z999", "reason": "老年人优先"}, headers=HX)
    assert "号票不存在" in r.text
