"""“我的” pages: the citizen's lists (GET /my) and the one-click answer to a 免申即享 offer.

Thin edges: the lists come from :mod:`onewindow.myarea.service`, the answer from
:func:`onewindow.policies.service.answer_own_grant` (ownership, the grant state machine, audit). Only a citizen's
account opens “我的” (the access policy's ``my.view``); others get 403, anonymous visitors the sign-in page.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from onewindow.core.access import Action
from onewindow.core.clock import today
from onewindow.core.errors import NotFound, PermissionDenied
from onewindow.deps import Auth, ClockDep, CurrentAuth, DbSession
from onewindow.myarea import service
from onewindow.policies import service as policies_service
from onewindow.web import render

router = APIRouter(include_in_schema=False)

NOTICES = {
    "confirmed": "已确认申领，主管部门审核后兑付，结果会通知您。",
    "declined": "已放弃该项政策，如有疑问可到政务服务大厅咨询。",
    "unchanged": "该项政策已按您之前的选择处理，无需重复操作。",
}
VERBS = {"confirm": True, "decline": False}


async def _citizen(auth: CurrentAuth) -> Auth:
    if not auth.can(Action.MY_AREA):
        raise PermissionDenied("“我的”仅供申请人本人使用", code="citizens_only")
    return auth


CitizenAuth = Annotated[Auth, Depends(_citizen)]


@router.get("/my", response_class=HTMLResponse)
def my_page(request: Request, session: DbSession, clock: ClockDep, auth: CitizenAuth,
            notice: Annotated[str, Query(max_length=20)] = "") -> Response:
    """我的: tickets, bookings, cases, ratings, complaints, 免申即享 offers and authorisations, newest first."""
    area = service.my_area(session, auth.user, today(clock))
    return render(request, "myarea/my.html", {"area": area, "notice": NOTICES.get(notice, ""),
                                              "limit": service.LIST_LIMIT, "section": "my-area"}, auth=auth)


@router.post("/my/grants/{grant_id}/{verb}")
def answer_offer(grant_id: int, verb: str, session: DbSession, clock: ClockDep, auth: CitizenAuth) -> Response:
    """确认申领 or 放弃 one of my offers, or of an enterprise I represent (one click; the same click again changes
    nothing; anyone else's offer is 404)."""
    if verb not in VERBS:
        raise NotFound("操作", verb)
    _grant, moved = policies_service.answer_own_grant(
        session, clock=clock, viewer=auth.viewer, actor=auth.actor, grant_id=grant_id, confirm=VERBS[verb],
        represented=service.represented(session, auth.user, today(clock)))
    notice = ("confirmed" if VERBS[verb] else "declined") if moved else "unchanged"
    return RedirectResponse(f"/my?notice={notice}#offers", status_code=303)
