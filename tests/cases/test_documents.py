"""Case notices as PDFs: Chinese text that extracts, the right variant and wording, a tracking QR code."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io

import pytest
from PIL import Image, ImageChops
from pypdf import PdfReader

from onewindow.cases import documents
from onewindow.cases.documents import CaseNotice, NoticeLine
from onewindow.core.qr import qr_png

TRACKING = "https://zwfw.example.gov.cn/track/20261123-00042-8?t=Zk3q9"

BASE = CaseNotice(
    case_number="20261123-00042-8", title="个体工商户设立登记", applicant_name="张三",
    applicant_id_masked="410724********1234", department="获嘉县市场监督管理局", hall="获嘉县政务服务中心",
    hall_phone="0373-4502316", issued_on=dt.date(2026, 11, 23), tracking_url=TRACKING,
    promised_due=dt.date(2026, 11, 24), legal_due=dt.date(2026, 11, 26), item_code="410724-SCJG-XK-001",
    materials_received=(NoticeLine("个体工商户登记（备案）申请书", "原件 1 份"), NoticeLine("经营场所使用证明")),
)
DEFERRED = dataclasses.replace(
    BASE, missing=(NoticeLine("经营场所使用证明", "租赁合同原件"),), deferral_due=dt.date(2026, 12, 3),
    materials_received=(NoticeLine("个体工商户登记（备案）申请书"),))
CORRECTION = dataclasses.replace(
    BASE, missing=(NoticeLine("经营场所使用证明", "须由产权人签字"), NoticeLine("经营者照片", "近期一寸免冠")),
    deferral_due=dt.date(2026, 12, 8), materials_received=())
REFUSAL = dataclasses.replace(
    BASE, reason="申请事项依法不属于本机关职权范围", basis="《中华人民共和国行政许可法》第三十二条第一款第（二）项",
    review_body="获嘉县人民政府", court="获嘉县人民法院")


def _text(pdf: bytes) -> str:
    """All text, whitespace removed (wrapped lines and the date's spaces do not matter)."""
    return "".join("".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages).split())


def _has(pdf: bytes, *phrases: str) -> None:
    text = _text(pdf)
    for phrase in phrases:
        assert "".join(phrase.split()) in text, phrase


@pytest.fixture(scope="module")
def pdfs() -> dict[str, bytes]:
    """Each notice rendered once."""
    return {
        "acceptance": documents.acceptance_notice(BASE),
        "provisional": documents.acceptance_notice(dataclasses.replace(BASE, due_provisional=True)),
        "deferred": documents.acceptance_notice(DEFERRED),
        "correction": documents.correction_notice(CORRECTION),
        "refusal": documents.refusal_notice(REFUSAL),
    }


def test_every_notice_is_a_pdf_with_the_case_the_center_and_one_qr_image(pdfs: dict[str, bytes]) -> None:
    for name, pdf in pdfs.items():
        assert pdf.startswith(b"%PDF-"), name
        _has(pdf, "20261123-00042-8", "个体工商户设立登记", "张三", "410724********1234", "获嘉县政务服务中心",
             "0373-4502316", "获嘉县市场监督管理局", "2026 年 11 月 23 日", "扫码查询办理进度")
        images = [img for page in PdfReader(io.BytesIO(pdf)).pages for img in page.images]
        assert len(images) == 1, name
        assert images[0].image is not None and images[0].image.width == images[0].image.height


def test_the_qr_code_encodes_the_tracking_url(pdfs: dict[str, bytes]) -> None:
    # No QR decoder is installed: compare pixels with the symbol of the expected URL.
    expected = Image.open(io.BytesIO(qr_png(TRACKING, scale=8))).convert("L")
    for name, pdf in pdfs.items():
        (embedded,) = [img.image for page in PdfReader(io.BytesIO(pdf)).pages for img in page.images]
        assert embedded is not None
        assert embedded.size == expected.size, name
        assert ImageChops.difference(embedded.convert("L"), expected).getbbox() is None, name


