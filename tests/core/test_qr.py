"""QR codes: PNG and SVG renderings of the same symbol, with the quiet zone."""

from __future__ import annotations

import base64
import io

import pytest
import segno
from PIL import Image

from onewindow.core.qr import qr_png, qr_png_data_uri, qr_svg

URL = "https://onewindow.example/track/GD2026112300012"


def test_png_pixels_are_the_qr_matrix_with_a_four_module_quiet_zone() -> None:
    data = qr_png(URL, scale=3)
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    symbol = segno.make(URL, error="m", micro=False)
    modules = len(symbol.matrix)
    image = Image.open(io.BytesIO(data)).convert("L")
    assert image.size == ((modules + 8) * 3, (modules + 8) * 3)
    for row in range(modules + 8):
        for col in range(modules + 8):
            pixel = image.getpixel((col * 3 + 1, row * 3 + 1))
            assert isinstance(pixel, int)
            dark = pixel < 128
            inside = 4 <= row < modules + 4 and 4 <= col < modules + 4
            expected = bool(symbol.matrix[row - 4][col - 4]) if inside else False
            assert dark is expected, (row, col)


def test_svg_is_an_inline_element() -> None:
    svg = qr_svg(URL, title="扫码查询办件进度")
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
    assert "<?xml" not in svg
    assert 'xmlns="http://www.w3.org/2000/svg"' in svg
    assert "<title>扫码查询办件进度</title>" in svg
    assert 'class="qr"' in svg


def test_data_uri_embeds_the_png() -> None:
    uri = qr_png_data_uri(URL, scale=2)
    prefix = "data:image/png;base64,"
    assert uri.startswith(prefix)
    assert base64.b64decode(uri.removeprefix(prefix)).startswith(b"\x89PNG")


def test_chinese_text_is_encoded() -> None:
    assert qr_png("一窗通办 办件编号 GD2026112300012").startswith(b"\x89PNG")


def test_empty_data_is_refused() -> None:
    with pytest.raises(ValueError, match="empty"):
        qr_png("")
