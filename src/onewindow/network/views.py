"""流转 pages: the file's place on the case page (``network/_panel.html``) and the four moves as forms.

Thin edge over ``network.service``: ``POST /network/cases/{id}/{move}`` makes one move and goes back to the
case page (303), or shows the case's 流转 page with the reason (409/422) and nothing written.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from onewindow.cases import service as cases_service
from onewindow.core.errors import Conflict, DomainError, ValidationFailed
from onewindow.deps import ClockDep, CurrentAuth, DbSession
from onewindow.network import service
from onewindow.web import FormDep, fmt_time, form_text, render

router = APIRouter(prefix="/network", include_in_schema=False)

MOVE_LABELS: dict[str, str] = {
    "send-materials": "寄出申请材料", "receive-materials": "签收申请材料",
    "send-result": "回传办理结果", "receive-result": "签收办理结果",
}


def panel_context(status: service.FileStatus) -> dict[str, object]:
    """What ``network/_panel.html`` needs besides ``case`` and ``csrf_token``."""
    return {"file_status": status, "move_labels": MOVE_LABELS, "fmt_time": fmt_time}


def _render(request: Request, session: DbSession, auth: CurrentAuth, case_id: int, *, error: DomainError | None = None,
            status_code: int = 200) -> Response:
    case = cases_service.get_case(session, case_id)
    status = service.file_status(session, user=auth.user, case=case)
    return render(request, "network/case.html", {"case": case, "error": error, **panel_context(status)}, auth=auth,
                  status_code=status_code, fragment="network/_panel.html")


@router.get("/cases/{case_id}", response_class=HTMLResponse)
def case_transfers(request: Request, case_id: int, auth: CurrentAuth, session: DbSession) -> Response:
    """Where the case's file is, its 流转 with who and when, and the moves the viewer may make."""
    return _render(request, session, auth, case_id)


@router.post("/cases/{case_id}/{name}", response_class=HTMLResponse)
def make_move(request: Request, case_id: int, name: str, auth: CurrentAuth, session: DbSession, clock: ClockDep,
              posted: FormDep) -> Response:
    """One move; back to the case page, or this case's 流转 page with the reason."""
    if name not in service.MOVES:
        raise DomainError(code="not_found", message="页面或资源不存在", status=404)
    try:
        with session.begin_nested():
            service.move(session, clock=clock, user=auth.user, case_id=case_id, name=name,
                         note=form_text(posted, "note"), settings=request.app.state.settings)
    except (ValidationFailed, Conflict) as exc:
        session.expire_all()
        return _render(request, session, auth, case_id, error=exc, status_code=exc.status)
    return RedirectResponse(f"/cases/{case_id}?done=transfer#transfer", status_code=303)
