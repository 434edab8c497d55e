"""Reading and checking a 12345 export (pure: no database): every bad row named with its field, formats accepted."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from openpyxl import Workbook

from onewindow.complaints import hotline
from onewindow.complaints.hotline import Directory
from onewindow.core.clock import CHINA_TZ
from onewindow.core.errors import ValidationFailed

NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=CHINA_TZ)
DIRECTORY = Directory(departments={"SCJG": 1, "县市场监督管理局": 1, "市场监管": 1, "WJW": 2},
                      item_codes=frozenset({"410724-SCJG-XK-001"}))
GOOD = {"external_number": "12345-20261120-0001", "accepted_at": "2026-11-20 09:15", "category": "投诉",
        "urgent": "否", "subject": "小区门口垃圾长期无人清运", "content": "垃圾堆放一周无人清运，臭味严重。",
        "complainant_name": "王先生", "complainant_phone": "13812345678", "department": "SCJG"}


def _csv(*rows: dict[str, str]) -> bytes:
    return hotline.to_csv(rows).encode("utf-8")


def _check(data: bytes, name: str = "orders.csv") -> list[hotline.HotlineRow]:
    return hotline.check_rows(hotline.read_bytes(data, name), DIRECTORY, now=NOW)


def test_a_good_csv_row_becomes_a_typed_order() -> None:
    [row] = _check(_csv(GOOD))
    assert row.row == 2 and row.external_number == "12345-20261120-0001"
    assert row.accepted_at == dt.datetime(2026, 11, 20, 9, 15, tzinfo=CHINA_TZ)
    assert (row.category, row.urgent, row.anonymous, row.department_id) == ("complain", False, False, 1)
    assert row.complainant_phone == "13812345678" and row.item_code is None


def test_every_bad_row_is_named_with_its_field() -> None:
    rows = [GOOD, {**GOOD, "external_number": "B-2", "category": ""},
            {**GOOD, "external_number": "B-3", "department": "不存在的局", "accepted_at": "昨天"},
            {**GOOD, "external_number": "12345-20261120-0001"}]
    with pytest.raises(ValidationFailed) as caught:
        _check(_csv(*rows))
    fields = {p.field: p.message for p in caught.value.problems}
    assert set(fields) == {"rows[3].category", "rows[4].department", "rows[4].accepted_at",
                           "rows[5].external_number"}
    assert fields["rows[3].category"].startswith("第 3 行（诉求类型）")
    assert "与第 2 行重复" in fields["rows[5].external_number"]


def test_chinese_and_english_headers_json_and_excel_are_read_alike() -> None:
    as_json = json.dumps([{**GOOD, "accepted_at": "2026-11-20T09:15:00+08:00"}], ensure_ascii=False).encode()
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(hotline.TEMPLATE_HEADER)
    naive = dt.datetime(2026, 11, 20, 9, 15, tzinfo=CHINA_TZ).replace(tzinfo=None)  # Excel keeps no zone
    ws.append([GOOD.get(k) if k != "accepted_at" else naive for k in hotline.FIELDS])
    ws.cell(row=2, column=list(hotline.FIELDS).index("complainant_phone") + 1, value=13812345678)  # a number
    buf = io.BytesIO()
    wb.save(buf)
    from_csv, from_json, from_xlsx = (_check(_csv(GOOD))[0], _check(as_json, "o.json")[0],
                                      _check(buf.getvalue(), "o.xlsx")[0])
    assert from_json.row == 1 and from_xlsx.row == 2
    assert from_csv.accepted_at == from_json.accepted_at == from_xlsx.accepted_at
    assert from_csv.complainant_phone == from_xlsx.complainant_phone == "13812345678"


def test_anonymous_orders_need_no_name_or_phone_and_named_ones_do() -> None:
    [anon] = _check(_csv({**GOOD, "complainant_name": "", "complainant_phone": "", "anonymous": "是"}))
    assert anon.anonymous and anon.complainant_name == "匿名"
    with pytest.raises(ValidationFailed) as caught:
        _check(_csv({**GOOD, "complainant_name": "", "complainant_phone": "123"}))
    assert {p.field for p in caught.value.problems} == {"rows[2].complainant_name", "rows[2].complainant_phone"}


def test_file_level_mistakes() -> None:
    with pytest.raises(ValidationFailed) as caught:
        hotline.read_bytes("工单编号,诉求标题\n1,a\n".encode(), "o.csv")
    assert caught.value.code == "columns_missing" and "受理时间" in caught.value.message
    for data, name, code in [(b"x", "o.txt", "file_type"), (b"{", "o.json", "json_invalid"),
                             (b"\xff\xfe", "o.csv", "file_encoding"), (b"not a zip", "o.xlsx", "bad_file")]:
        with pytest.raises(ValidationFailed) as caught:
            hotline.read_bytes(data, name)
        assert caught.value.code == code
    with pytest.raises(ValidationFailed) as caught:
        _check(_csv({**GOOD, "accepted_at": "2026-11-24 09:00"}))
    assert caught.value.problems[0].code == "accepted_at_future"


def test_blank_lines_keep_the_row_numbers_of_the_spreadsheet() -> None:
    text = hotline.to_csv([GOOD]) + ",,,,,,,,,,,\n" + hotline.to_csv([{**GOOD, "external_number": "X-9",
                                                                      "category": "闲聊"}]).split("\n", 1)[1]
    with pytest.raises(ValidationFailed) as caught:
        _check(text.encode())
    assert [p.field for p in caught.value.problems] == ["rows[4].category"]
