"""Every state, verdict and source kind fits the column that stores it (PostgreSQL refuses what SQLite keeps)."""

from __future__ import annotations

from enum import StrEnum

import pytest
from sqlalchemy import Column

from onewindow.rectification.models import RectificationEvent, RectificationOrder
from onewindow.rectification.states import OrderState, SourceKind, Verdict

COLUMNS: list[tuple[type[StrEnum], Column[str]]] = [
    (OrderState, RectificationOrder.__table__.c.state),
    (OrderState, RectificationEvent.__table__.c.from_state),
    (OrderState, RectificationEvent.__table__.c.to_state),
    (SourceKind, RectificationOrder.__table__.c.source_kind),
    (Verdict, RectificationOrder.__table__.c.callback_verdict),
]


@pytest.mark.parametrize(("values", "column"), COLUMNS, ids=[c.name for _v, c in COLUMNS])
def test_the_longest_value_fits(values: type[StrEnum], column: Column[str]) -> None:
    assert max(len(v.value) for v in values) <= column.type.length  # type: ignore[attr-defined]
