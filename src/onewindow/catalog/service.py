"""Catalog service: versioned items, organisation records, bundles, the negative list, and queries.

Write functions flush but do not commit: the caller's unit of work (request, CLI command) commits.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import Select, String, bindparam, cast, func, or_, select
from sqlalchemy.orm import Session

from onewindow.catalog import indicators, rules
from onewindow.catalog.models import (
    Bundle,
    BundleItem,
    CertificateType,
    Department,
    Hall,
    HallCategory,
    Item,
    ItemVersion,
    Material,
    NegativeListEntry,
    Region,
)
from onewindow.catalog.procedure import DEFAULT_DEFERRAL_WORKING_DAYS, Procedure, procedure_of
from onewindow.catalog.schemas import (
    BundleIn,
    BundleOut,
    CertificateTypeIn,
    DepartmentIn,
    HallCategoryIn,
    HallIn,
    ItemDetail,
    ItemIn,
    ItemSummary,
    MaterialIn,
    MaterialOut,
    NegativeEntryIn,
    ProcedureIn,
    RegionIn,
)
from onewindow.core import audit
from onewindow.core.audit import Actor
from onewindow.core.clock import Clock
from onewindow.core.errors import Conflict, NotFound, Problem, ValidationFailed

M = TypeVar("M")

# ----- items ------------------------------------------------------------------------------------


# Elements added after items were first stored: part of the content only when set, so an item
# without them keeps the hash (and version) it had before the element existed.
OPTIONAL_ITEM_KEYS = frozenset({"result_certificate_type", "procedure"})
# The key of ``ItemVersion.procedure`` that keeps the item file's own ``procedure`` object, so an
# export gives the file back unchanged; the rest of the JSON is ``Procedure.to_json()``.
PROCEDURE_OVERRIDE_KEY = "override"


def item_payload(data: ItemIn) -> dict[str, Any]:
    """The canonical content of an item (what is versioned and hashed), in the exchange shape."""
    payload = data.model_dump(mode="json")
    payload["procedure"] = data.procedure.as_override() if data.procedure is not None else None
    return {k: v for k, v in payload.items() if k not in OPTIONAL_ITEM_KEYS or v is not None}


def item_procedure(data: ItemIn, *, deferral_working_days: int = DEFAULT_DEFERRAL_WORKING_DAYS) -> Procedure:
    """The typed procedure of an item: derived from its step names and limits, the item's override on top."""
    return procedure_of(legal_days=data.legal_limit_days, promised_days=data.promised_limit_days,
                        unit=data.limit_unit, steps=data.steps,
                        override=data.procedure.as_override() if data.procedure is not None else None,
                        deferral_working_days=deferral_working_days)


def _stored_procedure(data: ItemIn) -> dict[str, Any]:
    stored = item_procedure(data).to_json()
    if data.procedure is not None:
        stored[PROCEDURE_OVERRIDE_KEY] = data.procedure.as_override()
    return stored


def keep_procedure(data: ItemIn, current: ItemVersion) -> ItemIn:
    """An edit from a form that has no procedure fields keeps the current version's override.

    The step overrides follow the steps only while their number is unchanged; the other keys stay.
    """
    if data.procedure is not None or not current.procedure or not current.procedure.get(PROCEDURE_OVERRIDE_KEY):
        return data
    override = dict(current.procedure[PROCEDURE_OVERRIDE_KEY])
    if override.get("steps") is not None and len(override["steps"]) != len([n for n in data.steps if n.strip()]):
        override.pop("steps")
    return data.model_copy(update={"procedure": ProcedureIn.model_validate(override) if override else None})


def keep_current_procedure(session: Session, data: ItemIn) -> ItemIn:
    """:func:`keep_procedure` against the item's current version, if the item exists (Excel import)."""
    item = session.scalar(select(Item).where(Item.code == data.code))
    current = session.get(ItemVersion, item.current_version_id) if item and item.current_version_id else None
    return keep_procedure(data, current) if current is not None else data


