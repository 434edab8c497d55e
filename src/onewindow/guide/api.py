"""Guide API: ``GET /api/v1/guide/search`` answers a plain question with items and bundles."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from onewindow.deps import ClockDep, DbSession
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
