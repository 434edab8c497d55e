"""What applicants read about an item, composed purely from view data (no database, no HTTP).

The wording of limits, visits and material marks is decided here once, so the guide page, the
bundle page and the 一次性告知书 PDF say the same thing. A bundle's deduplicated material set
(一件事 "一套材料") is merged here too: it works on :class:`ItemDetail` values only.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from onewindow.catalog.rules import produced_in_bundle
from onewindow.catalog.schemas import ItemDetail, ItemSummary, MaterialOut
from onewindow.core.clock import CHINA_TZ
from onewindow.core.pdf import NoticePdf
from onewindow.web import AUDIENCE_LABELS, DEPTH_LABELS, LEVEL_LABELS, UNIT_LABELS

NOTICE_TITLE = "一次性告知书"
# Shown as the material's mark already; repeating it in the note column only adds noise.
_LIBRARY_NOTE = re.compile(r"^可通过电子证照库调取.*免于提交.*$")
_FORM_RANK = {"原件": 0, "复印件": 1, "电子": 2}


# ----- wording ------------------------------------------------------------------------------


def days_text(days: int, unit: str) -> str:
    """``20, working_day`` → ``20 个工作日``."""
    return f"{days} {UNIT_LABELS.get(unit, '个工作日')}"


@dataclass(frozen=True)
class Limits:
    """The two time limits of an item as applicants read them."""

    instant: bool
    legal: str
    promised: str

    @property
    def summary(self) -> str:
        """One line: ``法定 20 个工作日 / 承诺 5 个工作日`` or ``即办件（当场办结）``."""
        if self.instant:
            return "即办件（当场办结）"
        return f"法定 {self.legal} / 承诺 {self.promised}"


def limits_of(item: ItemSummary) -> Limits:
    """The legal and promised limits with their unit (即办件 when instant)."""
    if item.instant:
        return Limits(True, "即办件", "即办件（当场办结）")
    return Limits(False, days_text(item.legal_limit_days, item.limit_unit),
                  days_text(item.promised_limit_days, item.limit_unit))


def visits_text(visits: int) -> str:
    """到现场次数 as a phrase: 0 → 零跑动."""
    if visits == 0:
        return "0 次（零跑动）"
    if visits == 1:
        return "1 次（最多跑一次）"
    return f"{visits} 次"


def visits_badge(visits: int) -> str:
    """到现场次数 in a few characters, for lists: 零跑动 / 最多跑一次 / 跑动 2 次."""
    return {0: "零跑动", 1: "最多跑一次"}.get(visits, f"跑动 {visits} 次")


def depth_text(depth: int) -> str:
    """网办深度 label."""
    return DEPTH_LABELS.get(depth, f"{depth} 级")


def audience_text(audience: str) -> str:
    """服务对象 label."""
    return AUDIENCE_LABELS.get(audience, audience)


def levels_text(levels: Sequence[str]) -> str:
    """可办层级 labels joined."""
    return "、".join(LEVEL_LABELS.get(lvl, lvl) for lvl in levels)


def form_text(form: str, copies: int) -> str:
    """``原件 1 份``; electronic materials have no copies."""
    if form == "电子" or copies <= 0:
        return form
    return f"{form} {copies} 份"


# ----- materials ----------------------------------------------------------------------------


@dataclass(frozen=True)
class MaterialRow:
    """One line of a materials table with its marks decided."""

    position: int
    name: str
    necessity: str
    form: str
    note: str
    certificate_type_name: str | None
    deferrable: bool

    @property
    def exempt(self) -> bool:
        """免提交: taken from the e-certificate library."""
        return self.certificate_type_name is not None

    @property
    def marks(self) -> list[str]:
        """Short plain-text marks (for the PDF): 免提交（电子证照：…）, 可容缺."""
        out: list[str] = []
        if self.certificate_type_name:
            out.append(f"免提交（电子证照：{self.certificate_type_name}）")
        if self.deferrable:
            out.append("可容缺")
        return out


def material_rows(materials: Sequence[MaterialOut]) -> list[MaterialRow]:
    """The materials of an item as table rows, numbered from 1."""
    rows: list[MaterialRow] = []
    for i, m in enumerate(materials, start=1):
        note = (m.note or "").strip()
        if m.certificate_type_name and _LIBRARY_NOTE.match(note):
            note = ""
        rows.append(MaterialRow(position=i, name=m.name, necessity="必要" if m.required else "非必要",
                                form=form_text(m.form, m.copies), note=note,
                                certificate_type_name=m.certificate_type_name, deferrable=m.deferrable))
    return rows


@dataclass
class BundleMaterial:
    """A material of a bundle after merging: one row however many member items ask for it."""

    name: str
    certificate_type_name: str | None
    required: bool
    deferrable: bool
    form: str
    copies: int
    items: list[tuple[str, str]] = field(default_factory=list)  # (code, name) of the items needing it
    aliases: list[str] = field(default_factory=list)  # other names the items use for it

    @property
    def exempt(self) -> bool:
        """免提交 from the e-certificate library."""
        return self.certificate_type_name is not None

    @property
    def form_label(self) -> str:
        """``原件 1 份``."""
        return form_text(self.form, self.copies)


def _name_key(name: str) -> str:
    return re.sub(r"[\s《》〈〉“”\"'（）()]", "", name)


def merge_materials(members: Sequence[ItemDetail]) -> list[BundleMaterial]:
    """One material list across a bundle's items, deduplicated by certificate type, else by name.

    A merged material is required when any item requires it, deferrable only when every item
    that asks for it allows 容缺, and asks for the strictest form and the most copies. A material whose
    certificate one of the bundle's items issues (``produced_in_bundle``) is left out: it is passed on inside.
    """
    produced = produced_in_bundle([(i.result_certificate_type, i.name) for i in members])
    merged: dict[tuple[str, str], BundleMaterial] = {}
    for item in members:
        for m in item.materials:
            if m.certificate_type and m.certificate_type in produced:
                continue
            key = ("cert", m.certificate_type) if m.certificate_type else ("name", _name_key(m.name))
            entry = merged.get(key)
            if entry is None:
                entry = BundleMaterial(name=m.certificate_type_name or m.name,
                                       certificate_type_name=m.certificate_type_name, required=m.required,
                                       deferrable=m.deferrable, form=m.form, copies=m.copies)
                merged[key] = entry
            else:
                entry.required = entry.required or m.required
                entry.deferrable = entry.deferrable and m.deferrable
                if _FORM_RANK.get(m.form, 9) < _FORM_RANK.get(entry.form, 9):
                    entry.form = m.form
                entry.copies = max(entry.copies, m.copies)
            if (item.code, item.name) not in entry.items:
                entry.items.append((item.code, item.name))
            if m.name != entry.name and m.name not in entry.aliases:
                entry.aliases.append(m.name)
    # required first, then in the order the items list them
    return sorted(merged.values(), key=lambda e: not e.required)


# ----- the 一次性告知书 PDF ------------------------------------------------------------------


def notice_pdf(item: ItemDetail, *, guide_url: str, issuer: str = "", hall_category: str = "",
               created_at: dt.datetime | None = None, font_paths: Sequence[str] | None = None,
               deferral_text: str = "") -> bytes:
    """The 一次性告知书 of an item: every element an applicant needs, and a QR code to the guide.

    ``deferral_text`` is the item's 容缺 sentence (``catalog.procedure.deferral_wording``).
    """
    limits = limits_of(item)
    doc = NoticePdf(NOTICE_TITLE, item.name,
                    document_number=f"事项编码：{item.code}（第 {item.version} 版）",
                    footer=issuer or item.department_name, font_paths=font_paths, created_at=created_at,
                    author=item.department_name)
    doc.paragraph(f"申请人：您好！办理“{item.name}”所需的条件、全部材料、时限和流程一次性告知如下。"
                  "材料齐全、符合法定形式的，窗口当场受理。")
    if item.negative_list_reason:
        doc.paragraph(f"特别提示：本事项不进驻大厅：{item.negative_list_reason}")
    doc.key_values([
        ("事项名称", item.name),
        ("事项编码", item.code),
        ("实施部门", item.department_name),
        ("事项类型", item.type),
        ("服务对象", audience_text(item.audience)),
        ("可办层级", levels_text(item.levels)),
        ("通办范围", item.scope),
        ("到现场次数", visits_text(item.max_visits)),
        ("网办深度", depth_text(item.online_depth)),
    ] + ([("大厅分类", hall_category)] if hall_category else []))

    doc.heading("一、申请条件")
    doc.paragraph(item.conditions or "无特别条件。")

    doc.heading("二、申请材料")
    rows = material_rows(item.materials)
    if rows:
        doc.table(["序号", "材料名称", "必要性", "形式及份数", "免提交／容缺"],
                  [[str(r.position), f"{r.name}\n（{r.note}）" if r.note else r.name, r.necessity, r.form,
                    "\n".join(r.marks)] for r in rows],
                  widths=(9, 50, 12, 19, 30))
        notes = []
        if any(r.exempt for r in rows):
            notes.append("标注“免提交”的材料由窗口通过电子证照库调取，申请人无须提交实体证照。")
        if any(r.deferrable for r in rows):
            notes.append(f"标注“可容缺”的材料：{deferral_text}。" if deferral_text
                         else "标注“可容缺”的材料缺少时可先行受理（容缺受理），申请人书面承诺后在规定期限内补齐。")
        if notes:
            doc.paragraph("\n".join(notes))
    else:
        doc.paragraph("无须提交材料。")

    doc.heading("三、办理时限")
    if limits.instant:
        doc.paragraph("即办件：材料齐全、符合法定形式的，当场办结。")
    else:
        doc.key_values([("法定办结时限", limits.legal), ("承诺办结时限", limits.promised)])

    doc.heading("四、收费标准")
    doc.paragraph(item.fee or "不收费")

    doc.heading("五、设定依据")
    doc.paragraph(item.basis or "—")

    doc.heading("六、办理流程")
    doc.paragraph("\n".join(f"{i}. {step}" for i, step in enumerate(item.steps, start=1)) or "—")

    doc.heading("七、办理地点和咨询电话")
    doc.key_values([("办理地点", item.location or "—"), ("咨询电话", item.phone or "—")])

    doc.qr(guide_url, caption="扫码查看网上办事指南", align="R")
    lines = [item.department_name]
    if created_at is not None:
        day = created_at.astimezone(CHINA_TZ).date()
        lines.append(f"{day.year} 年 {day.month} 月 {day.day} 日")
    doc.signature(lines)
    return doc.to_bytes()
