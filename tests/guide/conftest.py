"""Shared fixtures of the guide tests: one index over the reference catalog (built once)."""

from __future__ import annotations

import pytest

from onewindow.guide.cli import load_catalog_dict
from onewindow.guide.documents import documents_from_catalog
from onewindow.guide.search import GuideIndex
from onewindow.guide.synonyms import load_default_synonyms


@pytest.fixture(scope="session")
def index() -> GuideIndex:
    """The guide index over the shipped reference catalog and the default synonym map."""
    return GuideIndex.build(documents_from_catalog(load_catalog_dict()), synonyms=load_default_synonyms())
