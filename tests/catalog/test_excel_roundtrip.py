"""Items workbook: Chinese headers and human values, a round trip that changes nothing, one edit one version."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import openpyxl
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onewindow.catalog import excel
from onewindow.catalog import service as catalog_service
from onewindow.catalog.models import ItemVersion
from onewindow.catalog.schemas import ItemIn
from onewindow.core.audit import Actor, AuditEntry
from onewindow.core.clock import FixedClock
from onewindow.core.errors import ValidationFailed
from onewindow.demo import reference_catalog

ACTOR = Actor(None, "test")
ITEM_HEADERS = ["实施编码", "事项名称", "事项类型", "实施部门(编码)", "大厅分类", "服务对象", "办理层级", "法定时限",
                "承诺时限", "时限单位", "即办件", "到现场次数", "网办深度", "通办范围", "收费", "设定依据", "申请条件",
                "办理流程", "关键词", "办理地点", "咨询电话", "办理结果(证照类型)"]
MATERIAL_HEADERS = ["实施编码", "序号", "材料名称", "必要", "形式", "份数", "可容缺", "证照类型", "备注", "类型",
                    "来源"]


def _writes(session: Session) -> tuple[int, int]:
    return (session.scalar(select(func.count()).select_from(AuditEntry)) or 0,
            session.scalar(select(func.count()).select_from(ItemVersion)) or 0)


def _edited(data: bytes, edit: Callable[[Any], None]) -> bytes:
    wb = openpyxl.load_workbook(io.BytesIO(data))
    edit(wb)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _problems(session: Session, data: bytes) -> list[tuple[str, str]]:
    with pytest.raises(ValidationFailed) as exc:
        excel.parse_workbook(session, data)
    return [(p.field, p.code) for p in exc.value.problems]


@pytest.fixture
def workbook(session: Session) -> bytes:
    """The demo catalog exported as .xlsx."""
    return excel.export_workbook(session)


def test_sheets_have_chinese_headers_and_human_values(workbook: bytes) -> None:
    wb = openpyxl.load_workbook(io.BytesIO(workbook))
    assert wb.sheetnames == ["事项", "材料"]
    items = list(wb["事项"].iter_rows(values_only=True))
    materials = list(wb["材料"].iter_rows(values_only=True))
    assert list(items[0]) == ITEM_HEADERS
    assert list(materials[0]) == MATERIAL_HEADERS
    first = dict(zip(ITEM_HEADERS, items[1], strict=True))
    ref = reference_catalog()["items"][0]
    assert first["实施编码"] == ref["code"]
    human = (first["服务对象"], first["办理层级"], first["即办件"], first["时限单位"])
    assert human == ("个人", "县级、乡镇", "否", "工作日")
    assert first["办理流程"] == "→".join(ref["steps"])
    assert first["关键词"] == "、".join(ref["keywords"])
    assert len(items) == 100
    assert len(materials) == 1 + sum(len(i["materials"]) for i in reference_catalog()["items"])
    second = dict(zip(MATERIAL_HEADERS, materials[2], strict=True))
    assert (second["序号"], second["必要"], second["证照类型"]) == (2, "是", "ID_CARD")


def test_importing_the_exported_workbook_changes_nothing(session: Session, clock: FixedClock,
                                                         workbook: bytes) -> None:
    before = _writes(session)
    report = excel.import_workbook(session, clock=clock, actor=ACTOR, source=workbook)
    assert report.row("items") == (0, 0, 99)
    assert _writes(session) == before


def test_one_edited_cell_adds_exactly_one_version(session: Session, clock: FixedClock, workbook: bytes) -> None:
    code = reference_catalog()["items"][0]["code"]

    def edit(wb: Any) -> None:
        wb["事项"]["C2"] = "行政确认"  # 事项类型 of the first item
        wb["材料"]["C3"] = "经营者身份证"  # a material of the same item

    before = _writes(session)
    report = excel.import_workbook(session, clock=clock, actor=ACTOR, source=_edited(workbook, edit))
    assert report.row("items") == (0, 1, 98)
    assert _writes(session) == (before[0] + 1, before[1] + 1)
    _item, version = catalog_service.get_item_version(session, code)
    assert (version.version, version.type, version.materials[1].name) == (2, "行政确认", "经营者身份证")


def test_bad_cells_write_nothing_and_name_sheet_row_and_column(session: Session, clock: FixedClock,
                                                               workbook: bytes) -> None:
    def edit(wb: Any) -> None:
        items, materials = wb["事项"], wb["材料"]
        items["H5"] = "三天"  # 法定时限
        items["K6"] = "也许"  # 即办件
        items["F7"] = "机器人"  # 服务对象
        items["I8"] = 999  # 承诺时限 over the legal limit
        items["D9"] = "FOO"  # unknown department
        materials["A12"] = "NOPE-1"  # material of an item the sheet does not have
        materials["F13"] = None  # 份数 left empty

    before = _writes(session)
    bad = _edited(workbook, edit)
    assert _problems(session, bad) == [
        ("事项!第5行 法定时限", "int_parsing"),
        ("事项!第6行 即办件", "bool_parsing"),
        ("事项!第7行 服务对象", "literal_error"),
        ("事项!第8行 承诺时限", "promised_exceeds_legal"),
        ("事项!第9行 实施部门(编码)", "unknown_department"),
        ("材料!第12行 实施编码", "unknown_item"),
        ("材料!第13行 份数", "missing"),
    ]
    with pytest.raises(ValidationFailed):
        excel.import_workbook(session, clock=clock, actor=ACTOR, source=bad)
    assert _writes(session) == before


def test_unknown_missing_and_repeated_columns_are_rejected(session: Session, workbook: bytes) -> None:
    def edit(wb: Any) -> None:
        wb["事项"]["W1"] = "备注说明"
        wb["事项"]["U1"] = "电话"
        wb["材料"]["K1"] = "类型"

    assert [(f, c) for f, c in _problems(session, _edited(workbook, edit))] == [
        ("事项!第1行", "unknown_column"),
        ("事项!第1行", "unknown_column"),
        ("事项!第1行", "missing_column"),
        ("材料!第1行", "duplicate_column"),
        ("材料!第1行", "missing_column"),
    ]


def test_materials_follow_their_numbers_and_an_item_without_rows_has_none(session: Session, clock: FixedClock,
                                                                          workbook: bytes) -> None:
    ref = reference_catalog()["items"]

    def edit(wb: Any) -> None:
        ws = wb["材料"]
        ws["B2"], ws["B3"] = 2, 1  # swap the first two materials of the first item
        for row in range(ws.max_row, 1, -1):
            if ws.cell(row, 1).value == ref[1]["code"]:
                ws.delete_rows(row)

    report = excel.import_workbook(session, clock=clock, actor=ACTOR, source=_edited(workbook, edit))
    assert report.row("items") == (0, 2, 97)
    _item, first = catalog_service.get_item_version(session, ref[0]["code"])
    assert [m.name for m in first.materials[:2]] == [ref[0]["materials"][1]["name"], ref[0]["materials"][0]["name"]]
    _item, second = catalog_service.get_item_version(session, ref[1]["code"])
    assert second.materials == []


def test_text_that_looks_like_a_formula_stays_text(session: Session, clock: FixedClock) -> None:
    item = ItemIn.model_validate({**reference_catalog()["items"][0], "fee": "=10*2 元（工本费，按省定标准）"})
    catalog_service.save_item(session, clock=clock, actor=ACTOR, data=item)
    data = excel.export_workbook(session)
    ws = openpyxl.load_workbook(io.BytesIO(data))["事项"]
    assert (ws["O2"].value, ws["O2"].data_type) == ("=10*2 元（工本费，按省定标准）", "s")
    assert excel.import_workbook(session, clock=clock, actor=ACTOR, source=data).changed_total == 0


def test_a_file_that_is_not_a_workbook_is_one_problem(session: Session) -> None:
    assert _problems(session, b'{"items": []}') == [("", "bad_workbook")]
