"""The 免申即享 matcher: which entities of the register each active policy applies to, and why.

Pure: standard library, ``core`` and NumPy. Three evaluators share the semantics of
:mod:`onewindow.policies.conditions` (a null value never satisfies a condition):

* :func:`evaluate` — the plain per-entity Python evaluator (the reference, and the single-entity
  path: one entity against every active policy takes well under a millisecond per hundred rules);
* :meth:`Matcher.match_all` — the vectorised evaluator over a columnar :class:`Register`: NumPy
  arrays, strings dictionary-encoded, tag lists as bitsets, one boolean mask per distinct condition
  (conditions shared by several policies are computed once), results kept as one packed bitmap per
  policy;
* :meth:`Matcher.rematch` — incremental re-matching of one changed entity (register row and result
  bitmaps updated in place).

Why NumPy rather than DuckDB (measured on the project's 2-core machine, 200 synthetic policies over
1,000,000 enterprises, same encodings for both): NumPy 0.19–0.29 s for the full match including the
bitmaps; DuckDB 1.7–2.2 s for the same rules compiled to one query that only *counts* matches, and
3.7–6.2 s to fetch one boolean column per policy. NumPy also makes single-row updates trivial. Polars
is not a dependency.

:func:`explain` says for each condition whether it held, with the entity's value and the field
label; the number of conditions that would have to change (:attr:`Explanation.missing`) makes "near
misses" (policies missed by one condition) cheap to list, per entity and over the whole register.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt

from onewindow.core.errors import Problem, ValidationFailed
from onewindow.policies.conditions import (
    TYPE_LABELS,
    Condition,
    FieldDef,
    FieldType,
    Node,
    Op,
    describe,
    format_value,
    leaves,
    parse_conditions,
    validate_conditions,
)

BoolArray: TypeAlias = npt.NDArray[np.bool_]

ACTIVE = "active"


# --- rules -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Rule:
    """A policy as the matcher sees it: code, audience, validated conditions and validity window."""

    code: str
    name: str
    audience: str  # enterprise | person: which register the conditions read
    conditions: Node
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    status: str = ACTIVE

    def is_active(self, today: dt.date) -> bool:
        """Whether the policy applies on ``today`` (status active and inside its validity dates)."""
        if self.status != ACTIVE:
            return False
        if self.valid_from is not None and today < self.valid_from:
            return False
        return self.valid_to is None or today <= self.valid_to


def rule_from_json(raw: Mapping[str, Any], fields_by_kind: Mapping[str, Mapping[str, FieldDef]],
                   path: str = "") -> Rule:
    """A rule from a policy shaped like the reference catalog's; raises ``ValidationFailed``."""
    problems: list[Problem] = []
    prefix = f"{path}." if path else ""
    audience = raw.get("audience")
    fields = fields_by_kind.get(audience) if isinstance(audience, str) else None
    if fields is None:
        kinds = "、".join(fields_by_kind)
        raise ValidationFailed([Problem(f"{prefix}audience", "unknown_audience",
                                        f"未知的政策对象：{audience!r}，可用：{kinds}")])
    valid_from = _date(raw.get("valid_from"), f"{prefix}valid_from", problems)
    valid_to = _date(raw.get("valid_to"), f"{prefix}valid_to", problems)
    if valid_from and valid_to and valid_from > valid_to:
        problems.append(Problem(f"{prefix}valid_to", "bad_validity", "政策有效期的截止日期早于起始日期"))
    try:
        node = parse_conditions(raw.get("conditions"), fields, f"{prefix}conditions")
    except ValidationFailed as exc:
        problems.extend(exc.problems)
    if problems:
        raise ValidationFailed(problems)
    return Rule(code=str(raw.get("code", "")), name=str(raw.get("name", "")), audience=str(audience),
                conditions=node, valid_from=valid_from, valid_to=valid_to,
                status=str(raw.get("status") or ACTIVE))


