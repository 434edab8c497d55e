"""Rating over HTTP: the /r/ link page, the evaluator, staff /ratings and the API (422, 403, 404, 409)."""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from onewindow.config import Settings
from onewindow.core.clock import FixedClock
from onewindow.queue.models import Ticket
from onewindow.ratings import links, service
from onewindow.ratings.links import evaluator_path
from tests.conftest import Browser
from tests.factories import make_case, make_person
from tests.ratings.conftest import serve_ticket

HTML = {"Accept": "text/html"}


def _served(session: Session, clock: FixedClock) -> Ticket:
    return serve_ticket(session, clock)  # on the app's clock (the demo day), so the rating window is open


def _anonymous(app: FastAPI) -> tuple[TestClient, str]:
    c = TestClient(app, headers=HTML)
    token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text)
    assert token
    return c, token[1]


def test_the_link_page_rates_a_visit_then_shows_the_rating(app: FastAPI, session: Session, clock: FixedClock) -> None:
    settings: Settings = app.state.settings
    ticket = _served(session, clock)
    url = f"/r/{links.make_token(settings.secret_key, links.Subject.TICKET, ticket.id)}"
    c, csrf = _anonymous(app)
    page = c.get(url)
    assert page.status_code == 200 and "服务水平" in page.text and ticket.number in page.text
    assert 'name="viewport"' in page.text
    r = c.post(url, data={"csrf_token": csrf, "level": "very_unsatisfied"})
    assert r.status_code == 422 and "差评请至少选择一项原因" in r.text
    assert service.rating_for_ticket(session, ticket.id) is None
    r = c.post(url, data={"csrf_token": csrf, "level": "very_unsatisfied", "reasons": "long_wait"})
    assert r.status_code == 200 and "谢谢您的评价" in r.text
    rating = service.rating_for_ticket(session, ticket.id)
    assert rating is not None and (rating.channel, rating.reasons) == ("qr", ["long_wait"])
    again = c.get(url)
    assert "已评价" in again.text and "非常不满意" in again.text and "提交评价" not in again.text


def test_a_forged_link_is_a_chinese_404(client: TestClient) -> None:
    r = client.get("/r/c1-AAAAAAAAAAAA", headers=HTML)
    assert r.status_code == 404 and "评价链接" in r.text


def test_the_evaluator_offers_the_visit_just_finished_at_its_window(app: FastAPI, session: Session,
                                                                    clock: FixedClock) -> None:
    ticket = _served(session, clock)
    assert ticket.window_id is not None
    c, csrf = _anonymous(app)
    here = evaluator_path(app.state.settings.secret_key, ticket.window_id)
    for wrong in (f"/windows/{ticket.window_id}/evaluator", f"{here[:-2]}xx",
                  evaluator_path(app.state.settings.secret_key, ticket.window_id + 1)):
        refused = c.get(wrong.replace(f"/windows/{ticket.window_id + 1}/", f"/windows/{ticket.window_id}/"))
        assert refused.status_code == 404 and ticket.token not in refused.text  # only the window's own device
    assert c.post(f"/windows/{ticket.window_id}/evaluator",
                  data={"csrf_token": csrf, "ticket": ticket.token, "level": "satisfied"}).status_code == 404
    page = c.get(here)
    assert page.status_code == 200 and "请您对本次服务进行评价" in page.text
    assert f'value="{ticket.token}"' in page.text and f'value="{ticket.id}"' not in page.text
    r = c.post(here, data={"csrf_token": csrf, "ticket": ticket.token, "level": "satisfied"})
    assert r.status_code == 200 and "谢谢您的评价" in r.text
    rating = service.rating_for_ticket(session, ticket.id)
    assert rating is not None and rating.channel == "evaluator"
    assert "欢迎办事" in c.get(here).text  # back to idle


def test_staff_ratings_page_is_scoped_and_refused_to_other_roles(app: FastAPI, session: Session, clock: FixedClock,
                                                                  login: Callable[[str], Browser]) -> None:
    ticket = _served(session, clock)
    service.rate_ticket(session, clock=clock, settings=app.state.settings, ticket_id=ticket.id, channel="evaluator",
                        level="unsatisfied", scores=None, reasons=["attitude"])
    clerk = login("clerk").client.get("/ratings")
    assert clerk.status_code == 200 and f"号票 {ticket.number}" in clerk.text and "态度不好" in clerk.text
    assert "data-figures" not in clerk.text  # figures are for the center and department heads
    admin = login("admin").client.get("/ratings?by=window")
    assert admin.status_code == 200 and "data-figures" in admin.text and "1号窗口" in admin.text
    assert '<select name="clerk">' in admin.text and "李综窗" in admin.text
    assert login("approver_scjg").client.get("/ratings").status_code == 403


