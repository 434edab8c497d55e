"""免提交 lookup: only valid, unexpired, unrevoked certificates of that holder are used."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from onewindow.catalog import service as catalog_service
from onewindow.catalog.models import Material
from onewindow.certificates import service
from onewindow.certificates.demo import FENGYUAN, LAOJIE, LI_NA, WANG_FANG, ZHANG_WEI, demo_id_number
from onewindow.cli_support import CLI_ACTOR
from onewindow.core.clock import FixedClock, today

ITEM = "410724-SCJG-XK-001"  # 个体工商户设立登记: 经营者居民身份证 is an ID_CARD material
OTHER = demo_id_number("41072419850101003")
NEWCOMER = demo_id_number("41072419950505006")  # holds no certificate


def _add(session: Session, clock: FixedClock, *, holder: str, number: str, type_code: str = "ID_CARD",
         issued: str = "2020-01-01", expires: str = "", status: str = "有效") -> None:
    service.import_certificates(session, clock=clock, actor=CLI_ACTOR, rows=[
        {"type": type_code, "number": number, "holder_id": holder, "holder_name": "测试人", "issued_date": issued,
         "expires_date": expires, "status": status}])


def _id_card_material_id(session: Session) -> tuple[int, list[Material]]:
    _item, version = catalog_service.get_item_version(session, ITEM)
    [material] = [m for m in version.materials if m.certificate_type and m.certificate_type.code == "ID_CARD"]
    return material.id, list(version.materials)


def test_valid_certificate_of_the_holder_exempts_the_matching_material(session: Session, clock: FixedClock) -> None:
    material_id, materials = _id_card_material_id(session)
    found = service.exempt_materials(session, holder_ids=[ZHANG_WEI], materials=materials,
                                     on=today(clock))
    assert list(found) == [material_id]
    assert found[material_id].number == "ID_CARD-DEMO-000001"


def test_expired_certificate_is_not_used(session: Session, clock: FixedClock) -> None:
    _material_id, materials = _id_card_material_id(session)
    assert service.exempt_materials(session, holder_ids=[LI_NA], materials=materials,
                                    on=today(clock)) == {}
    assert service.usable_certificates(session, holder_id=LI_NA, on=today(clock)) == []
    # the same card was usable on its last valid day
    last_day = today(clock) - dt.timedelta(days=120)
    assert [c.number for c in service.usable_certificates(session, holder_id=LI_NA, on=last_day)] == [
        "ID_CARD-DEMO-000002"]


def test_revoked_certificate_is_not_used(session: Session, clock: FixedClock) -> None:
    usable = service.usable_certificates(session, holder_id=WANG_FANG, on=today(clock))
    assert [c.type.code for c in usable] == ["ID_CARD"]  # the revoked marriage certificate is left out
    _add(session, clock, holder=OTHER, number="T-REVOKED-1")
    [cert] = service.usable_certificates(session, holder_id=OTHER, on=today(clock))
    service.revoke_certificate(session, clock=clock, actor=CLI_ACTOR, certificate_id=cert.id, reason="证件遗失")
    _material_id, materials = _id_card_material_id(session)
    assert service.exempt_materials(session, holder_ids=[OTHER], materials=materials,
                                    on=today(clock)) == {}


def test_someone_elses_certificate_is_not_used(session: Session, clock: FixedClock) -> None:
    _add(session, clock, holder=OTHER, number="T-OTHER-1")
    _material_id, materials = _id_card_material_id(session)
    assert service.exempt_materials(session, holder_ids=[NEWCOMER], materials=materials, on=today(clock)) == {}
    assert service.usable_certificates(session, holder_id=NEWCOMER, on=today(clock)) == []
    assert [c.number for c in service.usable_certificates(session, holder_id=OTHER, on=today(clock))] == ["T-OTHER-1"]
    zhang = service.usable_certificates(session, holder_id=ZHANG_WEI, on=today(clock))
    assert zhang and all(c.holder_id == ZHANG_WEI for c in zhang)


def test_not_yet_issued_certificate_is_not_used(session: Session, clock: FixedClock) -> None:
    future = (today(clock) + dt.timedelta(days=3)).isoformat()
    _add(session, clock, holder=OTHER, number="T-FUTURE-1", issued=future)
    assert service.usable_certificates(session, holder_id=OTHER, on=today(clock)) == []


def test_enterprise_types_match_credit_codes_and_person_types_id_numbers(session: Session, clock: FixedClock) -> None:
    _item, version = catalog_service.get_item_version(session, ITEM)
    materials = list(version.materials)
    on = today(clock)
    # an enterprise holder does not supply the operator's ID card
    assert service.exempt_materials(session, holder_ids=[FENGYUAN, LAOJIE], materials=materials, on=on) == {}
    # applicant and enterprise together: the person's ID card is found, whichever order they come in
    found = service.exempt_materials(session, holder_ids=[LAOJIE, ZHANG_WEI], materials=materials, on=on)
    assert [c.holder_id for c in found.values()] == [ZHANG_WEI]


def test_holder_ids_are_normalised_before_lookup(session: Session, clock: FixedClock) -> None:
    typed = " " + ZHANG_WEI.lower()[:6] + " " + ZHANG_WEI.lower()[6:]
    assert {c.number for c in service.usable_certificates(session, holder_id=typed, on=today(clock))} == {
        "ID_CARD-DEMO-000001", "HUKOU_BOOK-DEMO-000001"}


def test_no_holders_or_no_certificate_materials_give_nothing(session: Session, clock: FixedClock) -> None:
    _material_id, materials = _id_card_material_id(session)
    assert service.exempt_materials(session, holder_ids=[], materials=materials,
                                    on=today(clock)) == {}
    assert service.exempt_materials(session, holder_ids=[ZHANG_WEI], materials=[], on=today(clock)) == {}


def test_loading_the_demo_again_changes_nothing(session: Session, clock: FixedClock) -> None:
    from onewindow.certificates.demo import load_demo_certificates

    result = load_demo_certificates(session, clock=clock, actor=CLI_ACTOR)
    assert (result.created, result.updated) == (0, 0) and result.unchanged == 8
