"""Chinese notices as PDF: extractable text, a subset font, tables across pages, a QR code."""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from onewindow.core.clock import CHINA_TZ
from onewindow.core.pdf import FontNotFoundError, NoticePdf, find_cjk_font

WQY = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
AT = dt.datetime(2026, 11, 23, 10, 0, tzinfo=CHINA_TZ)


def one_time_notice(rows: int = 3) -> NoticePdf:
    doc = NoticePdf("一次性告知书", "（申请材料补正）", document_number="县政务告〔2026〕第12号",
                    footer="某某县政务服务中心", created_at=AT)
    doc.key_values([("办件编号", "GD2026112300012"), ("申请人", "张三（410724********1234）"),
                    ("申请事项", "食品经营许可（新办）")])
    doc.heading("一、需要补正的材料")
    doc.paragraph("您提交的申请材料不齐全，请自收到本告知书之日起5个工作日内一次性补正以下材料。")
    doc.table(["序号", "材料名称", "补正要求"],
              [[str(i), f"营业执照副本复印件（第{i}项）", "原件一份、复印件两份，复印件加盖公章并注明与原件一致"]
               for i in range(1, rows + 1)], widths=[1, 4, 6])
    doc.qr("https://onewindow.example/track/GD2026112300012", "扫码查询办理进度")
    doc.signature(["某某县政务服务中心（盖章）", "2026年11月23日"])
    return doc


def text_of(data: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


def test_chinese_text_can_be_extracted() -> None:
    data = one_time_notice().to_bytes()
    assert data.startswith(b"%PDF-")
    pages = text_of(data)
    assert len(pages) == 1
    text = pages[0]
    for phrase in ("一次性告知书", "县政务告〔2026〕第12号", "申请人：", "张三（410724********1234）",
                   "一、需要补正的材料", "营业执照副本复印件（第3项）", "扫码查询办理进度",
                   "某某县政务服务中心（盖章）", "第 1 页 共 1 页"):
        assert phrase in text, phrase
    metadata = PdfReader(io.BytesIO(data)).metadata
    assert metadata is not None and metadata.title == "一次性告知书"


def test_the_font_is_subset_so_the_file_stays_small() -> None:
    data = one_time_notice().to_bytes()
    assert Path(WQY).stat().st_size > 4_000_000
    assert len(data) < 80_000
    resources: Any = PdfReader(io.BytesIO(data)).pages[0]["/Resources"]
    names = [str(font.get_object()["/BaseFont"]) for font in resources["/Font"].values()]
    assert names and all(re.match(r"^/[A-Z]{6}\+", name) for name in names), names


def test_long_tables_continue_on_new_pages_with_the_header_repeated() -> None:
    pages = text_of(one_time_notice(rows=60).to_bytes())
    assert len(pages) >= 3
    for number, text in enumerate(pages, start=1):
        if number < len(pages):
            assert "序号" in text and "补正要求" in text, number
        assert f"第 {number} 页 共 {len(pages)} 页" in text
    assert "第60项" in "".join(pages)


def test_the_qr_code_is_an_image_on_the_page() -> None:
    page = PdfReader(io.BytesIO(one_time_notice().to_bytes())).pages[0]
    assert len(page.images) == 1


def test_output_is_reproducible_for_a_given_creation_time() -> None:
    assert one_time_notice().to_bytes() == one_time_notice().to_bytes()


def test_long_words_and_lines_wrap_instead_of_overflowing() -> None:
    doc = NoticePdf("不予受理通知书", created_at=AT)
    long_value = "长" * 120
    doc.key_values([("理由", long_value)])
    doc.table(["材料", "说明"], [["甲" * 80, "乙" * 150]], widths=[1, 2])
    text = text_of(doc.to_bytes())[0].replace("\n", "").replace(" ", "")
    assert long_value in text and "乙" * 150 in text


def test_a_missing_font_names_the_setting() -> None:
    with pytest.raises(FontNotFoundError, match="cjk_font_paths") as caught:
        NoticePdf("受理通知书", font_paths=["/nonexistent/a.ttf", "/nonexistent/b.ttc"])
    assert "/nonexistent/a.ttf" in str(caught.value)
    assert caught.value.tried == ["/nonexistent/a.ttf", "/nonexistent/b.ttc"]


def test_collection_face_is_chosen_by_name_or_pinned_with_a_suffix() -> None:
    assert find_cjk_font(["/nonexistent.ttf", WQY]) == (Path(WQY), 0)  # Micro Hei, not Mono
    assert find_cjk_font([f"{WQY}#1"]) == (Path(WQY), 1)
    doc = NoticePdf("受理通知书", font_paths=[f"{WQY}#1"], created_at=AT)
    doc.paragraph("等宽字体同样可以输出中文。")
    assert "等宽字体同样可以输出中文" in text_of(doc.to_bytes())[0]


def test_naive_creation_time_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        NoticePdf("受理通知书", created_at=dt.datetime(2026, 11, 23, 10, 0))  # noqa: DTZ001
