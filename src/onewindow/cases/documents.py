"""The notices a case hands the applicant, as PDFs: 受理通知书 (and 容缺受理), 补正材料一次性告知书, 不予受理通知书.

Composed purely from a :class:`CaseNotice` (no database, no HTTP): the service fills one from the
case and its item version, so the wording lives here once and tests need no fixtures. Every
notice carries the case number, the service center's name and phone, and a QR code to the public
tracking page, on the house layout of :class:`onewindow.core.pdf.NoticePdf` (the same as the
item's 一次性告知书).

The texts follow the usual county templates: 《中华人民共和国行政许可法》第三十二条 for accepting,
correcting (one complete list, 一次性告知) and refusing; 60 days for 行政复议 (行政复议法第二十条)
and 6 months for 行政诉讼 (行政诉讼法第四十六条) on a refusal.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from fpdf.enums import Align, XPos, YPos

from onewindow.core.clock import CHINA_TZ
from onewindow.core.pdf import BODY_SIZE, FONT_FAMILY, LINE, NoticePdf

__all__ = ["CaseNotice", "NoticeLine", "acceptance_notice", "correction_notice", "decision_notice", "refusal_notice"]

ACCEPTANCE_TITLE = "受理通知书"
DEFERRED_ACCEPTANCE_TITLE = "容缺受理通知书"
CORRECTION_TITLE = "补正材料一次性告知书"
REFUSAL_TITLE = "不予受理通知书"
APPROVAL_TITLE = "准予许可（办理）决定书"
DENIAL_TITLE = "不予许可（办理）决定书"
TRACKING_CAPTION = "扫码查询办理进度"
RATING_CAPTION = "办结后扫码评价"
GAP = 4.0  # mm above the closing band
QR_SIZE = 25.0  # mm, still read at arm's length by phone cameras


@dataclass(frozen=True)
class NoticeLine:
    """A material on a notice (received, deferred or to be corrected) with an optional note."""

    name: str
    note: str = ""


@dataclass(frozen=True)
class CaseNotice:
    """What a case notice says; dates are China calendar days.

    ``missing`` lists the deferred materials of a 容缺受理 (with ``deferral_due``) or the materials a
    补正 asks for (``deferral_due`` is then the date to correct by, when one is set).
    """

    case_number: str
    title: str  # the item's or bundle's name
    applicant_name: str
    applicant_id_masked: str
    department: str
    hall: str  # the service center, e.g. 获嘉县政务服务中心
    hall_phone: str
    issued_on: dt.date
    tracking_url: str  # the QR code's target
    rating_url: str = ""  # the second QR code: rate the case once it is done (一事一评)
    promised_due: dt.date | None = None
    legal_due: dt.date | None = None
    due_provisional: bool = False  # a due date rests on a holiday table not yet published
    missing: tuple[NoticeLine, ...] = ()
    deferral_due: dt.date | None = None
    reason: str = ""  # refusal
    basis: str = ""  # refusal: the legal basis
    materials_received: tuple[NoticeLine, ...] = ()
    item_code: str = ""
    submitted_on: dt.date | None = None  # when the application came in; ``issued_on`` when None
    review_body: str = ""  # 行政复议机关, when the notice should name it
    court: str = ""  # the court of first instance, when the notice should name it
    approved: bool | None = None  # decision notices: 准予 or 不予
    certificate: tuple[tuple[str, str], ...] = ()  # the e-certificate issued: (label, value) pairs

    @property
    def deferred(self) -> bool:
        """A 容缺受理: accepted with materials still to come by a set date."""
        return bool(self.missing) and self.deferral_due is not None


# ----- wording ------------------------------------------------------------------------------


def date_text(day: dt.date) -> str:
    """``2026 年 11 月 23 日``, as on the catalog's notices."""
    return f"{day.year} 年 {day.month} 月 {day.day} 日"


def due_text(day: dt.date | None, provisional: bool) -> str:
    """A due date, marked （暂定） when its holiday table is not yet published."""
    if day is None:
        return "—"
    return date_text(day) + ("（暂定）" if provisional else "")


def appeal_text(review_body: str = "", court: str = "") -> str:
    """The standard remedy sentence of a refusal: 行政复议 in 60 days or 行政诉讼 in 6 months."""
    review = f"向{review_body}" if review_body else "依法"
    litigate = f"向{court}" if court else "依法向人民法院"
    return (f"申请人如不服本决定，可以自收到本通知书之日起 60 日内{review}申请行政复议，"
            f"或者自收到本通知书之日起 6 个月内{litigate}提起行政诉讼。")


