"""Queue pages through HTTP: kiosk, slip, my ticket, hall display, live events, clerk workbench, roles, CSRF."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from onewindow.core.audit import Actor
from onewindow.core.clock import FixedClock
from onewindow.queue import events
from onewindow.queue import service as queue_service
from onewindow.queue.models import Ticket
from onewindow.queue.views import event_stream, minutes_text, sse_message
from onewindow.staff.models import User
from tests.browser_wait import run_coroutine
from tests.conftest import HTML, Browser
from tests.factories import person_id

HALL = "HJ-ZWZX"
HX = {"HX-Request": "true"}
ID_NUMBER = person_id("11010519491231002")  # ends in X
PHONE = "13912345678"
SCJG_ITEM = "410724-SCJG-XK-001"  # 个体工商户设立登记


def _csrf_field(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "form without a CSRF token"
    return match[1]


@pytest.fixture
def visitor(app: FastAPI) -> Iterator[Browser]:
    """An anonymous kiosk browser holding the pre-login CSRF cookie."""
    with TestClient(app, headers=HTML) as c:
        page = c.get(f"/halls/{HALL}/kiosk")
        yield Browser(c, _csrf_field(page.text))




def _take(visitor: Browser, **fields: str) -> tuple[str, httpx.Response]:
    r = visitor.post(f"/halls/{HALL}/kiosk", fields)
    assert r.status_code == 303, r.text
    location = r.headers["location"]
    match = re.fullmatch(r"/tickets/([\w-]+)/slip", location)
    assert match, location
    return match[1], visitor.client.get(location)


# ----- kiosk, slip, my ticket ---------------------------------------------------------------------------


def test_kiosk_shows_a_big_button_per_category_with_waiting_counts(visitor: Browser) -> None:
    page = visitor.client.get(f"/halls/{HALL}/kiosk")
    assert page.status_code == 200
    assert "自助取号" in page.text
    buttons = re.findall(r'name="category" value="([A-Z])"', page.text)
    assert "A" in buttons and len(buttons) >= 4
    assert "当前等候" in page.text


def test_kiosk_item_search_answers_a_fragment_for_htmx(visitor: Browser) -> None:
    r = visitor.client.get(f"/halls/{HALL}/kiosk", params={"q": "个体工商户"}, headers=HX)
    assert r.status_code == 200
    assert "<html" not in r.text
    assert f'value="{SCJG_ITEM}"' in r.text


def test_ticket_by_category_gives_a_slip_with_qr_linking_to_my_ticket(visitor: Browser) -> None:
    token, slip = _take(visitor, category="A")
    assert slip.status_code == 200
    assert re.search(r'data-ticket-number>A\d{3}<', slip.text)
    assert "<svg" in slip.text and 'class="qr"' in slip.text
    assert "前面等候" in slip.text
    assert f"/tickets/{token}" in slip.text


def test_ticket_by_item_takes_the_items_category(visitor: Browser, session: Session) -> None:
    token, slip = _take(visitor, item=SCJG_ITEM)
    ticket = session.scalars(select(Ticket).where(Ticket.token == token)).one()
    assert ticket.item_code == SCJG_ITEM
    assert ticket.number.startswith(ticket.category.code)
    assert "个体工商户设立登记" in slip.text


def test_kiosk_refuses_a_post_without_csrf_and_issues_nothing(visitor: Browser, session: Session) -> None:
    before = len(session.scalars(select(Ticket.id)).all())
    r = visitor.post(f"/halls/{HALL}/kiosk", {"category": "A"}, csrf=False)
    assert r.status_code == 403
    forged = visitor.post(f"/halls/{HALL}/kiosk", {"category": "A", "csrf_token": "forged"}, csrf=False)
    assert forged.status_code == 403
    assert len(session.scalars(select(Ticket.id)).all()) == before


def test_kiosk_shows_a_chinese_reason_for_a_bad_id_number(visitor: Browser) -> None:
    r = visitor.post(f"/halls/{HALL}/kiosk", {"category": "A", "id_number": "110105194912310021"})
    assert r.status_code == 422
    assert 'role="alert"' in r.text and "身份" in r.text


def test_my_ticket_shows_position_and_estimate_and_no_personal_data(visitor: Browser) -> None:
    token, _slip = _take(visitor, category="B", id_number=ID_NUMBER, phone=PHONE)
    page = visitor.client.get(f"/tickets/{token}")
    assert page.status_code == 200
    assert "前面等候" in page.text and "预计等候" in page.text
    assert 'hx-trigger="every 10s"' in page.text
    for secret in (ID_NUMBER, PHONE, "1101051949", "1391234", "****5678", "002X"):
        assert secret not in page.text
    fragment = visitor.client.get(f"/tickets/{token}", headers=HX)
    assert "<html" not in fragment.text and 'id="ticket-status"' in fragment.text


def test_unknown_ticket_token_is_404(visitor: Browser) -> None:
    assert visitor.client.get("/tickets/not-a-token").status_code == 404


# ----- hall display and live events ---------------------------------------------------------------------


def test_display_renders_the_board_and_its_fragment(client: TestClient) -> None:
    page = client.get(f"/halls/{HALL}/display", headers=HTML)
    assert page.status_code == 200
    for text in ("正在叫号", "最近叫号", "各类业务等候人数", "今日平均等候", "语音播报"):
        assert text in page.text
    assert f'data-events-url="/halls/{HALL}/events"' in page.text
    assert "/static/queue.js" in page.text
    fragment = client.get(f"/halls/{HALL}/display", headers={**HTML, **HX})
    assert "<html" not in fragment.text and "最近叫号" in fragment.text
    # the demo morning: the clerk at window 1 called tickets, so the board names window 1
    assert "1号窗口" in page.text


def test_display_of_an_unknown_hall_is_404(client: TestClient) -> None:
    assert client.get("/halls/NOPE/display", headers=HTML).status_code == 404
    assert client.get("/halls/NOPE/events").status_code == 404


def test_event_stream_sends_published_events_and_keep_alives() -> None:
    async def scenario() -> list[str]:
        stream = event_stream("TEST-HALL", heartbeat=0.05, lifetime=0.5)
        chunks = [await anext(stream)]  # subscribed once the first chunk is out
        events.publish("TEST-HALL", {"type": "ticket.called", "announcement": "请A001号到3号窗口办理"})
        events.publish("OTHER-HALL", {"type": "ticket.called", "announcement": "别的大厅"})
        chunks.append(await anext(stream))
        chunks.append(await anext(stream))  # nothing more: a keep-alive comment
        await stream.aclose()  # the client went away
        return chunks

    chunks = run_coroutine(scenario())
    assert chunks[0].startswith("retry: ")
    assert chunks[1] == sse_message({"type": "ticket.called", "announcement": "请A001号到3号窗口办理"})
    assert chunks[1].startswith("event: queue\ndata: {") and "请A001号到3号窗口办理" in chunks[1]
    assert chunks[2] == ": keep-alive\n\n"
    assert events.subscriber_count("TEST-HALL") == 0  # unsubscribed on disconnect


def test_event_stream_ends_after_its_lifetime() -> None:
    async def scenario() -> list[str]:
        return [chunk async for chunk in event_stream("TEST-HALL", heartbeat=0.02, lifetime=0.05)]

    chunks = run_coroutine(scenario())
    assert chunks[0].startswith("retry: ") and len(chunks) >= 2
    assert events.subscriber_count("TEST-HALL") == 0


def test_minutes_text_for_people() -> None:
    assert minutes_text(None) == "—"
    assert minutes_text(0.4) == "不到1分钟"
    assert minutes_text(12.6) == "约13分钟"


# ----- workbench ----------------------------------------------------------------------------------------


def test_workbench_sends_anonymous_visitors_to_login(client: TestClient) -> None:
    r = client.get("/workbench", headers=HTML, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


@pytest.mark.parametrize("username", ["approver_scjg", "supervisor"])
def test_workbench_is_403_for_roles_that_do_not_sit_at_windows(login: Callable[[str], Browser],
                                                               username: str) -> None:
    b = login(username)
    assert b.client.get("/workbench").status_code == 403
    assert b.post("/workbench/call-next").status_code == 403


def test_workbench_shows_the_clerks_window_and_the_masked_applicant(login: Callable[[str], Browser],
                                                                     session: Session, clock: FixedClock) -> None:
    clerk = session.scalars(select(User).where(User.username == "clerk")).one()
    window = queue_service.window_of_clerk(session, clerk.id)
    assert window is not None  # the demo signs the clerk in at window 1, serving a ticket
    ticket = queue_service.current_ticket(session, window.id)
    assert ticket is not None
    ticket.id_number, ticket.phone = ID_NUMBER, PHONE
    session.flush()
    page = login("clerk").client.get("/workbench")
    assert page.status_code == 200
    assert f"{window.number}号窗口" in page.text and ticket.number in page.text
    assert "110105********002X" in page.text and "139****5678" in page.text
    assert ID_NUMBER not in page.text and PHONE not in page.text


def test_clerk_calls_serves_and_finishes_a_kiosk_ticket(login: Callable[[str], Browser], visitor: Browser,
                                                        session: Session) -> None:
    b = login("clerk")
    # finish what the demo left at the window, so the window is free
    assert b.post("/workbench/finish", headers=HX).status_code == 200
    token, _slip = _take(visitor, category="A")
    mine = session.scalars(select(Ticket).where(Ticket.token == token)).one()
    called: list[str] = []
    for _ in range(40):  # the hall's policy decides the order; call until the kiosk ticket comes up
        r = b.post("/workbench/call-next", headers=HX)
        assert r.status_code == 200 and "<html" not in r.text
        number = re.search(r"data-ticket-number>([A-Z]\d{3})<", r.text)
        assert number, r.text
        called.append(number[1])
        if number[1] == mine.number:
            break
        assert b.post("/workbench/start", headers=HX).status_code == 200
        assert b.post("/workbench/finish", headers=HX).status_code == 200
    assert called[-1] == mine.number
    assert f"请{mine.number}号到1号窗口办理" in r.text
    r = b.post("/workbench/recall", headers=HX)
    assert "已重呼" in r.text
    r = b.post("/workbench/start", {"ticket_id": str(mine.id)}, headers=HX)
    assert "开始办理" in r.text and "办结" in r.text
    r = b.post("/workbench/finish", {"ticket_id": str(mine.id)}, headers=HX)
    assert f"{mine.number}号已办结" in r.text
    session.refresh(mine)
    assert mine.state == "done"
    display = visitor.client.get(f"/halls/{HALL}/display")
    assert mine.number in display.text


def test_workbench_miss_transfer_pause_and_resume(login: Callable[[str], Browser], session: Session,
                                                   clock: FixedClock) -> None:
    b = login("clerk")
    b.post("/workbench/finish", headers=HX)
    r = b.post("/workbench/call-next", headers=HX)
    first = re.search(r"data-ticket-number>([A-Z]\d{3})<", r.text)
    assert first
    r = b.post("/workbench/miss", headers=HX)
    assert f"{first[1]}号已过号" in r.text
    r = b.post("/workbench/call-next", headers=HX)
    second = re.search(r"data-ticket-number>([A-Z]\d{3})<", r.text)
    assert second
    target = "H" if not second[1].startswith("H") else "G"
    r = b.post("/workbench/transfer", {"category": target}, headers=HX)
    assert "已转到" in r.text
    moved = session.scalars(select(Ticket).where(Ticket.number == second[1], Ticket.day == clock.now().date())).one()
    assert moved.category.code == target and moved.state == "transferred"
    r = b.post("/workbench/pause", headers=HX)
    assert "已暂停服务" in r.text and "恢复服务" in r.text
    r = b.post("/workbench/call-next", headers=HX)
    assert 'role="alert"' in r.text and "暂停" in r.text  # a paused window calls no one
    r = b.post("/workbench/resume", headers=HX)
    assert "已恢复服务" in r.text and "叫下一位" in r.text


def test_workbench_sign_out_and_sign_in_again(login: Callable[[str], Browser]) -> None:
    b = login("clerk")
    b.post("/workbench/finish", headers=HX)
    r = b.post("/workbench/sign-out", headers=HX)
    assert "签退" in r.text and 'name="window_id"' in r.text
    window_id = re.search(r'<option value="(\d+)">', r.text)
    assert window_id
    r = b.post("/workbench/sign-in", {"window_id": window_id[1]}, headers=HX)
    assert "已在" in r.text and "叫下一位" in r.text


def test_workbench_post_without_csrf_is_403_and_changes_nothing(login: Callable[[str], Browser],
                                                                 session: Session) -> None:
    b = login("clerk")
    clerk = session.scalars(select(User).where(User.username == "clerk")).one()
    window = queue_service.window_of_clerk(session, clerk.id)
    assert window is not None
    ticket = queue_service.current_ticket(session, window.id)
    assert ticket is not None
    assert b.post("/workbench/finish", csrf=False).status_code == 403
    assert b.post("/workbench/finish", {"csrf_token": "forged"}, csrf=False).status_code == 403
    session.refresh(ticket)
    assert ticket.state == "serving"


def test_workbench_without_js_renders_the_full_page_with_the_error_status(login: Callable[[str], Browser]) -> None:
    b = login("clerk")
    r = b.post("/workbench/call-next")  # the demo ticket is still being served at the window
    assert r.status_code == 409
    assert "<html" in r.text and "尚未办结" in r.text


def test_workbench_overview_fragment_counts_waiting_tickets(login: Callable[[str], Browser], session: Session,
                                                            clock: FixedClock) -> None:
    b = login("clerk")
    before = re.search(r"data-waiting-total>(\d+)<", b.client.get("/workbench/overview").text)
    assert before
    queue_service.issue_ticket(session, clock=clock, actor=Actor(None, "kiosk"), hall_code=HALL, category="C")
    session.flush()
    after = re.search(r"data-waiting-total>(\d+)<", b.client.get("/workbench/overview").text)
    assert after and int(after[1]) == int(before[1]) + 1


def test_town_kiosk_offers_only_the_categories_its_windows_serve(client: TestClient) -> None:
    page = client.get("/halls/HJ-CGZ/kiosk", headers=HTML)
    assert page.status_code == 200
    assert re.findall(r'name="category" value="([A-Z])"', page.text) == ["A", "D", "E", "F"]


def test_sign_in_list_marks_windows_another_clerk_holds(login: Callable[[str], Browser]) -> None:
    b = login("clerk")
    b.post("/workbench/finish", headers=HX)
    r = b.post("/workbench/sign-out", headers=HX)
    held = re.search(r'<option value="\d+" disabled>24号窗口[^<]*已签到</option>', r.text)
    assert held, r.text  # the demo agent sits at window 24
    r = b.post("/workbench/call-next", headers=HX)
    assert "请先签到窗口" in r.text
