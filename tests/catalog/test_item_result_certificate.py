"""办理结果: the e-certificate an item's approval issues is a versioned element that round-trips everywhere."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import openpyxl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from onewindow.catalog import excel
from onewindow.catalog import service as catalog_service
from onewindow.catalog.schemas import ItemIn
from onewindow.core.audit import Actor
from onewindow.core.clock import FixedClock
from onewindow.core.errors import ValidationFailed
from onewindow.county_file import export_catalog, import_catalog, validate_catalog
from onewindow.demo import reference_catalog

ACTOR = Actor(None, "test")
ISSUES_LICENCE = "410724-SCJG-XK-001"  # 个体工商户设立登记 → 营业执照
NO_LICENCE = "410724-SCJG-XK-003"  # 个体工商户注销登记: the result is not a certificate
RESULT_COLUMN = "V"  # 办理结果(证照类型) on the 事项 sheet

# An item as stored before 办理结果 existed, and the hash the code of that time gave it.
FIXED_ITEM: dict[str, Any] = {
    "code": "T-HASH-1", "name": "测试事项", "type": "行政许可", "department": "SCJG", "hall_category": "A",
    "audience": "person", "levels": ["county"], "legal_limit_days": 20, "promised_limit_days": 5, "max_visits": 1,
    "online_depth": 3, "materials": [{"name": "身份证", "certificate_type": "ID_CARD"}],
}
FIXED_ITEM_HASH = "d0cf822139c5f65bafa3457cc50923bb79ccb3c7ef3b4266b0dfa54bb685cc39"


def _hash(raw: dict[str, Any]) -> str:
    return catalog_service.content_hash(catalog_service.item_payload(ItemIn.model_validate(raw)))


def _row_of(code: str) -> int:
    """The 事项 sheet row of a reference item (stored order, after the header)."""
    return [i["code"] for i in reference_catalog()["items"]].index(code) + 2


def _edited(data: bytes, edit: Callable[[Any], None]) -> bytes:
    wb = openpyxl.load_workbook(io.BytesIO(data))
    edit(wb)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_an_item_without_a_result_certificate_keeps_the_hash_it_had_before() -> None:
    assert _hash(FIXED_ITEM) == FIXED_ITEM_HASH
    assert _hash({**FIXED_ITEM, "result_certificate_type": None}) == FIXED_ITEM_HASH
    assert _hash({**FIXED_ITEM, "result_certificate_type": "  "}) == FIXED_ITEM_HASH
    assert "result_certificate_type" not in catalog_service.item_payload(ItemIn.model_validate(FIXED_ITEM))
    assert _hash({**FIXED_ITEM, "result_certificate_type": "BIZ_LICENSE"}) != FIXED_ITEM_HASH


def test_a_stored_item_without_it_is_unchanged_when_saved_again(session: Session, clock: FixedClock) -> None:
    raw = next(i for i in reference_catalog()["items"] if i["code"] == NO_LICENCE)
    assert "result_certificate_type" not in raw
    result = catalog_service.save_item(session, clock=clock, actor=ACTOR, data=ItemIn.model_validate(raw))
    assert (result.changed, result.version.version, result.version.result_certificate_type_id) == (False, 1, None)


def test_setting_the_result_certificate_adds_a_version_and_exports_it(session: Session, clock: FixedClock) -> None:
    _item, current = catalog_service.get_item_version(session, NO_LICENCE)
    data = catalog_service.version_to_input(current, NO_LICENCE)
    assert data.result_certificate_type is None
    result = catalog_service.save_item(session, clock=clock, actor=ACTOR,
                                       data=data.model_copy(update={"result_certificate_type": "BIZ_LICENSE"}))
    assert result.changed
    assert result.version.version == 2
    assert result.version.result_certificate_type is not None
    assert result.version.result_certificate_type.code == "BIZ_LICENSE"
    _item, old = catalog_service.get_item_version(session, NO_LICENCE, 1)
    assert old.result_certificate_type_id is None  # the earlier version keeps what it said

    items = {i["code"]: i for i in export_catalog(session)["items"]}
    assert items[NO_LICENCE]["result_certificate_type"] == "BIZ_LICENSE"
    assert "result_certificate_type" not in items["410724-SCJG-XK-006"]


def test_the_reference_results_round_trip_through_json(empty_session: Session, clock: FixedClock) -> None:
    import_catalog(empty_session, clock=clock, actor=ACTOR, data=reference_catalog())
    items = {i["code"]: i for i in export_catalog(empty_session)["items"]}
    assert items[ISSUES_LICENCE]["result_certificate_type"] == "BIZ_LICENSE"
    assert items["410724-WJW-GG-001"]["result_certificate_type"] == "BIRTH_MED_CERT"
    assert items["410724-MZJ-QR-002"]["result_certificate_type"] == "DIVORCE_CERT"
    assert "result_certificate_type" not in items[NO_LICENCE]
    report = import_catalog(empty_session, clock=clock, actor=ACTOR, data=export_catalog(empty_session))
    assert report.changed_total == 0


def test_the_api_shows_the_result_certificate_code_and_name(client: TestClient) -> None:
    body = client.get(f"/api/v1/items/{ISSUES_LICENCE}").json()
    assert (body["result_certificate_type"], body["result_certificate_type_name"]) == ("BIZ_LICENSE", "营业执照")
    body = client.get(f"/api/v1/items/{NO_LICENCE}").json()
    assert (body["result_certificate_type"], body["result_certificate_type_name"]) == (None, None)


def test_the_guide_page_names_the_certificate_issued(client: TestClient) -> None:
    html = client.get("/items/410724-SCJG-XK-007").text
    assert "办理结果" in html
    assert "食品经营许可证（电子证照）" in html
    assert "（电子证照）</dd>" not in client.get(f"/items/{NO_LICENCE}").text


def test_the_result_certificate_round_trips_through_excel(session: Session, clock: FixedClock) -> None:
    workbook = excel.export_workbook(session)
    sheet = openpyxl.load_workbook(io.BytesIO(workbook))["事项"]
    assert sheet[f"{RESULT_COLUMN}1"].value == "办理结果(证照类型)"
    assert sheet[f"{RESULT_COLUMN}{_row_of(ISSUES_LICENCE)}"].value == "BIZ_LICENSE"
    assert sheet[f"{RESULT_COLUMN}{_row_of(NO_LICENCE)}"].value is None
    assert excel.import_workbook(session, clock=clock, actor=ACTOR, source=workbook).row("items") == (0, 0, 99)

    def edit(wb: Any) -> None:
        wb["事项"][f"{RESULT_COLUMN}{_row_of(NO_LICENCE)}"] = "FOOD_LICENSE"
        wb["事项"][f"{RESULT_COLUMN}{_row_of(ISSUES_LICENCE)}"] = " "

    report = excel.import_workbook(session, clock=clock, actor=ACTOR, source=_edited(workbook, edit))
    assert report.row("items") == (0, 2, 97)
    results = {code: catalog_service.get_item_version(session, code)[1].result_certificate_type
               for code in (NO_LICENCE, ISSUES_LICENCE)}
    assert results[ISSUES_LICENCE] is None
    assert results[NO_LICENCE] is not None and results[NO_LICENCE].code == "FOOD_LICENSE"


def test_an_unknown_result_certificate_is_reported_with_its_row_and_field(session: Session) -> None:
    data = reference_catalog()
    data["items"][4]["result_certificate_type"] = "NO_SUCH_CERT"
    with pytest.raises(ValidationFailed) as exc:
        validate_catalog(session, data)
    code = data["items"][4]["code"]
    assert [p.line() for p in exc.value.problems] == [
        f"items[4]（{code}）.result_certificate_type: 未知证照类型（办理结果）：NO_SUCH_CERT"
        " [unknown_certificate_type]"]


def test_an_unknown_result_certificate_in_the_workbook_names_sheet_row_and_column(session: Session) -> None:
    def edit(wb: Any) -> None:
        wb["事项"][f"{RESULT_COLUMN}{_row_of(NO_LICENCE)}"] = "NO_SUCH_CERT"

    with pytest.raises(ValidationFailed) as exc:
        excel.parse_workbook(session, _edited(excel.export_workbook(session), edit))
    assert [(p.field, p.code) for p in exc.value.problems] == [
        (f"事项!第{_row_of(NO_LICENCE)}行 办理结果(证照类型)", "unknown_certificate_type")]


def test_the_api_answers_422_in_chinese_for_an_unknown_result_certificate(
        client: TestClient, token_for: Callable[[str], dict[str, str]]) -> None:
    payload = {**reference_catalog()["items"][0], "result_certificate_type": "NO_SUCH_CERT"}
    r = client.put(f"/api/v1/items/{ISSUES_LICENCE}", json=payload, headers=token_for("admin"))
    assert r.status_code == 422
    assert r.json()["errors"] == [{"field": "result_certificate_type", "code": "unknown_certificate_type",
                                   "message": "未知证照类型（办理结果）：NO_SUCH_CERT"}]
