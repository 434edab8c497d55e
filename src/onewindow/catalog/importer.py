"""Catalog import: validate a whole file first, write nothing if anything is wrong, then upsert.

Every row is parsed on its own, so one broken row does not hide the problems of the others: the
caller gets every problem at once, each with its path and the row's code
(``items[12]（410724-XXX）.department: 未知部门编码：FOO``). Indexes are the zero-based positions in
the file's arrays, as in a JSON path.

Importing the same file twice changes nothing: items compare content hashes, other rows compare
values, and only rows that really change are written and audited. An import adds and updates; it
never deletes a row missing from the file and never puts a retired item back in service.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from onewindow.catalog import rules
from onewindow.catalog import service as catalog_service
from onewindow.catalog.models import (
    Bundle,
    CertificateType,
    Department,
    Hall,
    HallCategory,
    Item,
    NegativeListEntry,
    Region,
)
from onewindow.catalog.schemas import (
    LEVEL_LABELS,
    LEVELS,
    BundleIn,
    CatalogIn,
    CertificateTypeIn,
    DepartmentIn,
    EntityFieldsIn,
    HallCategoryIn,
    HallIn,
    ItemIn,
    NegativeEntryIn,
    PolicyIn,
    RegionIn,
)
from onewindow.core.audit import Actor
from onewindow.core.clock import Clock
from onewindow.core.errors import Problem, ValidationFailed
from onewindow.core.validation import pydantic_problems

M = TypeVar("M", bound=BaseModel)

# Sections in the order problems are listed and rows are written.
SECTIONS: tuple[str, ...] = ("region", "halls", "departments", "hall_categories", "certificate_types", "items",
                             "retired_items", "bundles", "negative_list", "policies", "entity_fields")
ROW_MODELS: dict[str, type[BaseModel]] = {
    "halls": HallIn, "departments": DepartmentIn, "hall_categories": HallCategoryIn,
    "certificate_types": CertificateTypeIn, "items": ItemIn, "bundles": BundleIn, "negative_list": NegativeEntryIn,
    "policies": PolicyIn,
}
_PATH_HEAD = re.compile(r"^([a-z_]+)(?:\[(\d+)\])?")


@dataclass
class ImportReport:
    """What an import created, changed or left unchanged per section, and warnings that did not block it."""

    counts: dict[str, int] = field(default_factory=dict)  # created or changed
    unchanged: dict[str, int] = field(default_factory=dict)
    warnings: list[Problem] = field(default_factory=list)
    created: dict[str, int] = field(default_factory=dict)  # the part of ``counts`` that is new

    def bump(self, section: str, changed: bool, *, created: bool = False) -> None:
        """Count one row of a section as created, changed or unchanged."""
        target = self.counts if changed else self.unchanged
        target[section] = target.get(section, 0) + 1
        if changed and created:
            self.created[section] = self.created.get(section, 0) + 1

    @property
    def changed_total(self) -> int:
        """How many rows were created or changed."""
        return sum(self.counts.values())

    def sections(self) -> list[str]:
        """Sections with any row, in file order (the region tree counts as ``regions``)."""
        order = [("regions" if s == "region" else s) for s in SECTIONS]
        seen = set(self.counts) | set(self.unchanged)
        return [s for s in order if s in seen] + sorted(seen - set(order))

    def row(self, section: str) -> tuple[int, int, int]:
        """(created, changed, unchanged) of one section."""
        created = self.created.get(section, 0)
        return created, self.counts.get(section, 0) - created, self.unchanged.get(section, 0)

    def as_dict(self) -> dict[str, Any]:
        """JSON shape for ``--json`` output and scripts."""
        rows = {s: self.row(s) for s in self.sections()}
        return {
            "created": {s: r[0] for s, r in rows.items()},
            "changed": {s: r[1] for s, r in rows.items()},
            "unchanged": {s: r[2] for s, r in rows.items()},
            "warnings": [w.as_dict() for w in self.warnings],
        }


# ----- validation ----------------------------------------------------------------------------------


class OwnedSections(Protocol):
    """Sections of the county file another domain owns (policies, register fields).

    The catalog does not import that domain: the domain implements this and the county file
    (:mod:`onewindow.county_file`) passes it in, so the dependency runs from policies to catalog.
    """

    def file_problems(self, session: Session, catalog: CatalogIn) -> list[Problem]:
        """Problems of the owned sections, with paths as in the file (``policies[3].department``)."""
        ...

    def write(self, session: Session, *, clock: Clock, actor: Actor, catalog: CatalogIn,
              report: ImportReport) -> None:
        """Write the owned sections of a validated file, counting into ``report``."""
        ...

    def export(self, session: Session) -> dict[str, Any]:
        """The owned sections as they appear in the file."""
        ...


def _join(prefix: str, path: str) -> str:
    if not path:
        return prefix
    if not prefix:
        return path
    return prefix + path if path.startswith("[") else f"{prefix}.{path}"


def _parse(model: type[M], raw: Any, prefix: str, problems: list[Problem]) -> M | None:
    """The validated row, or None with its schema problems added (paths under ``prefix``)."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        problems.extend(Problem(_join(prefix, p.field), p.code, p.message)
                        for p in pydantic_problems(exc.errors()))
        return None