def procedure_for(session: Session, item_version_id: int, *, deferral_working_days: int | None = None) -> Procedure:
    """The procedure a case of this item version runs under (what acceptance copies onto the case).

    ``deferral_working_days`` is the region's setting (``ONEWINDOW_CASE_DEFERRAL_WORKING_DAYS``); it
    applies unless the item itself set its 容缺 days. A version stored before procedures existed is
    derived from its fields.
    """
    version = session.get(ItemVersion, item_version_id)
    if version is None:
        raise NotFound("事项版本", str(item_version_id), "item_version_id")
    stored = version.procedure
    override: dict[str, Any] = dict(stored.get(PROCEDURE_OVERRIDE_KEY) or {}) if stored else {}
    if stored:
        procedure = Procedure.from_json(stored)
    else:
        procedure = procedure_of(legal_days=version.legal_limit_days, promised_days=version.promised_limit_days,
                                 unit=version.limit_unit, steps=version.steps)
    if deferral_working_days is not None and "deferral_working_days" not in override:
        procedure = dataclasses.replace(procedure, deferral_working_days=deferral_working_days)
    return procedure


def content_hash(payload: dict[str, Any]) -> str:
    """A stable SHA-256 of an item's content."""
    return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def version_to_input(version: ItemVersion, code: str) -> ItemIn:
    """Rebuild the exchange shape of a stored version (for export, forms and comparisons)."""
    materials = [
        MaterialIn(name=m.name, required=m.required, form=m.form,  # type: ignore[arg-type]
                   copies=m.copies, deferrable=m.deferrable,
                   certificate_type=m.certificate_type.code if m.certificate_type else None,
                   note=m.note, kind=m.kind, source=m.source)  # type: ignore[arg-type]
        for m in version.materials
    ]
    return ItemIn(
        code=code, name=version.name, type=version.type, department=version.department.code,  # type: ignore[arg-type]
        hall_category=version.hall_category.code, audience=version.audience,  # type: ignore[arg-type]
        levels=version.levels,  # type: ignore[arg-type]
        legal_limit_days=version.legal_limit_days, promised_limit_days=version.promised_limit_days,
        limit_unit=version.limit_unit, instant=version.instant,  # type: ignore[arg-type]
        max_visits=version.max_visits, online_depth=version.online_depth, scope=version.scope,  # type: ignore[arg-type]
        fee=version.fee, basis=version.basis, conditions=version.conditions, steps=list(version.steps),
        materials=materials, keywords=list(version.keywords), location=version.location, phone=version.phone,
        result_certificate_type=version.result_certificate_type.code if version.result_certificate_type else None,
        procedure=(ProcedureIn.model_validate(version.procedure[PROCEDURE_OVERRIDE_KEY])
                   if version.procedure and version.procedure.get(PROCEDURE_OVERRIDE_KEY) is not None else None),
    )


@dataclass
class Lookups:
    """Code → id maps of the reference tables, loaded once per write batch."""

    departments: dict[str, int] = field(default_factory=dict)
    categories: dict[str, int] = field(default_factory=dict)
    certificate_types: dict[str, int] = field(default_factory=dict)

    @classmethod
    def load(cls, session: Session) -> Lookups:
        """Read the three maps."""
        return cls(
            departments=dict(session.execute(select(Department.code, Department.id)).all()),
            categories=dict(session.execute(select(HallCategory.code, HallCategory.id)).all()),
            certificate_types=dict(session.execute(select(CertificateType.code, CertificateType.id)).all()),
        )


