"""Guide tables: the admin-editable synonym map and the log of questions without a good answer."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, Integer, String
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
