"""Catalog indicators of DESIGN.md "Metrics" (即办件占比, 零跑动事项占比, 网上可办率 …). Pure: no database.

The service feeds the current versions of the items in service; dashboards and benchmarks read
the result. A share whose denominator is empty is ``None`` (shown as "—"), never a division by zero.

承诺时限提速率 sums limits as stored, whatever their unit: the published indicator is defined that
way and mixing working and natural days is how provinces report it too.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

FULL_ONLINE_DEPTH = 4  # 四级：全程网办
ONLINE_DEPTH = 3  # 三级及以上：网上可办


@dataclass(frozen=True, slots=True)
class ItemFacts:
    """What the indicators need to know about one item (its current version)."""

    instant: bool
    max_visits: int
    online_depth: int
    legal_limit_days: int
    promised_limit_days: int


@dataclass(frozen=True, slots=True)
class CatalogIndicators:
    """The catalog indicators; every share is a fraction in [0, 1], or None without items."""

    items: int
    instant_share: float | None  # 即办件占比
    zero_visit_share: float | None  # 零跑动事项占比
    online_share: float | None  # 网上可办率（网办深度 ≥ 3）
    full_online_share: float | None  # 全程网办率（网办深度 4）
    limit_reduction: float | None  # 承诺时限提速率 = 1 − Σ承诺时限 / Σ法定时限


def _share(count: int, total: int) -> float | None:
    return count / total if total else None


def catalog_indicators(items: Iterable[ItemFacts]) -> CatalogIndicators:
    """Compute the catalog indicators over the given items."""
    rows = list(items)
    total = len(rows)
    with_legal = [r for r in rows if r.legal_limit_days > 0]
    legal_sum = sum(r.legal_limit_days for r in with_legal)
    promised_sum = sum(r.promised_limit_days for r in with_legal)
    return CatalogIndicators(
        items=total,
        instant_share=_share(sum(1 for r in rows if r.instant), total),
        zero_visit_share=_share(sum(1 for r in rows if r.max_visits == 0), total),
        online_share=_share(sum(1 for r in rows if r.online_depth >= ONLINE_DEPTH), total),
        full_online_share=_share(sum(1 for r in rows if r.online_depth >= FULL_ONLINE_DEPTH), total),
        limit_reduction=1 - promised_sum / legal_sum if legal_sum else None,
    )
