"""Conditions of a benefit policy (免申即享): the model, validation against typed fields, null rules.

A *condition* is ``{"field": name, "op": op, "value": value}``; a *group* is ``{"all": [...]}`` or
``{"any": [...]}``, nestable; a plain list means ``all``. The ops per field type:

| type       | ops                                                            |
|------------|----------------------------------------------------------------|
| int, float | ``== != < <= > >= in not_in between``                          |
| str        | ``== != in not_in contains`` (``contains``: substring)         |
| bool       | ``is_true is_false == !=``                                     |
| list[str]  | ``contains`` (has the tag), ``in`` (has at least one of the     |
|            | tags), ``not_in`` (has none of the tags)                       |

``between`` is inclusive at both ends: ``[lo, hi]`` with ``lo <= hi``.

**Null rule.** A null (unknown) entity value never satisfies a condition, whatever the op, including
``!=``, ``not_in`` and ``is_false``: the platform grants a benefit only on data it actually holds
(免申即享 is for policies "with complete data"), so an unknown value can never prove eligibility. A
float NaN counts as null. An empty tag list is *not* null: it is a known "no tags". Groups are never
negated, so the rule composes: an ``any`` group holds when one of its members holds.

Validation returns every problem at once, each with the path of the offending part
(``conditions[2].value``), a stable code and a Chinese message; :func:`parse_conditions` raises
:class:`~onewindow.core.errors.ValidationFailed` with all of them, so nothing partial is ever saved.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeAlias

from onewindow.core.errors import Problem, ValidationFailed

MAX_DEPTH = 6  # groups nested deeper than this are a mistake, not a policy


class FieldType(StrEnum):
    """Type of an entity field in the register."""

    INT = "int"
    FLOAT = "float"
    STR = "str"
    BOOL = "bool"
    TAGS = "list[str]"


class Op(StrEnum):
    """Comparison operator of a condition."""

    EQ = "=="
    NE = "!="
    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="
    IN = "in"
    NOT_IN = "not_in"
    BETWEEN = "between"
    CONTAINS = "contains"
    IS_TRUE = "is_true"
    IS_FALSE = "is_false"


_NUMERIC_OPS = frozenset({Op.EQ, Op.NE, Op.LT, Op.LE, Op.GT, Op.GE, Op.IN, Op.NOT_IN, Op.BETWEEN})
OPS_BY_TYPE: Mapping[FieldType, frozenset[Op]] = {
    FieldType.INT: _NUMERIC_OPS,
    FieldType.FLOAT: _NUMERIC_OPS,
    FieldType.STR: frozenset({Op.EQ, Op.NE, Op.IN, Op.NOT_IN, Op.CONTAINS}),
    FieldType.BOOL: frozenset({Op.IS_TRUE, Op.IS_FALSE, Op.EQ, Op.NE}),
    FieldType.TAGS: frozenset({Op.CONTAINS, Op.IN, Op.NOT_IN}),
}

OP_LABELS: Mapping[Op, str] = {
    Op.EQ: "等于", Op.NE: "不等于", Op.LT: "小于", Op.LE: "小于等于", Op.GT: "大于", Op.GE: "大于等于",
    Op.IN: "属于", Op.NOT_IN: "不属于", Op.BETWEEN: "介于", Op.CONTAINS: "包含",
    Op.IS_TRUE: "为是", Op.IS_FALSE: "为否",
}

TYPE_LABELS: Mapping[FieldType, str] = {
    FieldType.INT: "整数", FieldType.FLOAT: "数值", FieldType.STR: "文本", FieldType.BOOL: "是/否",
    FieldType.TAGS: "标签列表",
}


@dataclass(frozen=True)
class FieldDef:
    """A typed field of the entity register, e.g. ``employees: int`` labelled 从业人数."""

    name: str
    type: FieldType
    label: str


@dataclass(frozen=True)
class Condition:
    """One comparison of an entity field with a constant; ``value`` is normalised and hashable."""

    field: str
    op: Op
    value: Any  # None | bool | int | float | str | tuple[...] (lists are stored as tuples)

    def as_json(self) -> dict[str, Any]:
        """The stored JSON shape ``{"field", "op", "value"}`` (tuples back to lists)."""
        value = list(self.value) if isinstance(self.value, tuple) else self.value
        return {"field": self.field, "op": str(self.op), "value": value}


@dataclass(frozen=True)
class Group:
    """``all`` (every member holds) or ``any`` (at least one holds) over conditions and groups."""

    mode: str  # "all" | "any"
    items: tuple[Node, ...]

    def as_json(self) -> dict[str, Any]:
        """The stored JSON shape ``{"all": [...]}`` or ``{"any": [...]}``."""
        return {self.mode: [item.as_json() for item in self.items]}


Node: TypeAlias = Condition | Group


def field_defs(raw: Iterable[Mapping[str, Any]]) -> dict[str, FieldDef]:
    """Field definitions by name from rows shaped like ``entity_fields`` of the reference catalog."""
    out: dict[str, FieldDef] = {}
    for row in raw:
        name = str(row["name"])
        out[name] = FieldDef(name, FieldType(row["type"]), str(row.get("label") or name))
    return out


def leaves(node: Node) -> list[Condition]:
    """The conditions of a tree in document order."""
    if isinstance(node, Condition):
        return [node]
    out: list[Condition] = []
    for item in node.items:
        out.extend(leaves(item))
    return out


def describe(cond: Condition, fields: Mapping[str, FieldDef] | None = None) -> str:
    """A short Chinese sentence for a condition, e.g. ``从业人数 小于等于 300``."""
    label = fields[cond.field].label if fields and cond.field in fields else cond.field
    if cond.op in (Op.IS_TRUE, Op.IS_FALSE):
        return f"{label}{OP_LABELS[cond.op]}"
    if cond.op is Op.BETWEEN:
        lo, hi = cond.value
        return f"{label} 介于 {format_value(lo)} 与 {format_value(hi)} 之间（含）"
    return f"{label} {OP_LABELS[cond.op]} {format_value(cond.value)}"


def format_value(value: Any) -> str:
    """A value as shown to people: 是/否 for booleans, 、-joined lists, （无数据） for null."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "（无数据）"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list | tuple):
        return "、".join(format_value(v) for v in value) if value else "（空）"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def parse_conditions(raw: Any, fields: Mapping[str, FieldDef], path: str = "conditions") -> Node:
    """The validated, normalised tree of ``raw``; raises ``ValidationFailed`` listing every problem."""
    problems: list[Problem] = []
    node = _parse(raw, fields, path, problems, depth=0)
    if problems or node is None:
        raise ValidationFailed(problems or [Problem(path, "invalid_conditions", "条件格式不正确")])
    return node