def _sort_key(problem: Problem) -> tuple[int, int]:
    m = _PATH_HEAD.match(problem.field)
    if m is None or m.group(1) not in SECTIONS:
        return (-1, 0)
    return (SECTIONS.index(m.group(1)), int(m.group(2) or 0))


def _label_paths(problems: list[Problem], data: dict[str, Any]) -> list[Problem]:
    """Sort by place in the file and add the row's code to paths like ``items[3].x`` so a person finds the row."""
    out = []
    for p in sorted(problems, key=_sort_key):
        field_name = p.field
        m = _PATH_HEAD.match(field_name)
        rows = data.get(m.group(1)) if m and m.group(2) is not None else None
        if m and isinstance(rows, list) and int(m.group(2)) < len(rows):
            row = rows[int(m.group(2))]
            code = (row.get("code") or row.get("item")) if isinstance(row, dict) else None
            if isinstance(code, str) and code.strip():
                field_name = f"{m.group(0)}（{code.strip()}）{field_name[m.end():]}"
        out.append(Problem(field_name, p.code, p.message))
    return out


def _raw_codes(data: dict[str, Any], section: str, key: str = "code") -> set[str]:
    """Codes a file declares, even on rows with other mistakes (so one mistake is not reported twice)."""
    rows = data.get(section)
    if not isinstance(rows, list):
        return set()
    return {r[key].strip() for r in rows if isinstance(r, dict) and isinstance(r.get(key), str)}


def _raw_region_codes(node: Any) -> set[str]:
    if not isinstance(node, dict):
        return set()
    codes = {node["code"].strip()} if isinstance(node.get("code"), str) else set()
    children = node.get("children")
    for child in children if isinstance(children, list) else []:
        codes |= _raw_region_codes(child)
    return codes


def _region_problems(region: RegionIn, path: str, seen: dict[str, str], problems: list[Problem]) -> None:
    if region.code in seen:
        problems.append(Problem(f"{path}.code", "duplicate_code",
                                f"行政区划编码重复：{region.code}（与 {seen[region.code]} 相同）"))
    seen.setdefault(region.code, path)
    for i, child in enumerate(region.children):
        child_path = f"{path}.children[{i}]"
        if LEVELS.index(child.level) <= LEVELS.index(region.level):
            problems.append(Problem(f"{child_path}.level", "bad_region_level",
                                    f"下级区划的层级（{LEVEL_LABELS[child.level]}）必须低于上级（{LEVEL_LABELS[region.level]}）"))
        _region_problems(child, child_path, seen, problems)


def _duplicates(section: str, rows: Iterable[tuple[int, str]], what: str = "编码", suffix: str = ".code"
                ) -> list[Problem]:
    """A problem for every row whose key an earlier row of the section already has."""
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for i, code in rows:
        if code in seen:
            problems.append(Problem(f"{section}[{i}]{suffix}", "duplicate_code",
                                    f"{what}重复：{code}（与 {section}[{seen[code]}] 相同）"))
        seen.setdefault(code, i)
    return problems