def item_reference_problems(data: ItemIn, lookups: Lookups, prefix: str = "") -> list[Problem]:
    """Unknown department, hall category or certificate type codes (of materials and of the result)."""
    problems: list[Problem] = []
    if data.department not in lookups.departments:
        problems.append(Problem(f"{prefix}department", "unknown_department", f"未知部门编码：{data.department}"))
    if data.hall_category not in lookups.categories:
        problems.append(Problem(f"{prefix}hall_category", "unknown_hall_category",
                                f"未知大厅分类：{data.hall_category}"))
    for i, m in enumerate(data.materials):
        if m.certificate_type and m.certificate_type not in lookups.certificate_types:
            problems.append(Problem(f"{prefix}materials[{i}].certificate_type", "unknown_certificate_type",
                                    f"未知证照类型：{m.certificate_type}"))
    if data.result_certificate_type and data.result_certificate_type not in lookups.certificate_types:
        problems.append(Problem(f"{prefix}result_certificate_type", "unknown_certificate_type",
                                f"未知证照类型（办理结果）：{data.result_certificate_type}"))
    return problems


@dataclass(frozen=True)
class SaveResult:
    """What a save did: created the item, added a version, or nothing (same content)."""

    item: Item
    version: ItemVersion
    created: bool
    changed: bool


def save_item(session: Session, *, clock: Clock, actor: Actor, data: ItemIn, change_note: str = "",
              lookups: Lookups | None = None, expected_version: int | None = None) -> SaveResult:
    """Create an item or add a new version when its content changed; identical content changes nothing."""
    lookups = lookups or Lookups.load(session)
    problems = rules.item_errors(data) + item_reference_problems(data, lookups)
    if problems:
        raise ValidationFailed(problems)
    payload = item_payload(data)
    digest = content_hash(payload)
    item = session.scalar(select(Item).where(Item.code == data.code))
    current = session.get(ItemVersion, item.current_version_id) if item and item.current_version_id else None
    if expected_version is not None and current is not None and current.version != expected_version:
        raise Conflict(f"事项已被他人修改（当前版本 {current.version}），请刷新后重试", code="stale_version",
                       field="version")
    if item is not None and current is not None and current.content_hash == digest:
        return SaveResult(item, current, created=False, changed=False)
    now = clock.now()
    created = item is None
    if item is None:
        item = Item(code=data.code, status="active", created_at=now)
        session.add(item)
        session.flush()
    version = ItemVersion(
        item_id=item.id, version=(current.version + 1) if current else 1, name=data.name, type=data.type,
        department_id=lookups.departments[data.department], hall_category_id=lookups.categories[data.hall_category],
        audience=data.audience, at_county="county" in data.levels, at_town="town" in data.levels,
        at_village="village" in data.levels, legal_limit_days=data.legal_limit_days,
        promised_limit_days=data.promised_limit_days, limit_unit=data.limit_unit, instant=data.instant,
        max_visits=data.max_visits, online_depth=data.online_depth, scope=data.scope, fee=data.fee, basis=data.basis,
        conditions=data.conditions, steps=list(data.steps), procedure=_stored_procedure(data),
        keywords=list(data.keywords), location=data.location, phone=data.phone, content_hash=digest,
        created_at=now, created_by=actor.label, change_note=change_note[:200],
        result_certificate_type_id=(lookups.certificate_types[data.result_certificate_type]
                                    if data.result_certificate_type else None),
    )
    version.materials = [
        Material(position=i, name=m.name, required=m.required, form=m.form, copies=m.copies, deferrable=m.deferrable,
                 certificate_type_id=lookups.certificate_types[m.certificate_type] if m.certificate_type else None,
                 note=m.note, kind=m.kind, source=m.source)
        for i, m in enumerate(data.materials)
    ]
    session.add(version)
    session.flush()
    item.current_version_id = version.id
    session.flush()
    action = "catalog.item_created" if created else "catalog.item_versioned"
    before = None if current is None else {"version": current.version, "content_hash": current.content_hash}
    audit.record(session, clock=clock, actor=actor, action=action, entity_type="item", entity_id=data.code,
                 before=before,
                 after={"version": version.version, "content_hash": digest, "name": data.name,
                        "change_note": change_note[:200]})
    return SaveResult(item, version, created=created, changed=True)


