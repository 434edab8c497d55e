"""Guide service: the search over the live catalog, the synonym map, the query log and what is learned from use.

The search is hybrid when the setting ``guide_semantic`` is on and the model loads: the lexical
index and the semantic index (vectors stored in ``guide_embedding``, see :mod:`.semantic`) are
built together when the catalog, the synonym map or the learned mappings change.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from onewindow.catalog import exporter
from onewindow.catalog.models import Bundle, Item, ItemVersion
from onewindow.config import get_settings
from onewindow.core import audit
from onewindow.core.audit import Actor
from onewindow.core.clock import Clock
from onewindow.core.errors import NotFound, Problem, ValidationFailed
from onewindow.core.ids import mask_id_number, mask_phone
from onewindow.guide import semantic
from onewindow.guide.documents import GuideDocument, documents_from_catalog
from onewindow.guide.models import GuideEmbedding, GuideFeedback, GuideMapping, GuideQuery, GuideSynonyms
from onewindow.guide.search import GuideIndex, SearchResult, normalize_text
from onewindow.guide.semantic import Encoder, SemanticIndex
from onewindow.guide.synonyms import (
    MAX_KEY_CHARS,
    MAX_SITUATION_CHARS,
    SECTIONS,
    check_synonyms,
    load_default_synonyms,
)

_ID_LIKE = re.compile(r"\d{17}[\dXx]|\d{15}")
# Vectors of passages seen by this process: a rebuild after a catalog edit encodes only what changed.
_memo: dict[str, semantic.Vector] = {}
_MEMO_LIMIT = 5000
_memo_lock = threading.Lock()


@dataclass(frozen=True)
class GuideSearch:
    """The lexical index and, when the model is in use, the semantic index over the same documents."""

    index: GuideIndex
    dense: SemanticIndex | None = None
    # the model is on but the vectors are not all stored yet: what to build the semantic index from later
    pending: tuple[tuple[GuideDocument, ...], Mapping[str, Any], Encoder] | None = None

    @property
    def semantic(self) -> bool:
        """True when answers fuse lexical and semantic evidence."""
        return self.dense is not None

    def search(self, query: str, limit: int = 10) -> SearchResult:
        """Ranked items and bundles for a question."""
        return self.index.search(query, limit=limit, dense=self.dense)


@dataclass
class IndexCache:
    """The built search and the catalog state it was built from; rebuilt when the catalog changes.

    ``semantic`` asks for the hybrid search (the setting); it stays lexical when the model is absent.
    """

    semantic: bool = False
    threads: int = 1
    stamp: tuple[Any, ...] | None = None
    built: GuideSearch | None = None
    recheck_at: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)


def _stamp(session: Session) -> tuple[Any, ...]:
    versions = session.execute(
        select(func.max(ItemVersion.id), func.count(Item.id)).select_from(Item).where(Item.status == "active")
        .join(ItemVersion, ItemVersion.id == Item.current_version_id)).one()
    bundles = session.execute(select(func.max(Bundle.updated_at), func.count(Bundle.id))).one()
    synonyms = session.scalar(select(GuideSynonyms.updated_at).where(GuideSynonyms.id == 1))
    learned = session.execute(select(func.max(GuideMapping.mapped_at), func.count(GuideMapping.id))).one()
    return (*versions, *bundles, synonyms, *learned)


def synonyms_in_force(session: Session) -> dict[str, Any]:
    """The admin-edited synonym map, or the shipped default.

    A map saved before it had a ``situations`` section keeps the shipped situations.
    """
    row = session.get(GuideSynonyms, 1)
    if row is None:
        return load_default_synonyms()
    data = dict(row.data)
    if "situations" not in data:
        data["situations"] = load_default_synonyms().get("situations", {})
    return data


def synonyms_with_learned(session: Session) -> dict[str, Any]:
    """The map in force merged with the admins' mappings (a mapped question leads to its answer)."""
    return merge_learned(synonyms_in_force(session), [(m.query_text, m.code, m.kind) for m in session.scalars(
        select(GuideMapping).order_by(GuideMapping.id))], names=_names(session))


