"""Guide API: ``GET /api/v1/guide/search`` answers a plain question with items and bundles."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request
from pydantic import BaseModel, Field

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


class MappingIn(BaseModel):
    """A question and the item or bundle that answers it."""

    query: str = Field(max_length=2000, description="问题原文（身份证号、手机号会被遮盖后保存）")
    code: str = Field(max_length=60, description="事项实施编码或一件事编码")


@router.get("/guide/mappings", summary="已标注正确答案的导办问题（管理员、电子监察）")
def list_mappings(auth: CurrentAuth, session: DbSession,
                  limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[dict[str, Any]]:
    """Mapped questions, newest first: they feed the synonym map and the evaluation set."""
    auth.require(Action.GUIDE_ANALYTICS)
    return [{"id": m.id, "query": m.query_text, "code": m.code, "kind": m.kind, "name": name,
             "mapped_at": m.mapped_at, "mapped_by": m.mapped_by} for m, name in service.mappings(session, limit=limit)]


@router.post("/guide/mappings", status_code=201, summary="为问题标注正确的事项或一件事（管理员）")
def create_mapping(auth: CurrentAuth, session: DbSession, clock: ClockDep, body: MappingIn) -> dict[str, Any]:
    """Map a question to its answer; 422 for an unknown code or an empty question."""
    auth.require(Action.GUIDE_EDIT)
    m = service.map_question(session, clock=clock, actor=auth.actor, query=body.query, code=body.code)
    return {"id": m.id, "query": m.query_text, "code": m.code, "kind": m.kind, "mapped_at": m.mapped_at,
            "mapped_by": m.mapped_by}