def rules_from_json(policies: Sequence[Mapping[str, Any]],
                    fields_by_kind: Mapping[str, Mapping[str, FieldDef]]) -> list[Rule]:
    """Every policy as a rule; all problems of all policies in one ``ValidationFailed``."""
    rules: list[Rule] = []
    problems: list[Problem] = []
    for i, raw in enumerate(policies):
        try:
            rules.append(rule_from_json(raw, fields_by_kind, f"policies[{i}]"))
        except ValidationFailed as exc:
            problems.extend(exc.problems)
    if problems:
        raise ValidationFailed(problems)
    return rules


def _date(value: Any, path: str, problems: list[Problem]) -> dt.date | None:
    if value is None or (isinstance(value, dt.date) and not isinstance(value, dt.datetime)):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    problems.append(Problem(path, "bad_date", f"日期格式应为 YYYY-MM-DD：{value!r}"))
    return None


# --- naive per-entity evaluation -----------------------------------------------------------------------

def is_null(value: Any) -> bool:
    """Whether a register value counts as unknown (None or a float NaN)."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def holds(cond: Condition, value: Any) -> bool:
    """Whether one condition holds for an entity's value (null never holds)."""
    if is_null(value):
        return False
    op, ref = cond.op, cond.value
    match op:
        case Op.IS_TRUE:
            return value is True
        case Op.IS_FALSE:
            return value is False
        case Op.EQ:
            return bool(value == ref)
        case Op.NE:
            return bool(value != ref)
        case Op.LT:
            return bool(value < ref)
        case Op.LE:
            return bool(value <= ref)
        case Op.GT:
            return bool(value > ref)
        case Op.GE:
            return bool(value >= ref)
        case Op.BETWEEN:
            return bool(ref[0] <= value <= ref[1])
        case Op.IN:
            if isinstance(value, list | tuple):
                return any(tag in ref for tag in value)
            return value in ref
        case Op.NOT_IN:
            if isinstance(value, list | tuple):
                return not any(tag in ref for tag in value)
            return value not in ref
        case Op.CONTAINS:
            return ref in value
    raise AssertionError(op)  # pragma: no cover - every Op is handled above


def evaluate(node: Node, entity: Mapping[str, Any]) -> bool:
    """Whether a condition tree holds for one entity (a mapping of field name to value)."""
    if isinstance(node, Condition):
        return holds(node, entity.get(node.field))
    if node.mode == "all":
        return all(evaluate(item, entity) for item in node.items)
    return any(evaluate(item, entity) for item in node.items)


def match_entity(rules: Iterable[Rule], entity: Mapping[str, Any], *, kind: str, today: dt.date) -> list[str]:
    """Codes of the rules active on ``today`` for ``kind`` that one entity satisfies, in rule order."""
    return [r.code for r in rules
            if r.audience == kind and r.is_active(today) and evaluate(r.conditions, entity)]


# --- explanations ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ConditionCheck:
    """One condition checked against one entity: the rule text, the entity's value, the outcome."""

    field: str
    label: str
    op: str
    expected: Any
    actual: Any
    held: bool
    text: str

    @property
    def unknown(self) -> bool:
        """The entity's value is null, so the condition could not be checked (数据缺失)."""
        return is_null(self.actual)

    def line(self) -> str:
        """One Chinese line, e.g. ``✓ 从业人数 小于等于 300（实际：12）``."""
        mark = "✓" if self.held else "✗"
        note = "（无数据，无法核验）" if self.unknown else f"（实际：{format_value(self.actual)}）"
        return f"{mark} {self.text}{note}"


@dataclass(frozen=True)
class Explanation:
    """Why a rule matches an entity or not: every condition checked, and how many are missing."""

    code: str
    name: str
    matched: bool
    missing: int  # fewest conditions that would have to change for the rule to match
    checks: tuple[ConditionCheck, ...]

    @property
    def near_miss(self) -> bool:
        """Not matched, but one condition short."""
        return self.missing == 1

    def summary(self) -> str:
        """A Chinese summary line for lists and notifications."""
        if self.matched:
            return f"符合“{self.name}”：全部条件满足"
        failed = [c for c in self.checks if not c.held]
        if self.missing == 1 and len(failed) == 1:
            return f"差一项符合“{self.name}”：{failed[0].line()[2:]}"
        return f"不符合“{self.name}”：至少还差 {self.missing} 项条件"


