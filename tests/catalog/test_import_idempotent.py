"""Catalog import writes only what changed: a second import of the same file changes nothing."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onewindow.catalog import service as catalog_service
from onewindow.catalog.models import ItemVersion
from onewindow.core.audit import Actor, AuditEntry
from onewindow.core.clock import FixedClock
from onewindow.county_file import import_catalog
from onewindow.demo import reference_catalog

ACTOR = Actor(None, "test")


def _count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_reference_imports_everything_and_a_second_import_changes_nothing(empty_session: Session,
                                                                          clock: FixedClock) -> None:
    s = empty_session
    first = import_catalog(s, clock=clock, actor=ACTOR, data=reference_catalog())
    assert first.created == {"regions": 10, "departments": 16, "hall_categories": 8, "certificate_types": 12,
                             "items": 99, "bundles": 10, "negative_list": 4, "entity_fields": 26, "policies": 19}
    assert first.counts == first.created
    assert {w.code for w in first.warnings} == {"fee_without_basis"}
    audit_entries, versions = _count(s, AuditEntry), _count(s, ItemVersion)
    assert audit_entries == first.changed_total

    second = import_catalog(s, clock=clock, actor=ACTOR, data=reference_catalog())
    assert second.changed_total == 0
    assert second.created == {}
    assert second.unchanged["items"] == 99
    assert second.unchanged["regions"] == 10
    assert (_count(s, AuditEntry), _count(s, ItemVersion)) == (audit_entries, versions)


def test_one_changed_item_adds_one_version_and_one_audit_entry(session: Session, clock: FixedClock) -> None:
    data = reference_catalog()
    code = data["items"][0]["code"]
    data["items"][0]["phone"] = "0373-4509999"
    audit_before = _count(session, AuditEntry)
    report = import_catalog(session, clock=clock, actor=ACTOR, data=data)
    assert report.row("items") == (0, 1, 98)
    assert report.changed_total == 1
    assert _count(session, AuditEntry) == audit_before + 1
    _item, version = catalog_service.get_item_version(session, code)
    assert (version.version, version.phone) == (2, "0373-4509999")


def test_retired_items_are_retired_once_and_never_restored_by_an_import(session: Session,
                                                                        clock: FixedClock) -> None:
    code = reference_catalog()["items"][5]["code"]
    first = import_catalog(session, clock=clock, actor=ACTOR, data={"retired_items": [code]})
    assert first.row("retired_items") == (0, 1, 0)
    assert catalog_service.get_item_row(session, code).status == "retired"
    again = import_catalog(session, clock=clock, actor=ACTOR, data={"retired_items": [code]})
    assert again.row("retired_items") == (0, 0, 1)
    full = import_catalog(session, clock=clock, actor=ACTOR, data=reference_catalog())
    assert full.changed_total == 0
    assert catalog_service.get_item_row(session, code).status == "retired"


def test_levels_in_any_order_are_the_same_content(session: Session, clock: FixedClock) -> None:
    item = reference_catalog()["items"][0]
    assert item["levels"] == ["county", "town"]
    item["levels"] = ["town", "county"]
    report = import_catalog(session, clock=clock, actor=ACTOR, data={"items": [item]})
    assert report.row("items") == (0, 0, 1)