def test_api_rates_a_visit_by_token_once(client: TestClient, session: Session, clock: FixedClock,
                                         token_for: Callable[[str], dict[str, str]]) -> None:
    ticket = _served(session, clock)
    url = f"/api/v1/ratings/tickets/{ticket.token}"
    r = client.post(url, json={"level": "satisfied", "scores": {"overall": "satisfied"}, "channel": "evaluator"})
    assert r.status_code == 422
    assert ("scores.efficiency", "missing_dimension") in [(e["field"], e["code"]) for e in r.json()["errors"]]
    r = client.post(url, json={"level": "very_satisfied", "channel": "evaluator"})
    assert r.status_code == 201, r.text
    assert r.json()["level_label"] == "非常满意"
    r = client.post(url, json={"level": "satisfied"})
    assert r.status_code == 409 and r.json()["errors"][0]["code"] == "already_rated"
    assert client.post("/api/v1/ratings/tickets/nope", json={"level": "satisfied"}).status_code == 404
    listed = client.get("/api/v1/ratings", headers=token_for("clerk")).json()
    assert ticket.id in [i["ticket_id"] for i in listed["items"]]
    assert client.get("/api/v1/ratings", headers=token_for("experiencer")).status_code == 403
    figures = client.get("/api/v1/ratings/figures?by=clerk", headers=token_for("supervisor")).json()
    assert any(g["good_rate"]["numerator"] >= 1 for g in figures["groups"])


def test_api_rates_an_own_case_and_refuses_anothers(client: TestClient, session: Session, clock: FixedClock) -> None:
    person = make_person(session, clock)
    mine = make_case(session, clock, state="approved", applicant=person)
    theirs = make_case(session, clock, state="approved")
    assert person.user is not None
    r = client.post("/api/v1/auth/token", json={"username": person.user.username, "password": "Demo@2026"})
    headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
    assert client.post(f"/api/v1/ratings/cases/{theirs.id}", headers=headers,
                       json={"level": "satisfied"}).status_code == 403
    assert client.post(f"/api/v1/ratings/cases/{mine.id}", json={"level": "satisfied"}).status_code == 401
    r = client.post(f"/api/v1/ratings/cases/{mine.id}", headers=headers, json={"level": "satisfied"})
    assert r.status_code == 201 and r.json()["channel"] == "online"
    assert client.post(f"/api/v1/ratings/cases/{mine.id}", headers=headers,
                       json={"level": "satisfied"}).status_code == 409


def test_my_ticket_offers_rating_once_served_and_shows_it_once_given(app: FastAPI, session: Session,
                                                                     clock: FixedClock) -> None:
    ticket = _served(session, clock)
    c, _csrf = _anonymous(app)
    page = c.get(f"/tickets/{ticket.token}")
    assert "评价本次服务" in page.text and "/r/t" in page.text
    slip = c.get(f"/tickets/{ticket.token}/slip")
    assert 'class="rate-qr"' in slip.text and slip.text.count('class="qr"') == 1
    service.rate_ticket(session, clock=clock, settings=app.state.settings, ticket_id=ticket.id, channel="qr",
                        level="satisfied", scores=None)
    page = c.get(f"/tickets/{ticket.token}")
    assert "我的评价" in page.text and "评价本次服务" not in page.text


def test_my_cases_offer_rating_of_finished_cases_and_the_case_pages_show_it(
        app: FastAPI, session: Session, clock: FixedClock, login: Callable[[str], Browser]) -> None:
    person = make_person(session, clock)
    case = make_case(session, clock, state="delivered", applicant=person)
    assert person.user is not None
    me = login(person.user.username)
    listing = me.client.get("/my/cases")
    assert f'href="/my/cases/{case.id}/rating"' in listing.text
    assert "data-rate-case" in me.client.get(f"/my/cases/{case.id}").text
    form = me.client.get(f"/my/cases/{case.id}/rating")
    assert form.status_code == 200 and "办事指南精确度" in form.text
    r = me.post(f"/my/cases/{case.id}/rating", {"level": "satisfied", "score_usability": "basic"})
    assert r.status_code == 200 and "谢谢您的评价" in r.text
    rating = service.rating_for_case(session, case.id)
    assert rating is not None and rating.scores["usability"] == "basic" and rating.scores["overall"] == "satisfied"
    assert "已评价" in me.client.get("/my/cases").text
    staff_page = login("clerk").client.get(f"/cases/{case.id}")
    assert "服务评价（好差评）" in staff_page.text and "满意" in staff_page.text
