"""Catalog export: the database as a file in the shape of catalog-reference.json (``CatalogIn``).

Rows come out in the order they were first stored (by id), so a catalog imported into an empty
database exports in its file's order. Optional keys appear only when set (an item's
``result_certificate_type``; a material's ``note``, ``kind`` and ``source``; a bundle's
``default_consent``; a policy's ``amount_yuan``, ``valid_from``, ``valid_to`` and ``basis``;
``halls`` and ``retired_items`` when there are any), so exporting an imported file gives that
file back.

Retired items: ``items`` holds every item's current version, retired ones included, so bundles and
the negative list keep pointing at items the file defines; their codes are listed in
``retired_items``. Importing the export therefore recreates the same catalog, retirements
included. Bundles and policies are exported when active.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from onewindow.catalog import service as catalog_service
from onewindow.catalog.importer import OwnedSections
from onewindow.catalog.models import (
    Bundle,
    CertificateType,
    Department,
    Hall,
    HallCategory,
    Item,
    ItemVersion,
    NegativeListEntry,
    Region,
)

MATERIAL_OPTIONAL_KEYS = ("note", "kind", "source")


def export_catalog(session: Session, *, owned: OwnedSections | None = None) -> dict[str, Any]:
    """The whole catalog as a JSON-ready dict that ``import_catalog`` accepts and reproduces.

    ``owned`` adds the sections another domain owns (policies, register fields); the county file
    (:mod:`onewindow.county_file`) plugs them in.
    """
    out: dict[str, Any] = {}
    region = _region_tree(session)
    if region is not None:
        out["region"] = region
    halls = _halls(session)
    if halls:
        out["halls"] = halls
    out["departments"] = [{"code": d.code, "name": d.name, "short_name": d.short_name}
                          for d in session.scalars(select(Department).order_by(Department.id))]
    out["hall_categories"] = [{"code": c.code, "name": c.name}
                              for c in session.scalars(select(HallCategory).order_by(HallCategory.id))]
    out["certificate_types"] = [{"code": c.code, "name": c.name, "issuer": c.issuer, "holder": c.holder}
                                for c in session.scalars(select(CertificateType).order_by(CertificateType.id))]
    items, retired = export_items(session, include_retired=True)
    out["items"] = items
    if retired:
        out["retired_items"] = retired
    out["bundles"] = _bundles(session)
    out["negative_list"] = [
        {"item": code, "reason": reason}
        for code, reason in session.execute(
            select(Item.code, NegativeListEntry.reason).join(Item, Item.id == NegativeListEntry.item_id)
            .order_by(NegativeListEntry.id))
    ]
    if owned is not None:
        out.update(owned.export(session))
    return out


def item_dict(version: ItemVersion, code: str) -> dict[str, Any]:
    """One item in the exchange shape; ``result_certificate_type``, material ``note``/``kind``/``source`` when set."""
    data = {k: v for k, v in catalog_service.version_to_input(version, code).model_dump(mode="json").items()
            if k not in catalog_service.OPTIONAL_ITEM_KEYS or v is not None}
    data["materials"] = [{k: v for k, v in m.items() if k not in MATERIAL_OPTIONAL_KEYS or v is not None}
                         for m in data["materials"]]
    if data.get("procedure") is not None:  # only the keys the item set (the file's own object)
        data["procedure"] = catalog_service.item_payload(
            catalog_service.version_to_input(version, code))["procedure"]
    return data


def export_items(session: Session, *, include_retired: bool) -> tuple[list[dict[str, Any]], list[str]]:
    """Current versions of items in stored order, and the codes of the retired ones among them."""
    stmt = (select(Item.code, Item.status, ItemVersion).join(ItemVersion, ItemVersion.id == Item.current_version_id)
            .order_by(Item.id))
    if not include_retired:
        stmt = stmt.where(Item.status == "active")
    items: list[dict[str, Any]] = []
    retired: list[str] = []
    for code, status, version in session.execute(stmt):
        items.append(item_dict(version, code))
        if status == "retired":
            retired.append(code)
    return items, retired


def _region_tree(session: Session) -> dict[str, Any] | None:
    """The first root region with its descendants (a catalog file describes one county)."""
    regions = list(session.scalars(select(Region).order_by(Region.id)))
    children: dict[int | None, list[Region]] = {}
    for r in regions:
        children.setdefault(r.parent_id, []).append(r)

    def node(r: Region) -> dict[str, Any]:
        out: dict[str, Any] = {"code": r.code, "name": r.name, "level": r.level}
        kids = children.get(r.id, [])
        if kids:
            out["children"] = [node(k) for k in kids]
        return out

    roots = children.get(None, [])
    return node(roots[0]) if roots else None


def _halls(session: Session) -> list[dict[str, Any]]:
    return [{"code": h.code, "name": h.name, "level": h.level, "region": h.region.code, "address": h.address,
             "phone": h.phone, "opening_hours": h.opening_hours}
            for h in session.scalars(select(Hall).order_by(Hall.id))]


def _bundles(session: Session) -> list[dict[str, Any]]:
    out = []
    for b in session.scalars(select(Bundle).where(Bundle.status == "active").order_by(Bundle.id)):
        row: dict[str, Any] = {"code": b.code, "name": b.name, "lead_department": b.lead_department.code,
                               "items": [m.item.code for m in b.members],
                               "promised_limit_days": b.promised_limit_days, "description": b.description}
        if b.default_consent:
            row["default_consent"] = True
        out.append(row)
    return out
