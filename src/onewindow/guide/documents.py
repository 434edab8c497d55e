"""Searchable documents built from a catalog in the JSON shape of ``catalog-reference.json``.

This is the only adapter between the catalog and the search engine: the reference JSON and the
output of ``onewindow catalog export`` have the same shape, so both go through
:func:`documents_from_catalog`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from onewindow.core.errors import Problem, ValidationFailed

DocumentKind = Literal["item", "bundle"]

_UNITS = {"working_day": "个工作日", "natural_day": "个自然日"}
_DEPTHS = {1: "网办深度一级", 2: "网办深度二级", 3: "网上可办", 4: "全程网办"}


@dataclass(frozen=True)
class GuideDocument:
    """One service item or bundle as the guide search sees it: text fields plus display facts."""

    kind: DocumentKind
    code: str
    name: str
    keywords: tuple[str, ...] = ()
    description: str = ""
    department: str = ""
    department_aliases: tuple[str, ...] = ()
    conditions: str = ""
    materials: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    member_codes: tuple[str, ...] = ()
    member_names: tuple[str, ...] = ()
    summary: str = ""
    audience: str = ""  # person / enterprise / both (items only)


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _texts(values: Any) -> tuple[str, ...]:
    if not isinstance(values, list | tuple):
        return ()
    return tuple(t for t in (_text(v) for v in values) if t)


def _item_summary(item: Mapping[str, Any]) -> str:
    parts: list[str] = []
    if item.get("instant"):
        parts.append("即办件")
    limit = item.get("promised_limit_days")
    if isinstance(limit, int) and not item.get("instant"):
        parts.append(f"承诺{limit}{_UNITS.get(_text(item.get('limit_unit')), '个工作日')}办结")
    visits = item.get("max_visits")
    if isinstance(visits, int):
        parts.append("零跑动" if visits == 0 else f"最多跑{visits}次")
    depth = item.get("online_depth")
    if isinstance(depth, int) and depth in _DEPTHS:
        parts.append(_DEPTHS[depth])
    fee = _text(item.get("fee"))
    if fee:
        parts.append(fee)
    return " · ".join(parts)


def documents_from_catalog(catalog: Mapping[str, Any]) -> list[GuideDocument]:
    """Items in service and bundles of a catalog dict as guide documents (items first, then bundles).

    Codes listed under ``retired_items`` (as ``onewindow catalog export`` writes them) are left out.
    """
    problems: list[Problem] = []
    retired = set(_texts(catalog.get("retired_items")))
    departments: dict[str, tuple[str, tuple[str, ...]]] = {}
    for dept in catalog.get("departments") or []:
        code = _text(dept.get("code"))
        if code:
            short = _text(dept.get("short_name"))
            departments[code] = (_text(dept.get("name")) or code, (short,) if short else ())
    categories = {_text(c.get("code")): _text(c.get("name")) for c in catalog.get("hall_categories") or []}

    docs: list[GuideDocument] = []
    item_names: dict[str, str] = {}
    for index, item in enumerate(catalog.get("items") or []):
        code, name = _text(item.get("code")), _text(item.get("name"))
        if not code or not name:
            problems.append(Problem(f"items[{index}]", "missing_code_or_name", "事项缺少编码或名称"))
            continue
        if code in retired:
            continue
        item_names[code] = name
        dept_name, dept_aliases = departments.get(_text(item.get("department")), ("", ()))
        materials = tuple(t for t in (_text(m.get("name")) for m in item.get("materials") or []
                                      if isinstance(m, Mapping)) if t)
        cats = tuple(t for t in (categories.get(_text(item.get("hall_category")), ""),
                                 _text(item.get("type"))) if t)
        docs.append(GuideDocument(
            kind="item", code=code, name=name, keywords=_texts(item.get("keywords")),
            department=dept_name, department_aliases=dept_aliases,
            conditions=_text(item.get("conditions")), materials=materials, categories=cats,
            summary=_item_summary(item), audience=_text(item.get("audience")),
        ))

    for index, bundle in enumerate(catalog.get("bundles") or []):
        code, name = _text(bundle.get("code")), _text(bundle.get("name"))
        if not code or not name:
            problems.append(Problem(f"bundles[{index}]", "missing_code_or_name", "一件事缺少编码或名称"))
            continue
        members = tuple(m for m in _texts(bundle.get("items")) if m not in retired)
        dept_name, dept_aliases = departments.get(_text(bundle.get("lead_department")), ("", ()))
        limit = bundle.get("promised_limit_days")
        summary = f"联办{len(members)}个事项" + (f" · 承诺{limit}个工作日办结" if isinstance(limit, int) else "")
        docs.append(GuideDocument(
            kind="bundle", code=code, name=name, keywords=_texts(bundle.get("keywords")),
            description=_text(bundle.get("description")), department=dept_name,
            department_aliases=dept_aliases, categories=("一件事一次办",), member_codes=members,
            member_names=tuple(item_names[m] for m in members if m in item_names), summary=summary,
        ))
    if problems:
        raise ValidationFailed(problems)
    return docs