def validate_catalog(session: Session, data: dict[str, Any], *,
                     owned: OwnedSections | None = None) -> tuple[CatalogIn, list[Problem]]:
    """Parse and check a catalog file against itself and the database; raises with every problem."""
    if not isinstance(data, dict):
        raise ValidationFailed([Problem("", "not_an_object", "目录文件的顶层必须是 JSON 对象")])
    problems: list[Problem] = []
    warnings: list[Problem] = []
    for key in data:
        if key not in CatalogIn.model_fields:
            problems.append(Problem(str(key), "extra_forbidden", f"不允许的字段：{key}"))

    parsed: dict[str, list[tuple[int, Any]]] = {}
    for section, model in ROW_MODELS.items():
        raw_rows = data.get(section, [])
        parsed[section] = []
        if not isinstance(raw_rows, list):
            problems.append(Problem(section, "list_type", "必须是列表"))
            continue
        for i, raw in enumerate(raw_rows):
            row = _parse(model, raw, f"{section}[{i}]", problems)
            if row is not None:
                parsed[section].append((i, row))
    region = _parse(RegionIn, data["region"], "region", problems) if data.get("region") is not None else None
    entity_fields = (_parse(EntityFieldsIn, data["entity_fields"], "entity_fields", problems)
                     if data.get("entity_fields") is not None else None)
    retired_raw = data.get("retired_items", [])
    retired: list[tuple[int, str]] = []
    if not isinstance(retired_raw, list):
        problems.append(Problem("retired_items", "list_type", "必须是列表"))
    else:
        for i, code in enumerate(retired_raw):
            if isinstance(code, str) and code.strip():
                retired.append((i, code.strip()))
            else:
                problems.append(Problem(f"retired_items[{i}]", "string_type", "必须是事项编码"))

    def known(model: type[Any], in_file: set[str]) -> set[str]:
        return in_file | set(session.scalars(select(model.code)))

    departments = known(Department, _raw_codes(data, "departments"))
    categories = known(HallCategory, _raw_codes(data, "hall_categories"))
    cert_types = known(CertificateType, _raw_codes(data, "certificate_types"))
    regions = known(Region, _raw_region_codes(data.get("region")))
    items = known(Item, _raw_codes(data, "items"))
    lookups = catalog_service.Lookups({c: 0 for c in departments}, {c: 0 for c in categories},
                                      {c: 0 for c in cert_types})

    for section, rows in parsed.items():
        if section != "negative_list":
            problems += _duplicates(section, ((i, row.code) for i, row in rows))
    if region is not None:
        _region_problems(region, "region", {}, problems)
    if entity_fields is not None:
        for kind in ("enterprise", "person"):
            names = ((i, f.name) for i, f in enumerate(getattr(entity_fields, kind)))
            problems += _duplicates(f"entity_fields.{kind}", names, "字段名", ".name")

    for i, item in parsed["items"]:
        prefix = f"items[{i}]."
        problems += rules.item_errors(item, prefix)
        problems += catalog_service.item_reference_problems(item, lookups, prefix)
        warnings += rules.item_warnings(item, prefix)
    for i, code in retired:
        if code not in items:
            problems.append(Problem(f"retired_items[{i}]", "unknown_item", f"未知事项编码：{code}"))
    problems += _duplicates("retired_items", retired, "停用事项", "")
    for i, bundle in parsed["bundles"]:
        if bundle.lead_department not in departments:
            problems.append(Problem(f"bundles[{i}].lead_department", "unknown_department",
                                    f"未知部门编码：{bundle.lead_department}"))
        members: set[str] = set()
        for j, code in enumerate(bundle.items):
            if code not in items:
                problems.append(Problem(f"bundles[{i}].items[{j}]", "unknown_item", f"未知事项编码：{code}"))
            if code in members:
                problems.append(Problem(f"bundles[{i}].items[{j}]", "duplicate_item", f"一件事中的事项重复：{code}"))
            members.add(code)
    for i, entry in parsed["negative_list"]:
        if entry.item not in items:
            problems.append(Problem(f"negative_list[{i}].item", "unknown_item", f"未知事项编码：{entry.item}"))
    problems += _duplicates("negative_list", ((i, e.item) for i, e in parsed["negative_list"]), "负面清单事项", ".item")
    for i, hall in parsed["halls"]:
        if hall.region not in regions:
            problems.append(Problem(f"halls[{i}].region", "unknown_region", f"未知行政区划编码：{hall.region}"))
    if owned is not None:
        problems += _policy_problems(session, owned, parsed["policies"], departments, entity_fields)

    if problems:
        raise ValidationFailed(_label_paths(problems, data))
    try:
        catalog = CatalogIn.model_validate(data)
    except ValidationError as exc:  # every part passed above; kept so a gap can never write bad data
        raise ValidationFailed(_label_paths(pydantic_problems(exc.errors()), data)) from None
    return catalog, _label_paths(warnings, data)