def test_acceptance_notice_lists_received_materials_and_the_promised_date(pdfs: dict[str, bytes]) -> None:
    pdf = pdfs["acceptance"]
    _has(pdf, "受理通知书", "决定予以受理", "个体工商户登记（备案）申请书", "经营场所使用证明", "承诺办结日期",
         "2026 年 11 月 24 日", "法定办结日期", "2026 年 11 月 26 日", "410724-SCJG-XK-001")
    text = _text(pdf)
    assert "容缺" not in text
    assert "暂定" not in text


def test_a_provisional_due_date_is_marked_as_such(pdfs: dict[str, bytes]) -> None:
    _has(pdfs["provisional"], "2026 年 11 月 24 日（暂定）", "2026 年 11 月 26 日（暂定）", "节假日安排尚未公布")


def test_deferred_acceptance_lists_what_to_supply_by_when_and_the_consequence(pdfs: dict[str, bytes]) -> None:
    pdf = pdfs["deferred"]
    _has(pdf, "容缺受理通知书", "容缺后补的材料", "经营场所使用证明", "租赁合同原件", "请于 2026 年 12 月 3 日 前",
         "逾期未补正的，终止办理")


def test_missing_materials_without_a_date_are_not_a_deferred_acceptance() -> None:
    pdf = documents.acceptance_notice(dataclasses.replace(BASE, missing=(NoticeLine("经营者照片"),)))
    assert "容缺" not in _text(pdf)


def test_correction_notice_lists_everything_missing_at_once(pdfs: dict[str, bytes]) -> None:
    pdf = pdfs["correction"]
    _has(pdf, "补正材料一次性告知书", "一次性告知", "经营场所使用证明", "须由产权人签字", "经营者照片",
         "近期一寸免冠", "请于 2026 年 12 月 8 日 前补正", "窗口不再要求补正本告知书以外的材料")


def test_refusal_notice_gives_reason_basis_and_the_standard_remedies(pdfs: dict[str, bytes]) -> None:
    pdf = pdfs["refusal"]
    _has(pdf, "不予受理通知书", "决定不予受理", "申请事项依法不属于本机关职权范围",
         "《中华人民共和国行政许可法》第三十二条第一款第（二）项", "申请人如不服本决定",
         "60 日内向获嘉县人民政府申请行政复议", "6 个月内向获嘉县人民法院提起行政诉讼", "予以退回")


def test_the_remedy_wording_without_named_bodies_is_the_general_one() -> None:
    assert documents.appeal_text() == (
        "申请人如不服本决定，可以自收到本通知书之日起 60 日内依法申请行政复议，"
        "或者自收到本通知书之日起 6 个月内依法向人民法院提起行政诉讼。")


def test_the_same_notice_gives_the_same_bytes() -> None:
    assert documents.refusal_notice(REFUSAL) == documents.refusal_notice(REFUSAL)


def test_a_usual_notice_fits_on_one_page(pdfs: dict[str, bytes]) -> None:
    assert {name: len(PdfReader(io.BytesIO(pdf)).pages) for name, pdf in pdfs.items()} == dict.fromkeys(pdfs, 1)


def test_a_long_list_flows_onto_more_pages_with_the_code_beside_the_sign_off() -> None:
    many = tuple(NoticeLine(f"补充材料第{i}项", "加盖公章") for i in range(1, 61))
    pdf = documents.correction_notice(dataclasses.replace(CORRECTION, missing=many))
    pages = PdfReader(io.BytesIO(pdf)).pages
    assert len(pages) > 1
    _has(pdf, "补充材料第1项", "补充材料第60项")
    last = "".join((pages[-1].extract_text() or "").split())
    assert "扫码查询办理进度" in last and "获嘉县市场监督管理局" in last
    assert len(pages[-1].images) == 1