def validate_conditions(raw: Any, fields: Mapping[str, FieldDef], path: str = "conditions") -> list[Problem]:
    """Every problem of ``raw`` against the field definitions (empty list: valid)."""
    problems: list[Problem] = []
    _parse(raw, fields, path, problems, depth=0)
    return problems


# --- parsing -------------------------------------------------------------------------------------------

def _parse(raw: Any, fields: Mapping[str, FieldDef], path: str, problems: list[Problem],
           depth: int) -> Node | None:
    if depth > MAX_DEPTH:
        problems.append(Problem(path, "too_deep", f"条件组嵌套不能超过 {MAX_DEPTH} 层"))
        return None
    if isinstance(raw, list):
        return _parse_group("all", raw, fields, path, problems, depth=depth)
    if not isinstance(raw, Mapping):
        problems.append(Problem(path, "bad_node", "每一项须是条件（field、op、value）或条件组（all / any）"))
        return None
    group_keys = [k for k in ("all", "any") if k in raw]
    if group_keys:
        extra = sorted(str(k) for k in raw if k not in ("all", "any"))
        if len(group_keys) > 1 or extra:
            problems.append(Problem(path, "bad_group", "条件组只能含 all 或 any 其中一个键"))
            return None
        mode = group_keys[0]
        items = raw[mode]
        if not isinstance(items, list):
            problems.append(Problem(f"{path}.{mode}", "bad_group", "条件组的成员必须是列表"))
            return None
        return _parse_group(mode, items, fields, f"{path}.{mode}", problems, depth=depth)
    return _parse_condition(raw, fields, path, problems)


def _parse_group(mode: str, items: list[Any], fields: Mapping[str, FieldDef], path: str,
                 problems: list[Problem], *, depth: int) -> Node | None:
    if not items:
        problems.append(Problem(path, "empty_group", "条件组不能为空，至少需要一个条件"))
        return None
    parsed = [_parse(item, fields, f"{path}[{i}]", problems, depth + 1) for i, item in enumerate(items)]
    good = [p for p in parsed if p is not None]
    if len(good) != len(parsed):
        return None
    return Group(mode, tuple(good))


