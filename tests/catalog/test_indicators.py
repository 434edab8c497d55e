"""Catalog indicators against numbers worked out by hand on a four-item catalog."""

from __future__ import annotations

import pytest

from onewindow.catalog.indicators import ItemFacts, catalog_indicators

# instant, visits, depth, legal, promised
CATALOG = [
    ItemFacts(True, 0, 4, 0, 0),  # 即办件, 零跑动, 全程网办; no legal limit: not in the speed-up sums
    ItemFacts(False, 1, 3, 20, 5),  # 网上可办
    ItemFacts(False, 0, 4, 10, 5),  # 零跑动, 全程网办
    ItemFacts(False, 2, 2, 30, 20),
]


def test_shares_of_a_four_item_catalog_match_hand_counts() -> None:
    result = catalog_indicators(CATALOG)
    assert result.items == 4
    assert result.instant_share == pytest.approx(1 / 4)
    assert result.zero_visit_share == pytest.approx(2 / 4)
    assert result.online_share == pytest.approx(3 / 4)  # depth 4, 3, 4
    assert result.full_online_share == pytest.approx(2 / 4)


def test_limit_reduction_counts_only_items_with_a_legal_limit() -> None:
    # Σ promised = 5 + 5 + 20 = 30, Σ legal = 20 + 10 + 30 = 60 → 1 − 30/60 = 0.5
    assert catalog_indicators(CATALOG).limit_reduction == pytest.approx(0.5)


def test_empty_catalog_has_no_shares_instead_of_dividing_by_zero() -> None:
    result = catalog_indicators([])
    assert result.items == 0
    assert result.instant_share is None
    assert result.limit_reduction is None


def test_catalog_of_instant_items_only_has_no_limit_reduction() -> None:
    result = catalog_indicators([ItemFacts(True, 0, 4, 0, 0)])
    assert result.instant_share == 1.0
    assert result.limit_reduction is None
