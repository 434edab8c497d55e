"""Demo queue: the county hall's 24 windows (layout of the reference scenario), town windows, clerk
qualifications, appointment slots and a morning of tickets in varied states, written through the services."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from onewindow.appointments import service as appointments_service
from onewindow.catalog.models import Hall
from onewindow.core.audit import Actor
from onewindow.core.clock import CHINA_TZ, Clock, FixedClock
from onewindow.queue import service
from onewindow.queue.models import Window
from onewindow.queue.routing import WindowKind
from onewindow.simulation.scenario import load_scenario
from onewindow.staff.models import User

COUNTY_HALL = "HJ-ZWZX"
TOWN_HALL = "HJ-CGZ"
VILLAGE_HALL = "HJ-XGC"  # 西关村便民服务站: clerk_village's point, open mornings only
VILLAGE_CATEGORIES = ["A", "B"]  # the village-level items of the catalog (医保社保, 不动产/宅基地) and 代收代办
ALL_CATEGORIES = ["A", "B", "C", "D", "E", "F", "G", "H"]

# (username, categories): 一岗多能 of the demo staff who sit at windows
QUALIFICATIONS: list[tuple[str, list[str]]] = [
    ("clerk", ALL_CATEGORIES),
    ("clerk_town", ["A", "D", "E", "F"]),
    ("clerk_village", VILLAGE_CATEGORIES),
    ("agent", ALL_CATEGORIES),
    ("head_scjg", ["C"]),
]

# Special window types among the 24 (by window number); the rest are department windows.
SPECIAL_KINDS: dict[int, WindowKind] = {
    1: WindowKind.COMPREHENSIVE,
    5: WindowKind.ELDERLY,
    12: WindowKind.BUNDLE,
    24: WindowKind.ASSISTED,
}


def load_queue_demo(session: Session, clock: Clock, actor: Actor | None = None) -> int:
    """Create the demo windows, settings, qualifications and today's tickets; returns tickets made (0 if loaded)."""
    actor = actor or Actor(None, "demo-loader")
    county = session.scalars(select(Hall).where(Hall.code == COUNTY_HALL)).first()
    if county is None or session.scalars(select(Window.id).where(Window.hall_id == county.id)).first() is not None:
        return 0
    scenario = load_scenario()
    for view in scenario.shared_hall(tidal=True):
        number = int(view.key)
        service.save_window(session, clock=clock, actor=actor, hall_code=COUNTY_HALL, number=number,
                            kind=SPECIAL_KINDS.get(number, WindowKind.DEPARTMENT).value, skills=list(view.skills),
                            home=list(view.home), flexible=view.flexible)
    service.update_settings(session, clock=clock, actor=actor, hall_code=COUNTY_HALL, routing_policy="smart",
                            default_service_min={c.code: c.service_minutes_mean for c in scenario.categories})
    if session.scalars(select(Hall).where(Hall.code == TOWN_HALL)).first() is not None:
        for number in (1, 2, 3):
            service.save_window(session, clock=clock, actor=actor, hall_code=TOWN_HALL, number=number,
                                kind=WindowKind.COMPREHENSIVE.value, skills=["A", "D", "E", "F"])
    if session.scalars(select(Hall).where(Hall.code == VILLAGE_HALL)).first() is not None:
        service.save_window(session, clock=clock, actor=actor, hall_code=VILLAGE_HALL, number=1,
                            kind=WindowKind.COMPREHENSIVE.value, skills=VILLAGE_CATEGORIES)
        for code in VILLAGE_CATEGORIES:  # the point's own hours: morning slots only
            appointments_service.set_slot_templates(session, clock=clock, actor=actor, hall_code=VILLAGE_HALL,
                                                    category=code, slots=[("09:00", "10:00", 2), ("10:00", "11:00", 2)])
    slots = [(f"{m // 60:02d}:{m % 60:02d}", f"{(m + 30) // 60:02d}:{(m + 30) % 60:02d}", 2)
             for m in [*range(9 * 60, 11 * 60 + 30, 30), *range(13 * 60, 16 * 60 + 30, 30)]]
    for code in ALL_CATEGORIES:  # 预约: half-hour slots, two places each, every working day
        appointments_service.set_slot_templates(session, clock=clock, actor=actor, hall_code=COUNTY_HALL, category=code,
                                                slots=slots)
    users = {u.username: u for u in session.scalars(select(User))}
    for username, categories in QUALIFICATIONS:
        if username in users:
            service.set_qualifications(session, clock=clock, actor=actor, username=username, categories=categories)
    return _morning(session, clock, users)


def _morning(session: Session, clock: Clock, users: dict[str, User]) -> int:
    now = clock.now()
    start = now - dt.timedelta(minutes=90)
    day_start = dt.datetime.combine(now.astimezone(CHINA_TZ).date(), dt.time(0, 1), tzinfo=CHINA_TZ)
    start = max(start, day_start)
    step = (now - start) / 30
    at = FixedClock(start)
    kiosk = Actor(None, "kiosk")
    tickets = []
    mix = "AABADCAFEBAGDAHACBAFDAEABCDAFA"
    for i, code in enumerate(mix):
        cls = "green" if i == 7 else "vip" if i == 19 else "normal"
        tickets.append(service.issue_ticket(session, clock=at, actor=kiosk, hall_code=COUNTY_HALL, category=code,
                                            ticket_class=cls, channel="kiosk" if i % 4 else "api"))
        at.advance(step * 0.7)
    clerk = users.get("clerk")
    if clerk is None:
        return len(tickets)
    me = Actor(clerk.id, clerk.username)
    window = session.scalars(select(Window).join(Hall).where(Hall.code == COUNTY_HALL, Window.number == 1)).one()
    service.sign_in_window(session, clock=at, actor=me, window_id=window.id)
    for outcome in ("done", "done", "missed", "done", "serving"):
        ticket = service.call_next(session, clock=at, actor=me, window_id=window.id)
        if ticket is None:
            break
        at.advance(dt.timedelta(minutes=1))
        if outcome == "missed":
            service.mark_missed(session, clock=at, actor=me, window_id=window.id, ticket_id=ticket.id)
            continue
        service.start_serving(session, clock=at, actor=me, window_id=window.id, ticket_id=ticket.id)
        if outcome == "done":
            at.advance(dt.timedelta(minutes=4))
            service.finish(session, clock=at, actor=me, window_id=window.id, ticket_id=ticket.id)
    service.cancel(session, clock=at, actor=Actor(None, "applicant"), ticket_id=tickets[-1].id, reason="申请人离开")
    agent = users.get("agent")
    if agent is not None:
        assisted = session.scalars(select(Window).join(Hall).where(Hall.code == COUNTY_HALL,
                                                                   Window.number == 24)).one()
        service.sign_in_window(session, clock=at, actor=Actor(agent.id, agent.username), window_id=assisted.id)
    return len(tickets)
