"""The reference catalog's policies match exactly the entities they should on a hand-written register.

The expected matches below were worked out by reading each policy's conditions, not by running code.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from onewindow.policies.conditions import FieldDef
from onewindow.policies.matcher import Matcher, Register, Rule, rules_from_json

TODAY = dt.date(2026, 12, 1)

ENTERPRISES: dict[str, dict[str, Any]] = {
    # small manufacturer, 个转企 in its third year: everything but high-tech and the farm loan
    "E1": {"employees": 12, "industry": "制造业", "registered_years": 3, "annual_revenue_wan": 800.0,
           "total_assets_wan": 600.0, "taxable_income_wan": 40.0, "is_high_tech": False, "is_small_micro": True,
           "rd_expense_wan": 20.0, "newly_hired_graduates": 2, "tax_credit_level": "A", "township": "城关镇",
           "social_insurance_arrears": False, "layoff_rate": 0.0, "qualifications": ["个转企"]},
    # high-tech software firm sitting exactly on the 小型微利 thresholds (300 / 300 / 5000)
    "E2": {"employees": 300, "industry": "信息传输、软件和信息技术服务业", "registered_years": 1,
           "annual_revenue_wan": 20000.0, "total_assets_wan": 5000.0, "taxable_income_wan": 300.0,
           "is_high_tech": True, "is_small_micro": False, "rd_expense_wan": 1500.0, "newly_hired_graduates": 10,
           "tax_credit_level": "B", "township": "城关镇", "social_insurance_arrears": False, "layoff_rate": 5.5,
           "qualifications": ["科技型中小企业"]},
    # restaurant with gaps in its data: only 六税两费 (small + employees) can be proven
    "E3": {"employees": 8, "industry": "住宿和餐饮业", "registered_years": 0, "annual_revenue_wan": 120.0,
           "total_assets_wan": 50.0, "taxable_income_wan": None, "is_high_tech": False, "is_small_micro": True,
           "rd_expense_wan": 0.0, "newly_hired_graduates": 0, "tax_credit_level": "M", "township": "照镜镇",
           "social_insurance_arrears": None, "layoff_rate": None, "qualifications": []},
    # agricultural leader in 亢村镇 with revenue exactly 500
    "E4": {"employees": 150, "industry": "农副食品加工业", "registered_years": 4, "annual_revenue_wan": 500.0,
           "total_assets_wan": 3000.0, "taxable_income_wan": 80.0, "is_high_tech": False, "is_small_micro": True,
           "rd_expense_wan": 0.0, "newly_hired_graduates": 0, "tax_credit_level": "A", "township": "亢村镇",
           "social_insurance_arrears": False, "layoff_rate": 6.0,
           "qualifications": ["县级以上农业产业化龙头企业", "守合同重信用企业"]},
    # shop turned company four years ago (one year past the 个转企 window), small flag unknown
    "E5": {"employees": 3, "industry": "批发和零售业", "registered_years": 4, "annual_revenue_wan": 60.0,
           "total_assets_wan": 20.0, "taxable_income_wan": 5.0, "is_high_tech": None, "is_small_micro": None,
           "rd_expense_wan": None, "newly_hired_graduates": 1, "tax_credit_level": None, "township": None,
           "social_insurance_arrears": False, "layoff_rate": 0.0, "qualifications": ["个转企"]},
    "E6": {},  # nothing known
}
ENTERPRISE_MATCHES = {
    "E1": ["ZC-QY-01", "ZC-QY-02", "ZC-QY-03", "ZC-QY-05", "ZC-QY-06", "ZC-QY-07", "ZC-QY-09"],
    "E2": ["ZC-QY-03", "ZC-QY-04", "ZC-QY-05", "ZC-QY-06"],
    "E3": ["ZC-QY-07"],
    "E4": ["ZC-QY-03", "ZC-QY-07", "ZC-QY-08"],
    "E5": ["ZC-QY-03"],
    "E6": [],
}

PERSONS: dict[str, dict[str, Any]] = {
    # local 80-year-old veteran, disability level 2, income just under the 低保 line
    "P1": {"age": 80, "hukou_local": True, "disability_level": 2, "is_veteran": True, "employment_status": "退休",
           "household_income_per_capita": 559.0, "children_under_3": 0, "is_low_income": True,
           "pension_insured": True, "has_business_license": False, "identity_tags": []},
    # 18-year-old non-local parent in gig work who started a business; income exactly at the line
    "P2": {"age": 18, "hukou_local": False, "disability_level": 0, "is_veteran": False,
           "employment_status": "灵活就业", "household_income_per_capita": 560.0, "children_under_3": 1,
           "is_low_income": False, "pension_insured": True, "has_business_license": True,
           "identity_tags": ["首次创业", "就业困难人员"]},
    # 60-year-old gig worker, hukou unknown: only the policy that does not ask for hukou
    "P3": {"age": 60, "hukou_local": None, "disability_level": None, "is_veteran": None,
           "employment_status": "灵活就业", "household_income_per_capita": None, "children_under_3": None,
           "is_low_income": None, "pension_insured": True, "has_business_license": None,
           "identity_tags": ["就业困难人员"]},
    # five-year-old in kindergarten
    "P4": {"age": 5, "hukou_local": True, "disability_level": 0, "is_veteran": False, "employment_status": None,
           "household_income_per_capita": 1200.0, "children_under_3": 0, "is_low_income": False,
           "pension_insured": False, "has_business_license": False, "identity_tags": ["在园幼儿"]},
    # 45-year-old low-income resident with disability level 4; employment status unknown, so no 低保金
    "P5": {"age": 45, "hukou_local": True, "disability_level": 4, "is_veteran": False, "employment_status": None,
           "household_income_per_capita": 400.0, "children_under_3": 0, "is_low_income": True,
           "pension_insured": True, "has_business_license": False, "identity_tags": None},
    # 61-year-old employed, poor, not insured: misses 低保金 (employed) and 养老金 (not insured)
    "P6": {"age": 61, "hukou_local": True, "disability_level": 0, "is_veteran": False, "employment_status": "就业",
           "household_income_per_capita": 300.0, "children_under_3": 0, "is_low_income": True,
           "pension_insured": False, "has_business_license": False, "identity_tags": []},
}
PERSON_MATCHES = {
    "P1": ["ZC-GR-01", "ZC-GR-02", "ZC-GR-03", "ZC-GR-07", "ZC-GR-08", "ZC-GR-09"],
    "P2": ["ZC-GR-04", "ZC-GR-05", "ZC-GR-06"],
    "P3": ["ZC-GR-06"],
    "P4": ["ZC-GR-10"],
    "P5": ["ZC-GR-02"],
    "P6": [],
}


@pytest.fixture(scope="module")
def rules(catalog: dict[str, Any], fields_by_kind: dict[str, dict[str, FieldDef]]) -> list[Rule]:
    return rules_from_json(catalog["policies"], fields_by_kind)


def _matcher(kind: str, entities: dict[str, dict[str, Any]], rules: list[Rule],
             fields_by_kind: dict[str, dict[str, FieldDef]]) -> Matcher:
    register = Register.from_records(kind, fields_by_kind[kind], list(entities.values()), ids=list(entities))
    return Matcher(register, rules, TODAY)


@pytest.mark.parametrize(("kind", "entities", "expected"), [
    ("enterprise", ENTERPRISES, ENTERPRISE_MATCHES),
    ("person", PERSONS, PERSON_MATCHES),
])
def test_reference_policies_match_the_expected_entities(kind: str, entities: dict[str, dict[str, Any]],
                                                        expected: dict[str, list[str]], rules: list[Rule],
                                                        fields_by_kind: dict[str, dict[str, FieldDef]]) -> None:
    matcher = _matcher(kind, entities, rules, fields_by_kind)
    assert len(matcher.rules) == (9 if kind == "enterprise" else 10)
    result = matcher.match_all()
    got = {entity_id: result.policies_of(row) for row, entity_id in enumerate(matcher.register.ids)}
    assert got == expected
    # the same, seen from the policies, and through the single-entity path
    for code in result.codes:
        rows = result.rows_of(code).tolist()
        assert [matcher.register.ids[r] for r in rows] == [e for e, codes in expected.items() if code in codes]
    for entity_id, entity in entities.items():
        assert matcher.match_record(matcher.register.record(matcher.register.row_of(entity_id))) == expected[entity_id]
        assert matcher.match_record(entity) == expected[entity_id]


def test_each_reference_policy_is_matched_by_someone() -> None:
    matched = {code for codes in (*ENTERPRISE_MATCHES.values(), *PERSON_MATCHES.values()) for code in codes}
    assert matched == {f"ZC-QY-{i:02d}" for i in range(1, 10)} | {f"ZC-GR-{i:02d}" for i in range(1, 11)}


def test_the_near_misses_of_the_hand_written_register(rules: list[Rule],
                                                      fields_by_kind: dict[str, dict[str, FieldDef]]) -> None:
    matcher = _matcher("person", PERSONS, rules, fields_by_kind)
    near = {e.code for e in matcher.explain_all(PERSONS["P6"]) if e.near_miss}
    # one condition short: 高龄 (age), 困难残疾 and 重度残疾 (disability 0), 育儿 (no child), 退役军人,
    # 低保金 (employed), 养老金 (not insured); 创业 (2 short), 灵活就业 (3), 学前 (2) are further away
    assert near == {"ZC-GR-01", "ZC-GR-02", "ZC-GR-03", "ZC-GR-04", "ZC-GR-07", "ZC-GR-08", "ZC-GR-09"}
    assert matcher.near_miss_rows("ZC-GR-08").tolist() == [
        matcher.register.row_of("P5"), matcher.register.row_of("P6")]
