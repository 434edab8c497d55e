"""A small A4 document builder for Chinese notices (受理通知书, 一次性告知书, 不予受理通知书 …).

Built on fpdf2. The CJK font is the first existing path of the ``cjk_font_paths`` setting
(``ONEWINDOW_CJK_FONT_PATHS``). TrueType collections (``.ttc``, e.g. Debian's
``fonts-wqy-microhei``) load directly: fpdf2 ≥ 2.8 takes ``collection_font_number``; the face is
chosen by name (a Simplified-Chinese face such as ``Noto Sans CJK SC`` or the proportional
``WenQuanYi Micro Hei`` rather than its ``Mono`` twin), or pinned with a ``#N`` suffix on the path
(``/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc#2``). fpdf2 embeds only the glyphs used
(subsetting) with a ToUnicode map, so a one-page notice is a few tens of kilobytes and its
Chinese text can be searched, copied and extracted.

Fonts without a bold face are common for CJK, so emphasis (title, headings) is drawn with the
fill-and-stroke text mode instead of a bold font: it looks bold and extracts as plain text.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from itertools import pairwise
from pathlib import Path

from fontTools.ttLib import TTCollection  # type: ignore[import-untyped]
from fpdf import FPDF
from fpdf.enums import Align, TableBordersLayout, TextMode, WrapMode, XPos, YPos
from fpdf.fonts import FontFace

from onewindow.config import get_settings
from onewindow.core.qr import qr_png

__all__ = ["FontNotFoundError", "NoticePdf", "find_cjk_font"]

FONT_FAMILY = "cjk"
MARGIN = 20.0  # mm
BODY_SIZE = 12.0  # pt, close to 仿宋三号 on screen while fitting a table on A4
LINE = 7.0  # mm per body line
INDENT = "\u3000\u3000"  # 首行缩进两字


class FontNotFoundError(RuntimeError):
    """No configured CJK font file exists."""

    def __init__(self, tried: Sequence[str]) -> None:
        shown = "、".join(tried) if tried else "（空）"
        super().__init__(
            f"找不到中文字体：设置 cjk_font_paths（环境变量 ONEWINDOW_CJK_FONT_PATHS）中的文件都不存在，"
            f"已尝试：{shown}。请安装 fonts-wqy-microhei 或配置一个 .ttf/.otf/.ttc 字体路径"
        )
        self.tried = list(tried)


def _split_index(entry: str) -> tuple[Path, int | None]:
    path, sep, index = entry.rpartition("#")
    if sep and index.isdigit():
        return Path(path), int(index)
    return Path(entry), None


def find_cjk_font(paths: Sequence[str] | None = None) -> tuple[Path, int]:
    """The first existing font of ``paths`` (default: the setting) and the collection face to use."""
    if paths is None:
        paths = get_settings().cjk_font_paths
    for entry in paths:
        path, index = _split_index(entry)
        if path.is_file():
            if index is None:
                index = _collection_face(str(path))
            return path, index
    raise FontNotFoundError(list(paths))


@lru_cache(maxsize=8)
def _collection_face(path: str) -> int:
    """For a .ttc/.otc, the index of the face best suited to Simplified Chinese; 0 otherwise."""
    if not path.lower().endswith((".ttc", ".otc")):
        return 0
    with TTCollection(path, lazy=True) as collection:
        names = [str(face["name"].getDebugName(4) or "") for face in collection.fonts]
    for preferred in (" SC", "SC ", "Micro Hei", "Zen Hei", "GB"):
        for i, name in enumerate(names):
            if preferred in name and "Mono" not in name:
                return i
    return 0


class _Document(FPDF):
    """FPDF with a footer line and page numbers on every page."""

    footer_text = ""

    def footer(self) -> None:
        self.set_y(-15)
        self.set_font(FONT_FAMILY, size=9)
        self.set_text_color(100)
        text = f"{self.footer_text}    " if self.footer_text else ""
        self.cell(0, 6, f"{text}第 {self.page_no()} 页 共 {{nb}} 页", align=Align.C)
        self.set_text_color(0)


class NoticePdf:
    """An A4 notice: title block, headings, paragraphs, label–value lines, tables, a QR code, sign-off."""

    def __init__(self, title: str, subtitle: str = "", *, document_number: str = "", footer: str = "",
                 font_paths: Sequence[str] | None = None, created_at: dt.datetime | None = None,
                 author: str = "") -> None:
        font_path, face = find_cjk_font(font_paths)
        pdf = _Document(orientation="P", unit="mm", format="A4")
        pdf.footer_text = footer
        pdf.set_margins(MARGIN, MARGIN, MARGIN)
        pdf.set_auto_page_break(auto=True, margin=22)
        pdf.add_font(FONT_FAMILY, "", str(font_path), collection_font_number=face)
        pdf.set_lang("zh-CN")
        pdf.set_title(title)
        pdf.set_creator("OneWindow 一窗通办")
        if author:
            pdf.set_author(author)
        if created_at is not None:
            if created_at.tzinfo is None:
                raise ValueError("created_at must be timezone-aware")
            pdf.set_creation_date(created_at)
        pdf.alias_nb_pages()
        pdf.add_page()
        self._pdf = pdf
        self._title_block(title, subtitle, document_number)

    # -- building blocks ---------------------------------------------------------------------

    @property
    def width(self) -> float:
        """Usable text width in millimetres."""
        return float(self._pdf.epw)

    @contextmanager
    def _bold(self) -> Iterator[None]:
        # local_context wraps the text in q … Q, so the stroke mode cannot leak into later text.
        with self._pdf.local_context(text_mode=TextMode.FILL_STROKE, line_width=0.25):
            yield

    def _title_block(self, title: str, subtitle: str, document_number: str) -> None:
        pdf = self._pdf
        pdf.set_font(FONT_FAMILY, size=20)
        with self._bold():
            pdf.multi_cell(0, 11, title, align=Align.C, wrapmode=WrapMode.CHAR,
                           new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        if subtitle:
            pdf.set_font(FONT_FAMILY, size=13)
            pdf.multi_cell(0, 8, subtitle, align=Align.C, wrapmode=WrapMode.CHAR,
                           new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        if document_number:
            pdf.set_font(FONT_FAMILY, size=12)
            pdf.cell(0, 8, document_number, align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(2)
        y = pdf.get_y()
        pdf.set_draw_color(180, 0, 0)
        pdf.set_line_width(0.6)
        pdf.line(pdf.l_margin, y, pdf.l_margin + pdf.epw, y)
        pdf.set_draw_color(0)
        pdf.set_line_width(0.2)
        pdf.ln(5)
        pdf.set_font(FONT_FAMILY, size=BODY_SIZE)

    def heading(self, text: str) -> None:
        """A section heading (一、二、… are the caller's to write)."""
        pdf = self._pdf
        if pdf.will_page_break(LINE * 3):
            pdf.add_page()
        pdf.ln(2)
        pdf.set_font(FONT_FAMILY, size=BODY_SIZE + 2)
        with self._bold():
            pdf.multi_cell(0, LINE + 1, text, align=Align.L, wrapmode=WrapMode.CHAR,
                           new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_font(FONT_FAMILY, size=BODY_SIZE)
        pdf.ln(1)

    def paragraph(self, text: str, *, indent: bool = True) -> None:
        """Body text; each line of ``text`` is a paragraph, indented two characters by default."""
        pdf = self._pdf
        pdf.set_font(FONT_FAMILY, size=BODY_SIZE)
        for line in text.splitlines() or [""]:
            body = (INDENT + line.strip()) if indent and line.strip() else line
            pdf.multi_cell(0, LINE, body, align=Align.J, wrapmode=WrapMode.CHAR,
                           new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(1)

    def key_values(self, pairs: Sequence[tuple[str, str]], label_width: float = 36.0) -> None:
        """Label–value lines (办件编号：…, 申请人：…) with wrapping values, no borders."""
        if not pairs:
            return
        pdf = self._pdf
        pdf.set_font(FONT_FAMILY, size=BODY_SIZE)
        with pdf.table(col_widths=(label_width, self.width - label_width), width=self.width,
                       first_row_as_headings=False, borders_layout=TableBordersLayout.NONE,
                       line_height=LINE, text_align=(Align.R, Align.L), wrapmode=WrapMode.CHAR,
                       v_align="TOP", padding=(0.5, 1)) as table:
            for label, value in pairs:
                row = table.row()
                row.cell(f"{label}：")
                row.cell(str(value))
        pdf.ln(2)

    def table(self, headers: Sequence[str], rows: Sequence[Sequence[str]],
              widths: Sequence[float] | None = None) -> None:
        """A bordered table with a shaded header row repeated on every page; cells wrap.

        ``widths`` are relative weights of the columns (any unit; scaled to the page width).
        """
        pdf = self._pdf
        if widths is not None and len(widths) != len(headers):
            raise ValueError("widths must have one entry per column")
        pdf.set_font(FONT_FAMILY, size=BODY_SIZE - 1)
        heading_style = FontFace(family=FONT_FAMILY, emphasis="", fill_color=(230, 230, 230))
        with pdf.table(col_widths=tuple(widths) if widths else None, width=self.width,
                       headings_style=heading_style, line_height=LINE - 1, text_align=Align.L,
                       wrapmode=WrapMode.CHAR, v_align="MIDDLE", padding=(1, 1.5),
                       repeat_headings=1) as table:
            head = table.row()
            for header in headers:
                head.cell(header, align=Align.C)
            for values in rows:
                if len(values) != len(headers):
                    raise ValueError("every row must have one value per column")
                row = table.row()
                for value in values:
                    row.cell(str(value))
        pdf.set_font(FONT_FAMILY, size=BODY_SIZE)
        pdf.ln(3)

    def chart(self, title: str, categories: Sequence[str], series: Sequence[tuple[str, Sequence[float | None]]],
              *, kind: str = "bar", height: float = 55.0) -> None:
        """A simple bar or line chart drawn with vector lines (no image library): a title, the value axis from
        zero to the largest value, a label under every few categories and a legend line of the series."""
        pdf = self._pdf
        if pdf.will_page_break(height + 16):
            pdf.add_page()
        colours = ((31, 119, 180), (214, 39, 40), (44, 160, 44), (255, 127, 14))
        pdf.set_font(FONT_FAMILY, size=BODY_SIZE - 1)
        pdf.cell(0, 6, title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        values = [v for _, vs in series for v in vs if v is not None]
        top = max([*values, 0.0]) or 1.0
        x0, y0 = pdf.l_margin + 12, pdf.get_y() + height  # the origin (bottom left of the plot)
        width = pdf.epw - 14
        pdf.set_draw_color(120)
        pdf.set_line_width(0.2)
        pdf.line(x0, y0, x0 + width, y0)
        pdf.line(x0, y0, x0, y0 - height)
        pdf.set_font(FONT_FAMILY, size=7)
        for tick in (0.0, 0.5, 1.0):
            pdf.text(pdf.l_margin, y0 - tick * height + 1, f"{top * tick:.4g}")
        n = max(len(categories), 1)
        step = width / n
        every = max(1, n // 12)
        for i, label in enumerate(categories):
            if i % every == 0:
                pdf.text(x0 + i * step, y0 + 4, str(label)[:10])
        for k, (name, vs) in enumerate(series):
            colour = colours[k % len(colours)]
            pdf.set_draw_color(*colour)
            pdf.set_fill_color(*colour)
            if kind == "bar":
                bar = step * 0.8 / max(len(series), 1)
                for i, v in enumerate(vs):
                    if v is not None and v > 0:
                        h = v / top * height
                        pdf.rect(x0 + i * step + step * 0.1 + k * bar, y0 - h, bar, h, style="F")
            else:
                points = [(x0 + (i + 0.5) * step, y0 - v / top * height) for i, v in enumerate(vs) if v is not None]
                pdf.set_line_width(0.5)
                for a, b in pairwise(points):
                    pdf.line(a[0], a[1], b[0], b[1])
                pdf.set_line_width(0.2)
            pdf.rect(x0 + k * 40, y0 + 7, 3, 3, style="F")
            pdf.text(x0 + k * 40 + 4, y0 + 9.6, name)
        pdf.set_draw_color(0)
        pdf.set_fill_color(255)
        pdf.set_y(y0 + 13)
        pdf.set_font(FONT_FAMILY, size=BODY_SIZE)

    def qr(self, url: str, caption: str = "", size: float = 30.0, align: str = "R", x: float | None = None) -> None:
        """A QR code (``size`` mm square) with an optional caption, at the left, centre or right (or at ``x``)."""
        pdf = self._pdf
        needed = size + (LINE if caption else 0) + 2
        if pdf.will_page_break(needed):
            pdf.add_page()
        if x is None:
            x = {"L": pdf.l_margin, "C": pdf.l_margin + (pdf.epw - size) / 2,
                 "R": pdf.l_margin + pdf.epw - size}[align.upper()]
        y = pdf.get_y()
        pdf.image(io.BytesIO(qr_png(url, scale=8)), x=x, y=y, w=size, h=size, alt_text=url)
        pdf.set_y(y + size + 1)
        if caption:
            pdf.set_font(FONT_FAMILY, size=BODY_SIZE - 3)
            width = max(size, pdf.get_string_width(caption) + 2)
            cx = min(max(pdf.l_margin, x + size / 2 - width / 2), pdf.l_margin + pdf.epw - width)
            pdf.set_x(cx)
            pdf.cell(width, 5, caption, align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            pdf.set_font(FONT_FAMILY, size=BODY_SIZE)
        pdf.ln(2)

    def signature(self, lines: Sequence[str]) -> None:
        """Right-aligned sign-off block: issuing body, （盖章）, date."""
        pdf = self._pdf
        if pdf.will_page_break(LINE * (len(lines) + 1)):
            pdf.add_page()
        pdf.ln(LINE)
        pdf.set_font(FONT_FAMILY, size=BODY_SIZE)
        for line in lines:
            pdf.cell(0, LINE, line, align=Align.R, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def set_footer(self, text: str) -> None:
        """Footer line printed (with the page numbers) at the bottom of every page."""
        self._pdf.footer_text = text

    def spacer(self, mm: float = 4.0) -> None:
        """Vertical space."""
        self._pdf.ln(mm)

    def to_bytes(self) -> bytes:
        """The finished PDF."""
        return bytes(self._pdf.output())