def set_item_status(session: Session, *, clock: Clock, actor: Actor, code: str, status: str) -> Item:
    """Retire an item (no new applications) or put it back in service."""
    item = get_item_row(session, code)
    if item.status == status:
        return item
    before = item.status
    item.status = status
    item.retired_at = clock.now() if status == "retired" else None
    action = "catalog.item_retired" if status == "retired" else "catalog.item_restored"
    audit.record(session, clock=clock, actor=actor, action=action,
                 entity_type="item", entity_id=code, before={"status": before}, after={"status": status})
    session.flush()
    return item


def _by_code(session: Session, model: type[M], code: str, what: str, field_name: str) -> M:
    row: M | None = session.scalars(select(model).where(model.code == code)).first()  # type: ignore[attr-defined]
    if row is None:
        raise NotFound(what, code, field_name)
    return row


def get_item_row(session: Session, code: str) -> Item:
    """The item with this code, or 404."""
    return _by_code(session, Item, code, "事项", "code")


def get_item_version(session: Session, code: str, version: int | None = None) -> tuple[Item, ItemVersion]:
    """An item and its current (or a given) version, or 404."""
    item = get_item_row(session, code)
    if version is None:
        iv = session.get(ItemVersion, item.current_version_id) if item.current_version_id else None
    else:
        iv = session.scalar(select(ItemVersion).where(ItemVersion.item_id == item.id, ItemVersion.version == version))
    if iv is None:
        raise NotFound("事项版本", f"{code} v{version}", "version")
    return item, iv


def item_versions(session: Session, item: Item) -> list[ItemVersion]:
    """Every version of an item, newest first."""
    return list(session.scalars(select(ItemVersion).where(ItemVersion.item_id == item.id)
                                .order_by(ItemVersion.version.desc())))


@dataclass(frozen=True)
class ItemFilters:
    """Filters of the item list; None means no filter."""

    department: str | None = None
    category: str | None = None
    audience: str | None = None
    level: str | None = None
    type: str | None = None
    instant: bool | None = None
    online_depth: int | None = None
    min_online_depth: int | None = None
    text: str | None = None
    include_retired: bool = False


def _filtered(filters: ItemFilters) -> Select[Item, ItemVersion]:
    stmt = select(Item, ItemVersion).join(ItemVersion, ItemVersion.id == Item.current_version_id)
    if not filters.include_retired:
        stmt = stmt.where(Item.status == "active")
    if filters.department:
        stmt = stmt.join(Department, Department.id == ItemVersion.department_id).where(
            Department.code == filters.department)
    if filters.category:
        stmt = stmt.join(HallCategory, HallCategory.id == ItemVersion.hall_category_id).where(
            HallCategory.code == filters.category)
    if filters.audience:
        stmt = stmt.where(ItemVersion.audience.in_([filters.audience, "both"]))
    if filters.level:
        column = {"county": ItemVersion.at_county, "town": ItemVersion.at_town,
                  "village": ItemVersion.at_village}[filters.level]
        stmt = stmt.where(column.is_(True))
    if filters.type:
        stmt = stmt.where(ItemVersion.type == filters.type)
    if filters.instant is not None:
        stmt = stmt.where(ItemVersion.instant.is_(filters.instant))
    if filters.online_depth is not None:
        stmt = stmt.where(ItemVersion.online_depth == filters.online_depth)
    if filters.min_online_depth is not None:
        stmt = stmt.where(ItemVersion.online_depth >= filters.min_online_depth)
    if filters.text:
        like = f"%{filters.text.strip()}%"
        # keywords are a JSON list; matching its text form is enough for a plain filter
        # (the 智能导办 search is the real question-answering path).
        stmt = stmt.where(or_(ItemVersion.name.like(like), Item.code.like(like),
                              cast(ItemVersion.keywords, String).like(like)))
    return stmt


