"""Bad condition definitions are rejected with every problem at once, a path, a stable code, in Chinese."""

from __future__ import annotations

import re
from typing import Any

import pytest

from onewindow.core.errors import ValidationFailed
from onewindow.policies.conditions import (
    Condition,
    FieldDef,
    Group,
    Op,
    field_defs,
    parse_conditions,
    validate_conditions,
)
from onewindow.policies.matcher import rule_from_json, rules_from_json

CJK = re.compile(r"[\u4e00-\u9fff]")

FIELDS = field_defs([
    {"name": "employees", "type": "int", "label": "从业人数"},
    {"name": "revenue", "type": "float", "label": "营业收入"},
    {"name": "industry", "type": "str", "label": "行业"},
    {"name": "is_small", "type": "bool", "label": "是否小微企业"},
    {"name": "tags", "type": "list[str]", "label": "资质标签"},
])


def codes(raw: Any, fields: dict[str, FieldDef] = FIELDS) -> list[tuple[str, str]]:
    return [(p.field, p.code) for p in validate_conditions(raw, fields)]


def test_valid_conditions_parse_to_a_normalised_tree() -> None:
    node = parse_conditions([
        {"field": "employees", "op": "<=", "value": 300},
        {"field": "revenue", "op": "between", "value": [0, 5000]},
        {"any": [{"field": "industry", "op": "in", "value": ["制造业", "制造业", "建筑业"]},
                 {"field": "is_small", "op": "is_true", "value": None},
                 {"field": "tags", "op": "contains", "value": "个转企"}]},
        {"field": "is_small", "op": "is_false"},  # value may be left out for is_true / is_false
    ], FIELDS)
    assert node == Group("all", (
        Condition("employees", Op.LE, 300),
        Condition("revenue", Op.BETWEEN, (0.0, 5000.0)),
        Group("any", (Condition("industry", Op.IN, ("制造业", "建筑业")),
                      Condition("is_small", Op.IS_TRUE, None),
                      Condition("tags", Op.CONTAINS, "个转企"))),
        Condition("is_small", Op.IS_FALSE, None),
    ))
    assert validate_conditions({"all": [{"field": "employees", "op": ">", "value": 1}]}, FIELDS) == []


def test_unknown_field_is_named_with_its_path() -> None:
    problems = validate_conditions([{"field": "employees", "op": ">", "value": 1},
                                    {"field": "staff_count", "op": ">", "value": 1}], FIELDS)
    assert [(p.field, p.code) for p in problems] == [("conditions[1].field", "unknown_field")]
    assert "staff_count" in problems[0].message
    assert CJK.search(problems[0].message)


@pytest.mark.parametrize(("condition", "path"), [
    ({"field": "employees", "op": ">=", "value": "300"}, "conditions[0].value"),
    ({"field": "employees", "op": ">=", "value": 2.5}, "conditions[0].value"),
    ({"field": "employees", "op": "==", "value": True}, "conditions[0].value"),
    ({"field": "revenue", "op": "<", "value": False}, "conditions[0].value"),
    ({"field": "revenue", "op": "<", "value": float("nan")}, "conditions[0].value"),
    ({"field": "industry", "op": "==", "value": 3}, "conditions[0].value"),
    ({"field": "is_small", "op": "==", "value": 1}, "conditions[0].value"),
    ({"field": "industry", "op": "in", "value": ["制造业", 7]}, "conditions[0].value[1]"),
    ({"field": "tags", "op": "contains", "value": ["个转企"]}, "conditions[0].value"),
    ({"field": "industry", "op": "contains", "value": ""}, "conditions[0].value"),
])
def test_a_value_of_the_wrong_type_is_rejected(condition: dict[str, Any], path: str) -> None:
    problems = validate_conditions([condition], FIELDS)
    assert [(p.field, p.code) for p in problems] == [(path, "wrong_type")]
    assert CJK.search(problems[0].message)


def test_the_wrong_type_message_names_the_field_label() -> None:
    [problem] = validate_conditions([{"field": "employees", "op": ">=", "value": "300"}], FIELDS)
    assert "从业人数" in problem.message and "整数" in problem.message


@pytest.mark.parametrize(("condition", "code"), [
    ({"field": "employees", "op": "=>", "value": 3}, "unknown_op"),
    ({"field": "employees", "op": None, "value": 3}, "unknown_op"),
    ({"field": "employees", "op": "contains", "value": "3"}, "op_not_allowed"),
    ({"field": "employees", "op": "is_true", "value": None}, "op_not_allowed"),
    ({"field": "industry", "op": "<", "value": "制造业"}, "op_not_allowed"),
    ({"field": "industry", "op": "between", "value": ["a", "b"]}, "op_not_allowed"),
    ({"field": "is_small", "op": ">", "value": True}, "op_not_allowed"),
    ({"field": "tags", "op": "==", "value": "个转企"}, "op_not_allowed"),
])
def test_a_bad_op_is_rejected(condition: dict[str, Any], code: str) -> None:
    problems = validate_conditions([condition], FIELDS)
    assert [(p.field, p.code) for p in problems] == [("conditions[0].op", code)]
    assert CJK.search(problems[0].message)


