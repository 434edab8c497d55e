"""Guide API: ``GET /api/v1/guide/search`` answers a plain question with items and bundles."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request

from onewindow.core.access import Action
from onewindow.deps import ClockDep, CurrentAuth, DbSession
from onewindow.guide import service

router = APIRouter(tags=["guide"])


def links(hit: dict[str, Any]) -> dict[str, Any]:
    """Add the guide page and notice PDF addresses to a hit."""
    if hit["kind"] == "bundle":
        return {**hit, "url": f"/bundles/{hit['code']}", "notice_url": None}
    return {**hit, "url": f"/items/{hit['code']}", "notice_url": f"/items/{hit['code']}/notice.pdf"}


@router.get("/guide/search", summary="智能导办：用一句话找到要办的事")
def search(request: Request, session: DbSession, clock: ClockDep,
           q: Annotated[str, Query(max_length=2000, description="问题，如“孩子刚出生要办什么”")] = "",
           limit: Annotated[int, Query(ge=1, le=50)] = 10) -> dict[str, Any]:
    """Ranked items and bundles with the words that matched; 422 for an empty question."""
    result = service.search(session, cache=request.app.state.guide_cache, clock=clock, query=q, limit=limit)
    body = result.as_dict()
    body["hits"] = [links(h) for h in body["hits"]]
    return body


@router.get("/guide/synonyms", summary="智能导办同义词与人生事件表（管理员）")
def get_synonyms(auth: CurrentAuth, session: DbSession) -> dict[str, Any]:
    """The synonym and life-event map in force."""
    auth.require(Action.GUIDE_EDIT)
    return service.synonyms_in_force(session)


@router.put("/guide/synonyms", summary="修改同义词与人生事件表（管理员）")
def put_synonyms(auth: CurrentAuth, session: DbSession, clock: ClockDep,
                 body: Annotated[dict[str, Any], Body(description="与内置 guide-synonyms.json 相同的结构")]
                 ) -> dict[str, Any]:
    """Replace the map after validating it; the search index is rebuilt on the next question."""
    auth.require(Action.GUIDE_EDIT)
    service.save_synonyms(session, clock=clock, actor=auth.actor, data=body)
    return service.synonyms_in_force(session)


@router.get("/guide/unanswered", summary="未能很好回答的问题（管理员、电子监察）")
def unanswered(auth: CurrentAuth, session: DbSession,
               limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[dict[str, Any]]:
    """The most frequent questions without a good answer, to add synonyms for."""
    auth.require(Action.GUIDE_ANALYTICS)
    return [{"query": text, "times": n, "last_asked_at": last} for text, n, last in
            service.unanswered(session, limit=limit)]