def list_items(session: Session, filters: ItemFilters, *, limit: int = 50, offset: int = 0
               ) -> tuple[list[tuple[Item, ItemVersion]], int]:
    """A page of items (current versions) matching the filters, ordered by code, and the total."""
    stmt = _filtered(filters)
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    rows = session.execute(stmt.order_by(Item.code).limit(limit).offset(offset)).all()
    return [(i, v) for i, v in rows], int(total)


def negative_reasons(session: Session, item_ids: list[int]) -> dict[int, str]:
    """Negative-list reasons by item id."""
    if not item_ids:
        return {}
    return dict(session.execute(select(NegativeListEntry.item_id, NegativeListEntry.reason)
                                .where(NegativeListEntry.item_id.in_(item_ids))).all())


def bundles_of_items(session: Session, item_ids: list[int]) -> dict[int, list[Bundle]]:
    """Active bundles each item belongs to."""
    out: dict[int, list[Bundle]] = {i: [] for i in item_ids}
    if not item_ids:
        return out
    rows = session.execute(select(BundleItem.item_id, Bundle).join(Bundle, Bundle.id == BundleItem.bundle_id)
                           .where(BundleItem.item_id.in_(item_ids), Bundle.status == "active")
                           .order_by(Bundle.code)).all()
    for item_id, bundle in rows:
        out[item_id].append(bundle)
    return out


# ----- organisation and reference tables ------------------------------------------------------


def _changed(obj: Any, values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if getattr(obj, k) != v}


def _upsert(session: Session, *, clock: Clock, actor: Actor, model: type[Any], code: str, values: dict[str, Any],
            entity_type: str) -> bool:
    """Insert or update a row keyed by code; audit and return True when anything changed."""
    row = session.scalar(select(model).where(model.code == code))
    if row is None:
        row = model(code=code, **values)
        session.add(row)
        session.flush()
        audit.record(session, clock=clock, actor=actor, action=f"catalog.{entity_type}_created",
                     entity_type=entity_type, entity_id=code, after=values)
        return True
    diff = _changed(row, values)
    if not diff:
        return False
    before = {k: getattr(row, k) for k in diff}
    for k, v in diff.items():
        setattr(row, k, v)
    session.flush()
    audit.record(session, clock=clock, actor=actor, action=f"catalog.{entity_type}_updated",
                 entity_type=entity_type, entity_id=code, before=before, after=diff)
    return True


def save_department(session: Session, *, clock: Clock, actor: Actor, data: DepartmentIn) -> bool:
    """Create or update a department."""
    county = session.scalar(select(Region.id).where(Region.level == "county").order_by(Region.id).limit(1))
    values: dict[str, Any] = {"name": data.name, "short_name": data.short_name}
    if session.scalar(select(Department.id).where(Department.code == data.code)) is None:
        values["region_id"] = county
    return _upsert(session, clock=clock, actor=actor, model=Department, code=data.code, values=values,
                   entity_type="department")


def save_hall_category(session: Session, *, clock: Clock, actor: Actor, data: HallCategoryIn) -> bool:
    """Create or update a hall category."""
    return _upsert(session, clock=clock, actor=actor, model=HallCategory, code=data.code,
                   values={"name": data.name}, entity_type="hall_category")


def save_certificate_type(session: Session, *, clock: Clock, actor: Actor, data: CertificateTypeIn) -> bool:
    """Create or update a certificate type."""
    return _upsert(session, clock=clock, actor=actor, model=CertificateType, code=data.code,
                   values={"name": data.name, "issuer": data.issuer, "holder": data.holder},
                   entity_type="certificate_type")


