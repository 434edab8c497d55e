"""The public opt-out page (退订短信): ``/notify/opt-out/{token}`` from the link at the end of every citizen SMS.

GET shows the (masked) number and a button; POST (CSRF-checked, no account needed: holding the signed link is
the entitlement) records the opt-out. A forged or garbled token is a 404 that names nothing.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from onewindow.core.errors import DomainError
from onewindow.deps import CSRF_COOKIE, Auth, ClockDep, DbSession, OptionalAuth, check_csrf
from onewindow.notifications import service
from onewindow.notifications.templates import read_opt_out_token
from onewindow.web import render

router = APIRouter(prefix="/notify", include_in_schema=False)


async def _public_csrf(request: Request, auth: OptionalAuth) -> Auth | None:
    """Anonymous posts echo the pre-login CSRF cookie (signed-in callers were checked with their session)."""
    if auth is None:
        await check_csrf(request, request.cookies.get(CSRF_COOKIE))
    return auth


PublicAuth = Annotated[Auth | None, Depends(_public_csrf)]


def _phone(request: Request, token: str) -> str:
    phone = read_opt_out_token(request.app.state.settings.secret_key, token)
    if phone is None:
        raise DomainError(code="not_found", message="退订链接无效，请核对短信中的链接", status=404)
    return phone


@router.get("/opt-out/{token}", response_class=HTMLResponse)
def opt_out_page(request: Request, token: str, session: DbSession, auth: OptionalAuth) -> Response:
    """The number the link names (masked) and whether it already opted out."""
    phone = _phone(request, token)
    return render(request, "notify/opt_out.html", {"phone": phone, "done": service.opted_out(session, phone),
                                                   "token": token}, auth=auth)


@router.post("/opt-out/{token}", response_class=HTMLResponse)
def opt_out(request: Request, token: str, session: DbSession, clock: ClockDep, auth: PublicAuth) -> Response:
    """Record the opt-out and confirm it."""
    phone = _phone(request, token)
    service.opt_out(session, clock=clock, phone=phone, via="link")
    return render(request, "notify/opt_out.html", {"phone": phone, "done": True, "token": token}, auth=auth)
