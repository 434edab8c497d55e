"""Guide tables: the admin-editable synonym map and the log of questions without a good answer."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from onewindow.db import AwareDateTime, Base


class GuideSynonyms(Base):
    """The synonym and life-event map in force (one row; edits are audited)."""

    __tablename__ = "guide_synonyms"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[dt.datetime] = mapped_column(AwareDateTime())
    updated_by: Mapped[str] = mapped_column(String(100))


class GuideQuery(Base):
    """A question the guide could not answer well (personal numbers masked before storing)."""

    __tablename__ = "guide_query"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(AwareDateTime(), index=True)
    query_text: Mapped[str] = mapped_column(String(200), index=True)
    good: Mapped[bool] = mapped_column(Boolean)
    hit_count: Mapped[int] = mapped_column(Integer)
    top_code: Mapped[str | None] = mapped_column(String(60))


class GuideEmbedding(Base):
    """A document's vector from the semantic model, keyed by the model and the exact passage text.

    A catalog change alters a passage's text and so its key: the new vector is computed once and
    stored; rows no document uses any more are deleted when the index is rebuilt.
    """

    __tablename__ = "guide_embedding"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    model: Mapped[str] = mapped_column(String(80))
    vector: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(AwareDateTime())


class GuideMapping(Base):
    """An admin's answer to a question the guide could not answer: the right item or bundle.

    It feeds the synonym map (the question becomes a colloquial term for the answer) and the
    evaluation set exported as TSV.
    """

    __tablename__ = "guide_mapping"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    query_text: Mapped[str] = mapped_column(String(200), unique=True)
    code: Mapped[str] = mapped_column(String(60))
    kind: Mapped[str] = mapped_column(String(10))
    mapped_at: Mapped[dt.datetime] = mapped_column(AwareDateTime(), index=True)
    mapped_by: Mapped[str] = mapped_column(String(100))


class GuideFeedback(Base):
    """A visitor's answer to "did this answer help?" on the result page (question scrubbed)."""

    __tablename__ = "guide_feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(AwareDateTime(), index=True)
    query_text: Mapped[str] = mapped_column(String(200), index=True)
    top_code: Mapped[str | None] = mapped_column(String(60))
    helpful: Mapped[bool] = mapped_column(Boolean)