def save_region_tree(session: Session, *, clock: Clock, actor: Actor, data: RegionIn,
                     parent_id: int | None = None) -> int:
    """Create or update a region and its descendants; returns how many rows changed."""
    changed = int(_upsert(session, clock=clock, actor=actor, model=Region, code=data.code,
                          values={"name": data.name, "level": data.level, "parent_id": parent_id},
                          entity_type="region"))
    region_id = session.scalar(select(Region.id).where(Region.code == data.code))
    for child in data.children:
        changed += save_region_tree(session, clock=clock, actor=actor, data=child, parent_id=region_id)
    return changed


def save_hall(session: Session, *, clock: Clock, actor: Actor, data: HallIn) -> bool:
    """Create or update a hall (its region must exist)."""
    region_id = session.scalar(select(Region.id).where(Region.code == data.region))
    if region_id is None:
        raise ValidationFailed([Problem("region", "unknown_region", f"未知行政区划编码：{data.region}")])
    return _upsert(session, clock=clock, actor=actor, model=Hall, code=data.code,
                   values={"name": data.name, "level": data.level, "region_id": region_id, "address": data.address,
                           "phone": data.phone, "opening_hours": data.opening_hours}, entity_type="hall")


def save_bundle(session: Session, *, clock: Clock, actor: Actor, data: BundleIn) -> bool:
    """Create or update a bundle and its member list (items must exist)."""
    problems: list[Problem] = []
    lead_id = session.scalar(select(Department.id).where(Department.code == data.lead_department))
    if lead_id is None:
        problems.append(Problem("lead_department", "unknown_department", f"未知部门编码：{data.lead_department}"))
    item_ids = dict(session.execute(select(Item.code, Item.id).where(Item.code.in_(data.items))).all())
    for i, code in enumerate(data.items):
        if code not in item_ids:
            problems.append(Problem(f"items[{i}]", "unknown_item", f"未知事项编码：{code}"))
    if len(set(data.items)) != len(data.items):
        problems.append(Problem("items", "duplicate_item", "一件事中的事项有重复"))
    if problems:
        raise ValidationFailed(problems)
    now = clock.now()
    bundle = session.scalar(select(Bundle).where(Bundle.code == data.code))
    values = {"name": data.name, "lead_department_id": lead_id, "promised_limit_days": data.promised_limit_days,
              "description": data.description, "default_consent": data.default_consent}
    members_now = [m.item.code for m in bundle.members] if bundle else []
    if bundle is None:
        bundle = Bundle(code=data.code, status="active", updated_at=now, **values)
        session.add(bundle)
        before = None
    else:
        diff = _changed(bundle, values)
        if not diff and members_now == data.items:
            return False
        before = {**{k: getattr(bundle, k) for k in diff}, "items": members_now}
        for k, v in diff.items():
            setattr(bundle, k, v)
        bundle.updated_at = now
    if members_now != data.items:
        bundle.members.clear()
        session.flush()
        bundle.members.extend(BundleItem(item_id=item_ids[code], position=i) for i, code in enumerate(data.items))
    session.flush()
    audit.record(session, clock=clock, actor=actor,
                 action="catalog.bundle_created" if before is None else "catalog.bundle_updated",
                 entity_type="bundle", entity_id=data.code, before=before, after={**values, "items": data.items})
    return True


def set_negative_entry(session: Session, *, clock: Clock, actor: Actor, data: NegativeEntryIn) -> bool:
    """Put an item on the negative list, or update the reason."""
    item = get_item_row(session, data.item)
    entry = session.scalar(select(NegativeListEntry).where(NegativeListEntry.item_id == item.id))
    if entry is not None and entry.reason == data.reason:
        return False
    before = {"reason": entry.reason} if entry else None
    if entry is None:
        session.add(NegativeListEntry(item_id=item.id, reason=data.reason))
    else:
        entry.reason = data.reason
    session.flush()
    audit.record(session, clock=clock, actor=actor, action="catalog.negative_list_set", entity_type="item",
                 entity_id=data.item, before=before, after={"reason": data.reason})
    return True


