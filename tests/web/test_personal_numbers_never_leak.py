"""Every role walks the pages and the API it may open: no personal number leaves the server whole unless the
access policy names the viewer (the mask is one mechanism at the edge, not something each template remembers)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.conftest import HTML, Browser

from onewindow.appointments import service as appointments_service
from onewindow.appointments.models import Booking
from onewindow.cases import service as cases
from onewindow.cases.models import Case
from onewindow.catalog.models import Department
from onewindow.certificates.models import Certificate
from onewindow.complaints import service as complaints
from onewindow.complaints.models import Complaint
from onewindow.core import access
from onewindow.core.access import Field
from onewindow.core.audit import Actor
from onewindow.core.clock import CHINA_TZ, FixedClock
from onewindow.core.ids import is_valid_id_number
from onewindow.notifications.templates import opt_out_token
from onewindow.policies.models import Entity
from onewindow.staff.models import PerformanceScore, User
from onewindow.supervision.callback_models import CallbackTask
from onewindow.supervision.models import SupervisionAlert

ROLES = ["admin", "supervisor", "clerk", "approver_scjg", "approver_wjw", "head_scjg", "agent", "experiencer",
         "zhangwei", "wangfang"]
PAGES = ["/", "/track", "/certificates/verify", "/cases", "/cases/inbox", "/cases/precheck", "/cases/intake",
         "/admin", "/admin/grants", "/admin/policies", "/entities", "/workbench", "/my/cases", "/my",
         "/my/authorizations/new",
         "/halls/HJ-ZWZX/display", "/halls/HJ-ZWZX/kiosk", "/apply", "/planning",
         "/apply/410724-SCJG-XK-005?for=enterprise", "/apply/410724-SCJG-XK-005?for=enterprise&credit_code="
         "91410724MA9KX3L2QF",  # 为企业申请 (the demo FENGYUAN, whose licence names 张伟)
         "/performance", "/performance?kind=window", "/performance?kind=department",
         "/admin/guide", "/admin/guide/evaluation.tsv",
         "/supervision/callbacks", "/supervision/experience", "/experience",
         "/supervision/alerts", "/supervision/windows",
         "/complaint", "/complaint/track", "/complaints",
         "/complaints/window", "/complaints/inbox", "/complaints/dispatch",
         "/complaints/figures?date_from=2026-01-01&date_to=2026-12-31", "/complaints/import",
         "/account", "/admin/users", "/admin/tokens",
         "/book?item=410724-SCJG-XK-001", "/items/410724-SCJG-XK-001",
         "/dashboard?date_from=2026-01-01&date_to=2026-12-31", "/dashboard/screen", "/dashboard/screen.json",
         "/open-data?date_from=2026-01-01&date_to=2026-12-31",
         "/dashboard/drilldown/cases_accepted?date_from=2026-01-01&date_to=2026-12-31",
         "/dashboard/drilldown/complaints?date_from=2026-01-01&date_to=2026-12-31",
         "/dashboard/drilldown/ratings?date_from=2026-01-01&date_to=2026-12-31",
         "/dashboard/drilldown/tickets?date_from=2026-01-01&date_to=2026-12-31",
         "/dashboard/export/clerks.csv?date_from=2026-01-01&date_to=2026-12-31",
         "/dashboard/export/items.csv?date_from=2026-01-01&date_to=2026-12-31"]
API = ["/api/v1/cases?limit=200", "/api/v1/cases/inbox", "/api/v1/cases/precheck", "/api/v1/cases/mine",
       "/api/v1/grants?limit=200", "/api/v1/agent-authorizations", "/api/v1/auth/me",
       "/api/v1/performance?month=2026-11", "/api/v1/performance?month=2026-11&kind=window",
       "/api/v1/guide/unanswered", "/api/v1/guide/mappings",
       "/api/v1/supervision/callbacks?limit=200", "/api/v1/supervision/callbacks/rates",
       "/api/v1/supervision/experience/reports", "/api/v1/supervision/experience/figures",
       "/api/v1/supervision/alerts?limit=200", "/api/v1/supervision/rules",
       "/api/v1/complaints?limit=200", "/api/v1/complaints/inbox",
       "/api/v1/complaints/figures?date_from=2026-01-01&date_to=2026-12-31", "/api/v1/complaints/recurring",
       "/api/v1/tokens", "/api/v1/tokens?all=true"]


def _personal_numbers(session: Session) -> dict[str, set[str]]:
    """Every valid 公民身份号码 and mobile number the demo county holds, by whom it belongs to (user id or '')."""
    ids: set[str] = set()
    ids |= set(session.scalars(select(Case.applicant_id)))
    ids |= {i for i in session.scalars(select(User.id_number)) if i}
    ids |= set(session.scalars(select(Certificate.holder_id)))
    ids |= set(session.scalars(select(Entity.identifier).where(Entity.kind == "person")))
    ids |= {i for i in session.scalars(select(Complaint.complainant_id_number)) if i}
    phones = {p for p in session.scalars(select(Case.applicant_phone)) if p and p.startswith("1") and len(p) == 11}
    phones |= {p for p in session.scalars(select(Complaint.complainant_phone)) if p}
    ids |= set(session.scalars(select(Booking.id_number)))
    phones |= set(session.scalars(select(Booking.phone)))
    return {"ids": {i for i in ids if is_valid_id_number(i)}, "phones": phones}


def test_no_page_or_api_answer_carries_a_whole_personal_number(login: Callable[[str], Browser],
                                                                token_for: Callable[[str], dict[str, str]],
                                                                client: TestClient, session: Session,
                                                                clock: FixedClock) -> None:
    filed = _complaints(session)
    someone_booked = sorted(i for i in session.scalars(select(Case.applicant_id)) if is_valid_id_number(i))[0]
    booked = appointments_service.book(session, clock=clock, actor=Actor(None, "applicant"), hall_code="HJ-ZWZX",
                                       category="A", day=dt.date(2026, 11, 24), start="09:00",
                                       id_number=someone_booked, phone="13903731234")
    session.flush()
    numbers = _personal_numbers(session)
    assert len(numbers["ids"]) >= 10 and numbers["phones"]  # the walk has something to find
    cases_shown = list(session.scalars(select(Case).order_by(Case.id).limit(30)))
    scores_shown = list(session.scalars(select(PerformanceScore.id).order_by(PerformanceScore.id).limit(5)))
    # a visitor types personal numbers into 智能导办: the unanswered-question desk must not show them whole
    someone = sorted(numbers["ids"])[0]
    phone = sorted(p for p in numbers["phones"] if p.startswith("1"))[0]  # free text masks mobile numbers
    client.get("/api/v1/guide/search", params={"q": f"火星移民签证 {someone} {phone}"})
    callback_pages = [f"/supervision/callbacks/{t.id}" for t in session.scalars(
        select(CallbackTask).order_by(CallbackTask.id).limit(8))]
    assert callback_pages  # the demo draws 回访 tasks from its finished cases
    alerts = [f"/supervision/alerts/{i}" for i in session.scalars(select(SupervisionAlert.id).limit(10))]
    # 三级 network 流转 pages: the cases received at a town or village point (the demo has some) and one other
    network_pages = [f"/network/cases/{c.id}" for c in cases_shown
                     if c.receiving_hall is not None and c.receiving_hall.level != "county"][:5]
    assert network_pages
    network_pages.append(f"/network/cases/{cases_shown[0].id}")
    # the public opt-out page names the number its signed link is for (masked like everywhere else)
    network_pages.append(f"/notify/opt-out/{opt_out_token(client.app.state.settings.secret_key, phone)}")
    leaks: list[str] = []
    opened = whole_shown = 0
    for username in [None, *ROLES]:
        if username is None:
            get = client.get
            headers = HTML
        else:
            browser = login(username)
            get, headers = browser.client.get, HTML
        viewer = cases.viewer(cases_user(session, username)) if username else None
        for url in (PAGES + [f"/cases/{c.id}" for c in cases_shown] + [f"/my/cases/{c.id}" for c in cases_shown[:10]]
                    + [f"/performance/scores/{i}" for i in scores_shown] + [f"/bookings/{booked.token}"]
                    + callback_pages + alerts + network_pages
                    + [f"/complaints/{c.id}" for c in filed] + [f"/complaint/track?code={c.tracking_code}"
                                                                for c in filed]):
            r = get(url, headers=headers)
            if r.status_code != 200:
                continue
            opened += 1
            allowed = _whole_for(session, viewer, url, cases_shown) | _complaint_whole_for(session, viewer, url, filed)
            whole_shown += sum(1 for n in allowed if n in r.text)
            leaks += [f"{username} {url}: {n}" for n in (numbers["ids"] | numbers["phones"]) - allowed if n in r.text]
        if username is not None:
            for url in (API + [f"/api/v1/cases/{c.id}" for c in cases_shown] + [f"/api/v1{a}" for a in alerts]
                        + [f"/api/v1/complaints/{c.id}" for c in filed]):
                r = client.get(url, headers=token_for(username))
                if r.status_code != 200:
                    continue
                opened += 1
                leaks += [f"{username} {url}: {n}" for n in numbers["ids"] | numbers["phones"] if n in r.text]
    assert opened > 200  # most pages opened for the roles that may open them
    assert leaks == []
    assert whole_shown > 0  # the handling department does see its applicants' numbers on the case page


def cases_user(session: Session, username: str) -> User:
    return session.scalars(select(User).where(User.username == username)).one()


def _whole_for(session: Session, viewer: access.Viewer | None, url: str, shown: list[Case]) -> set[str]:
    """The numbers the access policy lets this viewer see whole on this page: on a staff case page, the case's
    applicant's ID number and phone when the viewer handles it (or is the applicant)."""
    case = next((c for c in shown if url == f"/cases/{c.id}"), None)
    if viewer is not None and url.startswith("/supervision/callbacks/"):  # a 回访 task: the case's department
        task = session.get(CallbackTask, int(url.rsplit("/", 1)[1]))
        if task is not None and task.case.applicant_phone and access.sees_whole(
                viewer, Field.PHONE, access.Record(department=task.department_id)):
            return {task.case.applicant_phone}
        return set()
    if viewer is None or case is None:
        return set()
    record = cases.record_of(session, case)
    out: set[str] = set()
    if access.sees_whole(viewer, Field.ID_NUMBER, record):
        out.add(case.applicant_id)
    if case.applicant_phone and access.sees_whole(viewer, Field.PHONE, record):
        out.add(case.applicant_phone)
    return out


