"""Catalog import: validate a whole file first, write nothing if anything is wrong, then upsert.

Importing the same file twice changes nothing (items compare content hashes; other rows compare values).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from onewindow.catalog import rules
from onewindow.catalog import service as catalog_service
from onewindow.catalog.models import CertificateType, Department, HallCategory, Item, Region
from onewindow.catalog.schemas import CatalogIn, RegionIn
from onewindow.core.audit import Actor
from onewindow.core.clock import Clock
from onewindow.core.errors import Problem, ValidationFailed
from onewindow.core.http import pydantic_problems


@dataclass
class ImportReport:
    """Counts of what an import created or changed, and warnings that did not block it."""

    counts: dict[str, int] = field(default_factory=dict)
    unchanged: dict[str, int] = field(default_factory=dict)
    warnings: list[Problem] = field(default_factory=list)

    def bump(self, section: str, changed: bool) -> None:
        """Count one row of a section as changed or unchanged."""
        target = self.counts if changed else self.unchanged
        target[section] = target.get(section, 0) + 1

    @property
    def changed_total(self) -> int:
        """How many rows were created or changed."""
        return sum(self.counts.values())


def _label_paths(problems: list[Problem], data: dict[str, Any]) -> list[Problem]:
    """Add the row's code to paths like ``items[3].x`` so a person can find the row."""
    out = []
    for p in problems:
        field_name = p.field
        for section in ("items", "bundles", "departments", "policies", "certificate_types", "hall_categories",
                        "negative_list", "halls"):
            prefix = f"{section}["
            if field_name.startswith(prefix):
                idx_s = field_name[len(prefix):].split("]", 1)[0]
                rows = data.get(section)
                if idx_s.isdigit() and isinstance(rows, list) and int(idx_s) < len(rows):
                    row = rows[int(idx_s)]
                    code = row.get("code") or row.get("item") if isinstance(row, dict) else None
                    if code:
                        field_name = field_name.replace(f"{section}[{idx_s}]", f"{section}[{idx_s}]（{code}）", 1)
        out.append(Problem(field_name, p.code, p.message))
    return out


def _region_codes(region: RegionIn | None) -> set[str]:
    if region is None:
        return set()
    codes = {region.code}
    for child in region.children:
        codes |= _region_codes(child)
    return codes


def validate_catalog(session: Session, data: dict[str, Any]) -> tuple[CatalogIn, list[Problem]]:
    """Parse and check a catalog file against itself and the database; raises with every problem."""
    if not isinstance(data, dict):
        raise ValidationFailed([Problem("", "not_an_object", "目录文件的顶层必须是 JSON 对象")])
    try:
        catalog = CatalogIn.model_validate(data)
    except ValidationError as exc:
        raise ValidationFailed(_label_paths(pydantic_problems(exc.errors()), data)) from None

    problems: list[Problem] = []
    warnings: list[Problem] = []

    def known(model: type[Any], in_file: set[str]) -> set[str]:
        return in_file | set(session.scalars(select(model.code)))

    departments = known(Department, {d.code for d in catalog.departments})
    categories = known(HallCategory, {c.code for c in catalog.hall_categories})
    cert_types = known(CertificateType, {c.code for c in catalog.certificate_types})
    regions = known(Region, _region_codes(catalog.region))
    items = known(Item, {i.code for i in catalog.items})
    lookups = catalog_service.Lookups({c: 0 for c in departments}, {c: 0 for c in categories},
                                      {c: 0 for c in cert_types})

    for section, rows in (("departments", catalog.departments), ("hall_categories", catalog.hall_categories),
                          ("certificate_types", catalog.certificate_types), ("items", catalog.items),
                          ("bundles", catalog.bundles), ("policies", catalog.policies), ("halls", catalog.halls)):
        seen: dict[str, int] = {}
        for i, row in enumerate(rows):
            code = str(getattr(row, "code", ""))
            if code in seen:
                problems.append(Problem(f"{section}[{i}].code", "duplicate_code",
                                        f"编码重复：{code}（与第 {seen[code]} 行相同）"))
            seen.setdefault(code, i)

    for i, item in enumerate(catalog.items):
        prefix = f"items[{i}]."
        problems += rules.item_errors(item, prefix)
        problems += catalog_service.item_reference_problems(item, lookups, prefix)
        warnings += rules.item_warnings(item, prefix)
    for i, bundle in enumerate(catalog.bundles):
        if bundle.lead_department not in departments:
            problems.append(Problem(f"bundles[{i}].lead_department", "unknown_department",
                                    f"未知部门编码：{bundle.lead_department}"))
        for j, code in enumerate(bundle.items):
            if code not in items:
                problems.append(Problem(f"bundles[{i}].items[{j}]", "unknown_item", f"未知事项编码：{code}"))
    seen_neg: set[str] = set()
    for i, entry in enumerate(catalog.negative_list):
        if entry.item not in items:
            problems.append(Problem(f"negative_list[{i}].item", "unknown_item", f"未知事项编码：{entry.item}"))
        if entry.item in seen_neg:
            problems.append(Problem(f"negative_list[{i}].item", "duplicate_code", f"负面清单重复：{entry.item}"))
        seen_neg.add(entry.item)
    for i, hall in enumerate(catalog.halls):
        if hall.region not in regions:
            problems.append(Problem(f"halls[{i}].region", "unknown_region", f"未知行政区划编码：{hall.region}"))
    from onewindow.policies import service as policies_service

    problems += policies_service.policy_file_problems(session, catalog)
    problems = _label_paths(problems, data)
    if problems:
        raise ValidationFailed(problems)
    return catalog, _label_paths(warnings, data)


def import_catalog(session: Session, *, clock: Clock, actor: Actor, data: dict[str, Any]) -> ImportReport:
    """Validate everything, then create or update every row in dependency order (one transaction)."""
    catalog, warnings = validate_catalog(session, data)
    report = ImportReport(warnings=warnings)
    s, c, a = session, clock, actor
    if catalog.region is not None:
        n = catalog_service.save_region_tree(s, clock=c, actor=a, data=catalog.region)
        report.counts["regions"] = n
    for hall in catalog.halls:
        report.bump("halls", catalog_service.save_hall(s, clock=c, actor=a, data=hall))
    for dept in catalog.departments:
        report.bump("departments", catalog_service.save_department(s, clock=c, actor=a, data=dept))
    for cat in catalog.hall_categories:
        report.bump("hall_categories", catalog_service.save_hall_category(s, clock=c, actor=a, data=cat))
    for ct in catalog.certificate_types:
        report.bump("certificate_types", catalog_service.save_certificate_type(s, clock=c, actor=a, data=ct))
    lookups = catalog_service.Lookups.load(s)
    for item in catalog.items:
        result = catalog_service.save_item(s, clock=c, actor=a, data=item, lookups=lookups,
                                           change_note="目录导入")
        report.bump("items", result.changed)
    for bundle in catalog.bundles:
        report.bump("bundles", catalog_service.save_bundle(s, clock=c, actor=a, data=bundle))
    for entry in catalog.negative_list:
        report.bump("negative_list", catalog_service.set_negative_entry(s, clock=c, actor=a, data=entry))
    from onewindow.policies import service as policies_service

    policies_service.import_policy_sections(s, clock=c, actor=a, catalog=catalog, report=report)
    return report