def missing_count(node: Node, entity: Mapping[str, Any]) -> int:
    """Fewest leaf conditions that would have to change for the tree to hold (0: it holds)."""
    if isinstance(node, Condition):
        return 0 if holds(node, entity.get(node.field)) else 1
    costs = [missing_count(item, entity) for item in node.items]
    return sum(costs) if node.mode == "all" else min(costs)


def explain(rule: Rule, entity: Mapping[str, Any], fields: Mapping[str, FieldDef]) -> Explanation:
    """Explain a rule against one entity: each condition held or not, with the entity's value."""
    checks = []
    for cond in leaves(rule.conditions):
        actual = entity.get(cond.field)
        fdef = fields.get(cond.field)
        checks.append(ConditionCheck(
            field=cond.field, label=fdef.label if fdef else cond.field, op=str(cond.op),
            expected=list(cond.value) if isinstance(cond.value, tuple) else cond.value,
            actual=None if is_null(actual) else actual, held=holds(cond, actual),
            text=describe(cond, fields)))
    missing = missing_count(rule.conditions, entity)
    return Explanation(rule.code, rule.name, missing == 0, missing, tuple(checks))


# --- the columnar register ------------------------------------------------------------------------------

@dataclass
class NumColumn:
    """An int or float field: values (0 / NaN where null) and the mask of known values."""

    values: npt.NDArray[Any]
    valid: BoolArray
    has_nulls: bool


@dataclass
class BoolColumn:
    """A bool field as int8 codes: 1 true, 0 false, -1 null."""

    codes: npt.NDArray[np.int8]


@dataclass
class StrColumn:
    """A str field, dictionary-encoded: int32 codes into ``categories``, -1 null."""

    codes: npt.NDArray[np.int32]
    categories: list[str]
    index: dict[str, int]


@dataclass
class TagsColumn:
    """A list[str] field as a bitset: ``bits[w]`` holds tags 8w..8w+7 of every row; null rows masked."""

    bits: npt.NDArray[np.uint8]  # shape (words, rows)
    valid: BoolArray
    tags: list[str]
    index: dict[str, int]


Column: TypeAlias = NumColumn | BoolColumn | StrColumn | TagsColumn


def coerce_value(fdef: FieldDef, value: Any, path: str, problems: list[Problem]) -> Any:
    """A register value normalised to its field type (None for null); appends a problem if it is not."""
    if is_null(value):
        return None
    ok = False
    match fdef.type:
        case FieldType.INT:
            if isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_):
                return int(value)
            if isinstance(value, float) and value.is_integer():
                return int(value)
        case FieldType.FLOAT:
            numeric = isinstance(value, int | float | np.integer | np.floating)
            if numeric and not isinstance(value, bool | np.bool_):
                return float(value)
        case FieldType.STR:
            ok = isinstance(value, str)
        case FieldType.BOOL:
            if isinstance(value, bool | np.bool_):
                return bool(value)
        case FieldType.TAGS:
            if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
                return list(dict.fromkeys(value))
    if ok:
        return value
    problems.append(Problem(path, "wrong_type", f"“{fdef.label}”的值 {value!r} 不是{_type_name(fdef)}"))
    return None


def _type_name(fdef: FieldDef) -> str:
    return TYPE_LABELS[fdef.type]


def coerce_entity(fields: Mapping[str, FieldDef], entity: Mapping[str, Any],
                  path: str = "entity") -> dict[str, Any]:
    """An entity with every field present and typed (missing fields are null); raises ``ValidationFailed``."""
    problems: list[Problem] = []
    unknown = sorted(str(k) for k in entity if k not in fields)
    if unknown:
        problems.append(Problem(path, "unknown_field", f"未知字段：{'、'.join(unknown)}"))
    out = {name: coerce_value(fdef, entity.get(name), f"{path}.{name}", problems)
           for name, fdef in fields.items()}
    if problems:
        raise ValidationFailed(problems)
    return out