def _names(session: Session) -> dict[str, str]:
    names = {code: name for code, name in session.execute(
        select(Item.code, ItemVersion.name).join(ItemVersion, ItemVersion.id == Item.current_version_id))}
    names.update({code: name for code, name in session.execute(select(Bundle.code, Bundle.name))})
    return names


def merge_learned(data: Mapping[str, Any], mappings: Sequence[tuple[str, str, str]], *,
                  names: Mapping[str, str]) -> dict[str, Any]:
    """A copy of ``data`` where each mapped question is a term for its item's name or a bundle's trigger.

    Every mapped question is also a situation of its answer (a passage the model compares questions
    with), so a question put in other words finds the same answer.
    """
    merged = {section: dict(data.get(section, {})) for section in SECTIONS}
    merged["version"] = data.get("version", 1)
    for question, code, kind in mappings:
        key = question.strip()
        if key and len(key) <= MAX_SITUATION_CHARS and code in names:
            merged["situations"][code] = [*merged["situations"].get(code, []), key]
        if not key or len(key) > MAX_KEY_CHARS:
            continue  # too long to recur word for word; still in the evaluation set
        if kind == "bundle":
            merged["life_events"][key] = [code]
        elif code in names:
            merged["terms"][key] = [names[code]]
    return merged


def build_index(session: Session) -> GuideIndex:
    """A fresh lexical index over the catalog in the database (items in service and active bundles)."""
    return GuideIndex.build(documents_from_catalog(exporter.export_catalog(session)),
                            synonyms=synonyms_with_learned(session))


# A catalog edit changes a passage or two: encoded inline. More (a first start, a model upgrade) waits for
# the ``guide-embeddings`` job, and the search stays lexical until the vectors are in the table.
INLINE_ENCODE_LIMIT = 8
PENDING_RECHECK_SECONDS = 15.0


def _dense(session: Session, docs: Sequence[GuideDocument], synonyms: Mapping[str, Any], *, clock: Clock,
           encoder: Encoder, inline_limit: int | None) -> tuple[SemanticIndex | None, int]:
    """The semantic index from stored vectors plus the missing ones (stored), or None when too many are missing."""
    events: Mapping[str, Sequence[str]] = synonyms.get("life_events", {})
    situations: Mapping[str, Sequence[str]] = synonyms.get("situations", {})
    keys = semantic.passage_keys(docs, model_id=encoder.model_id, life_events=events, situations=situations)
    in_database = {row.key: semantic.vector_from_bytes(row.vector) for row in session.scalars(
        select(GuideEmbedding).where(GuideEmbedding.key.in_(set(keys))))}
    with _memo_lock:  # the embeddings job and request threads share it
        known = {**{k: _memo[k] for k in keys if k in _memo}, **in_database}
    missing = {k for k in keys if k not in known}
    if inline_limit is not None and len(missing) > inline_limit:
        return None, 0
    dense, fresh = SemanticIndex.build(docs, encoder=encoder, life_events=events, situations=situations,
                                       stored=known)
    for key in dict.fromkeys(keys):
        if key in in_database:
            continue
        try:
            with session.begin_nested():  # another worker may have stored the same passage meanwhile
                session.add(GuideEmbedding(key=key, model=encoder.model_id, created_at=clock.now(),
                                           vector=semantic.vector_bytes(fresh[key] if key in fresh else known[key])))
        except IntegrityError:
            pass
    with _memo_lock:
        if len(_memo) > _MEMO_LIMIT:
            _memo.clear()
        _memo.update(known)
        _memo.update(fresh)
    return dense, len(fresh)


