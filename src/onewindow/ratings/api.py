"""Ratings API (/api/v1/ratings): rate a visit or a case, list ratings, figures.

Rating a visit is public and goes by the ticket's opaque token (never its id). A case is rated by its
signed-in applicant or agent, or by the holder of its ``/r/`` link token (no account). Reading is scoped by
the access policy: a clerk sees the ratings of their own service, a department head their department's.
Errors: 422 with field and Chinese reason, 403, 404, 409 ``already_rated`` / ``case_not_finished``.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from onewindow.core.access import Action
from onewindow.core.clock import CHINA_TZ, today
from onewindow.core.errors import NotAuthenticated
from onewindow.core.ids import mask_id_number, mask_phone
from onewindow.deps import ClockDep, CurrentAuth, DbSession, OptionalAuth, SettingsDep
from onewindow.ratings import service
from onewindow.ratings.models import Rating
from onewindow.ratings.rules import COMMENT_MAX

router = APIRouter(prefix="/ratings", tags=["ratings"])


class RatingIn(BaseModel):
    """A rating: the overall level, a level per dimension (optional: all at the overall level), 差评 reasons."""

    level: str = Field(description="very_satisfied / satisfied / basic / unsatisfied / very_unsatisfied 或中文名")
    scores: dict[str, str] | None = Field(None, description="各维度评价等级，如 {\"overall\": \"satisfied\", …}")
    reasons: list[str] = Field(default_factory=list, description="差评原因，如 long_wait、attitude")
    comment: str = Field("", max_length=COMMENT_MAX)


class TicketRatingIn(RatingIn):
    """Rating a visit."""

    channel: str = Field("qr", description="evaluator / qr / kiosk")


class CaseRatingIn(RatingIn):
    """Rating a case: signed in (channel online), or with the ``/r/`` link token (channel sms or qr)."""

    channel: str = Field("online", description="online / sms / qr")
    token: str | None = Field(None, max_length=40, description="评价链接令牌（无账号时）")


def rating_out(rating: Rating) -> dict[str, Any]:
    """A rating as the API shows it (personal numbers masked)."""
    return {
        "id": rating.id, "subject": rating.subject, "ticket_id": rating.ticket_id, "case_id": rating.case_id,
        "level": rating.level, "level_label": service.level_label(rating.level), "negative": rating.negative,
        "scores": rating.scores, "reasons": rating.reasons, "reason_labels": service.reason_labels(rating.reasons),
        "comment": rating.comment, "channel": rating.channel, "identified": rating.identified,
        "is_default": rating.is_default, "rater_name": rating.rater_name,
        "rater_id_number": mask_id_number(rating.rater_id_number) or None,
        "rater_phone": mask_phone(rating.rater_phone) or None,
        "item_id": rating.item_id, "department_id": rating.department_id, "hall_id": rating.hall_id,
        "window_id": rating.window_id, "clerk_id": rating.clerk_id,
        "served_at": rating.served_at.astimezone(CHINA_TZ).isoformat() if rating.served_at else None,
        "rated_at": rating.rated_at.astimezone(CHINA_TZ).isoformat(), "rated_on": rating.rated_on.isoformat(),
        "voided": rating.voided_at is not None, "void_reason": rating.void_reason,
    }


@router.post("/tickets/{token}", status_code=201, summary="评价一次办事（号票令牌，无需登录）")
def rate_ticket(token: str, body: TicketRatingIn, session: DbSession, clock: ClockDep, settings: SettingsDep,
                auth: OptionalAuth) -> dict[str, Any]:
    """一次一评: a served visit, within the rating window, once (409 ``already_rated``)."""
    rater = auth.user if auth is not None and auth.can(Action.RATING_GIVE) else None
    rating = service.rate_ticket_by_token(session, clock=clock, settings=settings, token=token, channel=body.channel,
                                          level=body.level, scores=body.scores, reasons=body.reasons,
                                          comment=body.comment, rater=rater)
    return rating_out(rating)


@router.post("/cases/{case_id}", status_code=201, summary="评价办件（本人登录或凭评价链接）")
def rate_case(case_id: int, body: CaseRatingIn, session: DbSession, clock: ClockDep, settings: SettingsDep,
              auth: OptionalAuth) -> dict[str, Any]:
    """一事一评: a finished case, once; the applicant's own (403 otherwise) or the link's case (404 otherwise)."""
    if auth is None and body.token is None:
        raise NotAuthenticated("请登录后评价本人的办件，或使用短信、二维码中的评价链接")
    user = auth.user if auth is not None and body.token is None else None
    channel = body.channel if user is not None or body.channel != "online" else "sms"
    rating = service.rate_case(session, clock=clock, settings=settings, case_id=case_id, channel=channel,
                               level=body.level, scores=body.scores, reasons=body.reasons, comment=body.comment,
                               user=user, token=body.token)
    return rating_out(rating)


@router.get("", summary="评价记录（按权限范围）")
def list_ratings(session: DbSession, auth: CurrentAuth,
                 date_from: Annotated[dt.date | None, Query()] = None,
                 date_to: Annotated[dt.date | None, Query()] = None,
                 department_id: Annotated[int | None, Query()] = None,
                 hall_id: Annotated[int | None, Query()] = None,
                 clerk_id: Annotated[int | None, Query()] = None,
                 negative: Annotated[bool | None, Query(description="true: 只看差评")] = None,
                 limit: Annotated[int, Query(ge=1, le=500)] = 50,
                 offset: Annotated[int, Query(ge=0)] = 0) -> dict[str, Any]:
    """Ratings the caller may see, newest first."""
    page = service.list_ratings(session, viewer=auth.viewer, date_from=date_from, date_to=date_to,
                                department_id=department_id, hall_id=hall_id, clerk_id=clerk_id, negative=negative,
                                limit=limit, offset=offset)
    return {"total": page.total, "items": [rating_out(r) for r in page.rows]}


def _figure(figure: service.Figure | None) -> dict[str, Any] | None:
    if figure is None:
        return None
    return {"numerator": figure.numerator, "denominator": figure.denominator, "value": figure.value}


@router.get("/figures", summary="好差评统计")
def figures(session: DbSession, clock: ClockDep, auth: CurrentAuth,
            date_from: Annotated[dt.date | None, Query()] = None,
            date_to: Annotated[dt.date | None, Query()] = None,
            by: Annotated[str, Query(description="hall / department / item / window / clerk")] = "hall",
            ) -> dict[str, Any]:
    """好评率, 差评率 (defaults and voided apart), rated shares, 差评整改率, 差评按期整改率, 实名差评回访整改率,
    each with numerator and denominator."""
    end = date_to or today(clock)
    start = date_from or end - dt.timedelta(days=29)
    groups = service.figures(session, viewer=auth.viewer, date_from=start, date_to=end, by=by)
    return {"date_from": start.isoformat(), "date_to": end.isoformat(), "by": by, "groups": [
        {"key": g.key, "label": g.label, "ratings": g.ratings, "counted": g.counted, "defaults": g.defaults,
         "voided": g.voided, "good_rate": _figure(g.good_rate), "bad_rate": _figure(g.bad_rate),
         "ticket_share": _figure(g.ticket_share), "case_share": _figure(g.case_share),
         "rectified_rate": _figure(g.rectified_rate), "on_time_rate": _figure(g.on_time_rate),
         "callback_rate": _figure(g.callback_rate)} for g in groups]}
