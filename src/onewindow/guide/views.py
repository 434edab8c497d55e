"""Guide pages: the unanswered-question desk (/admin/guide) and "did this answer help?" (/guide/feedback).

Thin edges over ``guide.service``. The desk lists the questions the guide could not answer well,
each with the guide's current best guesses as one-click answers (or any item or bundle typed by
code); a mapped question joins the synonym map and the evaluation set (exported as TSV). Center
admins and supervision look (``GUIDE_ANALYTICS``), only admins map (``GUIDE_EDIT``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response

from onewindow.core.access import Action
from onewindow.core.errors import Problem, ValidationFailed
from onewindow.deps import CSRF_COOKIE, Auth, ClockDep, CurrentAuth, DbSession, OptionalAuth, check_csrf
from onewindow.guide import service
from onewindow.guide.search import SearchHit
from onewindow.web import FormDep, fmt_time, form_text, render

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 20
SUGGESTIONS = 3


async def _public_csrf(request: Request, auth: OptionalAuth) -> Auth | None:
    """Anonymous posts echo the pre-login CSRF cookie (signed-in callers were checked with their session)."""
    if auth is None:
        await check_csrf(request, request.cookies.get(CSRF_COOKIE))
    return auth


PublicAuth = Annotated[Auth | None, Depends(_public_csrf)]


@dataclass(frozen=True)
class OpenQuestion:
    """An unanswered question with the guide's current guesses."""

    text: str
    times: int
    last_asked: str
    suggestions: tuple[SearchHit, ...]


@dataclass(frozen=True)
class Answer:
    """An item or bundle an admin can pick as the answer."""

    code: str
    name: str
    kind: str


def _desk(request: Request, session: DbSession, clock: ClockDep, auth: Auth, page: int,
          errors: dict[str, str] | None = None, status_code: int = 200) -> Response:
    guide = service.search_for(session, request.app.state.guide_cache, clock)
    open_questions: list[OpenQuestion] = []
    for text, times, last in service.unanswered(session, limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE):
        hits = guide.search(text, limit=SUGGESTIONS).hits if len(open_questions) < PAGE_SIZE else ()
        open_questions.append(OpenQuestion(text, times, fmt_time(last), tuple(hits)))
    answers = [Answer(code, name, kind) for code, name, kind in guide.index.documents()]
    return render(request, "guide/desk.html", {
        "questions": open_questions[:PAGE_SIZE], "more": len(open_questions) > PAGE_SIZE, "page": page,
        "answers": answers, "names": {a.code: a.name for a in answers}, "mapped": service.mappings(session, limit=100),
        "feedback": service.unhelpful(session, limit=30), "semantic": guide.semantic,
        "may_map": auth.can(Action.GUIDE_EDIT), "errors": errors or {}, "fmt_time": fmt_time,
    }, auth=auth, status_code=status_code)


@router.get("/admin/guide", response_class=HTMLResponse)
def guide_desk(request: Request, auth: CurrentAuth, session: DbSession, clock: ClockDep,
               page: Annotated[int, Query(ge=1, le=1000)] = 1) -> Response:
    """Unanswered questions with one-click answers, mapped questions and the answers visitors found unhelpful."""
    auth.require(Action.GUIDE_ANALYTICS)
    return _desk(request, session, clock, auth, page)


@router.post("/admin/guide/mappings", response_class=HTMLResponse)
def map_question(request: Request, auth: CurrentAuth, session: DbSession, clock: ClockDep, form: FormDep) -> Response:
    """Map a question to an item or bundle (the clicked guess, or a code typed in)."""
    auth.require(Action.GUIDE_EDIT)
    try:
        service.map_question(session, clock=clock, actor=auth.actor, query=form_text(form, "query"),
                             code=form_text(form, "code"))
    except ValidationFailed as exc:
        return _desk(request, session, clock, auth, 1, errors={p.field: p.message for p in exc.problems},
                     status_code=422)
    return RedirectResponse("/admin/guide", status_code=303)


@router.post("/admin/guide/mappings/{mapping_id}/delete")
def unmap_question(mapping_id: int, auth: CurrentAuth, session: DbSession, clock: ClockDep) -> Response:
    """Forget a mapped question."""
    auth.require(Action.GUIDE_EDIT)
    service.unmap_question(session, clock=clock, actor=auth.actor, mapping_id=mapping_id)
    return RedirectResponse("/admin/guide", status_code=303)


@router.get("/admin/guide/evaluation.tsv")
def evaluation_set(auth: CurrentAuth, session: DbSession) -> Response:
    """The mapped questions as a benchmark TSV for ``onewindow bench guide --queries``."""
    auth.require(Action.GUIDE_ANALYTICS)
    return PlainTextResponse(service.evaluation_tsv(session), media_type="text/tab-separated-values; charset=utf-8",
                             headers={"Content-Disposition": 'attachment; filename="guide-learned.tsv"'})


@router.post("/guide/feedback", response_class=HTMLResponse)
def feedback(request: Request, auth: PublicAuth, session: DbSession, clock: ClockDep, form: FormDep) -> Response:
    """Log whether the answer to a question helped; answers with a thank-you fragment (or the home page)."""
    helpful = form_text(form, "helpful")
    if helpful not in ("yes", "no"):
        raise ValidationFailed([Problem("helpful", "bad_choice", "请选择“有帮助”或“没帮助”")])
    service.record_feedback(session, clock=clock, query=form_text(form, "q"), code=form_text(form, "code") or None,
                            helpful=helpful == "yes")
    if request.headers.get("hx-request") == "true":
        return render(request, "guide/_feedback_thanks.html", {"helpful": helpful == "yes"}, auth=auth)
    return RedirectResponse("/?" + urlencode({"q": form_text(form, "q")}), status_code=303)
