"""Consistency rules of a service item (pure): errors reject the item, warnings are reported only."""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterable
from typing import TypeVar

from onewindow.catalog.procedure import ProcedureError, procedure_of, unknown_step_names
from onewindow.catalog.schemas import LEVEL_LABELS, ItemIn
from onewindow.core.errors import Problem

_CHARGED = re.compile(r"\d+(\.\d+)?\s*元")
_FEE_BASIS = re.compile(r"[《（(]|标准|规定|依据|按照|免费|不收费")


def item_errors(item: ItemIn, prefix: str = "") -> list[Problem]:
    """Rules that must hold for an item to be saved; ``prefix`` locates the item in a file."""
    p = prefix
    problems: list[Problem] = []
    if item.instant and (item.legal_limit_days or item.promised_limit_days):
        problems.append(Problem(f"{p}instant", "instant_needs_zero_limits", "即办件的法定和承诺办结时限都必须为0"))
    if not item.instant and item.legal_limit_days == 0:
        problems.append(Problem(f"{p}legal_limit_days", "limit_required",
                                "承诺件的法定办结时限必须大于0（时限为0的应标为即办件）"))
    if item.promised_limit_days > item.legal_limit_days:
        problems.append(Problem(f"{p}promised_limit_days", "promised_exceeds_legal",
                                f"承诺时限（{item.promised_limit_days}）不能超过法定时限（{item.legal_limit_days}）"))
    if item.online_depth == 4 and item.max_visits != 0:
        problems.append(Problem(f"{p}max_visits", "full_online_needs_zero_visits",
                                "网办深度为四级（全程网办）的事项到现场次数必须为0"))
    if len(set(item.levels)) != len(item.levels):
        problems.append(Problem(f"{p}levels", "duplicate_level", "办理层级有重复"))
    seen: set[str] = set()
    for i, m in enumerate(item.materials):
        if m.name in seen:
            problems.append(Problem(f"{p}materials[{i}].name", "duplicate_material", f"材料名称重复：{m.name}"))
        seen.add(m.name)
    if any(not s.strip() for s in item.steps):
        problems.append(Problem(f"{p}steps", "empty_step", "办理流程中有空步骤"))
    if item.procedure is not None and item.promised_limit_days <= item.legal_limit_days:
        try:
            procedure_of(legal_days=item.legal_limit_days, promised_days=item.promised_limit_days,
                         unit=item.limit_unit, steps=item.steps, override=item.procedure.as_override())
        except ProcedureError as exc:
            problems.append(Problem(f"{p}{exc.field}", "invalid_procedure", exc.message))
    return problems


def item_warnings(item: ItemIn, prefix: str = "") -> list[Problem]:
    """Rules to warn about, not reject (DESIGN.md: fee without basis)."""
    warnings: list[Problem] = []
    if _CHARGED.search(item.fee) and not _FEE_BASIS.search(item.fee):
        warnings.append(Problem(f"{prefix}fee", "fee_without_basis", f"收费事项未写明收费依据：{item.fee}"))
    if item.procedure is None or item.procedure.steps is None:
        for name in unknown_step_names(n for n in item.steps if n.strip()):
            warnings.append(Problem(f"{prefix}steps", "unknown_step_kind", f"无法识别办理环节“{name}”的类型，"
                                    "按审查环节处理；可在 procedure.steps 中指定 kind"))
    return warnings


K = TypeVar("K", bound=Hashable)


def produced_in_bundle(results: Iterable[tuple[K | None, str]]) -> dict[K, str]:
    """The certificate types a bundle's own items issue (type → the issuing item's name), from (result type,
    item name) pairs. Such a material passes from sub-case to sub-case inside the bundle: it is never asked of
    the applicant (the guide's merged list, the intake checklist and the online form all leave it out)."""
    produced: dict[K, str] = {}
    for kind, name in results:
        if kind is not None:
            produced.setdefault(kind, name)
    return produced


# ----- which hall may take which item (三级 network) ----------------------------------------------------------

# levels of the halls that may receive an item for a county department (代收代办): town centers, village points
PROXY_LEVELS: frozenset[str] = frozenset({"town", "village"})


def hall_handles(hall_level: str, levels: Iterable[str]) -> bool:
    """True when a hall of ``hall_level`` offers the item itself (its 可办层级 include the hall's level)."""
    return hall_level in set(levels)


def proxy_possible(hall_level: str, levels: Iterable[str]) -> bool:
    """True when a town center or village point may receive the item for the county department (代收代办):
    the hall's own level does not handle it, the county does."""
    wanted = set(levels)
    return hall_level in PROXY_LEVELS and hall_level not in wanted and "county" in wanted


def intake_level_problem(*, hall_name: str, hall_level: str, item_name: str, levels: Iterable[str],
                         proxy: bool) -> Problem | None:
    """Why a hall may not take the item (None: it may; ``proxy`` = the clerk chose 代收代办)."""
    wanted = list(levels)
    if hall_handles(hall_level, wanted):
        return None
    if proxy_possible(hall_level, wanted):
        if proxy:
            return None
        return Problem("proxy", "proxy_required", f"“{item_name}”由县级部门办理，{hall_name}不能直接受理；"
                       "如需代收代办，请勾选“代收代办”，受理后将申请材料流转至办理部门")
    where = "、".join(LEVEL_LABELS.get(lv, lv) for lv in wanted) or "无"
    return Problem("item_code", "wrong_level", f"{hall_name}（{LEVEL_LABELS.get(hall_level, hall_level)}）"
                   f"不受理“{item_name}”：该事项的可办层级为{where}")
