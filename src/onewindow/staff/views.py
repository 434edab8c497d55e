"""Sign-in and sign-out pages for staff."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from onewindow.core import access
from onewindow.core.errors import NotAuthenticated
from onewindow.deps import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    ClockDep,
    DbSession,
    OptionalAuth,
    SettingsDep,
    check_csrf,
    client_address,
)
from onewindow.staff import service
from onewindow.staff.models import User
from onewindow.web import render

router = APIRouter(include_in_schema=False)


def _safe_next(target: str | None) -> str:
    # Only same-site paths: an open redirect would let a phishing link borrow our login page.
    # ``/\evil.example`` is read by browsers as ``//evil.example``: no backslashes or control characters at all
    if (not target or not target.startswith("/") or target.startswith("//") or "\\" in target
            or any(ord(ch) < 32 for ch in target)):
        return ""
    return target


def _landing(target: str | None, user: User) -> str:
    # where the user lands when no page asked for the sign-in: the access policy's answer for them
    return _safe_next(target) or access.landing(service.viewer_of(user))


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, auth: OptionalAuth, next: str | None = None) -> Response:
    """The sign-in form."""
    if auth is not None:
        return RedirectResponse(_landing(next, auth.user), status_code=303)
    return render(request, "staff/login.html", {"next": _safe_next(next), "error": None})


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request, session: DbSession, clock: ClockDep, settings: SettingsDep,
                username: Annotated[str, Form()] = "", password: Annotated[str, Form()] = "",
                next: Annotated[str, Form()] = "") -> Response:
    """Check the credentials, open a session and set its cookie."""
    await check_csrf(request, request.cookies.get(CSRF_COOKIE))
    try:
        user = service.authenticate(session, clock=clock, username=username.strip(), password=password,
                                    address=client_address(request), throttle=service.throttle_of(settings))
    except (NotAuthenticated, service.LoginLocked) as exc:
        return render(request, "staff/login.html", {"next": _safe_next(next), "error": exc.message,
                                                    "username": username}, status_code=exc.status)
    token, _row = service.start_session(session, clock=clock, user=user, hours=settings.session_hours)
    response = RedirectResponse(_landing(next, user), status_code=303)
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="lax", secure=settings.cookie_secure,
                        max_age=settings.session_hours * 3600)
    response.delete_cookie(CSRF_COOKIE)
    return response


@router.post("/logout")
def logout(auth: OptionalAuth, session: DbSession, clock: ClockDep) -> Response:
    """End the session (the CSRF token was checked when the session was resolved)."""
    if auth is not None and auth.web_session is not None:
        service.end_session(session, clock=clock, web_session=auth.web_session)
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response
