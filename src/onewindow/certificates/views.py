"""Public page: verify an e-certificate by its number and check code (电子证照核验)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from onewindow.certificates import service
from onewindow.core.clock import today
from onewindow.core.ratelimit import TooManyAttempts
from onewindow.deps import ClockDep, DbSession, LookupGuardDep, OptionalAuth
from onewindow.web import render

router = APIRouter(include_in_schema=False)


@router.get("/certificates/verify", response_class=HTMLResponse)
def verify_page(request: Request, session: DbSession, clock: ClockDep, auth: OptionalAuth, guard: LookupGuardDep,
                number: Annotated[str, Query(max_length=100)] = "",
                check_code: Annotated[str, Query(max_length=100)] = "") -> HTMLResponse:
    """The form, and the result when both fields are filled in."""
    number, check_code = number.strip(), check_code.strip()
    asked = bool(number or check_code)
    view = None
    limited = ""
    if asked:
        try:
            guard.check()
            view = service.verify(session, number=number, check_code=check_code, on=today(clock))
            if view is None:
                guard.failed()
        except TooManyAttempts as exc:
            limited = exc.message
    return render(request, "certificates/verify.html",
                  {"number": number, "check_code": check_code, "asked": asked, "view": view,
                   "not_found": limited or service.NOT_FOUND_MESSAGE},
                  auth=auth, fragment="certificates/_verify_result.html")