def _parse_condition(raw: Mapping[str, Any], fields: Mapping[str, FieldDef], path: str,
                     problems: list[Problem]) -> Condition | None:
    unknown_keys = sorted(str(k) for k in raw if k not in ("field", "op", "value"))
    if unknown_keys:
        problems.append(Problem(path, "unknown_key", f"条件含有无法识别的键：{'、'.join(unknown_keys)}"))
        return None
    name = raw.get("field")
    op_raw = raw.get("op")
    if not isinstance(name, str) or not name:
        problems.append(Problem(f"{path}.field", "missing_field", "条件缺少字段名（field）"))
        return None
    fdef = fields.get(name)
    if fdef is None:
        problems.append(Problem(f"{path}.field", "unknown_field", f"未知字段：{name}（主体库中没有此字段）"))
        return None
    if not isinstance(op_raw, str) or op_raw not in Op._value2member_map_:
        allowed = " ".join(sorted(str(o) for o in OPS_BY_TYPE[fdef.type]))
        problems.append(Problem(f"{path}.op", "unknown_op", f"未知的比较运算：{op_raw!r}，可用：{allowed}"))
        return None
    op = Op(op_raw)
    if op not in OPS_BY_TYPE[fdef.type]:
        allowed = " ".join(sorted(str(o) for o in OPS_BY_TYPE[fdef.type]))
        kind = TYPE_LABELS[fdef.type]
        problems.append(Problem(f"{path}.op", "op_not_allowed",
                                f"字段“{fdef.label}”（{kind}）不能使用运算 {op}，可用：{allowed}"))
        return None
    vpath = f"{path}.value"
    value = raw.get("value")
    normalised = _check_value(fdef, op, value, vpath, problems)
    if normalised is _BAD:
        return None
    return Condition(name, op, normalised)


_BAD = object()


def _check_value(fdef: FieldDef, op: Op, value: Any, path: str, problems: list[Problem]) -> Any:
    label = fdef.label
    if op in (Op.IS_TRUE, Op.IS_FALSE):
        if value is not None:
            problems.append(Problem(path, "value_not_allowed", f"运算 {op} 不需要比较值，请留空"))
            return _BAD
        return None
    if value is None:
        problems.append(Problem(path, "value_required", f"字段“{label}”的运算 {op} 需要比较值"))
        return _BAD
    if op is Op.BETWEEN:
        if not isinstance(value, list | tuple) or len(value) != 2:
            problems.append(Problem(path, "bad_between", f"“{label}”的 between 需要两个数 [下限, 上限]"))
            return _BAD
        lo = _scalar(fdef, value[0])
        hi = _scalar(fdef, value[1])
        if lo is _BAD or hi is _BAD:
            problems.append(Problem(path, "bad_between",
                                    f"“{label}”的 between 上下限必须是{TYPE_LABELS[fdef.type]}"))
            return _BAD
        if lo > hi:
            bounds = f"下限 {format_value(lo)} 大于上限 {format_value(hi)}"
            problems.append(Problem(path, "bad_between", f"“{label}”的 between {bounds}"))
            return _BAD
        return (lo, hi)
    if op in (Op.IN, Op.NOT_IN):
        if not isinstance(value, list | tuple) or not value:
            problems.append(Problem(path, "bad_list", f"“{label}”的运算 {op} 需要一个非空列表"))
            return _BAD
        element_type = FieldType.STR if fdef.type is FieldType.TAGS else fdef.type
        items = [_scalar(FieldDef(fdef.name, element_type, label), v) for v in value]
        if any(v is _BAD for v in items):
            bad = next(i for i, v in enumerate(items) if v is _BAD)
            problems.append(Problem(f"{path}[{bad}]", "wrong_type",
                                    f"“{label}”的列表成员必须是{TYPE_LABELS[element_type]}"))
            return _BAD
        return tuple(dict.fromkeys(items))  # order kept, duplicates dropped
    if op is Op.CONTAINS:
        if not isinstance(value, str) or not value:
            problems.append(Problem(path, "wrong_type", f"“{label}”的 contains 需要一个非空文本"))
            return _BAD
        return value
    scalar = _scalar(fdef, value)
    if scalar is _BAD:
        problems.append(Problem(path, "wrong_type",
                                f"“{label}”是{TYPE_LABELS[fdef.type]}字段，比较值 {value!r} 类型不符"))
        return _BAD
    return scalar


def _scalar(fdef: FieldDef, value: Any) -> Any:
    """The value normalised to the field's type, or ``_BAD``; bools are never numbers here."""
    match fdef.type:
        case FieldType.INT:
            if isinstance(value, int) and not isinstance(value, bool):
                return value
            if isinstance(value, float) and value.is_integer():
                return int(value)
        case FieldType.FLOAT:
            if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
                return float(value)
        case FieldType.STR | FieldType.TAGS:
            if isinstance(value, str):
                return value
        case FieldType.BOOL:
            if isinstance(value, bool):
                return value
    return _BAD

