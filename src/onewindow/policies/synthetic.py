"""Seeded synthetic entity registers and policy sets for the matcher's tests and benchmark.

The register follows the ``entity_fields`` of the reference catalog with plausible county-level
distributions: employee counts log-normal (most firms are micro, a few hundred-plus), industries by
their share of registered firms, revenue, assets and taxable income scaling with size, the 小微 flag
derived from the tax thresholds, rare tags; persons with an age pyramid, status by age, incomes
log-normal, tags tied to age and status. About 1 % of every field is null (missing data), and values
are rounded as registers hold them, so boundary values such as ``layoff_rate == 5.5`` occur.

Policies are variations of the reference ones: thresholds redrawn from plausible ranges, lists
resampled, tags swapped, an extra condition or an ``any`` group added now and then, all valid on the
given date.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Mapping, Sequence
from importlib import resources
from typing import Any

import numpy as np
import numpy.typing as npt

from onewindow.policies.conditions import FieldDef, FieldType
from onewindow.policies.matcher import (
    BoolColumn,
    Column,
    NumColumn,
    Register,
    StrColumn,
    TagsColumn,
)

NULL_SHARE = 0.01

INDUSTRIES: dict[str, float] = {
    "批发和零售业": 0.30, "租赁和商务服务业": 0.10, "制造业": 0.11, "住宿和餐饮业": 0.07,
    "农、林、牧、渔业": 0.08, "建筑业": 0.06, "居民服务、修理和其他服务业": 0.05,
    "交通运输、仓储和邮政业": 0.04, "信息传输、软件和信息技术服务业": 0.03, "科学研究和技术服务业": 0.03,
    "房地产业": 0.03, "文化、体育和娱乐业": 0.02, "农副食品加工业": 0.02, "教育": 0.01,
    "卫生和社会工作": 0.01,
    "电力、热力、燃气及水生产和供应业": 0.01, "娱乐业": 0.01, "金融业": 0.01, "烟草制品业": 0.001,
}
TOWNSHIPS: dict[str, float] = {
    "城关镇": 0.28, "照镜镇": 0.10, "亢村镇": 0.09, "黄堤镇": 0.08, "中和镇": 0.08, "徐营镇": 0.07,
    "冯庄镇": 0.07, "史庄镇": 0.06, "太山镇": 0.06, "位庄乡": 0.06, "大新庄乡": 0.05,
}
TAX_CREDIT: dict[str, float] = {"A": 0.18, "B": 0.52, "M": 0.20, "C": 0.07, "D": 0.03}
QUALIFICATIONS: dict[str, float] = {
    "个转企": 0.03, "科技型中小企业": 0.03, "守合同重信用企业": 0.05, "诚信示范企业": 0.02, "外贸企业": 0.02,
    "专精特新中小企业": 0.01, "绿色工厂": 0.005, "省级企业技术中心": 0.003,
    "县级以上农业产业化龙头企业": 0.002,
}
STATUSES = ("就业", "失业", "灵活就业", "退休", "在校", "务农")
PERSON_TAGS = ("首次创业", "就业困难人员", "在园幼儿", "高校毕业生", "脱贫人口", "返乡创业农民工",
               "计划生育特殊家庭", "优抚对象")

INNOVATIVE = ("制造业", "信息传输、软件和信息技术服务业", "科学研究和技术服务业")
AGRICULTURAL = ("农、林、牧、渔业", "农副食品加工业")


def reference_catalog() -> dict[str, Any]:
    """The shipped reference catalog (``onewindow/data/catalog-reference.json``)."""
    text = resources.files("onewindow").joinpath("data/catalog-reference.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


# --- registers ------------------------------------------------------------------------------------------

def _choice(rng: np.random.Generator, shares: Mapping[str, float], n: int) -> npt.NDArray[np.int32]:
    p = np.fromiter(shares.values(), dtype=np.float64)
    return rng.choice(len(shares), size=n, p=p / p.sum()).astype(np.int32)


def _nulls(rng: np.random.Generator, n: int) -> npt.NDArray[np.bool_]:
    return rng.random(n) < NULL_SHARE


def _num(values: npt.NDArray[Any], null: npt.NDArray[np.bool_]) -> NumColumn:
    values = values.copy()
    values[null] = np.nan if values.dtype.kind == "f" else 0
    return NumColumn(values, ~null, bool(null.any()))


def _bool(values: npt.NDArray[np.bool_], null: npt.NDArray[np.bool_]) -> BoolColumn:
    codes = values.astype(np.int8)
    codes[null] = -1
    return BoolColumn(codes)


def _str(codes: npt.NDArray[np.int32], categories: Sequence[str], null: npt.NDArray[np.bool_]) -> StrColumn:
    codes = codes.astype(np.int32)
    codes[null] = -1
    return StrColumn(codes, list(categories), {c: i for i, c in enumerate(categories)})


def _tags(has: Sequence[npt.NDArray[np.bool_]], tags: Sequence[str],
          null: npt.NDArray[np.bool_]) -> TagsColumn:
    n = len(null)
    bits = np.zeros(((len(tags) + 7) // 8 or 1, n), dtype=np.uint8)
    for i, flags in enumerate(has):
        bits[i >> 3] |= flags.astype(np.uint8) << np.uint8(i & 7)
    bits[:, null] = 0
    return TagsColumn(bits, ~null, list(tags), {t: i for i, t in enumerate(tags)})


def enterprise_register(n: int, fields: Mapping[str, FieldDef], *, seed: int = 0) -> Register:
    """A seeded register of ``n`` enterprises over the reference enterprise fields."""
    rng = np.random.default_rng([seed, 1])
    industry = _choice(rng, INDUSTRIES, n)
    names = list(INDUSTRIES)
    innovative = np.isin(industry, [names.index(x) for x in INNOVATIVE])
    agricultural = np.isin(industry, [names.index(x) for x in AGRICULTURAL])
    employees = np.clip(np.rint(np.exp(rng.normal(1.7, 1.45, n))), 1, 20000).astype(np.int64)
    years = np.minimum(rng.geometric(0.13, n) - 1, 60).astype(np.int64)
    revenue = np.round(employees * np.exp(rng.normal(np.log(25.0), 0.9, n)), 2)
    assets = np.round(revenue * np.exp(rng.normal(np.log(0.8), 0.8, n)), 2)
    taxable = np.round(np.maximum(revenue * rng.normal(0.06, 0.08, n), 0.0), 2)
    small_micro = (employees <= 300) & (taxable <= 300) & (assets <= 5000)
    high_tech = rng.random(n) < np.where(innovative, 0.06, 0.004) * np.where(employees >= 20, 3.0, 1.0)
    rd_share = np.where(high_tech, rng.uniform(0.03, 0.10, n),
                        np.where(rng.random(n) < 0.15, rng.uniform(0.005, 0.04, n), 0.0))
    rd = np.round(revenue * rd_share, 2)
    graduates = np.minimum(rng.poisson(employees * 0.015), 200).astype(np.int64)
    arrears = rng.random(n) < 0.04
    layoff_when_any = np.round(np.clip(np.exp(rng.normal(np.log(4.0), 0.9, n)), 0, 100), 1)
    layoff = np.where(rng.random(n) < 0.75, 0.0, layoff_when_any)
    tag_names = list(QUALIFICATIONS)
    has: list[npt.NDArray[np.bool_]] = []
    for tag, share in QUALIFICATIONS.items():
        p: Any = share
        if tag == "县级以上农业产业化龙头企业":
            p = np.where(agricultural & (revenue >= 300), 0.15, 0.0005)
        elif tag in ("科技型中小企业", "专精特新中小企业"):
            p = np.where(innovative, share * 4, share / 2)
        has.append(rng.random(n) < p)
    columns: dict[str, Column] = {
        "employees": _num(employees, _nulls(rng, n)),
        "industry": _str(industry, names, _nulls(rng, n)),
        "registered_years": _num(years, _nulls(rng, n)),
        "annual_revenue_wan": _num(revenue, _nulls(rng, n)),
        "total_assets_wan": _num(assets, _nulls(rng, n)),
        "taxable_income_wan": _num(taxable, _nulls(rng, n)),
        "is_high_tech": _bool(high_tech, _nulls(rng, n)),
        "is_small_micro": _bool(small_micro, _nulls(rng, n)),
        "rd_expense_wan": _num(rd, _nulls(rng, n)),
        "newly_hired_graduates": _num(graduates, _nulls(rng, n)),
        "tax_credit_level": _str(_choice(rng, TAX_CREDIT, n), list(TAX_CREDIT), _nulls(rng, n)),
        "township": _str(_choice(rng, TOWNSHIPS, n), list(TOWNSHIPS), _nulls(rng, n)),
        "social_insurance_arrears": _bool(arrears, _nulls(rng, n)),
        "layoff_rate": _num(layoff, _nulls(rng, n)),
        "qualifications": _tags(has, tag_names, _nulls(rng, n)),
    }
    return _register("enterprise", "E", fields, columns, n)


def person_register(n: int, fields: Mapping[str, FieldDef], *, seed: int = 0) -> Register:
    """A seeded register of ``n`` persons over the reference person fields."""
    rng = np.random.default_rng([seed, 2])
    ages_all = np.arange(101)
    weights = np.where(ages_all < 60, 1.0, np.exp(-(ages_all - 60) / 12.0))
    age = rng.choice(ages_all, size=n, p=weights / weights.sum()).astype(np.int64)
    local = rng.random(n) < 0.88
    disabled = rng.random(n) < np.where(age >= 60, 0.12, 0.04)
    level = rng.choice([1, 2, 3, 4], size=n, p=[0.1, 0.2, 0.35, 0.35])
    disability = np.where(disabled, level, 0).astype(np.int64)
    veteran = (age >= 20) & (rng.random(n) < 0.03)
    u = rng.random(n)
    status = np.select(
        [age < 16, age < 22, age < 60],
        [np.where(age >= 6, 4, -1),  # 在校 from 6; no status before school age
         np.select([u < 0.6, u < 0.8, u < 0.85], [4, 0, 1], 2),
         np.select([u < 0.5, u < 0.7, u < 0.85, u < 0.92], [0, 5, 2, 1], 3)],
        np.select([u < 0.4, u < 0.9], [3, 5], 0),
    ).astype(np.int32)
    no_status = status < 0
    status = np.maximum(status, 0).astype(np.int32)
    income = np.round(np.exp(rng.normal(np.log(1600.0), 0.6, n)))
    children = np.where((age >= 20) & (age <= 42), np.minimum(rng.poisson(0.18, n), 3), 0).astype(np.int64)
    low_income = rng.random(n) < np.where(income < 560, 0.7, np.where(income < 900, 0.15, 0.01))
    pension = (age >= 16) & (status != 4) & (rng.random(n) < 0.8)
    business = (age >= 18) & (age <= 70) & (rng.random(n) < 0.07)
    unemployed_ish = (status == 1) | (status == 2)
    has = [
        business & (rng.random(n) < 0.4),  # 首次创业
        unemployed_ish & (rng.random(n) < 0.3),  # 就业困难人员
        (age >= 3) & (age <= 6) & (rng.random(n) < 0.85),  # 在园幼儿
        (age >= 21) & (age <= 30) & (rng.random(n) < 0.25),  # 高校毕业生
        rng.random(n) < 0.04,  # 脱贫人口
        business & (rng.random(n) < 0.1),  # 返乡创业农民工
        (age >= 45) & (rng.random(n) < 0.003),  # 计划生育特殊家庭
        rng.random(n) < 0.005,  # 优抚对象
    ]
    columns: dict[str, Column] = {
        "age": _num(age, _nulls(rng, n)),
        "hukou_local": _bool(local, _nulls(rng, n)),
        "disability_level": _num(disability, _nulls(rng, n)),
        "is_veteran": _bool(veteran, _nulls(rng, n)),
        "employment_status": _str(status, STATUSES, _nulls(rng, n) | no_status),
        "household_income_per_capita": _num(income, _nulls(rng, n)),
        "children_under_3": _num(children, _nulls(rng, n)),
        "is_low_income": _bool(low_income, _nulls(rng, n)),
        "pension_insured": _bool(pension, _nulls(rng, n)),
        "has_business_license": _bool(business, _nulls(rng, n)),
        "identity_tags": _tags(has, PERSON_TAGS, _nulls(rng, n)),
    }
    return _register("person", "P", fields, columns, n)


def _register(kind: str, prefix: str, fields: Mapping[str, FieldDef], columns: dict[str, Column],
              n: int) -> Register:
    wrong = [name for name, f in fields.items() if name not in columns or not _fits(f, columns[name])]
    if wrong:
        raise ValueError(f"synthetic {kind} register does not cover fields {wrong}")
    return Register(kind, fields, [f"{prefix}{i:07d}" for i in range(n)],
                    {name: columns[name] for name in fields})


def _fits(fdef: FieldDef, col: Column) -> bool:
    match fdef.type:
        case FieldType.INT:
            return isinstance(col, NumColumn) and col.values.dtype.kind == "i"
        case FieldType.FLOAT:
            return isinstance(col, NumColumn) and col.values.dtype.kind == "f"
        case FieldType.STR:
            return isinstance(col, StrColumn)
        case FieldType.BOOL:
            return isinstance(col, BoolColumn)
        case FieldType.TAGS:
            return isinstance(col, TagsColumn)
    return False  # pragma: no cover


def register(kind: str, n: int, fields: Mapping[str, FieldDef], *, seed: int = 0) -> Register:
    """A seeded register of ``n`` entities of ``kind`` (enterprise or person)."""
    if kind == "enterprise":
        return enterprise_register(n, fields, seed=seed)
    if kind == "person":
        return person_register(n, fields, seed=seed)
    raise ValueError(f"unknown kind {kind!r}")


# --- policies -------------------------------------------------------------------------------------------

_EXTRAS: dict[str, list[dict[str, Any]]] = {
    "enterprise": [
        {"field": "tax_credit_level", "op": "in", "value": ["A", "B"]},
        {"field": "social_insurance_arrears", "op": "is_false", "value": None},
        {"field": "township", "op": "in", "value": ["城关镇", "照镜镇", "亢村镇"]},
        {"field": "registered_years", "op": ">=", "value": 2},
        {"field": "employees", "op": "between", "value": [10, 300]},
        {"field": "tax_credit_level", "op": "!=", "value": "D"},
        {"field": "qualifications", "op": "not_in", "value": ["外贸企业"]},
    ],
    "person": [
        {"field": "hukou_local", "op": "is_true", "value": None},
        {"field": "age", "op": "between", "value": [18, 60]},
        {"field": "is_low_income", "op": "is_true", "value": None},
        {"field": "employment_status", "op": "in", "value": ["失业", "灵活就业"]},
        {"field": "household_income_per_capita", "op": "<", "value": 1200},
        {"field": "identity_tags", "op": "in", "value": ["脱贫人口", "优抚对象"]},
    ],
}
_ANY_GROUPS: dict[str, list[dict[str, Any]]] = {
    "enterprise": [
        {"any": [{"field": "is_high_tech", "op": "is_true", "value": None},
                 {"field": "qualifications", "op": "in", "value": ["科技型中小企业", "专精特新中小企业"]}]},
        {"any": [{"field": "employees", "op": "<", "value": 100},
                 {"field": "annual_revenue_wan", "op": "<", "value": 2000}]},
    ],
    "person": [
        {"any": [{"field": "is_low_income", "op": "is_true", "value": None},
                 {"field": "disability_level", "op": "between", "value": [1, 2]},
                 {"field": "identity_tags", "op": "contains", "value": "脱贫人口"}]},
        {"any": [{"field": "age", "op": ">=", "value": 70},
                 {"field": "is_veteran", "op": "is_true", "value": None}]},
    ],
}
_STR_DOMAINS: dict[str, Sequence[str]] = {
    "industry": list(INDUSTRIES), "township": list(TOWNSHIPS), "tax_credit_level": list(TAX_CREDIT),
    "employment_status": STATUSES, "qualifications": list(QUALIFICATIONS), "identity_tags": PERSON_TAGS,
}


_NUMERIC_RANGES: dict[str, tuple[float, float, bool, int]] = {  # low, high, log scale, decimals
    "employees": (5, 1000, True, 0), "registered_years": (0, 10, False, 0),
    "annual_revenue_wan": (10, 50000, True, 0), "total_assets_wan": (100, 50000, True, 0),
    "taxable_income_wan": (10, 1000, True, 0), "rd_expense_wan": (0, 200, False, 0),
    "newly_hired_graduates": (1, 10, False, 0), "layoff_rate": (1, 20, False, 1),
    "age": (0, 100, False, 0), "disability_level": (1, 4, False, 0),
    "household_income_per_capita": (300, 3000, True, 0), "children_under_3": (1, 3, False, 0),
}


def _threshold(fdef: FieldDef, rng: np.random.Generator) -> float | int:
    low, high, log, decimals = _NUMERIC_RANGES[fdef.name]
    x = float(np.exp(rng.uniform(np.log(low), np.log(high)))) if log else float(rng.uniform(low, high))
    return round(x) if fdef.type is FieldType.INT else round(x, decimals)


def _vary(cond: dict[str, Any], fields: Mapping[str, FieldDef], rng: np.random.Generator) -> dict[str, Any]:
    """A variation of one reference condition: same field and op family, another plausible value."""
    out = dict(cond)
    fdef = fields[cond["field"]]
    op, value = cond["op"], cond["value"]
    if rng.random() < 0.3:  # real policy sets reuse the common thresholds
        return out
    if fdef.name in _NUMERIC_RANGES:
        if op == "between":
            lo, hi = sorted((_threshold(fdef, rng), _threshold(fdef, rng)))
            out["value"] = [lo, hi]
        elif op in ("<", "<=", ">", ">="):
            out["value"] = _threshold(fdef, rng)
            if rng.random() < 0.2:
                out["op"] = {"<": "<=", "<=": "<", ">": ">=", ">=": ">"}[op]
    elif fdef.name in _STR_DOMAINS:
        domain = list(_STR_DOMAINS[fdef.name])
        if op in ("in", "not_in"):
            k = int(rng.integers(1, min(len(domain), max(len(value) + 2, 3)) + 1))
            out["value"] = [domain[i] for i in sorted(rng.choice(len(domain), size=k, replace=False))]
        elif op in ("contains", "==", "!="):
            out["value"] = domain[int(rng.integers(len(domain)))]
    return out


def policies(n: int, templates: Sequence[Mapping[str, Any]],
             fields_by_kind: Mapping[str, Mapping[str, FieldDef]], *, today: dt.date, seed: int = 0,
             audience: str | None = None) -> list[dict[str, Any]]:
    """``n`` seeded policies shaped like the reference ones, varied from ``templates``, active ``today``."""
    rng = np.random.default_rng([seed, 3])
    pool = [t for t in templates if audience is None or t["audience"] == audience]
    if not pool:
        raise ValueError(f"no template policy for audience {audience!r}")
    out: list[dict[str, Any]] = []
    for k in range(n):
        template = pool[k % len(pool)] if k < len(pool) else pool[int(rng.integers(len(pool)))]
        kind = template["audience"]
        fields = fields_by_kind[kind]
        conditions: list[dict[str, Any]] = [
            dict(c) if k < len(pool) else _vary(c, fields, rng) for c in template["conditions"]]
        if k >= len(pool):
            if rng.random() < 0.3:
                conditions.append(copy.deepcopy(_EXTRAS[kind][int(rng.integers(len(_EXTRAS[kind])))]))
            if rng.random() < 0.15:
                conditions.append(copy.deepcopy(_ANY_GROUPS[kind][int(rng.integers(len(_ANY_GROUPS[kind])))]))
        start = today - dt.timedelta(days=int(rng.integers(0, 700)))
        out.append({
            "code": f"SYN-{'QY' if kind == 'enterprise' else 'GR'}-{k + 1:04d}",
            "name": f"{template['name']}（{k + 1}）",
            "department": template.get("department", ""),
            "audience": kind,
            "benefit": template.get("benefit", ""),
            "amount_yuan": template.get("amount_yuan"),
            "conditions": conditions,
            "valid_from": start.isoformat(),
            "valid_to": (today + dt.timedelta(days=int(rng.integers(0, 1100)))).isoformat(),
        })
    return out
