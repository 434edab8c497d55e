"""Catalog export: the database as a catalog file that gives the imported file back, retirements included."""

from __future__ import annotations

import json
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from onewindow.catalog import service as catalog_service
from onewindow.catalog.schemas import ItemIn
from onewindow.core.audit import Actor
from onewindow.core.clock import FixedClock
from onewindow.county_file import export_catalog, import_catalog
from onewindow.demo import reference_catalog
from onewindow.policies.models import Policy

ACTOR = Actor(None, "test")


def test_exporting_the_imported_reference_gives_the_reference_back(empty_session: Session,
                                                                   clock: FixedClock) -> None:
    reference = reference_catalog()
    import_catalog(empty_session, clock=clock, actor=ACTOR, data=reference_catalog())
    exported = export_catalog(empty_session)
    assert list(exported) == list(reference)
    for section, value in reference.items():
        assert exported[section] == value, section
    # Same key order and row order everywhere, not only equal content.
    assert json.dumps(exported, ensure_ascii=False) == json.dumps(reference, ensure_ascii=False)


def test_reimporting_an_export_changes_nothing(session: Session, clock: FixedClock) -> None:
    exported = export_catalog(session)
    assert len(exported["halls"]) == 10  # the demo county's halls come along when there are any
    report = import_catalog(session, clock=clock, actor=ACTOR, data=exported)
    assert report.changed_total == 0
    assert report.unchanged["items"] == 99


def test_optional_keys_appear_only_when_set(session: Session, clock: FixedClock) -> None:
    item = ItemIn.model_validate(reference_catalog()["items"][0])
    materials = [item.materials[0].model_copy(update={"kind": "申请表格文书", "source": "申请人自备"}),
                 *item.materials[1:]]
    catalog_service.save_item(session, clock=clock, actor=ACTOR,
                              data=item.model_copy(update={"materials": materials}))
    bundle = catalog_service.bundle_by_code(session, "YJS-NEWBORN")
    bundle.default_consent = True
    policy = session.scalars(select(Policy).where(Policy.code == "ZC-QY-01")).one()
    policy.amount_yuan = Decimal("1716.50")
    session.flush()

    exported = export_catalog(session)
    first = next(i for i in exported["items"] if i["code"] == item.code)
    assert (first["materials"][0]["kind"], first["materials"][0]["source"]) == ("申请表格文书", "申请人自备")
    assert "note" not in first["materials"][0]
    assert first["materials"][1]["note"]
    assert "kind" not in first["materials"][1]
    assert "source" not in first["materials"][1]
    bundles = {b["code"]: b for b in exported["bundles"]}
    assert bundles["YJS-NEWBORN"]["default_consent"] is True
    assert "default_consent" not in bundles["YJS-BIZSTART"]
    policies = {p["code"]: p for p in exported["policies"]}
    assert policies["ZC-QY-01"]["amount_yuan"] == 1716.5
    assert policies["ZC-QY-02"]["amount_yuan"] == 6000
    assert "valid_from" not in policies["ZC-QY-01"]


def test_a_retired_item_is_exported_and_stays_retired_after_import(session: Session, empty_session: Session,
                                                                   clock: FixedClock) -> None:
    code = next(iter(reference_catalog()["bundles"][0]["items"]))
    catalog_service.set_item_status(session, clock=clock, actor=ACTOR, code=code, status="retired")
    exported = export_catalog(session)
    assert exported["retired_items"] == [code]
    assert code in {i["code"] for i in exported["items"]}  # the bundle still points at a defined item

    report = import_catalog(empty_session, clock=clock, actor=ACTOR, data=exported)
    assert report.row("retired_items") == (0, 1, 0)
    assert catalog_service.get_item_row(empty_session, code).status == "retired"
    assert export_catalog(empty_session) == exported
