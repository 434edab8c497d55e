"""QR codes (二维码) for case tracking links on notices, receipts, tickets and the hall display.

Error correction level M (about 15 % of the symbol may be damaged: printed receipts get creased)
and a quiet zone of 4 modules as ISO/IEC 18004 asks, so phone cameras read them at any size.
"""

from __future__ import annotations

import io

import segno

__all__ = ["qr_png", "qr_png_data_uri", "qr_svg"]

QUIET_ZONE = 4


def _make(data: str) -> segno.QRCode:
    if not data:
        raise ValueError("QR data must not be empty")
    return segno.make(data, error="m", micro=False)


def qr_png(data: str, scale: int = 8, border: int = QUIET_ZONE) -> bytes:
    """A black-on-white PNG of the QR code; ``scale`` is pixels per module."""
    out = io.BytesIO()
    _make(data).save(out, kind="png", scale=scale, border=border)
    return out.getvalue()


def qr_svg(data: str, scale: int = 4, border: int = QUIET_ZONE, title: str | None = None) -> str:
    """An inline ``<svg>`` element (no XML declaration) ready to embed in an HTML page."""
    out = io.BytesIO()
    _make(data).save(out, kind="svg", scale=scale, border=border, xmldecl=False, svgns=True, nl=False,
                     title=title, svgclass="qr")
    return out.getvalue().decode("utf-8")


def qr_png_data_uri(data: str, scale: int = 4, border: int = QUIET_ZONE) -> str:
    """A ``data:image/png;base64,…`` URI, for ``<img src>`` where inline SVG does not fit."""
    uri: str = _make(data).png_data_uri(scale=scale, border=border)
    return uri