def department_by_code(session: Session, code: str) -> Department:
    """A department, or 404."""
    return _by_code(session, Department, code, "部门", "department")


def bundle_by_code(session: Session, code: str) -> Bundle:
    """A bundle, or 404."""
    return _by_code(session, Bundle, code, "一件事", "code")


def current_versions(session: Session, item_ids: list[int]) -> dict[int, ItemVersion]:
    """Current versions of the given items, by item id (one query)."""
    if not item_ids:
        return {}
    rows = session.execute(select(Item.id, ItemVersion).join(ItemVersion, ItemVersion.id == Item.current_version_id)
                           .where(Item.id.in_(item_ids))).all()
    return dict(rows)


# ----- admin pages: lists and the dashboard ----------------------------------------------------


def list_departments(session: Session) -> list[tuple[Department, int]]:
    """Departments by code, each with the number of its items in service."""
    counts = dict(session.execute(
        select(ItemVersion.department_id, func.count()).join(Item, Item.current_version_id == ItemVersion.id)
        .where(Item.status == "active").group_by(ItemVersion.department_id)).all())
    return [(d, int(counts.get(d.id, 0))) for d in session.scalars(select(Department).order_by(Department.code))]


def list_halls(session: Session) -> list[Hall]:
    """Halls by code."""
    return list(session.scalars(select(Hall).order_by(Hall.code)))


_HALL_BY_CODE = select(Hall).where(Hall.code == bindparam("code"))  # built once: every ticket taken looks its hall up


def hall_by_code(session: Session, code: str) -> Hall:
    """A hall, or 404."""
    hall = session.scalars(_HALL_BY_CODE, {"code": code}).first()
    if hall is None:
        raise _no_hall(code)
    return hall


class HallKey(NamedTuple):
    """A hall's id, code and name: what a ticket needs of its hall (no ORM object to load)."""

    id: int
    code: str
    name: str


_HALL_KEY_BY_CODE = select(Hall.id, Hall.code, Hall.name).where(Hall.code == bindparam("code"))


def hall_key(session: Session, code: str) -> HallKey:
    """A hall's id, code and name, or 404 (as :func:`hall_by_code`)."""
    row = session.connection().execute(_HALL_KEY_BY_CODE, {"code": code}).first()
    if row is None:
        raise _no_hall(code)
    return HallKey(*row)


def _no_hall(code: str) -> NotFound:
    return NotFound("大厅", code, "code")


def list_regions(session: Session) -> list[Region]:
    """Regions by code."""
    return list(session.scalars(select(Region).order_by(Region.code)))


def list_hall_categories(session: Session) -> list[HallCategory]:
    """Hall categories by letter."""
    return list(session.scalars(select(HallCategory).order_by(HallCategory.code)))


def list_certificate_types(session: Session) -> list[CertificateType]:
    """E-certificate types by code."""
    return list(session.scalars(select(CertificateType).order_by(CertificateType.code)))


def list_bundles(session: Session) -> list[Bundle]:
    """Every bundle (any status) by code."""
    return list(session.scalars(select(Bundle).order_by(Bundle.code)))


def catalog_counts(session: Session) -> dict[str, int]:
    """Record counts for the admin dashboard."""
    by_status = dict(session.execute(select(Item.status, func.count()).group_by(Item.status)).all())
    return {
        "items_active": int(by_status.get("active", 0)),
        "items_retired": int(by_status.get("retired", 0)),
        "bundles": int(session.scalar(select(func.count()).select_from(Bundle).where(Bundle.status == "active")) or 0),
        "departments": int(session.scalar(select(func.count()).select_from(Department)) or 0),
        "halls": int(session.scalar(select(func.count()).select_from(Hall)) or 0),
    }