@pytest.mark.parametrize("value", [[5, 1], [1], [1, 2, 3], 5, "1-5", [1, "5"], [None, 5], None])
def test_between_needs_two_ordered_bounds(value: Any) -> None:
    problems = validate_conditions([{"field": "employees", "op": "between", "value": value}], FIELDS)
    expected = "value_required" if value is None else "bad_between"
    assert [(p.field, p.code) for p in problems] == [("conditions[0].value", expected)]
    assert CJK.search(problems[0].message)


def test_between_with_reversed_bounds_says_which_is_which() -> None:
    [problem] = validate_conditions([{"field": "revenue", "op": "between", "value": [10, 2.5]}], FIELDS)
    assert "下限 10 大于上限 2.5" in problem.message


def test_between_with_equal_bounds_is_accepted() -> None:
    assert validate_conditions([{"field": "employees", "op": "between", "value": [3, 3]}], FIELDS) == []


@pytest.mark.parametrize(("raw", "path"), [
    ([], "conditions"),
    ({"all": []}, "conditions.all"),
    ({"any": []}, "conditions.any"),
    ([{"field": "employees", "op": ">", "value": 1}, {"any": []}], "conditions[1].any"),
    ([{"any": [{"all": []}]}], "conditions[0].any[0].all"),
])
def test_an_empty_group_is_rejected(raw: Any, path: str) -> None:
    problems = validate_conditions(raw, FIELDS)
    assert [(p.field, p.code) for p in problems] == [(path, "empty_group")]
    assert CJK.search(problems[0].message)


@pytest.mark.parametrize(("raw", "path", "code"), [
    (None, "conditions", "bad_node"),
    ("employees > 3", "conditions", "bad_node"),
    ([42], "conditions[0]", "bad_node"),
    ({"all": [], "any": []}, "conditions", "bad_group"),
    ({"any": {"field": "employees"}}, "conditions.any", "bad_group"),
    ([{"field": "employees", "op": ">", "value": 1, "label": "x"}], "conditions[0]", "unknown_key"),
    ([{"op": ">", "value": 1}], "conditions[0].field", "missing_field"),
    ([{"field": "industry", "op": "in", "value": []}], "conditions[0].value", "bad_list"),
    ([{"field": "industry", "op": "not_in", "value": "制造业"}], "conditions[0].value", "bad_list"),
    ([{"field": "industry", "op": "==", "value": None}], "conditions[0].value", "value_required"),
    ([{"field": "is_small", "op": "is_true", "value": True}], "conditions[0].value", "value_not_allowed"),
])
def test_malformed_definitions_are_rejected(raw: Any, path: str, code: str) -> None:
    assert codes(raw) == [(path, code)]


def test_nesting_deeper_than_the_limit_is_rejected() -> None:
    raw: Any = {"field": "employees", "op": ">", "value": 1}
    for _ in range(10):
        raw = {"any": [raw]}
    assert ("too_deep" in {code for _, code in codes(raw)})


def test_every_problem_is_reported_and_nothing_partial_is_returned() -> None:
    raw = [
        {"field": "employees", "op": "<=", "value": 300},
        {"field": "nope", "op": "==", "value": 1},
        {"field": "revenue", "op": "between", "value": [9, 1]},
        {"any": [{"field": "industry", "op": "in", "value": ["制造业"]}, {"field": "tags", "op": "<", "value": 1}]},
    ]
    with pytest.raises(ValidationFailed) as caught:
        parse_conditions(raw, FIELDS)
    assert [(p.field, p.code) for p in caught.value.problems] == [
        ("conditions[1].field", "unknown_field"),
        ("conditions[2].value", "bad_between"),
        ("conditions[3].any[1].op", "op_not_allowed"),
    ]
    assert caught.value.status == 422
    assert all(CJK.search(p.message) for p in caught.value.problems)


def test_a_policy_set_is_rejected_as_a_whole_with_paths_per_policy(fields_by_kind: dict[str, dict[str, FieldDef]],
                                                                   catalog: dict[str, Any]) -> None:
    good = catalog["policies"][0]
    bad_audience = {**good, "audience": "company"}
    bad_dates = {**good, "valid_from": "2026-12-31", "valid_to": "2026-01-01"}
    bad_condition = {**good, "conditions": [{"field": "age", "op": ">=", "value": 80}]}  # a person field
    with pytest.raises(ValidationFailed) as caught:
        rules_from_json([good, bad_audience, bad_dates, bad_condition], fields_by_kind)
    assert [(p.field, p.code) for p in caught.value.problems] == [
        ("policies[1].audience", "unknown_audience"),
        ("policies[2].valid_to", "bad_validity"),
        ("policies[3].conditions[0].field", "unknown_field"),
    ]


def test_a_bad_date_is_rejected(fields_by_kind: dict[str, dict[str, FieldDef]], catalog: dict[str, Any]) -> None:
    with pytest.raises(ValidationFailed) as caught:
        rule_from_json({**catalog["policies"][0], "valid_to": "2026-13-01"}, fields_by_kind)
    assert [(p.field, p.code) for p in caught.value.problems] == [("valid_to", "bad_date")]


def test_every_reference_policy_is_valid(fields_by_kind: dict[str, dict[str, FieldDef]],
                                         catalog: dict[str, Any]) -> None:
    rules = rules_from_json(catalog["policies"], fields_by_kind)
    assert len(rules) == len(catalog["policies"]) == 19
    for rule, raw in zip(rules, catalog["policies"], strict=True):
        assert parse_conditions(raw["conditions"], fields_by_kind[raw["audience"]]) == rule.conditions
