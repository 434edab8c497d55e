"""The 一次性告知书 PDF of an item: served inline, Chinese text extractable, QR code to the guide."""

from __future__ import annotations

import io
from urllib.parse import unquote

import pytest
from fastapi.testclient import TestClient
from PIL import Image, ImageChops
from pypdf import PdfReader

from onewindow.core.qr import qr_png

SHOP = "410724-SCJG-XK-001"  # 个体工商户设立登记


@pytest.fixture
def notice(client: TestClient) -> tuple[bytes, dict[str, str]]:
    r = client.get(f"/items/{SHOP}/notice.pdf")
    assert r.status_code == 200
    return r.content, dict(r.headers)


def _text(pdf: bytes) -> str:
    return "".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages)


def _squash(text: str) -> str:
    return "".join(text.split())


def test_notice_is_an_inline_pdf(notice: tuple[bytes, dict[str, str]]) -> None:
    pdf, headers = notice
    assert pdf.startswith(b"%PDF-")
    assert headers["content-type"] == "application/pdf"
    disposition = headers["content-disposition"]
    assert disposition.startswith("inline;")
    assert f'filename="notice-{SHOP}.pdf"' in disposition
    assert "一次性告知书-个体工商户设立登记" in unquote(disposition)


def test_notice_text_is_chinese_and_complete(notice: tuple[bytes, dict[str, str]]) -> None:
    text = _squash(_text(notice[0]))
    for expected in ("一次性告知书", "个体工商户设立登记", SHOP, "获嘉县市场监督管理局",
                     "申请条件", "有经营能力的公民", "经营者居民身份证", "经营场所使用证明",
                     "免提交（电子证照：居民身份证）", "可容缺", "法定办结时限", "3个工作日", "1个工作日",
                     "不收费", "市场主体登记管理条例", "县政务服务中心二楼C区", "0373-4502316", "发放营业执照",
                     "扫码查看网上办事指南", "2026年11月23日"):
        assert _squash(expected) in text, expected


def test_notice_carries_a_qr_image(notice: tuple[bytes, dict[str, str]]) -> None:
    reader = PdfReader(io.BytesIO(notice[0]))
    images = [img for page in reader.pages for img in page.images]
    assert len(images) == 1
    assert images[0].image is not None and images[0].image.width == images[0].image.height


def test_notice_qr_encodes_the_guide_url(client: TestClient) -> None:
    # No QR decoder is installed, so compare pixels with the symbol of the expected URL.
    pdf = client.get(f"/items/{SHOP}/notice.pdf").content
    (embedded,) = [img.image for page in PdfReader(io.BytesIO(pdf)).pages for img in page.images]
    base_url = client.app.state.settings.base_url.rstrip("/")  # type: ignore[attr-defined]
    expected = Image.open(io.BytesIO(qr_png(f"{base_url}/items/{SHOP}", scale=8)))
    assert embedded is not None
    assert embedded.size == expected.size
    assert ImageChops.difference(embedded.convert("L"), expected.convert("L")).getbbox() is None


def test_notice_of_instant_item_says_instant(client: TestClient) -> None:
    text = _squash(_text(client.get("/items/410724-RSJ-GG-001/notice.pdf").content))
    assert "即办件" in text and "当场办结" in text


def test_notice_of_negative_list_item_says_where_to_go(client: TestClient) -> None:
    text = _squash(_text(client.get("/items/410724-GAJ-XK-004/notice.pdf").content))
    assert "本事项不进驻大厅" in text


def test_notice_of_unknown_item_is_404(client: TestClient) -> None:
    r = client.get("/items/NOPE/notice.pdf")
    assert r.status_code == 404