def catalog_indicators(session: Session) -> indicators.CatalogIndicators:
    """DESIGN.md catalog indicators over the current versions of the items in service."""
    rows = session.execute(
        select(ItemVersion.instant, ItemVersion.max_visits, ItemVersion.online_depth,
               ItemVersion.legal_limit_days, ItemVersion.promised_limit_days)
        .join(Item, Item.current_version_id == ItemVersion.id).where(Item.status == "active")).all()
    return indicators.catalog_indicators(indicators.ItemFacts(*row) for row in rows)


def items_by_codes(session: Session, codes: list[str]) -> list[tuple[Item, ItemVersion]]:
    """Active items with their current versions, in the order of ``codes`` (one query)."""
    if not codes:
        return []
    rows = session.execute(select(Item, ItemVersion).join(ItemVersion, ItemVersion.id == Item.current_version_id)
                           .where(Item.code.in_(codes), Item.status == "active")).all()
    by_code = {i.code: (i, v) for i, v in rows}
    return [by_code[c] for c in codes if c in by_code]


# ----- read models shared by the API and the pages -----------------------------------------------


def item_summary(item: Item, v: ItemVersion) -> ItemSummary:
    """The list view of an item version."""
    return ItemSummary(
        code=item.code, name=v.name, type=v.type, department=v.department.code, department_name=v.department.name,
        hall_category=v.hall_category.code, audience=v.audience, levels=v.levels, instant=v.instant,
        online_depth=v.online_depth, max_visits=v.max_visits, legal_limit_days=v.legal_limit_days,
        promised_limit_days=v.promised_limit_days, limit_unit=v.limit_unit, status=item.status, version=v.version,
    )


def item_details(session: Session, pairs: list[tuple[Item, ItemVersion]], *,
                 bundles_by_item: dict[int, list[Bundle]] | None = None) -> list[ItemDetail]:
    """Full views of several item versions, with two queries in all (negative list, bundles)."""
    ids = [item.id for item, _ in pairs]
    reasons = negative_reasons(session, ids)
    bundles = bundles_by_item if bundles_by_item is not None else bundles_of_items(session, ids)
    out = []
    for item, v in pairs:
        materials = [
            MaterialOut(name=m.name, required=m.required, form=m.form, copies=m.copies, deferrable=m.deferrable,
                        certificate_type=m.certificate_type.code if m.certificate_type else None,
                        certificate_type_name=m.certificate_type.name if m.certificate_type else None,
                        note=m.note, kind=m.kind, source=m.source)
            for m in v.materials
        ]
        out.append(ItemDetail(
            **item_summary(item, v).model_dump(), scope=v.scope, fee=v.fee, basis=v.basis, conditions=v.conditions,
            steps=list(v.steps), materials=materials, keywords=list(v.keywords), location=v.location, phone=v.phone,
            negative_list_reason=reasons.get(item.id), bundles=[b.code for b in bundles.get(item.id, [])],
            updated_at=v.created_at,
            result_certificate_type=v.result_certificate_type.code if v.result_certificate_type else None,
            result_certificate_type_name=v.result_certificate_type.name if v.result_certificate_type else None))
    return out


def item_detail(session: Session, item: Item, v: ItemVersion) -> ItemDetail:
    """The full view of one item version."""
    return item_details(session, [(item, v)])[0]


def bundle_view(session: Session, bundle: Bundle, versions: dict[int, ItemVersion] | None = None) -> BundleOut:
    """A bundle with its member items (one query for the versions unless they are given)."""
    if versions is None:
        versions = current_versions(session, [m.item_id for m in bundle.members])
    return BundleOut(code=bundle.code, name=bundle.name, lead_department=bundle.lead_department.code,
                     lead_department_name=bundle.lead_department.name, promised_limit_days=bundle.promised_limit_days,
                     description=bundle.description, default_consent=bundle.default_consent, status=bundle.status,
                     items=[item_summary(m.item, versions[m.item_id]) for m in bundle.members
                            if m.item_id in versions])
