"""“我的” (/my): a citizen follows their tickets, bookings, cases, ratings, complaints and 免申即享 offers on one
page, answers an offer with one click, and authorises an agent chosen from lists. One citizen never sees another's."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from onewindow.agents.models import AgentAuthorization
from onewindow.appointments import service as appointments_service
from onewindow.certificates.demo import FENGYUAN, FENGYUAN_NAME, WANG_FANG, ZHANG_WEI
from onewindow.complaints import service as complaints_service
from onewindow.core.audit import Actor, AuditEntry
from onewindow.core.clock import FixedClock
from onewindow.myarea import service as my_service
from onewindow.policies.models import Entity, Grant
from onewindow.queue import service as queue_service
from onewindow.staff.models import User
from tests.conftest import Browser

KIOSK = Actor(None, "kiosk")
SOCIAL_CARD = "410724-RSJ-GG-001"  # 社会保障卡申领 (for persons)


def _user(session: Session, username: str) -> User:
    return session.scalars(select(User).where(User.username == username)).one()


def _grants(session: Session, identifier: str) -> list[Grant]:
    return list(session.scalars(select(Grant).join(Entity, Entity.id == Grant.entity_id)
                                .where(Entity.identifier == identifier).order_by(Grant.id)))


def _audits(session: Session, grant: Grant) -> list[str]:
    return list(session.scalars(select(AuditEntry.action).where(AuditEntry.entity_type == "grant",
                                                                 AuditEntry.entity_id == str(grant.id))
                                .order_by(AuditEntry.id)))


def _visits(session: Session, clock: FixedClock, id_number: str, phone: str, subject: str) -> dict[str, Any]:
    """A ticket, a booking and a complaint of one person."""
    ticket = queue_service.issue_ticket(session, clock=clock, actor=KIOSK, hall_code="HJ-ZWZX", category="A",
                                        id_number=id_number, phone=phone)
    booking = appointments_service.book(session, clock=clock, actor=KIOSK, hall_code="HJ-ZWZX", category="A",
                                        day=dt.date(2026, 11, 25), start="09:00", id_number=id_number, phone=phone)
    complaint = complaints_service.file_complaint(
        session, clock=clock, channel="online", data=complaints_service.ComplaintIn(
            category="suggest", subject=subject, content="建议增加周末窗口", complainant_name="市民",
            complainant_phone=phone, complainant_id_number=id_number))
    session.flush()
    return {"ticket": ticket, "booking": booking, "complaint": complaint}


# ----- the page ---------------------------------------------------------------------------------------------


def test_a_citizen_lands_on_my_area_and_sees_their_own_lists(session: Session, clock: FixedClock,
                                                              login: Callable[[str], Browser]) -> None:
    mine = _visits(session, clock, ZHANG_WEI, "13903735678", "张伟的建议")
    theirs = _visits(session, clock, WANG_FANG, "13703736789", "王芳的建议")
    zhang = login("zhangwei")
    page = zhang.client.get("/my")
    assert page.status_code == 200
    text = page.text
    assert '<a href="/my" aria-current="page">我的</a>' in text  # the menu entry
    assert f"/tickets/{mine['ticket'].token}" in text and f"/bookings/{mine['booking'].token}" in text
    assert f"/complaint/track?code={mine['complaint'].tracking_code}" in text and "张伟的建议" in text
    assert "育儿补贴" in text and "退役军人春节慰问金" in text  # the demo's offers to 张伟
    assert "无犯罪记录证明出具" in text and "/my/cases/" in text  # his demo cases
    assert "/rating" in text  # the ratings he gave
    # nothing of 王芳's
    assert f"/tickets/{theirs['ticket'].token}" not in text and f"/bookings/{theirs['booking'].token}" not in text
    assert theirs["complaint"].tracking_code not in text and "王芳的建议" not in text
    assert ZHANG_WEI not in text and "13903735678" not in text  # personal numbers stay masked
    wang = login("wangfang").client.get("/my").text
    assert f"/tickets/{theirs['ticket'].token}" in wang and "王芳的建议" in wang
    assert f"/tickets/{mine['ticket'].token}" not in wang and "退役军人春节慰问金" not in wang


def test_after_signing_in_a_citizen_starts_from_my_area(client: Any) -> None:
    import re

    form = client.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert token is not None
    r = client.post("/login", data={"username": "zhangwei", "password": "Demo@2026", "csrf_token": token[1]},
                    follow_redirects=False)
    assert r.status_code in (302, 303) and r.headers["location"] == "/my"


def test_only_citizens_open_my_area(client: Any, login: Callable[[str], Browser]) -> None:
    assert login("clerk").client.get("/my").status_code == 403
    assert login("agent").client.get("/my").status_code == 403
    anonymous = client.get("/my", headers={"Accept": "text/html"}, follow_redirects=False)
    assert anonymous.status_code in (303, 401)


@contextmanager
def _counting(session: Session) -> Iterator[list[str]]:
    statements: list[str] = []
    engine = session.get_bind()

    def _count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", _count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", _count)


def test_each_list_is_one_bounded_query_whatever_its_length(session: Session, clock: FixedClock) -> None:
    zhang = _user(session, "zhangwei")
    _visits(session, clock, ZHANG_WEI, "13903735678", "第一条")
    session.expire_all()
    with _counting(session) as few:
        my_service.my_area(session, zhang, dt.date(2026, 11, 23))
    for i in range(my_service.LIST_LIMIT + 3):
        queue_service.issue_ticket(session, clock=clock, actor=KIOSK, hall_code="HJ-ZWZX", category="B",
                                   id_number=ZHANG_WEI, phone="13903735678")
        complaints_service.file_complaint(session, clock=clock, channel="online", data=complaints_service.ComplaintIn(
            category="suggest", subject=f"建议{i}", content="内容", complainant_name="张伟",
            complainant_phone="13903735678", complainant_id_number=ZHANG_WEI))
    session.flush()
    session.expire_all()
    with _counting(session) as many:
        area = my_service.my_area(session, zhang, dt.date(2026, 11, 23))
    assert len(area.tickets) == len(area.complaints) == my_service.LIST_LIMIT  # bounded
    assert area.tickets[0].title.startswith("B")  # newest first
    assert len(many) == len(few) <= 12


# ----- one-click 免申即享 ---------------------------------------------------------------------------------------


def test_a_citizen_confirms_an_offer_with_one_click_and_a_double_click_changes_nothing(
        session: Session, login: Callable[[str], Browser]) -> None:
    veterans, childcare = sorted(_grants(session, ZHANG_WEI), key=lambda g: g.policy.code)[::-1][:2]
    zhang = login("zhangwei")
    r = zhang.post(f"/my/grants/{childcare.id}/confirm")
    assert r.status_code == 303 and r.headers["location"] == "/my?notice=confirmed#offers"
    session.refresh(childcare)
    assert childcare.status == "confirmed" and childcare.confirmed_by == "zhangwei"  # the citizen, not a clerk
    again = zhang.post(f"/my/grants/{childcare.id}/confirm")  # the second click of a double click
    assert again.status_code == 303 and again.headers["location"] == "/my?notice=unchanged#offers"
    assert _audits(session, childcare).count("policies.grant_confirmed") == 1
    page = zhang.client.get("/my?notice=confirmed").text
    assert "已确认申领" in page and f"/my/grants/{childcare.id}/confirm" not in page
    # decline the other; then confirming it is an illegal move (409), and nothing changes
    assert zhang.post(f"/my/grants/{veterans.id}/decline").headers["location"] == "/my?notice=declined#offers"
    session.refresh(veterans)
    assert veterans.status == "declined" and veterans.note == "本人网上放弃"
    illegal = zhang.post(f"/my/grants/{veterans.id}/confirm")
    assert illegal.status_code == 409 and "不能改为" in illegal.text
    session.refresh(veterans)
    assert veterans.status == "declined"


def test_another_persons_grant_is_not_found_and_bad_posts_are_refused(
        session: Session, login: Callable[[str], Browser]) -> None:
    theirs = _grants(session, WANG_FANG)[0]
    zhang = login("zhangwei")
    assert zhang.post(f"/my/grants/{theirs.id}/confirm").status_code == 404
    assert zhang.post("/my/grants/999999/confirm").status_code == 404
    mine = _grants(session, ZHANG_WEI)[0]
    assert zhang.post(f"/my/grants/{mine.id}/approve").status_code == 404  # only confirm and decline
    assert zhang.post(f"/my/grants/{mine.id}/confirm", csrf=False).status_code == 403  # CSRF
    assert login("clerk").post(f"/my/grants/{mine.id}/confirm").status_code == 403  # the window has its own page
    session.refresh(theirs)
    session.refresh(mine)
    assert theirs.status == mine.status == "pending"


def test_the_api_lets_a_citizen_answer_their_own_offers_only(session: Session,
                                                              token_for: Callable[[str], dict[str, str]],
                                                              client: Any) -> None:
    childcare = next(g for g in _grants(session, ZHANG_WEI) if g.policy.code == "ZC-GR-04")
    veterans = next(g for g in _grants(session, ZHANG_WEI) if g.policy.code == "ZC-GR-07")
    theirs = _grants(session, WANG_FANG)[0]
    zhang = token_for("zhangwei")
    r = client.post(f"/api/v1/grants/{childcare.id}/confirm", headers=zhang)
    assert r.status_code == 200 and r.json()["status"] == "confirmed"
    assert ZHANG_WEI not in r.text  # masked in the answer too
    assert client.post(f"/api/v1/grants/{childcare.id}/confirm", headers=zhang).json()["status"] == "confirmed"
    assert _audits(session, childcare).count("policies.grant_confirmed") == 1
    r = client.post(f"/api/v1/grants/{veterans.id}/decline", headers=zhang, json={"reason": "已在原单位领取"})
    assert r.status_code == 200 and r.json()["note"] == "已在原单位领取"
    assert client.post(f"/api/v1/grants/{veterans.id}/confirm", headers=zhang).status_code == 409
    assert client.post(f"/api/v1/grants/{theirs.id}/confirm", headers=zhang).status_code == 404
    assert client.post(f"/api/v1/grants/{theirs.id}/decline", headers=zhang, json={}).status_code == 404
    assert client.post(f"/api/v1/grants/{childcare.id}/approve", headers=zhang).status_code == 403


# ----- 免申即享 of an enterprise the citizen represents -----------------------------------------------------------


def test_the_legal_representative_sees_and_answers_the_enterprises_offers(
        session: Session, login: Callable[[str], Browser]) -> None:
    offers = _grants(session, FENGYUAN)  # the demo register's 小微企业 offers to 丰源商贸 (张伟 is its 法定代表人)
    assert len(offers) >= 2 and all(g.status == "pending" for g in offers)
    first, second = offers[:2]
    zhang = login("zhangwei")
    page = zhang.client.get("/my").text
    assert f"为企业：{FENGYUAN_NAME}" in page and f"/my/grants/{first.id}/confirm" in page
    assert "育儿补贴" in page  # his own offers stay
    assert FENGYUAN_NAME not in login("wangfang").client.get("/my").text
    r = zhang.post(f"/my/grants/{first.id}/confirm")
    assert r.status_code == 303 and r.headers["location"] == "/my?notice=confirmed#offers"
    session.refresh(first)
    assert first.status == "confirmed" and first.confirmed_by == "zhangwei"
    assert zhang.post(f"/my/grants/{first.id}/confirm").headers["location"] == "/my?notice=unchanged#offers"
    assert _audits(session, first).count("policies.grant_confirmed") == 1
    assert zhang.post(f"/my/grants/{second.id}/decline").headers["location"] == "/my?notice=declined#offers"
    session.refresh(second)
    assert second.status == "declined" and second.note == "企业代表人网上放弃"


def test_nobody_else_answers_an_enterprises_offer(session: Session, login: Callable[[str], Browser],
                                                  token_for: Callable[[str], dict[str, str]], client: Any) -> None:
    offer = _grants(session, FENGYUAN)[0]
    assert login("wangfang").post(f"/my/grants/{offer.id}/confirm").status_code == 404
    assert login("wangfang").post(f"/my/grants/{offer.id}/decline").status_code == 404
    assert client.post(f"/api/v1/grants/{offer.id}/confirm", headers=token_for("wangfang")).status_code == 404
    session.refresh(offer)
    assert offer.status == "pending"
    r = client.post(f"/api/v1/grants/{offer.id}/confirm", headers=token_for("zhangwei"))  # the API: same rule
    assert r.status_code == 200 and r.json()["status"] == "confirmed"


def test_the_offers_take_two_queries_whatever_the_enterprises(session: Session) -> None:
    on = dt.date(2026, 11, 23)
    counts = {}
    for username in ("zhangwei", "wangfang"):  # with an enterprise's offers, and without
        session.expire_all()
        citizen = _user(session, username)
        with _counting(session) as statements:
            offers = my_service.offers_of(session, citizen, on)
            [(o.policy, o.department, o.enterprise) for o in offers]  # everything the page reads
        counts[username] = len(statements)
        assert offers
    assert counts["zhangwei"] == counts["wangfang"] == 2
    zhang = my_service.offers_of(session, _user(session, "zhangwei"), on)
    assert {o.enterprise for o in zhang} == {"", FENGYUAN_NAME}


# ----- choosing an agent and items from lists ------------------------------------------------------------------


def _agent(session: Session) -> User:
    return _user(session, "agent")


def _authorizations(session: Session, applicant_id: str) -> int:
    return session.scalar(select(func.count()).select_from(AgentAuthorization)
                          .where(AgentAuthorization.applicant_id == applicant_id)) or 0


def test_the_authorisation_form_offers_agents_and_items_from_lists(session: Session,
                                                                    login: Callable[[str], Browser]) -> None:
    zhang = login("zhangwei")
    form = zhang.client.get("/my/authorizations/new").text
    agent = _agent(session)
    assert f'name="agent_id" value="{agent.id}"' in form and "郑帮办" in form
    assert 'name="agent_username"' not in form and ">agent<" not in form  # no username to type or read
    assert f'name="scope" value="{SOCIAL_CARD}"' in form and "社会保障卡申领" in form
    assert "<legend>一件事</legend>" in form and 'data-filter-list="#scope-items"' in form
    r = zhang.post("/my/authorizations/new", [("agent_id", str(agent.id)), ("scope", SOCIAL_CARD),
                                               ("scope", "410724-GAJ-GG-001"), ("valid_from", "2026-11-23"),
                                               ("valid_until", "2027-01-31")])
    assert r.status_code == 303, r.text
    grant = session.scalars(select(AgentAuthorization).where(AgentAuthorization.applicant_id == ZHANG_WEI)
                            .order_by(AgentAuthorization.id.desc())).first()
    assert grant is not None and grant.agent_user_id == agent.id
    assert sorted(grant.scope) == sorted([SOCIAL_CARD, "410724-GAJ-GG-001"])
    assert session.scalars(select(AuditEntry.action).where(AuditEntry.entity_type == "agent_authorization",
                                                            AuditEntry.entity_id == str(grant.id))).all()
    my = zhang.client.get("/my").text
    assert "郑帮办" in my and "社会保障卡申领" in my and f"/my/authorizations/{grant.id}/revoke" in my
    assert zhang.post(f"/my/authorizations/{grant.id}/revoke").status_code == 303
    assert f"/my/authorizations/{grant.id}/revoke" not in zhang.client.get("/my").text


def test_the_server_checks_the_agent_the_items_and_the_dates(session: Session,
                                                              login: Callable[[str], Browser]) -> None:
    zhang = login("zhangwei")
    agent, clerk = _agent(session), _user(session, "clerk")
    before = _authorizations(session, ZHANG_WEI)
    good = {"agent_id": str(agent.id), "scope": SOCIAL_CARD, "valid_from": "2026-11-23", "valid_until": "2027-01-31"}
    cases = [
        ({"agent_id": "999999"}, "未找到该帮办代办员"),
        ({"agent_id": str(clerk.id)}, "未找到该帮办代办员"),  # a clerk is not an agent
        ({"agent_id": "abc"}, "未找到该帮办代办员"),
        ({"agent_id": ""}, "请选择帮办代办员"),
        ({"scope": "NO-SUCH-ITEM"}, "不存在"),
        ({"scope": ""}, "请勾选授权办理的事项"),
        ({"valid_from": "2026-11-01"}, "授权开始日期不能早于今天"),
        ({"valid_until": "2026-11-20"}, "截止日期应不早于开始日期和今天"),
        ({"valid_from": "23.11.2026"}, "请填写有效的授权开始日期"),
    ]
    for change, reason in cases:
        r = zhang.post("/my/authorizations/new", {**good, **change})
        assert r.status_code == 422, (change, r.status_code)
        assert reason in r.text, change
    assert _authorizations(session, ZHANG_WEI) == before  # nothing half-written
    assert login("agent").client.get("/my/authorizations/new").status_code == 403  # an agent cannot authorise