def build_search(session: Session, *, clock: Clock, encoder: Encoder | None,
                 inline_limit: int | None = None) -> GuideSearch:
    """The lexical index and, with an encoder, the semantic index (new vectors stored).

    With ``inline_limit``, a catalog needing more new vectors than that gets a lexical search marked
    ``pending`` (the job computes them); without, every missing vector is computed now.
    """
    docs = documents_from_catalog(exporter.export_catalog(session))
    synonyms = synonyms_with_learned(session)
    index = GuideIndex.build(docs, synonyms=synonyms)
    if encoder is None:
        return GuideSearch(index)
    dense, _ = _dense(session, docs, synonyms, clock=clock, encoder=encoder, inline_limit=inline_limit)
    return GuideSearch(index, dense, pending=(tuple(docs), synonyms, encoder) if dense is None else None)


def search_for(session: Session, cache: IndexCache, clock: Clock) -> GuideSearch:
    """The cached search, rebuilt first when items, bundles, synonyms or mappings changed.

    A search still waiting for its vectors looks for them in the table every few seconds.
    """
    stamp = _stamp(session)
    built = cache.built
    if built is not None and cache.stamp == stamp and (built.pending is None or time.monotonic() < cache.recheck_at):
        return built
    with cache.lock:
        if cache.built is None or cache.stamp != stamp:
            encoder = semantic.load_encoder(cache.threads) if cache.semantic else None
            cache.built = build_search(session, clock=clock, encoder=encoder, inline_limit=INLINE_ENCODE_LIMIT)
            cache.stamp = stamp
        elif cache.built.pending is not None and time.monotonic() >= cache.recheck_at:
            docs, synonyms, encoder = cache.built.pending
            dense, _ = _dense(session, docs, synonyms, clock=clock, encoder=encoder, inline_limit=INLINE_ENCODE_LIMIT)
            if dense is not None:
                cache.built = GuideSearch(cache.built.index, dense)
        cache.recheck_at = time.monotonic() + PENDING_RECHECK_SECONDS
        return cache.built


def embed_job(session: Session, *, clock: Clock) -> dict[str, int]:
    """Job: compute and store the vectors the current catalog still lacks (nothing when the model is off)."""
    settings = get_settings()
    encoder = semantic.load_encoder(settings.guide_semantic_threads) if settings.guide_semantic else None
    if encoder is None:
        return {"encoded": 0}
    docs = documents_from_catalog(exporter.export_catalog(session))
    dense, encoded = _dense(session, docs, synonyms_with_learned(session), clock=clock, encoder=encoder,
                            inline_limit=None)
    return {"encoded": encoded, "documents": len(docs), "passages": dense.passages if dense is not None else 0}


def scrub(text: str) -> str:
    """Mask ID and mobile numbers a person may have typed into a question."""
    return mask_phone(_ID_LIKE.sub(lambda m: mask_id_number(m.group(0)), text))


def search(session: Session, *, cache: IndexCache, clock: Clock, query: str, limit: int = 10) -> SearchResult:
    """Answer a question; questions without a good answer are logged (scrubbed) for the admins."""
    result = search_for(session, cache, clock).search(query, limit=limit)
    if not result.good:
        session.add(GuideQuery(at=clock.now(), query_text=scrub(result.normalized_query or query)[:200],
                               good=False, hit_count=len(result.hits),
                               top_code=result.hits[0].code if result.hits else None))
        session.flush()
    return result


