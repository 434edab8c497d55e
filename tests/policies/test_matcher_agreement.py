"""The vectorised evaluator agrees with the plain per-entity one: every op, nulls, boundaries, synthetic sets."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np
import pytest

from onewindow.policies import synthetic
from onewindow.policies.conditions import FieldDef, field_defs, parse_conditions
from onewindow.policies.matcher import Matcher, Register, evaluate, evaluate_tree, match_entity, rules_from_json

TODAY = dt.date(2026, 12, 1)

FIELDS = field_defs([
    {"name": "n", "type": "int", "label": "整数"},
    {"name": "x", "type": "float", "label": "数值"},
    {"name": "s", "type": "str", "label": "文本"},
    {"name": "b", "type": "bool", "label": "是否"},
    {"name": "t", "type": "list[str]", "label": "标签"},
])
NINE_TAGS = ["甲", "乙", "丙", "丁", "戊", "己", "庚", "辛", "壬"]  # 壬 is the ninth bit: a second byte
ROWS: list[dict[str, Any]] = [
    {"n": None, "x": None, "s": None, "b": None, "t": None},  # 0: nothing known
    {"n": 0, "x": 0.0, "s": "", "b": False, "t": []},  # 1: zeros, empty string, empty tag list
    {"n": 5, "x": 5.5, "s": "甲", "b": True, "t": ["甲"]},  # 2
    {"n": 10, "x": 10, "s": "乙丙", "b": False, "t": ["乙", "丙"]},  # 3: an int in a float field
    {"n": -3, "x": -0.5, "s": "丙", "b": True, "t": ["丙"]},  # 4: negatives
    {"n": 2**40, "x": math.nan, "s": "甲乙", "b": True, "t": NINE_TAGS},  # 5: NaN counts as null
    {},  # 6: fields absent altogether
]

# (condition, rows that satisfy it), written from the definitions, not from running the code
CASES: list[tuple[dict[str, Any], list[int]]] = [
    ({"field": "n", "op": "==", "value": 5}, [2]),
    ({"field": "n", "op": "!=", "value": 5}, [1, 3, 4, 5]),
    ({"field": "n", "op": "<", "value": 5}, [1, 4]),
    ({"field": "n", "op": "<=", "value": 5}, [1, 2, 4]),
    ({"field": "n", "op": ">", "value": 5}, [3, 5]),
    ({"field": "n", "op": ">=", "value": 5}, [2, 3, 5]),
    ({"field": "n", "op": ">=", "value": 0}, [1, 2, 3, 5]),
    ({"field": "n", "op": "<", "value": 1}, [1, 4]),
    ({"field": "n", "op": "between", "value": [0, 10]}, [1, 2, 3]),
    ({"field": "n", "op": "between", "value": [5, 5]}, [2]),
    ({"field": "n", "op": "in", "value": [0, 10]}, [1, 3]),
    ({"field": "n", "op": "not_in", "value": [0, 10]}, [2, 4, 5]),
    ({"field": "n", "op": "in", "value": [0, 1, 2, 3, 4, 5, 10]}, [1, 2, 3]),
    ({"field": "n", "op": "not_in", "value": [0, 1, 2, 3, 4, 5, 10]}, [4, 5]),
    ({"field": "n", "op": "==", "value": 10**30}, []),
    ({"field": "n", "op": "<", "value": 10**30}, [1, 2, 3, 4, 5]),
    ({"field": "x", "op": "==", "value": 5.5}, [2]),
    ({"field": "x", "op": "!=", "value": 5.5}, [1, 3, 4]),
    ({"field": "x", "op": "<", "value": 0}, [4]),
    ({"field": "x", "op": "<=", "value": 0}, [1, 4]),
    ({"field": "x", "op": ">", "value": 5.5}, [3]),
    ({"field": "x", "op": ">=", "value": 5.5}, [2, 3]),
    ({"field": "x", "op": "between", "value": [-0.5, 5.5]}, [1, 2, 4]),
    ({"field": "x", "op": "in", "value": [0, 10]}, [1, 3]),
    ({"field": "x", "op": "not_in", "value": [0, 10]}, [2, 4]),
    ({"field": "x", "op": "not_in", "value": [1, 2, 3, 4, 5, 6, 7, 8]}, [1, 2, 3, 4]),
    ({"field": "s", "op": "==", "value": "甲"}, [2]),
    ({"field": "s", "op": "==", "value": ""}, [1]),
    ({"field": "s", "op": "!=", "value": "甲"}, [1, 3, 4, 5]),
    ({"field": "s", "op": "==", "value": "未知"}, []),
    ({"field": "s", "op": "!=", "value": "未知"}, [1, 2, 3, 4, 5]),
    ({"field": "s", "op": "in", "value": ["甲", "丙", "未知"]}, [2, 4]),
    ({"field": "s", "op": "not_in", "value": ["甲", "丙"]}, [1, 3, 5]),
    ({"field": "s", "op": "not_in", "value": ["未知"]}, [1, 2, 3, 4, 5]),
    ({"field": "s", "op": "in", "value": ["甲", "乙丙", "丙", "甲乙", "x1", "x2", "x3"]}, [2, 3, 4, 5]),
    ({"field": "s", "op": "not_in", "value": ["甲", "乙丙", "丙", "甲乙", "x1", "x2", "x3"]}, [1]),
    ({"field": "s", "op": "contains", "value": "乙"}, [3, 5]),
    ({"field": "s", "op": "contains", "value": "丁"}, []),
    ({"field": "b", "op": "is_true"}, [2, 4, 5]),
    ({"field": "b", "op": "is_false"}, [1, 3]),
    ({"field": "b", "op": "==", "value": True}, [2, 4, 5]),
    ({"field": "b", "op": "==", "value": False}, [1, 3]),
    ({"field": "b", "op": "!=", "value": True}, [1, 3]),
    ({"field": "b", "op": "!=", "value": False}, [2, 4, 5]),
    ({"field": "t", "op": "contains", "value": "丙"}, [3, 4, 5]),
    ({"field": "t", "op": "contains", "value": "壬"}, [5]),
    ({"field": "t", "op": "contains", "value": "未知"}, []),
    ({"field": "t", "op": "in", "value": ["乙", "壬"]}, [3, 5]),
    ({"field": "t", "op": "in", "value": ["未知"]}, []),
    ({"field": "t", "op": "not_in", "value": ["丙"]}, [1, 2]),
    ({"field": "t", "op": "not_in", "value": ["壬", "乙"]}, [1, 2, 4]),
    ({"field": "t", "op": "not_in", "value": ["未知"]}, [1, 2, 3, 4, 5]),
    ({"any": [{"field": "n", "op": "==", "value": 5}, {"field": "b", "op": "is_false"}]}, [1, 2, 3]),
    ({"all": [{"any": [{"field": "n", "op": "==", "value": 5}, {"field": "b", "op": "is_false"}]},
              {"field": "x", "op": ">", "value": 0}]}, [2, 3]),
    ({"any": [{"field": "n", "op": "!=", "value": 0}, {"field": "t", "op": "not_in", "value": ["甲"]}]},
     [1, 2, 3, 4, 5]),
]


@pytest.fixture(scope="module")
def register() -> Register:
    return Register.from_records("t", FIELDS, ROWS)


@pytest.mark.parametrize(("raw", "expected"), CASES, ids=[str(c[0]) for c in CASES])
def test_each_op_on_boundaries_and_nulls(raw: dict[str, Any], expected: list[int], register: Register) -> None:
    node = parse_conditions([raw], FIELDS)
    naive = [i for i, row in enumerate(ROWS) if evaluate(node, row)]
    vectorised = np.flatnonzero(evaluate_tree(node, register)).tolist()
    from_register = [i for i in range(len(ROWS)) if evaluate(node, register.record(i))]
    assert naive == expected
    assert vectorised == expected
    assert from_register == expected


def test_a_null_value_satisfies_no_condition(register: Register) -> None:
    """Even the negative ops: unknown data never proves eligibility."""
    for raw, _ in CASES:
        node = parse_conditions([raw], FIELDS)
        for row in (0, 6):
            assert not evaluate(node, ROWS[row])
            assert not evaluate_tree(node, register)[row]


def test_the_register_gives_back_what_it_was_given(register: Register) -> None:
    assert register.record(3) == {"n": 10, "x": 10.0, "s": "乙丙", "b": False, "t": ["乙", "丙"]}
    assert register.record(5)["x"] is None and register.record(5)["t"] == NINE_TAGS
    assert register.record(6) == {"n": None, "x": None, "s": None, "b": None, "t": None}


@pytest.mark.parametrize("kind", ["enterprise", "person"])
def test_vectorised_and_naive_agree_on_every_synthetic_entity(kind: str, catalog: dict[str, Any],
                                                              fields_by_kind: dict[str, dict[str, FieldDef]]) -> None:
    register = synthetic.register(kind, 4000, fields_by_kind[kind], seed=7)
    raw = synthetic.policies(150, catalog["policies"], fields_by_kind, today=TODAY, seed=7, audience=kind)
    rules = rules_from_json(raw, fields_by_kind)
    matcher = Matcher(register, rules, TODAY)
    assert len(matcher.rules) == 150
    result = matcher.match_all()
    for row in range(len(register)):
        record = register.record(row)
        assert result.policies_of(row) == match_entity(rules, record, kind=kind, today=TODAY), row
    counts = result.counts()
    assert sum(counts.values()) == result.count() > 0
    # the set is not degenerate: most policies match someone and none matches everyone
    assert sum(1 for c in counts.values() if c > 0) >= 100
    assert all(c < len(register) for c in counts.values())


def test_synthetic_registers_hold_nulls_and_boundary_values(fields_by_kind: dict[str, dict[str, FieldDef]]) -> None:
    register = synthetic.register("enterprise", 20000, fields_by_kind["enterprise"], seed=1)
    records = list(register.records(range(len(register))))
    for name in fields_by_kind["enterprise"]:
        assert any(r[name] is None for r in records), name
    assert any(r["layoff_rate"] == 5.5 for r in records)
    assert any(r["registered_years"] == 1 for r in records)
    assert any(r["newly_hired_graduates"] == 1 for r in records)
    assert sum(r["is_small_micro"] is True for r in records) > 0.8 * len(records)


def test_generation_is_seeded(catalog: dict[str, Any], fields_by_kind: dict[str, dict[str, FieldDef]]) -> None:
    one = synthetic.register("person", 500, fields_by_kind["person"], seed=3)
    two = synthetic.register("person", 500, fields_by_kind["person"], seed=3)
    assert list(one.records(range(500))) == list(two.records(range(500)))
    assert synthetic.policies(30, catalog["policies"], fields_by_kind, today=TODAY, seed=3) == \
        synthetic.policies(30, catalog["policies"], fields_by_kind, today=TODAY, seed=3)