def _policy_problems(session: Session, owned: OwnedSections, policies: list[tuple[int, PolicyIn]],
                     departments: set[str], entity_fields: EntityFieldsIn | None) -> list[Problem]:
    """The policies domain's checks on the rows that parsed, with paths mapped back to file positions."""
    if not policies:
        return []
    # Only the codes of departments are read; every declared code counts, even on a row with a mistake.
    partial = CatalogIn.model_construct(
        departments=[DepartmentIn.model_construct(code=c, name=c, short_name=c) for c in sorted(departments)],
        policies=[p for _, p in policies], entity_fields=entity_fields,
    )
    out = []
    for p in owned.file_problems(session, partial):
        m = re.match(r"^policies\[(\d+)\]", p.field)
        fname = f"policies[{policies[int(m.group(1))][0]}]{p.field[m.end():]}" if m else p.field
        out.append(Problem(fname, p.code, p.message))
    return out


# ----- writing ------------------------------------------------------------------------------------


def _codes(session: Session, model: type[Any]) -> set[str]:
    return set(session.scalars(select(model.code)))


def _region_nodes(region: RegionIn) -> list[RegionIn]:
    return [region, *(n for child in region.children for n in _region_nodes(child))]


def import_catalog(session: Session, *, clock: Clock, actor: Actor, data: dict[str, Any],
                   owned: OwnedSections | None = None) -> ImportReport:
    """Validate everything, then create or update every row in dependency order (one transaction).

    ``owned`` checks and writes the sections another domain owns (policies, register fields); without it
    they are parsed but neither checked against that domain nor written (use :mod:`onewindow.county_file`).
    """
    catalog, warnings = validate_catalog(session, data, owned=owned)
    report = ImportReport(warnings=warnings)
    s, c, a = session, clock, actor
    if catalog.region is not None:
        nodes = _region_nodes(catalog.region)
        before = _codes(s, Region)
        changed = catalog_service.save_region_tree(s, clock=c, actor=a, data=catalog.region)
        new = sum(1 for n in nodes if n.code not in before)
        for target, n in ((report.counts, changed), (report.created, new), (report.unchanged, len(nodes) - changed)):
            if n:
                target["regions"] = n
    before = _codes(s, Hall)
    for hall in catalog.halls:
        report.bump("halls", catalog_service.save_hall(s, clock=c, actor=a, data=hall), created=hall.code not in before)
    before = _codes(s, Department)
    for dept in catalog.departments:
        report.bump("departments", catalog_service.save_department(s, clock=c, actor=a, data=dept),
                    created=dept.code not in before)
    before = _codes(s, HallCategory)
    for cat in catalog.hall_categories:
        report.bump("hall_categories", catalog_service.save_hall_category(s, clock=c, actor=a, data=cat),
                    created=cat.code not in before)
    before = _codes(s, CertificateType)
    for ct in catalog.certificate_types:
        report.bump("certificate_types", catalog_service.save_certificate_type(s, clock=c, actor=a, data=ct),
                    created=ct.code not in before)
    lookups = catalog_service.Lookups.load(s)
    for item in catalog.items:
        result = catalog_service.save_item(s, clock=c, actor=a, data=item, lookups=lookups,
                                           change_note="目录导入")
        report.bump("items", result.changed, created=result.created)
    for code in catalog.retired_items:
        active = catalog_service.get_item_row(s, code).status != "retired"
        if active:
            catalog_service.set_item_status(s, clock=c, actor=a, code=code, status="retired")
        report.bump("retired_items", active)
    before = _codes(s, Bundle)
    for bundle in catalog.bundles:
        report.bump("bundles", catalog_service.save_bundle(s, clock=c, actor=a, data=bundle),
                    created=bundle.code not in before)
    before = set(s.scalars(select(Item.code).join(NegativeListEntry, NegativeListEntry.item_id == Item.id)))
    for entry in catalog.negative_list:
        report.bump("negative_list", catalog_service.set_negative_entry(s, clock=c, actor=a, data=entry),
                    created=entry.item not in before)
    if owned is not None:
        owned.write(s, clock=c, actor=a, catalog=catalog, report=report)
    return report
