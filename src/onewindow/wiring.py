"""Cross-domain listeners, installed once by each composition root (the app and the CLI).

Domains do not import each other to react to events; the listener owner is wired here instead.
Today: case due dates follow calendar changes (``cases.sweep.recompute_on_calendar_change``); a finished case
(``cases.transitions.CASE_FINISHED_LISTENERS``) puts one SMS with its rating link into the outbox; a 差评
(``ratings.service.NEGATIVE_RATING_LISTENERS``) opens one 整改 work order for the department it judges, and an
upheld appeal on that order (``rectification.service.register_void_listener``) voids the rating; the work orders
of unsatisfied callbacks (回访) and of experiencer reports (体验员) bring their end (办结 or voided) back to the task
or report (``supervision.callbacks`` / ``supervision.experiencers``); a 差评 or an experiencer's report whose 整改
order is escalated (``register_escalate_listener``: still unsatisfied after rectification) is filed as a 投诉 at
the 有诉即办 center (``complaints.service.file_escalated``); the statistics' daily rollups are recomputed for the
days a committed transaction touched (``analytics.listeners``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from onewindow.calendar.service import CalendarChange
    from onewindow.cases.models import Case
    from onewindow.config import Settings
    from onewindow.core.audit import Actor
    from onewindow.core.clock import Clock
    from onewindow.ratings.models import Rating

CASE_DONE_TOPIC = "case.done"
CASE_DONE_SMS = "您的办件{number}（{item}）已办结，请对本次服务进行评价：{url}"

# the settings of the app that installed the listeners (its base URL and secret sign the rating links)
_installed: dict[str, Settings] = {}


def _case_deadlines(session: Session, change: CalendarChange) -> None:
    from onewindow.cases.sweep import recompute_on_calendar_change  # imported on first use: the CLI starts fast

    recompute_on_calendar_change(session, change)


def case_done_sms(session: Session, case: Case, clock: Clock) -> None:
    """Enqueue the 办结 SMS with the rating link (一事一评), once per case, when the applicant left a phone.

    A bundle's sub-cases are rated through their bundle, so only single cases and bundles are texted.
    """
    from onewindow.cases.kinds import CaseKind
    from onewindow.config import get_settings
    from onewindow.notifications import service as notifications
    from onewindow.ratings.links import Subject, rating_url

    phone = (case.applicant_phone or "").strip()
    if not phone or case.kind == CaseKind.SUB:
        return
    if notifications.enqueued(session, topic=CASE_DONE_TOPIC, key="case_id", value=case.id):
        return
    settings = _installed.get("settings") or get_settings()
    url = rating_url(settings.base_url, settings.secret_key, Subject.CASE, case.id)
    notifications.enqueue(session, clock=clock, topic=CASE_DONE_TOPIC, channel="sms", recipient=phone,
                          subject="办件办结评价邀请", body=CASE_DONE_SMS.format(number=case.number, item=case.title,
                                                                        url=url),
                          payload={"case_id": case.id, "case_number": case.number, "state": case.state,
                                   "rating_url": url},
                          recipient_user_id=case.applicant_user_id)


def rating_rectification(session: Session, rating: Rating, clock: Clock, actor: Actor) -> None:
    """Every 差评 opens one rectification work order (整改) for the department it judges."""
    import logging

    from onewindow.ratings.rules import Level
    from onewindow.ratings.service import reason_labels
    from onewindow.rectification import service as rectification
    from onewindow.rectification.states import Raiser, SourceKind

    if rating.department_id is None:  # no item and no clerk's department to answer for it: the center reads it
        logging.getLogger(__name__).warning("差评 %s has no department; no work order opened", rating.id)
        return
    reasons = "、".join(reason_labels(rating.reasons))
    title = f"差评（{Level(rating.level).label}）：{reasons}"[:200]
    detail = "；".join(x for x in (f"差评理由：{reasons}" if reasons else "", rating.comment) if x)
    rectification.open_order(session, clock=clock, actor=actor, source_kind=SourceKind.RATING, source_id=rating.id,
                             department_id=rating.department_id, title=title, detail=detail,
                             raiser=Raiser(name=rating.rater_name, phone=rating.rater_phone,
                                           user_id=rating.rater_user_id, identified=rating.identified))


def _void_rating(session: Session, source_id: int, clock: Clock, actor: Actor, note: str) -> None:
    from onewindow.ratings import service as ratings

    ratings.void_rating(session, rating_id=source_id, clock=clock, actor=actor,
                        reason=note or "申诉成立，认定为无效差评")


def _escalated_complaint(kind: str) -> Callable[[Session, int, Clock, Actor, str], None]:
    """A listener filing an escalated 整改 order of this source kind as a 投诉 at the 有诉即办 center."""

    def listener(session: Session, source_id: int, clock: Clock, actor: Actor, note: str) -> None:
        from onewindow.complaints import service as complaints
        from onewindow.rectification import service as rectification

        order = rectification.order_for(session, kind, source_id)
        if order is not None:
            complaints.file_escalated(session, clock=clock, actor=actor, order=order, note=note)

    listener.__name__ = f"escalated_{kind}_complaint"
    return listener


_ESCALATION_LISTENERS = {kind: _escalated_complaint(kind) for kind in ("rating", "experience")}


def install(settings: Settings | None = None) -> None:
    """Register every cross-domain listener (idempotent); ``settings`` sign the links listeners send."""
    from onewindow.calendar import service as calendar_service
    from onewindow.cases import transitions
    from onewindow.ratings import service as ratings_service
    from onewindow.rectification import service as rectification_service
    from onewindow.rectification.states import SourceKind as SourceKindName

    if settings is not None:
        _installed["settings"] = settings
    if _case_deadlines not in calendar_service.on_calendar_changed:
        calendar_service.on_calendar_changed.append(_case_deadlines)
    if case_done_sms not in transitions.CASE_FINISHED_LISTENERS:
        transitions.CASE_FINISHED_LISTENERS.append(case_done_sms)
    if rating_rectification not in ratings_service.NEGATIVE_RATING_LISTENERS:
        ratings_service.NEGATIVE_RATING_LISTENERS.append(rating_rectification)
    rectification_service.register_void_listener(SourceKindName.RATING, _void_rating)
    _install_supervision()
    _install_complaints()
    _install_analytics()


def _install_supervision() -> None:
    """回访 and 体验员 follow their rectification work orders to the end."""
    from onewindow.rectification import service as rectification_service
    from onewindow.rectification.states import SourceKind as SourceKindName
    from onewindow.supervision import callbacks, experiencers

    rectification_service.register_close_listener(SourceKindName.CALLBACK, callbacks.order_closed)
    rectification_service.register_void_listener(SourceKindName.CALLBACK, callbacks.order_voided)
    rectification_service.register_close_listener(SourceKindName.EXPERIENCE, experiencers.order_closed)
    rectification_service.register_void_listener(SourceKindName.EXPERIENCE, experiencers.order_voided)


def _install_analytics() -> None:
    """The dashboards' daily rollups follow every committed change to tickets, cases, ratings, complaints."""
    from onewindow.analytics import listeners

    listeners.install()


def _install_complaints() -> None:
    """An escalated 差评 or experiencer report becomes a 投诉 at the 有诉即办 center."""
    from onewindow.rectification import service as rectification_service

    for kind, listener in _ESCALATION_LISTENERS.items():
        rectification_service.register_escalate_listener(kind, listener)
