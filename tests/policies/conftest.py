"""Shared fixtures of the policy tests: the reference catalog, its register fields, a signed-in browser."""

from __future__ import annotations

from typing import Any

import pytest

from onewindow.policies.conditions import FieldDef, field_defs
from onewindow.policies.synthetic import reference_catalog


@pytest.fixture(scope="session")
def catalog() -> dict[str, Any]:
    return reference_catalog()


@pytest.fixture(scope="session")
def fields_by_kind(catalog: dict[str, Any]) -> dict[str, dict[str, FieldDef]]:
    return {kind: field_defs(rows) for kind, rows in catalog["entity_fields"].items()}


