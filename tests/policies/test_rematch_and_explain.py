"""Single-entity matching, incremental re-matching, explanations, near misses and validity dates."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import numpy as np
import pytest

from onewindow.core.errors import ValidationFailed
from onewindow.policies import synthetic
from onewindow.policies.conditions import FieldDef, parse_conditions
from onewindow.policies.matcher import Matcher, Rule, explain, missing_count, rules_from_json

TODAY = dt.date(2026, 12, 1)


@pytest.fixture(scope="module")
def matcher(catalog: dict[str, Any], fields_by_kind: dict[str, dict[str, FieldDef]]) -> Matcher:
    register = synthetic.register("enterprise", 20000, fields_by_kind["enterprise"], seed=11)
    raw = synthetic.policies(200, catalog["policies"], fields_by_kind, today=TODAY, seed=11, audience="enterprise")
    return Matcher(register, rules_from_json(raw, fields_by_kind), TODAY)


def test_single_entity_matching_equals_the_full_matchers_row(matcher: Matcher) -> None:
    result = matcher.match_all()
    for row in range(0, len(matcher.register), 7):
        assert matcher.match_row(row) == result.policies_of(row)


def test_rematching_one_changed_entity_updates_only_its_row(matcher: Matcher) -> None:
    result = matcher.match_all()
    before = result.bits.copy()
    entity_id = matcher.register.ids[123]
    entity = matcher.register.record(123)
    changed = {**entity, "is_small_micro": not entity["is_small_micro"], "employees": 40,
               "qualifications": ["个转企", "新标签"], "industry": "新兴行业", "layoff_rate": None}
    change = matcher.rematch(result, entity_id, changed)
    assert change.row == 123
    assert matcher.register.record(123)["industry"] == "新兴行业"
    assert matcher.register.record(123)["qualifications"] == ["个转企", "新标签"]
    assert result.policies_of(123) == change.matched == matcher.match_record(changed)
    assert set(change.added) == set(change.matched) - set(np.asarray(matcher.match_record(entity)))
    fresh = matcher.match_all()
    assert np.array_equal(fresh.bits, result.bits)
    # every other row is untouched
    differs = np.flatnonzero((before != result.bits).any(axis=0))
    assert set(differs.tolist()) <= {123 >> 3}
    matcher.rematch(result, entity_id, entity)  # put it back for the other tests
    assert np.array_equal(result.bits, before)


def test_rematching_one_entity_takes_under_5_ms(matcher: Matcher) -> None:
    result = matcher.match_all()
    entity_id = matcher.register.ids[500]
    entity = matcher.register.record(500)
    changed = {**entity, "employees": (entity["employees"] or 0) + 1}
    timings = []
    for i in range(20):
        start = time.perf_counter()
        matcher.rematch(result, entity_id, changed if i % 2 else entity)
        timings.append(time.perf_counter() - start)
    assert len(matcher.rules) == 200
    assert min(timings) < 0.005, timings


def test_rematch_rejects_a_value_of_the_wrong_type_and_changes_nothing(matcher: Matcher) -> None:
    result = matcher.match_all()
    before = matcher.register.record(9)
    with pytest.raises(ValidationFailed) as caught:
        matcher.rematch(result, matcher.register.ids[9], {**before, "employees": "many", "township": 3})
    assert [(p.field, p.code) for p in caught.value.problems] == [
        ("entity.employees", "wrong_type"), ("entity.township", "wrong_type")]
    assert matcher.register.record(9) == before


def test_an_explanation_lists_each_condition_with_the_entitys_value(
        catalog: dict[str, Any], fields_by_kind: dict[str, dict[str, FieldDef]]) -> None:
    rules = {r.code: r for r in rules_from_json(catalog["policies"], fields_by_kind)}
    fields = fields_by_kind["enterprise"]
    entity = {"qualifications": ["个转企"], "registered_years": 4, "social_insurance_arrears": False}
    why = explain(rules["ZC-QY-09"], entity, fields)
    assert not why.matched and why.missing == 1 and why.near_miss
    assert [(c.field, c.held, c.actual) for c in why.checks] == [
        ("qualifications", True, ["个转企"]), ("registered_years", False, 4), ("social_insurance_arrears", True, False)]
    assert why.checks[1].label == "成立年限（年）"
    assert why.checks[1].line() == "✗ 成立年限（年） 介于 1 与 3 之间（含）（实际：4）"
    assert "成立年限" in why.summary() and why.summary().startswith("差一项")

    matched = explain(rules["ZC-QY-09"], {**entity, "registered_years": 3}, fields)
    assert matched.matched and matched.missing == 0 and all(c.held for c in matched.checks)
    assert matched.summary().startswith("符合")


def test_an_unknown_value_is_shown_as_missing_data(catalog: dict[str, Any],
                                                   fields_by_kind: dict[str, dict[str, FieldDef]]) -> None:
    rules = {r.code: r for r in rules_from_json(catalog["policies"], fields_by_kind)}
    why = explain(rules["ZC-GR-08"], {"household_income_per_capita": 400.0, "hukou_local": True},
                  fields_by_kind["person"])
    last = why.checks[2]
    assert (last.field, last.held, last.unknown) == ("employment_status", False, True)
    assert "无数据" in last.line()
    assert why.near_miss


def test_missing_count_follows_all_and_any_groups(fields_by_kind: dict[str, dict[str, FieldDef]]) -> None:
    node = parse_conditions([
        {"field": "age", "op": ">=", "value": 60},
        {"any": [{"field": "is_low_income", "op": "is_true"},
                 {"all": [{"field": "disability_level", "op": ">=", "value": 1},
                          {"field": "hukou_local", "op": "is_true"}]}]},
    ], fields_by_kind["person"])
    assert missing_count(node, {"age": 70, "is_low_income": True}) == 0
    assert missing_count(node, {"age": 50, "is_low_income": True}) == 1
    assert missing_count(node, {"age": 70, "disability_level": 2}) == 1  # the cheaper branch of any
    assert missing_count(node, {"age": 50}) == 2
    assert missing_count(node, {}) == 2


def test_vectorised_near_misses_equal_per_entity_counts(matcher: Matcher) -> None:
    records = list(matcher.register.records(range(5000)))
    for rule in matcher.rules[::5]:
        rows = [row for row in matcher.near_miss_rows(rule.code).tolist() if row < 5000]
        expected = [row for row, record in enumerate(records) if missing_count(rule.conditions, record) == 1]
        assert rows == expected, rule.code


def test_only_policies_valid_today_are_matched(catalog: dict[str, Any],
                                               fields_by_kind: dict[str, dict[str, FieldDef]]) -> None:
    template = {**catalog["policies"][9]}  # 高龄津贴
    raw = [
        {**template, "code": "OPEN"},
        {**template, "code": "FROM-TODAY", "valid_from": "2026-12-01"},
        {**template, "code": "TO-TODAY", "valid_to": "2026-12-01"},
        {**template, "code": "EXPIRED", "valid_to": "2026-11-30"},
        {**template, "code": "NOT-YET", "valid_from": "2026-12-02"},
        {**template, "code": "SUSPENDED", "status": "inactive"},
    ]
    rules = rules_from_json(raw, fields_by_kind)
    register = synthetic.register("person", 2000, fields_by_kind["person"], seed=2)
    matcher = Matcher(register, rules, TODAY)
    assert [r.code for r in matcher.rules] == ["OPEN", "FROM-TODAY", "TO-TODAY"]
    counts = matcher.match_all().counts()
    assert set(counts) == {"OPEN", "FROM-TODAY", "TO-TODAY"} and len(set(counts.values())) == 1
    assert Matcher(register, rules, dt.date(2026, 12, 2)).match_all().codes == ["OPEN", "FROM-TODAY", "NOT-YET"]


def test_policies_of_the_other_audience_are_left_out(catalog: dict[str, Any],
                                                     fields_by_kind: dict[str, dict[str, FieldDef]]) -> None:
    rules = rules_from_json(catalog["policies"], fields_by_kind)
    register = synthetic.register("person", 100, fields_by_kind["person"], seed=2)
    kept = Matcher(register, rules, TODAY).rules
    assert kept and all(r.audience == "person" for r in kept)
    assert len(kept) < len(rules)  # the enterprise policies were there to leave out


def test_a_matcher_refuses_rules_over_fields_the_register_lacks(fields_by_kind: dict[str, dict[str, FieldDef]]) -> None:
    register = synthetic.register("person", 10, fields_by_kind["person"], seed=2)
    rule = Rule("X", "x", "person", parse_conditions([{"field": "employees", "op": ">", "value": 1}],
                                                      fields_by_kind["enterprise"]))
    with pytest.raises(ValidationFailed):
        Matcher(register, [rule], TODAY)


def test_conditions_round_trip_through_their_json(catalog: dict[str, Any],
                                                  fields_by_kind: dict[str, dict[str, FieldDef]]) -> None:
    for raw in synthetic.policies(60, catalog["policies"], fields_by_kind, today=TODAY, seed=5):
        node = parse_conditions(raw["conditions"], fields_by_kind[raw["audience"]])
        assert parse_conditions(node.as_json(), fields_by_kind[raw["audience"]]) == node