class Register:
    """The entities of one kind (enterprise or person) as columns, one row per entity."""

    def __init__(self, kind: str, fields: Mapping[str, FieldDef], ids: Sequence[str],
                 columns: Mapping[str, Column]) -> None:
        self.kind = kind
        self.fields = dict(fields)
        self.ids = list(ids)
        self.columns = dict(columns)
        self._row_of = {entity_id: i for i, entity_id in enumerate(self.ids)}
        missing = [name for name in self.fields if name not in self.columns]
        if missing:
            raise ValueError(f"register lacks columns {missing}")

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def from_records(cls, kind: str, fields: Mapping[str, FieldDef], records: Sequence[Mapping[str, Any]],
                     ids: Sequence[str] | None = None) -> Register:
        """A register built from entity mappings (validated; see :func:`coerce_entity`)."""
        rows = [coerce_entity(fields, rec, f"entities[{i}]") for i, rec in enumerate(records)]
        columns = {name: column_from_values(fdef, [row[name] for row in rows])
                   for name, fdef in fields.items()}
        return cls(kind, fields, ids if ids is not None else [str(i) for i in range(len(rows))], columns)

    def row_of(self, entity_id: str) -> int:
        """The row index of an entity id (KeyError if unknown)."""
        return self._row_of[entity_id]

    def record(self, row: int) -> dict[str, Any]:
        """One row back as a mapping of Python values (None for null)."""
        return {name: _cell(col, row) for name, col in self.columns.items()}

    def records(self, rows: Iterable[int]) -> Iterator[dict[str, Any]]:
        """Several rows as mappings."""
        for row in rows:
            yield self.record(row)

    def set_record(self, row: int, entity: Mapping[str, Any]) -> dict[str, Any]:
        """Overwrite one row in place (new categories and tags extend the dictionaries); returns it typed."""
        typed = coerce_entity(self.fields, entity)
        for name, value in typed.items():
            _set_cell(self.columns[name], row, value)
        return typed


