"""Demo ratings (好差评): a month of rated visits and cases, written through the queue and ratings services.

The town hall (城关镇) served two visits on each working day of the past month at its window 1 (clerk
``clerk_town``), most of them rated on the window's evaluator or by the slip's QR code right after; the
county hall's visits of the demo morning are rated on the evaluator; every finished demo case is rated a
couple of hours after its decision by its SMS or QR link. Mostly positive, about one in four a 差评 with
its reasons (most town visitors left a phone, so are 实名); the visits and cases left unrated for over
seven days then get the default rating (默认评价), as a center with that setting would. Loading again does
nothing once a rating exists.
"""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from onewindow.cases.models import Case
from onewindow.catalog.models import Hall, HallCategory, Item, ItemVersion
from onewindow.config import Settings
from onewindow.core.audit import Actor
from onewindow.core.clock import Clock, FixedClock
from onewindow.queue import service as queue_service
from onewindow.queue.models import Ticket, Window
from onewindow.queue.states import TicketState
from onewindow.ratings import links, service
from onewindow.ratings.models import Rating
from onewindow.staff.models import User

# (level, reasons, comment), cycled over the rated subjects: mostly 好评, some 基本满意, a few 差评.
PATTERN: list[tuple[str, list[str], str]] = [
    ("very_satisfied", [], "办理很快，工作人员很耐心"),
    ("satisfied", [], ""),
    ("very_satisfied", [], ""),
    ("basic", [], ""),
    ("very_satisfied", [], "一次就办好了"),
    ("satisfied", [], ""),
    ("unsatisfied", ["long_wait"], "排队等了很久"),
    ("very_satisfied", [], ""),
    ("satisfied", [], "指南写得清楚"),
    ("very_unsatisfied", ["many_trips", "unclear_notice"], "材料没有一次说清楚，跑了两趟"),
    ("unsatisfied", ["attitude"], "窗口人员说话不耐烦"),
    ("very_satisfied", [], ""),
]
LEFT_FOR_DEFAULT = 3  # every third old case or town visit is left unrated, to be rated by default
DEFAULT_AFTER_DAYS = 7
TOWN_HALL = "HJ-CGZ"
TOWN_CLERK = "clerk_town"
PAST_WORKING_DAYS = 22
VISITS_PER_DAY = 2


def _town_items(session: Session, codes: list[str]) -> list[tuple[str, str]]:
    """(item code, category) of a few current items the town window serves."""
    rows = session.execute(select(Item.code, HallCategory.code)
                           .join(ItemVersion, ItemVersion.id == Item.current_version_id)
                           .join(HallCategory, HallCategory.id == ItemVersion.hall_category_id)
                           .where(HallCategory.code.in_(codes), Item.status == "active").order_by(Item.code).limit(6))
    return [(item, category) for item, category in rows]


def _town_month(session: Session, clock: Clock, settings: Settings) -> int:
    """A month of served, mostly rated visits at the town hall's window 1."""
    clerk = session.scalars(select(User).where(User.username == TOWN_CLERK)).first()
    window = session.scalars(select(Window).join(Hall).where(Hall.code == TOWN_HALL, Window.number == 1)).first()
    if clerk is None or window is None:
        return 0
    items = _town_items(session, list(window.skills))
    if not items:
        return 0
    me, kiosk = Actor(clerk.id, clerk.username), Actor(None, "kiosk")
    day, days, made, n = clock.now().date(), 0, 0, 0
    while days < PAST_WORKING_DAYS:
        day -= dt.timedelta(days=1)
        if day.weekday() >= 5:
            continue
        days += 1
        at = FixedClock(dt.datetime.combine(day, dt.time(9, 0), tzinfo=clock.now().tzinfo))
        queue_service.sign_in_window(session, clock=at, actor=me, window_id=window.id)
        for _ in range(VISITS_PER_DAY):
            code, category = items[n % len(items)]
            phone = f"1390373{n:04d}" if n % 5 != 4 else None  # most visitors leave a phone: 实名
            ticket = queue_service.issue_ticket(session, clock=at, actor=kiosk, hall_code=TOWN_HALL,
                                                category=category, item_code=code, phone=phone)
            at.advance(dt.timedelta(minutes=5))
            queue_service.call_specific(session, clock=at, actor=me, window_id=window.id, ticket_id=ticket.id,
                                        reason="演示数据")
            queue_service.start_serving(session, clock=at, actor=me, window_id=window.id, ticket_id=ticket.id)
            at.advance(dt.timedelta(minutes=8))
            queue_service.finish(session, clock=at, actor=me, window_id=window.id, ticket_id=ticket.id)
            if n % LEFT_FOR_DEFAULT != LEFT_FOR_DEFAULT - 1:
                level, reasons, comment = PATTERN[n % len(PATTERN)]
                service.rate_ticket(session, clock=FixedClock(at.now() + dt.timedelta(minutes=1)), settings=settings,
                                    ticket_id=ticket.id, channel="evaluator" if n % 4 else "qr", level=level,
                                    scores=None, reasons=reasons, comment=comment)
                made += 1
            n += 1
            at.advance(dt.timedelta(minutes=40))
        queue_service.sign_out_window(session, clock=at, actor=me, window_id=window.id)
    return made


def load_demo_ratings(session: Session, clock: Clock) -> int:
    """Rate the demo's served visits and finished cases; returns ratings written (0 when already loaded)."""
    if session.scalars(select(Rating.id).limit(1)).first() is not None:
        return 0
    settings = Settings(secret_key=secrets.token_urlsafe(16), rating_default_after_days=DEFAULT_AFTER_DAYS)
    now = clock.now()
    made = _town_month(session, clock, settings)
    tickets = session.scalars(select(Ticket).outerjoin(Rating, Rating.ticket_id == Ticket.id)
                              .where(Ticket.state == TicketState.DONE.value, Ticket.done_at.is_not(None),
                                     Ticket.day == clock.now().date(), Rating.id.is_(None))
                              .order_by(Ticket.id)).all()
    for i, ticket in enumerate(tickets):
        assert ticket.done_at is not None  # noqa: S101  (selected so)
        level, reasons, comment = PATTERN[(i * 3) % len(PATTERN)]
        service.rate_ticket(session, clock=FixedClock(min(ticket.done_at + dt.timedelta(minutes=1), now)),
                            settings=settings, ticket_id=ticket.id, channel="evaluator", level=level, scores=None,
                            reasons=reasons, comment=comment)
        made += 1
    cases = session.scalars(select(Case).where(Case.state.in_(service.FINISHED_CASE_STATES),
                                               Case.parent_id.is_(None), Case.decided_at.is_not(None))
                            .order_by(Case.decided_at, Case.id)).all()
    cutoff = now - dt.timedelta(days=DEFAULT_AFTER_DAYS)
    for i, case in enumerate(cases):
        assert case.decided_at is not None  # noqa: S101  (selected so)
        if case.decided_at < cutoff and i % LEFT_FOR_DEFAULT == LEFT_FOR_DEFAULT - 1:
            continue
        level, reasons, comment = PATTERN[i % len(PATTERN)]
        token = links.make_token(settings.secret_key, links.Subject.CASE, case.id)
        service.rate_case(session, clock=FixedClock(min(case.decided_at + dt.timedelta(hours=2), now)),
                          settings=settings, case_id=case.id, channel="sms" if i % 2 else "qr", level=level,
                          scores=None, reasons=reasons, comment=comment, token=token)
        made += 1
    made += service.default_ratings(session, clock=clock, settings=settings)
    return made
