"""Each hall offers the items its level may handle (catalog 可办层级) and keeps its own hours: a village point
refuses a county item unless the clerk takes it in as 代收代办 (recorded on the case), the county center refuses
a village item, the intake search lists what the hall offers, bookings and the kiosk keep to the hall's hours.
Every refusal writes nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onewindow.appointments import service as appointments
from onewindow.appointments.models import Booking, SlotTemplate
from onewindow.cases import service as cases_service
from onewindow.cases.models import Case
from onewindow.catalog import rules
from onewindow.catalog import service as catalog_service
from onewindow.core.audit import Actor
from onewindow.core.clock import CHINA_TZ, FixedClock
from onewindow.core.errors import NotFound, ValidationFailed
from onewindow.queue.models import Ticket
from tests.conftest import Browser
from tests.factories import CLAIM, ZHANG, handed_in, person_id, staff, window

VILLAGE = "HJ-XGC"  # 西关村便民服务站: clerk_village's point, 8:30-11:30 only
VILLAGE_ITEM = "410724-YBJ-GG-001"  # 城乡居民基本医疗保险参保登记: county, town and village
HOMESTEAD = "410724-NYJ-XK-001"  # 农村村民宅基地审批: town and village only
TUESDAY = dt.date(2026, 11, 24)  # the clock stands at Monday 2026-11-23 10:00
APPLICANT = Actor(None, "applicant")


def _cases(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Case)) or 0


def test_the_level_rule() -> None:
    assert rules.intake_level_problem(hall_name="村", hall_level="village", item_name="x",
                                      levels=["county", "town", "village"], proxy=False) is None
    needs = rules.intake_level_problem(hall_name="西关村便民服务站", hall_level="village", item_name="零星报销",
                                       levels=["county"], proxy=False)
    assert needs is not None and needs.code == "proxy_required" and "代收代办" in needs.message
    assert rules.intake_level_problem(hall_name="村", hall_level="village", item_name="x", levels=["county"],
                                      proxy=True) is None
    county = rules.intake_level_problem(hall_name="县中心", hall_level="county", item_name="宅基地",
                                        levels=["town", "village"], proxy=True)  # no 代收代办 downwards
    assert county is not None and county.code == "wrong_level" and "乡镇、村" in county.message
    assert not rules.proxy_possible("county", ["town"]) and rules.proxy_possible("town", ["county"])


def test_a_village_point_refuses_a_county_item_unless_received_as_proxy(session: Session, clock: FixedClock) -> None:
    clerk = staff(session, "clerk_village")
    before = _cases(session)
    with pytest.raises(ValidationFailed) as refused, session.begin_nested():
        window(session, clerk, ZHANG, CLAIM, handed_in(session, CLAIM), clock=clock)
    problem = refused.value.problems[0]
    assert refused.value.status == 422 and problem.field == "proxy" and "西关村便民服务站" in problem.message
    assert _cases(session) == before

    case = window(session, clerk, ZHANG, CLAIM, handed_in(session, CLAIM), clock=clock, proxy=True)
    assert case.state == "accepted" and case.proxy
    assert case.receiving_hall is not None and case.receiving_hall.code == VILLAGE
    assert cases_service.visit_count(session, case) == 1  # the visit at the village counts

    own = window(session, clerk, ZHANG, VILLAGE_ITEM, handed_in(session, VILLAGE_ITEM), clock=clock)
    assert not own.proxy  # a village item at the village: received and not 代收代办


def test_the_county_center_refuses_an_item_of_the_town_and_village_level(session: Session,
                                                                         clock: FixedClock) -> None:
    before = _cases(session)
    with pytest.raises(ValidationFailed) as refused, session.begin_nested():
        window(session, staff(session, "clerk"), ZHANG, HOMESTEAD, handed_in(session, HOMESTEAD), clock=clock,
               proxy=True)
    assert refused.value.problems[0].code == "wrong_level" and "获嘉县政务服务中心" in refused.value.problems[0].message
    assert _cases(session) == before


def test_the_intake_page_lists_what_the_hall_offers_and_asks_for_proxy(
        session: Session, login: Callable[[str], Browser]) -> None:
    village = login("clerk_village")
    found = village.post("/cases/intake/targets", {"q": "报销", "id": ZHANG.id_number})
    assert found.status_code == 200 and CLAIM in found.text and "data-proxy" in found.text
    county = login("clerk")
    listed = county.post("/cases/intake/targets", {"q": "宅基地", "id": ZHANG.id_number})
    assert HOMESTEAD not in listed.text  # the county center does not take it
    picked = village.post("/cases/intake/target", {"id": ZHANG.id_number, "item": CLAIM})
    assert 'data-offer="proxy"' in picked.text and 'name="proxy"' in picked.text

    before = _cases(session)
    form = {"applicant_id": ZHANG.id_number, "applicant_name": "张伟", "item_code": CLAIM, "decision": "accept",
            "idempotency_key": "village-no-proxy"}
    form |= {f"material:{k}": v for k, v in handed_in(session, CLAIM).items()}
    refused = village.post("/cases/intake", form)
    assert refused.status_code == 422 and "代收代办" in refused.text and _cases(session) == before
    accepted = village.post("/cases/intake", form | {"proxy": "1", "idempotency_key": "village-proxy"})
    assert accepted.status_code == 303, accepted.text
    case = session.scalars(select(Case).order_by(Case.id.desc())).first()
    assert case is not None and case.proxy
    page = village.client.get(accepted.headers["location"])
    assert "（代收代办）" in page.text and "待流转" in page.text


def test_bookings_keep_to_the_halls_own_hours_and_level(session: Session, clock: FixedClock) -> None:
    mornings = [s.start.strftime("%H:%M") for s in appointments.available_slots(
        session, clock=clock, hall_code=VILLAGE, category="A", day=TUESDAY)]
    assert mornings == ["09:00", "10:00"]
    before = session.scalar(select(func.count()).select_from(Booking))
    with pytest.raises(ValidationFailed) as afternoon, session.begin_nested():
        appointments.book(session, clock=clock, actor=APPLICANT, hall_code=VILLAGE, category="A", day=TUESDAY,
                          start="14:00", id_number=person_id("41072419900101123"), phone="13803731234")
    assert afternoon.value.problems[0].code == "outside_opening_hours"
    message = afternoon.value.problems[0].message
    assert "西关村便民服务站" in message and "8:30-11:30" in message
    with pytest.raises(ValidationFailed) as level, session.begin_nested():
        appointments.book(session, clock=clock, actor=APPLICANT, hall_code=VILLAGE, category="A", day=TUESDAY,
                          start="09:00", id_number=person_id("41072419900101123"), phone="13803731234",
                          item_code=CLAIM)  # a county item: the village takes it as 代收代办, not by booking
    assert level.value.problems[0].code == "wrong_level"
    assert session.scalar(select(func.count()).select_from(Booking)) == before

    templates = session.scalar(select(func.count()).select_from(SlotTemplate))
    with pytest.raises(ValidationFailed) as outside, session.begin_nested():
        appointments.set_slot_templates(session, clock=clock, actor=APPLICANT, hall_code=VILLAGE, category="A",
                                        slots=[("09:00", "10:00", 2), ("14:00", "15:00", 2)])
    assert [p.field for p in outside.value.problems] == ["slots.1.start"]
    assert session.scalar(select(func.count()).select_from(SlotTemplate)) == templates


def test_the_village_kiosk_stops_at_noon_while_the_county_takes_tickets(
        session: Session, clock: FixedClock, login: Callable[[str], Browser]) -> None:
    clock.set(dt.datetime(2026, 11, 23, 13, 30, tzinfo=CHINA_TZ))
    visitor = login("experiencer")
    before = session.scalar(select(func.count()).select_from(Ticket))
    closed = visitor.post(f"/halls/{VILLAGE}/kiosk", {"category": "A"})
    assert closed.status_code == 409 and "非办公时间" in closed.text
    assert session.scalar(select(func.count()).select_from(Ticket)) == before
    assert visitor.post("/halls/HJ-ZWZX/kiosk", {"category": "A"}).status_code == 303


def test_each_halls_hours_are_published_as_periods(client: TestClient) -> None:
    halls = {h["code"]: h for h in client.get("/api/v1/halls").json()}
    assert halls[VILLAGE]["opening_periods"] == [{"start": "08:30", "end": "11:30"}]  # mornings only
    town = [{"start": "08:30", "end": "12:00"}, {"start": "14:30", "end": "17:30"}]
    county = [{"start": "09:00", "end": "12:00"}, {"start": "13:00", "end": "17:00"}]
    assert halls["HJ-ZJZ"]["opening_periods"] == town and halls["HJ-ZWZX"]["opening_periods"] == county


def test_a_halls_hours_must_name_a_period(login: Callable[[str], Browser], session: Session) -> None:
    admin = login("admin")
    region = catalog_service.hall_by_code(session, VILLAGE).region.code
    new = {"code": "HJ-TEST", "name": "测试村便民服务站", "level": "village", "region": region, "address": "",
           "phone": "", "opening_hours": "上午"}
    refused = admin.post("/admin/halls/new", new)
    assert refused.status_code == 422 and "办公时间应写明时段" in refused.text
    with pytest.raises(NotFound):
        catalog_service.hall_by_code(session, "HJ-TEST")
    assert admin.post("/admin/halls/new", new | {"opening_hours": "工作日 8:30-11:30"}).status_code == 303