def column_from_values(fdef: FieldDef, values: Sequence[Any]) -> Column:
    """A column from typed Python values (None for null)."""
    n = len(values)
    match fdef.type:
        case FieldType.INT | FieldType.FLOAT:
            valid = np.fromiter((v is not None for v in values), dtype=np.bool_, count=n)
            if fdef.type is FieldType.INT:
                nums: npt.NDArray[Any] = np.fromiter((0 if v is None else v for v in values), np.int64, n)
            else:
                nums = np.fromiter((math.nan if v is None else v for v in values), np.float64, n)
            return NumColumn(nums, valid, not bool(valid.all()))
        case FieldType.BOOL:
            return BoolColumn(np.fromiter((-1 if v is None else int(v) for v in values), np.int8, n))
        case FieldType.STR:
            index: dict[str, int] = {}
            codes = np.fromiter((-1 if v is None else index.setdefault(v, len(index)) for v in values),
                                dtype=np.int32, count=n)
            return StrColumn(codes, list(index), index)
        case FieldType.TAGS:
            tag_index: dict[str, int] = {}
            for v in values:
                for tag in v or ():
                    tag_index.setdefault(tag, len(tag_index))
            bits = np.zeros(((len(tag_index) + 7) // 8 or 1, n), dtype=np.uint8)
            for row, v in enumerate(values):
                for tag in v or ():
                    i = tag_index[tag]
                    bits[i >> 3, row] |= np.uint8(1 << (i & 7))
            valid = np.fromiter((v is not None for v in values), dtype=np.bool_, count=n)
            return TagsColumn(bits, valid, list(tag_index), tag_index)
    raise AssertionError(fdef.type)  # pragma: no cover


def _cell(col: Column, row: int) -> Any:
    if isinstance(col, NumColumn):
        if not col.valid[row]:
            return None
        return col.values[row].item()
    if isinstance(col, BoolColumn):
        code = int(col.codes[row])
        return None if code < 0 else bool(code)
    if isinstance(col, StrColumn):
        code = int(col.codes[row])
        return None if code < 0 else col.categories[code]
    if not col.valid[row]:
        return None
    return [tag for i, tag in enumerate(col.tags) if col.bits[i >> 3, row] & (1 << (i & 7))]


def _set_cell(col: Column, row: int, value: Any) -> None:
    if isinstance(col, NumColumn):
        if value is None:
            col.values[row] = 0 if col.values.dtype.kind == "i" else math.nan
            col.valid[row] = False
            col.has_nulls = True
        else:
            col.values[row] = value
            col.valid[row] = True
    elif isinstance(col, BoolColumn):
        col.codes[row] = -1 if value is None else int(value)
    elif isinstance(col, StrColumn):
        if value is None:
            col.codes[row] = -1
        else:
            code = col.index.get(value)
            if code is None:
                code = col.index[value] = len(col.categories)
                col.categories.append(value)
            col.codes[row] = code
    else:
        col.bits[:, row] = 0
        col.valid[row] = value is not None
        for tag in value or ():
            i = col.index.get(tag)
            if i is None:
                i = col.index[tag] = len(col.tags)
                col.tags.append(tag)
                if (i >> 3) >= col.bits.shape[0]:
                    col.bits = np.vstack([col.bits, np.zeros((1, col.bits.shape[1]), dtype=np.uint8)])
            col.bits[i >> 3, row] |= np.uint8(1 << (i & 7))


# --- vectorised evaluation ------------------------------------------------------------------------------

def _any_of(arrays: Iterable[BoolArray], n: int) -> BoolArray:
    out: BoolArray | None = None
    for arr in arrays:
        out = arr if out is None else np.logical_or(out, arr, out=out)
    return out if out is not None else np.zeros(n, dtype=np.bool_)


def _eq_any(codes: npt.NDArray[Any], targets: Sequence[int], n: int) -> BoolArray:
    """Rows whose code is one of ``targets``: equality ORs for a few, a lookup table beyond."""
    if len(targets) <= 6:
        out: BoolArray | None = None
        for t in targets:
            eq = codes == t
            out = eq if out is None else np.logical_or(out, eq, out=out)
        return out if out is not None else np.zeros(n, dtype=np.bool_)
    return np.isin(codes, np.asarray(targets, dtype=codes.dtype))


def evaluate_condition(col: Column, cond: Condition, n: int) -> BoolArray:
    """The boolean mask of one condition over a whole column (null rows are False)."""
    op, ref = cond.op, cond.value
    out: BoolArray
    if isinstance(col, NumColumn):
        v = col.values
        match op:
            case Op.EQ:
                out = v == ref
            case Op.NE:
                out = v != ref
            case Op.LT:
                out = v < ref
            case Op.LE:
                out = v <= ref
            case Op.GT:
                out = v > ref
            case Op.GE:
                out = v >= ref
            case Op.BETWEEN:
                out = v >= ref[0]
                out &= v <= ref[1]
            case Op.IN:
                out = _any_of((v == x for x in ref), n) if len(ref) <= 6 else np.isin(v, np.asarray(ref))
            case Op.NOT_IN:
                out = ~(_any_of((v == x for x in ref), n) if len(ref) <= 6 else np.isin(v, np.asarray(ref)))
            case _:
                raise AssertionError(op)
        # NaN already fails every comparison but != and not_in; int nulls are stored as 0
        if col.has_nulls and (v.dtype.kind != "f" or op in (Op.NE, Op.NOT_IN)):
            out &= col.valid
        return out
    if isinstance(col, BoolColumn):
        want = {Op.IS_TRUE: 1, Op.IS_FALSE: 0, Op.EQ: int(bool(ref)), Op.NE: 1 - int(bool(ref))}[op]
        out = col.codes == want
        return out
    if isinstance(col, StrColumn):
        codes = col.codes
        match op:
            case Op.EQ:
                code = col.index.get(ref)
                return codes == code if code is not None else np.zeros(n, dtype=np.bool_)
            case Op.NE:
                code = col.index.get(ref)
                out = codes >= 0
                if code is not None:
                    out &= codes != code
                return out
            case Op.IN:
                return _eq_any(codes, [col.index[x] for x in ref if x in col.index], n)
            case Op.NOT_IN:
                inside = {col.index[x] for x in ref if x in col.index}
                outside = [i for i in range(len(col.categories)) if i not in inside]
                if len(outside) <= len(inside) + 1:
                    return _eq_any(codes, outside, n)
                out = codes >= 0
                if inside:
                    out &= ~_eq_any(codes, sorted(inside), n)
                return out
            case Op.CONTAINS:
                return _eq_any(codes, [i for i, cat in enumerate(col.categories) if ref in cat], n)
        raise AssertionError(op)
    # tags: contains one tag / in: has any of / not_in: has none of
    wanted = [ref] if op is Op.CONTAINS else list(ref)
    masks: dict[int, int] = {}
    for tag in wanted:
        i = col.index.get(tag)
        if i is not None:
            masks[i >> 3] = masks.get(i >> 3, 0) | (1 << (i & 7))
    has_any = _any_of((np.bitwise_and(col.bits[w], np.uint8(m)).astype(np.bool_)
                       for w, m in masks.items()), n)
    if op is Op.NOT_IN:
        out = ~has_any
        out &= col.valid
        return out
    return has_any


def evaluate_tree(node: Node, register: Register,
                  cache: dict[Condition, BoolArray] | None = None) -> BoolArray:
    """The mask of a condition tree over the register; ``cache`` shares masks of equal conditions."""
    n = len(register)
    if isinstance(node, Condition):
        if cache is not None and node in cache:
            return cache[node]
        mask = evaluate_condition(register.columns[node.field], node, n)
        if cache is not None:
            cache[node] = mask
        return mask
    parts = [evaluate_tree(item, register, cache) for item in node.items]
    if len(parts) == 1:
        return parts[0]
    combine = np.logical_and if node.mode == "all" else np.logical_or
    out = combine(parts[0], parts[1])
    for part in parts[2:]:
        combine(out, part, out=out)
    return out


def missing_counts(node: Node, register: Register, cache: dict[Condition, BoolArray] | None = None
                   ) -> npt.NDArray[np.uint8]:
    """Per row, the fewest leaf conditions that would have to change (vectorised :func:`missing_count`)."""
    if isinstance(node, Condition):
        return (~evaluate_tree(node, register, cache)).astype(np.uint8)
    parts = [missing_counts(item, register, cache) for item in node.items]
    out = parts[0].copy()
    for part in parts[1:]:
        if node.mode == "all":
            np.minimum(out.astype(np.uint16) + part, 255, out=out, casting="unsafe")
        else:
            np.minimum(out, part, out=out)
    return out


# --- results and the matcher ----------------------------------------------------------------------------

@dataclass
class MatchResult:
    """Matches of every active rule over a register: one packed bitmap (little bit order) per rule."""

    codes: list[str]
    rows: int
    bits: npt.NDArray[np.uint8]  # shape (len(codes), ceil(rows / 8))
    position: dict[str, int] = field(init=False)

    def __post_init__(self) -> None:
        self.position = {code: i for i, code in enumerate(self.codes)}

    def count(self) -> int:
        """Number of matched (entity, policy) pairs."""
        return int(np.bitwise_count(self.bits).sum(dtype=np.int64))

    def counts(self) -> dict[str, int]:
        """Matched entities per rule code."""
        per_rule = np.bitwise_count(self.bits).sum(axis=1, dtype=np.int64)
        return {code: int(c) for code, c in zip(self.codes, per_rule, strict=True)}

    def mask(self, code: str) -> BoolArray:
        """The boolean mask of the rows a rule matched."""
        packed = self.bits[self.position[code]]
        return np.unpackbits(packed, count=self.rows, bitorder="little").astype(np.bool_)

    def rows_of(self, code: str) -> npt.NDArray[np.intp]:
        """Row indices of the entities a rule matched."""
        return np.flatnonzero(self.mask(code))

    def policies_of(self, row: int) -> list[str]:
        """Codes of the rules a row matched, in rule order."""
        column = (self.bits[:, row >> 3] >> (row & 7)) & 1
        return [self.codes[i] for i in np.flatnonzero(column)]

    def set_row(self, row: int, matched: Iterable[str]) -> None:
        """Overwrite the matches of one row."""
        byte, bit = row >> 3, np.uint8(1 << (row & 7))
        self.bits[:, byte] &= ~bit
        for code in matched:
            self.bits[self.position[code], byte] |= bit

    def pairs(self) -> Iterator[tuple[int, str]]:
        """Every matched (row, rule code) pair, rule by rule."""
        for code in self.codes:
            for row in self.rows_of(code):
                yield int(row), code


@dataclass(frozen=True)
class RowChange:
    """What re-matching one changed entity did: rules it now matches, and gained or lost ones."""

    row: int
    matched: list[str]
    added: list[str]
    removed: list[str]


class Matcher:
    """All rules active on a date, compiled for one register: full match, re-match, explanations."""

    def __init__(self, register: Register, rules: Iterable[Rule], today: dt.date) -> None:
        self.register = register
        self.today = today
        all_rules = list(rules)
        self.rules = [r for r in all_rules if r.audience == register.kind and r.is_active(today)]
        # rules were validated when saved; the register's fields may have changed since
        problems = [p for r in self.rules
                    for p in validate_conditions(r.conditions.as_json(), register.fields, f"{r.code}.conditions")]
        if problems:
            raise ValidationFailed(problems)
        self._by_code = {r.code: r for r in self.rules}

    def match_all(self) -> MatchResult:
        """Evaluate every active rule over every row (vectorised)."""
        n = len(self.register)
        bits = np.empty((len(self.rules), (n + 7) // 8), dtype=np.uint8)
        cache: dict[Condition, BoolArray] = {}
        for i, rule in enumerate(self.rules):
            bits[i] = np.packbits(evaluate_tree(rule.conditions, self.register, cache), bitorder="little")
        return MatchResult([r.code for r in self.rules], n, bits)

    def match_record(self, entity: Mapping[str, Any]) -> list[str]:
        """Codes of the active rules one entity satisfies (the single-entity path)."""
        return [r.code for r in self.rules if evaluate(r.conditions, entity)]

    def match_row(self, row: int) -> list[str]:
        """Codes of the active rules one register row satisfies."""
        return self.match_record(self.register.record(row))

    def rematch(self, result: MatchResult, entity_id: str, entity: Mapping[str, Any]) -> RowChange:
        """Store a changed entity in the register and re-match only its row in ``result``."""
        row = self.register.row_of(entity_id)
        before = set(result.policies_of(row))
        typed = self.register.set_record(row, entity)
        matched = self.match_record(typed)
        result.set_row(row, matched)
        now = set(matched)
        return RowChange(row, matched, [c for c in matched if c not in before],
                         [c for c in result.codes if c in before and c not in now])

    def explain(self, entity: Mapping[str, Any], code: str) -> Explanation:
        """Explain one active rule against one entity."""
        return explain(self._by_code[code], entity, self.register.fields)

    def explain_all(self, entity: Mapping[str, Any], *, max_missing: int = 1) -> list[Explanation]:
        """Explanations of the rules an entity matches and of its near misses (≤ ``max_missing`` short)."""
        out = [explain(r, entity, self.register.fields) for r in self.rules]
        return [e for e in out if e.missing <= max_missing]

    def near_miss_rows(self, code: str, *, max_missing: int = 1) -> npt.NDArray[np.intp]:
        """Rows that miss a rule by at least one and at most ``max_missing`` conditions (vectorised)."""
        counts = missing_counts(self._by_code[code].conditions, self.register)
        return np.flatnonzero((counts >= 1) & (counts <= max_missing))