def _lines_table(doc: NoticePdf, lines: Sequence[NoticeLine], note_header: str) -> None:
    doc.table(["序号", "材料名称", note_header],
              [[str(i), line.name, line.note or "—"] for i, line in enumerate(lines, start=1)],
              widths=(9, 55, 56))


# ----- the shared frame ---------------------------------------------------------------------


class _CaseNoticePdf(NoticePdf):
    """The house notice with one addition: the tracking QR code level with the sign-off, saving a page."""

    def closing(self, url: str, caption: str, lines: Sequence[str], size: float = QR_SIZE,
                second: tuple[str, str] | None = None) -> None:
        """QR code (with caption) at the left, a second one (url, caption) beside it, the right-aligned sign-off
        lines beside them."""
        pdf = self._pdf
        # the gap, the code and its caption fit here, or the whole band (sign-off too) moves on
        if pdf.will_page_break(GAP + size + LINE + 3):
            pdf.add_page()
        pdf.ln(GAP)
        top = pdf.get_y()
        pdf.set_font(FONT_FAMILY, size=BODY_SIZE)
        pdf.set_y(top + max(0.0, (size - LINE * len(lines)) / 2))
        for line in lines:
            pdf.cell(0, LINE, line, align=Align.R, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_y(top)
        self.qr(url, caption=caption, size=size, align="L")
        if second is not None:
            bottom = pdf.get_y()
            pdf.set_y(top)
            self.qr(second[0], caption=second[1], size=size, x=pdf.l_margin + size + 12)
            pdf.set_y(max(bottom, pdf.get_y()))


def _document(n: CaseNotice, title: str, font_paths: Sequence[str] | None) -> _CaseNoticePdf:
    # The creation date is the day of issue, so the same notice gives the same bytes every time.
    created = dt.datetime.combine(n.issued_on, dt.time(9, 0), tzinfo=CHINA_TZ)
    footer = f"{n.hall}  咨询电话：{n.hall_phone}" if n.hall_phone else n.hall
    doc = _CaseNoticePdf(title, n.hall, document_number=f"办件编号：{n.case_number}", footer=footer,
                         font_paths=font_paths, created_at=created, author=n.department)
    doc.paragraph(f"{n.applicant_name}：", indent=False)
    return doc


def _facts(doc: NoticePdf, n: CaseNotice, extra: Sequence[tuple[str, str]] = ()) -> None:
    title = f"{n.title}（{n.item_code}）" if n.item_code else n.title
    applicant = f"{n.applicant_name}（证件号码 {n.applicant_id_masked}）" if n.applicant_id_masked else n.applicant_name
    doc.key_values([("办件编号", n.case_number), ("申请事项", title), ("申请人", applicant),
                    ("承办部门", n.department), *extra, ("进度查询", n.tracking_url)])


def _finish(doc: _CaseNoticePdf, n: CaseNotice) -> bytes:
    doc.closing(n.tracking_url, TRACKING_CAPTION, [n.department, date_text(n.issued_on)],
                second=(n.rating_url, RATING_CAPTION) if n.rating_url else None)
    return doc.to_bytes()


def _submitted(n: CaseNotice) -> str:
    return date_text(n.submitted_on or n.issued_on)


# ----- the notices --------------------------------------------------------------------------


def acceptance_notice(n: CaseNotice, *, font_paths: Sequence[str] | None = None) -> bytes:
    """受理通知书; a 容缺受理通知书 listing the deferred materials when ``missing`` and ``deferral_due`` are set."""
    supply_by = n.deferral_due if n.deferred else None
    doc = _document(n, ACCEPTANCE_TITLE if supply_by is None else DEFERRED_ACCEPTANCE_TITLE, font_paths)
    if supply_by is not None:
        doc.paragraph(f"你（单位）于 {_submitted(n)} 申请办理的“{n.title}”，主要申请材料齐全、符合法定形式，"
                      "你（单位）已书面承诺按期补齐其余材料，根据容缺受理制度决定先行受理。")
    else:
        doc.paragraph(f"你（单位）于 {_submitted(n)} 申请办理的“{n.title}”，申请材料齐全、符合法定形式，"
                      "根据《中华人民共和国行政许可法》第三十二条的规定，决定予以受理。")
    extra = [("受理日期", date_text(n.issued_on)), ("承诺办结日期", due_text(n.promised_due, n.due_provisional))]
    if n.legal_due is not None:
        extra.append(("法定办结日期", due_text(n.legal_due, n.due_provisional)))
    _facts(doc, n, extra)
    if n.due_provisional:
        doc.paragraph("注：“暂定”日期所依据的节假日安排尚未公布，公布后重新计算。")

    doc.heading("一、已收取的申请材料")
    if n.materials_received:
        _lines_table(doc, n.materials_received, "说明")
    else:
        doc.paragraph("未收取纸质材料（材料通过电子证照库调取或网上提交）。")
    if supply_by is not None:
        doc.heading("二、容缺后补的材料")
        _lines_table(doc, n.missing, "补正要求")
        doc.paragraph(f"请于 {date_text(supply_by)} 前补齐上述材料，提交至{n.hall}综合受理窗口；补齐前不出具办理结果。"
                      "逾期未补正的，终止办理，已收取的材料予以退回。")
    return _finish(doc, n)


def correction_notice(n: CaseNotice, *, font_paths: Sequence[str] | None = None) -> bytes:
    """补正材料一次性告知书: every material still missing or to be corrected, in one complete list."""
    doc = _document(n, CORRECTION_TITLE, font_paths)
    doc.paragraph(f"你（单位）于 {_submitted(n)} 申请办理的“{n.title}”，申请材料不齐全或者不符合法定形式。"
                  "根据《中华人民共和国行政许可法》第三十二条第一款第（四）项的规定，现将需要补正的全部内容"
                  "一次性告知如下。")
    _facts(doc, n, [("告知日期", date_text(n.issued_on))])

    doc.heading("需要补正的材料")
    if n.missing:
        _lines_table(doc, n.missing, "补正要求")
    else:
        doc.paragraph("—")
    lines = ["以上为需要补正的全部内容，窗口不再要求补正本告知书以外的材料。"]
    if n.deferral_due is not None:
        lines.append(f"请于 {date_text(n.deferral_due)} 前补正，提交至{n.hall}综合受理窗口；"
                     "逾期未补正的，本次申请终止办理，你（单位）可以重新提出申请。")
    else:
        lines.append(f"请补正后提交至{n.hall}综合受理窗口。")
    lines.append("补正的材料齐全、符合法定形式的，予以受理。")
    doc.paragraph("\n".join(lines))
    return _finish(doc, n)


def refusal_notice(n: CaseNotice, *, font_paths: Sequence[str] | None = None) -> bytes:
    """不予受理通知书: the reason, the legal basis and the standard 行政复议 / 行政诉讼 remedy."""
    doc = _document(n, REFUSAL_TITLE, font_paths)
    doc.paragraph(f"你（单位）于 {_submitted(n)} 申请办理的“{n.title}”，经审查，决定不予受理。")
    _facts(doc, n, [("决定日期", date_text(n.issued_on))])

    doc.heading("一、不予受理的理由")
    doc.paragraph(n.reason or "—")
    doc.heading("二、依据")
    doc.paragraph(n.basis or "《中华人民共和国行政许可法》第三十二条")
    doc.heading("三、权利告知")
    remedies = [appeal_text(n.review_body, n.court)]
    if n.materials_received:
        names = "、".join(line.name for line in n.materials_received)
        remedies.insert(0, f"你（单位）提交的申请材料（{names}）予以退回。")
    doc.paragraph("\n".join(remedies))
    return _finish(doc, n)


def decision_notice(n: CaseNotice, *, font_paths: Sequence[str] | None = None) -> bytes:
    """准予 / 不予许可（办理）决定书: the decision, its reason and basis, the licence issued, the remedy."""
    approved = bool(n.approved)
    doc = _document(n, APPROVAL_TITLE if approved else DENIAL_TITLE, font_paths)
    verdict = "准予许可（办理）" if approved else "不予许可（办理）"
    doc.paragraph(f"你（单位）于 {_submitted(n)} 申请办理的“{n.title}”，经审查，决定{verdict}。")
    _facts(doc, n, [("决定日期", date_text(n.issued_on))])
    doc.heading("一、决定理由")
    doc.paragraph(n.reason or "—")
    if n.basis:
        doc.heading("二、依据")
        doc.paragraph(n.basis)
    if approved and n.certificate:
        doc.heading("办理结果（电子证照）")
        doc.key_values(list(n.certificate))
        doc.paragraph("电子证照与纸质证照具有同等效力，可在本中心网站“证照核验”页面以证照编号和校验码核验。")
    if not approved:
        doc.heading("权利告知")
        doc.paragraph(appeal_text(n.review_body, n.court))
    return _finish(doc, n)
