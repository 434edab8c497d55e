"""Guide service: the search index over the live catalog, the editable synonym map, the query log."""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onewindow.catalog import exporter
from onewindow.catalog.models import Bundle, Item, ItemVersion
from onewindow.core import audit
from onewindow.core.audit import Actor
from onewindow.core.clock import Clock
from onewindow.core.errors import ValidationFailed
from onewindow.core.ids import mask_id_number, mask_phone
from onewindow.guide.documents import documents_from_catalog
from onewindow.guide.models import GuideQuery, GuideSynonyms
from onewindow.guide.search import GuideIndex, SearchResult
from onewindow.guide.synonyms import check_synonyms, load_default_synonyms

_ID_LIKE = re.compile(r"\d{17}[\dXx]|\d{15}")


@dataclass
class IndexCache:
    """The built index and the catalog state it was built from; rebuilt when the catalog changes."""

    stamp: tuple[Any, ...] | None = None
    index: GuideIndex | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


def _stamp(session: Session) -> tuple[Any, ...]:
    versions = session.execute(
        select(func.max(ItemVersion.id), func.count(Item.id)).select_from(Item).where(Item.status == "active")
        .join(ItemVersion, ItemVersion.id == Item.current_version_id)).one()
    bundles = session.execute(select(func.max(Bundle.updated_at), func.count(Bundle.id))).one()
    synonyms = session.scalar(select(GuideSynonyms.updated_at).where(GuideSynonyms.id == 1))
    return (*versions, *bundles, synonyms)


def synonyms_in_force(session: Session) -> dict[str, Any]:
    """The admin-edited synonym map, or the shipped default."""
    row = session.get(GuideSynonyms, 1)
    return dict(row.data) if row is not None else load_default_synonyms()


def build_index(session: Session) -> GuideIndex:
    """A fresh index over the catalog in the database (items in service and active bundles)."""
    return GuideIndex.build(documents_from_catalog(exporter.export_catalog(session)),
                            synonyms=synonyms_in_force(session))


def index_for(session: Session, cache: IndexCache) -> GuideIndex:
    """The cached index, rebuilt first when items, bundles or synonyms changed."""
    stamp = _stamp(session)
    if cache.index is not None and cache.stamp == stamp:
        return cache.index
    with cache.lock:
        if cache.index is None or cache.stamp != stamp:
            cache.index = build_index(session)
            cache.stamp = stamp
        return cache.index


def scrub(text: str) -> str:
    """Mask ID and mobile numbers a person may have typed into a question."""
    return mask_phone(_ID_LIKE.sub(lambda m: mask_id_number(m.group(0)), text))


def search(session: Session, *, cache: IndexCache, clock: Clock, query: str, limit: int = 10) -> SearchResult:
    """Answer a question; questions without a good answer are logged (scrubbed) for the admins."""
    result = index_for(session, cache).search(query, limit=limit)
    if not result.good:
        session.add(GuideQuery(at=clock.now(), query_text=scrub(result.normalized_query or query)[:200],
                               good=False, hit_count=len(result.hits),
                               top_code=result.hits[0].code if result.hits else None))
        session.flush()
    return result


def unanswered(session: Session, *, limit: int = 100) -> list[tuple[str, int, Any]]:
    """The most frequent questions without a good answer: (text, times, last asked)."""
    rows = session.execute(
        select(GuideQuery.query_text, func.count(), func.max(GuideQuery.at)).where(GuideQuery.good.is_(False))
        .group_by(GuideQuery.query_text).order_by(func.count().desc(), func.max(GuideQuery.at).desc()).limit(limit))
    return [(text, int(n), last) for text, n, last in rows]


def save_synonyms(session: Session, *, clock: Clock, actor: Actor, data: Mapping[str, Any]) -> None:
    """Replace the synonym map after validating it against the catalog's bundles."""
    bundle_codes = set(session.scalars(select(Bundle.code)))
    problems = check_synonyms(data, bundle_codes=bundle_codes)
    if problems:
        raise ValidationFailed(problems)
    row = session.get(GuideSynonyms, 1)
    before = dict(row.data) if row else None
    if row is None:
        row = GuideSynonyms(id=1, data=dict(data), updated_at=clock.now(), updated_by=actor.label)
        session.add(row)
    else:
        row.data, row.updated_at, row.updated_by = dict(data), clock.now(), actor.label
    session.flush()
    audit.record(session, clock=clock, actor=actor, action="guide.synonyms_saved", entity_type="guide_synonyms",
                 entity_id=1, before={"terms": len(before)} if before else None, after={"terms": len(data)})