def _complaints(session: Session) -> list[Complaint]:
    """Two complaints with a phone and an ID number: one at the center, one dispatched to 市场监管 (SCJG)."""
    clock = FixedClock(dt.datetime(2026, 11, 23, 10, tzinfo=CHINA_TZ))
    clerk, admin = cases_user(session, "clerk"), cases_user(session, "admin")
    out = []
    for i, (phone, id_number) in enumerate((("13655550001", "11010519491231002X"),
                                             ("13655550002", "410724198503120015"))):
        c = complaints.file_complaint(session, clock=clock, user=clerk, channel="window", data=complaints.ComplaintIn(
            category="complain", subject=f"投诉{i}：联系电话 {phone}", content=f"身份证 {id_number}，电话 {phone}",
            complainant_name="孙投诉", complainant_phone=phone, complainant_id_number=id_number))
        out.append(c)
    scjg = session.scalars(select(Department).where(Department.code == "SCJG")).one()
    complaints.dispatch(session, clock=clock, user=admin, complaint_id=out[1].id, expected_version=out[1].version,
                        lead_department_id=scjg.id)
    session.flush()
    return out


def _complaint_whole_for(session: Session, viewer: access.Viewer | None, url: str,
                         filed: list[Complaint]) -> set[str]:
    """On a staff complaint page, the citizen's numbers when the viewer's department handles the order."""
    c = next((c for c in filed if url == f"/complaints/{c.id}"), None)
    if viewer is None or c is None:
        return set()
    record = complaints.record_of(session, c)
    out: set[str] = set()
    if c.complainant_id_number and access.sees_whole(viewer, Field.ID_NUMBER, record):
        out.add(c.complainant_id_number)
    if c.complainant_phone and access.sees_whole(viewer, Field.PHONE, record):
        out.add(c.complainant_phone)
    return out