def unanswered(session: Session, *, limit: int = 100, offset: int = 0) -> list[tuple[str, int, Any]]:
    """The most frequent questions without a good answer and not mapped yet: (text, times, last asked)."""
    rows = session.execute(
        select(GuideQuery.query_text, func.count(), func.max(GuideQuery.at)).where(GuideQuery.good.is_(False))
        .where(GuideQuery.query_text.not_in(select(GuideMapping.query_text))).offset(offset)
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


# ----- learning from use: mapped questions, the evaluation set, "did this answer help?" ----------------------

MAX_QUESTION_CHARS = 200


def _clean_question(query: str, field_name: str = "query") -> str:
    text = scrub(normalize_text(query or ""))
    if not text:
        raise ValidationFailed([Problem(field_name, "empty_query", "问题不能为空")])
    if len(text) > MAX_QUESTION_CHARS:
        raise ValidationFailed([Problem(field_name, "query_too_long", f"问题不能超过{MAX_QUESTION_CHARS}个字")])
    return text


def _answer_kind(session: Session, code: str) -> str | None:
    if session.scalar(select(Item.id).where(Item.code == code, Item.status == "active")) is not None:
        return "item"
    if session.scalar(select(Bundle.id).where(Bundle.code == code, Bundle.status == "active")) is not None:
        return "bundle"
    return None


def map_question(session: Session, *, clock: Clock, actor: Actor, query: str, code: str) -> GuideMapping:
    """Record the right item or bundle for a question (replacing an earlier answer); audited."""
    text = _clean_question(query)
    code = (code or "").strip()
    kind = _answer_kind(session, code) if code else None
    if kind is None:
        raise ValidationFailed([Problem("code", "unknown_answer", "请选择在办的事项或一件事")])
    row = session.scalar(select(GuideMapping).where(GuideMapping.query_text == text))
    before = {"code": row.code} if row is not None else None
    if row is None:
        row = GuideMapping(query_text=text, code=code, kind=kind, mapped_at=clock.now(), mapped_by=actor.label)
        session.add(row)
    else:
        row.code, row.kind, row.mapped_at, row.mapped_by = code, kind, clock.now(), actor.label
    session.flush()
    audit.record(session, clock=clock, actor=actor, action="guide.question_mapped", entity_type="guide_mapping",
                 entity_id=row.id, before=before, after={"query": text, "code": code})
    return row


def unmap_question(session: Session, *, clock: Clock, actor: Actor, mapping_id: int) -> None:
    """Forget a mapped question (it leaves the synonym map and the evaluation set); audited."""
    row = session.get(GuideMapping, mapping_id)
    if row is None:
        raise NotFound("导办问题映射", str(mapping_id))
    before = {"query": row.query_text, "code": row.code}
    session.delete(row)
    session.flush()
    audit.record(session, clock=clock, actor=actor, action="guide.question_unmapped", entity_type="guide_mapping",
                 entity_id=mapping_id, before=before, after=None)


def mappings(session: Session, *, limit: int = 500) -> list[tuple[GuideMapping, str]]:
    """Mapped questions, newest first, with the answer's name."""
    names = _names(session)
    rows = session.scalars(select(GuideMapping).order_by(GuideMapping.mapped_at.desc(), GuideMapping.id.desc())
                           .limit(limit))
    return [(m, names.get(m.code, m.code)) for m in rows]


def evaluation_tsv(session: Session) -> str:
    """The mapped questions as a benchmark file (``question<TAB>code``, the ``onewindow bench guide`` format)."""
    lines = ["# 智能导办评测集：管理员从未解答问题中标注的正确答案（onewindow bench guide --queries 此文件）"]
    for row in session.scalars(select(GuideMapping).order_by(GuideMapping.id)):
        lines.append(f"{row.query_text.replace(chr(9), ' ')}\t{row.code}")
    return "\n".join(lines) + "\n"


def record_feedback(session: Session, *, clock: Clock, query: str, code: str | None, helpful: bool) -> GuideFeedback:
    """Log a visitor's "did this answer help?" (question scrubbed of personal numbers)."""
    text = _clean_question(query, "q")
    top = (code or "").strip()[:60] or None
    row = GuideFeedback(at=clock.now(), query_text=text, top_code=top, helpful=helpful)
    session.add(row)
    session.flush()
    return row


def unhelpful(session: Session, *, limit: int = 50) -> list[tuple[str, str | None, int, int]]:
    """Questions whose answer visitors rated: (text, last answer shown, not helpful, helpful), worst first."""
    bad = func.sum(case((GuideFeedback.helpful.is_(False), 1), else_=0))
    good = func.sum(case((GuideFeedback.helpful.is_(True), 1), else_=0))
    rows = session.execute(
        select(GuideFeedback.query_text, func.max(GuideFeedback.top_code), bad, good)
        .group_by(GuideFeedback.query_text).order_by(bad.desc(), func.max(GuideFeedback.at).desc()).limit(limit))
    return [(text, top, int(b or 0), int(g or 0)) for text, top, b, g in rows]
